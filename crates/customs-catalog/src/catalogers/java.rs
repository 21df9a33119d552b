//! Java archives (jar, war, ear, and Jenkins plugins): Maven coordinates
//! from `META-INF/maven/*/*/pom.properties`, the archive's own identity from
//! its [manifest](https://docs.oracle.com/en/java/javase/21/docs/specs/jar/jar.html)
//! or file name, and archives nested inside (`BOOT-INF/lib`, `WEB-INF/lib`),
//! each read under size and depth limits (zip bombs).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use customs_layer::Selector;
use customs_sbom::{Package, PackageType, purl};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// The Java archive cataloger.
pub struct JavaArchive;

const NAME: &str = "java-archive-cataloger";
const MAX_DEPTH: usize = 4;
const MAX_NESTED: u64 = 256 << 20;
const MAX_METADATA: u64 = 1 << 20;
const ARCHIVE_SUFFIXES: [&str; 6] = [".jar", ".war", ".ear", ".par", ".jpi", ".hpi"];

fn is_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

/// `commons-lang3-3.12.0.jar` → (`commons-lang3`, `3.12.0`).
fn name_from_file(file: &str) -> (String, Option<String>) {
    let base = file.rsplit('/').next().unwrap_or(file);
    let stem = ARCHIVE_SUFFIXES
        .iter()
        .find_map(|s| base.strip_suffix(s))
        .unwrap_or(base);
    let split = stem
        .char_indices()
        .filter(|(i, c)| *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next();
    match split {
        Some(i) => (stem[..i].to_owned(), Some(stem[i + 1..].to_owned())),
        None => (stem.to_owned(), None),
    }
}

fn properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Manifest main attributes (continuation lines start with a space).
fn manifest(text: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            break; // per-entry sections follow
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some(value) = last.as_ref().and_then(|k| out.get_mut(k)) {
                value.push_str(rest);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.insert(k.trim().to_owned(), v.trim().to_owned());
            last = Some(k.trim().to_owned());
        }
    }
    out
}

fn maven_package(group: Option<&str>, artifact: &str, version: &str, path: &str) -> Package {
    let group = group.filter(|g| !g.is_empty()).unwrap_or(artifact);
    let mut p = Package::new(
        PackageType::JavaArchive,
        artifact,
        version,
        purl("maven", Some(group), artifact, version, &[]).unwrap_or_default(),
        NAME,
        path,
    );
    p.metadata.insert("group-id".to_owned(), group.to_owned());
    p
}

fn read_limited(entry: &mut impl Read, limit: u64, what: &str) -> Result<Vec<u8>, CatalogError> {
    let mut out = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| CatalogError::Malformed(format!("{what}: {e}")))?;
    if out.len() as u64 > limit {
        return Err(CatalogError::Malformed(format!(
            "{what} is larger than {limit} bytes"
        )));
    }
    Ok(out)
}

/// Catalogs one archive and, recursively, the archives inside it.
fn archive(
    bytes: &[u8],
    display_name: &str,
    path: &str,
    depth: usize,
    out: &mut Vec<Package>,
    dropped: &mut Vec<String>,
) -> Result<(), CatalogError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        CatalogError::Malformed(format!("{display_name} is not a valid zip archive: {e}"))
    })?;
    // Where a dropped part is: the file itself is named by the warning.
    let at = if depth == 0 {
        String::new()
    } else {
        format!("in {display_name}: ")
    };
    let mut poms: Vec<BTreeMap<String, String>> = Vec::new();
    let mut attributes = BTreeMap::new();
    let mut nested: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| CatalogError::Malformed(format!("{display_name}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| CatalogError::Malformed(format!("{display_name}: entry name: {e}")))?
            .into_owned();
        // One oversized or unreadable entry is said and skipped; the rest
        // of the archive is still read.
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            match read_limited(&mut entry, MAX_METADATA, &name) {
                Ok(text) => poms.push(properties(&String::from_utf8_lossy(&text))),
                Err(e) => dropped.push(format!("{at}{e}; the entry was skipped")),
            }
        } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            match read_limited(&mut entry, MAX_METADATA, &name) {
                Ok(text) => attributes = manifest(&String::from_utf8_lossy(&text)),
                Err(e) => dropped.push(format!("{at}{e}; the entry was skipped")),
            }
        } else if is_archive(&name) {
            if depth >= MAX_DEPTH {
                dropped.push(format!(
                    "{at}the nested archive {name} is more than {MAX_DEPTH} archives deep and was not read"
                ));
            } else if entry.size() > MAX_NESTED {
                dropped.push(format!(
                    "{at}the nested archive {name} is larger than {MAX_NESTED} bytes and was not read"
                ));
            } else {
                nested.push((name.clone(), read_limited(&mut entry, MAX_NESTED, &name)?));
            }
        }
    }
    let (file_name, file_version) = name_from_file(display_name);
    let own = poms
        .iter()
        .position(|p| p.get("artifactId") == Some(&file_name))
        .or_else(|| (poms.len() == 1).then_some(0));
    for (i, pom) in poms.iter().enumerate() {
        let (Some(artifact), Some(version)) = (pom.get("artifactId"), pom.get("version")) else {
            continue;
        };
        let mut p = maven_package(
            pom.get("groupId").map(String::as_str),
            artifact,
            version,
            path,
        );
        if Some(i) == own {
            p.metadata
                .insert("main-module".to_owned(), "true".to_owned());
        }
        out.push(p);
    }
    if own.is_none() {
        // No coordinates for the archive itself: its manifest, then its name.
        let name = attributes
            .get("Implementation-Title")
            .or_else(|| attributes.get("Bundle-Name"))
            .filter(|n| !n.contains(' '))
            .cloned()
            .unwrap_or(file_name);
        let version = attributes
            .get("Implementation-Version")
            .or_else(|| attributes.get("Bundle-Version"))
            .cloned()
            .or(file_version);
        if let Some(version) = version.filter(|v| !v.is_empty()) {
            let group = attributes
                .get("Implementation-Vendor-Id")
                .or_else(|| attributes.get("Bundle-SymbolicName"))
                .map(|g| g.split(';').next().unwrap_or(g).to_owned());
            let group = group
                .filter(|g| g != &name)
                .map(|g| g.strip_suffix(&format!(".{name}")).unwrap_or(&g).to_owned());
            let mut p = maven_package(group.as_deref(), &name, &version, path);
            p.metadata
                .insert("main-module".to_owned(), "true".to_owned());
            out.push(p);
        }
    }
    if let Some(license) = attributes
        .get("Bundle-License")
        .filter(|l| !l.contains("://"))
        && let Some(p) = out
            .iter_mut()
            .rev()
            .find(|p| p.metadata.get("main-module").is_some_and(|m| m == "true"))
    {
        p.licenses.push(license.clone());
    }
    for (name, bytes) in nested {
        let mut inner = Vec::new();
        archive(&bytes, &name, path, depth + 1, &mut inner, dropped)?;
        for mut p in inner {
            p.metadata.remove("main-module");
            p.metadata
                .insert("nested-in".to_owned(), format!("{display_name}:{name}"));
            out.push(p);
        }
    }
    Ok(())
}

