//! The index: imports of files, folders and osv.dev's zip exports (real
//! data from `../shared/vulndata`), incremental re-imports, withdrawn
//! records, malformed input, atomic swaps, and `db update` downloads
//! against an in-process server.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::{Path, PathBuf};
use std::time::Duration;

use customs_test::fault::{FaultServer, Reply};
use customs_vuln::index::{INDEX_FILE, ImportSource};
use customs_vuln::update::download_exports;
use customs_vuln::{IndexError, VulnIndex, import};

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vulndata")
        .join(path)
}

fn record(id: &str, modified: &str, name: &str, fixed: &str) -> String {
    format!(
        r#"{{"schema_version":"1.6.0","id":"{id}","modified":"{modified}","aliases":["CVE-2099-{id}"],
           "summary":"{id} in {name}",
           "affected":[{{"package":{{"ecosystem":"PyPI","name":"{name}"}},
             "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(&path, text).unwrap();
    path
}

fn sources(paths: &[&Path]) -> Vec<ImportSource> {
    paths.iter().map(|p| ImportSource::path(p)).collect()
}

#[test]
fn imports_an_osv_dev_export_zip() {
    let db = tempfile::tempdir().unwrap();
    let zip = shared("osv/crates.io/all.zip");
    let summary = import(db.path(), &sources(&[&zip]), 1_700_000_000).unwrap();
    let s = &summary.sources[0];
    assert_eq!(s.records, 1614, "every record of the export is read");
    assert!(s.added > 1500, "{s:?}");
    let index = VulnIndex::open(db.path()).unwrap();
    let status = index.status().unwrap();
    assert!(
        status.ecosystems["crates.io"] > 1500,
        "{:?}",
        status.ecosystems
    );
    assert_eq!(status.built_at, 1_700_000_000);
    // Recorded by its canonical path (issue 14: one folder, two spellings).
    assert_eq!(
        status.sources[0].source,
        fs_err::canonicalize(&zip).unwrap().display().to_string()
    );
    // RUSTSEC-2021-0003: smallvec's insert_many buffer overflow.
    let ids: Vec<String> = index
        .lookup("crates.io", "smallvec")
        .unwrap()
        .into_iter()
        .map(|c| c.advisory)
        .collect();
    assert!(ids.contains(&"RUSTSEC-2021-0003".to_owned()), "{ids:?}");
    let blob = index.advisory("RUSTSEC-2021-0003").unwrap().unwrap();
    assert!(
        blob.aliases.iter().any(|a| a.starts_with("CVE-2021-25900")),
        "{blob:?}"
    );

    // Re-importing the same export changes nothing.
    let again = import(db.path(), &sources(&[&zip]), 1_700_000_100).unwrap();
    assert_eq!(again.sources[0].added, 0);
    assert_eq!(again.sources[0].updated, 0);
    assert_eq!(again.sources[0].unchanged, s.added + s.unchanged);
}

#[test]
fn reimport_is_incremental_by_modified_time_and_drops_withdrawn_records() {
    let db = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write(
        data.path(),
        "a/PYSEC-1.json",
        &record("PYSEC-1", "2024-01-01T00:00:00Z", "Foo_Bar", "1.0"),
    );
    write(
        data.path(),
        "a/PYSEC-2.json",
        &record("PYSEC-2", "2024-01-01T00:00:00Z", "baz", "2.0"),
    );
    let summary = import(db.path(), &sources(&[data.path()]), 1).unwrap();
    assert_eq!(
        (summary.sources[0].records, summary.sources[0].added),
        (2, 2)
    );
    let index = VulnIndex::open(db.path()).unwrap();
    // Names are stored PEP 503-normalised.
    assert_eq!(index.lookup("PyPI", "foo-bar").unwrap().len(), 1);
    drop(index);

    // Same time: unchanged. Later time: replaced. Earlier time: kept as is.
    write(
        data.path(),
        "a/PYSEC-1.json",
        &record("PYSEC-1", "2024-06-01T00:00:00.5Z", "foo-bar", "1.5"),
    );
    write(
        data.path(),
        "a/PYSEC-2.json",
        &record("PYSEC-2", "2023-01-01T00:00:00Z", "baz", "9.9"),
    );
    let summary = import(db.path(), &sources(&[data.path()]), 2).unwrap();
    let s = &summary.sources[0];
    assert_eq!((s.updated, s.unchanged, s.added), (1, 1, 0), "{s:?}");
    let index = VulnIndex::open(db.path()).unwrap();
    let c = &index.lookup("PyPI", "foo-bar").unwrap()[0];
    assert_eq!(c.affected.ranges[0].events[1].fixed.as_deref(), Some("1.5"));
    let c = &index.lookup("PyPI", "baz").unwrap()[0];
    assert_eq!(c.affected.ranges[0].events[1].fixed.as_deref(), Some("2.0"));
    drop(index);

    // Withdrawn: gone.
    let withdrawn = record("PYSEC-2", "2024-07-01T00:00:00Z", "baz", "2.0").replacen(
        "\"aliases\"",
        "\"withdrawn\":\"2024-07-01T00:00:00Z\",\"aliases\"",
        1,
    );
    write(data.path(), "a/PYSEC-2.json", &withdrawn);
    let summary = import(db.path(), &sources(&[data.path()]), 3).unwrap();
    assert_eq!(summary.sources[0].withdrawn, 1);
    let index = VulnIndex::open(db.path()).unwrap();
    assert!(index.lookup("PyPI", "baz").unwrap().is_empty());
    assert!(index.advisory("PYSEC-2").unwrap().is_none());
    assert_eq!(index.status().unwrap().advisories, 1);
}

#[test]
fn malformed_records_are_counted_warnings_naming_the_record() {
    let db = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write(
        data.path(),
        "good.json",
        &record("GHSA-good", "2024-01-01T00:00:00Z", "ok", "1.0"),
    );
    write(data.path(), "bad-json.json", "{\"id\": \"X\", ");
    write(
        data.path(),
        "bad-range.json",
        r#"{"id":"BAD-RANGE","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"CALVER","events":[{"introduced":"0"}]}]}]}"#,
    );
    write(
        data.path(),
        "bad-version.json",
        &record("BAD-VERSION", "2024-01-01T00:00:00Z", "y", "not a version!"),
    );
    write(
        data.path(),
        "bad-time.json",
        &record("BAD-TIME", "last tuesday", "z", "1.0"),
    );
    let huge = format!(
        "{{\"id\":\"HUGE\",\"modified\":\"2024-01-01T00:00:00Z\",\"details\":\"{}\"}}",
        "x".repeat(17 * 1024 * 1024)
    );
    write(data.path(), "huge.json", &huge);
    write(data.path(), "notes.txt", "not read: neither JSON nor zip");
    let summary = import(db.path(), &sources(&[data.path()]), 1).unwrap();
    let s = &summary.sources[0];
    assert_eq!(
        (s.records, s.added, s.skipped),
        (6, 2, 5),
        "{s:?} {:#?}",
        summary.warnings
    );
    assert_eq!(summary.warning_count, 5);
    let all = summary.warnings.join("\n");
    for expected in [
        "bad-json.json: not a valid OSV record",
        "bad-range.json: record `BAD-RANGE`: unknown range type `CALVER`",
        "record `BAD-VERSION`, package PyPI/y: fixed version `not a version!` is not a valid Pep440 version; entry skipped",
        "bad-time.json: record `BAD-TIME`: `modified` is not an RFC 3339 time",
        "huge.json: larger than the 16777216-byte limit for one OSV record",
    ] {
        assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
    }
    let index = VulnIndex::open(db.path()).unwrap();
    assert_eq!(index.lookup("PyPI", "ok").unwrap().len(), 1);
    // The record whose only entry was skipped is kept (for incremental
    // re-imports) but can match nothing.
    assert!(index.lookup("PyPI", "y").unwrap().is_empty());
}

#[test]
fn a_failed_import_leaves_the_previous_index_whole() {
    let db = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let first = write(
        data.path(),
        "one/A-1.json",
        &record("A-1", "2024-01-01T00:00:00Z", "a", "1.0"),
    );
    import(db.path(), &sources(&[first.parent().unwrap()]), 1).unwrap();
    let before = fs_err::read(db.path().join(INDEX_FILE)).unwrap();

    // A good source, then a damaged archive: nothing of either lands.
    let second = write(
        data.path(),
        "two/B-1.json",
        &record("B-1", "2024-01-01T00:00:00Z", "b", "1.0"),
    );
    let broken = write(
        data.path(),
        "broken.zip",
        "PK\u{3}\u{4} this is not really a zip",
    );
    let err = import(db.path(), &sources(&[second.parent().unwrap(), &broken]), 2).unwrap_err();
    assert!(matches!(err, IndexError::Archive { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("broken.zip: not a readable zip archive"),
        "{err}"
    );
    assert_eq!(fs_err::read(db.path().join(INDEX_FILE)).unwrap(), before);
    let leftovers: Vec<_> = fs_err::read_dir(db.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from(INDEX_FILE)],
        "no temp files left"
    );
    let index = VulnIndex::open(db.path()).unwrap();
    assert!(index.lookup("PyPI", "b").unwrap().is_empty());
    assert_eq!(index.built_at().unwrap(), 1);

    // A path that is not an input is an error too.
    let err = import(db.path(), &sources(&[Path::new("/nonexistent/osv")]), 3).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/osv"), "{err}");
}

#[test]
fn opening_a_missing_or_foreign_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = VulnIndex::open(dir.path()).unwrap_err();
    assert!(matches!(err, IndexError::Missing { .. }));
    fs_err::write(dir.path().join(INDEX_FILE), b"not sqlite at all, just text").unwrap();
    assert!(VulnIndex::open(dir.path()).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn update_downloads_exports_and_keeps_the_database_when_offline() {
    let zip = fs_err::read(shared("osv/crates.io/all.zip")).unwrap();
    let server = FaultServer::start(move |request| match request.path.as_str() {
        "/crates.io/all.zip" => Reply::new(200, zip.clone()),
        "/broken/all.zip" => Reply::new(500, "down"),
        "/html/all.zip" => Reply::new(200, "<html>captive portal</html>"),
        _ => Reply::new(404, "no"),
    });
    let base = format!("http://{}", server.addr);
    let into = tempfile::tempdir().unwrap();
    let got = download_exports(
        &base,
        &["crates.io".to_owned()],
        into.path(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(got[0].name, format!("{base}/crates.io/all.zip"));
    let db = tempfile::tempdir().unwrap();
    let summary = import(db.path(), &got, 5).unwrap();
    assert_eq!(summary.sources[0].records, 1614);

    for (ecosystem, expected) in [
        ("broken", "HTTP 500"),
        ("html", "not a zip archive"),
        ("missing", "HTTP 404"),
    ] {
        let err = download_exports(
            &base,
            &[ecosystem.to_owned()],
            into.path(),
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains(expected), "{ecosystem}: {err}");
    }
    // Offline: nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = download_exports(
        &url,
        &["PyPI".to_owned()],
        into.path(),
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot download http://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn aliases_merge_and_a_dsa_joins_the_cves_it_fixed() {
    let db = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let debian = |id: &str, related: &str, fixed: &str| {
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","related":[{related}],"summary":"{id}",
               "affected":[{{"package":{{"ecosystem":"Debian:12","name":"openssl"}},
               "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
        )
    };
    write(
        data.path(),
        "CVE-2099-1.json",
        &debian("CVE-2099-1", r#""DSA-9999-1""#, "3.0.13-1~deb12u1"),
    );
    write(
        data.path(),
        "CVE-2099-2.json",
        &debian("CVE-2099-2", r#""DSA-9999-1""#, "3.0.13-1~deb12u1"),
    );
    write(
        data.path(),
        "DSA-9999-1.json",
        &debian(
            "DSA-9999-1",
            r#""CVE-2099-1","CVE-2099-2""#,
            "3.0.13-1~deb12u1",
        ),
    );
    write(
        data.path(),
        "DSA-9998-1.json",
        &debian("DSA-9998-1", r#""CVE-2099-3""#, "3.0.14-1~deb12u1"),
    );
    // A PyPA and a GitHub record of one vulnerability.
    write(
        data.path(),
        "PYSEC-1.json",
        &record("PYSEC-1", "2024-01-01T00:00:00Z", "x", "2.0")
            .replace("CVE-2099-PYSEC-1", "CVE-2099-7"),
    );
    write(
        data.path(),
        "GHSA-1.json",
        &record("GHSA-1", "2024-01-01T00:00:00Z", "x", "2.0")
            .replace("CVE-2099-GHSA-1", "CVE-2099-7"),
    );
    import(db.path(), &sources(&[data.path()]), 1).unwrap();
    let index = VulnIndex::open(db.path()).unwrap();
    let mut libssl = customs_sbom::Package::new(
        customs_sbom::PackageType::Deb,
        "libssl3",
        "3.0.11-1~deb12u2",
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2".to_owned(),
        "test",
        "/var/lib/dpkg/status",
    );
    libssl.source_name = Some("openssl".to_owned());
    let x = customs_sbom::Package::new(
        customs_sbom::PackageType::Python,
        "x",
        "1.0",
        "pkg:pypi/x@1.0".to_owned(),
        "test",
        "/x",
    );
    let sbom = customs_sbom::Sbom {
        distro: Some(customs_sbom::Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Default::default()
        }),
        packages: vec![libssl, x],
        ..Default::default()
    };
    let report = customs_vuln::match_sbom(&index, &sbom).unwrap();
    let mut ids: Vec<(String, Vec<String>)> = report
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.aliases.clone()))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            ("CVE-2099-1".to_owned(), vec!["DSA-9999-1".to_owned()]),
            ("CVE-2099-2".to_owned(), vec!["DSA-9999-1".to_owned()]),
            (
                "CVE-2099-7".to_owned(),
                vec!["GHSA-1".to_owned(), "PYSEC-1".to_owned()]
            ),
            // A DSA whose CVEs are not matched on their own stands alone.
            ("DSA-9998-1".to_owned(), vec![]),
        ]
    );
    let merged = report
        .findings
        .iter()
        .find(|f| f.id == "CVE-2099-7")
        .unwrap();
    assert_eq!(merged.details.len(), 2, "both records are evidence");
}

#[test]
fn a_damaged_entry_is_an_error_not_a_silent_miss() {
    let db = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write(
        data.path(),
        "A-1.json",
        &record("A-1", "2024-01-01T00:00:00Z", "a", "1.0"),
    );
    import(db.path(), &sources(&[data.path()]), 1).unwrap();
    let conn = rusqlite::Connection::open(db.path().join(INDEX_FILE)).unwrap();
    conn.execute("UPDATE handles SET affected = x'00ff'", [])
        .unwrap();
    conn.execute("UPDATE advisories SET blob = x'00ff'", [])
        .unwrap();
    drop(conn);
    let index = VulnIndex::open(db.path()).unwrap();
    let e = index.lookup("PyPI", "a").unwrap_err();
    assert!(
        e.to_string().contains("damaged entry `PyPI/a in A-1`"),
        "{e}"
    );
    let e = index.advisory("A-1").unwrap_err();
    assert!(e.to_string().contains("rebuild the database"), "{e}");
}

/// Issue 15: a finding whose own records carry no CVSS (osv.dev's Debian
/// records) takes its severity from the records aliasing it — the best
/// one, with `severity_source` saying which — and one with none stays
/// `unknown`. An index of schema 1 (no alias table) is upgraded by the
/// next import, its aliases filled from the stored records.
#[test]
fn severity_comes_from_records_aliasing_the_finding() {
    use customs_sbom::{Distro, Package, PackageType, Sbom};
    let dir = tempfile::tempdir().unwrap();
    let debian = |id: &str| {
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"Debian:12","name":"libfoo"}},
               "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"1.2-1"}}]}}],
               "ecosystem_specific":{{"urgency":"not yet assigned"}}}}]}}"#
        )
    };
    write(
        dir.path(),
        "src/CVE-2099-0001.json",
        &debian("CVE-2099-0001"),
    );
    write(
        dir.path(),
        "src/CVE-2099-0002.json",
        &debian("CVE-2099-0002"),
    );
    // Two records alias CVE-2099-0001: a GHSA with a 9.8 vector for the
    // record, a Bitnami one with a 6.5 vector for its package entry.
    write(
        dir.path(),
        "src/GHSA-aaaa-bbbb-cccc.json",
        r#"{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],
           "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
           "affected":[{"package":{"ecosystem":"PyPI","name":"foo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}]}"#,
    );
    write(
        dir.path(),
        "src/BIT-foo-2099-0001.json",
        r#"{"id":"BIT-foo-2099-0001","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],
           "affected":[{"package":{"ecosystem":"PyPI","name":"foo2"},
             "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"}],
             "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}]}"#,
    );
    let db = dir.path().join("db");
    import(&db, &sources(&[&dir.path().join("src")]), 1_700_000_000).unwrap();
    let mut sbom = Sbom {
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            ..Distro::default()
        }),
        ..Sbom::default()
    };
    sbom.packages.push(Package::new(
        PackageType::Deb,
        "libfoo",
        "1.0-1",
        "pkg:deb/debian/libfoo@1.0-1?distro=debian-12".to_owned(),
        "test",
        "/var/lib/dpkg/status",
    ));
    let check = |index: &VulnIndex| {
        let report = customs_vuln::match_sbom(index, &sbom).unwrap();
        let by_id = |id: &str| {
            report
                .findings
                .iter()
                .find(|f| f.id == id)
                .unwrap_or_else(|| panic!("{id} not found: {:?}", report.findings))
        };
        let rated = by_id("CVE-2099-0001");
        assert_eq!(rated.severity(), customs_types::Severity::Critical);
        assert_eq!(rated.rating.label(), "cvss-3.1 via GHSA-aaaa-bbbb-cccc");
        assert_eq!(rated.rating.score, Some(9.8));
        let unrated = by_id("CVE-2099-0002");
        assert_eq!(unrated.severity(), customs_types::Severity::Unknown);
        assert_eq!(unrated.rating.label(), "unknown");
    };
    check(&VulnIndex::open(&db).unwrap());

    // Schema 1: no alias table. Opening it says so; the next import
    // upgrades it in place of a rebuild, keeping every record.
    {
        let conn = rusqlite::Connection::open(db.join(INDEX_FILE)).unwrap();
        conn.execute_batch("DROP TABLE aliases; PRAGMA user_version = 1;")
            .unwrap();
    }
    assert!(matches!(
        VulnIndex::open(&db),
        Err(IndexError::Incompatible { .. })
    ));
    write(
        dir.path(),
        "more/CVE-2099-0003.json",
        &debian("CVE-2099-0003"),
    );
    import(&db, &sources(&[&dir.path().join("more")]), 1_700_000_100).unwrap();
    check(&VulnIndex::open(&db).unwrap());
}

/// Issue 15: a runtime found by a binary classifier is matched against
/// Bitnami's real export by its component, versions as SemVer with missing
/// parts zero; the fixed version itself is not affected.
#[test]
fn classified_runtimes_match_bitnami_advisories_at_their_boundaries() {
    use customs_sbom::{Package, PackageType, Sbom};
    let db = tempfile::tempdir().unwrap();
    let zip = shared("osv/Bitnami/all.zip");
    let summary = import(db.path(), &sources(&[&zip]), 1_700_000_000).unwrap();
    assert_eq!(summary.sources[0].records, 7444);
    let index = VulnIndex::open(db.path()).unwrap();
    let node = |version: &str| {
        let mut p = Package::new(
            PackageType::Binary,
            "node",
            version,
            format!("pkg:generic/node@{version}"),
            "binary-classifier-cataloger",
            "/usr/local/bin/node",
        );
        p.metadata.insert("bitnami".to_owned(), "node".to_owned());
        let sbom = Sbom {
            packages: vec![p],
            ..Sbom::default()
        };
        customs_vuln::match_sbom(&index, &sbom).unwrap()
    };
    let ids = |version: &str| -> Vec<String> {
        node(version)
            .findings
            .iter()
            .flat_map(|f| std::iter::once(f.id.clone()).chain(f.aliases.clone()))
            .collect()
    };
    // BIT-node-2023-30582 (CVE-2023-30582): introduced 20.0.0, fixed 20.3.1.
    assert!(ids("20.3.0").contains(&"CVE-2023-30582".to_owned()));
    assert!(
        ids("20.3").contains(&"CVE-2023-30582".to_owned()),
        "20.3 is 20.3.0"
    );
    assert!(
        !ids("20.3.1").contains(&"CVE-2023-30582".to_owned()),
        "the fix is not affected"
    );
    assert!(!ids("19.9.0").contains(&"CVE-2023-30582".to_owned()));
    let report = node("20.3.0");
    let f = report
        .findings
        .iter()
        .find(|f| f.id == "CVE-2023-30582")
        .unwrap();
    assert_eq!(f.details[0].ecosystem, "Bitnami");
    assert_eq!(f.details[0].advisory, "BIT-node-2023-30582");
    assert_eq!(f.details[0].via, customs_vuln::Via::BinaryClassifier);
    assert_eq!(f.package.kind, PackageType::Binary);
    // A runtime without a Bitnami component is not looked up.
    let mut bash = Package::new(
        PackageType::Binary,
        "bash",
        "5.2.15",
        "pkg:generic/bash@5.2.15".to_owned(),
        "binary-classifier-cataloger",
        "/usr/local/bin/bash",
    );
    bash.metadata.clear();
    let sbom = Sbom {
        packages: vec![bash],
        ..Sbom::default()
    };
    let report = customs_vuln::match_sbom(&index, &sbom).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.packages_not_matched["no advisory ecosystem"], 1);
}
