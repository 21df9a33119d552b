//! Compose and Kubernetes manifests: each rule, line numbers, multi-document
//! YAML, merge keys, and invalid input.

use super::{Options, lint};

fn codes(path: &str, text: &str, production: bool) -> Vec<(&'static str, u64)> {
    let mut v: Vec<(&'static str, u64)> = lint(path, text, Options { production })
        .unwrap()
        .iter()
        .map(|f| (f.rule, f.location.line.unwrap_or(0)))
        .collect();
    v.sort_unstable();
    v
}

const COMPOSE: &str = r#"x-common: &common
  restart: always
services:
  web:
    <<: *common
    image: nginx
    privileged: true
    network_mode: host
    cap_add: [SYS_ADMIN]
    environment:
      DB_PASSWORD: "k8Hq2Zx9LmTq4Wv7"
      LOG_LEVEL: debug
  db:
    image: postgres:16@sha256:4444444444444444444444444444444444444444444444444444444444444444
    user: "999:999"
    environment:
      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD}
"#;

#[test]
fn compose_services() {
    assert_eq!(
        codes("compose.yaml", COMPOSE, false),
        [
            ("manifest-dangerous-capability", 9),
            ("manifest-host-namespace", 8),
            ("manifest-image-latest", 6),
            ("manifest-image-not-pinned", 6),
            ("manifest-privileged", 7),
            ("manifest-run-as-root", 4),
            ("manifest-secret-in-env", 11),
        ]
    );
    let findings = lint("compose.yaml", COMPOSE, Options { production: true }).unwrap();
    let pin = findings
        .iter()
        .find(|f| f.rule == "manifest-image-not-pinned")
        .unwrap();
    assert_eq!(
        pin.severity,
        customs_types::Severity::High,
        "an error for production"
    );
    let secret = findings
        .iter()
        .find(|f| f.rule == "manifest-secret-in-env")
        .unwrap();
    assert_eq!(secret.evidence.as_deref(), Some("DB_PASSWORD=k8…(16)"));
}

const K8S: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      hostPID: true
      containers:
        - name: api
          image: registry.example.com/api:1.2.3
          securityContext:
            runAsUser: 0
            allowPrivilegeEscalation: true
            capabilities:
              add: ["NET_ADMIN"]
          env:
            - name: STRIPE_KEY
              value: "sk_live_0123456789abcdefghijklmn"
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        spec:
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
          containers:
            - name: job
              image: busybox:1.36@sha256:5555555555555555555555555555555555555555555555555555555555555555
              securityContext:
                allowPrivilegeEscalation: false
"#;

#[test]
fn kubernetes_workloads() {
    assert_eq!(
        codes("k8s.yaml", K8S, false),
        [
            ("manifest-dangerous-capability", 16),
            ("manifest-host-namespace", 8),
            ("manifest-image-not-pinned", 11),
            ("manifest-privilege-escalation", 10),
            ("manifest-run-as-root", 10),
            ("manifest-secret-in-env", 18),
        ]
    );
}

#[test]
fn invalid_or_unknown_yaml_is_an_error_with_a_line() {
    let e = lint(
        "k8s.yaml",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n",
        Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("k8s.yaml:5:"), "{e}");
    let e = lint("x.yaml", "hello: world\n", Options::default()).unwrap_err();
    assert!(e.to_string().contains("neither a compose file"), "{e}");
}

/// Issue 14 (hostile 9): lint was quadratic in the number of documents
/// (16k Kubernetes documents took 55 s). Every finding still points at its
/// own document's line when there are many (scripts/bench-lint times it).
#[test]
fn many_documents_each_get_their_own_lines() {
    let doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n      securityContext:\n        privileged: true\n";
    let count = 20_000;
    let text: String = (0..count)
        .map(|i| format!("---\n{}", doc.replace("{i}", &i.to_string())))
        .collect();
    let findings = lint("many.yaml", &text, Options::default()).unwrap();
    let privileged: Vec<u64> = findings
        .iter()
        .filter(|f| f.rule == "manifest-privileged")
        .filter_map(|f| f.location.line)
        .collect();
    assert_eq!(privileged.len(), count);
    // Document i starts at line 11 i + 1 (its `---`); `privileged` is its 11th line.
    for (i, line) in privileged.iter().enumerate() {
        assert_eq!(*line, 11 * i as u64 + 11, "document {i}");
    }
}

/// A document nested 100,000 deep is refused at once, naming where.
#[test]
fn deep_nesting_is_refused_with_its_place() {
    let text = format!(
        "kind: Pod\nspec: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = lint("deep.yaml", &text, Options::default()).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "deep.yaml:2:135: invalid YAML: collections nest more than 128 levels deep"
        ),
        "{e}"
    );
    // Brackets inside quotes and comments are text.
    let text = format!(
        "kind: Pod # {}\nmetadata: {{name: \"{}\"}}\n",
        "[".repeat(200),
        "{".repeat(200)
    );
    lint("ok.yaml", &text, Options::default()).unwrap();
}
