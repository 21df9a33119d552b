//! `customs db`, `customs scan` and `customs quickview` end to end: the
//! quick-start flow on the bundled example image and advisory snapshot,
//! every output format validated against its official schema, exit codes,
//! filters, SBOM input, and a database that is missing or cannot update.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{customs, example_ref, stderr, stdout};

/// The bundled advisory snapshot.
fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories")
}

/// A home with the bundled snapshot imported.
fn home_with_database() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["db", "import"])
        .arg(advisories())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("RECORDS  ADDED"), "{text}");
    assert!(text.contains("37 advisories in"), "{text}");
    home
}

fn scan(home: &Path, args: &[&str]) -> std::process::Output {
    customs(home)
        .arg("scan")
        .arg(example_ref())
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn scan_without_a_database_explains_how_to_get_one() {
    let home = tempfile::tempdir().unwrap();
    let out = scan(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cannot open the vulnerability database"),
        "{err}"
    );
    assert!(
        err.contains("customs db import") && err.contains("no vulnerability database at"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_quick_start_scan_of_the_example_image() {
    let home = home_with_database();
    let out = scan(home.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Grouped by severity, most severe first.
    let critical = text.find("CRITICAL (1)").expect(&text);
    let high = text.find("HIGH (4)").expect(&text);
    let negligible = text.find("NEGLIGIBLE (9)").expect(&text);
    assert!(critical < high && high < negligible, "{text}");
    assert!(text.contains("CVE-2023-45853  zlib1g"), "{text}");
    assert!(text.contains("ID  ") && text.contains("FIXED IN"), "{text}");
    assert!(
        text.contains("22 vulnerabilities in 7 packages: 1 critical, 4 high, 5 medium, 9 negligible, 3 unknown (9 with a fix)"),
        "{text}"
    );
    // The snapshot is from 2025: the age warning says so.
    assert!(
        stderr(&out).contains("the newest advisory in the vulnerability database is"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_findings_carry_severity_fix_layer_and_evidence() {
    let home = home_with_database();
    let out = scan(home.path(), &["-o", "json", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["schema"], "customs.scan/v1");
    assert_eq!(doc["summary"]["total"], 22);
    assert_eq!(doc["summary"]["fixable"], 9);
    assert_eq!(doc["summary"]["packages"], 15);
    let findings = doc["findings"].as_array().unwrap();
    for f in findings {
        for key in [
            "id",
            "severity",
            "fix_state",
            "fixed_versions",
            "package",
            "details",
        ] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
        assert!(
            !f["package"]["locations"].as_array().unwrap().is_empty(),
            "{f}"
        );
        assert!(f["package"]["introduced_by_layer"].is_u64(), "{f}");
    }
    // urllib3 came with the pip layer (index 1); PYSEC and GHSA merged.
    let f = findings
        .iter()
        .find(|f| f["id"] == "CVE-2021-33503")
        .unwrap();
    assert_eq!(f["package"]["name"], "urllib3");
    assert_eq!(f["package"]["introduced_by_layer"], 1);
    assert_eq!(f["fixed_versions"], serde_json::json!(["1.26.5"]));
    assert_eq!(f["severity"], "high");
    assert!((f["score"].as_f64().unwrap() - 8.7).abs() < 1e-9, "{f}");
    let aliases: Vec<&str> = f["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["GHSA-q2q7-5pp4-w6pg", "PYSEC-2021-108"]);
    // An unfixed Debian one, rated by Debian and matched through its source.
    let f = findings
        .iter()
        .find(|f| f["id"] == "CVE-2019-1010022")
        .unwrap();
    assert_eq!(f["fix_state"], "not-fixed");
    assert_eq!(f["severity"], "negligible");
    assert_eq!(f["source"], "distribution");
    assert_eq!(f["details"][0]["via"], "source-package");
    assert_eq!(f["details"][0]["name"], "glibc");
    assert_eq!(f["details"][0]["ecosystem"], "Debian:12");
    // Debian records fixed at or below the installed openssl: not reported.
    assert!(!findings.iter().any(|f| f["id"] == "CVE-2023-5678"));
}

#[test]
fn sarif_and_cyclonedx_are_valid_against_the_official_schemas() {
    let home = home_with_database();
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("scan.sarif");
    let cdx = dir.path().join("scan.cdx.json");
    let out = scan(
        home.path(),
        &[
            "-q",
            "-o",
            &format!("sarif={}", sarif.display()),
            "-o",
            &format!("cyclonedx-json={}", cdx.display()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "every format went to a file");

    let bytes = fs_err::read(&sarif).unwrap();
    customs_test::schema::assert_valid("sarif-2.1.0-rtm.5.json", &bytes);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 22);
    let rule = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "CVE-2023-45853-zlib1g")
        .unwrap();
    assert_eq!(rule["properties"]["security-severity"], "9.8");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    let result = &run["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );

    let bytes = fs_err::read(&cdx).unwrap();
    customs_test::schema::assert_valid("bom-1.6.schema.json", &bytes);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let refs: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 22);
    for v in vulns {
        let target = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&target), "{target} is not a component");
    }
    let v = vulns.iter().find(|v| v["id"] == "CVE-2021-33503").unwrap();
    let methods: Vec<&str> = v["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["CVSSv31", "CVSSv4"],
        "every vector of the record, scored"
    );
    assert_eq!(v["recommendation"], "Upgrade urllib3 to 1.26.5");
}

#[test]
fn fail_on_severity_and_only_fixed() {
    let home = home_with_database();
    let out = scan(home.path(), &["--fail-on", "high", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("vulnerabilities at or above `high` were found"));
    assert_eq!(
        json(&out)["summary"]["total"],
        22,
        "the report is still complete"
    );

    // Filters apply before the threshold.
    let out = scan(
        home.path(),
        &[
            "--fail-on",
            "critical",
            "--severity",
            "high,medium",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["summary"]["total"], 9);

    let out = scan(home.path(), &["--only-fixed", "-o", "json", "-q"]);
    assert!(out.status.success());
    let doc = json(&out);
    assert_eq!(doc["summary"]["total"], 9);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["fix_state"] == "fixed")
    );

    for bad in [["--fail-on", "severe"], ["--severity", "hgh"]] {
        let out = scan(home.path(), &bad);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("unknown severity"),
            "{}",
            stderr(&out)
        );
    }
    let out = scan(home.path(), &["-o", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown scan format `xml`"));
}

#[test]
fn sboms_from_spdx_and_cyclonedx_scan_like_the_image() {
    let home = home_with_database();
    let dir = tempfile::tempdir().unwrap();
    let spdx = dir.path().join("s.spdx.json");
    let cdx = dir.path().join("s.cdx.json");
    let out = customs(home.path())
        .args(["sbom", &example_ref(), "-q"])
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids = |out: &std::process::Output| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = json(out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["package"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let from_image = ids(&scan(home.path(), &["-o", "json", "-q"]));
    for file in [&spdx, &cdx] {
        let out = customs(home.path())
            .args(["scan", "-o", "json", "-q"])
            .arg(format!("sbom:{}", file.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ids(&out), from_image, "{}", file.display());
    }
    let bad = dir.path().join("bad.json");
    fs_err::write(&bad, r#"{"bomFormat": "CycloneDX", "components": 7}"#).unwrap();
    let out = customs(home.path())
        .args(["scan"])
        .arg(format!("sbom:{}", bad.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.json: not a valid CycloneDX JSON document"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn quickview_of_the_example_image() {
    let home = home_with_database();
    let out = customs(home.path())
        .args(["quickview", &example_ref(), "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "Target",
        "Debian GNU/Linux 12 (bookworm)",
        "docker.io/library/debian:12",
        "15 (deb 11, python 2, npm 2)",
        "CRITICAL       HIGH     MEDIUM",
        "7 of 15 packages vulnerable",
    ] {
        assert!(text.contains(want), "`{want}` missing:\n{text}");
    }
    let all = text
        .lines()
        .find(|l| l.trim_start().starts_with("all"))
        .unwrap();
    let numbers: Vec<&str> = all.split_whitespace().skip(1).collect();
    assert_eq!(numbers, ["1", "4", "5", "0", "9", "3", "22"], "{all}");
    let fix = text.lines().find(|l| l.contains("with a fix")).unwrap();
    assert!(fix.trim_end().ends_with('9'), "{fix}");

    let out = customs(home.path())
        .args(["quickview", &example_ref(), "-q", "-o", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(doc["vulnerabilities"]["total"], 22);
    assert_eq!(doc["base_image"]["name"], "docker.io/library/debian:12");
}

#[test]
fn db_status_and_an_offline_update_that_keeps_the_database() {
    let home = home_with_database();
    let out = customs(home.path())
        .args(["db", "status", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let status = json(&out);
    assert_eq!(status["advisories"], 37);
    assert_eq!(status["ecosystems"]["PyPI"], 10);
    assert_eq!(status["ecosystems"]["Debian:12"], 23);
    assert!(
        status["sources"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("examples/advisories")
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = customs(home.path())
        .args([
            "db",
            "update",
            "--ecosystem",
            "PyPI",
            "--timeout",
            "5",
            "--url",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the update failed and the current database was kept"),
        "{err}"
    );
    assert!(
        err.contains(&format!("cannot download {url}/PyPI/all.zip")),
        "{err}"
    );
    let out = customs(home.path())
        .args(["db", "status", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["advisories"], 37);
    // A mirror's password is never shown, not even in the error chain.
    let with_password = url.replace("http://", "http://me:hunter2mirrorpass@");
    let out = customs(home.path())
        .args(["db", "update", "--ecosystem", "PyPI", "--timeout", "5"])
        .args(["--url", &with_password])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains("hunter2mirrorpass"), "{err}");
    assert!(err.contains("me:[redacted]@127.0.0.1"), "{err}");
    let out = customs(home.path())
        .args(["db", "status"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("ECOSYSTEM") && text.contains("Debian:12") && text.contains("advisories 37"),
        "{text}"
    );
}

fn scan_document(home: &Path, name: &str, document: &Value, args: &[&str]) -> std::process::Output {
    let file = home.join(name);
    fs_err::write(&file, serde_json::to_vec(document).unwrap()).unwrap();
    customs(home)
        .arg("scan")
        .arg(format!("sbom:{}", file.display()))
        .args(args)
        .output()
        .unwrap()
}

/// Issue 14 (hostile 7): a vulnerable lodash nested one level down in a
/// CycloneDX document was not scanned; the whole tree is.
#[test]
fn issue14_nested_cyclonedx_components_are_scanned() {
    let home = home_with_database();
    let lodash = serde_json::json!({"type": "library", "name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15"});
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"component": {"type": "application", "name": "app", "purl": "pkg:npm/app@1.0.0",
            "components": [{"type": "library", "name": "wrapper", "version": "1.0.0", "components": [lodash.clone()]}]}},
        "components": [{"type": "library", "name": "outer", "version": "2.0.0", "purl": "pkg:npm/outer@2.0.0",
            "components": [{"type": "library", "name": "mid", "version": "1.0.0", "components": [lodash]}]}]
    });
    let out = scan_document(home.path(), "nested.cdx.json", &doc, &["-o", "json", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["package"]["name"] == "lodash"),
        "{}",
        stdout(&out)
    );
    // A document nested past the bound is refused, naming the problem.
    let mut deep = serde_json::json!({"type": "library", "name": "leaf", "version": "1"});
    for level in 0..40 {
        deep = serde_json::json!({"type": "library", "name": format!("l{level}"), "version": "1", "components": [deep]});
    }
    let doc =
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [deep]});
    let out = scan_document(home.path(), "deep.cdx.json", &doc, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("components nest more than 32 levels deep"),
        "{}",
        stderr(&out)
    );
}

/// Issue 14 (hostile 8): versions that do not parse matched nothing, in
/// silence. They are listed as not matched, with the reason, and counted.
#[test]
fn issue14_versions_that_do_not_parse_are_reported_not_matched() {
    let home = home_with_database();
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [
            {"type": "library", "name": "lodash", "version": "4.17", "purl": "pkg:npm/lodash@4.17"},
            {"type": "library", "name": "urllib3", "version": "garbage!!", "purl": "pkg:pypi/urllib3@garbage!!"},
            {"type": "library", "name": "requests", "version": "2.25.1", "purl": "pkg:pypi/requests@2.25.1"}
        ]
    });
    let out = scan_document(
        home.path(),
        "bad-versions.cdx.json",
        &doc,
        &["-o", "json", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    let unmatched = report["unmatched"].as_array().unwrap();
    let mut names: Vec<&str> = unmatched
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["lodash", "urllib3"]);
    let lodash = unmatched.iter().find(|u| u["name"] == "lodash").unwrap();
    assert!(
        lodash["reason"]
            .as_str()
            .unwrap()
            .contains("`4.17` is not a valid npm version"),
        "{lodash}"
    );
    assert_eq!(
        report["summary"]["packages_not_matched"]["version does not parse"],
        2
    );
    assert!(
        report["caveats"][0]
            .as_str()
            .unwrap()
            .starts_with("incomplete: 2 packages were not matched")
    );
    let out = scan_document(home.path(), "bad-versions.cdx.json", &doc, &["-q"]);
    let table = stdout(&out);
    assert!(table.contains("NOT MATCHED (2)"), "{table}");
    assert!(table.contains("garbage!!"), "{table}");
}

/// Issue 14: a database without advisories for an ecosystem made its
/// packages look clean; the scan says which ecosystems were not checked.
#[test]
fn issue14_ecosystems_without_advisories_are_named() {
    let home = home_with_database();
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "components": [{"type": "library", "name": "serde", "version": "1.0.0", "purl": "pkg:cargo/serde@1.0.0"}]
    });
    let out = scan_document(home.path(), "crates.cdx.json", &doc, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no advisories for crates.io: those packages were not checked"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains(
            "incomplete: the vulnerability database has no advisories for crates.io (1 package)"
        ),
        "{}",
        stdout(&out)
    );
}

/// Issue 14 (hostile 13): a package database that could not be read gave
/// "no vulnerabilities found" and exit 0. It is an incomplete scan: exit 2.
#[test]
fn issue14_an_unreadable_package_database_is_not_a_clean_scan() {
    let home = home_with_database();
    let image = customs_test::ImageBuilder::new().layer(
        customs_test::LayerBuilder::new()
            .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .file(
                "var/lib/dpkg/status",
                b"Package: libssl3\n\xff\xfe not UTF-8\n",
            ),
    );
    image
        .build()
        .write_oci_layout(&home.path().join("layout"), None);
    let out = customs(home.path())
        .arg("scan")
        .arg(format!("oci:{}", home.path().join("layout").display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "the scan is incomplete: the package database /var/lib/dpkg/status could not be read"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("incomplete: 1 file could not be read completely"),
        "{}",
        stdout(&out)
    );
}

/// Issue 14: `-q` hid the stale-data warning, and NEGLIGIBLE beside 9.8
/// had no reason on screen.
#[test]
fn issue14_quiet_keeps_warnings_and_the_table_names_severity_sources() {
    let home = home_with_database();
    let out = scan(home.path(), &["-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: the newest advisory in the vulnerability database is"),
        "{}",
        stderr(&out)
    );
    let table = stdout(&out);
    let libc = table
        .lines()
        .find(|l| l.starts_with("CVE-2019-1010022"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(libc.contains("negligible (debian)  9.8"), "{libc}");
    assert!(table.contains("critical (cvss)"), "{table}");
}