impl Cataloger for JavaArchive {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "java", "java-archive", "maven"]
    }
    fn selector(&self) -> Selector {
        ARCHIVE_SUFFIXES
            .iter()
            .fold(Selector::new(), |s, suffix| s.suffix(suffix))
    }
    fn max_file_size(&self) -> u64 {
        1 << 30
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let mut packages = Vec::new();
        let mut dropped = Vec::new();
        archive(
            file.content,
            file.path,
            file.path,
            0,
            &mut packages,
            &mut dropped,
        )?;
        // The same coordinates found twice in one archive are one package.
        packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        packages.dedup_by(|a, b| a.name == b.name && a.version == b.version && a.purl == b.purl);
        Ok(Found::with_dropped(Found::Packages(packages), dropped))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn catalog(path: &str, content: &[u8]) -> Result<Vec<Package>, CatalogError> {
        match JavaArchive.catalog(&FileInput {
            path,
            layer: 0,
            mode: 0o644,
            content,
        })? {
            Found::Packages(p) => Ok(p),
            other => panic!("{other:?}"),
        }
    }

    /// Issue 14 (hostile 13): nesting stopped at 5 levels without a word.
    #[test]
    fn archives_nested_past_the_limit_are_said() {
        let pom = |a: &str| format!("groupId=g\nartifactId={a}\nversion=1.0\n").into_bytes();
        let mut inner = jar(&[("META-INF/maven/g/deepest/pom.properties", &pom("deepest"))]);
        for level in (0..=MAX_DEPTH).rev() {
            inner = jar(&[
                (
                    &format!("META-INF/maven/g/level{level}/pom.properties"),
                    &pom(&format!("level{level}")),
                ),
                (&format!("lib/level{}.jar", level + 1), &inner),
            ]);
        }
        let found = JavaArchive
            .catalog(&FileInput {
                path: "/app/app.jar",
                layer: 0,
                mode: 0o644,
                content: &inner,
            })
            .unwrap();
        let Found::Partial { found, dropped } = found else {
            panic!("{found:?}")
        };
        let Found::Packages(packages) = *found else {
            panic!()
        };
        assert!(packages.iter().any(|p| p.name == "level0"));
        assert!(!packages.iter().any(|p| p.name == "deepest"));
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert!(
            dropped[0].contains(&format!(
                "more than {MAX_DEPTH} archives deep and was not read"
            )),
            "{dropped:?}"
        );
    }

    #[test]
    fn reads_pom_properties_and_nested_jars() {
        let inner = jar(&[(
            "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties",
            b"groupId=com.fasterxml.jackson.core\nartifactId=jackson-databind\nversion=2.14.0\n",
        )]);
        let outer = jar(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\nImplementation-Title: lab-app\r\n\r\n",
            ),
            (
                "META-INF/maven/com.example.lab/lab-app/pom.properties",
                b"#Generated\ngroupId=com.example.lab\nartifactId=lab-app\nversion=1.0.0\n",
            ),
            ("BOOT-INF/lib/jackson-databind-2.14.0.jar", &inner),
        ]);
        let p = catalog("/app/lab-app.jar", &outer).unwrap();
        let got: Vec<(&str, &str, &str)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "jackson-databind",
                    "2.14.0",
                    "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0"
                ),
                (
                    "lab-app",
                    "1.0.0",
                    "pkg:maven/com.example.lab/lab-app@1.0.0"
                )
            ]
        );
        assert!(p.iter().all(|p| p.path() == "/app/lab-app.jar"));
    }

    #[test]
    fn falls_back_to_the_manifest_and_file_name() {
        let j = jar(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Version: 2.5\n",
        )]);
        let p = catalog("/opt/lib/foo-bar-2.5.jar", &j).unwrap();
        assert_eq!(
            (p[0].name.as_str(), p[0].version.as_str()),
            ("foo-bar", "2.5")
        );
        assert_eq!(
            name_from_file("/x/commons-lang3-3.12.0.jar"),
            ("commons-lang3".to_owned(), Some("3.12.0".to_owned()))
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_archive() {
        let err = catalog("/app/broken.jar", b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(
            err.to_string()
                .contains("/app/broken.jar is not a valid zip archive"),
            "{err}"
        );
    }
}
