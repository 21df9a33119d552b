//! `customs sbom REF`: the software bill of materials, in one or several
//! formats from one pass over the image.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use customs_cli::{GlobalArgs, SbomArgs};
use customs_oci::Target;
use customs_sbom::Sbom;
use customs_sbom::format::{cyclonedx16, native, spdx23, table};

use crate::exit::ExitStatus;
use crate::progress::progress;

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
            Self::Table => table::render(sbom).into_bytes(),
            Self::Json => native::to_vec(sbom)?,
            Self::SpdxJson => spdx23::to_vec(sbom)?,
            Self::CyclonedxJson => cyclonedx16::to_vec(sbom)?,
        })
    }
}

/// Parses `-o FORMAT[=FILE]` values and `--output`.
fn outputs(args: &SbomArgs) -> anyhow::Result<Vec<(SbomFormat, Option<PathBuf>)>> {
    let mut out = Vec::new();
    for spec in &args.formats {
        let (name, file) = match spec.split_once('=') {
            Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
            Some((n, _)) => anyhow::bail!("`-o {n}=` needs a file name after `=`"),
            None => (spec.as_str(), None),
        };
        out.push((SbomFormat::parse(name)?, file));
    }
    let to_stdout = out.iter().filter(|(_, f)| f.is_none()).count();
    anyhow::ensure!(
        to_stdout <= 1,
        "only one format can go to standard output; give the others `=FILE`"
    );
    if let Some(file) = &args.output {
        match out.iter_mut().find(|(_, f)| f.is_none()) {
            Some((_, f)) => *f = Some(file.clone()),
            None => anyhow::bail!("--output names a file, but every -o already has `=FILE`"),
        }
    }
    Ok(out)
}

/// Writes a file whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub(crate) async fn run(args: SbomArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let outputs = outputs(&args)?;
    let (_, target, options) = super::open(&args.image, &args.source)?;
    let declared = matches!(target, Target::RootFs(_));
    let catalogers = customs_catalog::select(
        customs_catalog::default_catalogers(),
        &args.catalogers,
        declared,
    )?;
    let sbom = match target {
        Target::RootFs(path) => tokio::task::block_in_place(|| {
            customs_pipeline::sbom_of_rootfs(&path, catalogers, &options.limits)
        })?,
        Target::Image(source) => {
            let image = source.image(&super::platform_choice(&args.source)?).await?;
            customs_pipeline::sbom_of_image(
                &source,
                &image,
                catalogers,
                &options.limits,
                progress(global.quiet).as_ref(),
            )
            .await?
        }
    };
    if !global.quiet {
        for unknown in &sbom.unknowns {
            warn(&format!(
                "{}{}: {}",
                unknown.path,
                unknown
                    .layer
                    .map_or_else(String::new, |l| format!(" (layer {})", l + 1)),
                unknown.message
            ));
        }
    }
    for (format, file) in outputs {
        let bytes = format.render(&sbom)?;
        match file {
            Some(path) => write_atomically(&path, &bytes)?,
            None => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(&bytes)?;
                stdout.flush()?;
            }
        }
    }
    Ok(ExitStatus::Success)
}

#[allow(clippy::print_stderr)]
fn warn(message: &str) {
    eprintln!("warning: {message}");
}
