//! `customs files REF`: the squashed filesystem with the layer each file
//! came from, every layer's entries with what became of them
//! (`--all-layers`), or per-layer totals (`--summary`).

use customs_cli::{FilesArgs, Format, GlobalArgs};
use customs_layer::{Entry, Fate, LayerWalker, Walk};
use customs_oci::Target;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::progress::progress;
use crate::render;

#[derive(Serialize)]
struct FileView<'a> {
    #[serde(flatten)]
    entry: &'a Entry,
    layer: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    fate: Option<Fate>,
}

#[derive(Serialize)]
struct LayerSummary {
    layer: usize,
    digest: Option<String>,
    stored_size: u64,
    uncompressed_size: u64,
    entries: usize,
    whiteouts: usize,
    opaque_dirs: usize,
}

#[derive(Serialize)]
struct Summary {
    layers: Vec<LayerSummary>,
    surviving_entries: usize,
    deleted: usize,
    overwritten: usize,
    warnings: Vec<customs_layer::WalkWarning>,
}

pub(crate) async fn run(args: FilesArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (_, target, options) = super::open(&args.image, &args.source)?;
    let walk = match target {
        Target::RootFs(path) => tokio::task::block_in_place(|| {
            LayerWalker::new(options.limits.clone()).walk_rootfs(&path, &[])
        })?,
        Target::Image(source) => {
            let image = source.image(&super::platform_choice(&args.source)?).await?;
            customs_pipeline::walk_image(
                &source,
                &image,
                &[],
                &options.limits,
                progress(global.quiet).as_ref(),
            )
            .await?
        }
    };
    // Warnings stay with --quiet: it hides progress and information only.
    for w in &walk.warnings {
        super::warn(&format!("layer {}: {}: {}", w.layer + 1, w.path, w.message));
    }
    if args.summary {
        summary(&walk, args.output)?;
    } else if args.all_layers {
        all_layers(&walk, args.output)?;
    } else {
        squashed(&walk, args.output)?;
    }
    Ok(ExitStatus::Success)
}

fn describe(entry: &Entry) -> String {
    match &entry.link_target {
        Some(target) => format!("{} -> {target}", entry.path),
        None => entry.path.clone(),
    }
}

fn mode(entry: &Entry) -> String {
    let kind = match entry.kind {
        customs_layer::EntryKind::Directory => 'd',
        customs_layer::EntryKind::Symlink => 'l',
        customs_layer::EntryKind::Hardlink => 'h',
        customs_layer::EntryKind::CharDevice => 'c',
        customs_layer::EntryKind::BlockDevice => 'b',
        customs_layer::EntryKind::Fifo => 'p',
        _ => '-',
    };
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (entry.mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn squashed(walk: &Walk, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => render::json(
            &walk
                .index
                .iter()
                .map(|(layer, entry)| FileView {
                    entry,
                    layer: layer + 1,
                    fate: None,
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let mut t = render::table(&["LAYER", "MODE", "UID:GID", "SIZE", "PATH"]);
            for (layer, entry) in walk.index.iter() {
                t.add_row(render::row([
                    (layer + 1).to_string(),
                    mode(entry),
                    format!("{}:{}", entry.uid, entry.gid),
                    entry.size.to_string(),
                    describe(entry),
                ]));
            }
            render::text(&t.trim_fmt())
        }
    }
}

fn fate_text(fate: Fate) -> String {
    match fate {
        Fate::Present => "present".to_owned(),
        Fate::Deleted { by_layer } => format!("deleted in layer {}", by_layer + 1),
        Fate::Overwritten { by_layer } => format!("overwritten in layer {}", by_layer + 1),
    }
}

fn all_layers(walk: &Walk, format: Format) -> anyhow::Result<()> {
    let rows = walk
        .layers
        .iter()
        .flat_map(|l| l.entries.iter().map(move |e| (l.index, e)));
    match format {
        Format::Json => render::json(
            &rows
                .map(|(layer, entry)| FileView {
                    entry,
                    layer: layer + 1,
                    fate: Some(walk.index.fate(layer, &entry.path)),
                })
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let mut t = render::table(&["LAYER", "MODE", "SIZE", "PATH", "FATE"]);
            for (layer, entry) in rows {
                t.add_row(render::row([
                    (layer + 1).to_string(),
                    mode(entry),
                    entry.size.to_string(),
                    describe(entry),
                    fate_text(walk.index.fate(layer, &entry.path)),
                ]));
            }
            for l in walk.layers.iter() {
                for w in &l.whiteouts {
                    t.add_row(render::row([
                        (l.index + 1).to_string(),
                        "whiteout".to_owned(),
                        String::new(),
                        w.clone(),
                        "deletes".to_owned(),
                    ]));
                }
            }
            render::text(&t.trim_fmt())
        }
    }
}

fn summary(walk: &Walk, format: Format) -> anyhow::Result<()> {
    let s = Summary {
        layers: walk
            .layers
            .iter()
            .map(|l| LayerSummary {
                layer: l.index + 1,
                digest: l.digest.as_ref().map(ToString::to_string),
                stored_size: l.stored_size,
                uncompressed_size: l.uncompressed_size,
                entries: l.entries.len(),
                whiteouts: l.whiteouts.len(),
                opaque_dirs: l.opaque_dirs.len(),
            })
            .collect(),
        surviving_entries: walk.index.len(),
        deleted: walk
            .index
            .shadowed()
            .filter(|s| matches!(s.fate, Fate::Deleted { .. }))
            .count(),
        overwritten: walk
            .index
            .shadowed()
            .filter(|s| matches!(s.fate, Fate::Overwritten { .. }))
            .count(),
        warnings: walk.warnings.clone(),
    };
    match format {
        Format::Json => render::json(&s),
        Format::Table => {
            let mut t = render::table(&[
                "LAYER",
                "DIGEST",
                "STORED",
                "UNCOMPRESSED",
                "ENTRIES",
                "WHITEOUTS",
            ]);
            for l in &s.layers {
                t.add_row(render::row([
                    l.layer.to_string(),
                    l.digest.clone().unwrap_or_else(|| "-".to_owned()),
                    render::size(l.stored_size),
                    render::size(l.uncompressed_size),
                    l.entries.to_string(),
                    (l.whiteouts + l.opaque_dirs).to_string(),
                ]));
            }
            let count = customs_report::columns::count;
            render::text(&format!(
                "{}\n\n{} in the final filesystem; {} deleted and {} overwritten by later layers",
                t.trim_fmt(),
                count(s.surviving_entries, "entry", "entries"),
                count(s.deleted, "file", "files"),
                s.overwritten
            ))
        }
    }
}
