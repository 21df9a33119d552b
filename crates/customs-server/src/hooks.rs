//! Registry webhooks: distribution's notification envelope and Harbor's
//! `PUSH_ARTIFACT` event. Each pushed image manifest (or index) queues a
//! scan and gate of its digest; layer pushes, pulls and cosign's
//! signature and attestation tags are ignored.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State as Shared};
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use serde::Deserialize;
use serde_json::json;

use crate::State;
use crate::api::{Answer, ApiError};
use crate::auth::Caller;

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: Target,
    #[serde(default)]
    request: Origin,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    tag: String,
}

#[derive(Deserialize, Default)]
struct Origin {
    #[serde(default)]
    host: String,
}

/// A pushed image to scan, or why an event was passed over.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Push {
    Scan { reference: String },
    Ignored(String),
}

/// The host (and port) of an URL: `http://127.0.0.1:5000/v2/…` →
/// `127.0.0.1:5000`.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split('/').next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then_some(host)
}

fn checked(host: &str, repository: &str, digest: &str) -> Result<String, String> {
    customs_types::Digest::parse(digest).map_err(|e| format!("digest `{digest}`: {e}"))?;
    let reference = format!("{host}/{repository}@{digest}");
    customs_oci::RegistryRef::parse(&reference)
        .map_err(|e| format!("`{reference}` is not an image reference: {e}"))?;
    Ok(reference)
}

/// What distribution's envelope asks for.
pub(crate) fn registry_pushes(body: &[u8]) -> Result<Vec<Push>, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| format!("not a registry notification envelope: {e}"))?;
    Ok(envelope
        .events
        .into_iter()
        .map(|event| {
            let t = &event.target;
            if event.action != "push" {
                return Push::Ignored(format!("{} of {}", event.action, t.repository));
            }
            if !MANIFEST_TYPES.contains(&t.media_type.as_str()) {
                return Push::Ignored(format!("{} is not an image manifest", t.media_type));
            }
            if customs_pipeline::signatures::is_attachment_tag(&t.tag) {
                return Push::Ignored(format!(
                    "{}:{} is a signature or attestation",
                    t.repository, t.tag
                ));
            }
            let Some(host) = host_of(&t.url).or_else(|| host_of(&event.request.host)) else {
                return Push::Ignored(format!(
                    "the push of {} names no registry host",
                    t.repository
                ));
            };
            match checked(host, &t.repository, &t.digest) {
                Ok(reference) => Push::Scan { reference },
                Err(why) => Push::Ignored(why),
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct HarborEvent {
    #[serde(rename = "type")]
    kind: String,
    event_data: HarborData,
}

#[derive(Deserialize)]
struct HarborData {
    #[serde(default)]
    resources: Vec<HarborResource>,
    repository: HarborRepository,
}

#[derive(Deserialize)]
struct HarborResource {
    #[serde(default)]
    digest: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    resource_url: String,
}

#[derive(Deserialize)]
struct HarborRepository {
    repo_full_name: String,
}

/// What a Harbor webhook asks for.
pub(crate) fn harbor_pushes(body: &[u8]) -> Result<Vec<Push>, String> {
    let event: HarborEvent =
        serde_json::from_slice(body).map_err(|e| format!("not a Harbor webhook payload: {e}"))?;
    if event.kind != "PUSH_ARTIFACT" {
        return Ok(vec![Push::Ignored(format!("{} event", event.kind))]);
    }
    let repository = &event.event_data.repository.repo_full_name;
    Ok(event
        .event_data
        .resources
        .iter()
        .map(|r| {
            if customs_pipeline::signatures::is_attachment_tag(&r.tag) {
                return Push::Ignored(format!(
                    "{repository}:{} is a signature or attestation",
                    r.tag
                ));
            }
            let Some(host) = host_of(&r.resource_url) else {
                return Push::Ignored(format!("the push of {repository} names no registry host"));
            };
            match checked(host, repository, &r.digest) {
                Ok(reference) => Push::Scan { reference },
                Err(why) => Push::Ignored(why),
            }
        })
        .collect())
}

async fn queue(state: &Arc<State>, caller: &Caller, pushes: Vec<Push>) -> Answer {
    let environments = state.config.push_environments.clone();
    if let Some(env) = environments.iter().find(|e| !caller.may_change(e)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "pushes are gated for {env}; token {} may not gate for it",
                caller.label()
            ),
        ));
    }
    let mut queued = Vec::new();
    let mut ignored = Vec::new();
    for push in pushes {
        match push {
            Push::Scan { reference } => {
                let (job, new) =
                    crate::worker::queue_scan(state, &reference, &environments, &caller.label())
                        .await?;
                if new {
                    queued.push(job);
                } else {
                    ignored.push(format!("{reference} is queued already (job {})", job.id));
                }
            }
            Push::Ignored(why) => ignored.push(why),
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"queued": queued, "ignored": ignored})),
    )
        .into_response())
}

