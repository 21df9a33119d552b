//! `customs scan REF`: known vulnerabilities of an image, a root filesystem
//! or an SBOM, matched against the local OSV index.

use std::path::Path;

use anyhow::Context as _;
use customs_cli::{GlobalArgs, SbomSource, ScanArgs};
use customs_pipeline::attestations::AttestedSbomError;
use customs_report::scan::{self, DatabaseInfo, ScanReport};
use customs_sbom::Sbom;
use customs_types::Severity;
use customs_vuln::VulnIndex;

use super::output::{emit, outputs};
use crate::exit::ExitStatus;

/// The formats `-o` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanFormat {
    Table,
    Json,
    Sarif,
    CyclonedxJson,
}

impl ScanFormat {
    fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "table" => Self::Table,
            "json" => Self::Json,
            "sarif" => Self::Sarif,
            "cyclonedx-json" | "cyclonedx" | "cdx-json" => Self::CyclonedxJson,
            other => anyhow::bail!(
                "unknown scan format `{other}` (formats: table, json, sarif, cyclonedx-json)"
            ),
        })
    }

    fn render(self, report: &ScanReport) -> anyhow::Result<Vec<u8>> {
        Ok(match self {
            Self::Table => scan::table(report).into_bytes(),
            Self::Json => scan::json(report)?,
            Self::Sarif => scan::sarif(report)?,
            Self::CyclonedxJson => scan::cyclonedx(report)?,
        })
    }
}

/// A database whose newest advisory is older than this gets a warning
/// (osv.dev publishes new records every day).
const STALE_AFTER_DAYS: u64 = 7;

/// Opens the index, explaining how to make one when there is none.
pub(crate) fn open_index(dir: &Path) -> anyhow::Result<VulnIndex> {
    VulnIndex::open(dir).with_context(|| {
        "cannot open the vulnerability database; import advisories with `customs db import PATH` \
         (offline) or `customs db update` (online)"
            .to_owned()
    })
}

/// Matches an SBOM and wraps the result with what the index says of itself.
/// Warnings about the data are printed whatever `--quiet` says: it hides
/// progress and information only.
pub(crate) fn report(index: &VulnIndex, sbom: Sbom) -> anyhow::Result<ScanReport> {
    let matches = tokio::task::block_in_place(|| customs_vuln::match_sbom(index, &sbom))?;
    let built_at = index.built_at()?;
    let newest_advisory = index.newest_advisory()?;
    let age_days =
        customs_sbom::timestamp().saturating_sub(newest_advisory.unwrap_or(built_at)) / 86_400;
    if age_days > STALE_AFTER_DAYS {
        super::warn(&format!(
            "the newest advisory in the vulnerability database is {age_days} days old; newer ones are missing (customs db update, or import a newer export)"
        ));
    }
    if sbom.distro.is_none() && sbom.packages.iter().any(|p| p.kind.is_os()) {
        super::warn("the distribution release is unknown, so its packages were not matched");
    }
    Ok(ScanReport {
        sbom,
        matches,
        database: DatabaseInfo {
            built_at,
            newest_advisory,
            path: index.path().display().to_string(),
        },
        suppressed: Vec::new(),
        show_suppressed: false,
    })
}

/// An OS package database that could not be read leaves every package of
/// the image unchecked: the result is an error (exit 2), never "clean",
/// though the report of what could be read is still written.
fn incomplete(report: &ScanReport) -> anyhow::Result<()> {
    if let Some(unknown) = report
        .sbom
        .unknowns
        .iter()
        .find(|u| u.package_type.is_some_and(customs_sbom::PackageType::is_os))
    {
        anyhow::bail!(
            "the scan is incomplete: the package database {} could not be read ({})",
            unknown.path,
            unknown.message
        );
    }
    Ok(())
}

fn severities(names: &[String]) -> anyhow::Result<Vec<Severity>> {
    names
        .iter()
        .map(|s| s.parse::<Severity>().map_err(anyhow::Error::from))
        .collect()
}

/// `--sbom-source attestation`: the SBOM attested for the image, verified
/// when a key or identity is given, about the chosen platform's manifest.
async fn attested_sbom(args: &ScanArgs, global: &GlobalArgs) -> anyhow::Result<Sbom> {
    let trust = (args.attestation_key.is_some() || args.keyless.any())
        .then(|| super::keys::trust(args.attestation_key.as_deref(), &args.keyless))
        .transpose()?;
    let (_, target, _) = super::open(&args.image, &args.source)?;
    let customs_oci::Target::Image(source) = target else {
        anyhow::bail!(
            "--sbom-source attestation reads what is attached to an image: {} is not one",
            args.image
        );
    };
    let image = source.image(&super::platform_choice(&args.source)?).await?;
    let found = customs_pipeline::attestations::attested_sbom(
        &source,
        &image,
        trust.as_ref().map(super::keys::Trust::verifier),
    )
    .await?;
    match &found.signer {
        Some(signer) if !global.quiet => super::warn_info(&format!(
            "scanning the {} SBOM attested at {} (verified: {})",
            found.predicate_type,
            found.source,
            if signer == "key" {
                trust.as_ref().map_or("key", |t| t.described.as_str())
            } else {
                signer
            }
        )),
        Some(_) => {}
        None => super::warn(&format!(
            "scanning the {} SBOM at {} UNVERIFIED: give --attestation-key or --certificate-identity/--certificate-oidc-issuer to require a signature",
            found.predicate_type, found.source
        )),
    }
    let mut sbom = customs_pipeline::read_sbom_document(&found.document, &found.source)?;
    sbom.subject = customs_pipeline::image_subject(&image);
    Ok(sbom)
}

