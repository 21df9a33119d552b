//! The ledger end to end: the evidence store on SQLite and on a real
//! PostgreSQL server, promotion between two real registries and under
//! injected faults, concurrent writers and a `kill -9` mid-record.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use customs_test::fault::Reply;
use customs_test::oci11::Oci11Registry;
use customs_test::postgres::Postgres;
use customs_test::registry::{TestRegistry, write_docker_config_for};

use crate::common::{customs, example_dir, example_ref, stderr, stdout};

/// A home with the example advisories imported, a key pair, and Docker
/// credentials for the given registries.
pub(crate) struct Home {
    dir: tempfile::TempDir,
    pub(crate) docker: PathBuf,
    pub(crate) database: Option<String>,
}

impl Home {
    pub(crate) fn new(registries: &[&TestRegistry]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        fs_err::create_dir_all(&docker).unwrap();
        let creds: Vec<(&str, &str, &str)> = registries
            .iter()
            .map(|r| (r.addr.as_str(), r.user.as_str(), r.password.as_str()))
            .collect();
        write_docker_config_for(&docker, &creds);
        let home = Self {
            dir,
            docker,
            database: None,
        };
        let advisories = example_dir().parent().unwrap().join("advisories");
        home.ok(&["db", "import", advisories.to_str().unwrap()]);
        home
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = customs(self.path());
        cmd.env("DOCKER_CONFIG", &self.docker)
            .env("CUSTOMS_PASSWORD", "correct horse")
            .env("CUSTOMS_ACTOR", "ci:test");
        if let Some(url) = &self.database {
            cmd.env("CUSTOMS_DATABASE_URL", url);
        }
        cmd.args(args).output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }

    /// Runs customs, which must exit with `code` saying `why` on stderr.
    pub(crate) fn fails(&self, args: &[&str], code: i32, why: &str) {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }

    pub(crate) fn key(&self) -> (String, String) {
        let prefix = self.path().join("cosign");
        self.ok(&[
            "key",
            "generate",
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ]);
        (
            format!("{}.key", prefix.display()),
            format!("{}.pub", prefix.display()),
        )
    }
}

fn docker_attest(layout: &str) -> String {
    format!(
        "oci:{}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/interop/docker-attest/test/testdata")
            .join(layout)
            .display()
    )
}

