//! Copying an image between repositories without changing its digest: the
//! manifest or index (every platform), every blob, and every referrer —
//! cosign's `.sig`/`.att`/`.sbom` tags, OCI 1.1 referrers and their own
//! referrers, the referrers tag schema — so that signatures verify at the
//! target as they did at the source.
//!
//! Order makes an interrupted copy safe: blobs before the manifest that
//! names them, children before their index, the subject before its
//! referrers; tags are the caller's, pushed last. Every manifest is read
//! by digest and verified, every blob verified before it is uploaded, and
//! what the target has already is skipped, so a second run copies only what
//! is missing.

use std::collections::BTreeSet;
use std::sync::Mutex;

use customs_types::Digest;
use futures_util::StreamExt as _;
use serde::Serialize;

use super::{RegistrySource, client, referrers_tag};
use crate::error::SourceError;
use crate::manifest::{Descriptor, ImageIndex, ManifestDocument};
use crate::media_type;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Manifests and indexes pushed.
    pub manifests_pushed: usize,
    /// Manifests the target had already.
    pub manifests_present: usize,
    /// Blobs uploaded (read from the source, verified, written).
    pub blobs_copied: usize,
    /// Blobs mounted from the source repository (same registry).
    pub blobs_mounted: usize,
    /// Blobs the target had already.
    pub blobs_present: usize,
    /// Bytes uploaded.
    pub bytes_copied: u64,
    /// Referrers copied (OCI 1.1 and cosign tags).
    pub referrers: usize,
    /// Tags written at the target (cosign's, the referrers tag schema's).
    pub tags: Vec<String>,
}

/// cosign's tags next to a digest.
const COSIGN_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// How deep referrers of referrers are followed.
const MAX_DEPTH: usize = 8;

struct Copier<'a> {
    from: &'a RegistrySource,
    to: &'a RegistrySource,
    jobs: usize,
    same_registry: bool,
    report: Mutex<CopyReport>,
    visited: Mutex<BTreeSet<Digest>>,
}

impl RegistrySource {
    /// Copies the manifest (or index) `digest` of this repository, with
    /// everything it refers to and every referrer, into `target`'s
    /// repository, `jobs` blobs at once. Tags the image nowhere: the caller
    /// tags it once this returns.
    ///
    /// # Errors
    /// Transport, auth, format and integrity errors (a blob or manifest
    /// that does not match its digest is never written).
    pub async fn copy_to(
        &self,
        target: &RegistrySource,
        digest: &Digest,
        jobs: usize,
    ) -> Result<CopyReport, SourceError> {
        let copier = Copier {
            from: self,
            to: target,
            jobs: jobs.max(1),
            same_registry: self.reference.api_host() == target.reference.api_host(),
            report: Mutex::new(CopyReport::default()),
            visited: Mutex::new(BTreeSet::new()),
        };
        copier.manifest(digest, 0).await?;
        let report = copier.report.lock().map(|r| r.clone()).unwrap_or_default();
        Ok(report)
    }

    /// Whether this repository has the manifest `digest`.
    ///
    /// # Errors
    /// Transport, auth and integrity errors.
    pub async fn has_manifest(&self, digest: &Digest) -> Result<bool, SourceError> {
        Ok(self.manifest_at(&digest.to_string()).await?.is_some())
    }

    /// The digest the tag points at in this repository, if it exists.
    ///
    /// # Errors
    /// Transport, auth and integrity errors.
    pub async fn tag_digest(&self, tag: &str) -> Result<Option<Digest>, SourceError> {
        Ok(self.manifest_at(tag).await?.map(|(_, digest)| digest))
    }

    /// Points `tag` at the manifest `digest` (which must be here): the
    /// stored bytes are pushed again under the tag, so the tag's digest is
    /// the same; returns the digest the registry reports.
    ///
    /// # Errors
    /// Transport, auth, integrity errors; a missing manifest.
    pub async fn put_tag(&self, tag: &str, digest: &Digest) -> Result<Digest, SourceError> {
        let fetched = self.fetch_manifest(&digest.to_string()).await?;
        let media_type = manifest_media_type(&fetched.bytes, fetched.media_type.as_deref());
        self.push_manifest(tag, &media_type, &fetched.bytes).await
    }
}