pub(crate) async fn registry(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    let pushes = registry_pushes(&body).map_err(ApiError::bad)?;
    queue(&state, &caller, pushes).await
}

pub(crate) async fn harbor(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    let pushes = harbor_pushes(&body).map_err(ApiError::bad)?;
    queue(&state, &caller, pushes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn distribution_envelopes() {
        // The shape distribution 2.8 sends (notifications/event.go).
        let body = json!({"events": [
            {"id": "1", "timestamp": "2026-12-07T10:00:00Z", "action": "push",
             "target": {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 10, "digest": D,
                        "length": 10, "repository": "shop/app", "url": format!("http://127.0.0.1:5000/v2/shop/app/blobs/{D}")},
             "request": {"id": "r", "addr": "127.0.0.1:1", "host": "127.0.0.1:5000", "method": "PUT", "useragent": "skopeo"},
             "actor": {"name": "customs"}, "source": {"addr": "h:5000", "instanceID": "i"}},
            {"id": "2", "action": "push",
             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D, "repository": "shop/app",
                        "url": format!("http://127.0.0.1:5000/v2/shop/app/manifests/{D}"), "tag": "1.4.2"},
             "request": {"host": "127.0.0.1:5000"}},
            {"id": "3", "action": "pull", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D, "repository": "shop/app"}},
            {"id": "4", "action": "push",
             "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D, "repository": "shop/app",
                        "url": "http://127.0.0.1:5000/v2/shop/app/manifests/x", "tag": "sha256-0123.sig"}},
            {"id": "5", "action": "push",
             "target": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:zz", "repository": "shop/app",
                        "url": "http://127.0.0.1:5000/v2/shop/app/manifests/x"}},
        ]});
        let pushes = registry_pushes(body.to_string().as_bytes()).unwrap();
        assert_eq!(pushes.len(), 5);
        assert!(matches!(&pushes[0], Push::Ignored(w) if w.contains("not an image manifest")));
        assert_eq!(
            pushes[1],
            Push::Scan {
                reference: format!("127.0.0.1:5000/shop/app@{D}")
            }
        );
        assert!(matches!(&pushes[2], Push::Ignored(w) if w.starts_with("pull")));
        assert!(matches!(&pushes[3], Push::Ignored(w) if w.contains("signature")));
        assert!(matches!(&pushes[4], Push::Ignored(w) if w.contains("digest `sha256:zz`")));
        for bad in [&b"{"[..], b"[]", b"{\"events\": 3}", b"\xff"] {
            let error = registry_pushes(bad).unwrap_err();
            assert!(
                error.starts_with("not a registry notification envelope"),
                "{error}"
            );
        }
    }

    #[test]
    fn harbor_events() {
        // Harbor 2.x's PUSH_ARTIFACT payload (src/pkg/notifier/model).
        let body = json!({"type": "PUSH_ARTIFACT", "occur_at": 1_700_000_000, "operator": "admin",
            "event_data": {"resources": [
                {"digest": D, "tag": "1.0", "resource_url": "harbor.example:443/library/app:1.0"},
                {"digest": D, "tag": "sha256-abc.att", "resource_url": "harbor.example/library/app:sha256-abc.att"}],
              "repository": {"date_created": 1, "name": "app", "namespace": "library", "repo_full_name": "library/app", "repo_type": "private"}}});
        let pushes = harbor_pushes(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            pushes[0],
            Push::Scan {
                reference: format!("harbor.example:443/library/app@{D}")
            }
        );
        assert!(matches!(&pushes[1], Push::Ignored(_)));
        let delete = json!({"type": "DELETE_ARTIFACT", "event_data": {"resources": [], "repository": {"repo_full_name": "a/b"}}});
        assert!(
            matches!(&harbor_pushes(delete.to_string().as_bytes()).unwrap()[0], Push::Ignored(w) if w == "DELETE_ARTIFACT event")
        );
        assert!(
            harbor_pushes(b"{\"type\": 1}")
                .unwrap_err()
                .starts_with("not a Harbor webhook payload")
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("http://127.0.0.1:5000/v2/a"),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            host_of("harbor.example/library/app:1"),
            Some("harbor.example")
        );
        assert_eq!(host_of("https://u:p@reg/x"), Some("reg"));
        assert_eq!(host_of(""), None);
    }
}
