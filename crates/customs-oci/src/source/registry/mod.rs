//! Images in OCI distribution registries (Docker registry v2 API).
//!
//! Manifests and configs are fetched and verified in memory; layer blobs are
//! streamed, several at once, into a content-addressed cache and verified as
//! they arrive, so a second read of the same image downloads nothing.

mod challenge;
mod client;
mod copy;

pub use copy::CopyReport;

use std::path::PathBuf;
use std::sync::Arc;

use customs_types::Digest;
use futures_util::StreamExt as _;

pub use client::{Credential, RegistryClient, RegistryOptions};

use super::store::BoxRead;
use crate::error::SourceError;
use crate::image::{Fetch, Image, PlatformChoice, Root, resolve};
use crate::limits::Limits;
use crate::manifest::Descriptor;
use crate::media_type;
use crate::reference::RegistryRef;
use crate::verify::VerifiedReader;

/// Why a registry could not be read. Messages never contain credentials or tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client")]
    Client {
        /// The reqwest error.
        #[source]
        source: reqwest::Error,
    },
    /// The registry could not be reached.
    #[error("cannot reach {url}")]
    Transport {
        /// The URL, without its query.
        url: String,
        /// The network error.
        #[source]
        source: reqwest::Error,
    },
    /// No complete answer in time: a body trickled slower than the
    /// request's deadline allows, or a registry that keeps asking to wait.
    #[error("{url}: {what}")]
    TimedOut {
        /// The URL.
        url: String,
        /// What timed out, and which flag bounds it.
        what: String,
    },
    /// 429 or 5xx on every attempt.
    #[error("{url} kept failing with HTTP {status} after {attempts} attempts")]
    RetriesExhausted {
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last status.
        status: u16,
    },
    /// Some other unexpected status.
    #[error("{url} answered HTTP {status} {detail}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The reason phrase.
        detail: String,
    },
    /// 403.
    #[error(
        "{url}: access denied (HTTP 403); check that your credentials may pull this repository"
    )]
    Denied {
        /// The URL.
        url: String,
    },
    /// The registry wants credentials and none were given.
    #[error(
        "registry {registry} requires authentication: log in with `docker login {registry}` or pass --username and --password-stdin"
    )]
    AuthenticationRequired {
        /// The registry.
        registry: String,
    },
    /// The registry refused the credentials.
    #[error("registry {registry} refused the credentials")]
    AuthenticationFailed {
        /// The registry.
        registry: String,
    },
    /// The registry's challenge or token response is unusable.
    #[error("registry {registry} sent an unusable authentication challenge: {reason}")]
    BadChallenge {
        /// The registry.
        registry: String,
        /// What is wrong.
        reason: String,
    },
    /// Credentials could not be read from the Docker config.
    #[error("cannot read credentials for {registry} from the Docker config: {reason}")]
    Credentials {
        /// The registry.
        registry: String,
        /// What failed.
        reason: String,
    },
    /// 404 on a manifest.
    #[error("{reference}: manifest unknown (no such repository, tag or digest)")]
    ManifestUnknown {
        /// The reference asked for.
        reference: String,
    },
    /// 404 on a blob.
    #[error("blob {digest} is missing from {repository}")]
    BlobUnknown {
        /// The blob.
        digest: Digest,
        /// The repository.
        repository: String,
    },
    /// A response body ended early on every attempt.
    #[error("{url}: the response ended after {received} of {expected} bytes")]
    Truncated {
        /// The URL.
        url: String,
        /// Declared size.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// A response body is larger than the limit for it.
    #[error("{url}: the response is larger than {limit} bytes")]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: u64,
    },
}

/// Hooks for showing download progress; every method defaults to nothing.
pub trait Progress: Send + Sync {
    /// A blob download (re)started.
    fn blob_started(&self, _digest: &Digest, _size: u64) {}
    /// Bytes arrived.
    fn blob_advanced(&self, _digest: &Digest, _bytes: u64) {}
    /// A download was interrupted and starts again.
    fn blob_restarted(&self, _digest: &Digest) {}
    /// A blob is verified and cached.
    fn blob_finished(&self, _digest: &Digest) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// An image in a registry.
pub struct RegistrySource {
    reference: RegistryRef,
    client: Arc<RegistryClient>,
    limits: Limits,
    cache_dir: PathBuf,
    concurrency: usize,
}

/// Pages of the referrers API followed at most.
const MAX_REFERRER_PAGES: usize = 64;

/// The tag of the referrers tag schema: `sha256-<hex>` (OCI distribution
/// spec 1.1, for registries without the referrers API).
#[must_use]
pub fn referrers_tag(digest: &Digest) -> String {
    format!("{}-{}", digest.algorithm().name(), digest.hex())
}

impl RegistrySource {
    /// A source for `reference`.
    ///
    /// # Errors
    /// When the client cannot be built or credentials cannot be read.
    pub fn new(
        reference: RegistryRef,
        options: Arc<RegistryOptions>,
        limits: Limits,
    ) -> Result<Self, RegistryError> {
        let client = RegistryClient::new(
            reference.registry(),
            reference.api_host(),
            Arc::clone(&options),
        )?;
        Ok(Self {
            reference,
            client: Arc::new(client),
            limits,
            cache_dir: options.cache_dir.clone(),
            concurrency: options.concurrency.max(1),
        })
    }

