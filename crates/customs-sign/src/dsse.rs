//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>): the
//! signature covers the pre-authentication encoding
//! `DSSEv1 SP len(type) SP type SP len(body) SP body`, never the JSON.
//! cosign and Sigstore put ASN.1 DER ECDSA signatures in `sig`; the spec's
//! own test vector uses raw `r || s`: both are read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::{PrivateKey, PublicKey, VerifyError};

/// The payload type of in-toto statements.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The layer media type of a DSSE envelope in an OCI image (cosign `.att`).
pub const MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The largest envelope read.
pub const MAX_ENVELOPE_BYTES: usize = 64 << 20;

/// The bytes a DSSE signature covers.
#[must_use]
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The key's id, as the signer named it (cosign writes `""`).
    #[serde(default)]
    pub keyid: String,
    /// Base64 signature over the PAE.
    pub sig: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 payload.
    pub payload: String,
    /// What the payload is.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// At least one.
    pub signatures: Vec<Signature>,
}

impl Envelope {
    /// Signs `payload` of `payload_type` with `key`.
    #[must_use]
    pub fn sign(payload_type: &str, payload: &[u8], key: &PrivateKey) -> Self {
        Self {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: vec![Signature {
                keyid: String::new(),
                sig: key.sign_base64(&pae(payload_type, payload)),
            }],
        }
    }

    /// Reads an envelope: JSON of the DSSE shape, with at least one
    /// signature and a base64 payload.
    ///
    /// # Errors
    /// [`VerifyError::MalformedPayload`] saying what is wrong (a truncated
    /// or garbled envelope never verifies).
    pub fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(VerifyError::MalformedPayload(format!(
                "the DSSE envelope is larger than {MAX_ENVELOPE_BYTES} bytes"
            )));
        }
        let envelope: Self = serde_json::from_slice(bytes)
            .map_err(|e| VerifyError::MalformedPayload(format!("not a DSSE envelope: {e}")))?;
        if envelope.signatures.is_empty() {
            return Err(VerifyError::MissingSignature);
        }
        envelope.payload_bytes()?;
        Ok(envelope)
    }

    /// The decoded payload.
    ///
    /// # Errors
    /// [`VerifyError::MalformedPayload`] when it is not base64.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, VerifyError> {
        STANDARD
            .decode(&self.payload)
            .map_err(|_| VerifyError::MalformedPayload("the DSSE payload is not base64".to_owned()))
    }

    /// The payload, when one of the signatures verifies with `key` over
    /// the PAE.
    ///
    /// # Errors
    /// The check that failed ([`VerifyError`]).
    pub fn verify(&self, key: &PublicKey) -> Result<Vec<u8>, VerifyError> {
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        let mut last = VerifyError::MissingSignature;
        for signature in &self.signatures {
            match key.verify_base64(&message, &signature.sig) {
                Ok(()) => return Ok(payload),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
