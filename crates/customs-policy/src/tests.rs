//! Table-driven tests of the built-in bundle: for every rule, an input that
//! passes, and one that fails it with the level expected in each built-in
//! environment; exceptions on the boundary day; user rules and overrides.

use std::path::Path;

use serde_json::{Value, json};

use super::*;

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
/// 2024-10-04T12:00:00Z.
const NOW: i64 = 1_728_043_200;

/// An input every built-in rule passes in prod (with a key trusted).
fn clean(env: &str) -> Value {
    json!({
        "schema_version": 1,
        "evaluated_at": "2024-10-04T12:00:00Z",
        "now": NOW,
        "environment": {"name": env, "profile": env, "config": {
            "keys": ["cosign.pub"], "base_images": ["docker.io/library/debian"], "base_max_age_days": 90,
            "licenses": {"deny": ["GPL-3.0-only"], "allow": [], "include_os_packages": false},
            "rules": {}, "identities": [], "builders": []}},
        "image": {
            "reference": format!("registry.example.com/shop/cart@{DIGEST}"),
            "resolved_by": "digest", "tag": null, "repository": "registry.example.com/shop/cart",
            "digest": DIGEST, "index_digest": null, "platform": "linux/amd64",
            "created": "2024-10-01T00:00:00Z", "size": 1000, "layers": 3,
            "config": {"user": "10001", "labels": {
                "org.opencontainers.image.source": "https://example.com/cart",
                "org.opencontainers.image.revision": "abc",
                "org.opencontainers.image.version": "1.2.3"},
                "healthcheck": true, "exposed_ports": ["8080/tcp"], "entrypoint": ["/cart"], "cmd": [],
                "env_names": ["PATH"], "working_dir": "/"},
            "annotations": {}, "history": []},
        "sbom": {"present": true, "source": "generated", "incomplete": [], "distro": "debian 12",
            "counts": {"deb": 1}, "packages": []},
        "vulnerabilities": [], "suppressed": [], "secrets": [], "lint": [], "manifests": [],
        "licenses": [{"name": "left-pad", "version": "1.0.0", "type": "npm", "purl": "pkg:npm/left-pad@1.0.0",
            "licenses": ["MIT"], "spdx": true, "verdict": "allowed"}],
        "signatures": {"checked": true, "trusted": ["key cosign.pub"], "found": 1,
            "verified": [{"signer": "cosign.pub", "source": "x.sig"}], "outcome": "verified"},
        "attestations": [],
        "provenance": [{"predicate_type": "https://slsa.dev/provenance/v1", "source": "x.att", "verified": true,
            "builder": "https://github.com/actions/runner", "builder_allowed": true, "build_type": null,
            "source_repository": null, "source_revision": null}],
        "base_image": {"name": "docker.io/library/debian:bookworm", "digest": "sha256:22", "detected_by": "annotation",
            "created": "2024-09-01T00:00:00Z", "age_days": 33, "owner": null, "approved": true},
        "base_catalogue": 0, "previous": null, "blocked": null, "database": null
    })
}

