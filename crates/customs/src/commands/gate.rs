//! `customs gate REF --env NAME`: may this digest ship to this environment?

use anyhow::Context as _;
use customs_cli::{GateArgs, GlobalArgs};
use customs_oci::Target;
use customs_pipeline::gate::{GateContext, Trusted};
use customs_policy::input::PreviousInput;
use customs_policy::{DecisionRecord, Gatekeeper, PolicyInput, Verdict};

use super::output::{emit, outputs};
use crate::exit::ExitStatus;
use crate::progress::progress;

/// The predicate type of a gate decision: a SLSA verification summary.
pub(crate) const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";

/// The largest saved input document read.
const MAX_INPUT_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, Copy)]
enum GateFormat {
    Table,
    Json,
    Sarif,
}

impl GateFormat {
    fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "table" => Self::Table,
            "json" => Self::Json,
            "sarif" => Self::Sarif,
            other => anyhow::bail!("unknown gate format `{other}` (formats: table, json, sarif)"),
        })
    }
}

/// The decision as a SLSA Verification Summary (v1), with the whole
/// decision record as an extension field.
fn vsa(record: &DecisionRecord, resource: &str) -> serde_json::Value {
    let hex = |d: &str| d.strip_prefix("sha256:").unwrap_or(d).to_owned();
    serde_json::json!({
        "verifier": {
            "id": format!("{}/gate", env!("CARGO_PKG_REPOSITORY")),
            "version": {"customs": env!("CARGO_PKG_VERSION")},
        },
        "timeVerified": record.evaluated_at,
        "resourceUri": resource,
        "policy": {
            "uri": format!("customs:policy-bundle/{}", record.environment),
            "digest": {"sha256": hex(&record.policy.digest)},
        },
        "inputAttestations": [],
        "verificationResult": if record.verdict == Verdict::Deny { "FAILED" } else { "PASSED" },
        "verifiedLevels": if record.verdict == Verdict::Deny {
            Vec::new()
        } else {
            vec![format!("CUSTOMS_GATE_{}", record.environment.to_ascii_uppercase())]
        },
        format!("{}/decision/v1", env!("CARGO_PKG_REPOSITORY")): record,
    })
}

fn read_input(path: &std::path::Path) -> anyhow::Result<PolicyInput> {
    let meta = fs_err::metadata(path)?;
    anyhow::ensure!(
        meta.len() <= MAX_INPUT_BYTES,
        "{}: larger than {MAX_INPUT_BYTES} bytes",
        path.display()
    );
    let input: PolicyInput = serde_json::from_slice(&fs_err::read(path)?)
        .with_context(|| format!("{}: not a customs policy input document", path.display()))?;
    anyhow::ensure!(
        input.schema_version == customs_policy::input::SCHEMA_VERSION,
        "{}: policy input schema version {} (this customs reads {})",
        path.display(),
        input.schema_version,
        customs_policy::input::SCHEMA_VERSION
    );
    Ok(input)
}

pub(crate) async fn run(args: GateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let formats = outputs(&args.output, GateFormat::parse)?;
    let loaded = super::policy::load(&args.policy)?;
    let env = loaded.config.environment(&args.env)?;
    let gatekeeper = Gatekeeper {
        policy: &loaded.policy,
        config: &loaded.config,
        exceptions: &loaded.exceptions,
    };
    if let Some(path) = &args.from_input {
        // A re-check: the same input, this policy, these exceptions, as of
        // --now when given (else as of when the input was made).
        let mut input = read_input(path)?;
        input.environment.name.clone_from(&args.env);
        input.environment.profile = env.profile(&args.env).to_owned();
        input.environment.config = env.clone();
        if args.policy.now.is_some() {
            input.now = loaded.now;
            input.evaluated_at = customs_sbom::rfc3339(u64::try_from(loaded.now)?);
        }
        let reference = args
            .image
            .clone()
            .unwrap_or_else(|| input.image.reference.clone());
        let record = gatekeeper.evaluate(&input, &reference)?;
        return finish(&record, &formats, &loaded.policy, global);
    }
    let reference = args
        .image
        .clone()
        .context("give the image to gate (or --from-input FILE)")?;
    let attacher = super::attest::Attacher::new(&args.attach, &reference, &args.source)?;
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let ask = Ask {
        env: &args.env,
        manifest: &args.manifest,
        compare: args.compare.as_deref(),
        base_catalogue: args.base_catalogue.as_deref(),
        catalogers: &args.catalogers.selection,
        index: &index,
        source: &args.source,
    };
    let assessed = assess(&ask, &reference, &loaded, global).await?;
    if args.input_only {
        crate::render::json(&assessed.input)?;
        return Ok(ExitStatus::Success);
    }
    let record = gatekeeper.evaluate(&assessed.input, &reference)?;
    let status = finish(&record, &formats, &loaded.policy, global)?;
    record_decision(&record, &assessed, &args.policy, &loaded, global).await?;
    if let Some(attacher) = attacher {
        let image = &assessed.image;
        let resource = customs_pipeline::image_purl(image)
            .unwrap_or_else(|| image.manifest_digest.to_string());
        attacher
            .attach(
                &image.manifest_digest,
                Some(&image.manifest_bytes),
                VSA_PREDICATE,
                vsa(&record, &resource),
                global,
            )
            .await?;
    }
    Ok(status)
}

