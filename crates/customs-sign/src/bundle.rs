//! Sigstore bundles (`application/vnd.dev.sigstore.bundle*+json`, v0.1 to
//! v0.3): what `cosign sign-blob --bundle` writes, what cosign v3 stores as an
//! OCI 1.1 referrer, and what the Sigstore conformance suite verifies.
//!
//! Verification is `sigstore-verify`'s (Fulcio chain, SCTs, Rekor v1/v2
//! inclusion proofs, checkpoints and signed entry timestamps, RFC 3161
//! timestamps, the certificate's validity at the signing time) against a
//! trusted root given by the caller, never fetched. customs adds the identity
//! and issuer regular expressions cosign offers and turns each failure into
//! the check that failed. Signing makes a v0.3 bundle with a key (a public
//! key hint, no transparency log entry: nothing is uploaded).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use sigstore_verify::trust_root::{SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot};
use sigstore_verify::types::bundle::{
    MessageDigest, MessageSignature, PublicKeyIdentifier, SignatureContent, VerificationMaterial,
    VerificationMaterialContent,
};
use sigstore_verify::types::{
    self as st, DerPublicKey, DigestBytes, HashAlgorithm, MediaType, Sha256Hash, SignatureBytes,
};
use sigstore_verify::{
    Error as SigstoreError, PublicKeyVerificationPolicy, VerificationPolicy, Verifier,
};

use customs_types::Digest;

use crate::dsse::{self, Envelope};
use crate::keys::{PrivateKey, PublicKey};
use crate::{VerifyError, provider};

/// The media type of the bundles customs writes.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A bundle larger than this is refused before parsing (real ones are a
/// few kilobytes; a DSSE SBOM attestation a few megabytes).
pub const MAX_BUNDLE_BYTES: usize = 64 << 20;

/// A bundle or trusted root that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct BundleError {
    /// The input (a file name, a registry location).
    pub what: String,
    /// What is wrong with it.
    pub reason: String,
}

fn malformed(what: &str, reason: impl Into<String>) -> BundleError {
    BundleError {
        what: what.to_owned(),
        reason: reason.into(),
    }
}

/// The keys and certificates keyless verification trusts: Sigstore's
/// `trusted_root.json`.
pub struct TrustRoot {
    verifier: Verifier,
    name: String,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("name", &self.name)
            .finish()
    }
}

impl TrustRoot {
    /// The Sigstore public-good production root as built into customs (an
    /// offline copy: pass a current one with `--trusted-root` after a key
    /// rotation).
    ///
    /// # Errors
    /// Never in practice (the embedded root is valid).
    pub fn production() -> Result<Self, BundleError> {
        Self::from_json(
            SIGSTORE_PRODUCTION_TRUSTED_ROOT,
            "the built-in Sigstore public-good trusted root",
        )
    }

    /// Reads a `trusted_root.json`.
    ///
    /// # Errors
    /// [`BundleError`] naming `what` when it is not a usable trusted root
    /// (bad JSON, a malformed key, a validity window without a start).
    pub fn from_json(json: &str, what: &str) -> Result<Self, BundleError> {
        provider::install();
        let root = TrustedRoot::from_json(json)
            .map_err(|e| malformed(what, format!("not a Sigstore trusted root: {e}")))?;
        let verifier = Verifier::new(&root)
            .map_err(|e| malformed(what, format!("unusable trusted root: {e}")))?;
        Ok(Self {
            verifier,
            name: what.to_owned(),
        })
    }

