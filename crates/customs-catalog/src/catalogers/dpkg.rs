//! Debian packages: the dpkg database (`/var/lib/dpkg/status`, distroless
//! `status.d/*`), the files each package installed (`info/*.list`), and
//! licences from [machine-readable `copyright`](https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/)
//! files. Format: [deb-control(5)](https://manpages.debian.org/bookworm/dpkg-dev/deb-control.5.en.html).

use std::collections::BTreeMap;

use customs_layer::Selector;
use customs_sbom::{Package, PackageType};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// The dpkg cataloger.
pub struct Dpkg;

const NAME: &str = "dpkg-db-cataloger";

/// Parses deb822 stanzas: `Field: value` with indented continuation lines.
/// A line that is neither is skipped and said (the second list), as
/// `dpkg` itself warns and goes on; it never drops the other stanzas.
pub fn stanzas(text: &str) -> (Vec<BTreeMap<String, String>>, Vec<String>) {
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    let mut last_key: Option<String> = None;
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            last_key = None;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            let Some(key) = &last_key else {
                dropped.push(format!(
                    "line {}: continuation line before any field; the line was skipped",
                    number + 1
                ));
                continue;
            };
            if let Some(value) = current.get_mut(key) {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            dropped.push(format!(
                "line {}: expected `Field: value`; the line was skipped",
                number + 1
            ));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            dropped.push(format!(
                "line {}: invalid field name; the line was skipped",
                number + 1
            ));
            continue;
        }
        current.insert(key.to_owned(), value.trim().to_owned());
        last_key = Some(key.to_owned());
    }
    if !current.is_empty() {
        out.push(current);
    }
    (out, dropped)
}

fn installed(status: Option<&String>) -> bool {
    // `want flag status`; files are on disk in every state but these two.
    status.is_none_or(|s| {
        !matches!(
            s.split_whitespace().nth(2),
            Some("not-installed" | "config-files")
        )
    })
}

/// Packages of a status file.
fn packages(text: &str, path: &str) -> (Vec<Package>, Vec<String>) {
    let mut out = Vec::new();
    let (stanzas, mut dropped) = stanzas(text);
    for stanza in stanzas {
        let (Some(name), Some(version)) = (stanza.get("Package"), stanza.get("Version")) else {
            dropped.push(format!(
                "a stanza ({}) has no Package or Version field and was skipped",
                stanza
                    .get("Package")
                    .map_or_else(|| "unnamed".to_owned(), |p| format!("Package: {p}"))
            ));
            continue;
        };
        if !installed(stanza.get("Status")) {
            continue;
        }
        // The purl needs the distro, which is only known after the walk.
        let mut package = Package::new(PackageType::Deb, name, version, String::new(), NAME, path);
        if let Some(source) = stanza.get("Source") {
            let (source_name, source_version) = match source.split_once('(') {
                Some((n, v)) => (n.trim(), Some(v.trim_end_matches(')').trim())),
                None => (source.trim(), None),
            };
            if source_name != name {
                package.source_name = Some(source_name.to_owned());
            }
            if let Some(v) = source_version.filter(|v| v != version) {
                package.source_version = Some(v.to_owned());
            }
        }
        for (field, key) in [
            ("Architecture", "architecture"),
            ("Maintainer", "maintainer"),
            ("Installed-Size", "installed-size"),
        ] {
            if let Some(v) = stanza.get(field) {
                package.metadata.insert(key.to_owned(), v.clone());
            }
        }
        out.push(package);
    }
    (out, dropped)
}

/// Debian's short licence names mapped to SPDX where the meaning is exact.
fn debian_license(name: &str) -> String {
    let name = name.trim();
    let mapped = match name {
        "Expat" | "MIT" => "MIT",
        "GPL-1" => "GPL-1.0-only",
        "GPL-1+" => "GPL-1.0-or-later",
        "GPL-2" => "GPL-2.0-only",
        "GPL-2+" => "GPL-2.0-or-later",
        "GPL-3" => "GPL-3.0-only",
        "GPL-3+" => "GPL-3.0-or-later",
        "LGPL-2" => "LGPL-2.0-only",
        "LGPL-2+" => "LGPL-2.0-or-later",
        "LGPL-2.1" => "LGPL-2.1-only",
        "LGPL-2.1+" => "LGPL-2.1-or-later",
        "LGPL-3" => "LGPL-3.0-only",
        "LGPL-3+" => "LGPL-3.0-or-later",
        "BSD-2-clause" => "BSD-2-Clause",
        "BSD-3-clause" => "BSD-3-Clause",
        "BSD-4-clause" => "BSD-4-Clause",
        "Apache-2" | "Apache-2.0" => "Apache-2.0",
        "Artistic" | "Artistic-1" => "Artistic-1.0",
        "Artistic-2" | "Artistic-2.0" => "Artistic-2.0",
        "Zlib" | "zlib" => "Zlib",
        "ISC" => "ISC",
        "MPL-2.0" => "MPL-2.0",
        "OpenSSL" => "OpenSSL",
        other => other,
    };
    mapped.to_owned()
}