/// What the gate read about an image: the policy input and the image.
pub(crate) struct Assessed {
    pub(crate) input: PolicyInput,
    pub(crate) image: customs_oci::Image,
    /// The advisory database's digest.
    pub(crate) database: String,
    /// The base catalogue read.
    pub(crate) catalogue: std::path::PathBuf,
}

/// Reads the image and everything the policy input needs about it. The
/// block list is the file's and the evidence store's: a digest blocked in
/// either is denied everywhere.
/// What the gate is asked, from `customs gate` or `customs promote`.
pub(crate) struct Ask<'a> {
    pub(crate) env: &'a str,
    pub(crate) manifest: &'a [std::path::PathBuf],
    pub(crate) compare: Option<&'a str>,
    pub(crate) base_catalogue: Option<&'a std::path::Path>,
    pub(crate) catalogers: &'a [String],
    /// The advisory database, opened once by the caller.
    pub(crate) index: &'a customs_vuln::VulnIndex,
    pub(crate) source: &'a customs_cli::SourceArgs,
}

pub(crate) async fn assess(
    args: &Ask<'_>,
    reference: &str,
    loaded: &super::policy::Loaded,
    global: &GlobalArgs,
) -> anyhow::Result<Assessed> {
    let walked = walk(args, reference, loaded, global).await?;
    assess_walked(args, &walked, reference, loaded, global).await
}

/// One walk of an image and its matches: what the gate input of every
/// environment is made from.
pub(crate) struct Walked {
    source: customs_oci::AnySource,
    image: customs_oci::Image,
    evidence: customs_pipeline::Evidence,
    matches: customs_vuln::MatchReport,
}

/// Reads the image once: its SBOM (stored), secrets and matches.
pub(crate) async fn walk(
    args: &Ask<'_>,
    reference: &str,
    loaded: &super::policy::Loaded,
    global: &GlobalArgs,
) -> anyhow::Result<Walked> {
    let (_, target, options) = super::open(reference, args.source)?;
    let Target::Image(source) = target else {
        anyhow::bail!("the gate decides about an image with a digest: {reference} is a directory");
    };
    let image = source.image(&super::platform_choice(args.source)?).await?;
    let catalogers = customs_catalog::select(
        customs_catalog::default_catalogers(),
        args.catalogers,
        false,
    )?;
    let evidence = customs_pipeline::evidence_of_image(
        &source,
        &image,
        catalogers,
        &loaded.allow,
        &options.limits,
        progress(global.quiet).as_ref(),
    )
    .await?;
    super::warn_unknowns(&evidence.sbom);
    let matches =
        tokio::task::block_in_place(|| customs_vuln::match_sbom(args.index, &evidence.sbom))?;
    if let Some(store) = super::ledger::recorder(global).await? {
        store
            .record_sbom(&customs_pipeline::ledger::seen(&image), &evidence.sbom)
            .await?;
    }
    Ok(Walked {
        source,
        image,
        evidence,
        matches,
    })
}

/// Records a scan record of a walked image (what rescans compare with);
/// returns its summary line.
pub(crate) async fn record_scan(
    walked: &Walked,
    index: &customs_vuln::VulnIndex,
    global: &GlobalArgs,
) -> anyhow::Result<String> {
    let database = customs_pipeline::ledger::database_facts(index)?;
    let summary = customs_pipeline::ledger::scan_summary(&walked.matches, 0, &database);
    let line = summary["line"].as_str().unwrap_or_default().to_owned();
    super::ledger::record_image(global, &walked.image, "scan", summary).await?;
    Ok(line)
}

