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
