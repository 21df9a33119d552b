//! An in-process registry with the OCI 1.1 referrers API, for what
//! Debian's `docker-registry` (distribution 2.8) lacks: `GET
//! /v2/<name>/referrers/<digest>` with the `artifactType` filter and `Link`
//! paging, and the `OCI-Subject` header on manifest pushes. Blobs and
//! manifests are kept in memory and checked against their digests as a
//! real registry does. No auth (the real registry tests cover auth).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use customs_types::Digest;

use crate::fault::{FaultServer, Reply, Request};

#[derive(Default)]
struct Store {
    blobs: BTreeMap<String, Vec<u8>>,
    /// (repository, reference) → (media type, bytes); a manifest is stored
    /// under its digest and, when pushed by tag, under the tag too.
    manifests: BTreeMap<(String, String), (String, Vec<u8>)>,
    uploads: u64,
}

/// The running registry; stops on drop.
pub struct Oci11Registry {
    server: FaultServer,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    store: Arc<Mutex<Store>>,
}

/// Referrers per page of the referrers API (small, so paging is exercised).
pub const PAGE: usize = 2;

impl Oci11Registry {
    /// Starts the registry on a free loopback port.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with_faults(|_| None)
    }

    /// Starts the registry with `fault` consulted first: a reply it gives
    /// (a 500, a 429, a truncated body) is sent instead of the real one.
    #[must_use]
    pub fn start_with_faults(
        fault: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    ) -> Self {
        let store = Arc::new(Mutex::new(Store::default()));
        let state = Arc::clone(&store);
        let server = FaultServer::start(move |request| {
            fault(request).unwrap_or_else(|| handle(&state, request))
        });
        let addr = server.addr.clone();
        Self {
            server,
            addr,
            store,
        }
    }

    /// How many requests had a path starting with `prefix`.
    #[must_use]
    pub fn count(&self, prefix: &str) -> usize {
        self.server.count(prefix)
    }

    /// The requests seen so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// Stores a manifest directly (test setup), under its digest and `tag`.
    pub fn put_manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) {
        let mut store = self.store.lock().unwrap();
        let digest = Digest::sha256(bytes).to_string();
        for reference in std::iter::once(digest).chain(tag.map(str::to_owned)) {
            store.manifests.insert(
                (repository.to_owned(), reference),
                (media_type.to_owned(), bytes.to_vec()),
            );
        }
    }

    /// Loads an OCI layout's blobs and its first manifest (tagged `tag`)
    /// into `repository`; returns that manifest's digest.
    pub fn load_layout(&self, layout: &std::path::Path, repository: &str, tag: &str) -> String {
        for entry in fs_err::read_dir(layout.join("blobs/sha256")).unwrap() {
            self.put_blob(&fs_err::read(entry.unwrap().path()).unwrap());
        }
        let index: serde_json::Value =
            serde_json::from_slice(&fs_err::read(layout.join("index.json")).unwrap()).unwrap();
        let descriptor = &index["manifests"][0];
        let digest = descriptor["digest"].as_str().unwrap().to_owned();
        let bytes = fs_err::read(
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap();
        self.put_manifest(
            repository,
            Some(tag),
            descriptor["mediaType"].as_str().unwrap(),
            &bytes,
        );
        digest
    }

    /// Deletes a tag or manifest (test setup: a referrers tag gone).
    pub fn remove_manifest(&self, repository: &str, reference: &str) {
        self.store
            .lock()
            .unwrap()
            .manifests
            .remove(&(repository.to_owned(), reference.to_owned()));
    }

    /// Whether the repository has `reference` (a tag or digest).
    #[must_use]
    pub fn has_manifest(&self, repository: &str, reference: &str) -> bool {
        self.store
            .lock()
            .unwrap()
            .manifests
            .contains_key(&(repository.to_owned(), reference.to_owned()))
    }

    /// Stores a blob directly (test setup).
    pub fn put_blob(&self, bytes: &[u8]) {
        self.store
            .lock()
            .unwrap()
            .blobs
            .insert(Digest::sha256(bytes).to_string(), bytes.to_vec());
    }
}

fn json_error(status: u16, code: &str) -> Reply {
    Reply::new(
        status,
        format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#),
    )
    .header("Content-Type", "application/json")
}

/// Splits `/v2/<name>/<kind>/<rest>` at the last `/<kind>/`.
fn route<'a>(path: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let rest = path.strip_prefix("/v2/")?;
    let marker = format!("/{kind}/");
    let at = rest.rfind(&marker)?;
    Some((&rest[..at], &rest[at + marker.len()..]))
}

fn query<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = path.split_once('?')?;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn unescape(value: &str) -> String {
    value
        .replace("%2F", "/")
        .replace("%2f", "/")
        .replace("%2B", "+")
        .replace("%2b", "+")
}

