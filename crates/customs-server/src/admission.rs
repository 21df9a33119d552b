//! The Kubernetes admission webhooks (AdmissionReview v1). Validating:
//! every container image of a Pod or workload must resolve to a digest
//! that is signed by a signer the namespace's environment trusts and has
//! a gate decision there that is not `deny`. Mutating: tags are rewritten
//! to `image:tag@sha256:…` (Kyverno's mutateDigest).
//!
//! The handlers cannot fail: an error (a registry down, a store failing)
//! becomes a denial that says so — or, with `fail_open`, an allow with a
//! warning. Answers are cached per digest and environment, tag lookups
//! per reference, and concurrent reviews of one image share one lookup.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::api::{Answer, ApiError};
use crate::{Admit, State};

/// The admission webhook's settings.
#[derive(Debug, Clone)]
pub struct AdmissionConfig {
    /// `(namespace pattern, environment)`, first match wins; a pattern is
    /// a name, or a prefix or suffix with `*`.
    pub namespaces: Vec<(String, String)>,
    /// The environment of namespaces no pattern names; `None`: their
    /// workloads are denied.
    pub default_environment: Option<String>,
    /// Namespaces never checked (the control plane's).
    pub exempt: Vec<String>,
    /// Allow (with a warning) when a check cannot be made, instead of
    /// denying.
    pub fail_open: bool,
    /// How long an answer is reused.
    pub cache_ttl: Duration,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            namespaces: Vec::new(),
            default_environment: None,
            exempt: vec!["kube-system".to_owned()],
            fail_open: false,
            cache_ttl: Duration::from_secs(60),
        }
    }
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    match (pattern.strip_suffix('*'), pattern.strip_prefix('*')) {
        (Some(prefix), _) => name.starts_with(prefix),
        (None, Some(suffix)) => name.ends_with(suffix),
        (None, None) => pattern == name,
    }
}

impl AdmissionConfig {
    /// The environment of `namespace`.
    #[must_use]
    pub fn environment_of(&self, namespace: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(p, _)| pattern_matches(p, namespace))
            .map(|(_, e)| e.as_str())
            .or(self.default_environment.as_deref())
    }
}

type Shared1<T> = Arc<OnceCell<Result<T, String>>>;

/// Answers by key, each computed once however many ask at once, and kept
/// for the TTL (failures are not kept).
struct Memo<T> {
    entries: Mutex<HashMap<String, (Instant, Shared1<T>)>>,
}

