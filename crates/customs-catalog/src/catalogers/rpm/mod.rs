//! RPM packages from the rpmdb: the SQLite database of RPM ≥ 4.16
//! (`rpmdb.sqlite`: Fedora 33+, RHEL 9) and the Berkeley DB hash `Packages`
//! of RHEL 7/8, under `/var/lib/rpm`, `/usr/lib/sysimage/rpm` or
//! `/usr/share/rpm`. The NDB `Packages.db` of SUSE is detected and reported
//! as an unknown, never silently skipped.

pub mod bdb;
mod header;
pub mod sqlite;

use customs_layer::Selector;
use customs_sbom::{Package, PackageType};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};
use header::{Entry, tag};

/// The rpm cataloger.
pub struct Rpm;

const NAME: &str = "rpm-db-cataloger";

fn string(entries: &std::collections::HashMap<i32, Entry>, t: i32) -> Option<String> {
    match entries.get(&t) {
        Some(Entry::Strings(s)) => s.first().cloned().filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// One package from a header blob.
fn package(blob: &[u8], path: &str) -> Result<Package, CatalogError> {
    let entries = header::parse(blob)?;
    let name = string(&entries, tag::NAME)
        .ok_or_else(|| CatalogError::Malformed("rpm header without a NAME".to_owned()))?;
    let version = string(&entries, tag::VERSION).unwrap_or_default();
    let release = string(&entries, tag::RELEASE).unwrap_or_default();
    let epoch = match entries.get(&tag::EPOCH) {
        Some(Entry::Ints(v)) => v.first().copied(),
        _ => None,
    };
    let evr = match (epoch, release.is_empty()) {
        (Some(e), false) => format!("{e}:{version}-{release}"),
        (Some(e), true) => format!("{e}:{version}"),
        (None, false) => format!("{version}-{release}"),
        (None, true) => version.clone(),
    };
    let mut p = Package::new(PackageType::Rpm, &name, &evr, String::new(), NAME, path);
    if let Some(license) = string(&entries, tag::LICENSE) {
        p.licenses.push(license);
    }
    for (t, key) in [
        (tag::ARCH, "architecture"),
        (tag::VENDOR, "vendor"),
        (tag::SOURCERPM, "source-rpm"),
        (tag::MODULARITYLABEL, "modularity-label"),
    ] {
        if let Some(v) = string(&entries, t) {
            p.metadata.insert(key.to_owned(), v);
        }
    }
    if let Some(epoch) = epoch {
        p.metadata.insert("epoch".to_owned(), epoch.to_string());
    }
    // `openssl-3.0.7-27.el9.src.rpm` → source package `openssl`.
    if let Some(src) = p.metadata.get("source-rpm").cloned() {
        let stem = src
            .trim_end_matches(".rpm")
            .trim_end_matches(".src")
            .trim_end_matches(".nosrc");
        let mut parts = stem.rsplitn(3, '-');
        let (src_release, src_version, src_name) = (parts.next(), parts.next(), parts.next());
        if let (Some(n), Some(v), Some(r)) = (src_name, src_version, src_release) {
            if n != name {
                p.source_name = Some(n.to_owned());
            }
            let src_evr = format!("{v}-{r}");
            if src_evr != format!("{version}-{release}") {
                p.source_version = Some(src_evr);
            }
        }
    }
    if let (Some(Entry::Ints(indexes)), Some(Entry::Strings(bases)), Some(Entry::Strings(dirs))) = (
        entries.get(&tag::DIRINDEXES),
        entries.get(&tag::BASENAMES),
        entries.get(&tag::DIRNAMES),
    ) {
        for (index, base) in indexes.iter().zip(bases) {
            if let Some(dir) = usize::try_from(*index).ok().and_then(|i| dirs.get(i)) {
                p.files.push(format!("{dir}{base}"));
            }
        }
    }
    Ok(p)
}

/// The packages of a database's header blobs, by name; `gpg-pubkey`
/// entries are imported signing keys, not packages.
fn packages_of<'a>(
    blobs: impl IntoIterator<Item = &'a [u8]>,
    path: &str,
) -> Result<Found, CatalogError> {
    let mut packages = Vec::new();
    let mut dropped = Vec::new();
    for (i, blob) in blobs.into_iter().enumerate() {
        // A damaged header is one package lost, said; not the database.
        match package(blob, path) {
            Ok(p) if p.name == "gpg-pubkey" => {}
            Ok(p) => packages.push(p),
            Err(e) => dropped.push(format!("header {}: {e}; the package was skipped", i + 1)),
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Found::with_dropped(Found::Packages(packages), dropped))
}

impl Cataloger for Rpm {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["os", "rpm", "redhat"]
    }
    fn selector(&self) -> Selector {
        ["/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm"]
            .iter()
            .fold(Selector::new(), |s, dir| {
                s.path(&format!("{dir}/rpmdb.sqlite"))
                    .path(&format!("{dir}/Packages"))
                    .path(&format!("{dir}/Packages.db"))
            })
    }
    fn max_file_size(&self) -> u64 {
        1 << 30
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let malformed = |e: &dyn std::fmt::Display| CatalogError::Malformed(e.to_string());
        if file.path.ends_with("/rpmdb.sqlite") {
            let rows = sqlite::table(file.content, "Packages").map_err(|e| malformed(&e))?;
            let blobs = rows
                .iter()
                .map(
                    |row| match sqlite::record(row).map_err(|e| malformed(&e))?.get(1) {
                        Some(sqlite::Value::Bytes(blob)) => Ok(*blob),
                        _ => Err(malformed(&"a Packages row has no header blob")),
                    },
                )
                .collect::<Result<Vec<&[u8]>, _>>()?;
            return packages_of(blobs, file.path);
        }
        if file.content.is_empty() {
            return Ok(Found::Packages(Vec::new()));
        }
        if file.path.ends_with("/Packages") {
            let blobs = bdb::values(file.content).map_err(|e| malformed(&e))?;
            // Berkeley DB also stores small bookkeeping records: skip them.
            return packages_of(
                blobs.iter().map(Vec::as_slice).filter(|b| b.len() > 8),
                file.path,
            );
        }
        Err(CatalogError::Malformed("the NDB rpm database format (SUSE) is not read yet; the packages of this database are not in the SBOM".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/rpm/rpmdb.sqlite");

    fn names(path: &str, content: &[u8]) -> Vec<Package> {
        let Found::Packages(p) = Rpm
            .catalog(&FileInput {
                path,
                layer: 0,
                mode: 0o644,
                content,
            })
            .unwrap()
        else {
            panic!()
        };
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("bash", "5.1.8-9.el9"),
                ("openssl-libs", "1:3.0.7-27.el9"),
                ("tzdata", "2024a-1.el9")
            ],
            "{path}"
        );
        p
    }

    #[test]
    fn reads_a_real_sqlite_rpmdb() {
        let p = names("/var/lib/rpm/rpmdb.sqlite", FIXTURE);
        assert_eq!(p[1].metadata["architecture"], "x86_64");
        assert_eq!(p[1].licenses, ["OpenSSL and ASL 2.0"]);
        assert_eq!(p[0].files, ["/usr/share/doc/bash/README"]);
    }

    #[test]
    fn reads_real_berkeley_db_rpmdbs_inline_and_in_overflow_pages() {
        names(
            "/var/lib/rpm/Packages",
            include_bytes!("../../../tests/fixtures/rpm/Packages"),
        );
        names(
            "/var/lib/rpm/Packages",
            include_bytes!("../../../tests/fixtures/rpm/Packages-512"),
        );
    }

    #[test]
    fn corruption_is_an_error_never_a_panic() {
        let mut broken = FIXTURE.to_vec();
        broken.truncate(5000);
        assert!(
            Rpm.catalog(&FileInput {
                path: "/var/lib/rpm/rpmdb.sqlite",
                layer: 0,
                mode: 0o644,
                content: &broken
            })
            .is_err()
        );
        let err = Rpm
            .catalog(&FileInput {
                path: "/var/lib/rpm/Packages",
                layer: 0,
                mode: 0o644,
                content: b"\0\0\0\0\x61\x15\x06\0",
            })
            .unwrap_err();
        assert!(err.to_string().contains("Berkeley DB"), "{err}");
        assert!(header::parse(&[0, 0, 0, 2, 0, 0, 0, 0]).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn flipped_bytes_never_panic(at in 0usize..FIXTURE.len(), byte in proptest::prelude::any::<u8>()) {
            let mut data = FIXTURE.to_vec();
            data[at] = byte;
            let _ = Rpm.catalog(&FileInput { path: "/var/lib/rpm/rpmdb.sqlite", layer: 0, mode: 0o644, content: &data });
        }

        #[test]
        fn flipped_bdb_bytes_never_panic(at in 0usize..7680, byte in proptest::prelude::any::<u8>()) {
            let mut data = include_bytes!("../../../tests/fixtures/rpm/Packages-512").to_vec();
            data[at] = byte;
            let _ = Rpm.catalog(&FileInput { path: "/var/lib/rpm/Packages", layer: 0, mode: 0o644, content: &data });
        }

        #[test]
        fn arbitrary_headers_never_panic(blob in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = header::parse(&blob);
        }
    }
}
