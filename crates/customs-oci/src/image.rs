//! A resolved image: its index (if any), the manifest chosen for a platform,
//! and its config, each verified against its digest.

use customs_types::Digest;
use serde::Serialize;

use crate::config::ImageConfig;
use crate::error::SourceError;
use crate::limits::Limits;
use crate::manifest::{Descriptor, ImageIndex, ImageManifest, ManifestDocument};
use crate::media_type;
use crate::platform::Platform;
use crate::verify::verify_bytes;

/// An image whose manifest and config have been read and verified.
#[derive(Debug, Clone)]
pub struct Image {
    /// The reference as the user gave it (for messages and output).
    pub name: String,
    /// The index the manifest was chosen from, if there was one.
    pub index: Option<IndexSummary>,
    /// The manifest's digest: the image's identity.
    pub manifest_digest: Digest,
    /// The manifest's media type.
    pub manifest_media_type: String,
    /// The manifest exactly as stored (what the digest covers).
    pub manifest_bytes: Vec<u8>,
    /// The parsed manifest.
    pub manifest: ImageManifest,
    /// The parsed config.
    pub config: ImageConfig,
    /// The config exactly as stored.
    pub config_bytes: Vec<u8>,
    /// Tags the source associates with the image (`RepoTags` of a docker-archive).
    pub tags: Vec<String>,
}

/// What an index offered.
#[derive(Debug, Clone, Serialize)]
pub struct IndexSummary {
    /// The index's digest; `None` for the top-level `index.json` of a layout,
    /// which is not content-addressed.
    pub digest: Option<Digest>,
    /// The index's media type.
    pub media_type: String,
    /// Every manifest it lists.
    pub manifests: Vec<IndexEntry>,
}

/// One manifest listed in an index.
#[derive(Debug, Clone, Serialize)]
pub struct IndexEntry {
    /// The manifest's digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its platform, when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Whether it is a BuildKit attestation manifest rather than an image.
    pub attestation: bool,
    /// For an attestation manifest: the image manifest it is about
    /// (`vnd.docker.reference.digest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attests: Option<Digest>,
    /// The entry's size, for fetching it.
    #[serde(skip)]
    pub size: u64,
}

impl IndexEntry {
    /// The descriptor to fetch the entry with.
    #[must_use]
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            urls: Vec::new(),
            annotations: std::collections::BTreeMap::new(),
            platform: self.platform.clone(),
            artifact_type: None,
        }
    }
}

/// One layer of an image with its uncompressed digest.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Position, base first (0-based).
    pub index: usize,
    /// The layer blob's descriptor.
    pub descriptor: Descriptor,
    /// The uncompressed digest from the config, when present.
    pub diff_id: Option<Digest>,
}

impl Image {
    /// The image's layers, base first.
    #[must_use]
    pub fn layers(&self) -> Vec<Layer> {
        self.manifest
            .layers
            .iter()
            .enumerate()
            .map(|(index, descriptor)| Layer {
                index,
                descriptor: descriptor.clone(),
                diff_id: self.config.rootfs.diff_ids.get(index).cloned(),
            })
            .collect()
    }

    /// The platform the config declares.
    #[must_use]
    pub fn platform(&self) -> Platform {
        Platform::new(
            &self.config.os,
            &self.config.architecture,
            self.config.variant.as_deref(),
        )
    }

    /// The sum of the layer blobs' sizes.
    #[must_use]
    pub fn compressed_size(&self) -> u64 {
        self.manifest.layers.iter().map(|l| l.size).sum()
    }

    /// The index digest, when the image was chosen from a content-addressed index.
    #[must_use]
    pub fn index_digest(&self) -> Option<&Digest> {
        self.index.as_ref().and_then(|i| i.digest.as_ref())
    }

    /// The digest its reference resolved to: the index's for a
    /// multi-platform image (what a tag points at, what cosign signs and a
    /// pinned deployment names), else the manifest's.
    #[must_use]
    pub fn resolved_digest(&self) -> &Digest {
        self.index_digest().unwrap_or(&self.manifest_digest)
    }
}

