//! `customs lint TARGET…`: image configuration, Dockerfiles, compose and
//! Kubernetes manifests, in one report.

use std::collections::BTreeSet;
use std::path::Path;

use customs_checks::image_config::{self, Options, SizeSummary};
use customs_checks::secrets::SecretScanner;
use customs_checks::{dockerfile, manifest, pin};
use customs_cli::{GlobalArgs, LintArgs};
use customs_oci::Image;
use customs_report::checks::ChecksReport;
use customs_sbom::Sbom;

use crate::exit::ExitStatus;

/// What a file target is.
enum FileKind {
    Dockerfile,
    Manifest,
}

fn file_kind(path: &Path, text: &str) -> FileKind {
    let name = path.display().to_string();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && (!l.starts_with('#') || l.starts_with("# syntax") || l.starts_with("# escape"))
        })
        .unwrap_or("");
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if pin::is_dockerfile(&name)
        || (!yaml
            && ["FROM ", "ARG ", "# syntax", "# escape"].iter().any(|p| {
                first
                    .to_ascii_uppercase()
                    .starts_with(&p.to_ascii_uppercase())
            }))
    {
        FileKind::Dockerfile
    } else {
        FileKind::Manifest
    }
}

/// Opens an image and makes its SBOM (one read of its manifests and layers).
async fn image_and_sbom(
    reference: &str,
    args: &LintArgs,
    global: &GlobalArgs,
) -> anyhow::Result<(Image, Sbom)> {
    let (sbom, image) = super::make_sbom(reference, &args.source, &[], global).await?;
    let image = image.ok_or_else(|| anyhow::anyhow!("--compare needs images, not {reference}"))?;
    Ok((image, sbom))
}

fn summary(reference: &str, image: &Image, sbom: &Sbom) -> SizeSummary {
    let layers = image.layers();
    SizeSummary {
        name: reference.to_owned(),
        size: layers.iter().map(|l| l.descriptor.size).sum(),
        layers: layers.len(),
        packages: sbom
            .packages
            .iter()
            .map(|p| format!("{} {} {}", p.kind, p.name, p.version))
            .collect::<BTreeSet<_>>(),
    }
}

pub(crate) async fn run(args: LintArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan = super::checks_output::plan(&args.output)?;
    let production = args
        .env
        .as_deref()
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "prod" | "production"));
    let options = Options {
        allowed_ports: (!args.allowed_ports.is_empty()).then(|| args.allowed_ports.clone()),
    };
    let scanner = SecretScanner::shared();
    let mut report = ChecksReport {
        targets: args.targets.clone(),
        ..ChecksReport::default()
    };
    for target in &args.targets {
        let path = Path::new(target);
        let looks_like_a_file = pin::is_dockerfile(target)
            || [".yaml", ".yml", ".json"]
                .iter()
                .any(|s| target.ends_with(s));
        if !path.exists() && (looks_like_a_file || customs_oci::ImageRef::parse(target).is_err()) {
            anyhow::bail!("{target}: no such file");
        }
        if path.is_file() {
            let text = super::read_text(path)?;
            let findings = match file_kind(path, &text) {
                FileKind::Dockerfile => dockerfile::lint(target, &text)?,
                FileKind::Manifest => {
                    manifest::lint(target, &text, manifest::Options { production })?
                }
            };
            report.findings.extend(findings);
            continue;
        }
        // The configuration needs only the manifests; a comparison also
        // needs the SBOM, made from the same opened image.
        let (image, current) = match &args.compare {
            Some(_) => {
                let (image, sbom) = image_and_sbom(target, &args, global).await?;
                let current = summary(target, &image, &sbom);
                (image, Some(current))
            }
            None => (super::open_image(target, &args.source).await?.1, None),
        };
        let found = image_config::check(&image.config, &options, scanner);
        super::ledger::record_image(
            global,
            &image,
            "lint",
            serde_json::json!({
                "line": format!("{} config finding(s)", found.len()),
                "findings": found.iter().map(|f| f.rule).collect::<Vec<_>>(),
            }),
        )
        .await?;
        report.findings.extend(found);
        if let (Some(previous), Some(current)) = (&args.compare, current) {
            let (before_image, before_sbom) = image_and_sbom(previous, &args, global).await?;
            let before = summary(previous, &before_image, &before_sbom);
            report.findings.extend(image_config::size_growth(
                &current,
                &before,
                args.growth_ratio,
            ));
        }
    }
    customs_checks::sort(&mut report.findings);
    super::checks_output::finish(&report, plan, global)
}
