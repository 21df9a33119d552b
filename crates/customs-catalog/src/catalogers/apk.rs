//! Alpine packages: the apk database `/lib/apk/db/installed`, in the
//! [installed-database format](https://wiki.alpinelinux.org/wiki/Apk_spec#Installed_Database_V2)
//! (`P:` name, `V:` version, `A:` arch, `o:` origin, `L:` licence,
//! `m:` maintainer, `F:`/`R:` files), one blank-line-separated record per package.

use customs_layer::Selector;
use customs_sbom::{Package, PackageType};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// The apk cataloger.
pub struct Apk;

const NAME: &str = "apk-db-cataloger";

fn finish(
    record: &mut Option<Package>,
    out: &mut Vec<Package>,
    dropped: &mut Vec<String>,
    line: usize,
) {
    if let Some(p) = record.take() {
        if p.name.is_empty() || p.version.is_empty() {
            dropped.push(format!(
                "the record ending at line {line} has no P: or V: field and was skipped"
            ));
        } else {
            out.push(p);
        }
    }
}

/// Parses the database. A malformed line or record is skipped and said (the
/// second list), as apk-tools skips it; it never drops the other packages.
pub fn parse(text: &str, path: &str) -> (Vec<Package>, Vec<String>) {
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    let mut record: Option<Package> = None;
    let mut dir = String::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            finish(&mut record, &mut out, &mut dropped, number + 1);
            continue;
        }
        let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
            dropped.push(format!(
                "line {}: expected `X:value`; the line was skipped",
                number + 1
            ));
            continue;
        };
        let p = record.get_or_insert_with(|| {
            Package::new(PackageType::Apk, "", "", String::new(), NAME, path)
        });
        match key {
            "P" => value.clone_into(&mut p.name),
            "V" => value.clone_into(&mut p.version),
            "A" => {
                p.metadata
                    .insert("architecture".to_owned(), value.to_owned());
            }
            "o" => p.source_name = Some(value.to_owned()).filter(|o| o != &p.name),
            "L" => p.licenses = vec![value.to_owned()],
            "m" => {
                p.metadata.insert("maintainer".to_owned(), value.to_owned());
            }
            "F" => {
                dir = format!("/{value}");
                p.files.push(dir.clone());
            }
            "R" => p
                .files
                .push(format!("{}/{value}", dir.trim_end_matches('/'))),
            _ => {}
        }
    }
    finish(&mut record, &mut out, &mut dropped, text.lines().count());
    (out, dropped)
}

impl Cataloger for Apk {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["os", "apk", "alpine"]
    }
    fn selector(&self) -> Selector {
        Selector::new().path("/lib/apk/db/installed")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let text = std::str::from_utf8(file.content)
            .map_err(|_| CatalogError::Malformed("not UTF-8 text".to_owned()))?;
        let (packages, dropped) = parse(text, file.path);
        Ok(Found::with_dropped(Found::Packages(packages), dropped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:383152\nI:622592\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Natanael Copa <ncopa@alpinelinux.org>\nF:lib\nR:libc.musl-x86_64.so.1\nR:ld-musl-x86_64.so.1\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\nF:usr/lib\nR:libcrypto.so.3\n";

    #[test]
    fn reads_packages_origin_and_files() {
        let (p, dropped) = parse(DB, "/lib/apk/db/installed");
        assert!(dropped.is_empty());
        assert_eq!(p.len(), 2);
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].source_name.as_deref()
            ),
            ("musl", "1.2.4_git20230717-r4", None)
        );
        assert_eq!(
            p[0].files,
            [
                "/lib",
                "/lib/libc.musl-x86_64.so.1",
                "/lib/ld-musl-x86_64.so.1"
            ]
        );
        assert_eq!(
            (p[1].source_name.as_deref(), p[1].licenses.clone()),
            (Some("openssl"), vec!["Apache-2.0".to_owned()])
        );
    }

    /// Issue 14 (hostile 13): one bad line dropped every package.
    #[test]
    fn a_corrupt_line_or_record_is_skipped_and_said_not_the_whole_database() {
        let (packages, dropped) = parse(
            "P:x\nthis line is wrong\nV:1\n\nP:no-version\n\nP:y\nV:2\n",
            "/db",
        );
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["x", "y"]);
        assert_eq!(
            dropped,
            [
                "line 2: expected `X:value`; the line was skipped",
                "the record ending at line 6 has no P: or V: field and was skipped"
            ]
        );
    }
}