/// The media type to push a manifest with: the one it was served with,
/// else its `mediaType` field, else the OCI type of its shape.
fn manifest_media_type(bytes: &[u8], served: Option<&str>) -> String {
    if let Some(t) = served.filter(|t| !t.is_empty() && *t != "application/octet-stream") {
        return t.to_owned();
    }
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Shape>(bytes) {
        Ok(Shape {
            media_type: Some(t),
            ..
        }) => t,
        Ok(Shape {
            manifests: Some(_), ..
        }) => media_type::OCI_INDEX.to_owned(),
        _ => media_type::OCI_MANIFEST.to_owned(),
    }
}

impl Copier<'_> {
    fn note(&self, update: impl FnOnce(&mut CopyReport)) {
        if let Ok(mut report) = self.report.lock() {
            update(&mut report);
        }
    }

    /// Copies one manifest, what it names, then its referrers.
    async fn manifest(&self, digest: &Digest, depth: usize) -> Result<(), SourceError> {
        let first = self
            .visited
            .lock()
            .map(|mut v| v.insert(digest.clone()))
            .unwrap_or(false);
        if !first {
            return Ok(());
        }
        let fetched = self.from.fetch_manifest(&digest.to_string()).await?;
        let media_type = manifest_media_type(&fetched.bytes, fetched.media_type.as_deref());
        let what = format!("manifest {digest} of {}", self.from.reference.name());
        let present = self.to.has_manifest(digest).await?;
        match ManifestDocument::parse(&fetched.bytes, Some(&media_type), &what)? {
            ManifestDocument::Index(index) => {
                for child in &index.manifests {
                    Box::pin(self.manifest(&child.digest, depth)).await?;
                }
            }
            ManifestDocument::Image(manifest) => {
                if !present {
                    let mut blobs: Vec<&Descriptor> = vec![&manifest.config];
                    blobs.extend(manifest.layers.iter());
                    self.blobs(&blobs).await?;
                }
            }
        }
        if present {
            self.note(|r| r.manifests_present += 1);
        } else {
            self.to
                .push_manifest(&digest.to_string(), &media_type, &fetched.bytes)
                .await?;
            self.note(|r| r.manifests_pushed += 1);
        }
        if depth < MAX_DEPTH {
            Box::pin(self.referrers(digest, depth + 1)).await?;
        }
        Ok(())
    }

    /// Copies blobs the target lacks, `jobs` at once.
    async fn blobs(&self, blobs: &[&Descriptor]) -> Result<(), SourceError> {
        let mut unique: Vec<&Descriptor> = Vec::new();
        for blob in blobs {
            if !unique.iter().any(|b| b.digest == blob.digest) {
                unique.push(blob);
            }
        }
        let mut copies = futures_util::stream::iter(unique.into_iter().map(|b| self.blob(b)))
            .buffer_unordered(self.jobs);
        while let Some(result) = copies.next().await {
            result?;
        }
        Ok(())
    }

    async fn blob(&self, blob: &Descriptor) -> Result<(), SourceError> {
        let to = self.to.reference.repository();
        if self.to.client.has_blob(to, &blob.digest).await? {
            self.note(|r| r.blobs_present += 1);
            return Ok(());
        }
        if self.same_registry
            && self
                .to
                .client
                .mount_blob(to, &blob.digest, self.from.reference.repository())
                .await?
        {
            self.note(|r| r.blobs_mounted += 1);
            return Ok(());
        }
        // Between registries: streamed from the source registry to the
        // target, or from customs's blob cache when a scan or the gate left
        // it there; either way checked on the way (size and digest), so a
        // blob that does not match is never completed at the target.
        let cached = self.from.cache_path(&blob.digest);
        if cached.is_file() {
            let pushed = self
                .to
                .client
                .push_blob_stream(to, &blob.digest, blob.size, || {
                    let chunks = match fs_err::File::open(&cached) {
                        Ok(file) => client::file_chunks(file),
                        Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
                    };
                    client::verifying(chunks, blob.digest.clone(), blob.size)
                })
                .await;
            if pushed.is_ok() {
                self.note(|r| {
                    r.blobs_copied += 1;
                    r.bytes_copied += blob.size;
                });
                return Ok(());
            }
            // A cached copy that failed is not trusted again.
            let _ = fs_err::remove_file(&cached);
        }
        let from = std::sync::Arc::clone(&self.from.client);
        let repository = self.from.reference.repository().to_owned();
        self.to
            .client
            .push_blob_stream(to, &blob.digest, blob.size, || {
                client::verifying(
                    std::sync::Arc::clone(&from).blob_chunks(
                        repository.clone(),
                        blob.digest.clone(),
                        blob.size,
                    ),
                    blob.digest.clone(),
                    blob.size,
                )
            })
            .await?;
        self.note(|r| {
            r.blobs_copied += 1;
            r.bytes_copied += blob.size;
        });
        Ok(())
    }

    /// Copies the referrers of `digest`: cosign's tags, then OCI 1.1
    /// referrers (the API and the tag schema, merged), each with its own
    /// referrers; a target without the referrers API gets the tag schema.
    async fn referrers(&self, digest: &Digest, depth: usize) -> Result<(), SourceError> {
        for suffix in COSIGN_SUFFIXES {
            let tag = format!("{}.{suffix}", referrers_tag(digest));
            let Some((bytes, tagged)) = self.from.manifest_at(&tag).await? else {
                continue;
            };
            self.manifest(&tagged, depth).await?;
            if self.to.tag_digest(&tag).await?.as_ref() != Some(&tagged) {
                let fetched_type = manifest_media_type(&bytes, None);
                self.to.push_manifest(&tag, &fetched_type, &bytes).await?;
                self.note(|r| r.tags.push(tag.clone()));
            }
            self.note(|r| r.referrers += 1);
        }
        let referrers = self.from.referrers(digest, None).await?;
        if referrers.is_empty() {
            return Ok(());
        }
        for referrer in &referrers {
            self.manifest(&referrer.digest, depth).await?;
            self.note(|r| r.referrers += 1);
        }
        let api = self
            .to
            .client
            .referrers(
                self.to.reference.repository(),
                digest,
                None,
                self.to.limits.max_manifest_bytes,
                64,
            )
            .await
            .unwrap_or(None);
        if api.is_some() {
            return Ok(());
        }
        // No referrers API at the target: the tag schema's index lists them.
        let tag = referrers_tag(digest);
        let mut index = match self.to.manifest_at(&tag).await? {
            Some((bytes, _)) => serde_json::from_slice::<ImageIndex>(&bytes).map_err(|e| {
                SourceError::malformed(
                    format!("{}:{tag}", self.to.reference.name()),
                    format!("the referrers tag does not hold an image index: {e}"),
                )
            })?,
            None => ImageIndex {
                schema_version: 2,
                media_type: Some(media_type::OCI_INDEX.to_owned()),
                manifests: Vec::new(),
                annotations: std::collections::BTreeMap::new(),
            },
        };
        let before = index.manifests.len();
        for referrer in referrers {
            if !index.manifests.iter().any(|d| d.digest == referrer.digest) {
                index.manifests.push(referrer);
            }
        }
        if index.manifests.len() > before {
            let bytes = serde_json::to_vec(&index).map_err(|e| {
                SourceError::malformed(format!("{}:{tag}", self.to.reference.name()), e.to_string())
            })?;
            self.to
                .push_manifest(&tag, media_type::OCI_INDEX, &bytes)
                .await?;
            self.note(|r| r.tags.push(tag));
        }
        Ok(())
    }
}
