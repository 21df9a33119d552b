//! Accuracy on real advisories: the packages of the lab's `app` image
//! (`../shared/lab/`: old Python, npm, Go, Java and Rust packages on Debian
//! 12) matched against the curated OSV records of `../shared/vulndata`.
//! Every expectation below was written from the advisory itself (its
//! ranges are quoted), never from customs's output; each absent one sits
//! just outside an affected range.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use customs_sbom::{Distro, Package, PackageType, Relationship, RelationshipKind, Sbom};
use customs_types::Severity;
use customs_vuln::index::ImportSource;
use customs_vuln::{Finding, FixState, Via, VulnIndex, import, match_sbom};

fn curated_index() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let curated =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata/curated");
        import(dir.path(), &[ImportSource::path(&curated)], 1).unwrap();
        dir
    })
    .path()
}

fn package(kind: PackageType, name: &str, version: &str, purl: &str) -> Package {
    let mut p = Package::new(
        kind,
        name,
        version,
        purl.to_owned(),
        "test",
        &format!("/{name}"),
    );
    p.introduced_by_layer = Some(1);
    p
}

fn deb(name: &str, version: &str, source: Option<(&str, &str)>) -> Package {
    let mut p = package(
        PackageType::Deb,
        name,
        version,
        &format!("pkg:deb/debian/{name}@{version}?distro=debian-12"),
    );
    if let Some((n, v)) = source {
        p.source_name = Some(n.to_owned());
        p.source_version = Some(v.to_owned());
    }
    p
}

/// The lab app image's language packages (README of `../shared/lab`), plus
/// log4j-core 2.14.1 as the well-known positive control.
fn lab_app_sbom() -> Sbom {
    use PackageType::*;
    let packages = vec![
        package(Python, "requests", "2.25.1", "pkg:pypi/requests@2.25.1"),
        package(Python, "urllib3", "1.26.4", "pkg:pypi/urllib3@1.26.4"),
        package(Python, "Jinja2", "2.11.2", "pkg:pypi/jinja2@2.11.2"),
        package(Python, "MarkupSafe", "1.1.1", "pkg:pypi/markupsafe@1.1.1"),
        package(Python, "PyYAML", "5.3.1", "pkg:pypi/pyyaml@5.3.1"),
        package(Python, "idna", "2.10", "pkg:pypi/idna@2.10"),
        package(Npm, "lodash", "4.17.15", "pkg:npm/lodash@4.17.15"),
        package(Npm, "minimist", "1.2.0", "pkg:npm/minimist@1.2.0"),
        package(Npm, "express", "4.17.1", "pkg:npm/express@4.17.1"),
        package(GoModule, "stdlib", "go1.20.7", "pkg:golang/stdlib@1.20.7"),
        package(
            GoModule,
            "github.com/docker/distribution/cmd/registry",
            "v2.8.2+ds1",
            "pkg:golang/github.com/docker/distribution@v2.8.2%2Bds1#cmd/registry",
        ),
        package(
            JavaArchive,
            "log4j-core",
            "2.19.0",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0",
        ),
        package(
            JavaArchive,
            "log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        ),
        package(RustCrate, "smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0"),
        package(RustCrate, "time", "0.1.43", "pkg:cargo/time@0.1.43"),
        // An older bookworm openssl, and the current one (backports).
        deb(
            "libssl3",
            "3.0.11-1~deb12u2",
            Some(("openssl", "3.0.11-1~deb12u2")),
        ),
        deb("openssl", "3.0.15-1~deb12u1", None),
    ];
    Sbom {
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Distro::default()
        }),
        packages,
        ..Sbom::default()
    }
}

fn findings() -> &'static Vec<Finding> {
    static FINDINGS: OnceLock<Vec<Finding>> = OnceLock::new();
    FINDINGS.get_or_init(|| {
        let index = VulnIndex::open(curated_index()).unwrap();
        match_sbom(&index, &lab_app_sbom()).unwrap().findings
    })
}

