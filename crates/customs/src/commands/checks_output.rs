//! Output of `secrets` and `lint`: formats, files, `--fail-on`.

use std::path::PathBuf;

use anyhow::Context as _;
use customs_cli::{ChecksOutputArgs, GlobalArgs};
use customs_report::checks::{self, ChecksReport};
use customs_types::Severity;

use super::output::{emit, outputs};
use crate::exit::ExitStatus;

#[derive(Debug, Clone, Copy)]
enum Format {
    Table,
    Json,
    Sarif,
}

fn parse(name: &str) -> anyhow::Result<Format> {
    Ok(match name {
        "table" => Format::Table,
        "json" => Format::Json,
        "sarif" => Format::Sarif,
        other => anyhow::bail!("unknown format `{other}` (formats: table, json, sarif)"),
    })
}

/// The output flags, checked before any work is done.
pub(crate) struct Plan {
    outputs: Vec<(Format, Option<PathBuf>)>,
    fail_on: Option<Severity>,
}

/// Parses the output flags.
pub(crate) fn plan(args: &ChecksOutputArgs) -> anyhow::Result<Plan> {
    Ok(Plan {
        outputs: outputs(&args.files, parse)?,
        fail_on: args
            .fail_on
            .as_deref()
            .map(str::parse::<Severity>)
            .transpose()
            .context("invalid --fail-on")?,
    })
}

/// Writes the report and turns `--fail-on` into the exit status.
pub(crate) fn finish(
    report: &ChecksReport,
    plan: Plan,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    for (format, file) in plan.outputs {
        let bytes = match format {
            Format::Table => checks::table(report).into_bytes(),
            Format::Json => checks::json(report)?,
            Format::Sarif => checks::sarif(report)?,
        };
        emit(&bytes, file.as_deref())?;
    }
    Ok(super::fail_on(
        plan.fail_on,
        |t| report.fails(t),
        "findings",
        global.quiet,
    ))
}
