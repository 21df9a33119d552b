//! A small HTML builder: text is escaped unless it is written as markup,
//! so that nothing from the store (a tag, a package name, a reason) can
//! become markup.

use std::fmt::Write as _;

/// Escapes `&<>"'`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A page being written.
#[derive(Default)]
pub(crate) struct Page {
    body: String,
}

impl Page {
    /// Literal markup (never data).
    pub(crate) fn raw(&mut self, markup: &str) -> &mut Self {
        self.body.push_str(markup);
        self
    }

    /// Escaped text.
    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.body.push_str(&escape(text));
        self
    }

    /// `<tag>text</tag>` with `text` escaped.
    pub(crate) fn element(&mut self, tag: &str, text: &str) -> &mut Self {
        let _ = write!(self.body, "<{tag}>{}</{tag}>", escape(text));
        self
    }

    /// A link to `href` (escaped) reading `text` (escaped).
    pub(crate) fn link(&mut self, href: &str, text: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<a href=\"{}\">{}</a>",
            escape(href),
            escape(text)
        );
        self
    }

    /// A table: a caption, a header row, and rows of cells each already
    /// rendered by `cell`.
    pub(crate) fn table<R>(
        &mut self,
        caption: &str,
        header: &[&str],
        rows: &[R],
        mut cell: impl FnMut(&mut Page, &R, usize),
    ) -> &mut Self {
        let _ = write!(
            self.body,
            "<table><caption>{}</caption><thead><tr>",
            escape(caption)
        );
        for h in header {
            let _ = write!(self.body, "<th scope=\"col\">{}</th>", escape(h));
        }
        self.body.push_str("</tr></thead><tbody>");
        for row in rows {
            self.body.push_str("<tr>");
            for i in 0..header.len() {
                self.body.push_str("<td>");
                cell(self, row, i);
                self.body.push_str("</td>");
            }
            self.body.push_str("</tr>");
        }
        if rows.is_empty() {
            let _ = write!(
                self.body,
                "<tr><td colspan=\"{}\">none</td></tr>",
                header.len()
            );
        }
        self.body.push_str("</tbody></table>");
        self
    }

    /// The whole document: title, navigation, the body.
    pub(crate) fn finish(&self, title: &str, signed_in: bool) -> String {
        let sign = if signed_in {
            "<form method=\"post\" action=\"/ui/logout\" class=\"inline\"><button type=\"submit\">Sign out</button></form>"
        } else {
            ""
        };
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} · customs</title><link rel=\"stylesheet\" href=\"/ui/static/customs.css\"></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header><nav aria-label=\"Main\"><a href=\"/ui\" class=\"brand\">customs</a> <a href=\"/ui\">Fleet</a> <a href=\"/ui/search\">Search</a> {sign}</nav></header><main id=\"main\"><h1>{title}</h1>{body}</main></body></html>",
            title = escape(title),
            body = self.body,
        )
    }
}

/// The stylesheet: system fonts, AA contrast, severity colours with text
/// labels (never colour alone).
pub(crate) const CSS: &str = r"
:root { color-scheme: light; --fg: #1b1f24; --muted: #4a5360; --line: #d0d7de; --bg: #ffffff; --link: #0550ae; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { background: #0d1117; padding: .6rem 1rem; }
header a, header button { color: #f0f6fc; margin-right: 1rem; text-decoration: none; font-weight: 600; }
header button { background: none; border: 1px solid #f0f6fc; border-radius: 4px; cursor: pointer; font: inherit; padding: .1rem .6rem; }
.brand { font-size: 1.1rem; }
main { padding: 1rem 1.5rem; max-width: 90rem; }
a { color: var(--link); }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code, .digest { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: .85em; word-break: break-all; }
.verdict-pass { color: #116329; font-weight: 600; }
.verdict-warn { color: #7d4e00; font-weight: 600; }
.verdict-deny, .blocked { color: #a40e26; font-weight: 600; }
.sev-critical { color: #a40e26; font-weight: 600; } .sev-high { color: #953800; font-weight: 600; }
.muted { color: var(--muted); }
.inline { display: inline; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #fff; padding: .3rem; }
form.search { margin: 1rem 0; } form.search input[type=search] { width: 28rem; max-width: 100%; padding: .3rem; }
label { font-weight: 600; margin-right: .5rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; } .card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; min-width: 10rem; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
";
