//! `customs verify REF --key PUB | --certificate-identity … --certificate-oidc-issuer …`:
//! an image's cosign signatures (the `.sig` tag, and Sigstore bundles
//! attached as OCI 1.1 referrers), checked.

use customs_cli::{Format, GlobalArgs, VerifyArgs};
use customs_sign::verify::Expectations;

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(args: VerifyArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let trust = super::keys::trust(args.key.as_deref(), &args.keyless)?;
    let required = super::keys::annotations(&args.annotations)?;
    let (source, digest, _) =
        super::sign::resolve(&args.image, &args.source, global, "verified").await?;
    let layers = customs_pipeline::signatures::read(&source, &digest).await?;
    let repository = source.reference().name();
    let verification = customs_sign::verify_image(
        &layers,
        trust.verifier(),
        &Expectations {
            digest: &digest,
            repository: Some(&repository),
            strict_reference: args.strict_reference,
            annotations: &required,
        },
    );
    match args.format {
        Format::Json => render::json(&verification)?,
        Format::Table => {
            let mut t =
                render::table(&["SIGNATURE", "RESULT", "SIGNER", "SIGNED FOR", "ANNOTATIONS"]);
            for s in &verification.signatures {
                let result = s.check.outcome().to_owned();
                let signed_for = match (&s.docker_reference, s.reference_matches) {
                    (Some(r), Some(false)) => format!("{r} (another repository)"),
                    (Some(r), _) => r.clone(),
                    (None, _) => "-".to_owned(),
                };
                let annotations = s.annotations.as_ref().map_or_else(
                    || "-".to_owned(),
                    |a| {
                        a.iter()
                            .map(|(k, v)| {
                                format!(
                                    "{k}={}",
                                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                );
                t.add_row(render::row([
                    s.check.source.clone(),
                    result,
                    trust
                        .signer_name(s.signer.as_deref())
                        .unwrap_or_else(|| "-".to_owned()),
                    signed_for,
                    annotations,
                ]));
            }
            let verdict = if verification.passed() {
                format!("Verified {repository}@{digest} with {}", trust.described)
            } else {
                format!("NOT verified: {repository}@{digest}")
            };
            print_table(&t, verification.signatures.is_empty(), &verdict)?;
        }
    }
    let signers: Vec<String> = verification
        .signatures
        .iter()
        .filter(|s| s.check.outcome() == "verified")
        .filter_map(|s| trust.signer_name(s.signer.as_deref()))
        .collect();
    super::ledger::record(
        global,
        super::ledger::new_record(
            super::ledger::seen_in(&source, &digest),
            "verify",
            serde_json::json!({
                "line": if verification.passed() {
                    format!("signature verified with {}", trust.described)
                } else {
                    format!("signature NOT verified with {}", trust.described)
                },
                "verified": verification.passed(),
                "trust": trust.described,
                "signers": signers,
                "signatures": verification.signatures.len(),
            }),
        ),
    )
    .await?;
    Ok(conclude(verification.failure()))
}

/// A verification's table, then its verdict (the verdict alone when
/// nothing was found).
pub(crate) fn print_table(
    table: &comfy_table::Table,
    empty: bool,
    verdict: &str,
) -> anyhow::Result<()> {
    if empty {
        render::text(verdict)
    } else {
        render::text(&format!("{}\n\n{verdict}", table.trim_fmt()))
    }
}

/// Exit 3 with the check that failed, 0 when something verified.
pub(crate) fn conclude(failure: Option<customs_sign::VerifyError>) -> ExitStatus {
    match failure {
        Some(failure) => {
            super::warn(&format!("verification failed: {failure}"));
            ExitStatus::VerificationFailed
        }
        None => ExitStatus::Success,
    }
}
