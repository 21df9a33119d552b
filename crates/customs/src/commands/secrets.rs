//! `customs secrets REF`: secrets in every layer, the config and history.

use anyhow::Context as _;
use customs_checks::secrets::AllowList;
use customs_cli::{GlobalArgs, SecretsArgs};
use customs_oci::Target;
use customs_report::checks::ChecksReport;

use crate::exit::ExitStatus;
use crate::progress::progress;

/// Reads the allow-list of `--config`.
pub(crate) fn allow_list(path: Option<&std::path::Path>) -> anyhow::Result<AllowList> {
    match path {
        None => Ok(AllowList::default()),
        Some(p) => {
            let text = fs_err::read_to_string(p)?;
            Ok(AllowList::parse(&p.display().to_string(), &text)?)
        }
    }
}

pub(crate) async fn run(args: SecretsArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan = super::checks_output::plan(&args.output)?;
    let allow = allow_list(args.config.as_deref())?;
    let (_, target, options) = super::open(&args.image, &args.source)?;
    let (report, image) = match target {
        Target::RootFs(path) => (
            tokio::task::block_in_place(|| {
                customs_pipeline::secrets_of_rootfs(&path, &allow, &options.limits)
            })
            .with_context(|| format!("cannot scan {}", path.display()))?,
            None,
        ),
        Target::Image(source) => {
            let image = source.image(&super::platform_choice(&args.source)?).await?;
            let report = customs_pipeline::secrets_of_image(
                &source,
                &image,
                &allow,
                &options.limits,
                progress(global.quiet).as_ref(),
            )
            .await?;
            (report, Some(image))
        }
    };
    if let Some(image) = &image {
        // Rules and places only: a secret's value never reaches the store.
        let found: Vec<String> = report
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}{}",
                    f.rule,
                    f.location.path,
                    f.location
                        .line
                        .map_or_else(String::new, |l| format!(":{l}"))
                )
            })
            .collect();
        super::ledger::record_image(
            global,
            image,
            "secrets",
            serde_json::json!({
                "line": format!("{} secret(s) found", found.len()),
                "findings": found,
                "files": report.files,
            }),
        )
        .await?;
    }
    let mut checks = ChecksReport {
        targets: vec![args.image.clone()],
        findings: report.findings,
        notes: std::collections::BTreeMap::new(),
    };
    checks
        .notes
        .insert("files scanned".to_owned(), report.files);
    checks
        .notes
        .insert("bytes of text scanned".to_owned(), report.bytes);
    checks
        .notes
        .insert("binary files skipped".to_owned(), report.binary_files);
    if report.allowed > 0 {
        checks.notes.insert(
            "findings allowed by --config".to_owned(),
            report.allowed as u64,
        );
    }
    if !report.packaged.is_empty() {
        checks.notes.insert(
            "findings in files installed unchanged by distro packages".to_owned(),
            report.packaged.len() as u64,
        );
        if args.include_packaged {
            checks.findings.extend(report.packaged);
            customs_checks::sort(&mut checks.findings);
        } else if !global.quiet {
            super::warn(&format!(
                "{} finding(s) in files installed unchanged by distro packages are not listed (--include-packaged lists them)",
                report.packaged.len()
            ));
        }
    }
    super::checks_output::finish(&checks, plan, global)
}