impl<T: Clone> Memo<T> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key` and whether it came from the cache.
    async fn get<F, Fut>(&self, key: &str, ttl: Duration, compute: F) -> (Result<T, String>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let now = Instant::now();
        let cell = {
            let Ok(mut entries) = self.entries.lock() else {
                return (compute().await, false);
            };
            if entries.len() > 50_000 {
                entries.retain(|_, (at, _)| now.duration_since(*at) < ttl);
            }
            match entries.get(key) {
                Some((at, cell)) if cell.get().is_none() || now.duration_since(*at) < ttl => {
                    cell.clone()
                }
                _ => {
                    let cell: Shared1<T> = Arc::new(OnceCell::new());
                    entries.insert(key.to_owned(), (now, cell.clone()));
                    cell
                }
            }
        };
        let cached = cell.initialized();
        let result = cell.get_or_init(compute).await.clone();
        if result.is_err()
            && let Ok(mut entries) = self.entries.lock()
            && entries.get(key).is_some_and(|(_, c)| Arc::ptr_eq(c, &cell))
        {
            entries.remove(key);
        }
        (result, cached)
    }

    fn forget(&self, matching: impl Fn(&str) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|k, _| !matching(k));
        }
    }
}

/// The admission caches of one process.
pub(crate) struct Cache {
    ttl: Duration,
    verdicts: Memo<Admit>,
    digests: Memo<customs_types::Digest>,
}

impl Cache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            verdicts: Memo::new(),
            digests: Memo::new(),
        }
    }

    /// Drops what is known of `digest` (it was blocked or unblocked).
    pub(crate) fn forget(&self, digest: &customs_types::Digest) {
        let text = digest.to_string();
        self.verdicts.forget(|k| k.contains(&text));
    }
}

/// A container image of the reviewed object: where it is and what it says.
struct Container {
    /// JSON pointer to its `image` field.
    pointer: String,
    image: String,
}

fn containers(object: &Value) -> Option<Vec<Container>> {
    let (path, spec) = customs_checks::manifest::pod_spec(object)?;
    let base = format!("/{}", path.replace('.', "/"));
    let out = customs_checks::manifest::containers(spec)
        .filter_map(|(list, i, c)| {
            Some(Container {
                pointer: format!("{base}/{list}/{i}/image"),
                image: c.get("image").and_then(Value::as_str)?.to_owned(),
            })
        })
        .collect();
    Some(out)
}

/// The request part of a review, or why it is no review.
fn request(body: &[u8]) -> Result<Value, ApiError> {
    let review: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("not an AdmissionReview: {e}")))?;
    if review["apiVersion"] != "admission.k8s.io/v1" || review["kind"] != "AdmissionReview" {
        return Err(ApiError::bad(
            "not an admission.k8s.io/v1 AdmissionReview (apiVersion and kind)",
        ));
    }
    let request = review["request"].clone();
    if !request["uid"].is_string() {
        return Err(ApiError::bad("the AdmissionReview has no request.uid"));
    }
    Ok(request)
}

/// The container images of a review's object (for fuzzing).
pub(crate) fn images_of_review(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let request = request(body).map_err(|e| e.message)?;
    Ok(containers(&request["object"])
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.pointer, c.image))
        .collect())
}

fn review(response: Value) -> Answer {
    Ok((
        StatusCode::OK,
        Json(json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": response,
        })),
    )
        .into_response())
}

/// The digest `image` names: its own, else its tag's now (cached).
async fn pin(
    state: &Arc<State>,
    image: &str,
) -> Result<(customs_oci::RegistryRef, customs_types::Digest, bool), String> {
    let reference =
        customs_oci::RegistryRef::parse(image).map_err(|e| format!("image `{image}`: {e}"))?;
    if let Some(digest) = reference.digest() {
        return Ok((reference.clone(), digest.clone(), true));
    }
    let (digest, cached) = state
        .admission
        .digests
        .get(image, state.admission.ttl, || async {
            state
                .engine
                .resolve(image)
                .await
                .map_err(|e| format!("cannot resolve {image} to a digest: {e:#}"))
        })
        .await;
    state
        .metrics
        .count("admission_tag_cache", if cached { "hit" } else { "miss" });
    Ok((reference, digest?, false))
}

/// What one image of a review gets.
enum Judged {
    Allowed(Vec<String>),
    Denied(String),
    Unknown(String),
}

async fn judge(state: &Arc<State>, image: &str, environment: &str) -> Judged {
    let (reference, digest, _) = match pin(state, image).await {
        Ok(pinned) => pinned,
        Err(why) => return Judged::Unknown(why),
    };
    let pinned = format!("{}@{digest}", reference.name());
    let key = format!("{environment}\n{pinned}");
    let (admit, cached) = state
        .admission
        .verdicts
        .get(&key, state.admission.ttl, || async {
            state
                .engine
                .admit(&pinned, environment)
                .await
                .map_err(|e| format!("cannot check {pinned}: {e:#}"))
        })
        .await;
    state
        .metrics
        .count("admission_cache", if cached { "hit" } else { "miss" });
    match admit {
        Ok(a) if a.allowed => {
            Judged::Allowed(a.warnings.iter().map(|w| format!("{image}: {w}")).collect())
        }
        Ok(a) => Judged::Denied(format!("{image} ({digest}): {}", a.reasons.join("; "))),
        Err(why) => Judged::Unknown(why),
    }
}

pub(crate) async fn validate(Shared(state): Shared<Arc<State>>, body: Bytes) -> Answer {
    let request = request(&body)?;
    let uid = request["uid"].clone();
    let config = &state.config.admission;
    let allow =
        |warnings: Vec<String>| review(json!({"uid": uid, "allowed": true, "warnings": warnings}));
    let deny = |message: String| {
        state.metrics.count("admission", "denied");
        review(
            json!({"uid": uid, "allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": message}}),
        )
    };
    let operation = request["operation"].as_str().unwrap_or_default();
    if !matches!(operation, "CREATE" | "UPDATE") {
        return allow(Vec::new());
    }
    let namespace = request["namespace"]
        .as_str()
        .or_else(|| {
            request
                .pointer("/object/metadata/namespace")
                .and_then(Value::as_str)
        })
        .unwrap_or("default")
        .to_owned();
    if config.exempt.contains(&namespace) {
        return allow(Vec::new());
    }
    let Some(images) = containers(&request["object"]) else {
        return allow(Vec::new());
    };
    let Some(environment) = config.environment_of(&namespace) else {
        return deny(format!(
            "customs: namespace {namespace} belongs to no environment (--namespace-env)"
        ));
    };
    let judged =
        futures_util::future::join_all(images.iter().map(|c| judge(&state, &c.image, environment)))
            .await;
    let mut warnings = Vec::new();
    let mut denials = Vec::new();
    for j in judged {
        match j {
            Judged::Allowed(w) => warnings.extend(w),
            Judged::Denied(why) => denials.push(why),
            Judged::Unknown(why) if config.fail_open => {
                warnings.push(format!(
                    "customs could not check (allowed: fail-open): {why}"
                ));
            }
            Judged::Unknown(why) => denials.push(why),
        }
    }
    state.logger.log(
        "info",
        "admission review",
        json!({"namespace": namespace, "environment": environment, "images": images.iter().map(|c| &c.image).collect::<Vec<_>>(), "allowed": denials.is_empty(), "denials": denials}),
    );
    if denials.is_empty() {
        state.metrics.count("admission", "allowed");
        allow(warnings)
    } else {
        deny(format!("customs ({environment}): {}", denials.join(" | ")))
    }
}

pub(crate) async fn mutate(Shared(state): Shared<Arc<State>>, body: Bytes) -> Answer {
    let request = request(&body)?;
    let uid = request["uid"].clone();
    let Some(images) = containers(&request["object"]) else {
        return review(json!({"uid": uid, "allowed": true}));
    };
    let mut patch = Vec::new();
    let mut failures = Vec::new();
    for c in &images {
        match pin(&state, &c.image).await {
            Ok((_, _, true)) => {}
            Ok((_, digest, false)) => {
                patch.push(json!({"op": "replace", "path": c.pointer, "value": format!("{}@{digest}", c.image)}));
            }
            Err(why) => failures.push(why),
        }
    }
    if !failures.is_empty() && !state.config.admission.fail_open {
        return review(
            json!({"uid": uid, "allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": format!("customs: {}", failures.join(" | "))}}),
        );
    }
    let mut response = json!({"uid": uid, "allowed": true});
    if !failures.is_empty() {
        response["warnings"] = json!(failures);
    }
    if !patch.is_empty() {
        let bytes = serde_json::to_vec(&patch).unwrap_or_default();
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    review(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_map_to_environments() {
        let config = AdmissionConfig {
            namespaces: vec![
                ("prod-*".to_owned(), "prod".to_owned()),
                ("*-staging".to_owned(), "staging".to_owned()),
                ("payments".to_owned(), "prod".to_owned()),
            ],
            ..AdmissionConfig::default()
        };
        assert_eq!(config.environment_of("prod-eu"), Some("prod"));
        assert_eq!(config.environment_of("shop-staging"), Some("staging"));
        assert_eq!(config.environment_of("payments"), Some("prod"));
        assert_eq!(config.environment_of("payments-2"), None);
        let with_default = AdmissionConfig {
            default_environment: Some("dev".to_owned()),
            ..config
        };
        assert_eq!(with_default.environment_of("sandbox"), Some("dev"));
    }

    #[test]
    fn images_of_every_workload_kind() {
        let deployment = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "initContainers": [{"name": "i", "image": "busybox:1"}],
            "containers": [{"name": "a", "image": "nginx:1.25"}, {"name": "b", "image": "r/x@sha256:00"}]}}}});
        let found = containers(&deployment).unwrap();
        assert_eq!(
            found
                .iter()
                .map(|c| (c.pointer.as_str(), c.image.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("/spec/template/spec/initContainers/0/image", "busybox:1"),
                ("/spec/template/spec/containers/0/image", "nginx:1.25"),
                ("/spec/template/spec/containers/1/image", "r/x@sha256:00"),
            ]
        );
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "a:1"}]}}}}}});
        assert_eq!(
            containers(&cron).unwrap()[0].pointer,
            "/spec/jobTemplate/spec/template/spec/containers/0/image"
        );
        assert!(containers(&json!({"kind": "ConfigMap"})).is_none());
    }

    #[tokio::test]
    async fn concurrent_lookups_share_one_computation() {
        let memo: Memo<u32> = Memo::new();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let compute = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(7)
        };
        let ttl = Duration::from_secs(60);
        let (a, b) = tokio::join!(memo.get("k", ttl, compute), memo.get("k", ttl, compute));
        assert_eq!((a.0, b.0), (Ok(7), Ok(7)));
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "coalesced"
        );
        assert_eq!(memo.get("k", ttl, compute).await, (Ok(7), true));
        // Failures are not kept; expired answers are computed again.
        assert_eq!(
            memo.get("e", ttl, || async { Err("down".to_owned()) })
                .await
                .0,
            Err("down".to_owned())
        );
        assert_eq!(memo.get("e", ttl, || async { Ok(1) }).await, (Ok(1), false));
        assert_eq!(
            memo.get("k", Duration::ZERO, || async { Ok(8) }).await,
            (Ok(8), false)
        );
        memo.forget(|k| k == "k");
        assert_eq!(memo.get("k", ttl, || async { Ok(9) }).await, (Ok(9), false));
    }
}
