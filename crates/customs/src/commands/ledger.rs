//! The evidence store from the command line: opening it, recording
//! results, and the questions asked of it afterwards — `history`, `where`,
//! `who-has`, `affected`, `rescan`, `block`/`unblock`, `deploy`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use customs_cli::{
    AffectedArgs, BlockArgs, DeployCommand, DeployListArgs, DeployRecordArgs, DeployVerifyArgs,
    Format, GlobalArgs, HistoryArgs, RescanArgs, UnblockArgs, WhereArgs, WhoHasArgs,
};
use customs_pipeline::deploy::MAX_REPORT_BYTES;
use customs_store::{NewDeployment, NewRecord, PackageFilter, Seen, Store};
use customs_types::Digest;

use crate::exit::ExitStatus;

/// The store `--database` / `CUSTOMS_DATABASE_URL` names, else
/// `customs.db` in the XDG data folder.
pub(crate) fn store_url(global: &GlobalArgs) -> String {
    global.database.clone().unwrap_or_else(|| {
        customs_store::default_url(
            &super::xdg_base("XDG_DATA_HOME", ".local/share").join("customs"),
        )
    })
}

/// Who records are by: `CUSTOMS_ACTOR`, else the CI's identity, else
/// `$USER@host`.
pub(crate) fn actor() -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(actor) = var(customs_cli::EnvVars::CUSTOMS_ACTOR) {
        return actor;
    }
    if let Some(actor) = var("GITHUB_ACTOR") {
        let run = var("GITHUB_RUN_ID").map_or_else(String::new, |r| format!(" (run {r})"));
        return format!("github:{actor}{run}");
    }
    if let Some(actor) = var("GITLAB_USER_LOGIN") {
        let job = var("CI_JOB_ID").map_or_else(String::new, |j| format!(" (job {j})"));
        return format!("gitlab:{actor}{job}");
    }
    let user = var("USER")
        .or_else(|| var("LOGNAME"))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = fs_err::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("{user}@{host}"),
        None => user,
    }
}

/// The store, opened once per process.
static STORE: tokio::sync::OnceCell<Store> = tokio::sync::OnceCell::const_new();

/// Opens the store (for commands whose job is the store: ignores
/// `--no-record`); once per process.
pub(crate) async fn open_store(global: &GlobalArgs) -> anyhow::Result<Store> {
    let store = STORE
        .get_or_try_init(|| async {
            let url = store_url(global);
            Ok::<_, anyhow::Error>(
                Store::open(&url)
                    .await?
                    .with_actor(actor())
                    .with_tool(format!("customs {}", env!("CARGO_PKG_VERSION"))),
            )
        })
        .await?;
    Ok(store.clone())
}

/// The store results are recorded in, or `None` with `--no-record`.
pub(crate) async fn recorder(global: &GlobalArgs) -> anyhow::Result<Option<Store>> {
    if global.no_record {
        return Ok(None);
    }
    open_store(global).await.map(Some).context(
        "cannot open the evidence store to record the result (--no-record skips recording)",
    )
}

/// Records one result (nothing with `--no-record`); returns the record.
pub(crate) async fn record(
    global: &GlobalArgs,
    record: NewRecord,
) -> anyhow::Result<Option<customs_store::Record>> {
    let Some(store) = recorder(global).await? else {
        return Ok(None);
    };
    let recorded = store
        .record(record)
        .await
        .context("cannot record the result (--no-record skips recording)")?;
    Ok(Some(recorded))
}

/// Records a result about an image (nothing with `--no-record`).
pub(crate) async fn record_image(
    global: &GlobalArgs,
    image: &customs_oci::Image,
    kind: &str,
    summary: serde_json::Value,
) -> anyhow::Result<()> {
    record(
        global,
        new_record(customs_pipeline::ledger::seen(image), kind, summary),
    )
    .await?;
    Ok(())
}

