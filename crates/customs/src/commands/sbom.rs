//! `customs sbom REF`: the software bill of materials, in one or several
//! formats from one pass over the image.

use customs_cli::{GlobalArgs, SbomArgs};
use customs_sbom::Sbom;
use customs_sbom::format::{cyclonedx16, native, spdx23};

use super::output::{emit, outputs};
use crate::exit::ExitStatus;

/// The formats `-o` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SbomFormat {
    Table,
    Json,
    SpdxJson,
    CyclonedxJson,
}

impl SbomFormat {
    fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "table" => Self::Table,
            "json" | "customs-json" => Self::Json,
            "spdx-json" | "spdx" => Self::SpdxJson,
            "cyclonedx-json" | "cyclonedx" | "cdx-json" => Self::CyclonedxJson,
            other => anyhow::bail!(
                "unknown SBOM format `{other}` (formats: table, json, spdx-json, cyclonedx-json)"
            ),
        })
    }

    fn render(self, sbom: &Sbom) -> anyhow::Result<Vec<u8>> {
        Ok(match self {
            Self::Table => customs_report::sbom::table(sbom).into_bytes(),
            Self::Json => native::to_vec(sbom)?,
            Self::SpdxJson => spdx23::to_vec(sbom)?,
            Self::CyclonedxJson => cyclonedx16::to_vec(sbom)?,
        })
    }
}

pub(crate) async fn run(args: SbomArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let outputs = outputs(&args.output, SbomFormat::parse)?;
    let (sbom, _) = super::make_sbom(
        &args.image,
        &args.source,
        &args.catalogers.selection,
        global,
    )
    .await?;
    for (format, file) in outputs {
        emit(&format.render(&sbom)?, file.as_deref())?;
    }
    Ok(ExitStatus::Success)
}