    /// The reference.
    #[must_use]
    pub fn reference(&self) -> &RegistryRef {
        &self.reference
    }

    /// Resolves the reference to one image (choosing from an index).
    ///
    /// # Errors
    /// Transport, auth, format and integrity errors.
    pub async fn image(&self, choice: &PlatformChoice) -> Result<Image, SourceError> {
        let fetched = self.fetch_manifest(&self.reference.reference()).await?;
        let root = Root {
            bytes: fetched.bytes,
            digest: Some(fetched.digest),
            media_type: fetched.media_type,
            what: format!("manifest of {}", self.reference),
        };
        let mut image = resolve(
            self,
            root,
            choice,
            &self.limits,
            &self.reference.to_string(),
        )
        .await?;
        image.tags = self
            .reference
            .tag()
            .map(|t| format!("{}:{t}", self.reference.name()))
            .into_iter()
            .collect();
        Ok(image)
    }

    /// The manifest or index the reference names, with its digest (what
    /// cosign signs) computed from the bytes read, in one request.
    ///
    /// # Errors
    /// Transport, auth, size and integrity errors; an unknown tag.
    pub async fn resolve_manifest(&self) -> Result<(Vec<u8>, Digest), SourceError> {
        let fetched = self.fetch_manifest(&self.reference.reference()).await?;
        Ok((fetched.bytes, fetched.digest))
    }

    /// The manifest or index at `reference` of this repository, verified.
    async fn fetch_manifest(
        &self,
        reference: &str,
    ) -> Result<client::FetchedManifest, SourceError> {
        self.client
            .manifest(
                self.reference.repository(),
                reference,
                self.limits.max_manifest_bytes,
                media_type::MANIFEST_ACCEPT,
            )
            .await
    }

