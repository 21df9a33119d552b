//! Output helpers shared by the commands: JSON and tables on stdout, sizes.

use std::io::{self, Write as _};

use comfy_table::{ContentArrangement, Table, presets};

/// Writes a value as pretty JSON and a newline to stdout.
pub(crate) fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    // As an io::Error, so that a closed pipe (`| head`) is seen as one.
    serde_json::to_writer_pretty(&mut out, value).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes human-readable text to stdout, control characters escaped
/// ([`customs_report::terminal`]).
pub(crate) fn text(s: &str) -> anyhow::Result<()> {
    let s = customs_report::terminal::escape(s);
    let mut out = io::stdout().lock();
    out.write_all(s.as_bytes())?;
    if !s.ends_with('\n') {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// A borderless table with a header row.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    table
}

/// A table row whose every field is escaped for the terminal, so that a
/// file name or history line cannot move the cursor or add a row.
pub(crate) fn row<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| customs_report::terminal::escape_cell(c.as_ref()).into_owned())
        .collect()
}

/// `12.3 MB`, in SI units as `docker images` shows sizes.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parses `64G`, `512M`, `1024` (powers of 1024).
pub(crate) fn parse_size(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let (number, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        Some((i, 'T' | 't')) => (&text[..i], 40),
        _ => (text, 0),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("`{text}` is not a size (examples: 512M, 64G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| anyhow::anyhow!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(69_019_014), "69.0 MB");
        assert_eq!(parse_size("64G").unwrap(), 64 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