/// The IDs (primary and aliases) found for `name version`.
fn ids(name: &str, version: &str) -> Vec<String> {
    findings()
        .iter()
        .filter(|f| f.package.name == name && f.package.version == version)
        .flat_map(|f| std::iter::once(f.id.clone()).chain(f.aliases.iter().cloned()))
        .collect()
}

fn finding<'a>(name: &str, version: &str, id: &str) -> &'a Finding {
    findings()
        .iter()
        .find(|f| {
            f.package.name == name
                && f.package.version == version
                && (f.id == id || f.aliases.iter().any(|a| a == id))
        })
        .unwrap_or_else(|| panic!("{name} {version}: no {id} in {:?}", ids(name, version)))
}

fn assert_found(name: &str, version: &str, expected: &[&str]) {
    let got = ids(name, version);
    for id in expected {
        assert!(
            got.iter().any(|g| g == id),
            "{name} {version}: {id} missing from {got:?}"
        );
    }
}

fn assert_absent(name: &str, version: &str, absent: &[&str]) {
    let got = ids(name, version);
    for id in absent {
        assert!(
            !got.iter().any(|g| g == id),
            "{name} {version}: {id} must not match; got {got:?}"
        );
    }
}

#[test]
fn python_packages() {
    // GHSA-q2q7-5pp4-w6pg: introduced 1.25.4, fixed 1.26.5. GHSA-v845-jxx5-vc9f:
    // fixed 1.26.17. GHSA-g4mx-q9vg-27p4: fixed 1.26.18. GHSA-34jh-p97f-mpxf: fixed 1.26.19.
    assert_found(
        "urllib3",
        "1.26.4",
        &[
            "CVE-2021-33503",
            "CVE-2023-43804",
            "CVE-2023-45803",
            "CVE-2024-37891",
        ],
    );
    // GHSA-5phf-pp7p-vc2r: introduced 1.26.0, fixed 1.26.4 (the installed version).
    // GHSA-wqvq-5m8c-6g24: fixed 1.25.9.
    assert_absent("urllib3", "1.26.4", &["CVE-2021-28363", "CVE-2020-26137"]);
    // The PyPA and GitHub records of one vulnerability are one finding.
    let f = finding("urllib3", "1.26.4", "CVE-2021-33503");
    assert!(
        f.aliases.contains(&"PYSEC-2021-108".to_owned())
            && f.aliases.contains(&"GHSA-q2q7-5pp4-w6pg".to_owned()),
        "{:?}",
        f.aliases
    );
    assert_eq!(f.details.len(), 2, "both records are evidence");
    assert_eq!(f.fixed_versions, ["1.26.5"]);
    assert_eq!(f.fix_state, FixState::Fixed);

    // GHSA-j8r2-6x86-q33q: introduced 2.3.0, fixed 2.31.0; GHSA-9wx4-h78v-vm56: fixed 2.32.0.
    assert_found("requests", "2.25.1", &["CVE-2023-32681", "CVE-2024-35195"]);
    // GHSA-x84v-xcm2-53pg: fixed 2.20.0.
    assert_absent("requests", "2.25.1", &["CVE-2018-18074"]);
    // GHSA-g3rq-g295-4j3m: fixed 2.11.3; h5c8…: 3.1.3; h75v…: 3.1.4; q2x7…: 3.1.5.
    assert_found(
        "Jinja2",
        "2.11.2",
        &[
            "CVE-2020-28493",
            "CVE-2024-22195",
            "CVE-2024-34064",
            "CVE-2024-56326",
        ],
    );
    // GHSA-gmj6-6f8f-6699: introduced 3.0.0. GHSA-462w-v97r-4m45: fixed 2.10.1.
    assert_absent("Jinja2", "2.11.2", &["CVE-2024-56201", "CVE-2019-10906"]);
    // GHSA-8q59-q68h-6hv4: fixed 5.4 (CVSS 9.8 critical in the record).
    assert_found("PyYAML", "5.3.1", &["CVE-2020-14343"]);
    assert_eq!(
        finding("PyYAML", "5.3.1", "CVE-2020-14343").severity(),
        Severity::Critical
    );
    // GHSA-6757-jp84-gxfx: introduced 5.1b7, fixed 5.3.1 (installed).
    assert_absent("PyYAML", "5.3.1", &["CVE-2020-1747"]);
}