    /// The manifest at `reference` (a tag or digest) of this repository, as
    /// stored, with its digest; `None` when there is none (404).
    ///
    /// # Errors
    /// Transport, auth, size and integrity errors.
    pub async fn manifest_at(
        &self,
        reference: &str,
    ) -> Result<Option<(Vec<u8>, Digest)>, SourceError> {
        match self.fetch_manifest(reference).await {
            Ok(fetched) => Ok(Some((fetched.bytes, fetched.digest))),
            Err(SourceError::Registry(RegistryError::ManifestUnknown { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the manifest `digest` (every tag on it goes with it); `false`
    /// when it was not there.
    ///
    /// # Errors
    /// Transport, auth and status errors (deletes disabled: 405).
    pub async fn delete_manifest(&self, digest: &Digest) -> Result<bool, SourceError> {
        self.client
            .delete(self.reference.repository(), "manifests", digest)
            .await
    }

    /// Deletes the blob `digest` of this repository; `false` when it was
    /// not there.
    ///
    /// # Errors
    /// Transport, auth and status errors.
    pub async fn delete_blob(&self, digest: &Digest) -> Result<bool, SourceError> {
        self.client
            .delete(self.reference.repository(), "blobs", digest)
            .await
    }

    /// Whether the registry has the OCI 1.1 referrers API (asked about
    /// `digest`).
    ///
    /// # Errors
    /// Transport and auth errors.
    pub async fn has_referrers_api(&self, digest: &Digest) -> Result<bool, SourceError> {
        let found = self
            .client
            .referrers(
                self.reference.repository(),
                digest,
                None,
                self.limits.max_manifest_bytes,
                1,
            )
            .await?;
        Ok(found.is_some())
    }

    /// The repository's tags, every page.
    ///
    /// # Errors
    /// Transport, auth and format errors.
    pub async fn tags(&self) -> Result<Vec<String>, SourceError> {
        self.client
            .tags(self.reference.repository(), 16 << 20, 1000)
            .await
    }

    /// Every manifest that names `digest` as its `subject`, optionally only
    /// of `artifact_type`: from the OCI 1.1 referrers API when the registry
    /// has it, and from the referrers tag schema (`sha256-<hex>`, an image
    /// index), both read at once and merged (a client that knew only the
    /// tag schema may have written there on a registry with the API).
    ///
    /// # Errors
    /// Transport, auth, size and integrity errors; a fallback tag that is
    /// not an image index.
    pub async fn referrers(
        &self,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, SourceError> {
        let tag = referrers_tag(digest);
        let (api, fallback) = tokio::join!(
            self.client.referrers(
                self.reference.repository(),
                digest,
                artifact_type,
                self.limits.max_manifest_bytes,
                MAX_REFERRER_PAGES,
            ),
            self.manifest_at(&tag)
        );
        // No referrers API (`None`): the tag schema alone.
        let mut out = api?.unwrap_or_default();
        if let Some((bytes, _)) = fallback? {
            let index: crate::manifest::ImageIndex =
                serde_json::from_slice(&bytes).map_err(|e| {
                    SourceError::malformed(
                        format!("{}:{tag}", self.reference.name()),
                        format!("the referrers tag does not hold an image index: {e}"),
                    )
                })?;
            for d in index.manifests {
                let wanted = artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t));
                if wanted && !out.iter().any(|m| m.digest == d.digest) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// A small blob of this repository (a signature payload, a config),
    /// read whole and verified against `descriptor`.
    ///
    /// # Errors
    /// Transport, size and integrity errors.
    pub async fn small_blob(
        &self,
        descriptor: &Descriptor,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError> {
        self.client
            .small_blob(
                self.reference.repository(),
                &descriptor.digest,
                descriptor.size,
                limit,
                what,
            )
            .await
    }

    /// Uploads a blob to this repository (skipped when it is there) and
    /// returns its descriptor with `media_type`.
    ///
    /// # Errors
    /// Transport, auth and status errors.
    pub async fn push_blob(
        &self,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Descriptor, SourceError> {
        let digest = Digest::sha256(bytes);
        self.client
            .push_blob(self.reference.repository(), &digest, bytes)
            .await?;
        Ok(Descriptor {
            media_type: media_type.to_owned(),
            digest,
            size: bytes.len() as u64,
            urls: Vec::new(),
            annotations: std::collections::BTreeMap::new(),
            platform: None,
            artifact_type: None,
        })
    }

    /// Puts a manifest at `reference` (a tag or its digest) of this
    /// repository; returns its digest.
    ///
    /// # Errors
    /// Transport, auth and status errors, or a registry storing other bytes.
    pub async fn push_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, SourceError> {
        self.client
            .push_manifest(self.reference.repository(), reference, media_type, bytes)
            .await
    }

    fn cache_path(&self, digest: &Digest) -> PathBuf {
        self.cache_dir
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// Downloads every layer not yet cached, `concurrency` at once.
    pub(crate) async fn fetch_layers(
        &self,
        image: &Image,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        let missing: Vec<&Descriptor> = image
            .manifest
            .layers
            .iter()
            .filter(|l| !self.cache_path(&l.digest).is_file())
            .collect();
        let mut downloads =
            futures_util::stream::iter(missing.into_iter().map(|layer| async move {
                self.client
                    .download_blob(
                        self.reference.repository(),
                        &layer.digest,
                        layer.size,
                        &self.cache_path(&layer.digest),
                        progress,
                    )
                    .await
            }))
            .buffer_unordered(self.concurrency);
        while let Some(result) = downloads.next().await {
            result?;
        }
        Ok(())
    }

    /// Opens a cached layer blob, verified again as it is read (the cache is
    /// not trusted either). A cached blob that fails verification is deleted.
    pub(crate) fn open_blob(
        &self,
        descriptor: &Descriptor,
        what: &str,
    ) -> Result<BoxRead, SourceError> {
        let path = self.cache_path(&descriptor.digest);
        let file = fs_err::File::open(&path)
            .map_err(|e| SourceError::read(path.display().to_string(), e))?;
        let reader: BoxRead = Box::new(std::io::BufReader::with_capacity(256 * 1024, file));
        Ok(Box::new(PurgeOnMismatch {
            inner: VerifiedReader::new(reader, &descriptor.digest, descriptor.size, what),
            path,
        }))
    }
}

/// Deletes a cached blob whose content fails verification.
struct PurgeOnMismatch {
    inner: VerifiedReader<BoxRead>,
    path: PathBuf,
}

impl std::io::Read for PurgeOnMismatch {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                let _ = fs_err::remove_file(&self.path);
            }
        })
    }
}

impl Fetch for RegistrySource {
    async fn fetch(
        &self,
        descriptor: &Descriptor,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError> {
        if media_type::is_index(&descriptor.media_type)
            || media_type::is_manifest(&descriptor.media_type)
        {
            if descriptor.size > limit {
                return Err(SourceError::too_large(what, limit));
            }
            let fetched = self
                .client
                .manifest(
                    self.reference.repository(),
                    descriptor.digest.as_str(),
                    limit,
                    &descriptor.media_type,
                )
                .await?;
            crate::verify::verify_bytes(
                &fetched.bytes,
                &descriptor.digest,
                Some(descriptor.size),
                what,
            )?;
            return Ok(fetched.bytes);
        }
        self.small_blob(descriptor, limit, what).await
    }
}
