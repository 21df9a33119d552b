//! `customs sign-blob` and `customs verify-blob`: files (SBOMs, evidence
//! bundles, release artifacts) signed into Sigstore bundles, and verified
//! from them with a key or a certificate identity, offline.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use customs_cli::{Format, SignBlobArgs, VerifyBlobArgs};
use customs_sign::{Artifact, Bundle, VerifyError};

use super::output::{Mode, write_file};
use crate::exit::ExitStatus;
use crate::render;

/// Files up to this size are verified from their bytes (needed by
/// Ed25519 message signatures); larger ones by their streamed SHA-256.
const IN_MEMORY: u64 = 64 << 20;

pub(crate) fn sign(args: &SignBlobArgs) -> anyhow::Result<ExitStatus> {
    let key = super::keys::private_key(&args.key)?;
    let data = fs_err::read(&args.file)?;
    if let Some(path) = &args.bundle {
        let bundle = Bundle::sign_blob(&key, &data)?;
        write_file(path, bundle.to_json()?.as_bytes(), Mode::Public)?;
        super::warn_info(&format!(
            "wrote the Sigstore bundle of {} to {}",
            args.file.display(),
            path.display()
        ));
    }
    // The bare signature only when it is asked for, or nothing else is.
    match &args.output_signature {
        Some(path) => write_file(path, key.sign_base64(&data).as_bytes(), Mode::Public)?,
        None if args.bundle.is_none() => render::text(&key.sign_base64(&data))?,
        None => {}
    }
    Ok(ExitStatus::Success)
}

/// `sha256:<64 hex>` given instead of a file (when no such file exists).
fn digest_argument(text: &str) -> Option<[u8; 32]> {
    let digest = customs_types::Digest::parse(text).ok()?;
    if digest.algorithm() != customs_types::Algorithm::Sha256 || Path::new(text).exists() {
        return None;
    }
    digest.to_bytes().try_into().ok()
}

/// The artifact: its bytes when small, else its streamed SHA-256.
enum Input {
    Bytes(Vec<u8>),
    Digest([u8; 32]),
}

impl Input {
    fn read(arg: &str) -> anyhow::Result<Self> {
        if let Some(digest) = digest_argument(arg) {
            return Ok(Self::Digest(digest));
        }
        let mut file = fs_err::File::open(arg)?;
        if file.metadata()?.len() <= IN_MEMORY {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            return Ok(Self::Bytes(bytes));
        }
        let mut hasher = customs_types::Hasher::new(customs_types::Algorithm::Sha256);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buffer)
                .with_context(|| format!("cannot read {arg}"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        Ok(Self::Digest(
            hasher
                .finish()
                .to_bytes()
                .try_into()
                .map_err(|_| anyhow::anyhow!("{arg}: not a SHA-256 digest"))?,
        ))
    }

    fn artifact(&self) -> Artifact<'_> {
        match self {
            Self::Bytes(bytes) => Artifact::Bytes(bytes),
            Self::Digest(digest) => Artifact::Sha256(*digest),
        }
    }
}

#[derive(serde::Serialize)]
struct BlobVerification<'a> {
    artifact: &'a str,
    verified: bool,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    check: Option<customs_sign::BundleCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
}

pub(crate) fn verify(args: &VerifyBlobArgs) -> anyhow::Result<ExitStatus> {
    let trust = super::keys::trust(args.key.as_deref(), &args.keyless)?;
    let input = Input::read(&args.file)?;
    let outcome = match (&args.signature, &args.bundle) {
        (Some(signature), _) => detached(&input, signature, &trust),
        (None, Some(path)) => {
            let bytes = fs_err::read(path)?;
            Bundle::parse(&bytes, &path.display().to_string())
                .map_err(|e| VerifyError::Bundle {
                    check: "bundle",
                    detail: e.to_string(),
                })
                .and_then(|bundle| bundle.verify(input.artifact(), trust.signer(), &trust.root))
        }
        (None, None) => anyhow::bail!("give --bundle (or --signature with --key)"),
    };
    let result = BlobVerification {
        artifact: &args.file,
        verified: outcome.is_ok(),
        check: outcome.as_ref().ok().cloned(),
        failure: outcome.as_ref().err().map(ToString::to_string),
    };
    match args.format {
        Format::Json => render::json(&result)?,
        Format::Table => match &result.check {
            Some(check) => {
                let mut lines = vec![format!(
                    "Verified {} signed by {}{}",
                    args.file,
                    if check.signer == "key" {
                        trust.described.clone()
                    } else {
                        check.signer.clone()
                    },
                    check
                        .issuer
                        .as_ref()
                        .map(|i| format!(" (issuer {i})"))
                        .unwrap_or_default()
                )];
                lines.push(format!(
                    "  transparency log: {}",
                    if check.transparency_log {
                        "inclusion verified"
                    } else {
                        "no entry (key-signed, not logged)"
                    }
                ));
                if !check.signed_at.is_empty() {
                    lines.push(format!("  signed at: {}", check.signed_at.join(", ")));
                }
                render::text(&lines.join("\n"))?;
            }
            None => render::text(&format!("NOT verified: {}", args.file))?,
        },
    }
    Ok(super::verify::conclude(outcome.err()))
}

/// A detached base64 signature over the file, with the key.
fn detached(
    input: &Input,
    signature: &Path,
    trust: &super::keys::Trust,
) -> Result<customs_sign::BundleCheck, VerifyError> {
    let Input::Bytes(bytes) = input else {
        return Err(VerifyError::Bundle {
            check: "artifact",
            detail: format!(
                "a detached signature is verified over the file's bytes: give the file (at most {IN_MEMORY} bytes), not its digest"
            ),
        });
    };
    let key = trust.key().ok_or(VerifyError::NoSignature)?;
    let text = fs_err::read_to_string(signature).map_err(|e| VerifyError::Bundle {
        check: "signature",
        detail: e.to_string(),
    })?;
    key.verify_base64(bytes, &text)?;
    Ok(customs_sign::BundleCheck {
        signer: "key".to_owned(),
        issuer: None,
        certificate: false,
        transparency_log: false,
        signed_at: Vec::new(),
    })
}