/// Licences of a copyright file: `License:` fields of a DEP-5 file, or
/// references to `/usr/share/common-licenses/*` in a free-form one.
fn copyright_licenses(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let dep5 = text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("Format:") && l.contains("copyright-format"));
    if dep5 {
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("License:") {
                // `License: GPL-2+ or Artistic` names several; keep each name.
                for part in value.trim().split([' ']).filter(|p| {
                    !p.is_empty()
                        && !matches!(
                            *p,
                            "or" | "and" | "with" | "OR" | "AND" | "WITH" | "|" | ","
                        )
                }) {
                    let part = part.trim_matches([',', '(', ')']);
                    if !part.is_empty() {
                        found.push(debian_license(part));
                    }
                }
            }
        }
    } else {
        for (i, _) in text.match_indices("/usr/share/common-licenses/") {
            let rest = &text[i + "/usr/share/common-licenses/".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                found.push(debian_license(name));
            }
        }
    }
    let mut unique = Vec::new();
    for l in found {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    unique
}

impl Cataloger for Dpkg {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["os", "deb", "dpkg", "debian"]
    }
    fn selector(&self) -> Selector {
        Selector::new()
            .path("/var/lib/dpkg/status")
            .under("/var/lib/dpkg/status.d")
            .under("/var/lib/dpkg/info")
            .under("/usr/share/doc")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let path = file.path;
        let text = || {
            std::str::from_utf8(file.content)
                .map_err(|_| CatalogError::Malformed("not UTF-8 text".to_owned()))
        };
        if let Some(list) = path
            .strip_prefix("/var/lib/dpkg/info/")
            .and_then(|n| n.strip_suffix(".list"))
        {
            let package = list.split(':').next().unwrap_or(list).to_owned();
            let files = String::from_utf8_lossy(file.content)
                .lines()
                .filter(|l| l.starts_with('/') && *l != "/.")
                .map(str::to_owned)
                .collect();
            return Ok(Found::OwnedFiles { package, files });
        }
        if let Some(rest) = path.strip_prefix("/usr/share/doc/") {
            let Some((package, "copyright")) = rest.split_once('/') else {
                return Ok(Found::Packages(Vec::new()));
            };
            return Ok(Found::Licenses {
                package: package.to_owned(),
                licenses: copyright_licenses(&String::from_utf8_lossy(file.content)),
            });
        }
        if path.starts_with("/var/lib/dpkg/status.d/")
            && (path.ends_with(".md5sums") || path.ends_with(".list"))
        {
            return Ok(Found::Packages(Vec::new()));
        }
        if path == "/var/lib/dpkg/status" || path.starts_with("/var/lib/dpkg/status.d/") {
            let (packages, dropped) = packages(text()?, path);
            return Ok(Found::with_dropped(Found::Packages(packages), dropped));
        }
        Ok(Found::Packages(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.15-1~deb12u1
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 .
 It provides the libssl and libcrypto shared libraries.

Package: gone
Status: deinstall ok config-files
Version: 1.0

Package: libc-bin
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
";

    #[test]
    fn reads_installed_packages_with_their_source() {
        let (p, dropped) = packages(STATUS, "/var/lib/dpkg/status");
        assert!(dropped.is_empty());
        assert_eq!(p.len(), 2, "config-files only is not installed");
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].source_name.as_deref()
            ),
            ("libssl3", "3.0.15-1~deb12u1", Some("openssl"))
        );
        assert_eq!(p[0].metadata["architecture"], "amd64");
        assert_eq!(
            (p[1].source_name.as_deref(), p[1].source_version.as_deref()),
            (Some("glibc"), None)
        );
    }

    /// Issue 14 (hostile 13): one bad line dropped every package.
    #[test]
    fn garbage_is_skipped_and_said_with_its_line() {
        let (p, dropped) = packages(
            "Package: a\nVersion: 1\nthis is not a field\n\n continuation first\nPackage: b\nVersion: 2\n\nPackage: c\n",
            "/s",
        );
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            dropped,
            [
                "line 3: expected `Field: value`; the line was skipped",
                "line 5: continuation line before any field; the line was skipped",
                "a stanza (Package: c) has no Package or Version field and was skipped"
            ]
        );
    }

    #[test]
    fn licenses_from_copyright_files() {
        let dep5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\nFiles: *\nCopyright: 2020 A\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: Expat or Apache-2.0\n";
        assert_eq!(
            copyright_licenses(dep5),
            ["GPL-2.0-or-later", "MIT", "Apache-2.0"]
        );
        let free = "This is free software; see /usr/share/common-licenses/GPL-3 and\n/usr/share/common-licenses/LGPL-2.1.\n";
        assert_eq!(copyright_licenses(free), ["GPL-3.0-only", "LGPL-2.1-only"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,400}") {
            let _ = packages(&text, "/s");
            let _ = copyright_licenses(&text);
        }
    }
}