/// Stores an image's SBOM (once per digest) and records a result about it.
pub(crate) async fn record_with_sbom(
    global: &GlobalArgs,
    image: &customs_oci::Image,
    sbom: &customs_sbom::Sbom,
    kind: &str,
    summary: serde_json::Value,
) -> anyhow::Result<()> {
    let Some(store) = recorder(global).await? else {
        return Ok(());
    };
    let seen = customs_pipeline::ledger::seen(image);
    store
        .record_sbom(&seen, sbom)
        .await
        .context("cannot store the SBOM (--no-record skips recording)")?;
    store
        .record(new_record(seen, kind, summary))
        .await
        .context("cannot record the result (--no-record skips recording)")?;
    Ok(())
}

/// An image of a registry known by `digest`, with the tag it was named by.
pub(crate) fn seen_in(source: &customs_oci::RegistrySource, digest: &Digest) -> Seen {
    let name = source.reference().name();
    Seen {
        digest: digest.clone(),
        name: format!("{name}@{digest}"),
        tags: source
            .reference()
            .tag()
            .map(|t| format!("{name}:{t}"))
            .into_iter()
            .collect(),
    }
}

/// A new record about `seen`.
pub(crate) fn new_record(seen: Seen, kind: &str, summary: serde_json::Value) -> NewRecord {
    NewRecord {
        subject: seen,
        kind: kind.to_owned(),
        environment: None,
        summary,
        document: None,
    }
}

