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
    let attacher = super::attest::Attacher::new(&args.attach, &args.image, &args.source)?;
    let (sbom, image) = super::make_sbom(
        &args.image,
        &args.source,
        &args.catalogers.selection,
        global,
    )
    .await?;
    for (format, file) in &outputs {
        emit(&format.render(&sbom)?, file.as_deref())?;
    }
    if let Some(image) = &image {
        super::ledger::record_with_sbom(
            global,
            image,
            &sbom,
            "sbom",
            serde_json::json!({
                "line": format!("SBOM: {} packages", sbom.packages.len()),
                "packages": sbom.packages.len(),
                "unknowns": sbom.unknowns.len(),
            }),
        )
        .await?;
    }
    if let Some(attacher) = attacher {
        // The SBOM customs wrote: CycloneDX when that was the one asked
        // for, else SPDX, as the predicate of its own type.
        let cyclonedx = outputs.iter().any(|(f, _)| *f == SbomFormat::CyclonedxJson)
            && !outputs.iter().any(|(f, _)| *f == SbomFormat::SpdxJson);
        let (format, name) = if cyclonedx {
            (SbomFormat::CyclonedxJson, "cyclonedx")
        } else {
            (SbomFormat::SpdxJson, "spdx")
        };
        let predicate: serde_json::Value = serde_json::from_slice(&format.render(&sbom)?)?;
        let digest = sbom.subject.digest.as_ref().ok_or_else(|| {
            anyhow::anyhow!("--attest needs an image with a digest, not {}", args.image)
        })?;
        let predicate_type = super::keys::predicate_type(name)?;
        let manifest = image
            .as_ref()
            .filter(|i| &i.manifest_digest == digest)
            .map(|i| i.manifest_bytes.as_slice());
        attacher
            .attach(digest, manifest, &predicate_type, predicate, global)
            .await?;
    }
    Ok(ExitStatus::Success)
}