    /// Where the root came from.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A parsed Sigstore bundle.
#[derive(Debug, Clone)]
pub struct Bundle(st::Bundle);

/// Who must have signed: a key, or a Fulcio certificate identity.
#[derive(Debug, Clone, Copy)]
pub enum Signer<'a> {
    /// A managed key (`--key`).
    Key(&'a PublicKey),
    /// A certificate identity and issuer (keyless).
    Keyless(&'a Identity),
}

/// How a certificate identity or issuer is matched.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this string (`--certificate-identity`).
    Exact(String),
    /// Matches this regular expression anywhere in the value, as cosign's
    /// (Go's `regexp.MatchString`): anchor it with `^…$` to match all of it.
    Regex(regex::Regex),
}

impl Matcher {
    /// Whether `value` satisfies the matcher.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == value,
            Self::Regex(regex) => regex.is_match(value),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(value) => f.write_str(value),
            Self::Regex(regex) => write!(f, "/{}/", regex.as_str()),
        }
    }
}

/// The keyless signer a verification requires.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate's subject alternative name (email, URI).
    pub identity: Matcher,
    /// The OIDC issuer that vouched for it.
    pub issuer: Matcher,
}

/// What a bundle is verified against.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// Its SHA-256 digest (an image manifest digest, or `sha256:<hex>` given
    /// for a file).
    Sha256([u8; 32]),
}

/// A verified bundle: who signed, and what was checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundleCheck {
    /// The certificate identity, or `key` for a managed key.
    pub signer: String,
    /// The OIDC issuer, for a certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Whether a Fulcio certificate chain was verified.
    pub certificate: bool,
    /// Whether a transparency log entry was verified.
    pub transparency_log: bool,
    /// The verified signing times (Rekor integrated time, RFC 3161), RFC 3339.
    pub signed_at: Vec<String>,
}

