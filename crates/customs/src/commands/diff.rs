//! `customs diff OLD NEW`: packages added, removed and changed, size and
//! layer growth, config changes, vulnerabilities fixed and new.

use customs_cli::{DiffArgs, Format, GlobalArgs};

use crate::exit::ExitStatus;

pub(crate) async fn run(args: &DiffArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    // The advisory database is optional here: without one, the diff says so.
    let index = match customs_vuln::VulnIndex::open(&super::db_dir(&args.db)) {
        Ok(index) => Some(index),
        Err(e) => {
            super::warn(&format!(
                "vulnerabilities are not compared: {e} (customs db import PATH)"
            ));
            None
        }
    };
    let mut sides = Vec::new();
    for reference in [&args.old, &args.new] {
        let (sbom, image) =
            super::make_sbom(reference, &args.source, &args.catalogers.selection, global).await?;
        let image = image.ok_or_else(|| {
            anyhow::anyhow!("diff compares images: {reference} is not one (no manifest)")
        })?;
        let matches = match &index {
            Some(index) => Some(tokio::task::block_in_place(|| {
                customs_vuln::match_sbom(index, &sbom)
            })?),
            None => None,
        };
        sides.push((image, sbom, matches));
    }
    let [old, new] = <[_; 2]>::try_from(sides).map_err(|_| anyhow::anyhow!("two images"))?;
    let diff = customs_pipeline::diff::diff(
        (&old.0, &old.1, old.2.as_ref()),
        (&new.0, &new.1, new.2.as_ref()),
    );
    match args.output {
        Format::Json => crate::render::json(&diff)?,
        Format::Table => crate::render::text(&table(&diff))?,
    }
    Ok(ExitStatus::Success)
}

#[allow(clippy::cast_possible_wrap)]
fn table(d: &customs_pipeline::diff::ImageDiff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let delta = d.size.1 as i64 - d.size.0 as i64;
    let percent = if d.size.0 == 0 {
        0.0
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = delta as f64 * 100.0 / d.size.0 as f64;
        p
    };
    let _ = writeln!(out, "{} → {}", d.old, d.new);
    let _ = writeln!(
        out,
        "size      {} → {} ({}{}, {percent:+.1}%)",
        crate::render::size(d.size.0),
        crate::render::size(d.size.1),
        if delta < 0 { "-" } else { "+" },
        crate::render::size(delta.unsigned_abs()),
    );
    let _ = writeln!(
        out,
        "layers    {} → {} ({} shared)",
        d.layers.0, d.layers.1, d.shared_layers
    );
    let _ = writeln!(
        out,
        "packages  {} added, {} removed, {} changed",
        d.added.len(),
        d.removed.len(),
        d.changed.len()
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (what, list) in [
        ("added", &d.added),
        ("removed", &d.removed),
        ("changed", &d.changed),
    ] {
        for p in list {
            rows.push(vec![
                what.to_owned(),
                p.kind.clone(),
                p.name.clone(),
                p.before.join(", "),
                p.after.join(", "),
            ]);
        }
    }
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&customs_report::columns::render(
            &["CHANGE", "TYPE", "PACKAGE", "BEFORE", "AFTER"],
            &rows,
        ));
    }
    if !d.config.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = d
            .config
            .iter()
            .map(|(f, b, a)| vec![f.clone(), b.clone(), a.clone()])
            .collect();
        out.push_str(&customs_report::columns::render(
            &["CONFIG", "BEFORE", "AFTER"],
            &rows,
        ));
    }
    if d.vulnerabilities_compared {
        let _ = writeln!(
            out,
            "\nvulnerabilities  {} fixed, {} new",
            d.fixed.len(),
            d.introduced.len()
        );
        for f in &d.fixed {
            let _ = writeln!(out, "  fixed  {f}");
        }
        for f in &d.introduced {
            let _ = writeln!(out, "  new    {f}");
        }
    }
    out
}
