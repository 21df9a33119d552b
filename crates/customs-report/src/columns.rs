//! Plain aligned columns, the way `syft`, `grype` and `docker` print tables:
//! no borders, two spaces between columns, stable for `grep` and `awk`.

use std::fmt::Write as _;

/// Renders a header and rows as aligned columns; the last column is not
/// padded.
#[must_use]
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    // Fields come from images and documents: none may move the cursor or
    // add a row (see [`crate::terminal`]).
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| crate::terminal::escape_cell(cell).into_owned())
                .collect()
        })
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// One section per severity, most severe first, each a titled table
/// (`CRITICAL (2)`), as `trivy image` prints its findings.
pub fn by_severity<T>(
    items: &[T],
    severity: impl Fn(&T) -> customs_types::Severity,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> String {
    let mut out = String::new();
    for level in customs_types::Severity::ALL.iter().rev() {
        let rows: Vec<Vec<String>> = items
            .iter()
            .filter(|i| severity(i) == *level)
            .map(&row)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({})", level.as_str().to_uppercase(), rows.len());
        out.push_str(&render(header, &rows));
    }
    out
}

/// `1 file`, `2 files`: a count with its noun agreeing.
#[must_use]
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Shortens text to `max` characters with an ellipsis.
#[must_use]
pub fn truncate(text: &str, max: usize) -> String {
    let one_line = text.lines().next().unwrap_or("").trim();
    if one_line.chars().count() <= max {
        one_line.to_owned()
    } else {
        let kept: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", kept.trim_end())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_and_truncates() {
        let out = super::render(&["A", "BB"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(out, "A    BB\nxxx  y\n");
        assert_eq!(super::truncate("abcdef", 4), "abc…");
        assert_eq!(super::truncate("ab\ncd", 4), "ab");
    }
}
