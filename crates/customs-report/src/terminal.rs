//! Text that reaches a terminal. File names, package fields, SBOM names and
//! advisory ids come from images and documents that an attacker may have
//! written: an ESC or OSC sequence among them could erase lines, retitle the
//! window or hide a finding. Every human-readable output passes through
//! [`escape`] (whole texts, keeping their line breaks) or [`escape_cell`]
//! (one field, where a line break would forge a row). JSON needs neither:
//! its serialiser escapes control characters already.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls, DEL,
/// and the Unicode bidirectional overrides that reorder what is shown
/// ("Trojan Source", CVE-2021-42574).
fn is_dangerous(c: char, keep_line_breaks: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_line_breaks,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => true,
        _ => false,
    }
}

fn escape_with(text: &str, keep_line_breaks: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_dangerous(c, keep_line_breaks)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_dangerous(c, keep_line_breaks) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// A whole text for the terminal: every control character shown as an
/// escape (`\x1b`), line breaks and tabs kept.
#[must_use]
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

/// One field of a table or message: as [`escape`], and line breaks and tabs
/// escaped too, so that a field cannot add a row of its own.
#[must_use]
pub fn escape_cell(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_sent() {
        assert!(matches!(escape("plain/path ü"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}[2Kb\nc\td"), "a\\x1b[2Kb\nc\td");
        assert_eq!(
            escape("\u{1b}]0;title\u{7}x\u{9b}2J"),
            "\\x1b]0;title\\x07x\\x9b2J"
        );
        assert_eq!(escape_cell("row\nfake row\r"), "row\\nfake row\\r");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
    }
}
