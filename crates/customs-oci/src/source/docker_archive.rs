//! `docker save` archives (`docker-archive:FILE[:NAME:TAG|:@N]`).
//!
//! Both forms are read through `manifest.json`: the legacy one
//! (`<id>/layer.tar`, `<id>.json`) and the OCI-layout-inside form of Docker 25+
//! (`blobs/sha256/…`). Like skopeo, customs describes the image with a
//! generated Docker schema 2 manifest whose layer descriptors are the
//! uncompressed layers (digest = diff ID), so `customs digest` prints what
//! `skopeo inspect` prints.

use std::io::{Read, Write};

use customs_types::Digest;
use serde::{Deserialize, Serialize};

use super::store::{BoxRead, Store};
use crate::config::ImageConfig;
use crate::error::SourceError;
use crate::image::{Image, PlatformChoice};
use crate::limits::Limits;
use crate::manifest::{Descriptor, ImageManifest};
use crate::media_type::{self, Compression};
use crate::reference::{ArchiveSelector, RegistryRef};
use crate::verify::VerifiedReader;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A `docker save` archive.
#[derive(Debug, Clone)]
pub struct DockerArchiveSource {
    store: Store,
    selector: Option<ArchiveSelector>,
    name: String,
    limits: Limits,
}

// Field order and names match containers/image's manifest.Schema2 so that the
// serialised bytes, and so the digest, are identical to skopeo's.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoSchema2<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: GoDescriptor<'a>,
    layers: Vec<GoDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoDescriptor<'a> {
    media_type: &'a str,
    size: u64,
    digest: &'a Digest,
}

