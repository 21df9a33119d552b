//! `customs pin FILE…`: rewrite image references to `name:tag@sha256:…`,
//! resolved through the registry, leaving every other byte of each file.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::Context as _;
use customs_checks::pin::{self, Target};
use customs_cli::{GlobalArgs, PinArgs};

use crate::exit::ExitStatus;

/// The registry image a manifest's reference names, as it is now.
pub(crate) async fn resolve_image(
    reference: &str,
    source: &customs_cli::SourceArgs,
) -> anyhow::Result<customs_oci::Image> {
    let registry = format!("registry:{reference}");
    let (_, image) = super::open_image(&registry, source)
        .await
        .with_context(|| format!("cannot resolve {reference}"))?;
    Ok(image)
}

/// The digest to pin to: the index's for a multi-platform image (every
/// platform keeps working), the manifest's otherwise.
async fn resolve(reference: &str, args: &PinArgs) -> anyhow::Result<String> {
    Ok(resolve_image(reference, &args.source)
        .await?
        .resolved_digest()
        .to_string())
}

#[allow(clippy::print_stdout)] // the command's data is its report
pub(crate) async fn run(args: PinArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut unpinned = 0;
    let mut resolved: BTreeMap<String, String> = BTreeMap::new();
    let mut out = std::io::stdout().lock();
    for file in &args.files {
        let name = file.display().to_string();
        let text = super::read_text(file)?;
        let targets: Vec<Target> = pin::targets(&name, &text)?;
        let mut replacements = Vec::new();
        for t in &targets {
            if t.is_pinned() {
                continue;
            }
            if let Some(why) = t.skip {
                if why == "built from a variable" {
                    super::warn(&format!(
                        "{name}:{}: `{}` cannot be pinned: {why}",
                        t.line, t.reference
                    ));
                }
                continue;
            }
            unpinned += 1;
            if args.check {
                writeln!(
                    out,
                    "{}",
                    customs_report::terminal::escape_cell(&format!(
                        "{name}:{}: {} is not pinned",
                        t.line, t.reference
                    ))
                )?;
                continue;
            }
            let digest = match resolved.get(&t.reference) {
                Some(d) => d.clone(),
                None => {
                    let d = resolve(&t.reference, &args).await?;
                    resolved.insert(t.reference.clone(), d.clone());
                    d
                }
            };
            let new = pin::pinned(&t.reference, &digest);
            writeln!(
                out,
                "{}",
                customs_report::terminal::escape_cell(&format!(
                    "{name}:{}: {} -> {new}",
                    t.line, t.reference
                ))
            )?;
            replacements.push((t.span.clone(), new));
        }
        if args.write && !replacements.is_empty() {
            let rewritten = pin::rewrite(&text, &replacements);
            super::output::emit(rewritten.as_bytes(), Some(file))?;
        }
    }
    out.flush()?;
    if args.check && unpinned > 0 {
        if !global.quiet {
            super::warn(&format!(
                "{unpinned} image reference(s) are not pinned (customs pin --write pins them)"
            ));
        }
        return Ok(ExitStatus::Failure);
    }
    Ok(ExitStatus::Success)
}