/// The policy input of a walked image for `args.env`.
pub(crate) async fn assess_walked(
    args: &Ask<'_>,
    walked: &Walked,
    reference: &str,
    loaded: &super::policy::Loaded,
    global: &GlobalArgs,
) -> anyhow::Result<Assessed> {
    let env = loaded.config.environment(args.env)?;
    let trusted = super::policy::trusted(env)?;
    let index = args.index;
    let Walked {
        source,
        image,
        evidence,
        matches,
    } = walked;
    let production = env.profile(args.env) == "prod";
    let mut manifests = Vec::new();
    for path in args.manifest {
        let text = super::read_text(path)?;
        let name = path.display().to_string();
        manifests.extend(customs_checks::manifest::lint(
            &name,
            &text,
            customs_checks::manifest::Options { production },
        )?);
    }
    let previous = match args.compare {
        Some(previous) => {
            let (_, before) = super::open_image(previous, args.source).await?;
            Some(PreviousInput {
                reference: previous.to_owned(),
                digest: before.manifest_digest.to_string(),
                size: before.compressed_size(),
                layers: before.manifest.layers.len(),
            })
        }
        None => None,
    };
    let database = customs_pipeline::ledger::database_facts(index)?;
    let catalogue = super::policy::catalogue_path(args.base_catalogue);
    let bases = customs_pipeline::base::BaseCatalogue::load(&catalogue)?;
    let trusted: Vec<Trusted<'_>> = trusted.iter().map(super::keys::Trust::trusted).collect();
    let seen = customs_pipeline::ledger::seen(image);
    let blocked = match loaded.blocklist.as_ref().and_then(|b| {
        b.blocking(
            image.manifest_digest.as_str(),
            loaded.now.div_euclid(86_400),
        )
    }) {
        Some(block) => Some(block),
        None => stored_block(&seen.digest, &image.manifest_digest, loaded.now, global).await?,
    };
    let context = GateContext {
        reference,
        environment: args.env,
        config: env,
        trusted: &trusted,
        vex: &loaded.vex,
        kev: loaded.kev.as_ref(),
        bases: &bases,
        manifests,
        previous,
        blocked,
        database: Some(database.clone()),
        now: loaded.now,
    };
    let input = customs_pipeline::gate::input(source, image, evidence, matches, &context).await?;
    Ok(Assessed {
        input,
        image: image.clone(),
        database: database.digest,
        catalogue,
    })
}

/// A gate record's document read back, as [`record_decision`] wrote it:
/// the decision and the policy input it was computed from; `None` when
/// the record has none or it does not read as one.
pub(crate) async fn read_decision(
    store: &customs_store::Store,
    record: &customs_store::Record,
) -> anyhow::Result<Option<(DecisionRecord, PolicyInput)>> {
    let Some(document) = &record.document else {
        return Ok(None);
    };
    let Some(bytes) = store.document(document).await? else {
        return Ok(None);
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(None);
    };
    let mut part = |name: &str| value.get_mut(name).map(serde_json::Value::take);
    let (Some(decision), Some(input)) = (part("decision"), part("input")) else {
        return Ok(None);
    };
    Ok(serde_json::from_value(decision)
        .ok()
        .zip(serde_json::from_value(input).ok()))
}

/// The evidence store's block of the image (by the digest its tag names or
/// its platform manifest's), as the policy input says it. A store that
/// cannot be read is an error: the gate never passes for want of it.
async fn stored_block(
    digest: &customs_types::Digest,
    manifest: &customs_types::Digest,
    now: i64,
    global: &GlobalArgs,
) -> anyhow::Result<Option<customs_policy::input::BlockInput>> {
    let store = super::ledger::open_store(global)
        .await
        .context("cannot read the block list of the evidence store")?;
    let now = customs_sbom::rfc3339(u64::try_from(now).unwrap_or(0));
    for d in [digest, manifest] {
        if let Some(block) = store.block_of(d, &now).await? {
            return Ok(Some(customs_policy::input::BlockInput {
                reason: format!(
                    "{} (blocked by {} at {})",
                    block.reason, block.actor, block.at
                ),
                until: block.until,
            }));
        }
    }
    Ok(None)
}

