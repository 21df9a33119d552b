//! The [OCI image layout](https://github.com/opencontainers/image-spec/blob/main/image-layout.md),
//! unpacked (`oci:DIR[:TAG]`) or in a tar (`oci-archive:FILE[:TAG]`).
//!
//! A tag selects the `index.json` entry whose `org.opencontainers.image.ref.name`
//! annotation equals it; without a tag the layout must hold exactly one entry.

use customs_types::Digest;

use super::store::{BoxRead, Store};
use crate::error::SourceError;
use crate::image::{Fetch, Image, PlatformChoice, Root, check_fetched, resolve};
use crate::limits::Limits;
use crate::manifest::{Descriptor, ImageIndex};
use crate::media_type::{self, ANNOTATION_REF_NAME};
use crate::verify::VerifiedReader;

/// An OCI image layout.
#[derive(Debug, Clone)]
pub struct LayoutSource {
    store: Store,
    tag: Option<String>,
    name: String,
    limits: Limits,
}

impl LayoutSource {
    pub(crate) fn new(
        store: Store,
        tag: Option<String>,
        name: String,
        limits: Limits,
    ) -> Result<Self, SourceError> {
        let marker = store.read_small("oci-layout", 4096)?.ok_or_else(|| {
            SourceError::malformed(
                store.describe(),
                "is not an OCI image layout (no `oci-layout` file)",
            )
        })?;
        let version: serde_json::Value = serde_json::from_slice(&marker).map_err(|_| {
            SourceError::malformed(store.describe(), "has an unreadable `oci-layout` file")
        })?;
        if version.get("imageLayoutVersion").and_then(|v| v.as_str()) != Some("1.0.0") {
            return Err(SourceError::malformed(
                store.describe(),
                "has an unsupported `imageLayoutVersion` (expected 1.0.0)",
            ));
        }
        Ok(Self {
            store,
            tag,
            name,
            limits,
        })
    }

    fn index(&self) -> Result<ImageIndex, SourceError> {
        let what = format!("{}/index.json", self.store.describe());
        let bytes = self
            .store
            .read_small("index.json", self.limits.max_metadata_bytes)?
            .ok_or_else(|| SourceError::malformed(self.store.describe(), "has no index.json"))?;
        serde_json::from_slice(&bytes).map_err(|source| {
            SourceError::Manifest(crate::manifest::ManifestError::Malformed { what, source })
        })
    }

    /// The tags of the layout's `index.json`.
    ///
    /// # Errors
    /// When `index.json` is missing or malformed.
    pub fn tags(&self) -> Result<Vec<String>, SourceError> {
        Ok(self
            .index()?
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(ANNOTATION_REF_NAME).cloned())
            .collect())
    }

    pub(crate) async fn image(&self, choice: &PlatformChoice) -> Result<Image, SourceError> {
        let index = self.index()?;
        let tags = self.tags()?;
        let root_descriptor = match &self.tag {
            Some(tag) => index
                .manifests
                .iter()
                .find(|d| d.annotations.get(ANNOTATION_REF_NAME) == Some(tag))
                .ok_or_else(|| SourceError::TagNotFound {
                    what: self.store.describe(),
                    tag: tag.clone(),
                    available: tags.clone(),
                })?,
            None => match index.manifests.as_slice() {
                [only] => only,
                [] => {
                    return Err(SourceError::malformed(
                        self.store.describe(),
                        "index.json lists no images",
                    ));
                }
                many => {
                    // Several entries without tags are one multi-platform image.
                    if many.iter().all(|d| d.platform.is_some()) && tags.is_empty() {
                        return self.resolve_root(&index, choice, Vec::new()).await;
                    }
                    return Err(SourceError::Ambiguous {
                        what: self.store.describe(),
                        count: many.len(),
                        available: tags,
                    });
                }
            },
        };
        let what = format!("manifest {} of {}", root_descriptor.digest, self.name);
        let bytes = self
            .fetch(root_descriptor, self.limits.max_manifest_bytes, &what)
            .await?;
        let root = Root {
            bytes,
            digest: Some(root_descriptor.digest.clone()),
            media_type: Some(root_descriptor.media_type.clone()),
            what,
        };
        let mut image = resolve(self, root, choice, &self.limits, &self.name).await?;
        image.tags = root_descriptor
            .annotations
            .get(ANNOTATION_REF_NAME)
            .cloned()
            .into_iter()
            .collect();
        Ok(image)
    }

    async fn resolve_root(
        &self,
        index: &ImageIndex,
        choice: &PlatformChoice,
        tags: Vec<String>,
    ) -> Result<Image, SourceError> {
        let mut bytes = serde_json::to_vec(index)
            .map_err(|e| SourceError::malformed(self.store.describe(), e.to_string()))?;
        bytes.shrink_to_fit();
        let root = Root {
            bytes,
            digest: None,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            what: format!("{}/index.json", self.store.describe()),
        };
        let mut image = resolve(self, root, choice, &self.limits, &self.name).await?;
        if let Some(summary) = &mut image.index {
            summary.digest = None; // index.json is not content-addressed
        }
        image.tags = tags;
        Ok(image)
    }

    fn blob_path(digest: &Digest) -> String {
        format!("blobs/{}/{}", digest.algorithm().name(), digest.hex())
    }

    /// Opens a blob for streaming, verified as it is read.
    pub(crate) fn open_blob(
        &self,
        descriptor: &Descriptor,
        what: &str,
    ) -> Result<BoxRead, SourceError> {
        let (reader, _) = self
            .store
            .open(&Self::blob_path(&descriptor.digest))?
            .ok_or_else(|| SourceError::BlobNotFound {
                what: self.store.describe(),
                digest: descriptor.digest.clone(),
            })?;
        Ok(Box::new(VerifiedReader::new(
            reader,
            &descriptor.digest,
            descriptor.size,
            what,
        )))
    }
}

impl Fetch for LayoutSource {
    async fn fetch(
        &self,
        descriptor: &Descriptor,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError> {
        if descriptor.size > limit {
            return Err(SourceError::too_large(what, limit));
        }
        let bytes = self
            .store
            .read_small(&Self::blob_path(&descriptor.digest), limit)?
            .ok_or_else(|| SourceError::BlobNotFound {
                what: self.store.describe(),
                digest: descriptor.digest.clone(),
            })?;
        check_fetched(&bytes, descriptor, what)?;
        Ok(bytes)
    }
}