impl DockerArchiveSource {
    pub(crate) fn new(
        store: Store,
        selector: Option<ArchiveSelector>,
        name: String,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            selector,
            name,
            limits,
        }
    }

    fn entries(&self) -> Result<Vec<ArchiveEntry>, SourceError> {
        let what = format!("{}/manifest.json", self.store.describe());
        let bytes = self
            .store
            .read_small("manifest.json", self.limits.max_metadata_bytes)?
            .ok_or_else(|| {
                SourceError::malformed(
                    self.store.describe(),
                    "is not a docker-archive (no manifest.json)",
                )
            })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| SourceError::malformed(what, format!("is malformed: {e}")))
    }

    fn select(&self) -> Result<(ArchiveEntry, Vec<String>), SourceError> {
        let entries = self.entries()?;
        let all_tags: Vec<String> = entries
            .iter()
            .flat_map(|e| e.repo_tags.iter().flatten().cloned())
            .collect();
        let normalise = |t: &str| {
            RegistryRef::parse(t)
                .map(|r| r.familiar())
                .unwrap_or_else(|_| t.to_owned())
        };
        let entry = match &self.selector {
            Some(ArchiveSelector::Index(n)) => entries.get(*n).cloned().ok_or_else(|| {
                SourceError::malformed(
                    self.store.describe(),
                    format!("has {} images, there is no @{n}", entries.len()),
                )
            })?,
            Some(ArchiveSelector::Tag(tag)) => entries
                .iter()
                .find(|e| e.repo_tags.iter().flatten().any(|t| normalise(t) == *tag))
                .cloned()
                .ok_or_else(|| SourceError::TagNotFound {
                    what: self.store.describe(),
                    tag: tag.clone(),
                    available: all_tags.clone(),
                })?,
            None => match entries.as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(SourceError::malformed(
                        self.store.describe(),
                        "manifest.json lists no images",
                    ));
                }
                many => {
                    return Err(SourceError::Ambiguous {
                        what: self.store.describe(),
                        count: many.len(),
                        available: all_tags,
                    });
                }
            },
        };
        let tags = entry.repo_tags.clone().unwrap_or_default();
        Ok((entry, tags))
    }

    pub(crate) fn image(&self, choice: &PlatformChoice) -> Result<Image, SourceError> {
        let (entry, tags) = self.select()?;
        if entry.layers.len() > self.limits.max_layers {
            return Err(SourceError::TooMany {
                what: self.name.clone(),
                item: "layers",
                count: entry.layers.len(),
                limit: self.limits.max_layers,
            });
        }
        let config_what = format!("config `{}` of {}", entry.config, self.name);
        let config_bytes = self
            .store
            .read_small(&entry.config, self.limits.max_config_bytes)?
            .ok_or_else(|| {
                SourceError::malformed(
                    self.store.describe(),
                    format!("has no file `{}`", entry.config),
                )
            })?;
        let config = ImageConfig::parse(&config_bytes).map_err(|source| SourceError::Config {
            what: config_what.clone(),
            source,
        })?;
        if config.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(SourceError::malformed(
                config_what,
                format!(
                    "lists {} diff_ids but manifest.json lists {} layers",
                    config.rootfs.diff_ids.len(),
                    entry.layers.len()
                ),
            ));
        }
        let config_digest = Digest::sha256(&config_bytes);
        // `docker save` stores a layer used twice once (the second is a symlink).
        let mut sizes: std::collections::HashMap<&Digest, u64> = std::collections::HashMap::new();
        let mut layers = Vec::with_capacity(entry.layers.len());
        for (path, diff_id) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
            let size = match sizes.get(diff_id) {
                Some(size) => *size,
                None => self.uncompressed_size(path)?,
            };
            sizes.insert(diff_id, size);
            layers.push(layer_descriptor(diff_id, size));
        }
        let generated = GoSchema2 {
            schema_version: 2,
            media_type: media_type::DOCKER_MANIFEST,
            config: GoDescriptor {
                media_type: media_type::DOCKER_CONFIG,
                size: config_bytes.len() as u64,
                digest: &config_digest,
            },
            layers: layers
                .iter()
                .map(|l| GoDescriptor {
                    media_type: media_type::DOCKER_LAYER_GZIP,
                    size: l.size,
                    digest: &l.digest,
                })
                .collect(),
        };
        let manifest_bytes = serde_json::to_vec(&generated)
            .map_err(|e| SourceError::malformed(self.name.clone(), e.to_string()))?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::DOCKER_MANIFEST.to_owned()),
            artifact_type: None,
            config: Descriptor {
                media_type: media_type::DOCKER_CONFIG.to_owned(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                urls: Vec::new(),
                annotations: Default::default(),
                platform: None,
                artifact_type: None,
            },
            layers,
            subject: None,
            annotations: Default::default(),
        };
        let image = Image {
            name: self.name.clone(),
            index: None,
            manifest_digest: Digest::sha256(&manifest_bytes),
            manifest_media_type: media_type::DOCKER_MANIFEST.to_owned(),
            manifest_bytes,
            manifest,
            config,
            config_bytes,
            tags,
        };
        if choice.explicit && !choice.platform.matches(&image.platform()) {
            return Err(SourceError::PlatformNotFound {
                what: self.name.clone(),
                wanted: choice.platform.to_string(),
                available: vec![image.platform().to_string()],
            });
        }
        Ok(image)
    }

    /// The size of a layer file once decompressed (docker-archive layers are
    /// normally plain tar; compressed ones must be read through once).
    fn uncompressed_size(&self, path: &str) -> Result<u64, SourceError> {
        let (mut reader, size) = self.store.open(path)?.ok_or_else(|| {
            SourceError::malformed(self.store.describe(), format!("has no layer file `{path}`"))
        })?;
        let mut head = [0u8; 4];
        let n = read_head(&mut reader, &mut head).map_err(|e| SourceError::read(path, e))?;
        if Compression::sniff(&head[..n]).is_none() {
            return Ok(size);
        }
        let (reader, _) = self
            .store
            .open(path)?
            .ok_or_else(|| SourceError::malformed(self.store.describe(), "layer vanished"))?;
        let mut decoded = decompress(reader, &head[..n]).map_err(|e| SourceError::read(path, e))?;
        let mut counter = Counter(0);
        std::io::copy(
            &mut decoded
                .by_ref()
                .take(self.limits.max_uncompressed_bytes + 1),
            &mut counter,
        )
        .map_err(|e| SourceError::read(format!("{path} in {}", self.store.describe()), e))?;
        if counter.0 > self.limits.max_uncompressed_bytes {
            return Err(SourceError::TooLarge {
                what: format!("layer `{path}` of {}", self.name),
                limit: self.limits.max_uncompressed_bytes,
                hint: " (raise it with --max-uncompressed-size)",
            });
        }
        Ok(counter.0)
    }

    /// Opens a layer as its uncompressed stream, verified against its diff ID.
    pub(crate) fn open_layer(
        &self,
        descriptor: &Descriptor,
        what: &str,
    ) -> Result<BoxRead, SourceError> {
        let (entry, _) = self.select()?;
        let position = self
            .image_layers(&entry)?
            .iter()
            .position(|d| d == &descriptor.digest)
            .ok_or_else(|| SourceError::BlobNotFound {
                what: self.store.describe(),
                digest: descriptor.digest.clone(),
            })?;
        let path = &entry.layers[position];
        let (mut reader, _) = self.store.open(path)?.ok_or_else(|| {
            SourceError::malformed(self.store.describe(), format!("has no layer file `{path}`"))
        })?;
        let mut head = [0u8; 4];
        let n = read_head(&mut reader, &mut head).map_err(|e| SourceError::read(path, e))?;
        let stream: BoxRead = if Compression::sniff(&head[..n]).is_some() {
            let (reader, _) = self
                .store
                .open(path)?
                .ok_or_else(|| SourceError::malformed(self.store.describe(), "layer vanished"))?;
            decompress(reader, &head[..n]).map_err(|e| SourceError::read(path, e))?
        } else {
            Box::new(std::io::Cursor::new(head[..n].to_vec()).chain(reader))
        };
        Ok(Box::new(VerifiedReader::new(
            stream,
            &descriptor.digest,
            descriptor.size,
            what,
        )))
    }

    fn image_layers(&self, entry: &ArchiveEntry) -> Result<Vec<Digest>, SourceError> {
        let bytes = self
            .store
            .read_small(&entry.config, self.limits.max_config_bytes)?
            .ok_or_else(|| SourceError::malformed(self.store.describe(), "config vanished"))?;
        let config = ImageConfig::parse(&bytes).map_err(|source| SourceError::Config {
            what: entry.config.clone(),
            source,
        })?;
        Ok(config.rootfs.diff_ids)
    }
}

fn layer_descriptor(diff_id: &Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type::DOCKER_LAYER_GZIP.to_owned(),
        digest: diff_id.clone(),
        size,
        urls: Vec::new(),
        annotations: Default::default(),
        platform: None,
        artifact_type: None,
    }
}

fn read_head(reader: &mut impl Read, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        let got = reader.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

fn decompress(reader: BoxRead, head: &[u8]) -> std::io::Result<BoxRead> {
    Ok(match Compression::sniff(head) {
        Some(Compression::Gzip) => Box::new(crate::decompress::gzip(reader)),
        Some(Compression::Zstd) => Box::new(crate::decompress::zstd(reader)?),
        _ => reader,
    })
}

struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
