//! `customs db import | update | status`: the local vulnerability database.

use std::time::Duration;

use anyhow::Context as _;
use customs_cli::{DbCommand, DbImportArgs, DbStatusArgs, DbUpdateArgs, Format, GlobalArgs};
use customs_vuln::index::ImportSource;
use customs_vuln::update::{DEFAULT_ECOSYSTEMS, DEFAULT_OSV_URL, download_exports};
use customs_vuln::{ImportSummary, VulnIndex};

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(command: DbCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match command {
        DbCommand::Import(args) => import(&args),
        DbCommand::Update(args) => update(args, global).await,
        DbCommand::Status(args) => status(&args),
    }
}

fn import(args: &DbImportArgs) -> anyhow::Result<ExitStatus> {
    let dir = super::db_dir(&args.db);
    let sources: Vec<ImportSource> = args.paths.iter().map(|p| ImportSource::path(p)).collect();
    let summary = tokio::task::block_in_place(|| {
        customs_vuln::import(&dir, &sources, customs_sbom::timestamp())
    })
    .context("the import failed; the database was left as it was")?;
    report(&summary, &dir)
}

async fn update(args: DbUpdateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let dir = super::db_dir(&args.db);
    let summary = download_and_import(
        &dir,
        args.url.as_deref(),
        &args.ecosystems,
        args.timeout,
        global,
    )
    .await?;
    report(&summary, &dir)
}

/// Downloads osv.dev's exports (of `ecosystems`, else every one customs
/// matches) and imports them into `dir`; on failure the database is kept.
pub(crate) async fn download_and_import(
    dir: &std::path::Path,
    url: Option<&str>,
    ecosystems: &[String],
    timeout: u64,
    global: &GlobalArgs,
) -> anyhow::Result<ImportSummary> {
    fs_err::create_dir_all(dir)?;
    let base = url.unwrap_or(DEFAULT_OSV_URL);
    let ecosystems: Vec<String> = if ecosystems.is_empty() {
        DEFAULT_ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect()
    } else {
        ecosystems.to_vec()
    };
    let downloads = tempfile::Builder::new()
        .prefix(".osv-download-")
        .tempdir_in(dir)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    if !global.quiet {
        super::warn_info(&format!(
            "downloading {} OSV export(s) from {}",
            ecosystems.len(),
            customs_vuln::update::display_url(base)
        ));
    }
    let sources = download_exports(
        base,
        &ecosystems,
        downloads.path(),
        Duration::from_secs(timeout.clamp(1, 3600)),
    )
    .await
    .context(
        "the update failed and the current database was kept; on a machine without network \
         access, copy the exports there and run `customs db import`",
    )?;
    tokio::task::block_in_place(|| customs_vuln::import(dir, &sources, customs_sbom::timestamp()))
        .context("the import failed; the database was left as it was")
}

fn report(summary: &ImportSummary, dir: &std::path::Path) -> anyhow::Result<ExitStatus> {
    for w in &summary.warnings {
        super::warn(w);
    }
    if summary.warning_count > summary.warnings.len() as u64 {
        super::warn(&format!(
            "… and {} more warnings",
            summary.warning_count - summary.warnings.len() as u64
        ));
    }
    let rows: Vec<Vec<String>> = summary
        .sources
        .iter()
        .map(|s| {
            vec![
                s.source.clone(),
                s.records.to_string(),
                s.added.to_string(),
                s.updated.to_string(),
                s.unchanged.to_string(),
                s.withdrawn.to_string(),
                s.skipped.to_string(),
            ]
        })
        .collect();
    let mut text = customs_report::columns::render(
        &[
            "SOURCE",
            "RECORDS",
            "ADDED",
            "UPDATED",
            "UNCHANGED",
            "WITHDRAWN",
            "SKIPPED",
        ],
        &rows,
    );
    let index = VulnIndex::open(dir)?;
    let status = index.status()?;
    text.push_str(&format!(
        "\n{} advisories in {}\n",
        status.advisories,
        status.path.display()
    ));
    render::text(&text)?;
    Ok(ExitStatus::Success)
}

fn status(args: &DbStatusArgs) -> anyhow::Result<ExitStatus> {
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let status = index.status()?;
    match args.output {
        Format::Json => render::json(&status)?,
        Format::Table => {
            let mut text = format!(
                "database   {}\nbuilt      {}\nnewest     {}\nadvisories {}\n\n",
                status.path.display(),
                customs_sbom::rfc3339(status.built_at),
                status
                    .newest_advisory
                    .map_or_else(|| "-".to_owned(), customs_sbom::rfc3339),
                status.advisories
            );
            let rows: Vec<Vec<String>> = status
                .ecosystems
                .iter()
                .map(|(e, n)| vec![e.clone(), n.to_string()])
                .collect();
            text.push_str(&customs_report::columns::render(
                &["ECOSYSTEM", "ADVISORIES"],
                &rows,
            ));
            let rows: Vec<Vec<String>> = status
                .sources
                .iter()
                .map(|s| {
                    vec![
                        s.source.clone(),
                        customs_sbom::rfc3339(s.imported_at),
                        s.records.to_string(),
                    ]
                })
                .collect();
            text.push('\n');
            text.push_str(&customs_report::columns::render(
                &["SOURCE", "IMPORTED", "RECORDS"],
                &rows,
            ));
            render::text(&text)?;
        }
    }
    Ok(ExitStatus::Success)
}
