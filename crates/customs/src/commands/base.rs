//! `customs base add|list|remove|detect`: the local base-image catalogue.

use customs_cli::{BaseCommand, Format, GlobalArgs};
use customs_pipeline::base::{self, BaseCatalogue};

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(command: BaseCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match command {
        BaseCommand::Add(args) => {
            let path = super::policy::catalogue_path(args.catalogue.path.as_deref());
            let mut catalogue = BaseCatalogue::load(&path)?;
            for reference in &args.images {
                let (_, image) = super::open_image(reference, &args.source).await?;
                let entry = base::entry_of(&image, args.owner.clone(), args.approved);
                if !global.quiet {
                    super::warn_info(&format!(
                        "added {} ({}, {} layers{}{})",
                        entry.name,
                        entry.digest,
                        entry.diff_ids.len(),
                        entry
                            .owner
                            .as_deref()
                            .map_or_else(String::new, |o| format!(", owner {o}")),
                        if entry.approved { ", approved" } else { "" }
                    ));
                }
                if entry.owner.is_none() {
                    super::warn(&format!(
                        "{reference} has no owner: every base image needs a team that keeps it updated (--owner TEAM)"
                    ));
                }
                catalogue.add(entry);
            }
            catalogue.save(&path)?;
        }
        BaseCommand::List(args) => {
            let catalogue = BaseCatalogue::load(&super::policy::catalogue_path(
                args.catalogue.path.as_deref(),
            ))?;
            match args.output {
                Format::Json => render::json(&catalogue)?,
                Format::Table => {
                    let mut t = render::table(&[
                        "NAME", "DIGEST", "LAYERS", "CREATED", "OWNER", "APPROVED",
                    ]);
                    for b in &catalogue.bases {
                        t.add_row(render::row([
                            b.name.clone(),
                            b.digest.clone(),
                            b.diff_ids.len().to_string(),
                            b.created.clone().unwrap_or_else(|| "-".to_owned()),
                            b.owner.clone().unwrap_or_else(|| "-".to_owned()),
                            if b.approved { "yes" } else { "no" }.to_owned(),
                        ]));
                    }
                    render::text(&t.trim_fmt())?;
                }
            }
        }
        BaseCommand::Remove(args) => {
            let path = super::policy::catalogue_path(args.catalogue.path.as_deref());
            let mut catalogue = BaseCatalogue::load(&path)?;
            for wanted in &args.bases {
                let before = catalogue.bases.len();
                catalogue
                    .bases
                    .retain(|b| b.digest != *wanted && b.name != *wanted);
                anyhow::ensure!(
                    catalogue.bases.len() < before,
                    "{wanted} is not in the catalogue {}",
                    path.display()
                );
            }
            catalogue.save(&path)?;
        }
        BaseCommand::Detect(args) => {
            let catalogue = BaseCatalogue::load(&super::policy::catalogue_path(
                args.catalogue.path.as_deref(),
            ))?;
            let (source, image) = super::open_image(&args.image, &args.source).await?;
            let detected = base::detect_image(&source, &image, &catalogue).await?;
            let value = detected.as_ref().map(|d| {
                serde_json::json!({
                    "name": d.name, "digest": d.digest, "detected_by": d.detected_by,
                    "catalogue": d.entry,
                })
            });
            match args.output {
                Format::Json => render::json(&serde_json::json!({
                    "image": image.name, "digest": image.manifest_digest.to_string(), "base": value,
                }))?,
                Format::Table => render::text(&match &detected {
                    Some(d) => format!(
                        "{} is built on {} ({}), detected by {}{}",
                        image.name,
                        d.name.as_deref().unwrap_or("?"),
                        d.digest.as_deref().unwrap_or("digest unknown"),
                        d.detected_by,
                        d.entry.as_ref().map_or_else(String::new, |e| format!(
                            "; owner {}, {}",
                            e.owner.as_deref().unwrap_or("none"),
                            if e.approved {
                                "approved"
                            } else {
                                "not approved"
                            }
                        ))
                    ),
                    None => format!(
                        "{}: base image unknown (no base annotations, no provenance, no catalogued base shares its first layers; `customs base add` records bases)",
                        image.name
                    ),
                })?,
            }
        }
    }
    Ok(ExitStatus::Success)
}