impl Bundle {
    /// Reads a bundle's JSON.
    ///
    /// # Errors
    /// [`BundleError`] naming `what`: too large, not UTF-8, not a bundle.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Self, BundleError> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(malformed(
                what,
                format!(
                    "{} bytes is more than a Sigstore bundle may be ({MAX_BUNDLE_BYTES})",
                    bytes.len()
                ),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(what, "not UTF-8 JSON"))?;
        st::Bundle::from_json(text)
            .map(Self)
            .map_err(|e| malformed(what, format!("not a Sigstore bundle: {e}")))
    }

    /// The JSON, as cosign writes it (camelCase protobuf JSON).
    ///
    /// # Errors
    /// Serialisation errors (none in practice).
    pub fn to_json(&self) -> Result<String, BundleError> {
        self.0
            .to_json()
            .map_err(|e| malformed("bundle", e.to_string()))
    }

    /// The bundle's media type.
    #[must_use]
    pub fn media_type(&self) -> &'static str {
        self.0.media_type.as_str()
    }

    /// The DSSE envelope a bundle holds (attestations, cosign v3 image
    /// signatures), or `None` for a message signature.
    #[must_use]
    pub fn envelope(&self) -> Option<Envelope> {
        match &self.0.content {
            SignatureContent::DsseEnvelope(envelope) => Some(Envelope {
                payload_type: envelope.payload_type.clone(),
                payload: STANDARD.encode(envelope.payload.as_bytes()),
                signatures: vec![dsse::Signature {
                    keyid: envelope.signature.keyid.to_string(),
                    sig: STANDARD.encode(envelope.signature.sig.as_bytes()),
                }],
            }),
            _ => None,
        }
    }

    /// A v0.3 bundle with a message signature over `data`, made with `key`:
    /// what `cosign sign-blob --key K --bundle B --tlog-upload=false` writes.
    ///
    /// # Errors
    /// Key encoding errors (none in practice).
    pub fn sign_blob(key: &PrivateKey, data: &[u8]) -> Result<Self, BundleError> {
        let digest = Sha256::digest(data);
        let signature = key.sign(data);
        let content = SignatureContent::MessageSignature(
            MessageSignature::new(SignatureBytes::new(signature)).with_message_digest(
                MessageDigest::new(HashAlgorithm::Sha2256, DigestBytes::new(digest.to_vec())),
            ),
        );
        Ok(Self(st::Bundle::new(
            MediaType::Bundle0_3,
            key_material(&key.public_key())?,
            content,
        )))
    }

    /// A v0.3 bundle holding a DSSE envelope of `payload`, signed with
    /// `key` (cosign v3's image signatures and attestations).
    ///
    /// # Errors
    /// Key encoding errors (none in practice), or an envelope the bundle
    /// types refuse.
    pub fn sign_dsse(
        key: &PrivateKey,
        payload_type: &str,
        payload: &[u8],
    ) -> Result<Self, BundleError> {
        let signature = key.sign(&dsse::pae(payload_type, payload));
        let envelope = st::DsseEnvelope::new(
            payload_type,
            st::PayloadBytes::new(payload.to_vec()),
            st::DsseSignature::new(SignatureBytes::new(signature), st::KeyId::new("")),
        );
        Ok(Self(st::Bundle::new(
            MediaType::Bundle0_3,
            key_material(&key.public_key())?,
            SignatureContent::DsseEnvelope(envelope),
        )))
    }

    /// Verifies the bundle over `artifact`, made by `signer`, against
    /// `root` (which also checks the transparency log entries a key-signed
    /// bundle carries; a key-signed bundle without one verifies on the key
    /// alone, as customs's image signatures do).
    ///
    /// # Errors
    /// [`VerifyError::Bundle`] naming the check that failed.
    pub fn verify(
        &self,
        artifact: Artifact<'_>,
        signer: Signer<'_>,
        root: &TrustRoot,
    ) -> Result<BundleCheck, VerifyError> {
        let input = match artifact {
            Artifact::Bytes(bytes) => sigstore_verify::types::Artifact::from(bytes),
            Artifact::Sha256(digest) => {
                sigstore_verify::types::Artifact::from(Sha256Hash::new(digest))
            }
        };
        match signer {
            Signer::Key(key) => {
                let material = &self.0.verification_material;
                if material.tlog_entries.is_empty()
                    && material
                        .timestamp_verification_data
                        .rfc3161_timestamps
                        .is_empty()
                {
                    return self.verify_key_only(artifact, key);
                }
                let der = key.to_der().map_err(|e| failed("key", e.to_string()))?;
                let policy = PublicKeyVerificationPolicy::new(DerPublicKey::new(der));
                let result = root
                    .verifier
                    .verify(input, &self.0, &policy)
                    .map_err(from_sigstore)?;
                Ok(BundleCheck {
                    signer: "key".to_owned(),
                    issuer: None,
                    certificate: false,
                    transparency_log: result.tlog_verified(),
                    signed_at: times(&result),
                })
            }
            Signer::Keyless(wanted) => {
                let mut policy = VerificationPolicy::any_identity();
                if let Matcher::Exact(identity) = &wanted.identity {
                    policy = policy.require_identity(identity.as_str());
                }
                if let Matcher::Exact(issuer) = &wanted.issuer {
                    policy = policy.require_issuer(issuer.as_str());
                }
                let result = root
                    .verifier
                    .verify(input, &self.0, &policy)
                    .map_err(from_sigstore)?;
                let identity = result
                    .identity()
                    .map(|san| san.as_str().to_owned())
                    .ok_or_else(|| failed("identity", "the certificate names no identity"))?;
                let issuer = result.issuer().map(str::to_owned).unwrap_or_default();
                if !wanted.identity.matches(&identity) {
                    return Err(failed(
                        "identity",
                        format!("the certificate is for {identity}, not {}", wanted.identity),
                    ));
                }
                if !wanted.issuer.matches(&issuer) {
                    return Err(failed(
                        "issuer",
                        format!(
                            "the certificate was issued for {issuer}, not {}",
                            wanted.issuer
                        ),
                    ));
                }
                if !result.certificate_verified() {
                    return Err(failed(
                        "certificate",
                        "the certificate chain was not verified",
                    ));
                }
                Ok(BundleCheck {
                    signer: identity,
                    issuer: Some(issuer),
                    certificate: true,
                    transparency_log: result.tlog_verified(),
                    signed_at: times(&result),
                })
            }
        }
    }
}

