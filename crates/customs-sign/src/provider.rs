//! The cryptography `sigstore-verify` runs on: `ring` (already in the
//! build for TLS) for whole-message signatures, RustCrypto's `p256`/`p384`
//! for prehashed ECDSA, `sha2` for hashing. This keeps the one crypto
//! provider the project builds (no `aws-lc-sys`).

use std::sync::Once;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::Digest as _;
use sigstore_verify::crypto::{CryptoProvider, Error, HashContext, Result, SigningScheme};
use sigstore_verify::types::HashAlgorithm;

#[derive(Debug)]
struct RingProvider;

static PROVIDER: RingProvider = RingProvider;
static INSTALL: Once = Once::new();

/// Installs the provider once per process (before any verification).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // Fails only when another provider was installed first; that one
        // then verifies, which is as good.
        let _ = sigstore_verify::crypto::install_default_provider(&PROVIDER);
    });
}

struct Hasher<D>(D);

impl<D: sha2::Digest + Send> HashContext for Hasher<D> {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn invalid(scheme: SigningScheme) -> Error {
    Error::Verification(format!("{} signature invalid", scheme.name()))
}

fn unsupported(scheme: SigningScheme) -> Error {
    Error::UnsupportedAlgorithm(format!("{} is not supported", scheme.name()))
}

impl CryptoProvider for RingProvider {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>> {
        match algorithm {
            HashAlgorithm::Sha2256 => Ok(Box::new(Hasher(sha2::Sha256::new()))),
            HashAlgorithm::Sha2384 => Ok(Box::new(Hasher(sha2::Sha384::new()))),
            HashAlgorithm::Sha2512 => Ok(Box::new(Hasher(sha2::Sha512::new()))),
            other => Err(Error::UnsupportedAlgorithm(format!("hash {other:?}"))),
        }
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        use ring::signature as rs;
        // P-384: RustCrypto's, measured faster than ring's portable
        // big-number code on this project's machines (Fulcio's CA keys
        // are P-384, so every keyless verification pays it twice).
        match scheme {
            SigningScheme::EcdsaP384Sha384 => {
                return self.verify_prehashed(scheme, key, &sha2::Sha384::digest(data), signature);
            }
            SigningScheme::EcdsaP384Sha256 => {
                return self.verify_prehashed(scheme, key, &sha2::Sha256::digest(data), signature);
            }
            _ => {}
        }
        let algorithm: &dyn rs::VerificationAlgorithm = match scheme {
            SigningScheme::EcdsaP256Sha256 => &rs::ECDSA_P256_SHA256_ASN1,
            SigningScheme::EcdsaP256Sha384 => &rs::ECDSA_P256_SHA384_ASN1,
            SigningScheme::EcdsaP384Sha256 => &rs::ECDSA_P384_SHA256_ASN1,
            SigningScheme::EcdsaP384Sha384 => &rs::ECDSA_P384_SHA384_ASN1,
            SigningScheme::Ed25519 => &rs::ED25519,
            SigningScheme::RsaPssSha256 => &rs::RSA_PSS_2048_8192_SHA256,
            SigningScheme::RsaPssSha384 => &rs::RSA_PSS_2048_8192_SHA384,
            SigningScheme::RsaPssSha512 => &rs::RSA_PSS_2048_8192_SHA512,
            SigningScheme::RsaPkcs1Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
            SigningScheme::RsaPkcs1Sha384 => &rs::RSA_PKCS1_2048_8192_SHA384,
            SigningScheme::RsaPkcs1Sha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
            _ => return Err(unsupported(scheme)),
        };
        rs::UnparsedPublicKey::new(algorithm, key)
            .verify(data, signature)
            .map_err(|_| invalid(scheme))
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        match scheme {
            SigningScheme::EcdsaP256Sha256 | SigningScheme::EcdsaP256Sha384 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map_err(|_| Error::Verification("not a P-256 public key".into()))?;
                let signature =
                    p256::ecdsa::Signature::from_der(signature).map_err(|_| invalid(scheme))?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| invalid(scheme))
            }
            SigningScheme::EcdsaP384Sha256 | SigningScheme::EcdsaP384Sha384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map_err(|_| Error::Verification("not a P-384 public key".into()))?;
                let signature =
                    p384::ecdsa::Signature::from_der(signature).map_err(|_| invalid(scheme))?;
                key.verify_prehash(digest, &signature)
                    .map_err(|_| invalid(scheme))
            }
            _ => Err(unsupported(scheme)),
        }
    }
}
