//! `customs quickview REF`: one screen about an image.

use customs_cli::{Format, GlobalArgs, QuickviewArgs};
use customs_report::quickview::{self, BaseImage};
use customs_report::scan::Counts;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::render;

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    subject: &'a customs_sbom::Subject,
    #[serde(skip_serializing_if = "Option::is_none")]
    distro: Option<&'a customs_sbom::Distro>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_image: Option<&'a BaseImage>,
    packages: std::collections::BTreeMap<customs_sbom::PackageType, usize>,
    vulnerabilities: Counts,
    database_built_at: u64,
}

pub(crate) async fn run(args: QuickviewArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let (sbom, image) = super::make_sbom(&args.image, &args.source, &[], global).await?;
    // The base as the gate tells it: annotations (or labels), else the
    // local base catalogue.
    let catalogue =
        customs_pipeline::base::BaseCatalogue::load(&super::policy::catalogue_path(None))?;
    let base = image.map(|image| {
        let detected = customs_pipeline::base::detect(&image, &[], &catalogue);
        BaseImage {
            name: detected.as_ref().and_then(|d| d.name.clone()),
            digest: detected.and_then(|d| d.digest),
        }
    });
    let report = super::scan::report(&index, sbom)?;
    match args.output {
        Format::Table => render::text(&quickview::render(&report, base.as_ref()))?,
        Format::Json => render::json(&Document {
            schema: "customs.quickview/v1",
            subject: &report.sbom.subject,
            distro: report.sbom.distro.as_ref(),
            base_image: base
                .as_ref()
                .filter(|b| b.name.is_some() || b.digest.is_some()),
            packages: report.sbom.counts(),
            vulnerabilities: Counts::of(&report.matches.findings),
            database_built_at: report.database.built_at,
        })?,
    }
    Ok(ExitStatus::Success)
}
