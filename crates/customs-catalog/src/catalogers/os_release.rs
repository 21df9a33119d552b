//! The OS distribution from [`os-release`](https://www.freedesktop.org/software/systemd/man/latest/os-release.html).

use customs_layer::Selector;
use customs_sbom::Distro;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// Reads `/etc/os-release` and `/usr/lib/os-release`.
pub struct OsRelease;

/// Parses `KEY=value` lines with shell-style quoting.
#[must_use]
pub fn parse(text: &str) -> Distro {
    let mut distro = Distro::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => distro.id = value.to_ascii_lowercase(),
            "VERSION_ID" => distro.version_id = Some(value),
            "VERSION_CODENAME" => distro.codename = Some(value),
            "PRETTY_NAME" => distro.pretty_name = Some(value),
            "ID_LIKE" => distro.id_like = value.split_whitespace().map(str::to_owned).collect(),
            _ => {}
        }
    }
    distro
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    inner
        .replace("\\\"", "\"")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

impl Cataloger for OsRelease {
    fn name(&self) -> &'static str {
        "os-release-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["os", "distro"]
    }
    fn selector(&self) -> Selector {
        Selector::new()
            .path("/etc/os-release")
            .path("/usr/lib/os-release")
    }
    fn max_file_size(&self) -> u64 {
        64 << 10
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let text = std::str::from_utf8(file.content)
            .map_err(|_| CatalogError::Malformed("not UTF-8 text".to_owned()))?;
        let distro = parse(text);
        if distro.id.is_empty() {
            return Err(CatalogError::Malformed("no ID= line".to_owned()));
        }
        Ok(Found::Distro(distro))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_debian_and_alpine() {
        let d = super::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        assert_eq!(
            (
                d.id.as_str(),
                d.version_id.as_deref(),
                d.codename.as_deref()
            ),
            ("debian", Some("12"), Some("bookworm"))
        );
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        let a = super::parse(
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n# comment\nID_LIKE='x y'\n",
        );
        assert_eq!(
            (a.id.as_str(), a.version_id.as_deref(), a.id_like.len()),
            ("alpine", Some("3.19.1"), 2)
        );
    }
}
