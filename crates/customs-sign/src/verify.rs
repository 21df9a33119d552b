//! Verifying an image's simple-signing signatures with a key, as `cosign
//! verify --key` does: a signature counts only when (1) its layer is a
//! simple-signing payload, (2) it carries a signature annotation, (3) that
//! signature verifies over the payload bytes with the key, (4) the payload
//! parses as an image signature, (5) it names this image's digest, (6) with
//! `strict_reference`, this repository, and (7) it holds every required
//! annotation. The first failing check is recorded per signature; the
//! image passes only when at least one signature passes them all.

use std::collections::BTreeMap;

use customs_types::Digest;
use serde::Serialize;

use crate::simple_signing::{MEDIA_TYPE, Payload, SIGNATURE_ANNOTATION};
use crate::{PublicKey, VerifyError};

/// One signature as found next to an image.
#[derive(Debug, Clone)]
pub struct SignatureLayer {
    /// Where it was found (`registry/repo:sha256-….sig`, layer N).
    pub source: String,
    /// The layer's media type.
    pub media_type: String,
    /// The layer blob (already verified against its descriptor's digest).
    pub payload: Vec<u8>,
    /// The layer descriptor's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Where a signature or attestation was found and whether it passed every
/// check: `verified` and `failure` are written from the one outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Where it was found.
    pub source: String,
    /// Whether it passed every check.
    pub verified: bool,
    /// The first check it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(skip)]
    error: Option<VerifyError>,
}

impl Check {
    fn new(source: &str, outcome: Result<(), VerifyError>) -> Self {
        let error = outcome.err();
        Self {
            source: source.to_owned(),
            verified: error.is_none(),
            failure: error.as_ref().map(ToString::to_string),
            error,
        }
    }

    /// `verified`, or the check it failed, for people.
    #[must_use]
    pub fn outcome(&self) -> &str {
        self.failure.as_deref().unwrap_or("verified")
    }

    /// The check it failed, as data.
    #[must_use]
    pub fn error(&self) -> Option<&VerifyError> {
        self.error.as_ref()
    }
}

/// What became of one signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureResult {
    /// Where it was found, and whether it verified.
    #[serde(flatten)]
    pub check: Check,
    /// The repository it was signed for, when the payload could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_reference: Option<String>,
    /// Whether that repository is the one verified (reported either way).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_matches: Option<bool>,
    /// The payload's `optional` annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// The verification of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageVerification {
    /// The image's digest.
    pub digest: String,
    /// Every signature, in the order found.
    pub signatures: Vec<SignatureResult>,
}

impl ImageVerification {
    /// Whether at least one signature passed every check.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.signatures.iter().any(|s| s.check.verified)
    }

    /// Why the image did not pass: no signature at all, or the failure of
    /// the signature that got furthest (the most telling one).
    #[must_use]
    pub fn failure(&self) -> Option<VerifyError> {
        furthest(
            self.passed(),
            self.signatures.iter().map(|s| s.check.error()),
        )
    }
}

/// `None` when something passed; else the failure that got furthest
/// through the checks, or [`VerifyError::NoSignature`] when there was
/// nothing to check.
fn furthest<'a>(
    passed: bool,
    errors: impl Iterator<Item = Option<&'a VerifyError>>,
) -> Option<VerifyError> {
    if passed {
        return None;
    }
    let progress = |e: &VerifyError| match e {
        VerifyError::NoSignature | VerifyError::NotASignature(_) => 0,
        VerifyError::MissingSignature | VerifyError::BadEncoding => 1,
        VerifyError::WrongKeyOrPayload | VerifyError::Bundle { .. } => 2,
        VerifyError::MalformedPayload(_) => 3,
        VerifyError::OtherDigest { .. } => 4,
        VerifyError::OtherReference { .. } | VerifyError::AnnotationMissing { .. } => 5,
    };
    errors
        .flatten()
        .max_by_key(|e| progress(e))
        .cloned()
        .or(Some(VerifyError::NoSignature))
}

/// What to verify against.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    /// The image's manifest digest.
    pub digest: &'a Digest,
    /// The repository verified (`registry/repository`), compared with each
    /// payload's `docker-reference`.
    pub repository: Option<&'a str>,
    /// Fail a signature made for another repository (else it is reported).
    pub strict_reference: bool,
    /// `-a key=value` annotations every accepted payload must hold.
    pub annotations: &'a [(String, String)],
}

/// Checks every signature layer; see the module documentation.
#[must_use]
pub fn verify_image(
    layers: &[SignatureLayer],
    key: &PublicKey,
    expect: &Expectations<'_>,
) -> ImageVerification {
    let signatures = layers
        .iter()
        .map(|layer| check(layer, key, expect))
        .collect();
    ImageVerification {
        digest: expect.digest.to_string(),
        signatures,
    }
}