/// What a decision was computed from besides the policy, exceptions and
/// advisory database: customs.toml and the VEX, KEV, block-list and base
/// catalogue files, by content.
pub(crate) fn settings_digest(
    files: &customs_cli::PolicyFiles,
    loaded: &super::policy::Loaded,
    catalogue: &std::path::Path,
    environment: &str,
) -> String {
    let mut hasher = customs_types::Hasher::new(customs_types::Algorithm::Sha256);
    hasher.update(environment.as_bytes());
    let mut paths: Vec<std::path::PathBuf> = Vec::new();
    paths.extend(super::policy::config_path(files));
    paths.extend(loaded.config.vex.iter().cloned());
    paths.extend(loaded.config.kev.iter().cloned());
    paths.extend(loaded.config.blocklist.iter().cloned());
    paths.push(catalogue.to_path_buf());
    for path in paths {
        hasher.update(path.display().to_string().as_bytes());
        hasher.update(&[0]);
        hasher.update(&fs_err::read(&path).unwrap_or_default());
        hasher.update(&[0]);
    }
    hasher.finish().to_string()
}

/// The earliest expiry of the exceptions a decision used (a reused
/// decision is stale from that day on).
fn earliest_expiry(record: &DecisionRecord) -> Option<String> {
    record
        .exceptions_applied
        .iter()
        .map(|e| e.expires.clone())
        .min()
}

/// Records a decision: its summary (what reuse compares) and the whole
/// record as a document.
pub(crate) async fn record_decision(
    record: &DecisionRecord,
    assessed: &Assessed,
    files: &customs_cli::PolicyFiles,
    loaded: &super::policy::Loaded,
    global: &GlobalArgs,
) -> anyhow::Result<Option<customs_store::Record>> {
    let denying: Vec<&str> = record
        .reasons
        .iter()
        .filter(|r| r.counts() && r.level == customs_policy::Level::Deny)
        .map(|r| r.rule.as_str())
        .collect();
    let summary = serde_json::json!({
        "line": format!("{} in {} ({} reason(s) at deny{})", record.verdict, record.environment,
            denying.len(),
            if record.exceptions_applied.is_empty() { String::new() } else { format!(", {} exception(s) used", record.exceptions_applied.len()) }),
        "verdict": record.verdict,
        "deny": denying,
        "policy": record.policy.digest,
        "exceptions": record.exceptions_digest,
        "database": assessed.database,
        "settings": settings_digest(files, loaded, &assessed.catalogue, &record.environment),
        "input": record.input_digest,
        "expires": earliest_expiry(record),
    });
    let mut new = super::ledger::new_record(
        customs_pipeline::ledger::seen(&assessed.image),
        "gate",
        summary,
    );
    new.environment = Some(record.environment.clone());
    // The decision and the input it was computed from: a release bundle
    // reads the signers and provenance back from it.
    new.document = Some(customs_store::Document::json(
        &serde_json::json!({"decision": record, "input": assessed.input}),
        "the decision record",
    )?);
    super::ledger::record(global, new).await
}

fn finish(
    record: &DecisionRecord,
    formats: &[(GateFormat, Option<std::path::PathBuf>)],
    policy: &customs_policy::Policy,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    for (format, file) in formats {
        let bytes = match format {
            GateFormat::Table => customs_report::gate::table(record).into_bytes(),
            GateFormat::Json => {
                let mut v = serde_json::to_vec_pretty(record)?;
                v.push(b'\n');
                v
            }
            GateFormat::Sarif => customs_report::gate::sarif(record, policy.rules())?,
        };
        match (format, file) {
            (GateFormat::Table, None) => crate::render::text(&String::from_utf8_lossy(&bytes))?,
            _ => emit(&bytes, file.as_deref())?,
        }
    }
    for e in &record.exceptions_expired {
        super::warn(&format!("{}: it no longer applies", e.message));
    }
    Ok(match record.verdict {
        Verdict::Deny => {
            if !global.quiet {
                super::warn(&format!(
                    "denied in {}: {} reason(s) at deny",
                    record.environment,
                    record
                        .reasons
                        .iter()
                        .filter(|r| r.counts() && r.level == customs_policy::Level::Deny)
                        .count()
                ));
            }
            ExitStatus::Failure
        }
        Verdict::Pass | Verdict::Warn => ExitStatus::Success,
    })
}
