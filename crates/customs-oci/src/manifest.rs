//! Manifests, indexes and descriptors of the
//! [OCI image spec](https://github.com/opencontainers/image-spec/blob/main/manifest.md)
//! and Docker's v2 schema 2, which share one shape.
//!
//! Parsing is strict where it matters for integrity (digests, sizes, schema
//! version) and lenient about unknown fields, as the spec requires.

use std::collections::BTreeMap;

use customs_types::Digest;
use serde::{Deserialize, Serialize};

use crate::media_type;
use crate::platform::Platform;

/// A content descriptor: what a blob is, its digest and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// The blob's digest; the blob is rejected unless its bytes hash to it.
    pub digest: Digest,
    /// The blob's size in bytes; the blob is rejected unless it has exactly this size.
    pub size: u64,
    /// Alternate download locations (foreign layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// In an index: the platform the manifest is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// OCI 1.1 artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// Whether an index entry is a BuildKit attestation manifest rather
    /// than an image (`vnd.docker.reference.type: attestation-manifest`, or
    /// the `unknown/unknown` platform BuildKit gives them).
    #[must_use]
    pub fn is_attestation_manifest(&self) -> bool {
        self.annotations
            .get("vnd.docker.reference.type")
            .is_some_and(|t| t == "attestation-manifest")
            || self
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }
}

/// An image manifest: one config and an ordered list of layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// OCI 1.1 artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// OCI 1.1 subject (for signatures and attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata (base image annotations live here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests (or nested indexes) it lists.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A parsed manifest document: either an image manifest or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestDocument {
    /// A single image.
    Image(Box<ImageManifest>),
    /// A list of manifests.
    Index(ImageIndex),
}

/// Why a manifest document was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("{what} is not a valid manifest or index")]
    Malformed {
        /// Names the document.
        what: String,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// Docker schema 1 manifests are deprecated and unverifiable.
    #[error(
        "{what} is a Docker schema 1 manifest, which customs does not support (re-push it with a current client)"
    )]
    SchemaOne {
        /// Names the document.
        what: String,
    },
    /// Some other `schemaVersion` or an unknown `mediaType`.
    #[error("{what} has unsupported media type `{media_type}` (schemaVersion {schema_version})")]
    Unsupported {
        /// Names the document.
        what: String,
        /// The declared media type.
        media_type: String,
        /// The declared schema version.
        schema_version: u64,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(default)]
    schema_version: u64,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    config: Option<serde::de::IgnoredAny>,
}

impl ManifestDocument {
    /// Parses a manifest or index. `content_type` is the HTTP `Content-Type`
    /// or the descriptor's media type, used when the document does not name
    /// its own type. `what` names the document in errors.
    ///
    /// # Errors
    /// [`ManifestError`] when the bytes are not a schema-2 manifest or index.
    pub fn parse(
        bytes: &[u8],
        content_type: Option<&str>,
        what: &str,
    ) -> Result<Self, ManifestError> {
        let malformed = |source| ManifestError::Malformed {
            what: what.to_owned(),
            source,
        };
        let shape: Shape = serde_json::from_slice(bytes).map_err(malformed)?;
        let declared = shape
            .media_type
            .clone()
            .or_else(|| content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_owned()))
            .filter(|m| {
                !m.is_empty() && m != "application/json" && m != "application/octet-stream"
            });
        if shape.schema_version == 1
            || matches!(
                declared.as_deref(),
                Some(media_type::DOCKER_SCHEMA1 | media_type::DOCKER_SCHEMA1_SIGNED)
            )
        {
            return Err(ManifestError::SchemaOne {
                what: what.to_owned(),
            });
        }
        let unsupported = || ManifestError::Unsupported {
            what: what.to_owned(),
            media_type: declared.clone().unwrap_or_else(|| "(none)".to_owned()),
            schema_version: shape.schema_version,
        };
        if shape.schema_version != 2 {
            return Err(unsupported());
        }
        let is_index = match declared.as_deref() {
            Some(m) if media_type::is_index(m) => true,
            Some(m) if media_type::is_manifest(m) => false,
            Some(_) if shape.manifests.is_some() && shape.config.is_none() => true,
            Some(_) if shape.config.is_some() => false,
            Some(_) => return Err(unsupported()),
            None => shape.manifests.is_some(),
        };
        if is_index {
            serde_json::from_slice(bytes)
                .map(Self::Index)
                .map_err(malformed)
        } else {
            serde_json::from_slice(bytes)
                .map(Self::Image)
                .map_err(malformed)
        }
    }
}

impl ImageManifest {
    /// The manifest's media type: declared, or implied by its config type.
    #[must_use]
    pub fn effective_media_type(&self) -> &str {
        match &self.media_type {
            Some(m) => m,
            None if self.config.media_type == media_type::DOCKER_CONFIG => {
                media_type::DOCKER_MANIFEST
            }
            None => media_type::OCI_MANIFEST,
        }
    }
}

impl ImageIndex {
    /// The index's media type: declared, or OCI's.
    #[must_use]
    pub fn effective_media_type(&self) -> &str {
        self.media_type.as_deref().unwrap_or(media_type::OCI_INDEX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_docker_and_oci_shapes() {
        let docker = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":2,"digest":"{D}"}},"layers":[]}}"#,
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG
        );
        assert!(matches!(
            ManifestDocument::parse(docker.as_bytes(), None, "m").unwrap(),
            ManifestDocument::Image(_)
        ));
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","size":1,"digest":"{D}","platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
            media_type::OCI_MANIFEST
        );
        assert!(matches!(
            ManifestDocument::parse(index.as_bytes(), None, "i").unwrap(),
            ManifestDocument::Index(_)
        ));
    }

    #[test]
    fn rejects_schema1_bad_digests_and_negative_sizes() {
        let s1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        let err = ManifestDocument::parse(s1, None, "manifest of x").unwrap_err();
        assert!(err.to_string().contains("schema 1"), "{err}");
        let bad_digest = br#"{"schemaVersion":2,"config":{"mediaType":"a","size":1,"digest":"sha256:zz"},"layers":[]}"#;
        assert!(ManifestDocument::parse(bad_digest, None, "m").is_err());
        let negative = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"a","size":-1,"digest":"{D}"}},"layers":[]}}"#
        );
        assert!(ManifestDocument::parse(negative.as_bytes(), None, "m").is_err());
        assert!(ManifestDocument::parse(b"\xff\xfe", None, "m").is_err());
        assert!(ManifestDocument::parse(br#"{"schemaVersion":3}"#, None, "m").is_err());
    }
}