fn check(layer: &SignatureLayer, key: &PublicKey, expect: &Expectations<'_>) -> SignatureResult {
    let mut result = SignatureResult {
        check: Check::new(&layer.source, Err(VerifyError::NoSignature)),
        docker_reference: None,
        reference_matches: None,
        annotations: None,
    };
    let outcome = (|| {
        if layer.media_type != MEDIA_TYPE {
            return Err(VerifyError::NotASignature(layer.media_type.clone()));
        }
        let signature = layer
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .ok_or(VerifyError::MissingSignature)?;
        key.verify_base64(&layer.payload, signature)?;
        let payload = Payload::parse(&layer.payload)
            .map_err(|e| VerifyError::MalformedPayload(e.to_string()))?;
        result.docker_reference = Some(payload.docker_reference.clone());
        result.annotations.clone_from(&payload.optional);
        if &payload.manifest_digest != expect.digest {
            return Err(VerifyError::OtherDigest {
                expected: expect.digest.to_string(),
                found: payload.manifest_digest.to_string(),
            });
        }
        if let Some(repository) = expect.repository {
            let matches = same_repository(&payload.docker_reference, repository);
            result.reference_matches = Some(matches);
            if !matches && expect.strict_reference {
                return Err(VerifyError::OtherReference {
                    expected: repository.to_owned(),
                    found: payload.docker_reference.clone(),
                });
            }
        }
        for (k, v) in expect.annotations {
            let held = payload
                .optional
                .as_ref()
                .and_then(|o| o.get(k))
                .is_some_and(|held| match held {
                    serde_json::Value::String(text) => text == v,
                    // `-a n=1` matches a number or boolean written by another signer.
                    other => serde_json::to_string(other).is_ok_and(|text| text == *v),
                });
            if !held {
                return Err(VerifyError::AnnotationMissing {
                    key: k.clone(),
                    value: v.clone(),
                });
            }
        }
        Ok(())
    })();
    result.check = Check::new(&layer.source, outcome);
    result
}

/// `docker.io/library/x` and `index.docker.io/library/x` are one
/// repository; tags and digests are not part of it.
fn same_repository(signed: &str, verified: &str) -> bool {
    let normal = |r: &str| {
        let r = r.split('@').next().unwrap_or(r);
        let last_slash = r.rfind('/').map_or(0, |i| i + 1);
        let r = match r[last_slash..].rfind(':') {
            Some(i) => &r[..last_slash + i],
            None => r,
        };
        r.strip_prefix("index.docker.io/")
            .map_or_else(|| r.to_owned(), |rest| format!("docker.io/{rest}"))
    };
    normal(signed) == normal(verified)
}

/// What became of one attestation.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationResult {
    /// Where it was found, and whether it verified.
    #[serde(flatten)]
    pub check: Check,
    /// The statement's predicate type, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The statement, once its signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<crate::intoto::Statement>,
}

/// The attestations of one image, checked.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationVerification {
    /// The image's digest.
    pub digest: String,
    /// Every attestation found (of the asked type, when one was).
    pub attestations: Vec<AttestationResult>,
}

impl AttestationVerification {
    /// Whether at least one attestation passed every check.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.attestations.iter().any(|a| a.check.verified)
    }

    /// Why none passed (the failure that got furthest), or `None`.
    #[must_use]
    pub fn failure(&self) -> Option<VerifyError> {
        furthest(
            self.passed(),
            self.attestations.iter().map(|a| a.check.error()),
        )
    }
}

/// Checks every attestation layer: (1) a DSSE envelope layer, (2) that
/// parses, (3) whose signature verifies with `key` over the PAE, (4) with
/// an in-toto payload, (5) whose statement is about this digest, and (6)
/// of `predicate_type` when one is asked (others are left out).
#[must_use]
pub fn verify_attestations(
    layers: &[SignatureLayer],
    key: &PublicKey,
    digest: &Digest,
    predicate_type: Option<&str>,
) -> AttestationVerification {
    let mut attestations = Vec::new();
    for layer in layers {
        let mut result = AttestationResult {
            check: Check::new(&layer.source, Err(VerifyError::NoSignature)),
            predicate_type: layer.annotations.get("predicateType").cloned(),
            statement: None,
        };
        let outcome = (|| {
            if layer.media_type != crate::dsse::MEDIA_TYPE {
                return Err(VerifyError::NotASignature(layer.media_type.clone()));
            }
            let envelope = crate::dsse::Envelope::parse(&layer.payload)?;
            let payload = envelope.verify(key)?;
            if envelope.payload_type != crate::dsse::IN_TOTO {
                return Err(VerifyError::MalformedPayload(format!(
                    "payload type `{}`, not an in-toto statement",
                    envelope.payload_type
                )));
            }
            let statement: crate::intoto::Statement =
                serde_json::from_slice(&payload).map_err(|e| {
                    VerifyError::MalformedPayload(format!("not an in-toto statement: {e}"))
                })?;
            result.predicate_type = Some(statement.predicate_type.clone());
            if !statement.is_about(digest) {
                let found = statement
                    .subject
                    .iter()
                    .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(VerifyError::OtherDigest {
                    expected: digest.to_string(),
                    found,
                });
            }
            result.statement = Some(statement);
            Ok(())
        })();
        result.check = Check::new(&layer.source, outcome);
        if predicate_type.is_some_and(|t| result.predicate_type.as_deref() != Some(t)) {
            continue;
        }
        attestations.push(result);
    }
    AttestationVerification {
        digest: digest.to_string(),
        attestations,
    }
}