/// `--vex`, `--exceptions`, `--env`: what suppresses findings.
struct ScanPolicy {
    vex: customs_policy::vex::VexSet,
    exceptions: customs_policy::Exceptions,
    today: i64,
}

impl ScanPolicy {
    fn load(args: &ScanArgs) -> anyhow::Result<Self> {
        let files = customs_cli::PolicyFiles::default();
        let today = super::policy::now(&files)?.div_euclid(86_400);
        // customs.toml is read only for exceptions (their longest term).
        let exceptions = if args.exceptions.is_empty() {
            customs_policy::Exceptions::default()
        } else {
            let config = super::policy::config(&files)?;
            customs_policy::Exceptions::load(&args.exceptions, today, config.max_exception_days)?
        };
        Ok(Self {
            vex: customs_policy::vex::VexSet::load(&args.vex)?,
            exceptions,
            today,
        })
    }
}

/// Applies VEX and exceptions: the same matching as the gate's.
fn suppress(report: &mut ScanReport, args: &ScanArgs, policy: &ScanPolicy) -> anyhow::Result<()> {
    report.show_suppressed = args.show_suppressed;
    if policy.vex.is_empty() && policy.exceptions.entries.is_empty() {
        return Ok(());
    }
    let digest = report.sbom.subject.digest.as_ref().map(ToString::to_string);
    let repository = customs_pipeline::gate::repository_of(&args.image);
    let (suppressed, expired) = customs_pipeline::gate::suppress(
        &mut report.matches,
        digest.as_deref(),
        repository.as_deref(),
        &customs_pipeline::gate::Suppression {
            vex: &policy.vex,
            exceptions: &policy.exceptions,
            environment: args.env.as_deref(),
            today: policy.today,
        },
    );
    for e in expired {
        super::warn(&format!("{}: it no longer applies", e.message));
    }
    report.suppressed = suppressed;
    Ok(())
}

pub(crate) async fn run(args: ScanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let outputs = outputs(&args.output, ScanFormat::parse)?;
    let wanted = severities(&args.severity).context("invalid --severity")?;
    let fail_on = args
        .fail_on
        .as_deref()
        .map(str::parse::<Severity>)
        .transpose()
        .context("invalid --fail-on")?;
    let index = open_index(&super::db_dir(&args.db))?;
    // VEX and exceptions are read (and checked) before the image is.
    let policy = ScanPolicy::load(&args)?;
    let attacher = super::attest::Attacher::new(&args.attach, &args.image, &args.source)?;
    let started = customs_sbom::timestamp();
    let (sbom, image) = match args.sbom_source {
        SbomSource::Walk => {
            super::make_sbom(
                &args.image,
                &args.source,
                &args.catalogers.selection,
                global,
            )
            .await?
        }
        SbomSource::Attestation => match attested_sbom(&args, global).await {
            Ok(sbom) => (sbom, None),
            Err(e) => {
                // Asked for a verified SBOM and none verified: a failed
                // verification (exit 3), never a scan of nothing.
                if let Some(AttestedSbomError::None {
                    what: "verified", ..
                }) = e.downcast_ref::<AttestedSbomError>()
                {
                    super::warn(&format!("verification failed: {e}"));
                    return Ok(ExitStatus::VerificationFailed);
                }
                return Err(e);
            }
        },
    };
    let mut report = report(&index, sbom)?;
    suppress(&mut report, &args, &policy)?;
    if let Some(image) = &image {
        let summary = customs_pipeline::ledger::scan_summary(
            &report.matches,
            report.suppressed.len(),
            &customs_pipeline::ledger::database_facts(&index)?,
        );
        super::ledger::record_with_sbom(global, image, &report.sbom, "scan", summary).await?;
    }
    report.filter(&wanted, args.only_fixed);
    for (format, file) in outputs {
        emit(&format.render(&report)?, file.as_deref())?;
    }
    if !report.matches.ecosystems_without_advisories.is_empty() {
        let list: Vec<&str> = report
            .matches
            .ecosystems_without_advisories
            .keys()
            .map(String::as_str)
            .collect();
        super::warn(&format!(
            "the vulnerability database has no advisories for {}: those packages were not checked",
            list.join(", ")
        ));
    }
    // An incomplete scan is never attested.
    incomplete(&report)?;
    if let Some(attacher) = attacher {
        let digest = report.sbom.subject.digest.clone().ok_or_else(|| {
            anyhow::anyhow!("--attest needs an image with a digest, not {}", args.image)
        })?;
        let predicate = scan::vuln_predicate(
            &report,
            &index.file_digest()?,
            started,
            customs_sbom::timestamp(),
        )?;
        let manifest = image
            .as_ref()
            .filter(|i| i.manifest_digest == digest)
            .map(|i| i.manifest_bytes.as_slice());
        attacher
            .attach(
                &digest,
                manifest,
                &super::keys::predicate_type("vuln")?,
                predicate,
                global,
            )
            .await?;
    }
    Ok(super::fail_on(
        fail_on,
        |t| report.fails(t),
        "vulnerabilities",
        global.quiet,
    ))
}
