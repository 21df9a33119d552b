//! `customs attest` and `customs verify-attestation`: in-toto statements in
//! DSSE envelopes, stored and read where cosign does (the `.att` tag).

use anyhow::Context as _;
use customs_cli::{AttestArgs, Format, GlobalArgs, VerifyAttestationArgs};

use crate::exit::ExitStatus;
use crate::render;

/// The largest predicate file read.
const MAX_PREDICATE_BYTES: u64 = 64 << 20;

pub(crate) async fn run(args: AttestArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let predicate_type = customs_sign::intoto::predicate_type(&args.predicate_type)
        .map_err(|e| anyhow::anyhow!(e))?;
    let path = &args.predicate;
    anyhow::ensure!(
        fs_err::metadata(path)?.len() <= MAX_PREDICATE_BYTES,
        "{}: larger than {MAX_PREDICATE_BYTES} bytes",
        path.display()
    );
    let predicate: serde_json::Value = serde_json::from_slice(&fs_err::read(path)?)
        .with_context(|| format!("{}: the predicate is not JSON", path.display()))?;
    let key = super::keys::private_key(&args.key)?;
    let (source, digest) =
        super::sign::resolve(&args.image, &args.source, global, "attest").await?;
    let attested =
        customs_pipeline::signatures::attest(&source, &digest, &key, &predicate_type, predicate)
            .await?;
    match args.format {
        Format::Json => render::json(&attested)?,
        Format::Table => render::text(&format!(
            "{} {} for {}\n  stored at {} ({} attestation{})",
            if attested.already_present {
                "Already attested:"
            } else {
                "Attested"
            },
            predicate_type,
            attested.image,
            attested.location,
            attested.signatures,
            if attested.signatures == 1 { "" } else { "s" }
        ))?,
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn verify(
    args: VerifyAttestationArgs,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let wanted = args
        .predicate_type
        .as_deref()
        .map(customs_sign::intoto::predicate_type)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let key = super::keys::public_key(&args.key)?;
    let (source, digest) =
        super::sign::resolve(&args.image, &args.source, global, "verifi").await?;
    let layers = customs_pipeline::signatures::read_attestations(&source, &digest).await?;
    let verification = customs_sign::verify_attestations(&layers, &key, &digest, wanted.as_deref());
    match args.format {
        Format::Json => render::json(&verification)?,
        Format::Table => {
            let mut t = render::table(&["ATTESTATION", "PREDICATE TYPE", "RESULT"]);
            for a in &verification.attestations {
                t.add_row(render::row([
                    a.source.clone(),
                    a.predicate_type.clone().unwrap_or_else(|| "-".to_owned()),
                    if a.verified {
                        "verified".to_owned()
                    } else {
                        a.failure.clone().unwrap_or_default()
                    },
                ]));
            }
            let verdict = if verification.passed() {
                format!("Verified attestations of {digest} with {}", args.key)
            } else {
                format!("NOT verified: no attestation of {digest} passed")
            };
            if verification.attestations.is_empty() {
                render::text(&verdict)?;
            } else {
                render::text(&format!("{}\n\n{verdict}", t.trim_fmt()))?;
            }
        }
    }
    if let Some(failure) = verification.failure() {
        super::warn(&format!("verification failed: {failure}"));
        return Ok(ExitStatus::VerificationFailed);
    }
    Ok(ExitStatus::Success)
}
