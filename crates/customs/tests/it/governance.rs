//! `customs registry audit | prune` against real `docker-registry`s: one
//! with htpasswd auth, one open to anyone.

use customs_test::registry::TestRegistry;
use customs_test::{ImageBuilder, LayerBuilder};
use serde_json::Value;

use crate::ledger::Home;

/// Pushes a one-file image made at `created` as `repository:tag`.
fn push(registry: &TestRegistry, dir: &std::path::Path, content: &str, created: &str, tag: &str) {
    let layout = dir.join(format!("layout-{tag}"));
    ImageBuilder::new()
        .layer(LayerBuilder::new().file("app/version", content))
        .created(created)
        .build()
        .write_oci_layout(&layout, Some("x"));
    registry.push(
        &format!("oci:{}:x", layout.display()),
        "shop/app",
        tag,
        None,
    );
}

fn finding<'a>(findings: &'a Value, check: &str) -> &'a Value {
    findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no `{check}` finding: {findings}"))
}

#[test]
fn audit_and_prune_a_real_registry() {
    let registry = TestRegistry::start();
    let home = Home::new(&[&registry]);
    let (key, _) = home.key();
    let dir = home.path().join("images");
    let repo = format!("{}/shop/app", registry.addr);
    push(
        &registry,
        &dir,
        "old-1",
        "2025-01-01T00:00:00Z",
        "feature-old-1",
    );
    push(
        &registry,
        &dir,
        "old-2",
        "2025-02-01T00:00:00Z",
        "feature-old-2",
    );
    push(&registry, &dir, "old-2", "2025-02-01T00:00:00Z", "1.0.0");
    push(
        &registry,
        &dir,
        "old-3",
        "2025-03-01T00:00:00Z",
        "feature-running",
    );
    push(
        &registry,
        &dir,
        "new",
        "2099-01-01T00:00:00Z",
        "feature-new",
    );
    home.ok(&["sign", &format!("{repo}:feature-old-1"), "--key", &key]);
    home.ok(&["sign", &format!("{repo}:1.0.0"), "--key", &key]);
    let running = registry.skopeo_digest("shop/app", "feature-running");
    home.ok(&[
        "deploy",
        "record",
        "--env",
        "dev",
        "--service",
        "preview",
        &format!("{repo}@{running}"),
    ]);
    // A release tag moved: the store saw 2.0.0 on two digests.
    push(&registry, &dir, "two-a", "2025-04-01T00:00:00Z", "2.0.0");
    home.ok(&["scan", &format!("{repo}:2.0.0"), "-q"]);
    push(&registry, &dir, "two-b", "2025-04-02T00:00:00Z", "2.0.0");
    home.ok(&["scan", &format!("{repo}:2.0.0"), "-q"]);

    let out = home.run(&["registry", "audit", &repo, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "a check fails");
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        finding(&findings, "anonymous pull")["level"],
        "pass",
        "{findings}"
    );
    assert_eq!(finding(&findings, "anonymous push")["level"], "pass");
    assert_eq!(
        finding(&findings, "referrers API")["level"],
        "info",
        "distribution 2.8 has none"
    );
    let moved = finding(&findings, "release tag moved");
    assert_eq!(moved["level"], "fail");
    assert!(
        moved["detail"]
            .as_str()
            .unwrap()
            .starts_with("2.0.0 pointed at"),
        "{moved}"
    );
    let signed = finding(&findings, "release tags signed");
    assert_eq!(
        (signed["level"].as_str(), signed["detail"].as_str()),
        (Some("fail"), Some("unsigned: 2.0.0"))
    );
    assert_eq!(finding(&findings, "release tags attested")["level"], "warn");
    // The registry alone: its repositories from the store.
    let out = home.run(&["registry", "audit", &registry.addr]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("shop/app"));

    // Prune: a dry run first.
    let plan = home.json(&[
        "registry",
        "prune",
        &repo,
        "--match",
        "feature-*",
        "--older-than",
        "30d",
        "-o",
        "json",
    ]);
    let of = |plan: &Value, tag: &str| {
        plan["plan"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["tag"] == tag)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&plan, "feature-old-1")["delete"], true, "{plan}");
    assert_eq!(
        of(&plan, "feature-old-2")["why"],
        "its digest is also tagged 1.0.0, which stays"
    );
    assert_eq!(
        of(&plan, "feature-running")["why"],
        "deployed in dev/preview"
    );
    assert_eq!(
        of(&plan, "feature-new")["why"],
        "younger than the rule's age"
    );
    assert_eq!(of(&plan, "1.0.0")["why"], "does not match the rule");
    let tags = || {
        home.json(&[
            "registry",
            "prune",
            &repo,
            "--keep-last",
            "100",
            "-o",
            "json",
        ])["plan"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["tag"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(
        tags().contains(&"feature-old-1".to_owned()),
        "a dry run deletes nothing"
    );
    let old = registry.skopeo_digest("shop/app", "feature-old-1");
    let done = home.json(&[
        "registry",
        "prune",
        &repo,
        "--match",
        "feature-*",
        "--older-than",
        "30d",
        "--delete",
        "-o",
        "json",
    ]);
    assert_eq!(done["removed"][0]["digest"], old, "{done}");
    assert_eq!(
        done["removed"][0]["attached"], 1,
        "its signature went with it"
    );
    let left = tags();
    assert!(!left.contains(&"feature-old-1".to_owned()), "{left:?}");
    for kept in [
        "feature-old-2",
        "1.0.0",
        "feature-running",
        "feature-new",
        "2.0.0",
    ] {
        assert!(left.contains(&kept.to_owned()), "{kept} gone: {left:?}");
    }
    home.fails(&["registry", "prune", &repo], 2, "say what to keep");

    // An open registry: anonymous push is allowed — a failure — and the
    // probe is removed.
    let open = TestRegistry::start_open();
    let open_repo = format!("{}/shop/app", open.addr);
    push(&open, &dir, "x", "2025-01-01T00:00:00Z", "1.0.0");
    let out = home.run(&["registry", "audit", &open_repo, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let push_finding = finding(&findings, "anonymous push");
    assert_eq!(push_finding["level"], "fail");
    assert!(
        push_finding["detail"]
            .as_str()
            .unwrap()
            .ends_with("probe removed"),
        "{push_finding}"
    );
    assert_eq!(finding(&findings, "anonymous pull")["level"], "warn");
}
