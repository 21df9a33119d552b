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

use crate::bundle::{Artifact, BUNDLE_V03, Bundle, Signer, TrustRoot};
use crate::intoto::{SIGN_PREDICATE, Statement};
use crate::simple_signing::{MEDIA_TYPE, Payload, SIGNATURE_ANNOTATION};
use crate::{Envelope, VerifyError};

/// Who must have signed (a key, or a certificate identity), and the
/// Sigstore trusted root that certificates, transparency log entries and
/// timestamps are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a> {
    /// The signer.
    pub signer: Signer<'a>,
    /// The trusted root.
    pub root: &'a TrustRoot,
}

/// Whether a layer holds a Sigstore bundle (cosign v3's referrers).
fn is_bundle(media_type: &str) -> bool {
    media_type == BUNDLE_V03 || media_type.starts_with("application/vnd.dev.sigstore.bundle")
}

/// The 32 bytes of a sha256 digest (a sha512 image digest has none: the
/// bundle check then fails naming the artifact).
fn sha256_bytes(digest: &Digest) -> Result<[u8; 32], VerifyError> {
    digest
        .to_bytes()
        .try_into()
        .ok()
        .filter(|_| digest.algorithm() == customs_types::Algorithm::Sha256)
        .ok_or_else(|| VerifyError::Bundle {
            check: "artifact",
            detail: format!("{digest} is not a sha256 digest"),
        })
}

/// A statement from a verified DSSE payload.
fn statement(payload: &[u8]) -> Result<Statement, VerifyError> {
    serde_json::from_slice(payload)
        .map_err(|e| VerifyError::MalformedPayload(format!("not an in-toto statement: {e}")))
}

/// Verifies a Sigstore bundle layer about `digest` and returns its
/// statement (the signer recorded in `signer`).
fn bundle_statement(
    layer: &SignatureLayer,
    trust: Trust<'_>,
    digest: &Digest,
    signer: &mut Option<String>,
) -> Result<Statement, VerifyError> {
    let bundle = Bundle::parse(&layer.payload, &layer.source).map_err(|e| VerifyError::Bundle {
        check: "bundle",
        detail: e.to_string(),
    })?;
    let verified = bundle.verify(
        Artifact::Sha256(sha256_bytes(digest)?),
        trust.signer,
        trust.root,
    )?;
    *signer = Some(verified.signer);
    let envelope = bundle
        .envelope()
        .ok_or_else(|| VerifyError::NotASignature("a message-signature bundle".to_owned()))?;
    statement(&envelope.payload_bytes()?)
}

/// Verifies a DSSE envelope layer (`.att`) — with a key over the PAE, or
/// keyless through its legacy certificate and Rekor annotations — and
/// returns its in-toto statement (the signer recorded in `signer`).
fn envelope_statement(
    layer: &SignatureLayer,
    trust: Trust<'_>,
    digest: &Digest,
    signer: &mut Option<String>,
) -> Result<Statement, VerifyError> {
    let envelope = Envelope::parse(&layer.payload)?;
    let payload = match trust.signer {
        Signer::Key(key) => {
            let payload = envelope.verify(key)?;
            *signer = Some("key".to_owned());
            payload
        }
        Signer::Keyless(_) => {
            let bundle = Bundle::from_legacy(&layer.annotations, &layer.payload, true)?;
            let verified = bundle.verify(
                Artifact::Sha256(sha256_bytes(digest)?),
                trust.signer,
                trust.root,
            )?;
            *signer = Some(verified.signer);
            envelope.payload_bytes()?
        }
    };
    if envelope.payload_type != crate::dsse::IN_TOTO {
        return Err(VerifyError::MalformedPayload(format!(
            "payload type `{}`, not an in-toto statement",
            envelope.payload_type
        )));
    }
    statement(&payload)
}

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

impl SignatureLayer {
    /// Whether the layer is a Sigstore bundle (a cosign v3 referrer).
    #[must_use]
    pub fn is_bundle(&self) -> bool {
        is_bundle(&self.media_type)
    }

    /// The JSON the layer signs, unverified, for listing: a simple-signing
    /// payload, or the in-toto statement of a DSSE envelope or a bundle.
    #[must_use]
    pub fn statement(&self) -> Option<serde_json::Value> {
        let payload = if self.is_bundle() {
            Bundle::parse(&self.payload, &self.source)
                .ok()?
                .envelope()?
                .payload_bytes()
                .ok()?
        } else if self.media_type == crate::dsse::MEDIA_TYPE {
            Envelope::parse(&self.payload).ok()?.payload_bytes().ok()?
        } else {
            self.payload.clone()
        };
        serde_json::from_slice(&payload).ok()
    }
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
    /// Who signed: `key`, or the certificate identity (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
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
    trust: Trust<'_>,
    expect: &Expectations<'_>,
) -> ImageVerification {
    let signatures = layers
        .iter()
        .map(|layer| check(layer, trust, expect))
        .collect();
    ImageVerification {
        digest: expect.digest.to_string(),
        signatures,
    }
}

