//! What a cluster says runs, for `customs deploy verify`: `kubectl get pods
//! -o json`, `docker service inspect`, `docker service ps --format
//! '{{json .}}'`.

use customs_types::Digest;

use crate::PipelineError;

fn bad(what: &str, reason: impl Into<String>) -> PipelineError {
    PipelineError::Document {
        what: what.to_owned(),
        reason: reason.into(),
    }
}

/// A container the cluster says runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Running {
    /// The service (a pod's app label or owner, a swarm service's name).
    pub service: String,
    /// The namespace (Kubernetes).
    pub namespace: String,
    /// The node it runs on.
    pub node: String,
    /// The container (or task).
    pub container: String,
    /// The image as the cluster names it.
    pub image: String,
    /// The digest it runs, when the cluster says.
    pub digest: Option<String>,
}

/// The largest cluster report read.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// The digest in an image or imageID field (`docker-pullable://r/a@sha256:…`,
/// `r/a:1@sha256:…`, `sha256:…`).
fn digest_in(text: &str) -> Option<String> {
    let at = text.rfind("sha256:")?;
    Digest::parse(&text[at..]).ok().map(|d| d.to_string())
}

/// A pod's service: `app.kubernetes.io/name`, `app`, else its owner's name
/// without the ReplicaSet's hash.
fn pod_service(pod: &serde_json::Value) -> String {
    let labels = &pod["metadata"]["labels"];
    for key in ["app.kubernetes.io/name", "app"] {
        if let Some(v) = labels[key].as_str() {
            return v.to_owned();
        }
    }
    if let Some(owner) = pod["metadata"]["ownerReferences"][0]["name"].as_str() {
        let kind = pod["metadata"]["ownerReferences"][0]["kind"]
            .as_str()
            .unwrap_or_default();
        if kind == "ReplicaSet"
            && let Some((name, _)) = owner.rsplit_once('-')
        {
            return name.to_owned();
        }
        return owner.to_owned();
    }
    pod["metadata"]["name"].as_str().unwrap_or("?").to_owned()
}

/// What one report file says runs: `kubectl get pods -o json`, `docker
/// service inspect` (an array of services), or `docker service ps
/// --no-trunc --format '{{json .}}'` (one JSON object per line).
///
/// # Errors
/// [`PipelineError::Document`] naming the input when it is none of them.
pub fn running_of(what: &str, bytes: &[u8]) -> Result<Vec<Running>, PipelineError> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad(what, "not UTF-8 text"))?;
    let mut out = Vec::new();
    let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
    match value {
        Some(v)
            if v.get("items").is_some()
                || v.get("kind").and_then(|k| k.as_str()) == Some("Pod") =>
        {
            let pods: Vec<&serde_json::Value> = match v.get("items").and_then(|i| i.as_array()) {
                Some(items) => items.iter().collect(),
                None => vec![&v],
            };
            for pod in pods {
                let service = pod_service(pod);
                let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
                let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
                let statuses = pod["status"]["containerStatuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if statuses.is_empty() && !pod["spec"]["containers"].is_array() {
                    return Err(bad(what, "a pod without containers"));
                }
                for c in statuses {
                    let image = c["image"].as_str().unwrap_or_default().to_owned();
                    let digest = c["imageID"]
                        .as_str()
                        .and_then(digest_in)
                        .or_else(|| digest_in(&image));
                    out.push(Running {
                        service: service.clone(),
                        namespace: namespace.to_owned(),
                        node: node.to_owned(),
                        container: c["name"].as_str().unwrap_or("?").to_owned(),
                        image,
                        digest,
                    });
                }
            }
        }
        Some(serde_json::Value::Array(services)) => {
            for s in services {
                let name = s["Spec"]["Name"].as_str().ok_or_else(|| {
                    bad(what, "not `docker service inspect` output (no Spec.Name)")
                })?;
                let image = s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
                    .as_str()
                    .unwrap_or_default();
                out.push(Running {
                    service: name.to_owned(),
                    namespace: String::new(),
                    node: String::new(),
                    container: name.to_owned(),
                    image: image.to_owned(),
                    digest: digest_in(image),
                });
            }
        }
        _ => {
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let task: serde_json::Value = serde_json::from_str(line).map_err(|_| {
                    bad(
                        &format!("{what}:{}", n + 1),
                        "neither `kubectl get pods -o json`, `docker service inspect` nor `docker service ps --format '{{json .}}'` output",
                    )
                })?;
                if task["DesiredState"]
                    .as_str()
                    .is_some_and(|s| s != "Running")
                {
                    continue;
                }
                let name = task["Name"].as_str().unwrap_or("?");
                let service = name.split('.').next().unwrap_or(name);
                let image = task["Image"].as_str().unwrap_or_default();
                out.push(Running {
                    service: service.to_owned(),
                    namespace: String::new(),
                    node: task["Node"].as_str().unwrap_or_default().to_owned(),
                    container: name.to_owned(),
                    image: image.to_owned(),
                    digest: digest_in(image),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_image_ids() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            digest_in(&format!("docker-pullable://r/app@{d}")),
            Some(d.clone())
        );
        assert_eq!(digest_in(&format!("r/app:1.0@{d}")), Some(d.clone()));
        assert_eq!(digest_in("r/app:1.0"), None);
        assert_eq!(digest_in("sha256:zz"), None);
    }

    #[test]
    fn reports_that_are_none_of_the_three_are_errors() {
        assert!(running_of("x", b"not json").is_err());
        assert!(running_of("x", b"[{\"Spec\": {}}]").is_err());
        assert!(running_of("x", &[0xff, 0xfe]).is_err());
        assert!(running_of("x", b"").unwrap().is_empty());
    }
}