fn handle(store: &Mutex<Store>, request: &Request) -> Reply {
    let path = request.path.split('?').next().unwrap_or_default();
    if path == "/v2/" || path == "/v2" {
        return Reply::new(200, "{}").header("Docker-Distribution-API-Version", "registry/2.0");
    }
    let mut store = store.lock().unwrap();
    if let Some((name, _)) = route(path, "blobs/uploads") {
        return match request.method.as_str() {
            "POST" => {
                store.uploads += 1;
                let id = store.uploads;
                Reply::new(202, "")
                    .header("Location", &format!("/v2/{name}/blobs/uploads/{id}"))
                    .header("Docker-Upload-UUID", &id.to_string())
            }
            "PUT" => {
                let Some(digest) = query(&request.path, "digest").map(unescape) else {
                    return json_error(400, "DIGEST_INVALID");
                };
                if Digest::sha256(&request.body).to_string() != digest {
                    return json_error(400, "DIGEST_INVALID");
                }
                store.blobs.insert(digest.clone(), request.body.clone());
                Reply::new(201, "").header("Docker-Content-Digest", &digest)
            }
            _ => json_error(405, "UNSUPPORTED"),
        };
    }
    if let Some((_, digest)) = route(path, "blobs") {
        return match store.blobs.get(digest) {
            Some(bytes) => Reply::new(200, bytes.clone())
                .header("Docker-Content-Digest", digest)
                .header("Content-Type", "application/octet-stream"),
            None => json_error(404, "BLOB_UNKNOWN"),
        };
    }
    if let Some((name, reference)) = route(path, "manifests") {
        let key = (name.to_owned(), reference.to_owned());
        return match request.method.as_str() {
            "GET" | "HEAD" => match store.manifests.get(&key) {
                Some((media_type, bytes)) => Reply::new(200, bytes.clone())
                    .header("Content-Type", media_type)
                    .header("Docker-Content-Digest", &Digest::sha256(bytes).to_string()),
                None => json_error(404, "MANIFEST_UNKNOWN"),
            },
            "PUT" => {
                let digest = Digest::sha256(&request.body).to_string();
                if reference.starts_with("sha256:") && reference != digest {
                    return json_error(400, "DIGEST_INVALID");
                }
                let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&request.body)
                else {
                    return json_error(400, "MANIFEST_INVALID");
                };
                let media_type = request
                    .headers
                    .get("content-type")
                    .cloned()
                    .unwrap_or_default();
                for r in [reference.to_owned(), digest.clone()] {
                    store.manifests.insert(
                        (name.to_owned(), r),
                        (media_type.clone(), request.body.clone()),
                    );
                }
                let mut reply = Reply::new(201, "").header("Docker-Content-Digest", &digest);
                if let Some(subject) = manifest["subject"]["digest"].as_str() {
                    reply = reply.header("OCI-Subject", subject);
                }
                reply
            }
            "DELETE" => {
                store.manifests.remove(&key);
                Reply::new(202, "")
            }
            _ => json_error(405, "UNSUPPORTED"),
        };
    }
    if let Some((name, digest)) = route(path, "referrers") {
        return referrers(&store, name, digest, request);
    }
    json_error(404, "NAME_UNKNOWN")
}

/// The referrers of `digest` in `name`: every stored manifest whose
/// `subject` is it, filtered by `artifactType`, a page at a time.
fn referrers(store: &Store, name: &str, digest: &str, request: &Request) -> Reply {
    if Digest::parse(digest).is_err() {
        return json_error(400, "DIGEST_INVALID");
    }
    let filter = query(&request.path, "artifactType").map(unescape);
    let mut seen = std::collections::BTreeSet::new();
    let mut all = Vec::new();
    for ((repository, _), (media_type, bytes)) in &store.manifests {
        let manifest_digest = Digest::sha256(bytes).to_string();
        if repository != name || !seen.insert(manifest_digest.clone()) {
            continue;
        }
        let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            continue;
        };
        if manifest["subject"]["digest"].as_str() != Some(digest) {
            continue;
        }
        let artifact_type = manifest["artifactType"]
            .as_str()
            .or_else(|| manifest["config"]["mediaType"].as_str())
            .unwrap_or_default()
            .to_owned();
        if filter.as_ref().is_some_and(|f| *f != artifact_type) {
            continue;
        }
        let mut descriptor = serde_json::json!({
            "mediaType": media_type,
            "digest": manifest_digest,
            "size": bytes.len(),
            "artifactType": artifact_type,
        });
        if let Some(annotations) = manifest.get("annotations") {
            descriptor["annotations"] = annotations.clone();
        }
        all.push(descriptor);
    }
    let start: usize = query(&request.path, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let page: Vec<_> = all.iter().skip(start).take(PAGE).cloned().collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": page,
    });
    let mut reply = Reply::new(200, serde_json::to_vec(&index).unwrap())
        .header("Content-Type", "application/vnd.oci.image.index.v1+json");
    if filter.is_some() {
        reply = reply.header("OCI-Filters-Applied", "artifactType");
    }
    if start + PAGE < all.len() {
        let mut next = format!("/v2/{name}/referrers/{digest}?page={}", start + PAGE);
        if let Some(f) = query(&request.path, "artifactType") {
            next.push_str(&format!("&artifactType={f}"));
        }
        reply = reply.header("Link", &format!("<{next}>; rel=\"next\""));
    }
    reply
}