/// RFC 7386 merge patch.
fn patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().unwrap();
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    patch_into(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn patch_into(target: &mut Value, p: &Value) {
    patch(target, p);
}

fn vuln(id: &str, severity: &str, fixed: &[&str], kev: bool) -> Value {
    json!({"id": id, "aliases": [format!("GHSA-{id}")], "severity": severity, "cvss_score": null,
        "fix_available": !fixed.is_empty(), "fixed_versions": fixed,
        "package": {"name": "openssl", "version": "3.0.11", "type": "deb", "purl": "pkg:deb/debian/openssl@3.0.11"},
        "kev": kev, "vex": null})
}

fn evaluate(
    policy: &Policy,
    config: &PolicyConfig,
    exceptions: &Exceptions,
    input: &Value,
) -> DecisionRecord {
    let input: PolicyInput = serde_json::from_value(input.clone()).expect("input parses");
    Gatekeeper {
        policy,
        config,
        exceptions,
    }
    .evaluate(&input, "test")
    .expect("evaluates")
}

/// (note, patch, rule, [dev, staging, prod] levels the violation has).
fn cases() -> Vec<(&'static str, Value, &'static str, [&'static str; 3])> {
    vec![
        (
            "blocked digest",
            json!({"blocked": {"reason": "bad build", "until": null}}),
            "blocked-digest",
            ["deny", "deny", "deny"],
        ),
        (
            "latest tag",
            json!({"image": {"resolved_by": "tag", "tag": "latest"}}),
            "digest-reference",
            ["warn", "warn", "deny"],
        ),
        (
            "other tag",
            json!({"image": {"resolved_by": "tag", "tag": "1.2"}}),
            "digest-reference",
            ["warn", "warn", "deny"],
        ),
        (
            "no sbom",
            json!({"sbom": {"present": false}}),
            "sbom",
            ["warn", "warn", "deny"],
        ),
        (
            "incomplete sbom",
            json!({"sbom": {"incomplete": ["/var/lib/dpkg/status: truncated"]}}),
            "sbom",
            ["warn", "warn", "deny"],
        ),
        (
            "no provenance",
            json!({"provenance": []}),
            "provenance",
            ["warn", "warn", "deny"],
        ),
        (
            "unsigned provenance",
            json!({"provenance": [{"predicate_type": "https://slsa.dev/provenance/v0.2", "source": "buildkit", "verified": false, "builder": "x", "builder_allowed": true}]}),
            "provenance",
            ["warn", "warn", "deny"],
        ),
        (
            "disallowed builder",
            json!({"provenance": [{"predicate_type": "https://slsa.dev/provenance/v1", "source": "x.att", "verified": true, "builder": "laptop", "builder_allowed": false}]}),
            "provenance",
            ["warn", "warn", "deny"],
        ),
        (
            "no signature",
            json!({"signatures": {"verified": [], "found": 0, "outcome": "no signature found"}}),
            "signature",
            ["warn", "warn", "deny"],
        ),
        (
            "nothing trusted",
            json!({"signatures": {"trusted": [], "verified": []}}),
            "signature",
            ["warn", "warn", "deny"],
        ),
        (
            "fixable critical",
            json!({"vulnerabilities": [vuln("CVE-2024-0001", "critical", &["3.0.13"], false)]}),
            "critical-vulnerability",
            ["warn", "deny", "deny"],
        ),
        (
            "fixable high",
            json!({"vulnerabilities": [vuln("CVE-2024-0002", "high", &["3.0.13"], false)]}),
            "high-vulnerability",
            ["warn", "warn", "deny"],
        ),
        (
            "kev without fix",
            json!({"vulnerabilities": [vuln("CVE-2023-4911", "medium", &[], true)]}),
            "kev-vulnerability",
            ["warn", "warn", "deny"],
        ),
        (
            "secret",
            json!({"secrets": [{"rule": "aws-access-key-id", "severity": "critical", "title": "AWS access key id", "location": "/app/.env:1 [layer 7]", "fingerprint": "sha256:abcd"}]}),
            "secrets",
            ["warn", "deny", "deny"],
        ),
        (
            "unapproved base",
            json!({"base_image": {"approved": false}}),
            "base-image-approved",
            ["warn", "warn", "deny"],
        ),
        (
            "unknown base",
            json!({"base_image": null, "environment": {"config": {"base_max_age_days": null}}}),
            "base-image-approved",
            ["warn", "warn", "deny"],
        ),
        (
            "old base",
            json!({"base_image": {"age_days": 400}}),
            "base-image-age",
            ["warn", "warn", "deny"],
        ),
        (
            "root user",
            json!({"image": {"config": {"user": ""}}}),
            "non-root",
            ["warn", "warn", "deny"],
        ),
        (
            "root:root user",
            json!({"image": {"config": {"user": "0:0"}}}),
            "non-root",
            ["warn", "warn", "deny"],
        ),
        (
            "missing label",
            json!({"image": {"config": {"labels": {"org.opencontainers.image.revision": null}}}}),
            "oci-labels",
            ["warn", "warn", "deny"],
        ),
        (
            "no healthcheck",
            json!({"image": {"config": {"healthcheck": false}}}),
            "healthcheck",
            ["warn", "warn", "deny"],
        ),
        (
            "sensitive port",
            json!({"image": {"config": {"exposed_ports": ["8080/tcp", "22/tcp"]}}}),
            "ports",
            ["warn", "warn", "deny"],
        ),
        (
            "privileged manifest",
            json!({"manifests": [{"rule": "manifest-privileged", "severity": "high", "title": "Container runs privileged", "location": "k8s.yaml:12", "fingerprint": null}]}),
            "deploy-manifest",
            ["warn", "warn", "deny"],
        ),
        (
            "denied licence",
            json!({"licenses": [{"name": "x", "version": "1", "type": "npm", "purl": "pkg:npm/x@1", "licenses": ["GPL-3.0-only"], "spdx": true, "verdict": "denied", "reasons": ["GPL-3.0-only"]}]}),
            "license-denied",
            ["warn", "warn", "deny"],
        ),
        (
            "unknown licence",
            json!({"licenses": [{"name": "x", "version": "1", "type": "npm", "purl": "pkg:npm/x@1", "licenses": [], "spdx": false, "verdict": "unknown", "reasons": ["no licence declared"]}]}),
            "license-unknown",
            ["warn", "warn", "warn"],
        ),
        (
            "size growth",
            json!({"previous": {"reference": "cart:1.2.2", "digest": "sha256:33", "size": 500, "layers": 3}}),
            "size-growth",
            ["warn", "warn", "deny"],
        ),
    ]
}

#[test]
fn the_clean_input_passes_everywhere() {
    let policy = Policy::builtin().unwrap();
    let config = PolicyConfig::builtin();
    for env in ["dev", "staging", "prod"] {
        let record = evaluate(&policy, &config, &Exceptions::default(), &clean(env));
        assert_eq!(
            record.verdict,
            Verdict::Pass,
            "{env}: {:#?}",
            record.reasons
        );
        assert!(record.reasons.is_empty());
    }
}

#[test]
fn every_builtin_rule_fails_with_its_level_per_environment() {
    let policy = Policy::builtin().unwrap();
    let config = PolicyConfig::builtin();
    let mut covered = std::collections::BTreeSet::new();
    for (note, change, rule, levels) in cases() {
        for (env, want) in ["dev", "staging", "prod"].iter().zip(levels) {
            let mut input = clean(env);
            patch(&mut input, &change);
            let record = evaluate(&policy, &config, &Exceptions::default(), &input);
            let reasons: Vec<_> = record
                .reasons
                .iter()
                .map(|r| (r.rule.as_str(), r.level.as_str()))
                .collect();
            assert_eq!(reasons, [(rule, want)], "{note} in {env}");
            let verdict = if want == "deny" {
                Verdict::Deny
            } else {
                Verdict::Warn
            };
            assert_eq!(record.verdict, verdict, "{note} in {env}");
            assert!(!record.reasons[0].message.is_empty());
        }
        covered.insert(rule);
    }
    let all: std::collections::BTreeSet<_> = policy.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(covered, all, "every built-in rule has a failing case");
}

#[test]
fn unfixed_and_lesser_vulnerabilities_pass() {
    let policy = Policy::builtin().unwrap();
    let mut input = clean("prod");
    patch(
        &mut input,
        &json!({"vulnerabilities": [vuln("CVE-1", "critical", &[], false), vuln("CVE-2", "medium", &["2"], false)]}),
    );
    let record = evaluate(
        &policy,
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &input,
    );
    assert_eq!(record.verdict, Verdict::Pass, "{:#?}", record.reasons);
}

fn exceptions(text: &str) -> Exceptions {
    let today = NOW / 86_400;
    Exceptions {
        entries: Exceptions::parse(Path::new("exceptions.yaml"), text, today, 180).unwrap(),
        digest: Some("sha256:ee".to_owned()),
    }
}

#[test]
fn exceptions_waive_until_the_end_of_their_last_day() {
    let policy = Policy::builtin().unwrap();
    let config = PolicyConfig::builtin();
    let x = exceptions(
        "exceptions:\n  - id: EXC-1\n    scope: { repository: registry.example.com/shop/* }\n    vulnerability: GHSA-CVE-2024-0001\n    environments: [prod]\n    justification: not reachable\n    approver: sec\n    expires: 2024-10-06\n",
    );
    let at = |now: i64, env: &str| {
        let mut input = clean(env);
        patch(
            &mut input,
            &json!({"now": now, "vulnerabilities": [vuln("CVE-2024-0001", "critical", &["3.0.13"], false)]}),
        );
        evaluate(&policy, &config, &x, &input)
    };
    // The last day, one second before midnight: waived.
    let last = customs_types::time::parse_date("2024-10-06").unwrap() * 86_400 + 86_399;
    let record = at(last, "prod");
    assert_eq!(record.verdict, Verdict::Pass);
    assert_eq!(record.reasons[0].waived_by.as_deref(), Some("EXC-1"));
    assert_eq!(record.exceptions_applied[0].id, "EXC-1");
    // The next second: it expired, the reason counts again and says so.
    let record = at(last + 1, "prod");
    assert_eq!(record.verdict, Verdict::Deny);
    let expired = record.reasons[0].expired_exception.as_ref().unwrap();
    assert_eq!(expired.message, "exception EXC-1 expired on 2024-10-06");
    assert_eq!(record.exceptions_expired.len(), 1);
    // Another environment: not covered at all.
    let record = at(last, "staging");
    assert_eq!(record.verdict, Verdict::Deny);
    assert!(record.reasons[0].waived_by.is_none() && record.reasons[0].expired_exception.is_none());
}

#[test]
fn an_exception_for_another_digest_does_not_apply() {
    let policy = Policy::builtin().unwrap();
    let x = exceptions(
        "exceptions:\n  - scope: { digest: \"sha256:2222222222222222222222222222222222222222222222222222222222222222\" }\n    rule: healthcheck\n    justification: batch job\n    expires: 2024-10-30\n",
    );
    let mut input = clean("prod");
    patch(
        &mut input,
        &json!({"image": {"config": {"healthcheck": false}}}),
    );
    let record = evaluate(&policy, &PolicyConfig::builtin(), &x, &input);
    assert_eq!(record.verdict, Verdict::Deny);
    let mut input = clean("prod");
    patch(
        &mut input,
        &json!({"image": {"digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222", "config": {"healthcheck": false}}}),
    );
    let record = evaluate(&policy, &PolicyConfig::builtin(), &x, &input);
    assert_eq!(record.verdict, Verdict::Pass, "{:#?}", record.reasons);
}

#[test]
fn levels_are_overridden_and_rules_turned_off_per_environment() {
    let policy = Policy::builtin().unwrap();
    let config = PolicyConfig::parse(
        Path::new("customs.toml"),
        "[environments.prod]\nrules = { healthcheck = \"warn\", \"oci-labels\" = \"off\" }\n",
    )
    .unwrap();
    let mut input = clean("prod");
    patch(
        &mut input,
        &json!({"environment": {"config": {"rules": {"healthcheck": "warn", "oci-labels": "off"}}},
        "image": {"config": {"healthcheck": false, "labels": {}}}}),
    );
    let record = evaluate(&policy, &config, &Exceptions::default(), &input);
    assert_eq!(record.verdict, Verdict::Warn);
    let rules: Vec<_> = record.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(rules, ["healthcheck"]);
}

fn user_policy(files: &[(&str, &str)]) -> (tempfile_dir::Dir, Result<Policy, PolicyError>) {
    let dir = tempfile_dir::Dir::new();
    for (name, text) in files {
        fs_err::write(dir.path().join(name), text).unwrap();
    }
    let policy = Policy::load(Some(dir.path()));
    (dir, policy)
}

/// A throwaway folder (the crate has no tempfile dependency).
mod tempfile_dir {
    pub(super) struct Dir(std::path::PathBuf);

    impl Dir {
        pub(super) fn new() -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "customs-policy-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            fs_err::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub(super) fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs_err::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn a_user_rule_joins_the_bundle() {
    let (_dir, policy) = user_policy(&[(
        "team.rego",
        r#"package customs.rules.no_curl
import rego.v1
metadata := {"id": "no-curl", "title": "No curl in production images", "levels": {"dev": "warn", "staging": "warn", "prod": "deny"}}
violation contains v if {
    some p in input.sbom.packages
    p.name == "curl"
    v := {"message": sprintf("curl %s is installed", [p.version]), "package": p.purl}
}
"#,
    )]);
    let policy = policy.unwrap();
    assert!(
        policy
            .rules()
            .iter()
            .any(|r| r.id == "no-curl" && !r.builtin)
    );
    assert!(
        policy
            .rules()
            .iter()
            .any(|r| r.id == "non-root" && r.builtin)
    );
    let mut input = clean("prod");
    patch(
        &mut input,
        &json!({"sbom": {"packages": [{"name": "curl", "version": "7.88", "type": "deb", "purl": "pkg:deb/debian/curl@7.88"}]}}),
    );
    let record = evaluate(
        &policy,
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &input,
    );
    assert_eq!(record.verdict, Verdict::Deny);
    assert_eq!(record.reasons[0].message, "curl 7.88 is installed");
    assert_ne!(record.policy.digest, Policy::builtin().unwrap().digest());
}

#[test]
fn a_rule_that_errors_at_evaluation_is_a_deny() {
    let (_dir, policy) = user_policy(&[(
        "broken.rego",
        r#"package customs.rules.broken
import rego.v1
metadata := {"id": "broken", "title": "Broken", "levels": {"dev": "warn", "staging": "warn", "prod": "warn"}}
violation contains v if {
    x := to_number("not a number")
    v := {"message": sprintf("%v", [x])}
}
"#,
    )]);
    let policy = policy.unwrap();
    for env in ["dev", "prod"] {
        let record = evaluate(
            &policy,
            &PolicyConfig::builtin(),
            &Exceptions::default(),
            &clean(env),
        );
        assert_eq!(record.verdict, Verdict::Deny, "{env}");
        assert_eq!(record.reasons[0].rule, "policy-error");
        assert!(
            record.reasons[0].message.contains("broken"),
            "{}",
            record.reasons[0].message
        );
    }
}

#[test]
fn a_violation_that_is_not_an_object_is_a_deny() {
    let (_dir, policy) = user_policy(&[(
        "odd.rego",
        "package customs.rules.odd\nimport rego.v1\nmetadata := {\"id\": \"odd\", \"title\": \"Odd\"}\nviolation contains \"just a string\" if true\n",
    )]);
    let record = evaluate(
        &policy.unwrap(),
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &clean("prod"),
    );
    assert_eq!(record.verdict, Verdict::Deny);
    assert!(
        record.reasons[0].message.contains("not {message"),
        "{}",
        record.reasons[0].message
    );
}

#[test]
fn malformed_rego_names_file_and_line() {
    let (_dir, policy) = user_policy(&[(
        "bad.rego",
        "package customs.rules.bad\nimport rego.v1\n\nviolation contains v if {\n  v := \n}\n",
    )]);
    let err = policy.unwrap_err().to_string();
    assert!(
        err.contains("invalid Rego") && err.contains("bad.rego:5:5") && err.contains("expecting"),
        "{err}"
    );
    let (_dir, policy) = user_policy(&[(
        "nometa.rego",
        "package customs.rules.nometa\nimport rego.v1\nviolation contains {\"message\": \"x\"} if true\n",
    )]);
    let err = policy.unwrap_err().to_string();
    assert!(
        err.contains("nometa") && err.contains("no `metadata`"),
        "{err}"
    );
    let (_dir, policy) = user_policy(&[(
        "dup.rego",
        "package customs.rules.dup\nimport rego.v1\nmetadata := {\"id\": \"non-root\", \"title\": \"x\"}\nviolation contains {\"message\": \"x\"} if false\n",
    )]);
    let err = policy.unwrap_err().to_string();
    assert!(err.contains("already used"), "{err}");
}

#[test]
fn deeply_nested_rego_is_refused_before_the_parser_sees_it() {
    // Found by fuzzing: regorus's parse time doubles with each level of
    // `{`/`[` nesting (22 levels took seconds).
    for open in ["{", "["] {
        let text = format!("package customs.rules.deep\nx := {}", open.repeat(40));
        let started = std::time::Instant::now();
        let err = engine::check_module("deep.rego", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("deep.rego:2:") && err.contains("nested deeper"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
    // Brackets inside strings and comments do not count.
    let text = format!(
        "package customs.rules.fine\n# {}\ns := \"{}\"\nr := `{}`\n",
        "{".repeat(40),
        "[".repeat(40),
        "{".repeat(40)
    );
    engine::check_module("fine.rego", &text).unwrap();
    // The same check guards a bundle loaded from a folder.
    let (_dir, policy) = user_policy(&[(
        "deep.rego",
        &format!("package customs.rules.deep\nx := {}", "[".repeat(40)),
    )]);
    let err = policy.unwrap_err().to_string();
    assert!(
        err.contains("deep.rego:2:") && err.contains("nested deeper"),
        "{err}"
    );
    // What the built-in bundle nests stays well under the limit.
    for (name, text) in engine::BUILTIN {
        engine::check_nesting(name, text).unwrap();
    }
}

#[test]
fn the_decision_record_pins_its_inputs() {
    let policy = Policy::builtin().unwrap();
    let a = evaluate(
        &policy,
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &clean("prod"),
    );
    let b = evaluate(
        &policy,
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &clean("prod"),
    );
    assert_eq!(a, b, "the same inputs give the same record");
    let mut other = clean("prod");
    patch(&mut other, &json!({"image": {"size": 1001}}));
    let c = evaluate(
        &policy,
        &PolicyConfig::builtin(),
        &Exceptions::default(),
        &other,
    );
    assert_ne!(a.input_digest, c.input_digest);
    assert!(a.policy.digest.starts_with("sha256:"));
}

#[test]
fn real_openvex_documents_parse() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let testdata = shared.join("interop/openvex-go-vex/pkg/vex/testdata");
    let statements = vex::parse(
        "v0.2.0.json",
        &fs_err::read(testdata.join("v0.2.0.json")).unwrap(),
    )
    .unwrap();
    let product =
        "pkg:oci/alpine@sha256%3A124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126";
    let mut names: Vec<_> = statements
        .iter()
        .filter(|s| s.products.iter().any(|p| p.id == product))
        .map(|s| s.vulnerability.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names,
        [
            "CVE-2023-1255",
            "CVE-2023-2650",
            "CVE-2023-2975",
            "CVE-2023-3446",
            "CVE-2023-3817"
        ]
    );
    for name in [
        "v0.0.1.json",
        "v0.0.1-noversion.json",
        "v001-1.vex.json",
        "v001-2.vex.json",
        "v020-1.vex.json",
        "v020-2.vex.json",
        "vex.yaml",
    ] {
        let parsed = vex::parse(name, &fs_err::read(testdata.join(name)).unwrap());
        assert!(parsed.is_ok(), "{name}: {parsed:?}");
    }
    let node = shared.join("vulndata/curated/_openvex/nodejs-security-wg__node.openvex.json");
    let statements = vex::parse("node", &fs_err::read(node).unwrap()).unwrap();
    assert!(!statements.is_empty());
}

#[test]
fn vexctl_oracle_counts_on_real_sarif_findings() {
    // vexctl's TestVexReport: the 99 grype findings of nginx, filtered by
    // real VEX documents: 99 → 98 (one not_affected) and 99 → 96 (plus a
    // fixed one, each matched by name or alias).
    const NGINX: &str = "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0";
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop/openvex-vexctl/pkg/ctl/testdata/sarif");
    let sarif: Value =
        serde_json::from_slice(&fs_err::read(base.join("nginx-grype.sarif.json")).unwrap())
            .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 99);
    for (doc, left) in [
        ("sample.openvex.json", 98),
        ("sample-history.json", 98),
        ("sample-2vulns.json", 96),
    ] {
        let mut set = vex::VexSet::default();
        set.extend(vex::parse(doc, &fs_err::read(base.join(doc)).unwrap()).unwrap());
        let kept = results
            .iter()
            .filter(|r| {
                // grype's rule ids carry a -<package> suffix: trim to the CVE.
                let rule = r["ruleId"].as_str().unwrap();
                let ids = vec![rule.split('-').take(3).collect::<Vec<_>>().join("-")];
                set.decide(&vex::FindingRef {
                    ids: &ids,
                    purl: "",
                    image_digest: Some(NGINX),
                })
                .is_none_or(|s| !s.status.suppresses())
            })
            .count();
        assert_eq!(kept, left, "{doc}");
    }
}
