//! `customs attest` and `customs verify-attestation`: in-toto statements in
//! DSSE envelopes, stored and read where cosign does (the `.att` tag).

use std::io::Read as _;

use anyhow::Context as _;
use customs_cli::{AttestArgs, Format, GlobalArgs, VerifyAttestationArgs};

use crate::exit::ExitStatus;
use crate::render;

/// The largest predicate file read.
const MAX_PREDICATE_BYTES: u64 = 64 << 20;

pub(crate) async fn run(args: AttestArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let predicate_type = super::keys::predicate_type(&args.predicate_type)?;
    let path = &args.predicate;
    let reader: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(fs_err::File::open(path)?)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_PREDICATE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the predicate {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_PREDICATE_BYTES,
        "{}: larger than {MAX_PREDICATE_BYTES} bytes",
        path.display()
    );
    let predicate: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: the predicate is not JSON", path.display()))?;
    let key = super::keys::private_key(&args.key)?;
    let (source, digest, manifest) =
        super::sign::resolve(&args.image, &args.source, global, "attested").await?;
    let done = attach_both(
        &source,
        &digest,
        Some(&manifest),
        &key,
        &predicate_type,
        predicate,
        args.bundle_format,
    )
    .await?;
    match args.format {
        Format::Json if done.len() == 1 => render::json(&done[0])?,
        Format::Json => render::json(&done)?,
        Format::Table => {
            let lines: Vec<String> = done
                .iter()
                .map(|attested| {
                    format!(
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
                    )
                })
                .collect();
            render::text(&lines.join("\n"))?;
        }
    }
    super::ledger::record(
        global,
        super::ledger::new_record(
            super::ledger::seen_in(&source, &digest),
            "attest",
            serde_json::json!({
                "line": format!("attested {predicate_type}"),
                "predicate_type": predicate_type,
                "locations": done.iter().map(|d| d.location.clone()).collect::<Vec<_>>(),
            }),
        ),
    )
    .await?;
    Ok(ExitStatus::Success)
}

/// Attaches a predicate in the forms `format` asks: the `.att` tag and/or
/// a v3 bundle referrer, whose subject descriptor is made from the
/// subject's `manifest` (fetched only when the bundle form needs it and the
/// caller does not have it).
async fn attach_both(
    source: &customs_oci::RegistrySource,
    digest: &customs_types::Digest,
    manifest: Option<&[u8]>,
    key: &customs_sign::PrivateKey,
    predicate_type: &str,
    predicate: serde_json::Value,
    format: customs_cli::BundleFormat,
) -> anyhow::Result<Vec<customs_pipeline::signatures::Signed>> {
    let mut done = Vec::new();
    if format.tag() {
        done.push(
            customs_pipeline::signatures::attest(
                source,
                digest,
                key,
                predicate_type,
                predicate.clone(),
            )
            .await?,
        );
    }
    if format.bundle() {
        let fetched;
        let manifest = match manifest {
            Some(bytes) => bytes,
            None => {
                fetched = source
                    .manifest_at(&digest.to_string())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("{digest} is not in {}", source.reference()))?
                    .0;
                &fetched
            }
        };
        let subject = customs_pipeline::signatures::subject_descriptor(manifest, digest);
        done.push(
            customs_pipeline::signatures::attest_bundle(
                source,
                &subject,
                key,
                predicate_type,
                predicate,
            )
            .await?,
        );
    }
    Ok(done)
}

pub(crate) async fn verify(
    args: VerifyAttestationArgs,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let wanted = super::keys::predicate_filter(args.predicate_type.as_deref())?;
    let trust = super::keys::trust(args.key.as_deref(), &args.keyless)?;
    let (source, digest, _) =
        super::sign::resolve(&args.image, &args.source, global, "verified").await?;
    let layers = customs_pipeline::signatures::read_attestations(&source, &digest).await?;
    let verification =
        customs_sign::verify_attestations(&layers, trust.verifier(), &digest, wanted.as_deref());
    match args.format {
        Format::Json => render::json(&verification)?,
        Format::Table => {
            let mut t = render::table(&["ATTESTATION", "PREDICATE TYPE", "RESULT"]);
            for a in &verification.attestations {
                t.add_row(render::row([
                    a.check.source.clone(),
                    a.predicate_type.clone().unwrap_or_else(|| "-".to_owned()),
                    a.check.outcome().to_owned(),
                ]));
            }
            let verdict = if verification.passed() {
                format!("Verified attestations of {digest} with {}", trust.described)
            } else {
                format!("NOT verified: no attestation of {digest} passed")
            };
            super::verify::print_table(&t, verification.attestations.is_empty(), &verdict)?;
        }
    }
    Ok(super::verify::conclude(verification.failure()))
}

/// `customs provenance --from-env`: the SLSA Provenance v1 predicate of
/// this CI job.
pub(crate) fn provenance(args: &customs_cli::ProvenanceArgs) -> anyhow::Result<ExitStatus> {
    debug_assert!(args.from_env);
    let vars: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let now = customs_sbom::rfc3339(customs_sbom::timestamp());
    let predicate = customs_sign::provenance::from_env(&vars, &now)?;
    let mut json = serde_json::to_string_pretty(&predicate)?;
    json.push('\n');
    match &args.output {
        Some(path) => {
            super::output::write_file(path, json.as_bytes(), super::output::Mode::Public)?
        }
        None => render::text(json.trim_end())?,
    }
    Ok(ExitStatus::Success)
}

/// `--attest --key K` of `sbom` and `scan`: the key is loaded and the
/// reference checked to be a registry image before the image is read (a
/// wrong password or a local image fails fast), and the predicate is
/// attached to the digest the result is about, in the same run.
pub(crate) struct Attacher {
    key: customs_sign::PrivateKey,
    registry: customs_oci::RegistrySource,
    format: customs_cli::BundleFormat,
}

impl Attacher {
    /// `None` without `--attest`.
    pub(crate) fn new(
        args: &customs_cli::AttachArgs,
        reference: &str,
        source: &customs_cli::SourceArgs,
    ) -> anyhow::Result<Option<Self>> {
        let (Some(key), true) = (&args.key, args.attest) else {
            return Ok(None);
        };
        let (_, target, _) = super::open(reference, source)?;
        let customs_oci::Target::Image(customs_oci::AnySource::Registry(registry)) = target else {
            anyhow::bail!(
                "--attest stores the attestation next to the image in its registry: {reference} is not a registry image"
            );
        };
        Ok(Some(Self {
            key: super::keys::private_key(key)?,
            registry,
            format: args.bundle_format,
        }))
    }

    /// Attaches `predicate` of `predicate_type` to `digest`, whose
    /// manifest the caller passes when it has it (the walk read it).
    pub(crate) async fn attach(
        &self,
        digest: &customs_types::Digest,
        manifest: Option<&[u8]>,
        predicate_type: &str,
        predicate: serde_json::Value,
        global: &GlobalArgs,
    ) -> anyhow::Result<()> {
        let done = attach_both(
            &self.registry,
            digest,
            manifest,
            &self.key,
            predicate_type,
            predicate,
            self.format,
        )
        .await?;
        if !global.quiet {
            for attested in done {
                super::warn_info(&format!(
                    "attested {predicate_type} for {} at {}",
                    attested.image, attested.location
                ));
            }
        }
        Ok(())
    }
}
