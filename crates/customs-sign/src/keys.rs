//! ECDSA P-256 keys in the forms cosign users have.
//!
//! cosign's private key file is a PEM block labelled `ENCRYPTED SIGSTORE
//! PRIVATE KEY` (older files: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is
//! the JSON envelope of secure-systems-lab's `encrypted` package:
//! `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":…},
//! "cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}` — the
//! PKCS#8 DER key sealed with XSalsa20-Poly1305 under scrypt(password,
//! salt). Public keys are PKIX `PUBLIC KEY` PEM.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::{Deserialize, Serialize};

use crate::VerifyError;

/// The PEM label cosign writes today.
pub const ENCRYPTED_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label of keys written by cosign before 2.0.
pub const LEGACY_ENCRYPTED_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// scrypt cost cosign uses: N = 2^15, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The most work a key file may ask of scrypt (N = 2^20, r·p ≤ 64): a
/// hostile file cannot make loading it take minutes or gigabytes.
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_SCRYPT_RP: u32 = 64;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PEM block this tool reads.
    #[error("{what}: {reason}")]
    Malformed {
        /// Names the key.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The password does not open the key.
    #[error("{what}: wrong password (or a damaged key file)")]
    WrongPassword {
        /// Names the key.
        what: String,
    },
    /// A key reference customs does not handle (`awskms://`, `gcpkms://`,
    /// `hashivault://`, `k8s://`, `pkcs11:`).
    #[error(
        "{what}: keys in a KMS or hardware token are not supported; export a PEM key or use env://VAR"
    )]
    NotSupported {
        /// The reference.
        what: String,
    },
    /// The system's random source failed.
    #[error("cannot get random bytes: {0}")]
    Random(String),
}

fn malformed(what: &str, reason: impl Into<String>) -> KeyError {
    KeyError::Malformed {
        what: what.to_owned(),
        reason: reason.into(),
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[allow(non_snake_case)] // the envelope's field names
struct ScryptParams {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// A private signing key.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

/// A public verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

fn random<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(bytes)
}

fn scrypt_key(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
    what: &str,
) -> Result<[u8; 32], KeyError> {
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|e| malformed(what, format!("invalid scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|e| malformed(what, format!("scrypt: {e}")))?;
    Ok(key)
}

/// PEM with 64-character lines, as Go's `pem.EncodeToMemory` writes it
/// (RFC 7468, through the `der` crate the keys already use).
fn pem(label: &str, body: &[u8]) -> Result<String, KeyError> {
    p256::pkcs8::der::pem::encode_string(label, LineEnding::LF, body)
        .map_err(|e| malformed(label, e.to_string()))
}

/// The first PEM block of `text`: its label and decoded body. Read the
/// way Go's `encoding/pem` reads it (any line width, text around the block),
/// not RFC 7468's strict form: cosign keys come from Go, and users' keys
/// from anything.
pub(crate) fn pem_block(text: &str, what: &str) -> Result<(String, Vec<u8>), KeyError> {
    let begin = text
        .find("-----BEGIN ")
        .ok_or_else(|| malformed(what, "no PEM block"))?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| malformed(what, "unterminated PEM header"))?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest
        .find(&end_marker)
        .ok_or_else(|| malformed(what, format!("no `{end_marker}`")))?;
    let body: String = rest[body_start..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = STANDARD
        .decode(body)
        .map_err(|_| malformed(what, format!("the {label} block is not base64")))?;
    Ok((label, bytes))
}

impl PrivateKey {
    /// A new random key.
    ///
    /// # Errors
    /// [`KeyError::Random`] when the system has no randomness to give.
    pub fn generate() -> Result<Self, KeyError> {
        loop {
            let bytes: [u8; 32] = random()?;
            // Rejection sampling: almost every 32-byte string is a scalar.
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return Ok(Self(key));
            }
        }
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey(*self.0.verifying_key())
    }

    /// cosign's encrypted key file for this key, sealed with `password`.
    ///
    /// # Errors
    /// [`KeyError`] when randomness or encoding fails.
    pub fn to_cosign_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        let what = "new key";
        let der = self
            .0
            .to_pkcs8_der()
            .map_err(|e| malformed(what, format!("PKCS#8: {e}")))?;
        let salt: [u8; 32] = random()?;
        let nonce: [u8; 24] = random()?;
        let key = scrypt_key(password, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, what)?;
        let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
        let sealed = cipher
            .encrypt(&nonce.into(), der.as_bytes())
            .map_err(|_| malformed(what, "sealing failed"))?;
        let envelope = Envelope {
            kdf: Kdf {
                name: "scrypt".to_owned(),
                params: ScryptParams {
                    N: 1 << SCRYPT_LOG_N,
                    r: SCRYPT_R,
                    p: SCRYPT_P,
                },
                salt: STANDARD.encode(salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".to_owned(),
                nonce: STANDARD.encode(nonce),
            },
            ciphertext: STANDARD.encode(sealed),
        };
        let json = serde_json::to_vec(&envelope).map_err(|e| malformed(what, e.to_string()))?;
        pem(ENCRYPTED_LABEL, &json)
    }

    /// Reads a private key: cosign's encrypted file (either label), or a
    /// plain PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM. `what`
    /// names it in errors; `password` opens an encrypted one.
    ///
    /// # Errors
    /// [`KeyError`] naming the key and what is wrong with it.
    pub fn from_pem(text: &str, password: &[u8], what: &str) -> Result<Self, KeyError> {
        let (label, body) = pem_block(text, what)?;
        match label.as_str() {
            ENCRYPTED_LABEL | LEGACY_ENCRYPTED_LABEL => {
                let der = open_envelope(&body, password, what)?;
                // cosign accepts only PKCS#8 inside (a SEC1 key is refused
                // there with "use ParseECPrivateKey instead"): so here.
                SigningKey::from_pkcs8_der(&der).map(Self).map_err(|_| {
                    malformed(
                        what,
                        "the encrypted key is not a PKCS#8 ECDSA P-256 key (cosign refuses it too)",
                    )
                })
            }
            "PRIVATE KEY" => SigningKey::from_pkcs8_der(&body)
                .map(Self)
                .map_err(|_| malformed(what, "not a PKCS#8 ECDSA P-256 private key")),
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&body)
                .map(|k| Self(SigningKey::from(k)))
                .map_err(|_| malformed(what, "not a SEC1 P-256 private key")),
            other => Err(malformed(
                what,
                format!("a `{other}` PEM block is not a private key customs reads"),
            )),
        }
    }

    /// Signs `message` (ECDSA P-256 over its SHA-256, as cosign does) and
    /// returns the DER signature.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.0.sign(message);
        let der: DerSignature = signature.to_der();
        der.as_bytes().to_vec()
    }

    /// [`PrivateKey::sign`], base64 as cosign stores it.
    #[must_use]
    pub fn sign_base64(&self, message: &[u8]) -> String {
        STANDARD.encode(self.sign(message))
    }
}

fn open_envelope(body: &[u8], password: &[u8], what: &str) -> Result<Vec<u8>, KeyError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(what, format!("not cosign's key envelope: {e}")))?;
    if envelope.kdf.name != "scrypt" || envelope.cipher.name != "nacl/secretbox" {
        return Err(malformed(
            what,
            format!(
                "unsupported encryption {}/{}",
                envelope.kdf.name, envelope.cipher.name
            ),
        ));
    }
    let n = envelope.kdf.params.N;
    if !n.is_power_of_two() || n < 2 {
        return Err(malformed(what, "scrypt N is not a power of two"));
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    let (r, p) = (envelope.kdf.params.r, envelope.kdf.params.p);
    if log_n > MAX_SCRYPT_LOG_N || r.saturating_mul(p) > MAX_SCRYPT_RP {
        return Err(malformed(
            what,
            "scrypt parameters ask for more work than any real key",
        ));
    }
    let decode = |field: &str, text: &str| {
        STANDARD
            .decode(text)
            .map_err(|_| malformed(what, format!("{field} is not base64")))
    };
    let salt = decode("salt", &envelope.kdf.salt)?;
    let nonce = decode("nonce", &envelope.cipher.nonce)?;
    let sealed = decode("ciphertext", &envelope.ciphertext)?;
    let nonce: [u8; 24] = nonce
        .try_into()
        .map_err(|_| malformed(what, "the nonce is not 24 bytes"))?;
    let key = scrypt_key(password, &salt, log_n, r, p, what)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher
        .decrypt(&nonce.into(), sealed.as_slice())
        .map_err(|_| KeyError::WrongPassword {
            what: what.to_owned(),
        })
}