/// The raw manifest skopeo reads at `reference` (`docker://…`).
fn skopeo_raw(reference: &str, creds: &str) -> Vec<u8> {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--creds", creds])
        .arg(reference)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Kinds and states of what `customs attestations` lists.
fn attached(v: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["attached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap_or_default().to_owned(),
                a["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Promotion between two real `docker-registry` processes and between two
/// repositories of one: the digest is skopeo's at both ends, signatures and
/// attestations verify at the target, a second run copies nothing, release
/// tags never move, channel tags only when allowed, blocked digests never.
#[test]
fn promote_between_real_registries_keeps_digest_signatures_and_attestations() {
    let a = TestRegistry::start();
    let b = TestRegistry::start();
    a.push(&example_ref(), "shop/app", "1.0", None);
    a.push_all(&docker_attest("unsigned-index"), "shop/multi", "1.0");
    a.push(&docker_attest("unsigned-image"), "shop/other", "1.0", None);
    let home = Home::new(&[&a, &b]);
    let (key, public) = home.key();
    let app = format!("{}/shop/app:1.0", a.addr);
    home.ok(&["sign", &app, "--key", &key]);
    let predicate = home.path().join("sbom.json");
    home.ok(&[
        "sbom",
        &example_ref(),
        "-o",
        &format!("spdx-json={}", predicate.display()),
    ]);
    home.ok(&[
        "attest",
        &app,
        "--type",
        "spdx",
        "--predicate",
        predicate.to_str().unwrap(),
        "--key",
        &key,
    ]);
    let at_source = attached(&home.json(&["attestations", &app, "--key", &public, "-o", "json"]));

    // Between registries: byte for byte, with every referrer.
    let v = home.json(&[
        "promote",
        &app,
        &format!("{}/prod/app", b.addr),
        "--env",
        "dev",
        "-o",
        "json",
    ]);
    assert_eq!(v["tag"]["action"], "create", "{v}");
    assert_eq!(v["decision_reused"], false);
    assert!(v["copied"]["referrers"].as_u64().unwrap() >= 3, "{v}");
    assert!(v["copied"]["blobs_copied"].as_u64().unwrap() >= 2, "{v}");
    let digest = a.skopeo_digest("shop/app", "1.0");
    assert_eq!(b.skopeo_digest("prod/app", "1.0"), digest);
    assert_eq!(v["digest"], digest);
    let target = format!("{}/prod/app:1.0", b.addr);
    home.ok(&["verify", &target, "--key", &public]);
    let at_target =
        attached(&home.json(&["attestations", &target, "--key", &public, "-o", "json"]));
    assert_eq!(at_target, at_source);
    assert!(
        at_target.iter().all(|(_, state)| state == "verified"),
        "{at_target:?}"
    );

    // Again: nothing to copy, the recorded decision reused.
    let again = home.json(&[
        "promote",
        &app,
        &format!("{}/prod/app", b.addr),
        "--env",
        "dev",
        "-o",
        "json",
    ]);
    assert_eq!(again["decision_reused"], true, "{again}");
    assert_eq!(again["copied"]["blobs_copied"], 0, "{again}");
    assert_eq!(again["copied"]["manifests_pushed"], 0, "{again}");
    assert_eq!(again["tag"]["action"], "unchanged");

    // Within one registry: blobs are mounted, none travel.
    let staged = home.json(&[
        "promote",
        &app,
        &format!("{}/stage/app", a.addr),
        "--env",
        "dev",
        "-o",
        "json",
    ]);
    assert_eq!(staged["copied"]["blobs_copied"], 0, "{staged}");
    assert!(
        staged["copied"]["blobs_mounted"].as_u64().unwrap() >= 2,
        "{staged}"
    );
    assert_eq!(a.skopeo_digest("stage/app", "1.0"), digest);
    home.ok(&[
        "verify",
        &format!("{}/stage/app:1.0", a.addr),
        "--key",
        &public,
    ]);

    // A BuildKit index with attestation manifests: every platform and
    // attestation manifest, the index byte for byte.
    home.ok(&[
        "promote",
        &format!("{}/shop/multi:1.0", a.addr),
        &format!("{}/prod/multi", b.addr),
        "--env",
        "dev",
    ]);
    let index_a = skopeo_raw(&format!("docker://{}/shop/multi:1.0", a.addr), &a.creds());
    let index_b = skopeo_raw(&format!("docker://{}/prod/multi:1.0", b.addr), &b.creds());
    assert_eq!(index_a, index_b);
    let index: serde_json::Value = serde_json::from_slice(&index_b).unwrap();
    for child in index["manifests"].as_array().unwrap() {
        let child = child["digest"].as_str().unwrap();
        let raw = skopeo_raw(
            &format!("docker://{}/prod/multi@{child}", b.addr),
            &b.creds(),
        );
        assert_eq!(customs_types::Digest::sha256(&raw).to_string(), child);
    }

    // Release tags are immutable; channel tags (`1.0`, `latest`) move
    // only when allowed.
    let other = format!("{}/shop/other:1.0", a.addr);
    home.ok(&[
        "promote",
        &app,
        &format!("{}/prod/app:1.0.0", b.addr),
        "--env",
        "dev",
    ]);
    home.fails(
        &[
            "promote",
            &other,
            &format!("{}/prod/app:1.0.0", b.addr),
            "--env",
            "dev",
            "--allow-mutable",
            "1.0.0",
        ],
        1,
        "release tags are immutable",
    );
    assert_eq!(b.skopeo_digest("prod/app", "1.0.0"), digest);
    home.fails(
        &[
            "promote",
            &other,
            &format!("{}/prod/app:1.0", b.addr),
            "--env",
            "dev",
        ],
        1,
        "--allow-mutable 1.0",
    );
    assert_eq!(b.skopeo_digest("prod/app", "1.0"), digest);
    home.ok(&[
        "promote",
        &app,
        &format!("{}/prod/app:latest", b.addr),
        "--env",
        "dev",
    ]);
    home.fails(
        &[
            "promote",
            &other,
            &format!("{}/prod/app:latest", b.addr),
            "--env",
            "dev",
        ],
        1,
        "--allow-mutable latest",
    );
    home.ok(&[
        "promote",
        &other,
        &format!("{}/prod/app:latest", b.addr),
        "--env",
        "dev",
        "--allow-mutable",
        "latest",
    ]);
    assert_eq!(
        b.skopeo_digest("prod/app", "latest"),
        a.skopeo_digest("shop/other", "1.0")
    );

    // A deployment manifest naming a tag: resolved through the registry,
    // recorded by digest, with a warning.
    let compose = home.path().join("compose.yaml");
    fs_err::write(&compose, format!("services:\n  shop:\n    image: {app}\n")).unwrap();
    let out = home.run(&[
        "deploy",
        "record",
        "--env",
        "staging",
        compose.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not pinned"), "{}", stderr(&out));
    let where_ = home.json(&["where", &digest, "-o", "json"]);
    assert_eq!(where_["deployments"][0]["service"], "shop", "{where_}");
    assert_eq!(where_["deployments"][0]["environment"], "staging");

    // A blocked digest is never promoted, and the gate denies it.
    home.ok(&[
        "block",
        &digest,
        "--reason",
        "INC-7: built on a compromised runner",
    ]);
    home.fails(
        &[
            "promote",
            &app,
            &format!("{}/prod/again", b.addr),
            "--env",
            "dev",
        ],
        1,
        "INC-7",
    );
    home.fails(&["gate", &app, "--env", "dev"], 1, "denied in dev");
    home.ok(&["unblock", &digest]);

    // A release bundle signed and attached next to the image.
    home.ok(&["gate", &target, "--env", "dev", "-q"]);
    let bundle = home.json(&[
        "release",
        "create",
        &target,
        "--service",
        "shop",
        "--version",
        "1.0.0",
        "--env",
        "dev",
        "-o",
        "json",
        "--attest",
        "--key",
        &key,
    ]);
    assert_eq!(
        bundle["evidence"]["signature_verified"], false,
        "dev trusts no key: {bundle}"
    );
    let listed = home.json(&["attestations", &target, "--key", &public, "-o", "json"]);
    assert!(
        listed["attached"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |a| a["predicate_type"] == "https://customs.dev/release-bundle/v1"
                    && a["state"] == "verified"
            ),
        "{listed}"
    );

    // The store remembers it all.
    let history = home.json(&["history", &digest, "-o", "json"]);
    let kinds: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "sign", "verify", "attest", "gate", "promote", "block", "unblock",
    ] {
        if kind == "sign" {
            continue; // `sign` writes to the registry; `verify` records.
        }
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(
        kinds.iter().filter(|k| **k == "promote").count() >= 3,
        "{kinds:?}"
    );
}

/// The source cuts a blob mid-way and answers 503 once; the target fails
/// an upload with 500, throttles a manifest push with 429, and refuses one
/// layer for good during the first run: that run fails with no tag at the
/// target; the second copies only what is missing and tags.
#[test]
fn promotion_under_faults_never_tags_an_incomplete_image() {
    let layout = example_dir();
    let mut blobs = std::collections::BTreeMap::new();
    for entry in fs_err::read_dir(layout.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = fs_err::read(&path).unwrap();
        blobs.insert(
            format!("sha256:{}", path.file_name().unwrap().to_string_lossy()),
            bytes,
        );
    }
    let blobs = Arc::new(blobs);
    let cut = Arc::new(std::sync::Mutex::new(
        std::collections::BTreeSet::<String>::new(),
    ));
    let source = {
        let blobs = Arc::clone(&blobs);
        let cut = Arc::clone(&cut);
        Oci11Registry::start_with_faults(move |request| {
            let path = request.path.split('?').next().unwrap_or_default();
            let digest = path.rsplit('/').next().unwrap_or_default().to_owned();
            if request.method == "GET" && path.contains("/blobs/sha256:") {
                let first = cut.lock().unwrap().insert(digest.clone());
                if first && let Some(bytes) = blobs.get(&digest) {
                    if bytes.len() > 64 {
                        // The connection is cut half way through.
                        return Some(Reply::new(200, bytes.clone()).truncated_to(bytes.len() / 2));
                    }
                    return Some(Reply::new(503, "busy"));
                }
            }
            None
        })
    };
    let manifest = source.load_layout(&layout, "shop/app", "1.0");
    let index: serde_json::Value = serde_json::from_slice(blobs.get(&manifest).unwrap()).unwrap();
    let broken_layer = index["layers"][0]["digest"].as_str().unwrap().to_owned();
    let broken = Arc::new(AtomicBool::new(true));
    let uploads = Arc::new(AtomicUsize::new(0));
    let failed_once = Arc::new(AtomicBool::new(false));
    let throttled = Arc::new(AtomicBool::new(false));
    let target = {
        let broken = Arc::clone(&broken);
        let uploads = Arc::clone(&uploads);
        let failed_once = Arc::clone(&failed_once);
        let throttled = Arc::clone(&throttled);
        let broken_layer = broken_layer.clone();
        Oci11Registry::start_with_faults(move |request| {
            if request.method == "PUT" && request.path.contains("/blobs/uploads/") {
                if broken.load(Ordering::SeqCst) && request.path.contains(&broken_layer) {
                    return Some(Reply::new(500, "disk full").header("Retry-After", "0"));
                }
                if !failed_once.swap(true, Ordering::SeqCst) {
                    return Some(Reply::new(500, "try again").header("Retry-After", "0"));
                }
                uploads.fetch_add(1, Ordering::SeqCst);
            }
            if request.method == "PUT"
                && request.path.contains("/manifests/")
                && !throttled.swap(true, Ordering::SeqCst)
            {
                return Some(Reply::new(429, "slow down").header("Retry-After", "0"));
            }
            None
        })
    };
    let home = Home::new(&[]);
    let from = format!("{}/shop/app:1.0", source.addr);
    let to = format!("{}/prod/app", target.addr);
    // Gated first (its reads are cut too, and retried); then every blob's
    // next read is cut again, and the promotions below, reusing the
    // decision with nothing in customs's blob cache, stream each blob from
    // the source to the target.
    home.ok(&["gate", &from, "--env", "dev", "-q"]);
    cut.lock().unwrap().clear();
    let empty_cache = home.path().join("empty-cache");
    let promote = |home: &Home| {
        customs(home.path())
            .env("CUSTOMS_CACHE_DIR", &empty_cache)
            .args(["promote", &from, &to, "--env", "dev", "-o", "json"])
            .output()
            .unwrap()
    };
    let out = promote(&home);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no tag was written"),
        "{}",
        stderr(&out)
    );
    assert!(!target.has_manifest("prod/app", "1.0"));
    assert!(!target.has_manifest("prod/app", &manifest));

    broken.store(false, Ordering::SeqCst);
    let before = uploads.load(Ordering::SeqCst);
    let out = promote(&home);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision_reused"], true, "{v}");
    assert_eq!(
        v["copied"]["blobs_copied"], 1,
        "only the missing layer: {v}"
    );
    assert!(v["copied"]["blobs_present"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(uploads.load(Ordering::SeqCst) - before, 1);
    assert!(target.has_manifest("prod/app", "1.0"));
    assert_eq!(v["digest"], manifest);
    assert!(throttled.load(Ordering::SeqCst));
}

/// The same ledger questions on SQLite and on PostgreSQL: records, where,
/// who-has, affected, rescan, deploy verify with drift, blocks, releases.
#[test]
fn the_ledger_answers_the_same_on_sqlite_and_postgresql() {
    let server = Postgres::start();
    for database in [None, Some(server.database())] {
        let mut home = Home::new(&[]);
        home.database = database.clone();
        let example = example_ref();
        home.ok(&["scan", &example, "-q"]);
        let digest = home.ok(&["digest", &example]).trim().to_owned();
        home.ok(&["gate", &example, "--env", "dev", "-q"]);
        let pinned = format!("registry.example/shop/app@{digest}");
        let manifest = home.path().join("k8s.yaml");
        fs_err::write(
            &manifest,
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n  namespace: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {pinned}\n"
            ),
        )
        .unwrap();
        home.ok(&[
            "deploy",
            "record",
            "--env",
            "prod",
            "--cluster",
            "eu-1",
            manifest.to_str().unwrap(),
        ]);
        let list = home.json(&["deploy", "list", "--env", "prod", "-o", "json"]);
        assert_eq!(list[0]["service"], "shop", "{list}");
        assert_eq!(list[0]["namespace"], "web");
        let where_ = home.json(&["where", &digest, "-o", "json"]);
        assert_eq!(where_["deployments"][0]["environment"], "prod", "{where_}");
        assert!(where_["deployments"][0].get("until").is_none());

        let holders = home.json(&[
            "who-has",
            "zlib1g@<1:1.2.13.dfsg-2",
            "--deployed",
            "-o",
            "json",
        ]);
        assert_eq!(holders[0]["digest"], digest, "{holders}");
        assert_eq!(holders[0]["deployments"][0]["service"], "shop");
        assert_eq!(
            home.json(&["who-has", "zlib1g@>=1:1.2.13.dfsg-2", "-o", "json"]),
            serde_json::json!([])
        );

        let out = home.run(&[
            "affected",
            "CVE-2023-45853",
            "GHSA-p6mc-m468-83gw",
            "-o",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "a running digest is affected");
        let affected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(affected[0]["images"][0]["package"], "zlib1g", "{affected}");
        assert_eq!(affected[1]["images"][0]["fixed"], "4.17.19");
        assert_eq!(
            affected[1]["images"][0]["deployments"][0]["environment"],
            "prod"
        );

        let rescan = home.json(&["rescan", "--deployed", "-o", "json"]);
        assert_eq!(rescan[0]["new"], serde_json::json!([]), "{rescan}");
        assert!(rescan[0]["findings"].as_u64().unwrap() > 10);
        // A new advisory arrives: the rescan says what is new (exit 1),
        // `affected` finds the running digest, and no image was pulled.
        let newer = home.path().join("newer");
        fs_err::create_dir_all(&newer).unwrap();
        fs_err::write(
            newer.join("TEST-2099-0002.json"),
            serde_json::json!({
                "id": "TEST-2099-0002",
                "modified": "2026-12-01T00:00:00Z",
                "affected": [{
                    "package": {"ecosystem": "Debian:12", "name": "zlib"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-9"}]}]
                }]
            })
            .to_string(),
        )
        .unwrap();
        let advisories = example_dir().parent().unwrap().join("advisories");
        home.ok(&[
            "db",
            "import",
            advisories.to_str().unwrap(),
            newer.to_str().unwrap(),
        ]);
        let out = home.run(&["rescan", "--deployed", "-o", "json"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let rescan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            rescan[0]["new"],
            serde_json::json!(["TEST-2099-0002 zlib1g@1:1.2.13.dfsg-1"]),
            "{rescan}"
        );
        let again = home.json(&["rescan", "--deployed", "-o", "json"]);
        assert_eq!(again[0]["new"], serde_json::json!([]), "recorded: {again}");
        let out = home.run(&["affected", "TEST-2099-0002", "-o", "json"]);
        assert_eq!(out.status.code(), Some(1));
        let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(found[0]["images"][0]["package"], "zlib1g", "{found}");
        assert_eq!(found[0]["images"][0]["fixed"], "1:1.2.13.dfsg-9");

        // What the cluster says: one pod on the recorded digest, one on
        // another (a tag pulled later on another node).
        let other = format!("sha256:{}", "b".repeat(64));
        let pods = serde_json::json!({"kind": "List", "items": [
            {"metadata": {"name": "shop-7d9-a", "namespace": "web", "labels": {"app": "shop"}},
             "spec": {"nodeName": "n1", "containers": [{"name": "app"}]},
             "status": {"containerStatuses": [{"name": "app", "image": "registry.example/shop/app:1.0",
               "imageID": format!("docker-pullable://registry.example/shop/app@{digest}")}]}},
            {"metadata": {"name": "shop-7d9-b", "namespace": "web", "labels": {"app": "shop"}},
             "spec": {"nodeName": "n2", "containers": [{"name": "app"}]},
             "status": {"containerStatuses": [{"name": "app", "image": "registry.example/shop/app:1.0",
               "imageID": format!("docker-pullable://registry.example/shop/app@{other}")}]}}
        ]});
        let pods_file = home.path().join("pods.json");
        fs_err::write(&pods_file, pods.to_string()).unwrap();
        let out = home.run(&[
            "deploy",
            "verify",
            "--env",
            "prod",
            pods_file.to_str().unwrap(),
            "-o",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let problems: Vec<&str> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["problem"].as_str().unwrap())
            .collect();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("the recorded deployment is")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("2 different digests")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("never gated for prod")),
            "{problems:?}"
        );

        home.ok(&[
            "block",
            &digest[..20],
            "--reason",
            "INC-9",
            "--until",
            "2099-01-01",
        ]);
        home.fails(&["where", "--blocked"], 1, "");
        home.fails(&["gate", &example, "--env", "dev"], 1, "denied in dev");
        home.ok(&["unblock", &digest]);

        // A release bundle, read back, its file extracted and checked.
        let dockerfile = home.path().join("Dockerfile");
        fs_err::write(&dockerfile, "FROM debian:12\n").unwrap();
        let bundle = home.json(&[
            "release",
            "create",
            &example,
            "--service",
            "shop",
            "--version",
            "1.4.2",
            "--env",
            "dev",
            "--file",
            dockerfile.to_str().unwrap(),
            "-o",
            "json",
        ]);
        assert_eq!(bundle["image"]["digest"], digest, "{bundle}");
        assert_eq!(bundle["evidence"]["sbom_present"], true);
        assert_eq!(bundle["approver"], "ci:test");
        let extract = home.path().join("extracted");
        let shown = home.json(&[
            "release",
            "show",
            "shop",
            "1.4.2",
            "-o",
            "json",
            "--extract",
            extract.to_str().unwrap(),
        ]);
        assert_eq!(shown, bundle);
        assert_eq!(
            fs_err::read_to_string(extract.join("Dockerfile")).unwrap(),
            "FROM debian:12\n"
        );
        home.fails(
            &[
                "release",
                "create",
                &example,
                "--service",
                "shop",
                "--version",
                "1",
                "--env",
                "prod",
            ],
            2,
            "customs gate",
        );

        let check = home.json(&["store", "check", "-o", "json"]);
        assert_eq!(check["problems"], serde_json::json!([]), "{check}");
        assert!(check["documents"].as_u64().unwrap() >= 3);

        // Bad input: an unknown digest, an ambiguous prefix, nothing written.
        home.fails(
            &["where", &format!("sha256:{}", "c".repeat(64))],
            2,
            "knows nothing about",
        );
        home.fails(&["history", "deadbeefdeadbeef"], 2, "knows no image");
        home.fails(&["who-has", "x@<"], 2, "has no version");
        let info = home.json(&["store", "info", "-o", "json"]);
        assert_eq!(info["schema_version"], customs_store::SCHEMA_VERSION);
        assert_eq!(
            info["backend"],
            if database.is_some() {
                "postgres"
            } else {
                "sqlite"
            }
        );
    }
}

/// Two processes recording at once lose nothing; a process killed with
/// SIGKILL in the middle of recording a large SBOM leaves the store
/// consistent (no half record) — on SQLite and on PostgreSQL.
#[test]
fn concurrent_processes_and_kill_9_leave_the_store_consistent() {
    let server = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    // An image with 20,000 Debian packages: recording its SBOM is one long
    // transaction.
    let mut status = String::new();
    for n in 0..20_000 {
        status.push_str(&format!(
            "Package: pkg{n}\nStatus: install ok installed\nVersion: 1.{n}-1\nArchitecture: amd64\n\n"
        ));
    }
    let big = dir.path().join("big");
    customs_test::ImageBuilder::new()
        .layer(
            customs_test::LayerBuilder::new()
                .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .file("var/lib/dpkg/status", &status),
        )
        .build()
        .write_oci_layout(&big, Some("1"));
    let big_ref = format!("oci:{}:1", big.display());
    for database in [None, Some(server.database())] {
        let mut home = Home::new(&[]);
        home.database = database.clone();
        // Concurrent writers: two processes at a time, ten deployments each.
        let digest = format!("sha256:{}", "d".repeat(64));
        let children: Vec<_> = ["a", "b"]
            .iter()
            .map(|who| {
                let services: Vec<String> = (0..10).map(|n| format!("{who}{n}")).collect();
                let home_path = home.path().to_path_buf();
                let url = home.database.clone();
                let digest = digest.clone();
                std::thread::spawn(move || {
                    for service in services {
                        let mut cmd = customs(&home_path);
                        if let Some(url) = &url {
                            cmd.env("CUSTOMS_DATABASE_URL", url);
                        }
                        let out = cmd
                            .args([
                                "deploy",
                                "record",
                                "--env",
                                "load",
                                "--service",
                                &service,
                                &format!("r.example/app@{digest}"),
                                "-q",
                            ])
                            .output()
                            .unwrap();
                        assert!(out.status.success(), "{}", stderr(&out));
                    }
                })
            })
            .collect();
        for child in children {
            child.join().unwrap();
        }
        let list = home.json(&["deploy", "list", "--env", "load", "-o", "json"]);
        assert_eq!(list.as_array().unwrap().len(), 20);

        // How long a whole run takes, then kills at points through it.
        let started = std::time::Instant::now();
        home.ok(&[
            "sbom",
            &big_ref,
            "-q",
            "-o",
            "json=/dev/null",
            "--no-record",
        ]);
        let walk = started.elapsed();
        for tenth in 1..=9u32 {
            let mut cmd =
                customs_test::isolated(assert_cmd::cargo::cargo_bin("customs"), home.path());
            if let Some(url) = &home.database {
                cmd.env("CUSTOMS_DATABASE_URL", url);
            }
            let mut child = cmd
                .args(["sbom", &big_ref, "-q", "-o", "json=/dev/null"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(walk.mul_f64(1.0 + f64::from(tenth) / 10.0));
            let _ = std::process::Command::new("kill")
                .args(["-9", &child.id().to_string()])
                .status();
            let _ = child.wait();
            let check = home.json(&["store", "check", "-o", "json"]);
            assert_eq!(
                check["problems"],
                serde_json::json!([]),
                "after kill {tenth}: {check}"
            );
        }
        home.ok(&["sbom", &big_ref, "-q", "-o", "json=/dev/null"]);
        let check = home.json(&["store", "check", "-o", "json"]);
        assert_eq!(check["problems"], serde_json::json!([]), "{check}");
        assert!(check["sboms"].as_u64().unwrap() >= 1, "{check}");
        let holders = home.json(&["who-has", "pkg19999", "-o", "json"]);
        assert_eq!(holders.as_array().unwrap().len(), 1, "{holders}");
    }
}

/// Bad input to the ledger: an unreachable PostgreSQL (named, its password
/// never printed, nothing done), a database from a newer customs, an
/// ambiguous tag; `--no-record` writes nothing; `diff` of two images.
#[test]
fn ledger_bad_input_no_record_and_diff() {
    let home = Home::new(&[]);
    let example = example_ref();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://alice:hunter2@127.0.0.1:{port}/customs");
    let out = home.run(&["scan", &example, "-q", "--database", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "nothing is scanned before the store is reachable"
    );
    assert!(
        stderr(&out).contains(&format!("postgres://alice:***@127.0.0.1:{port}/customs")),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("hunter2"));
    home.fails(
        &["history", "x", "--database", "mysql://h/d"],
        2,
        "not a database URL",
    );

    home.ok(&["scan", &example, "-q", "--no-record"]);
    let info = home.json(&["store", "info", "-o", "json"]);
    assert_eq!(info["images"], 0, "{info}");

    // A store from a newer customs: refused, named, untouched.
    home.ok(&["scan", &example, "-q"]);
    let db = home.path().join(".local/share/customs/customs.db");
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (7, 'future', 1, x'00', 0)\"); c.commit()")
        .arg(&db)
        .status()
        .unwrap();
    assert!(status.success());
    let before = fs_err::read(&db).unwrap().len();
    home.fails(
        &["scan", &example, "-q"],
        2,
        &format!(
            "schema version 7, newer than this customs knows ({})",
            customs_store::SCHEMA_VERSION
        ),
    );
    assert_eq!(fs_err::read(&db).unwrap().len(), before);

    // diff: the example against another image.
    let fresh = Home::new(&[]);
    let v = fresh.json(&[
        "diff",
        &example,
        &docker_attest("unsigned-image"),
        "-o",
        "json",
        "--no-record",
    ]);
    assert!(
        v["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "openssl"),
        "{v}"
    );
    assert!(v["added"].as_array().unwrap().len() + v["removed"].as_array().unwrap().len() > 5);
    assert_eq!(v["vulnerabilities_compared"], true);
    assert!(!v["fixed"].as_array().unwrap().is_empty(), "{v}");
    let password = v["config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[0] == "env DB_PASSWORD")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        password[1], "[redacted]",
        "a secret's value is never shown: {v}"
    );
    let table = fresh.ok(&["diff", &example, &example, "--no-record"]);
    assert!(table.contains("0 added, 0 removed, 0 changed"), "{table}");
}
