//! `customs gate` end to end: the bundled example image denied in prod for
//! each of its causes, each cause waived by an exception or fixed, the
//! waiver lapsing on its expiry day, signatures and provenance from a real
//! registry, re-checks from a saved input, and every bad input named.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{customs, example_ref, stderr, stdout};
use customs_test::registry::{TestRegistry, write_docker_config};

fn advisories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/advisories")
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A home with the bundled advisories imported; commands run in it.
struct Home {
    dir: tempfile::TempDir,
    docker: Option<PathBuf>,
}

impl Home {
    fn new() -> Self {
        let home = Self {
            dir: tempfile::tempdir().unwrap(),
            docker: None,
        };
        let out = home.run(&["db", "import", advisories().to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).unwrap();
        }
        fs_err::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = customs(self.path());
        cmd.current_dir(self.path()).env("CUSTOMS_PASSWORD", "pw");
        if let Some(d) = &self.docker {
            cmd.env("DOCKER_CONFIG", d);
        }
        cmd.args(args).output().unwrap()
    }

    /// `gate IMAGE --env prod EXTRA…` must fail with exit 2 saying `why`.
    fn refused(&self, image: &str, extra: &[&str], why: &[&str]) {
        let mut all = vec!["gate", image, "--env", "prod"];
        all.extend_from_slice(extra);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = stderr(&out);
        assert!(why.iter().all(|w| err.contains(w)), "{extra:?}: {err}");
    }

    /// `gate … -o json`: the exit code and the decision record.
    fn gate(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["gate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json", "-q"]);
        let out = self.run(&all);
        let code = out.status.code().unwrap();
        assert!(
            code == 0 || code == 1,
            "{args:?}: exit {code}: {}",
            stderr(&out)
        );
        (code, serde_json::from_slice(&out.stdout).unwrap())
    }
}

/// `(rule, level)` of each reason that counts, and the waived ones' rules.
fn reasons(record: &Value) -> (Vec<(String, String)>, Vec<String>) {
    let mut counting = Vec::new();
    let mut waived = Vec::new();
    for r in record["reasons"].as_array().unwrap() {
        let rule = r["rule"].as_str().unwrap().to_owned();
        if r.get("waived_by").is_some() {
            waived.push(rule);
        } else {
            counting.push((rule, r["level"].as_str().unwrap().to_owned()));
        }
    }
    counting.sort();
    counting.dedup();
    waived.sort();
    waived.dedup();
    (counting, waived)
}

fn has(reasons: &[(String, String)], rule: &str, level: &str) -> bool {
    reasons.iter().any(|(r, l)| r == rule && l == level)
}

