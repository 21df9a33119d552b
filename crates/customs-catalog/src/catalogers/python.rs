//! Installed Python distributions: `*.dist-info/METADATA` (wheels, pip),
//! `*.egg-info/PKG-INFO` and single-file `*.egg-info` (setuptools), per the
//! [core metadata spec](https://packaging.python.org/en/latest/specifications/core-metadata/).

use customs_layer::Selector;
use customs_sbom::{Package, PackageType, purl};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// The Python cataloger.
pub struct Python;

const NAME: &str = "python-installed-package-cataloger";

/// PEP 503 normalisation: lower case, runs of `-_.` become `-`.
#[must_use]
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// Classifier licence names that say exactly which licence they mean.
fn classifier_license(classifier: &str) -> Option<&'static str> {
    Some(match classifier.trim().rsplit("::").next()?.trim() {
        "MIT License" => "MIT",
        "Apache Software License" | "Apache License 2.0" => "Apache-2.0",
        "BSD License" => return None, // which BSD is not said
        "ISC License (ISCL)" => "ISC",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        "Python Software Foundation License" => "PSF-2.0",
        _ => return None,
    })
}

fn parse(text: &str, path: &str) -> Result<Package, CatalogError> {
    let (mut name, mut version, mut license, mut expression) = (None, None, None, None);
    let mut classifiers = Vec::new();
    let mut author = None;
    for line in text.lines() {
        if line.is_empty() {
            break; // the body (description) follows the headers
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => name = Some(value.to_owned()),
            "Version" => version = Some(value.to_owned()),
            "License"
                if !value.is_empty()
                    && value != "UNKNOWN"
                    && value.len() <= 200
                    && !value.contains('\n') =>
            {
                license = Some(value.to_owned())
            }
            "License-Expression" => expression = Some(value.to_owned()),
            "Classifier" if value.starts_with("License ::") => {
                classifiers.extend(classifier_license(value))
            }
            "Author" | "Author-email" if author.is_none() && !value.is_empty() => {
                author = Some(value.to_owned())
            }
            _ => {}
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CatalogError::Malformed("no Name header".to_owned()))?;
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CatalogError::Malformed(format!("no Version header for `{name}`")))?;
    let purl = purl("pypi", None, &normalize(&name), &version, &[])
        .map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let mut package = Package::new(PackageType::Python, &name, &version, purl, NAME, path);
    package.licenses = match (expression, license) {
        (Some(e), _) => vec![e],
        (None, Some(l)) => vec![l],
        (None, None) => classifiers.into_iter().map(str::to_owned).collect(),
    };
    if let Some(a) = author {
        package.metadata.insert("author".to_owned(), a);
    }
    Ok(package)
}

impl Cataloger for Python {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "python"]
    }
    fn selector(&self) -> Selector {
        Selector::new()
            .suffix(".dist-info/METADATA")
            .suffix(".dist-info/RECORD")
            .suffix(".egg-info/PKG-INFO")
            .suffix(".egg-info")
    }
    fn max_file_size(&self) -> u64 {
        16 << 20
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let text = String::from_utf8_lossy(file.content);
        if let Some(dist_info) = file.path.strip_suffix("/RECORD") {
            // `path,hash,size` lines, relative to the site-packages directory.
            let site = dist_info.rsplit_once('/').map_or("", |(s, _)| s);
            let files = text
                .lines()
                .filter_map(|l| l.split(',').next())
                .filter(|f| !f.is_empty())
                .map(|f| {
                    if f.starts_with('/') {
                        f.to_owned()
                    } else {
                        format!("{site}/{f}")
                    }
                })
                .collect();
            return Ok(Found::OwnedFiles {
                package: format!("{dist_info}/METADATA"),
                files,
            });
        }
        parse(&text, file.path).map(|p| Found::Packages(vec![p]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata() {
        let p = parse("Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\nLicense: BSD-3-Clause\n\nbody: not a header\n", "/x/METADATA").unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.purl.as_str()),
            ("Jinja2", "2.11.2", "pkg:pypi/jinja2@2.11.2")
        );
        assert_eq!(p.licenses, ["BSD-3-Clause"]);
        let c = parse("Name: PyYAML\nVersion: 5.3.1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n", "/m").unwrap();
        assert_eq!(
            (c.purl.as_str(), c.licenses.clone()),
            ("pkg:pypi/pyyaml@5.3.1", vec!["MIT".to_owned()])
        );
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
    }

    #[test]
    fn record_lists_the_installed_files() {
        let found = Python
            .catalog(&FileInput {
                path: "/usr/lib/python3/site-packages/a-1.0.dist-info/RECORD",
                layer: 0,
                mode: 0o644,
                content: b"a/__init__.py,sha256=x,10\na-1.0.dist-info/METADATA,,\n",
            })
            .unwrap();
        assert_eq!(
            found,
            Found::OwnedFiles {
                package: "/usr/lib/python3/site-packages/a-1.0.dist-info/METADATA".to_owned(),
                files: vec![
                    "/usr/lib/python3/site-packages/a/__init__.py".to_owned(),
                    "/usr/lib/python3/site-packages/a-1.0.dist-info/METADATA".to_owned()
                ]
            }
        );
    }

    #[test]
    fn truncated_metadata_is_an_error_naming_the_package() {
        assert_eq!(
            parse("Metadata-Version: 2.1\nName: requests\n", "/m")
                .unwrap_err()
                .to_string(),
            "malformed: no Version header for `requests`"
        );
        assert!(parse("", "/m").is_err());
    }
}