/// The one digest `text` names: a digest, `REF@sha256:…`, a unique prefix
/// the store knows, a `repository:tag` it saw (the newest digest of that
/// one repository), or an image reference read for its digest.
pub(crate) async fn resolve(
    store: &Store,
    text: &str,
    source: &customs_cli::SourceArgs,
) -> anyhow::Result<Digest> {
    if let Some((_, digest)) = text.rsplit_once('@')
        && let Ok(digest) = Digest::parse(digest)
    {
        return Ok(digest);
    }
    if let Ok(digest) = Digest::parse(text) {
        return Ok(digest);
    }
    if customs_store::is_digest_prefix(text) {
        let found = store.resolve(text).await?;
        return match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => anyhow::bail!(
                "the evidence store {} knows no image whose digest starts with `{text}`",
                store.location()
            ),
            many => anyhow::bail!(
                "`{text}` is ambiguous: it starts {} digests ({}…); give more of the digest",
                many.len(),
                many.iter()
                    .take(3)
                    .map(|d| d.short().to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    let matches = store.tag_matches(text).await?;
    let repositories: BTreeSet<&str> = matches.iter().map(|(r, _)| r.as_str()).collect();
    if repositories.len() > 1 {
        anyhow::bail!(
            "`{text}` is ambiguous: the store saw it in {} ({}); name the repository",
            repositories.len(),
            repositories.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if let Some((_, digest)) = matches.first() {
        return Ok(digest.clone());
    }
    // Not known by that name: an image reference is read for its digest
    // (what the tag or layout points at now).
    let (_, image) = super::open_image(text, source).await.with_context(|| {
        format!(
            "the evidence store {} knows no image `{text}`, and it cannot be read",
            store.location()
        )
    })?;
    Ok(customs_pipeline::ledger::seen(&image).digest)
}

/// [`resolve`], and the store must know the digest (a question about an
/// image it never saw has no answer, only an error).
pub(crate) async fn resolve_known(
    store: &Store,
    text: &str,
    source: &customs_cli::SourceArgs,
) -> anyhow::Result<Digest> {
    let digest = resolve(store, text, source).await?;
    anyhow::ensure!(
        store.knows(&digest).await?,
        "the evidence store {} knows nothing about {digest} (scan, gate or record a deployment of it first)",
        store.location()
    );
    Ok(digest)
}

/// A deployment as `where` and `deploy list` show it.
fn deployment_row(d: &customs_store::Deployment) -> Vec<String> {
    vec![
        d.environment.clone(),
        d.service.clone(),
        d.cluster.clone(),
        d.namespace.clone(),
        d.digest.clone(),
        d.since.get(..19).unwrap_or(&d.since).replace('T', " "),
        d.until.as_deref().map_or_else(
            || "running".to_owned(),
            |u| format!("replaced {}", u.get(..19).unwrap_or(u).replace('T', " ")),
        ),
    ]
}

/// The header of [`deployment_row`].
const DEPLOYMENT_HEADER: [&str; 7] = [
    "ENV",
    "SERVICE",
    "CLUSTER",
    "NAMESPACE",
    "DIGEST",
    "SINCE (UTC)",
    "STATE",
];

fn print_table(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    crate::render::text(&customs_report::columns::render(header, rows))
}

pub(crate) async fn history(args: &HistoryArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let store = open_store(global).await?;
    let digest = resolve_known(&store, &args.image, &args.source).await?;
    let entries = store.history(&digest).await?;
    let block = store.block_of(&digest, &customs_store::now()).await?;
    match args.output {
        Format::Json => crate::render::json(&serde_json::json!({
            "digest": digest.to_string(),
            "blocked": block,
            "history": entries,
        }))?,
        Format::Table => {
            if !global.quiet {
                super::warn_info(&format!("{digest} (store {})", store.location()));
            }
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        e.at.get(..19).unwrap_or(&e.at).replace('T', " "),
                        e.kind.clone(),
                        e.environment.clone().unwrap_or_default(),
                        e.what.clone(),
                        e.actor.clone(),
                    ]
                })
                .collect();
            print_table(&["WHEN (UTC)", "WHAT", "ENV", "DETAIL", "BY"], &rows)?;
            if let Some(block) = &block {
                super::warn(&format!("{digest} is BLOCKED: {}", block.reason));
            }
        }
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn where_(args: &WhereArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let store = open_store(global).await?;
    let now = customs_store::now();
    if args.blocked {
        let mut rows = Vec::new();
        let mut found = Vec::new();
        for block in store.blocks(&now).await? {
            let digest = Digest::parse(&block.digest)?;
            for d in store.deployments_of(&digest).await? {
                if d.current() {
                    rows.push(vec![
                        block.digest.clone(),
                        d.environment.clone(),
                        d.service.clone(),
                        d.cluster.clone(),
                        d.namespace.clone(),
                        block.reason.clone(),
                    ]);
                    found.push(serde_json::json!({"block": block, "deployment": d}));
                }
            }
        }
        match args.output {
            Format::Json => crate::render::json(&found)?,
            Format::Table => print_table(
                &[
                    "DIGEST",
                    "ENV",
                    "SERVICE",
                    "CLUSTER",
                    "NAMESPACE",
                    "BLOCKED BECAUSE",
                ],
                &rows,
            )?,
        }
        return Ok(if rows.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    let text = args.image.as_deref().unwrap_or_default();
    let digest = resolve_known(&store, text, &args.source).await?;
    let deployments = store.deployments_of(&digest).await?;
    let block = store.block_of(&digest, &now).await?;
    match args.output {
        Format::Json => crate::render::json(&serde_json::json!({
            "digest": digest.to_string(),
            "blocked": block,
            "deployments": deployments,
        }))?,
        Format::Table => {
            let rows: Vec<Vec<String>> = deployments.iter().map(deployment_row).collect();
            if rows.is_empty() && !global.quiet {
                super::warn_info(&format!("{digest} has no recorded deployment"));
            }
            print_table(&DEPLOYMENT_HEADER, &rows)?;
        }
    }
    let running = deployments.iter().any(customs_store::Deployment::current);
    if let Some(block) = block
        && running
    {
        super::warn(&format!(
            "{digest} is blocked ({}) and still runs",
            block.reason
        ));
        return Ok(ExitStatus::Failure);
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn who_has(args: &WhoHasArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let filter =
        PackageFilter::parse(&args.package, args.kind.as_deref()).map_err(anyhow::Error::msg)?;
    let store = open_store(global).await?;
    let holders = store
        .who_has(&filter, args.deployed, args.env.as_deref())
        .await?;
    match args.output {
        Format::Json => crate::render::json(&holders)?,
        Format::Table => {
            let deployed = args.deployed || args.env.is_some();
            let rows: Vec<Vec<String>> = holders
                .iter()
                .map(|h| {
                    let mut row = vec![
                        h.digest.clone(),
                        h.image.clone(),
                        h.name.clone(),
                        h.version.clone(),
                        h.kind.clone(),
                    ];
                    if deployed {
                        row.push(
                            h.deployments
                                .iter()
                                .map(|d| format!("{}/{}", d.environment, d.service))
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                    }
                    row
                })
                .collect();
            let mut header = vec!["DIGEST", "IMAGE", "PACKAGE", "VERSION", "TYPE"];
            if deployed {
                header.push("RUNS AS");
            }
            print_table(&header, &rows)?;
            if !global.quiet {
                let images: BTreeSet<&str> = holders.iter().map(|h| h.digest.as_str()).collect();
                super::warn_info(&format!("{} image(s) hold {}", images.len(), args.package));
            }
        }
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn affected(
    args: &AffectedArgs,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let store = open_store(global).await?;
    let mut results = Vec::new();
    for id in &args.ids {
        let affected = store.affected(&index, id, args.env.as_deref()).await?;
        if !affected.known {
            super::warn(&format!(
                "the advisory database has no record of {id} (nor of a record aliasing it)"
            ));
        }
        results.push(affected);
    }
    let deployed = results
        .iter()
        .flat_map(|a| a.images.iter())
        .any(|i| !i.deployments.is_empty());
    match args.output {
        Format::Json => crate::render::json(&results)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = results
                .iter()
                .flat_map(|a| {
                    a.images.iter().map(|i| {
                        vec![
                            a.id.clone(),
                            i.digest.clone(),
                            i.image.clone(),
                            format!("{} {}", i.package, i.version),
                            i.fixed.clone().unwrap_or_else(|| "-".to_owned()),
                            if i.deployments.is_empty() {
                                "-".to_owned()
                            } else {
                                i.deployments
                                    .iter()
                                    .map(|d| format!("{}/{}", d.environment, d.service))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            },
                        ]
                    })
                })
                .collect();
            print_table(
                &[
                    "VULNERABILITY",
                    "DIGEST",
                    "IMAGE",
                    "PACKAGE",
                    "FIXED IN",
                    "RUNS AS",
                ],
                &rows,
            )?;
        }
    }
    // Exit 1 when a running digest is affected: the incident question's
    // answer is "yes".
    Ok(if deployed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

pub(crate) async fn rescan(args: &RescanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let store = open_store(global).await?;
    let digests = store.deployed_digests(args.env.as_deref()).await?;
    let results = customs_pipeline::ledger::rescan(&store, &index, &digests).await?;
    for r in results.iter().filter(|r| !r.sbom) {
        super::warn(&format!(
            "{} runs but has no stored SBOM: scan it once (customs scan IMAGE@DIGEST) so that rescans cover it",
            r.digest
        ));
    }
    match args.output {
        Format::Json => crate::render::json(&results)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = results
                .iter()
                .filter(|r| r.sbom)
                .map(|r| {
                    vec![
                        r.digest.clone(),
                        r.findings.to_string(),
                        r.new.len().to_string(),
                        r.gone.len().to_string(),
                        r.new.join("; "),
                    ]
                })
                .collect();
            print_table(
                &["DIGEST", "FINDINGS", "NEW", "GONE", "NEW FINDINGS"],
                &rows,
            )?;
        }
    }
    Ok(if results.iter().any(|r| !r.new.is_empty()) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

pub(crate) async fn block(args: &BlockArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::ensure!(!args.reason.trim().is_empty(), "--reason must say why");
    if let Some(until) = &args.until {
        anyhow::ensure!(
            customs_types::time::parse_date(until).is_some(),
            "--until {until}: not a date (YYYY-MM-DD)"
        );
    }
    let store = open_store(global).await?;
    let digest = resolve(&store, &args.digest, &args.source).await?;
    let block = store
        .block(&digest, &args.reason, args.until.as_deref())
        .await?;
    if !global.quiet {
        let running: Vec<String> = store
            .deployments_of(&digest)
            .await?
            .iter()
            .filter(|d| d.current())
            .map(customs_store::Deployment::slot)
            .collect();
        super::warn_info(&format!(
            "blocked {digest}{}: the gate denies it in every environment and promote refuses it",
            block
                .until
                .as_deref()
                .map_or_else(String::new, |u| format!(" until {u}"))
        ));
        if !running.is_empty() {
            super::warn(&format!("it still runs as {}", running.join(", ")));
        }
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn unblock(args: &UnblockArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let store = open_store(global).await?;
    let digest = resolve(&store, &args.digest, &args.source).await?;
    let now = customs_store::now();
    anyhow::ensure!(
        store.block_of(&digest, &now).await?.is_some(),
        "{digest} is not blocked"
    );
    store.unblock(&digest, &args.reason).await?;
    if !global.quiet {
        super::warn_info(&format!("unblocked {digest}"));
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn store(
    command: customs_cli::StoreCommand,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let store = open_store(global).await?;
    match command {
        customs_cli::StoreCommand::Info(args) => {
            let (bytes, images) = store.size().await?;
            let per_image = bytes.checked_div(images).unwrap_or(0);
            let backend = store.backend().name();
            let version = store.schema_version().await?;
            match args.output {
                Format::Json => crate::render::json(&serde_json::json!({
                    "location": store.location(),
                    "backend": backend,
                    "schema_version": version,
                    "images": images,
                    "bytes": bytes,
                    "bytes_per_image": per_image,
                }))?,
                Format::Table => crate::render::text(&format!(
                    "Location        {}\nBackend         {backend}\nSchema version  {version}\nImages          {images}\nSize            {} ({} per image)\n",
                    store.location(),
                    crate::render::size(bytes),
                    crate::render::size(per_image),
                ))?,
            }
            Ok(ExitStatus::Success)
        }
        customs_cli::StoreCommand::Check(args) => {
            let report = store.check().await?;
            match args.output {
                Format::Json => crate::render::json(&report)?,
                Format::Table => {
                    for problem in &report.problems {
                        super::warn(problem);
                    }
                    crate::render::text(&format!(
                        "{}: {} images, {} records, {} documents verified, {} SBOM indexes counted, {} deployments: {}",
                        store.location(),
                        report.images,
                        report.records,
                        report.documents,
                        report.sboms,
                        report.deployments,
                        if report.problems.is_empty() {
                            "consistent".to_owned()
                        } else {
                            format!("{} problem(s)", report.problems.len())
                        }
                    ))?;
                }
            }
            Ok(if report.problems.is_empty() {
                ExitStatus::Success
            } else {
                ExitStatus::Failure
            })
        }
    }
}

pub(crate) async fn deploy(
    command: DeployCommand,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    match command {
        DeployCommand::Record(args) => deploy_record(&args, global).await,
        DeployCommand::List(args) => deploy_list(&args, global).await,
        DeployCommand::Verify(args) => deploy_verify(&args, global).await,
    }
}

/// Whether a deploy target is a manifest file rather than an image.
fn is_manifest(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
        && std::path::Path::new(target).is_file()
}

/// The digest a deployed image reference runs: its own when pinned (never
/// trusting the tag next to it), else the tag resolved now, with a warning.
async fn deployed_digest(
    reference: &str,
    args: &DeployRecordArgs,
) -> anyhow::Result<(Seen, String)> {
    if let Some((_, digest)) = reference.rsplit_once('@')
        && let Ok(digest) = Digest::parse(digest)
    {
        let name = reference.to_owned();
        return Ok((
            Seen {
                digest,
                name: name.clone(),
                tags: Vec::new(),
            },
            name,
        ));
    }
    super::warn(&format!(
        "{reference} is not pinned to a digest: recording what the tag points at now (pin manifests with `customs pin`)"
    ));
    let image = super::pin::resolve_image(reference, &args.source).await?;
    Ok((customs_pipeline::ledger::seen(&image), reference.to_owned()))
}

async fn deploy_record(args: &DeployRecordArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    // Everything is resolved before anything is written; each reference
    // once, however many workloads name it.
    let mut planned: Vec<NewDeployment> = Vec::new();
    let mut resolved: BTreeMap<String, (Seen, String)> = BTreeMap::new();
    let mut resolve_once = async |reference: &str| -> anyhow::Result<(Seen, String)> {
        if let Some(known) = resolved.get(reference) {
            return Ok(known.clone());
        }
        let found = deployed_digest(reference, args).await?;
        resolved.insert(reference.to_owned(), found.clone());
        Ok(found)
    };
    for target in &args.targets {
        if is_manifest(target) {
            let text = super::read_text(std::path::Path::new(target))?;
            let workloads = customs_checks::manifest::workload_images(target, &text)?;
            anyhow::ensure!(!workloads.is_empty(), "{target}: no workload image in it");
            for w in workloads {
                let (image, reference) = resolve_once(&w.image).await?;
                planned.push(NewDeployment {
                    environment: args.env.clone(),
                    service: args.service.clone().unwrap_or_else(|| w.service.clone()),
                    cluster: args.cluster.clone(),
                    namespace: w.namespace.unwrap_or_else(|| args.namespace.clone()),
                    image,
                    reference,
                    source: target.clone(),
                });
            }
        } else {
            let service = args.service.clone().with_context(|| {
                format!("--service names what {target} runs as (manifests name their own)")
            })?;
            let (image, reference) = resolve_once(target).await?;
            planned.push(NewDeployment {
                environment: args.env.clone(),
                service,
                cluster: args.cluster.clone(),
                namespace: args.namespace.clone(),
                image,
                reference,
                source: "cli".to_owned(),
            });
        }
    }
    let store = open_store(global).await?;
    let now = customs_store::now();
    let mut rows = Vec::new();
    for deployment in &planned {
        if let Some(block) = store.block_of(&deployment.image.digest, &now).await? {
            super::warn(&format!(
                "{} is BLOCKED ({}): recorded, but it must not run",
                deployment.image.digest, block.reason
            ));
        }
        let recorded = store.record_deployment(deployment).await?;
        rows.push(vec![
            recorded.environment,
            recorded.service,
            recorded.namespace,
            recorded.digest,
            recorded.reference,
        ]);
    }
    if !global.quiet {
        print_table(
            &["ENV", "SERVICE", "NAMESPACE", "DIGEST", "REFERENCE"],
            &rows,
        )?;
    }
    Ok(ExitStatus::Success)
}

async fn deploy_list(args: &DeployListArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let store = open_store(global).await?;
    let deployments = store.deployments(args.env.as_deref(), args.all).await?;
    match args.output {
        Format::Json => crate::render::json(&deployments)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = deployments.iter().map(deployment_row).collect();
            print_table(&DEPLOYMENT_HEADER, &rows)?;
        }
    }
    Ok(ExitStatus::Success)
}

async fn deploy_verify(args: &DeployVerifyArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut running = Vec::new();
    for file in &args.files {
        let (what, bytes) = if file.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(std::io::stdin(), MAX_REPORT_BYTES + 1),
                &mut bytes,
            )?;
            ("standard input".to_owned(), bytes)
        } else {
            anyhow::ensure!(
                fs_err::metadata(file)?.len() <= MAX_REPORT_BYTES,
                "{}: larger than {MAX_REPORT_BYTES} bytes",
                file.display()
            );
            (file.display().to_string(), fs_err::read(file)?)
        };
        anyhow::ensure!(
            bytes.len() as u64 <= MAX_REPORT_BYTES,
            "{what}: larger than {MAX_REPORT_BYTES} bytes"
        );
        running.extend(customs_pipeline::deploy::running_of(&what, &bytes)?);
    }
    let store = open_store(global).await?;
    let now = customs_store::now();
    let recorded = store.deployments(Some(&args.env), false).await?;
    let mut problems: Vec<(customs_pipeline::deploy::Running, String)> = Vec::new();
    let mut facts: BTreeMap<String, (Option<customs_store::Block>, bool)> = BTreeMap::new();
    for r in &running {
        let Some(digest) = &r.digest else {
            problems.push((
                r.clone(),
                format!(
                    "runs {} without a digest: what runs cannot be known",
                    r.image
                ),
            ));
            continue;
        };
        let mine: Vec<&customs_store::Deployment> = recorded
            .iter()
            .filter(|d| {
                d.service == r.service
                    && (d.namespace.is_empty()
                        || r.namespace.is_empty()
                        || d.namespace == r.namespace)
            })
            .collect();
        if mine.is_empty() {
            problems.push((
                r.clone(),
                format!("no deployment of {} is recorded in {}", r.service, args.env),
            ));
        } else if !mine.iter().any(|d| &d.digest == digest) {
            problems.push((
                r.clone(),
                format!(
                    "runs {digest}, the recorded deployment is {}",
                    mine[0].digest
                ),
            ));
        }
        // What the store says of a digest is asked once, however many
        // containers run it.
        let (block, was_gated) = match facts.get(digest) {
            Some(known) => known.clone(),
            None => {
                let parsed = Digest::parse(digest)?;
                let block = store.block_of(&parsed, &now).await?;
                let gated = store
                    .records(&parsed, Some("gate"))
                    .await?
                    .iter()
                    .any(|rec| rec.environment.as_deref() == Some(args.env.as_str()));
                facts.insert(digest.clone(), (block.clone(), gated));
                (block, gated)
            }
        };
        if let Some(block) = block {
            problems.push((r.clone(), format!("{digest} is BLOCKED: {}", block.reason)));
        }
        if !was_gated {
            problems.push((
                r.clone(),
                format!("{digest} was never gated for {}", args.env),
            ));
        }
    }
    // Drift: one service, several digests (a mutable tag pulled at
    // different times on different nodes).
    let mut by_service: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for r in &running {
        if let Some(d) = &r.digest {
            by_service
                .entry((r.namespace.as_str(), r.service.as_str()))
                .or_default()
                .insert(d.as_str());
        }
    }
    for ((namespace, service), digests) in &by_service {
        if digests.len() > 1 {
            let first = running
                .iter()
                .find(|r| r.service == *service && r.namespace == *namespace)
                .cloned();
            if let Some(first) = first {
                problems.push((
                    first,
                    format!(
                        "{service} runs {} different digests across its containers: {}",
                        digests.len(),
                        digests.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    match args.output {
        Format::Json => crate::render::json(&serde_json::json!({
            "environment": args.env,
            "containers": running.len(),
            "problems": problems.iter().map(|(r, p)| serde_json::json!({"container": r, "problem": p})).collect::<Vec<_>>(),
        }))?,
        Format::Table => {
            let rows: Vec<Vec<String>> = problems
                .iter()
                .map(|(r, p)| {
                    vec![
                        r.service.clone(),
                        r.namespace.clone(),
                        r.node.clone(),
                        r.container.clone(),
                        p.clone(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print_table(
                    &["SERVICE", "NAMESPACE", "NODE", "CONTAINER", "PROBLEM"],
                    &rows,
                )?;
            }
            if !global.quiet {
                super::warn_info(&format!(
                    "{} container(s) checked against the deployments recorded in {}: {} problem(s)",
                    running.len(),
                    args.env,
                    problems.len()
                ));
            }
        }
    }
    Ok(if problems.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
