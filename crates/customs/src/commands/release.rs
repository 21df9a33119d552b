//! `customs release create|show`: the release evidence bundle — service,
//! environment, release, digest, source commit and builder, build time,
//! SBOM, provenance, signers, scanner and advisory database, the decision
//! and the exceptions it used, the approver, and the files kept with it
//! (Dockerfile, build log, deploy manifest), content-addressed.

use std::path::Path;

use anyhow::Context as _;
use customs_cli::{GlobalArgs, ReleaseArgs, ReleaseCommand, ReleaseFormat, ReleaseShowArgs};
use customs_store::Document;
use serde::{Deserialize, Serialize};

use crate::exit::ExitStatus;

/// The in-toto predicate type of an attached release bundle.
pub(crate) const RELEASE_PREDICATE: &str = "https://customs.dev/release-bundle/v1";

/// The largest file `--file` keeps.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// A release bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bundle {
    #[serde(rename = "bundleVersion")]
    bundle_version: u32,
    service: String,
    environment: String,
    release: String,
    image: ImagePart,
    build: BuildPart,
    evidence: EvidencePart,
    decision: DecisionPart,
    approver: String,
    created_at: String,
    created_by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    files: Vec<FilePart>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImagePart {
    reference: String,
    digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform_manifest: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BuildPart {
    #[serde(skip_serializing_if = "Option::is_none")]
    source_repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    builder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct EvidencePart {
    sbom_present: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sbom_document: Option<String>,
    provenance_present: bool,
    provenance_verified: bool,
    signature_verified: bool,
    #[serde(default)]
    signers: Vec<String>,
    scanner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    advisory_database: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DecisionPart {
    verdict: String,
    evaluated_at: String,
    policy_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exceptions_digest: Option<String>,
    #[serde(default)]
    exceptions_used: Vec<serde_json::Value>,
    record: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FilePart {
    name: String,
    digest: String,
    size: u64,
}

pub(crate) async fn run(
    command: ReleaseCommand,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    match command {
        ReleaseCommand::Create(args) => create(&args, global).await,
        ReleaseCommand::Show(args) => show(&args, global).await,
    }
}

fn render(bundle: &serde_json::Value, format: ReleaseFormat) -> anyhow::Result<()> {
    match format {
        ReleaseFormat::Json => crate::render::json(bundle),
        ReleaseFormat::Yaml => crate::render::text(&yaml_serde::to_string(bundle)?),
    }
}

async fn create(args: &ReleaseArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    for (label, value) in [
        ("--service", &args.service),
        ("--version", &args.version),
        ("--env", &args.env),
    ] {
        anyhow::ensure!(!value.trim().is_empty(), "{label} must not be empty");
    }
    // Files first: a missing or oversized one fails before anything else.
    let mut files = Vec::new();
    let mut parts = Vec::new();
    for path in &args.file {
        let meta = fs_err::metadata(path)?;
        anyhow::ensure!(meta.is_file(), "{}: not a file", path.display());
        anyhow::ensure!(
            meta.len() <= MAX_FILE_BYTES,
            "{}: larger than {MAX_FILE_BYTES} bytes",
            path.display()
        );
        let bytes = fs_err::read(path)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let document = Document {
            media_type: "application/octet-stream".to_owned(),
            bytes,
        };
        parts.push(FilePart {
            name,
            digest: document.digest().to_string(),
            size: meta.len(),
        });
        files.push(document);
    }
    let attacher = super::attest::Attacher::new(&args.attach, &args.image, &args.source)?;
    let (_, image) = super::open_image(&args.image, &args.source).await?;
    let seen = customs_pipeline::ledger::seen(&image);
    let store = super::ledger::open_store(global).await?;
    // The decision this release ships under: the newest recorded for the
    // digest and environment. None is an error, never a pass.
    let gate = store
        .latest_record(&seen.digest, "gate", Some(&args.env))
        .await?
        .with_context(|| {
            format!(
                "no gate decision for {} in {} is recorded: run `customs gate {} --env {}` first",
                seen.digest, args.env, args.image, args.env
            )
        })?;
    let (decision, input) = super::gate::read_decision(&store, &gate)
        .await?
        .context("the recorded decision cannot be read back")?;
    if decision.verdict == customs_policy::Verdict::Deny {
        super::warn(&format!(
            "{} was DENIED in {} ({}): the bundle records it, it does not approve it",
            seen.digest, args.env, decision.evaluated_at
        ));
    }
    let sbom = store.sbom_of(&seen.digest).await?;
    let provenance = input.provenance.first();
    let now = customs_sbom::rfc3339(customs_types::time::timestamp());
    let bundle = Bundle {
        bundle_version: 1,
        service: args.service.clone(),
        environment: args.env.clone(),
        release: args.version.clone(),
        image: ImagePart {
            reference: args.image.clone(),
            digest: seen.digest.to_string(),
            platform_manifest: (image.manifest_digest != seen.digest)
                .then(|| image.manifest_digest.to_string()),
        },
        build: BuildPart {
            source_repository: provenance.and_then(|p| p.source_repository.clone()),
            source_commit: provenance.and_then(|p| p.source_revision.clone()),
            builder: provenance.and_then(|p| p.builder.clone()),
            build_type: provenance.and_then(|p| p.build_type.clone()),
            created: image.config.created.clone(),
        },
        evidence: EvidencePart {
            sbom_present: sbom.is_some(),
            sbom_document: sbom.map(|(document, _, _)| document),
            provenance_present: !input.provenance.is_empty(),
            provenance_verified: input.provenance.iter().any(|p| p.verified),
            signature_verified: !input.signatures.verified.is_empty(),
            signers: input
                .signatures
                .verified
                .iter()
                .map(|s| {
                    serde_json::to_value(s)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                })
                .collect(),
            scanner: format!("customs {}", decision.customs_version),
            advisory_database: decision
                .database
                .as_ref()
                .map(serde_json::to_value)
                .transpose()?,
        },
        decision: DecisionPart {
            verdict: decision.verdict.to_string(),
            evaluated_at: decision.evaluated_at.clone(),
            policy_digest: decision.policy.digest.clone(),
            exceptions_digest: decision.exceptions_digest.clone(),
            exceptions_used: decision
                .exceptions_applied
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?,
            record: gate.digest.clone(),
        },
        approver: args
            .approver
            .clone()
            .unwrap_or_else(|| store.actor().to_owned()),
        created_at: now,
        created_by: store.actor().to_owned(),
        files: parts,
    };
    let value = serde_json::to_value(&bundle)?;
    let document = Document::json(&value, "the release bundle")?;
    if !global.no_record {
        store
            .record_release(
                (&args.service, &args.version, &args.env),
                &seen,
                &document,
                &files,
            )
            .await?;
    }
    render(&value, args.output)?;
    if let Some(attacher) = attacher {
        let manifest =
            (image.manifest_digest == seen.digest).then_some(image.manifest_bytes.as_slice());
        attacher
            .attach(&seen.digest, manifest, RELEASE_PREDICATE, value, global)
            .await?;
    }
    Ok(ExitStatus::Success)
}

async fn show(args: &ReleaseShowArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let store = super::ledger::open_store(global).await?;
    let releases = store
        .releases(&args.service, Some(&args.release), args.env.as_deref())
        .await?;
    let release = releases.first().with_context(|| {
        format!(
            "the evidence store has no release {} {}{}",
            args.service,
            args.release,
            args.env
                .as_deref()
                .map_or_else(String::new, |e| format!(" in {e}"))
        )
    })?;
    if releases
        .iter()
        .any(|r| r.environment != release.environment)
        && args.env.is_none()
        && !global.quiet
    {
        super::warn_info(&format!(
            "{} {} was released to several environments; showing {} (--env chooses)",
            args.service, args.release, release.environment
        ));
    }
    let bytes = store
        .document(&release.document)
        .await?
        .context("the release bundle's document is missing")?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)?;
    if let Some(dir) = &args.extract {
        let bundle: Bundle = serde_json::from_value(value.clone())?;
        extract(&store, &bundle, dir).await?;
    }
    render(&value, args.output)?;
    Ok(ExitStatus::Success)
}

/// Writes the bundle's files into `dir`, each read back against its digest
/// and named by its base name only (never a path outside `dir`).
async fn extract(store: &customs_store::Store, bundle: &Bundle, dir: &Path) -> anyhow::Result<()> {
    fs_err::create_dir_all(dir)?;
    for file in &bundle.files {
        let name = Path::new(&file.name)
            .file_name()
            .filter(|n| *n != ".." && *n != ".")
            .with_context(|| {
                format!(
                    "the bundle names a file `{}` that is not a plain name",
                    file.name
                )
            })?;
        let bytes = store.document(&file.digest).await?.with_context(|| {
            format!("{} ({}) is missing from the store", file.name, file.digest)
        })?;
        let path = dir.join(name);
        anyhow::ensure!(!path.exists(), "{}: exists already", path.display());
        fs_err::write(&path, bytes)?;
    }
    Ok(())
}
