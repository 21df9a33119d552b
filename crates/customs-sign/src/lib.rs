//! Signatures customs makes and checks, in cosign's formats byte for byte.
//!
//! - [`keys`]: ECDSA P-256 keys; cosign's encrypted private key file
//!   (`ENCRYPTED SIGSTORE PRIVATE KEY`: scrypt + NaCl secretbox in a JSON
//!   envelope), plain PKCS#8 and SEC1 PEM, PKIX public keys.
//! - [`simple_signing`]: the payload `cosign sign` signs for an image.
//!
//! A verification either succeeds or names the check that failed
//! ([`VerifyError`]); nothing passes by default.

pub mod bundle;
pub mod dsse;
pub mod intoto;
pub mod keys;
pub mod provenance;
mod provider;
pub mod simple_signing;
pub mod verify;

pub use bundle::{
    Artifact, Bundle, BundleCheck, BundleError, Identity, Matcher, Signer, TrustRoot,
};
pub use dsse::Envelope;
pub use keys::{KeyError, PrivateKey, PublicKey};
pub use simple_signing::{Payload, PayloadError};
pub use verify::{
    AttestationVerification, Check, Expectations, ImageVerification, SignatureLayer,
    SignatureResult, Trust, verify_attestations, verify_image,
};

/// Why a signature did not verify: each check has its own variant, so a
/// caller (and the exit code 3 the CLI gives) can say which failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Nothing was found to verify.
    #[error("no signature found")]
    NoSignature,
    /// A layer that is not a simple-signing payload (an attachment).
    #[error("not a signature: media type `{0}`")]
    NotASignature(String),
    /// A simple-signing layer without its signature annotation.
    #[error("the layer has no `dev.cosignproject.cosign/signature` annotation")]
    MissingSignature,
    /// The signature is not base64 or not a DER ECDSA signature.
    #[error("the signature is not a base64 DER ECDSA signature")]
    BadEncoding,
    /// The signature does not verify with this key over these bytes.
    #[error(
        "the signature does not verify with the given key (wrong key, or the payload was changed)"
    )]
    WrongKeyOrPayload,
    /// The signed payload cannot be read.
    #[error("the signed payload is malformed: {0}")]
    MalformedPayload(String),
    /// A valid signature, but over another image.
    #[error("the signature is for {found}, not {expected}")]
    OtherDigest {
        /// The image verified.
        expected: String,
        /// The digest the payload names.
        found: String,
    },
    /// A valid signature made for another repository (`--strict-reference`).
    #[error("the signature was made for repository {found}, not {expected}")]
    OtherReference {
        /// The repository verified.
        expected: String,
        /// The payload's `docker-reference`.
        found: String,
    },
    /// A Sigstore bundle failed one of its checks (`check`: identity,
    /// issuer, signature, artifact, certificate, transparency log,
    /// timestamp, trusted root, bundle, key).
    #[error("{check} check failed: {detail}")]
    Bundle {
        /// Which check.
        check: &'static str,
        /// What it found.
        detail: String,
    },
    /// A required `-a key=value` annotation is missing or different.
    #[error("the payload lacks the required annotation {key}={value}")]
    AnnotationMissing {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}