impl Bundle {
    /// A key-signed bundle with no transparency log entry nor timestamp
    /// (what `cosign sign-blob --key --tlog-upload=false` and customs
    /// write): the signature with the key, and the artifact's digest.
    fn verify_key_only(
        &self,
        artifact: Artifact<'_>,
        key: &PublicKey,
    ) -> Result<BundleCheck, VerifyError> {
        if !matches!(
            self.0.verification_material.content,
            VerificationMaterialContent::PublicKey(_)
        ) {
            return Err(failed(
                "bundle",
                "a certificate-signed bundle without a transparency log entry or timestamp cannot be verified",
            ));
        }
        let digest = match artifact {
            Artifact::Bytes(bytes) => Digest::sha256(bytes),
            Artifact::Sha256(digest) => Digest::from_sha256(digest),
        };
        match &self.0.content {
            SignatureContent::MessageSignature(message) => {
                if let Some(claimed) = &message.message_digest
                    && (claimed.algorithm != HashAlgorithm::Sha2256
                        || claimed.digest.as_bytes() != digest.to_bytes().as_slice())
                {
                    return Err(failed(
                        "artifact",
                        format!("the bundle signs another artifact than {digest}"),
                    ));
                }
                let signature = message.signature.as_bytes();
                match artifact {
                    Artifact::Bytes(bytes) => key.verify(bytes, signature),
                    Artifact::Sha256(raw) => key.verify_prehash(&raw, signature),
                }
                .map_err(|e| failed("signature", e.to_string()))?;
            }
            SignatureContent::DsseEnvelope(_) => {
                let envelope = self
                    .envelope()
                    .ok_or_else(|| failed("bundle", "no DSSE envelope"))?;
                let payload = envelope
                    .verify(key)
                    .map_err(|e| failed("signature", e.to_string()))?;
                if envelope.payload_type != dsse::IN_TOTO {
                    return Err(failed(
                        "bundle",
                        format!(
                            "payload type `{}` is not an in-toto statement",
                            envelope.payload_type
                        ),
                    ));
                }
                let statement: crate::intoto::Statement = serde_json::from_slice(&payload)
                    .map_err(|e| failed("bundle", format!("not an in-toto statement: {e}")))?;
                if !statement.is_about(&digest) {
                    return Err(failed(
                        "artifact",
                        format!("the statement is not about {digest}"),
                    ));
                }
            }
            _ => return Err(failed("bundle", "unsupported bundle content")),
        }
        Ok(BundleCheck {
            signer: "key".to_owned(),
            issuer: None,
            certificate: false,
            transparency_log: false,
            signed_at: Vec::new(),
        })
    }
}

fn key_material(key: &PublicKey) -> Result<VerificationMaterial, BundleError> {
    let der = key.to_der().map_err(|e| malformed("key", e.to_string()))?;
    let hint = STANDARD.encode(Sha256::digest(&der));
    Ok(VerificationMaterial::new(
        VerificationMaterialContent::PublicKey(PublicKeyIdentifier::new(hint)),
    ))
}

fn times(result: &sigstore_verify::VerificationResult) -> Vec<String> {
    let mut times: Vec<String> = result
        .verified_timestamps()
        .iter()
        .map(ToString::to_string)
        .collect();
    times.sort();
    times.dedup();
    times
}

fn failed(check: &'static str, detail: impl Into<String>) -> VerifyError {
    VerifyError::Bundle {
        check,
        detail: detail.into(),
    }
}

/// Names the check a `sigstore-verify` error is about.
fn from_sigstore(error: SigstoreError) -> VerifyError {
    let check = match &error {
        SigstoreError::IdentityMismatch { .. } => "identity",
        SigstoreError::IssuerMismatch { .. } => "issuer",
        SigstoreError::SignatureInvalid(_) => "signature",
        SigstoreError::ArtifactMismatch(_) | SigstoreError::UnsupportedArtifact(_) => "artifact",
        SigstoreError::Certificate(_) => "certificate",
        SigstoreError::TransparencyLog(_) => "transparency log",
        SigstoreError::Timestamp(_) => "timestamp",
        SigstoreError::InvalidTrustRoot(_) => "trusted root",
        _ => "bundle",
    };
    failed(check, error.to_string())
}