/// What a verified signature says: the repository it was made for, the
/// digest it names, and its annotations.
struct Signed {
    docker_reference: Option<String>,
    digest: Digest,
    annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// Checks (1)–(4) of a simple-signing layer, with the key or keyless
/// through the legacy certificate and Rekor annotations.
fn simple_signing(
    layer: &SignatureLayer,
    trust: Trust<'_>,
    signer: &mut Option<String>,
) -> Result<Signed, VerifyError> {
    let signature = layer
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or(VerifyError::MissingSignature)?;
    match trust.signer {
        Signer::Key(key) => {
            key.verify_base64(&layer.payload, signature)?;
            *signer = Some("key".to_owned());
        }
        Signer::Keyless(_) => {
            let bundle = Bundle::from_legacy(&layer.annotations, &layer.payload, false)?;
            let verified =
                bundle.verify(Artifact::Bytes(&layer.payload), trust.signer, trust.root)?;
            *signer = Some(verified.signer);
        }
    }
    let payload =
        Payload::parse(&layer.payload).map_err(|e| VerifyError::MalformedPayload(e.to_string()))?;
    Ok(Signed {
        docker_reference: Some(payload.docker_reference),
        digest: payload.manifest_digest,
        annotations: payload.optional,
    })
}

/// A cosign v3 image signature: a bundle whose statement, about this
/// digest, has the predicate type `https://sigstore.dev/cosign/sign/v1`.
fn bundle_signature(
    layer: &SignatureLayer,
    trust: Trust<'_>,
    expect: &Expectations<'_>,
    signer: &mut Option<String>,
) -> Result<Signed, VerifyError> {
    let statement = bundle_statement(layer, trust, expect.digest, signer)?;
    if statement.predicate_type != SIGN_PREDICATE {
        return Err(VerifyError::NotASignature(format!(
            "an attestation ({})",
            statement.predicate_type
        )));
    }
    let subject = statement
        .subject_for(expect.digest)
        .ok_or_else(|| VerifyError::OtherDigest {
            expected: expect.digest.to_string(),
            found: "another subject".to_owned(),
        })?;
    Ok(Signed {
        docker_reference: (!subject.name.is_empty()).then(|| subject.name.clone()),
        digest: expect.digest.clone(),
        annotations: (!subject.annotations.is_empty()).then(|| subject.annotations.clone()),
    })
}

fn check(layer: &SignatureLayer, trust: Trust<'_>, expect: &Expectations<'_>) -> SignatureResult {
    let mut result = SignatureResult {
        check: Check::new(&layer.source, Err(VerifyError::NoSignature)),
        signer: None,
        docker_reference: None,
        reference_matches: None,
        annotations: None,
    };
    let outcome = (|| {
        let signed = if is_bundle(&layer.media_type) {
            bundle_signature(layer, trust, expect, &mut result.signer)?
        } else if layer.media_type == MEDIA_TYPE {
            simple_signing(layer, trust, &mut result.signer)?
        } else {
            return Err(VerifyError::NotASignature(layer.media_type.clone()));
        };
        result.docker_reference.clone_from(&signed.docker_reference);
        result.annotations.clone_from(&signed.annotations);
        if &signed.digest != expect.digest {
            return Err(VerifyError::OtherDigest {
                expected: expect.digest.to_string(),
                found: signed.digest.to_string(),
            });
        }
        if let (Some(repository), Some(signed_for)) = (expect.repository, &signed.docker_reference)
        {
            let matches = same_repository(signed_for, repository);
            result.reference_matches = Some(matches);
            if !matches && expect.strict_reference {
                return Err(VerifyError::OtherReference {
                    expected: repository.to_owned(),
                    found: signed_for.clone(),
                });
            }
        }
        for (k, v) in expect.annotations {
            let held = signed
                .annotations
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
    /// Who signed: `key`, or the certificate identity (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
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
    trust: Trust<'_>,
    digest: &Digest,
    predicate_type: Option<&str>,
) -> AttestationVerification {
    let mut attestations = Vec::new();
    for layer in layers {
        let mut result = AttestationResult {
            check: Check::new(&layer.source, Err(VerifyError::NoSignature)),
            signer: None,
            predicate_type: layer.annotations.get("predicateType").cloned(),
            statement: None,
        };
        let outcome = (|| {
            let statement = if is_bundle(&layer.media_type) {
                bundle_statement(layer, trust, digest, &mut result.signer)?
            } else if layer.media_type == crate::dsse::MEDIA_TYPE {
                envelope_statement(layer, trust, digest, &mut result.signer)?
            } else {
                return Err(VerifyError::NotASignature(layer.media_type.clone()));
            };
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
