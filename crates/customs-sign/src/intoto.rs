//! in-toto Statements v1 (<https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>)
//! and the predicate types `cosign attest --type` knows by name.

use std::collections::BTreeMap;

use customs_types::Digest;
use serde::{Deserialize, Serialize};

/// `_type` of a v1 statement.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of the v0.1 statements older cosign releases write (read too).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// The predicate type URI for a `--type` name, as cosign maps them; a URI
/// stands for itself.
///
/// # Errors
/// An unknown short name.
pub fn predicate_type(name: &str) -> Result<String, String> {
    Ok(match name {
        "spdx" | "spdxjson" => SPDX_PREDICATE,
        "cyclonedx" => CYCLONEDX_PREDICATE,
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        uri if uri.contains("://") => uri,
        other => {
            return Err(format!(
                "unknown predicate type `{other}` (spdx, cyclonedx, slsaprovenance, slsaprovenance1, link, vuln, openvex, custom, or a URI)"
            ));
        }
    }
    .to_owned())
}

/// The predicate type of SPDX SBOM attestations.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
/// The predicate type of CycloneDX SBOM attestations.
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";

/// The predicate type of a cosign v3 image signature (a statement about
/// the image, in a DSSE envelope, in a Sigstore bundle).
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// A statement's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The artifact's name (optional in a v1 ResourceDescriptor).
    #[serde(default)]
    pub name: String,
    /// Algorithm → hex digest.
    pub digest: BTreeMap<String, String>,
    /// Annotations about the subject (cosign v3 puts `-a key=value` of an
    /// image signature here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// An in-toto statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// `https://in-toto.io/Statement/v1`.
    #[serde(rename = "_type")]
    pub kind: String,
    /// What it is about.
    pub subject: Vec<Subject>,
    /// What kind of claim.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The claim.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A v1 statement about `name` at `digest`.
    #[must_use]
    pub fn new(
        name: &str,
        digest: &Digest,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Self {
        Self {
            kind: STATEMENT_V1.to_owned(),
            subject: vec![Subject {
                name: name.to_owned(),
                digest: BTreeMap::from([(
                    digest.algorithm().name().to_owned(),
                    digest.hex().to_owned(),
                )]),
                annotations: BTreeMap::new(),
            }],
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }

    /// The subject that is `digest`, if one is.
    #[must_use]
    pub fn subject_for(&self, digest: &Digest) -> Option<&Subject> {
        self.subject.iter().find(|s| {
            s.digest
                .get(digest.algorithm().name())
                .is_some_and(|hex| hex.eq_ignore_ascii_case(digest.hex()))
        })
    }

    /// Whether one of the subjects is `digest`.
    #[must_use]
    pub fn is_about(&self, digest: &Digest) -> bool {
        self.subject_for(digest).is_some()
    }
}