impl PublicKey {
    /// Reads a PKIX `PUBLIC KEY` PEM (what `cosign.pub` holds).
    ///
    /// # Errors
    /// [`KeyError`] when it is not a P-256 public key.
    pub fn from_pem(text: &str, what: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_block(text, what)?;
        if label != "PUBLIC KEY" {
            return Err(malformed(
                what,
                format!("a `{label}` PEM block is not a public key"),
            ));
        }
        VerifyingKey::from_public_key_der(&der)
            .map(Self)
            .map_err(|_| {
                malformed(
                    what,
                    "not an ECDSA P-256 public key (cosign keys are P-256)",
                )
            })
    }

    /// The PKIX PEM, as `cosign.pub`.
    ///
    /// # Errors
    /// Encoding errors (none in practice).
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| malformed("public key", e.to_string()))
    }

    /// The PKIX (SubjectPublicKeyInfo) DER.
    ///
    /// # Errors
    /// Encoding errors (none in practice).
    pub fn to_der(&self) -> Result<Vec<u8>, KeyError> {
        self.0
            .to_public_key_der()
            .map(|der| der.as_bytes().to_vec())
            .map_err(|e| malformed("public key", e.to_string()))
    }

    /// Checks a DER ECDSA signature over `message`.
    ///
    /// # Errors
    /// [`VerifyError`] naming the check that failed.
    pub fn verify(&self, message: &[u8], der: &[u8]) -> Result<(), VerifyError> {
        // DER as cosign writes it; raw `r || s` (64 bytes) as the DSSE spec's
        // own test vector does.
        let signature = Signature::from_der(der)
            .or_else(|_| Signature::from_slice(der))
            .map_err(|_| VerifyError::BadEncoding)?;
        self.0
            .verify(message, &signature)
            .map_err(|_| VerifyError::WrongKeyOrPayload)
    }

    /// Checks a DER ECDSA signature over a message of which only the
    /// SHA-256 `digest` is known.
    ///
    /// # Errors
    /// [`VerifyError`] naming the check that failed.
    pub fn verify_prehash(&self, digest: &[u8], der: &[u8]) -> Result<(), VerifyError> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        let signature = Signature::from_der(der).map_err(|_| VerifyError::BadEncoding)?;
        self.0
            .verify_prehash(digest, &signature)
            .map_err(|_| VerifyError::WrongKeyOrPayload)
    }

    /// [`PublicKey::verify`] of a base64 signature, as cosign stores it.
    ///
    /// # Errors
    /// [`VerifyError`] naming the check that failed.
    pub fn verify_base64(&self, message: &[u8], signature: &str) -> Result<(), VerifyError> {
        let der = STANDARD
            .decode(signature.trim())
            .map_err(|_| VerifyError::BadEncoding)?;
        self.verify(message, &der)
    }
}