/// Fetches the documents an image is made of from one source.
pub(crate) trait Fetch {
    /// Reads a small blob (manifest, index, config) whole, verified.
    async fn fetch(
        &self,
        descriptor: &Descriptor,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError>;
}

/// The root document a resolution starts from.
pub(crate) struct Root {
    pub(crate) bytes: Vec<u8>,
    pub(crate) digest: Option<Digest>,
    pub(crate) media_type: Option<String>,
    pub(crate) what: String,
}

/// Which platform to choose from an index.
#[derive(Debug, Clone)]
pub struct PlatformChoice {
    /// The platform wanted.
    pub platform: Platform,
    /// Whether the user asked for it (an image for another platform is then an error).
    pub explicit: bool,
}

impl Default for PlatformChoice {
    fn default() -> Self {
        Self {
            platform: Platform::host(),
            explicit: false,
        }
    }
}

fn summarise(index: &ImageIndex, digest: Option<Digest>) -> IndexSummary {
    IndexSummary {
        digest,
        media_type: index.effective_media_type().to_owned(),
        manifests: index
            .manifests
            .iter()
            .map(|d| IndexEntry {
                digest: d.digest.clone(),
                media_type: d.media_type.clone(),
                platform: d.platform.clone(),
                attestation: d.is_attestation_manifest(),
                attests: d
                    .annotations
                    .get("vnd.docker.reference.digest")
                    .and_then(|v| Digest::parse(v).ok()),
                size: d.size,
            })
            .collect(),
    }
}

/// Resolves a root document to one image for the chosen platform, following
/// nested indexes up to the limit and verifying every document read.
pub(crate) async fn resolve(
    fetcher: &impl Fetch,
    root: Root,
    choice: &PlatformChoice,
    limits: &Limits,
    name: &str,
) -> Result<Image, SourceError> {
    if root.bytes.len() as u64 > limits.max_manifest_bytes {
        return Err(SourceError::too_large(root.what, limits.max_manifest_bytes));
    }
    let mut document =
        ManifestDocument::parse(&root.bytes, root.media_type.as_deref(), &root.what)?;
    let mut bytes = root.bytes;
    let mut digest = root
        .digest
        .clone()
        .unwrap_or_else(|| Digest::sha256(&bytes));
    let mut what = root.what;
    let mut summary = None;
    let mut depth = 0;
    let manifest = loop {
        match document {
            ManifestDocument::Image(manifest) => break *manifest,
            ManifestDocument::Index(index) => {
                depth += 1;
                if depth > limits.max_index_depth {
                    return Err(SourceError::IndexTooDeep {
                        what,
                        limit: limits.max_index_depth,
                    });
                }
                if index.manifests.len() > limits.max_index_entries {
                    return Err(SourceError::TooMany {
                        what,
                        item: "manifests",
                        count: index.manifests.len(),
                        limit: limits.max_index_entries,
                    });
                }
                if summary.is_none() {
                    summary = Some(summarise(&index, Some(digest.clone())));
                }
                let chosen = choose(&index, choice, &what)?;
                let child_what = format!("manifest {} of {name}", chosen.digest);
                let child = fetcher
                    .fetch(&chosen, limits.max_manifest_bytes, &child_what)
                    .await?;
                document = ManifestDocument::parse(&child, Some(&chosen.media_type), &child_what)?;
                digest = chosen.digest.clone();
                bytes = child;
                what = child_what;
            }
        }
    };
    if manifest.layers.len() > limits.max_layers {
        return Err(SourceError::TooMany {
            what,
            item: "layers",
            count: manifest.layers.len(),
            limit: limits.max_layers,
        });
    }
    let config_what = format!("config {} of {name}", manifest.config.digest);
    let config_bytes = fetcher
        .fetch(&manifest.config, limits.max_config_bytes, &config_what)
        .await?;
    let config = ImageConfig::parse(&config_bytes).map_err(|source| SourceError::Config {
        what: config_what.clone(),
        source,
    })?;
    let diff_ids = config.rootfs.diff_ids.len();
    if diff_ids != manifest.layers.len() {
        return Err(SourceError::malformed(
            config_what,
            format!(
                "lists {diff_ids} layer diff_ids but the manifest has {} layers",
                manifest.layers.len()
            ),
        ));
    }
    let image = Image {
        name: name.to_owned(),
        index: summary,
        manifest_digest: digest,
        manifest_media_type: manifest.effective_media_type().to_owned(),
        manifest_bytes: bytes,
        manifest,
        config,
        config_bytes,
        tags: Vec::new(),
    };
    if choice.explicit && image.index.is_none() && !choice.platform.matches(&image.platform()) {
        return Err(SourceError::PlatformNotFound {
            what: name.to_owned(),
            wanted: choice.platform.to_string(),
            available: vec![image.platform().to_string()],
        });
    }
    Ok(image)
}

fn choose(
    index: &ImageIndex,
    choice: &PlatformChoice,
    what: &str,
) -> Result<Descriptor, SourceError> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| !d.is_attestation_manifest())
        .collect();
    if let Some(found) = candidates.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| choice.platform.matches(p))
    }) {
        return Ok((*found).clone());
    }
    // A single entry without a platform (a layout's index.json of one image) is that image.
    if let [only] = candidates.as_slice()
        && only.platform.is_none()
        && (media_type::is_manifest(&only.media_type) || media_type::is_index(&only.media_type))
    {
        return Ok((*only).clone());
    }
    let mut available: Vec<String> = candidates
        .iter()
        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
        .collect();
    available.sort();
    available.dedup();
    Err(SourceError::PlatformNotFound {
        what: what.to_owned(),
        wanted: choice.platform.to_string(),
        available,
    })
}

/// Parses and verifies a document fetched by descriptor.
pub(crate) fn check_fetched(
    bytes: &[u8],
    descriptor: &Descriptor,
    what: &str,
) -> Result<(), SourceError> {
    verify_bytes(bytes, &descriptor.digest, Some(descriptor.size), what)?;
    Ok(())
}
