//! cosign's simple-signing payload: what `cosign sign` signs for an image,
//! byte for byte (compact JSON, this key order, `"optional":null` without
//! annotations). See cosign's `specs/SIGNATURE_SPEC.md`.

use std::collections::BTreeMap;

use customs_types::Digest;
use serde::{Deserialize, Serialize};

/// The layer media type of a simple-signing payload.
pub const MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The `critical.type` of an image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
/// The layer annotation holding the base64 DER signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON of the simple-signing shape.
    #[error("not a simple-signing payload: {0}")]
    Malformed(String),
    /// Another `critical.type` (not an image signature).
    #[error("the payload's type is `{0}`, not `cosign container image signature`")]
    WrongType(String),
}

/// A simple-signing payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// `critical.identity.docker-reference`: the repository it was signed for.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: Digest,
    /// `optional`: the `-a key=value` annotations (and whatever else a
    /// signer put there); `None` is written as `null`.
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    critical: Critical,
    optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: ImageField,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
struct ImageField {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

impl Payload {
    /// The payload for `repository` at `digest`.
    #[must_use]
    pub fn new(repository: &str, digest: &Digest) -> Self {
        Self {
            docker_reference: repository.to_owned(),
            manifest_digest: digest.clone(),
            optional: None,
        }
    }

    /// The exact bytes cosign writes (and signs).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            critical: Critical {
                identity: Identity {
                    docker_reference: self.docker_reference.clone(),
                },
                image: ImageField {
                    docker_manifest_digest: self.manifest_digest.to_string(),
                },
                kind: SIGNATURE_TYPE.to_owned(),
            },
            optional: self.optional.clone(),
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Reads a payload (of any signer), checking its type.
    ///
    /// # Errors
    /// [`PayloadError`] naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        if wire.critical.kind != SIGNATURE_TYPE {
            return Err(PayloadError::WrongType(wire.critical.kind));
        }
        let manifest_digest = Digest::parse(&wire.critical.image.docker_manifest_digest)
            .map_err(|e| PayloadError::Malformed(format!("docker-manifest-digest: {e}")))?;
        Ok(Self {
            docker_reference: wire.critical.identity.docker_reference,
            manifest_digest,
            optional: wire.optional,
        })
    }
}