#[test]
fn npm_packages() {
    // GHSA-p6mc-m468-83gw: 3.7.0 ≤ v < 4.17.19; GHSA-35jh-r3h4-6jhm and
    // GHSA-29mw-wpgm-hmr9: fixed 4.17.21.
    assert_found(
        "lodash",
        "4.17.15",
        &["CVE-2020-8203", "CVE-2021-23337", "CVE-2020-28500"],
    );
    // GHSA-jf85-cpcp-j695: fixed 4.17.12.
    assert_absent("lodash", "4.17.15", &["CVE-2019-10744", "CVE-2018-16487"]);
    // GHSA-xvch-5gv4-984h: 1.0.0 ≤ v < 1.2.6; GHSA-vh95-rmgr-6w4m: 1.0.0 ≤ v < 1.2.3;
    // GHSA-7fhm-mqm4-2wp7: fixed 1.2.2 (no CVE: its GHSA ID leads).
    assert_found(
        "minimist",
        "1.2.0",
        &["CVE-2021-44906", "CVE-2020-7598", "GHSA-7fhm-mqm4-2wp7"],
    );
    assert_eq!(
        finding("minimist", "1.2.0", "CVE-2021-44906").fixed_versions,
        ["1.2.6"]
    );
    // GHSA-rv95-896h-c2vc: fixed 4.19.2; GHSA-qw6h-vgh9-j6wx: fixed 4.20.0.
    assert_found("express", "4.17.1", &["CVE-2024-29041", "CVE-2024-43796"]);
    // GHSA-gpvr-g6gh-9mc2: 4.0.0 ≤ v < 4.5.0; GHSA-jj78-5fmv-mv28: fixed 4.0.0-rc1.
    assert_absent("express", "4.17.1", &["CVE-2014-6393", "CVE-2024-9266"]);
}

#[test]
fn go_packages() {
    // GO-2023-2041 (CVE-2023-39318): fixed 1.20.8 for 1.20.x.
    assert_found("stdlib", "go1.20.7", &["CVE-2023-39318", "GO-2023-2041"]);
    let f = finding("stdlib", "go1.20.7", "CVE-2023-39318");
    assert_eq!(
        f.fixed_versions,
        ["1.20.8"],
        "the fix on the installed minor line"
    );
    assert_eq!(
        f.details[0].version, "1.20.7",
        "go1.20.7 is compared as 1.20.7"
    );
    // GO-2023-1878 (CVE-2023-29406): fixed 1.20.6; GO-2023-1621: fixed 1.20.2.
    assert_absent("stdlib", "go1.20.7", &["CVE-2023-29406", "CVE-2023-24532"]);
    // github.com/docker/distribution: GO-2022-0379 fixed 2.8.0,
    // GHSA-hqxw-f8mx-cpmw fixed 2.8.2-beta.1; 2.8.2+ds1 is past both.
    assert!(ids("github.com/docker/distribution/cmd/registry", "v2.8.2+ds1").is_empty());
}

