//! A plain table: NAME, VERSION, TYPE, LAYER — like `syft -o table`.

use std::fmt::Write as _;

use crate::Sbom;

/// Renders the packages as aligned columns.
#[must_use]
pub fn render(sbom: &Sbom) -> String {
    let rows: Vec<[String; 4]> = sbom
        .packages
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.version.clone(),
                p.kind.as_str().to_owned(),
                p.introduced_by_layer
                    .map_or_else(|| "-".to_owned(), |l| (l + 1).to_string()),
            ]
        })
        .collect();
    let header = ["NAME", "VERSION", "TYPE", "LAYER"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if rows.is_empty() {
        out.push_str("(no packages found)\n");
    }
    out
}