#[test]
fn the_example_is_denied_in_prod_for_each_of_its_causes() {
    let home = Home::new();
    let image = example_ref();
    let (code, record) = home.gate(&[&image, "--env", "prod"]);
    assert_eq!(code, 1);
    assert_eq!(record["verdict"], "deny");
    let (counting, _) = reasons(&record);
    for rule in [
        "non-root",
        "secrets",
        "high-vulnerability",
        "signature",
        "provenance",
        "healthcheck",
        "oci-labels",
        "digest-reference",
    ] {
        assert!(has(&counting, rule, "deny"), "{rule}: {counting:?}");
    }
    // The record pins what it was computed from.
    for key in [
        "policy",
        "input_digest",
        "database",
        "customs_version",
        "evaluated_at",
        "digest",
    ] {
        assert!(!record[key].is_null(), "{key}");
    }
    assert!(
        record["policy"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        record["database"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // Staging denies the secrets; dev only warns.
    let (code, record) = home.gate(&[&image, "--env", "staging"]);
    assert_eq!(code, 1);
    let (counting, _) = reasons(&record);
    assert!(
        has(&counting, "secrets", "deny") && has(&counting, "non-root", "warn"),
        "{counting:?}"
    );
    let (code, record) = home.gate(&[&image, "--env", "dev"]);
    assert_eq!((code, record["verdict"].as_str()), (0, Some("warn")));
    // The table says the verdict first, every reason, and exits 1.
    let out = home.run(&["gate", &image, "--env", "prod", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("DENY: "), "{text}");
    assert!(
        text.contains("the image runs as root (User unset)"),
        "{text}"
    );
    assert!(text.contains("lodash"), "{text}");
}

#[test]
fn exceptions_waive_until_their_last_day_then_the_reason_comes_back() {
    let home = Home::new();
    let image = example_ref();
    let digest = customs_test::registry::skopeo_digest(&image, None);
    let exceptions = home.write(
        "exceptions.yaml",
        &format!(
            "exceptions:
  - id: EXC-ROOT
    scope: {{ digest: \"{digest}\" }}
    rule: non-root
    environments: [prod]
    justification: the entrypoint drops privileges itself
    owner: team-hello
    approver: security@example.com
    expires: 2026-12-31
  - id: EXC-LODASH
    scope: {{ all: true }}
    vulnerability: GHSA-35jh-r3h4-6jhm
    package: pkg:npm/lodash
    justification: template() never sees user input
    expires: 2026-12-31
  - id: EXC-OTHER-DIGEST
    scope: {{ digest: \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" }}
    rule: healthcheck
    justification: not this image
    expires: 2026-12-31
"
        ),
    );
    let x = exceptions.to_str().unwrap();
    let (_, before) = home.gate(&[&image, "--env", "prod", "--now", "2026-12-31T23:59:59Z"]);
    let (counting, _) = reasons(&before);
    assert!(has(&counting, "non-root", "deny"));
    // On the last day: the root user and the lodash finding (by its GHSA
    // alias) are waived; the exception for another digest changes nothing.
    let (_, record) = home.gate(&[
        &image,
        "--env",
        "prod",
        "--exceptions",
        x,
        "--now",
        "2026-12-31T23:59:59Z",
    ]);
    let (counting, waived) = reasons(&record);
    assert!(!has(&counting, "non-root", "deny"), "{counting:?}");
    assert!(waived.contains(&"non-root".to_owned()), "{waived:?}");
    assert!(has(&counting, "healthcheck", "deny"));
    let lodash_waived = record["reasons"].as_array().unwrap().iter().any(|r| {
        r["waived_by"] == "EXC-LODASH"
            && r["package"]
                .as_str()
                .unwrap_or("")
                .starts_with("pkg:npm/lodash")
    });
    assert!(lodash_waived, "{record:#}");
    let mut applied: Vec<&str> = record["exceptions_applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    applied.sort_unstable();
    assert_eq!(applied, ["EXC-LODASH", "EXC-ROOT"]);
    // The next day: it lapses, the reason counts again and says why.
    let (_, record) = home.gate(&[
        &image,
        "--env",
        "prod",
        "--exceptions",
        x,
        "--now",
        "2027-01-01",
    ]);
    let (counting, waived) = reasons(&record);
    assert!(
        has(&counting, "non-root", "deny") && waived.is_empty(),
        "{counting:?}"
    );
    let root = record["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "non-root")
        .unwrap();
    assert_eq!(
        root["expired_exception"]["message"],
        "exception EXC-ROOT expired on 2026-12-31"
    );
    // Another environment: the prod-only exception never applied.
    let (_, record) = home.gate(&[
        &image,
        "--env",
        "staging",
        "--exceptions",
        x,
        "--now",
        "2026-12-30",
    ]);
    assert!(
        record["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["waived_by"] != "EXC-ROOT")
    );
    // `exceptions check` fails once one has expired; `list` shows the state.
    let out = home.run(&["exceptions", "check", x, "--now", "2026-12-20"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = home.run(&["exceptions", "check", x, "--now", "2026-12-20", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expiring within 14 days: {}",
        stdout(&out)
    );
    let out = home.run(&["exceptions", "check", x, "--now", "2027-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("EXPIRED on 2026-12-31"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["exceptions", "list", x, "--now", "2026-12-01", "-o", "json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["days_left"], 30);
    // `scan` applies the same exceptions: the waived finding is suppressed.
    let out = home.run(&["scan", &image, "--exceptions", x, "-o", "json", "-q"]);
    let scan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let suppressed = scan["suppressed"].as_array().unwrap();
    assert!(suppressed.iter().all(|s| s["suppressed_by"] == "exception"));
    assert!(
        suppressed
            .iter()
            .any(|s| s["reason"].as_str().unwrap().starts_with("EXC-LODASH"))
    );
    // vex export writes the vulnerability exceptions as valid OpenVEX.
    let out = home.run(&["vex", "export", x, "--now", "2026-12-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let errors = customs_test::schema::errors_at(
        &shared().join("interop/openvex-spec/openvex_json_schema.json"),
        &out.stdout,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["statements"][0]["vulnerability"]["name"],
        "GHSA-35jh-r3h4-6jhm"
    );
    assert_eq!(doc["statements"][0]["products"][0]["@id"], "pkg:npm/lodash");
}

#[test]
fn vex_documents_suppress_findings_in_gate_and_scan() {
    let home = Home::new();
    let image = example_ref();
    let digest = customs_test::registry::skopeo_digest(&image, None);
    let vex = home.write(
        "hello.openvex.json",
        &format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/hello-1",
  "author": "team-hello", "timestamp": "2026-11-01T00:00:00Z", "version": 1,
  "statements": [{{"vulnerability": {{"name": "CVE-2021-23337"}},
     "products": [{{"@id": "pkg:oci/hello@{}", "subcomponents": [{{"@id": "pkg:npm/lodash@4.17.15"}}]}}],
     "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}}]}}"#,
            digest.replace(':', "%3A")
        ),
    );
    let v = vex.to_str().unwrap();
    let out = home.run(&["scan", &image, "--vex", v, "--show-suppressed", "-q"]);
    let text = stdout(&out);
    assert!(
        text.contains("SUPPRESSED (1)")
            && text.contains("not_affected (vulnerable_code_not_in_execute_path)"),
        "{text}"
    );
    // The input document carries the suppressed finding with its statement.
    let out = home.run(&[
        "gate",
        &image,
        "--env",
        "prod",
        "--vex",
        v,
        "--input-only",
        "-q",
    ]);
    let input: Value = serde_json::from_slice(&out.stdout).unwrap();
    let suppressed = input["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["vex"]["status"], "not_affected");
    assert!(
        input["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "CVE-2021-23337")
    );
    // A VEX statement for another image digest suppresses nothing.
    let other = home.write(
        "other.openvex.json",
        &fs_err::read_to_string(&vex).unwrap().replace(
            &digest.replace(':', "%3A"),
            "sha256%3A0000000000000000000000000000000000000000000000000000000000000000",
        ),
    );
    let out = home.run(&[
        "scan",
        &image,
        "--vex",
        other.to_str().unwrap(),
        "-o",
        "json",
        "-q",
    ]);
    let scan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(scan.get("suppressed").is_none());
}

#[test]
fn bad_policy_inputs_are_errors_naming_file_and_line() {
    let home = Home::new();
    let image = example_ref();
    let rego = home.write(
        "policy/team.rego",
        "package customs.rules.team\nimport rego.v1\n\nviolation contains v if {\n  v := \n}\n",
    );
    let dir = rego.parent().unwrap().to_str().unwrap();
    home.refused(
        &image,
        &["--policy", dir],
        &["team.rego:5:", "invalid Rego"],
    );
    for (file, text, flag, why) in [
        (
            "bad.yaml",
            "exceptions:\n  - scope: { all: true\n    rule: x\n",
            "--exceptions",
            "line",
        ),
        (
            "forever.yaml",
            "exceptions:\n  - scope: { all: true }\n    rule: healthcheck\n    justification: later\n",
            "--exceptions",
            "no expiry",
        ),
        (
            "bad.vex.json",
            "{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": [{\"vulnerability\": {\"name\": \"CVE-1\"}, \"status\": \"perhaps\"}]}",
            "--vex",
            "statement 1",
        ),
        (
            "bad-kev.json",
            "{\"vulnerabilities\": 3}",
            "--kev",
            "not a CISA KEV catalogue",
        ),
        (
            "bad-block.yaml",
            "blocked:\n  - digest: nope\n",
            "--blocklist",
            "`nope` is not a digest",
        ),
    ] {
        let path = home.write(file, text);
        home.refused(&image, &[flag, path.to_str().unwrap()], &[file, why]);
    }
    let out = home.run(&["gate", &image, "--env", "qa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown environment `qa`"),
        "{}",
        stderr(&out)
    );
    // A rule that fails at evaluation time is a deny, even where it warns.
    let dir = home.path().join("broken");
    home.write("broken/x.rego", "package customs.rules.x\nimport rego.v1\nmetadata := {\"id\": \"x\", \"title\": \"X\", \"levels\": {\"dev\": \"warn\"}}\nviolation contains v if {\n  n := to_number(\"NaN-ish\")\n  v := {\"message\": sprintf(\"%v\", [n])}\n}\n");
    let (code, record) = home.gate(&[&image, "--env", "dev", "--policy", dir.to_str().unwrap()]);
    assert_eq!((code, record["verdict"].as_str()), (1, Some("deny")));
    assert!(record["reasons"][0]["rule"] == "policy-error", "{record:#}");
}

#[test]
fn a_saved_input_is_re_checked_to_the_same_decision_and_sarif_is_valid() {
    let home = Home::new();
    let image = example_ref();
    let out = home.run(&[
        "gate",
        &image,
        "--env",
        "prod",
        "--input-only",
        "-q",
        "--now",
        "2026-12-01",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = home.write("input.json", &stdout(&out));
    let input: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(input["schema_version"], 1);
    // The example's secrets are in it as findings, never in clear.
    for secret in [
        "example-fake-password",
        "AKIAEXAMPLEFAKEKEY01",
        "fakeSecretKeyForTheCustomsExample",
    ] {
        assert!(
            !stdout(&out).contains(secret),
            "{secret} leaked into the input document"
        );
    }
    assert!(input["secrets"].as_array().unwrap().len() >= 3);
    // docs/policy-input.md documents every top-level field.
    let docs = fs_err::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy-input.md"),
    )
    .unwrap();
    for key in input.as_object().unwrap().keys() {
        assert!(
            docs.contains(&format!("`{key}`")),
            "docs/policy-input.md does not document `{key}`"
        );
    }
    let (_, live) = home.gate(&[&image, "--env", "prod", "--now", "2026-12-01"]);
    let (_, again) = home.gate(&[
        "--from-input",
        saved.to_str().unwrap(),
        "--env",
        "prod",
        &image,
    ]);
    assert_eq!(live["input_digest"], again["input_digest"]);
    assert_eq!(live["reasons"], again["reasons"]);
    assert_eq!(live["verdict"], again["verdict"]);
    let out = home.run(&["gate", &image, "--env", "prod", "-o", "sarif", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    customs_test::schema::assert_valid("sarif-2.1.0-rtm.5.json", &out.stdout);
    // `customs policy` lists every rule with its level per environment.
    let out = home.run(&["policy", "-o", "json"]);
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let non_root = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "non-root")
        .unwrap();
    assert_eq!(non_root["levels"]["prod"], "deny");
    assert_eq!(non_root["levels"]["dev"], "warn");
}

#[test]
fn licenses_are_grouped_and_judged() {
    let home = Home::new();
    let out = home.run(&["licenses", &example_ref(), "-o", "json", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lodash = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "lodash")
        .unwrap();
    assert_eq!(lodash["verdict"], "allowed");
    assert_eq!(lodash["licenses"][0], "MIT");
    assert!(
        doc["summary"]["not_judged"].as_u64().unwrap() > 0,
        "dpkg packages are not judged by default"
    );
    // Allow-list mode, from customs.toml: MIT alone is not enough for requests.
    home.write(
        "customs.toml",
        "[environments.prod]\nlicenses = { allow = [\"BSD-3-Clause\"] }\n",
    );
    let out = home.run(&[
        "licenses",
        &example_ref(),
        "-o",
        "json",
        "-q",
        "--fail-on-denied",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lodash = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "lodash")
        .unwrap();
    assert_eq!(lodash["verdict"], "denied");
}

/// A fixed image: a non-root user, a health check, the OCI labels, no
/// secrets, no vulnerable packages.
fn fixed_image(dir: &Path) {
    use customs_test::{ImageBuilder, LayerBuilder};
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .dir("app")
                .file_mode("app/server", "\u{7f}ELF server\n", 0o755),
        )
        .config_field("User", serde_json::json!("10001"))
        .config_field("Cmd", serde_json::json!(["/app/server"]))
        .config_field(
            "Healthcheck",
            serde_json::json!({"Test": ["CMD", "/app/server", "--health"]}),
        )
        .config_field("ExposedPorts", serde_json::json!({"8080/tcp": {}}))
        .config_field(
            "Labels",
            serde_json::json!({
                "org.opencontainers.image.source": "https://example.com/hello",
                "org.opencontainers.image.revision": "0123456789abcdef",
                "org.opencontainers.image.version": "1.1.0"}),
        )
        .build()
        .write_oci_layout(dir, Some("1.1"));
}

#[test]
fn signatures_and_provenance_from_a_real_registry_satisfy_the_gate() {
    let mut home = Home::new();
    let registry = TestRegistry::start();
    registry.push(&example_ref(), "shop/hello", "1.0", None);
    let fixed = home.path().join("fixed");
    fixed_image(&fixed);
    registry.push(
        &format!("oci:{}:1.1", fixed.display()),
        "shop/hello",
        "1.1",
        None,
    );
    let docker = home.path().join("docker");
    fs_err::create_dir_all(&docker).unwrap();
    write_docker_config(&docker, &registry.addr, &registry.user, &registry.password);
    home.docker = Some(docker);
    let out = home.run(&["key", "generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    home.write(
        "customs.toml",
        "[environments.prod]\nkeys = [\"cosign.pub\"]\nbuilders = [\"https://ci.example/builders/*\"]\n",
    );
    let digest = registry.skopeo_digest("shop/hello", "1.1");
    let by_digest = format!("{}/shop/hello@{digest}", registry.addr);
    // Unsigned: the signature and provenance rules deny.
    let (code, record) = home.gate(&[&by_digest, "--env", "prod"]);
    assert_eq!(code, 1);
    let (counting, _) = reasons(&record);
    assert_eq!(
        counting,
        [
            ("provenance".to_owned(), "deny".to_owned()),
            ("signature".to_owned(), "deny".to_owned())
        ],
        "only the missing signature and provenance stand in the way"
    );
    // Signed and with provenance from an allowed builder: it passes.
    let out = home.run(&["sign", &by_digest, "--key", "cosign.key"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut provenance = customs(home.path());
    let out = provenance
        .current_dir(home.path())
        .env("CUSTOMS_BUILDER_ID", "https://ci.example/builders/linux")
        .env("CUSTOMS_SOURCE_URI", "git+https://git.example/shop/hello")
        .args(["provenance", "--from-env", "--output", "provenance.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.run(&[
        "attest",
        &by_digest,
        "--type",
        "slsaprovenance1",
        "--predicate",
        "provenance.json",
        "--key",
        "cosign.key",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, record) = home.gate(&[&by_digest, "--env", "prod"]);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (0, Some("pass")),
        "{record:#}"
    );
    // The same by tag: the mutable tag is the one reason left.
    let by_tag = format!("{}/shop/hello:1.1", registry.addr);
    let (code, record) = home.gate(&[&by_tag, "--env", "prod"]);
    assert_eq!(code, 1);
    assert_eq!(
        reasons(&record).0,
        [("digest-reference".to_owned(), "deny".to_owned())]
    );
    // Another environment trusting another key does not accept this signature.
    home.write(
        "customs.toml",
        "[environments.prod]\nkeys = [\"other.pub\"]\n",
    );
    fs_err::rename(home.path().join("cosign.pub"), home.path().join("keep.pub")).unwrap();
    fs_err::rename(home.path().join("cosign.key"), home.path().join("keep.key")).unwrap();
    assert!(
        home.run(&["key", "generate", "--output-key-prefix", "other"])
            .status
            .success()
    );
    let (_, record) = home.gate(&[&by_digest, "--env", "prod"]);
    let signature = record["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "signature")
        .unwrap();
    assert!(
        signature["message"]
            .as_str()
            .unwrap()
            .contains("no valid signature"),
        "{signature}"
    );
    // --attest records the decision as a SLSA verification summary.
    home.write(
        "customs.toml",
        "[environments.prod]\nkeys = [\"keep.pub\"]\n",
    );
    let out = home.run(&[
        "gate", &by_digest, "--env", "prod", "--attest", "--key", "keep.key", "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.run(&[
        "verify-attestation",
        &by_digest,
        "--key",
        "keep.pub",
        "--type",
        "https://slsa.dev/verification_summary/v1",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let verified: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = verified.to_string();
    assert!(
        text.contains("\"verificationResult\":\"PASSED\"") && text.contains("CUSTOMS_GATE_PROD"),
        "{text}"
    );
    // The example image in the same registry still fails for its own causes.
    let hello = format!(
        "{}/shop/hello@{}",
        registry.addr,
        registry.skopeo_digest("shop/hello", "1.0")
    );
    let (code, record) = home.gate(&[&hello, "--env", "prod"]);
    assert_eq!(code, 1);
    let (counting, _) = reasons(&record);
    assert!(has(&counting, "non-root", "deny") && has(&counting, "secrets", "deny"));
    // A signed OpenVEX attestation on it suppresses what it says, like --vex;
    // one signed by a key the environment does not trust does not.
    let vex = home.write(
        "hello.vex.json",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/2", "author": "team-hello",
  "timestamp": "2026-11-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2021-23337"}, "products": [{"@id": "pkg:npm/lodash"}],
    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    );
    let suppressed = |home: &Home| {
        let out = home.run(&["gate", &hello, "--env", "prod", "--input-only", "-q"]);
        let input: Value = serde_json::from_slice(&out.stdout).unwrap();
        input["suppressed"].as_array().unwrap().len()
    };
    for (key, wanted) in [("other.key", 0), ("keep.key", 1)] {
        let predicate = vex.to_str().unwrap();
        let out = home.run(&[
            "attest",
            &hello,
            "--type",
            "openvex",
            "--predicate",
            predicate,
            "--key",
            key,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            suppressed(&home),
            wanted,
            "signed with {key}: prod trusts keep.pub only"
        );
    }
}

/// A Debian-like root layer: os-release and a dpkg database (`status`).
fn debian_layer(tag: &str, status: &str) -> customs_test::LayerBuilder {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../customs-test/data/example");
    let os_release = fs_err::read_to_string(data.join("os-release")).unwrap();
    customs_test::LayerBuilder::new()
        .created_by(&format!("ADD rootfs-{tag}.tar /"))
        .dir("etc")
        .dir("var/lib/dpkg")
        .file("etc/os-release", &os_release)
        .file("etc/debian_version", tag)
        .file("var/lib/dpkg/status", status)
}

/// A Debian-like base image of that one layer.
fn base_image(dir: &Path, tag: &str, status: &str) {
    customs_test::ImageBuilder::new()
        .layer(debian_layer(tag, status))
        .build()
        .write_oci_layout(dir, Some(tag));
}

#[test]
fn base_images_are_catalogued_detected_approved_and_recommended() {
    let mut home = Home::new();
    let registry = TestRegistry::start();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../customs-test/data/example");
    let vulnerable = fs_err::read_to_string(data.join("dpkg-status")).unwrap();
    for (tag, status) in [
        ("12.1", vulnerable.as_str()),
        ("12.2", ""),
        ("13.0", ""),
        ("12.1-slim", ""),
    ] {
        let dir = home.path().join(format!("base-{tag}"));
        base_image(&dir, tag, status);
        registry.push(
            &format!("oci:{}:{tag}", dir.display()),
            "os/debian",
            tag,
            None,
        );
    }
    // The application: the 12.1 base and one layer of its own.
    let app = home.path().join("app");
    customs_test::ImageBuilder::new()
        .layer(debian_layer("12.1", &vulnerable))
        .layer(
            customs_test::LayerBuilder::new()
                .dir("app")
                .file("app/run.sh", "#!/bin/sh\n"),
        )
        .build()
        .write_oci_layout(&app, Some("1.0"));
    registry.push(
        &format!("oci:{}:1.0", app.display()),
        "shop/app",
        "1.0",
        None,
    );
    let docker = home.path().join("docker");
    fs_err::create_dir_all(&docker).unwrap();
    write_docker_config(&docker, &registry.addr, &registry.user, &registry.password);
    home.docker = Some(docker);
    let app_ref = format!("{}/shop/app:1.0", registry.addr);
    let catalogue = home.path().join("bases.json");
    let cat = catalogue.to_str().unwrap();
    // Not catalogued yet: unknown.
    let out = home.run(&["base", "detect", &app_ref, "--catalogue", cat, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["base"].is_null());
    let base_12_1 = format!("{}/os/debian:12.1", registry.addr);
    let out = home.run(&[
        "base",
        "add",
        &base_12_1,
        "--owner",
        "team-os",
        "--catalogue",
        cat,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.run(&["base", "detect", &app_ref, "--catalogue", cat, "-o", "json"]);
    let detected: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(detected["base"]["detected_by"], "catalogue");
    assert_eq!(detected["base"]["name"], base_12_1.as_str());
    assert_eq!(detected["base"]["catalogue"]["owner"], "team-os");
    // The gate: a catalogued base that is not approved is a reason.
    let (_, record) = home.gate(&[&app_ref, "--env", "prod", "--base-catalogue", cat]);
    assert!(
        has(&reasons(&record).0, "base-image-approved", "deny"),
        "{record:#}"
    );
    let out = home.run(&[
        "base",
        "add",
        &base_12_1,
        "--owner",
        "team-os",
        "--approved",
        "--catalogue",
        cat,
    ]);
    assert!(out.status.success());
    let (_, record) = home.gate(&[&app_ref, "--env", "prod", "--base-catalogue", cat]);
    let counting = reasons(&record).0;
    assert!(
        !counting.iter().any(|(r, _)| r == "base-image-approved"),
        "{counting:?}"
    );
    // Too old for an environment that wants recent bases (the test
    // images were built on 2024-01-01).
    home.write(
        "customs.toml",
        "[environments.prod]\nbase_max_age_days = 3\n",
    );
    let (_, record) = home.gate(&[
        &app_ref,
        "--env",
        "prod",
        "--base-catalogue",
        cat,
        "--now",
        "2026-12-01",
    ]);
    assert!(
        has(&reasons(&record).0, "base-image-age", "deny"),
        "{record:#}"
    );
    // Recommend: newer tags of the same variant, scanned.
    let out = home.run(&[
        "recommend",
        &app_ref,
        "--catalogue",
        cat,
        "-o",
        "json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags: Vec<&str> = rec["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tag"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        ["12.1", "12.2", "13.0"],
        "the -slim variant is another line"
    );
    assert_eq!(
        rec["recommended"], "12.2",
        "as clean as 13.0 and on the same major line"
    );
    let current = &rec["candidates"][0];
    assert!(current["current"].as_bool().unwrap() && current["total"].as_u64().unwrap() > 0);
    let better = &rec["candidates"][1];
    assert_eq!(better["total"], 0);
    assert_eq!(better["fixed"], current["total"]);
    let out = home.run(&["recommend", &app_ref, "--catalogue", cat, "-q"]);
    assert!(
        stdout(&out).contains("Recommended: ") && stdout(&out).contains("os/debian:12.2"),
        "{}",
        stdout(&out)
    );
    let out = home.run(&["base", "list", "--catalogue", cat]);
    assert!(stdout(&out).contains("team-os"));
    let out = home.run(&["base", "remove", &base_12_1, "--catalogue", cat]);
    assert!(out.status.success());
}

#[test]
fn manifests_previous_release_kev_and_block_list_feed_their_rules() {
    let home = Home::new();
    let image = example_ref();
    let digest = customs_test::registry::skopeo_digest(&image, None);
    let k8s = home.write(
        "k8s.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\nspec:\n  hostNetwork: true\n  containers:\n    - name: hello\n      image: registry.example.com/hello@sha256:0000000000000000000000000000000000000000000000000000000000000000\n      securityContext:\n        privileged: true\n",
    );
    let kev = home.write(
        "kev.json",
        r#"{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.12.01",
  "count": 1, "vulnerabilities": [{"cveID": "CVE-2021-23337", "vendorProject": "lodash", "product": "lodash"}]}"#,
    );
    let previous = home.path().join("previous");
    fixed_image(&previous);
    let (_, record) = home.gate(&[
        &image,
        "--env",
        "prod",
        "--manifest",
        k8s.to_str().unwrap(),
        "--kev",
        kev.to_str().unwrap(),
        "--compare",
        &format!("oci:{}:1.1", previous.display()),
    ]);
    let (counting, _) = reasons(&record);
    for rule in ["deploy-manifest", "kev-vulnerability", "size-growth"] {
        assert!(has(&counting, rule, "deny"), "{rule}: {counting:?}");
    }
    let manifest = record["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "deploy-manifest")
        .count();
    assert!(manifest >= 2, "privileged and the host network: {record:#}");
    // A blocked digest is denied even in dev, until its end date.
    let blocked = home.write(
        "blocked.yaml",
        &format!("blocked:\n  - digest: \"{digest}\"\n    reason: built from a compromised runner\n    until: 2026-12-31\n"),
    );
    let b = blocked.to_str().unwrap();
    let (code, record) = home.gate(&[
        &image,
        "--env",
        "dev",
        "--blocklist",
        b,
        "--now",
        "2026-12-31",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        reasons(&record)
            .0
            .iter()
            .filter(|(_, l)| l == "deny")
            .collect::<Vec<_>>(),
        [&("blocked-digest".to_owned(), "deny".to_owned())]
    );
    let (code, _) = home.gate(&[
        &image,
        "--env",
        "dev",
        "--blocklist",
        b,
        "--now",
        "2027-01-01",
    ]);
    assert_eq!(code, 0);
}