#[test]
fn java_and_rust_packages() {
    // GHSA-jfh8-c2jp-5v3q (Log4Shell): 2.13.0 ≤ v < 2.15.0; GHSA-7rjr-3q55-vv33:
    // < 2.16.0; GHSA-p6xc-xr62-6r2g: < 2.17.0; GHSA-8489-44mv-ggj8: < 2.17.1.
    assert_found(
        "log4j-core",
        "2.14.1",
        &[
            "CVE-2021-44228",
            "CVE-2021-45046",
            "CVE-2021-45105",
            "CVE-2021-44832",
        ],
    );
    assert_eq!(
        finding("log4j-core", "2.14.1", "CVE-2021-44228").severity(),
        Severity::Critical
    );
    // 2.19.0 is past every log4j-core range in the data.
    assert!(
        ids("log4j-core", "2.19.0").is_empty(),
        "{:?}",
        ids("log4j-core", "2.19.0")
    );
    // RUSTSEC-2021-0003: 1.0.0 ≤ v < 1.6.1; RUSTSEC-2020-0071: 0.0.0-0 ≤ v < 0.2.0.
    assert_found(
        "smallvec",
        "1.6.0",
        &["CVE-2021-25900", "RUSTSEC-2021-0003"],
    );
    assert_found("time", "0.1.43", &["CVE-2020-26235", "RUSTSEC-2020-0071"]);
}

#[test]
fn distro_packages_match_by_source_package_and_respect_backports() {
    // CVE-2023-5678, Debian:12 openssl: fixed 3.0.13-1~deb12u1.
    let f = finding("libssl3", "3.0.11-1~deb12u2", "CVE-2023-5678");
    assert_eq!(f.details[0].via, Via::SourcePackage);
    assert_eq!(f.details[0].name, "openssl");
    assert_eq!(f.details[0].ecosystem, "Debian:12");
    assert_eq!(f.fixed_versions, ["3.0.13-1~deb12u1"]);
    // 3.0.15-1~deb12u1 carries that fix (and every other fixed in the data
    // up to it), though upstream 3.0.15 would be "older" than some fixes.
    assert_absent(
        "openssl",
        "3.0.15-1~deb12u1",
        &["CVE-2023-5678", "CVE-2023-2975", "CVE-2023-3817"],
    );
}

#[test]
fn no_finding_lies_outside_its_range() {
    for f in findings() {
        assert!(!f.details.is_empty());
        // Every fixed version offered is later than the installed one.
        for fixed in &f.fixed_versions {
            let scheme = customs_version::Scheme::for_ecosystem(&f.details[0].ecosystem).unwrap();
            let installed = &f.details[0].version;
            assert_eq!(
                scheme.compare(installed, fixed).ok(),
                Some(std::cmp::Ordering::Less),
                "{} {}: fixed {fixed} is not after {installed}",
                f.id,
                f.package.name
            );
        }
    }
    // And the number of findings per package is stable (a regression
    // guard on top of the per-advisory expectations above).
    let mut per_package: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings() {
        *per_package
            .entry(format!("{} {}", f.package.name, f.package.version))
            .or_default() += 1;
    }
    assert_eq!(
        per_package.get("urllib3 1.26.4"),
        Some(&4),
        "{per_package:?}"
    );
    assert_eq!(
        per_package.get("lodash 4.17.15"),
        Some(&3),
        "{per_package:?}"
    );
}

#[test]
fn language_packages_owned_by_a_distro_package_are_matched_through_it() {
    // Debian's python3-yaml installs PyYAML 6.0's metadata: its fixes come
    // through Debian, so PyPI advisories must not apply.
    let mut sbom = lab_app_sbom();
    let owner = deb("python3-yaml", "6.0-3+b2", Some(("pyyaml", "6.0-3")));
    let owned = package(
        PackageType::Python,
        "PyYAML",
        "5.3.1",
        "pkg:pypi/pyyaml@5.3.1",
    );
    sbom.relationships.push(Relationship {
        from: owner.id(),
        to: owned.id(),
        kind: RelationshipKind::OwnsFileOf,
    });
    sbom.packages = vec![owner, owned];
    let index = VulnIndex::open(curated_index()).unwrap();
    let report = match_sbom(&index, &sbom).unwrap();
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.package.kind != PackageType::Python),
        "{:?}",
        report.findings
    );
    assert_eq!(report.packages_not_matched.values().sum::<usize>(), 1);
}
