//! The SBOM as a plain table: NAME, VERSION, TYPE, LAYER — like
//! `syft -o table`.

use customs_sbom::Sbom;

use crate::columns;

/// Renders the packages as aligned columns, every field escaped for the
/// terminal.
#[must_use]
pub fn table(sbom: &Sbom) -> String {
    let rows: Vec<Vec<String>> = sbom
        .packages
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.version.clone(),
                p.kind.as_str().to_owned(),
                p.introduced_by_layer
                    .map_or_else(|| "-".to_owned(), |l| (l + 1).to_string()),
            ]
        })
        .collect();
    let mut out = columns::render(&["NAME", "VERSION", "TYPE", "LAYER"], &rows);
    if rows.is_empty() {
        out.push_str("(no packages found)\n");
    }
    out
}