/// The annotation of a legacy keyless signature's PEM certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The annotation of its Rekor entry (`SignedEntryTimestamp` + `Payload`).
pub const REKOR_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

impl Bundle {
    /// The v0.1 bundle equivalent to a cosign legacy signature layer (what
    /// `cosign sign` wrote before v3, keyless): the signature annotation,
    /// the PEM certificate (`dev.sigstore.cosign/certificate`) and the Rekor
    /// entry with its signed entry timestamp (`dev.sigstore.cosign/bundle`),
    /// over `payload` (simple signing) or a DSSE `envelope` (`.att`).
    /// Only the leaf certificate is kept: the chain comes from the trusted
    /// root, never from the signature.
    ///
    /// # Errors
    /// [`VerifyError::Bundle`] naming what is missing or malformed.
    pub fn from_legacy(
        annotations: &std::collections::BTreeMap<String, String>,
        payload: &[u8],
        dsse_envelope: bool,
    ) -> Result<Self, VerifyError> {
        let certificate = annotations.get(CERTIFICATE_ANNOTATION).ok_or_else(|| {
            failed(
                "certificate",
                "the signature has no certificate (dev.sigstore.cosign/certificate): it was made with a key, verify it with --key",
            )
        })?;
        let (label, der) = crate::keys::pem_block(certificate, "the signature's certificate")
            .map_err(|e| failed("certificate", e.to_string()))?;
        if label != "CERTIFICATE" {
            return Err(failed(
                "certificate",
                format!("a `{label}` PEM block is not a certificate"),
            ));
        }
        let rekor = annotations.get(REKOR_ANNOTATION).ok_or_else(|| {
            failed(
                "transparency log",
                "the keyless signature has no Rekor entry (dev.sigstore.cosign/bundle)",
            )
        })?;
        let rekor: RekorBundle = serde_json::from_str(rekor)
            .map_err(|e| failed("transparency log", format!("malformed Rekor entry: {e}")))?;
        let body = STANDARD
            .decode(&rekor.payload.body)
            .map_err(|_| failed("transparency log", "the Rekor entry body is not base64"))?;
        let kind: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| failed("transparency log", format!("the Rekor entry body: {e}")))?;
        let log_id = customs_types::decode_hex(&rekor.payload.log_id)
            .ok_or_else(|| failed("transparency log", "the Rekor log ID is not hex"))?;
        let entry = serde_json::json!({
            "logIndex": rekor.payload.log_index.to_string(),
            "logId": {"keyId": STANDARD.encode(log_id)},
            "kindVersion": {"kind": kind["kind"], "version": kind["apiVersion"]},
            "integratedTime": rekor.payload.integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": rekor.signed_entry_timestamp},
            "canonicalizedBody": rekor.payload.body,
        });
        let mut bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "x509CertificateChain": {"certificates": [{"rawBytes": STANDARD.encode(der)}]},
                "tlogEntries": [entry],
            },
        });
        if dsse_envelope {
            let envelope: serde_json::Value = serde_json::from_slice(payload)
                .map_err(|e| failed("bundle", format!("not a DSSE envelope: {e}")))?;
            bundle["dsseEnvelope"] = envelope;
        } else {
            let signature = annotations
                .get(crate::simple_signing::SIGNATURE_ANNOTATION)
                .ok_or(VerifyError::MissingSignature)?;
            bundle["messageSignature"] = serde_json::json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(Sha256::digest(payload))},
                "signature": signature.trim(),
            });
        }
        let text = serde_json::to_vec(&bundle).map_err(|e| failed("bundle", e.to_string()))?;
        Self::parse(&text, "the legacy signature").map_err(|e| failed("bundle", e.to_string()))
    }
}
