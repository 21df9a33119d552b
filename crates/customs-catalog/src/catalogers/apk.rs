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
    line: usize,
) -> Result<(), CatalogError> {
    if let Some(p) = record.take() {
        if p.name.is_empty() || p.version.is_empty() {
            return Err(CatalogError::Malformed(format!(
                "record ending at line {line} has no P: or V: field"
            )));
        }
        out.push(p);
    }
    Ok(())
}

/// Parses an apk installed database.
///
/// # Errors
/// A record without a name or version, or a line that is not `X:value`.
pub fn parse(text: &str, path: &str) -> Result<Vec<Package>, CatalogError> {
    let mut out = Vec::new();
    let mut record: Option<Package> = None;
    let mut dir = String::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            finish(&mut record, &mut out, number + 1)?;
            continue;
        }
        let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
            return Err(CatalogError::Malformed(format!(
                "line {}: expected `X:value`",
                number + 1
            )));
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
    finish(&mut record, &mut out, text.lines().count())?;
    Ok(out)
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
        parse(text, file.path).map(Found::Packages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:383152\nI:622592\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Natanael Copa <ncopa@alpinelinux.org>\nF:lib\nR:libc.musl-x86_64.so.1\nR:ld-musl-x86_64.so.1\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\nF:usr/lib\nR:libcrypto.so.3\n";

    #[test]
    fn reads_packages_origin_and_files() {
        let p = parse(DB, "/lib/apk/db/installed").unwrap();
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

    #[test]
    fn corrupt_records_are_errors_with_a_line() {
        assert_eq!(
            parse("P:x\nthis line is wrong\n", "/db")
                .unwrap_err()
                .to_string(),
            "malformed: line 2: expected `X:value`"
        );
        assert!(parse("P:x\n\n", "/db").is_err());
    }
}
