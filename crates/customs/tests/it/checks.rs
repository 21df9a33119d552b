//! `customs secrets`, `customs lint` and `customs pin` end to end: planted
//! secrets in every layer (one deleted, one overwritten, one in a binary,
//! one shipped by a distro package), allow-lists, image-config signals,
//! Dockerfile and manifest lint, SARIF validity, and pinning against a real
//! registry.

use std::path::Path;

use md5::Digest as _;
use serde_json::Value;

use crate::common::{customs, example_dir, example_ref, stderr, stdout};
use customs_test::registry::TestRegistry;
use customs_test::{ImageBuilder, LayerBuilder};

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn rules(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

/// Token-shaped fakes, assembled at run time.
fn fake_github_token() -> String {
    format!("ghp_{}", "Zq8Xw2Lm4Np6Rt0Yv3Bc5Dh7Fj9Gk1Hs2Jd4")
}

fn planted_image() -> ImageBuilder {
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";
    let packaged_pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    let md5: String = md5::Md5::digest(packaged_pem.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .created_by("ADD rootfs.tar /")
                .file(
                    "var/lib/dpkg/info/python3-testkeys.md5sums",
                    format!("{md5}  usr/share/doc/python3-testkeys/test.pem\n"),
                )
                .file("usr/share/doc/python3-testkeys/test.pem", packaged_pem)
                // The same bytes, but somewhere no package put them.
                .file("opt/app/key.pem", packaged_pem),
        )
        .layer(
            LayerBuilder::new()
                .created_by("COPY . /app")
                .file("root/.ssh/id_ed25519", pem)
                .file(
                    "app/config.env",
                    format!("GITHUB_TOKEN={}\n", fake_github_token()),
                )
                .file_mode(
                    "app/bin/tool",
                    b"\x7fELF\0\0\0 AKIAIOSFODNN7EXAMPLQ in a binary",
                    0o755,
                ),
        )
        .layer(
            LayerBuilder::new()
                .created_by("RUN rm /root/.ssh/id_ed25519 && echo > /app/config.env")
                .whiteout("root/.ssh/id_ed25519")
                .file("app/config.env", "GITHUB_TOKEN=\n"),
        )
        .config_field(
            "Env",
            serde_json::json!(["PATH=/usr/bin", "API_TOKEN=Qm9sZDJ4LmZha2U5NzQx"]),
        )
        .config_field("User", serde_json::json!("10001"))
}

fn layout(dir: &Path, image: &ImageBuilder) -> String {
    image.build().write_oci_layout(&dir.join("img"), None);
    format!("oci:{}", dir.join("img").display())
}

#[test]
fn secrets_in_every_layer_with_their_fate() {
    let dir = tempfile::tempdir().unwrap();
    let reference = layout(dir.path(), &planted_image());
    let out = customs(dir.path())
        .args(["secrets", "-o", "json", &reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains(&fake_github_token()),
        "a secret was printed whole"
    );
    assert!(
        !text.contains("Qm9sZDJ4LmZha2U5NzQx"),
        "a secret was printed whole"
    );
    let doc = json(&out);
    assert_eq!(doc["schema"], "customs.checks/v1");
    let findings = doc["findings"].as_array().unwrap();
    let find = |rule: &str, path: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == rule && f["location"]["path"] == path)
            .unwrap_or_else(|| panic!("{rule} at {path} missing: {findings:#?}"))
    };
    let key = find("private-key-openssh", "/root/.ssh/id_ed25519");
    assert_eq!(key["location"]["layer"], 1);
    assert_eq!(key["location"]["fate"], "deleted in layer 3");
    assert!(
        key["title"]
            .as_str()
            .unwrap()
            .contains("still in the image")
    );
    let token = find("github-pat", "/app/config.env");
    assert_eq!(token["location"]["fate"], "overwritten in layer 3");
    assert_eq!(token["location"]["line"], 1);
    assert_eq!(token["evidence"], "GITHUB_TOKEN=ghp_…(40)");
    assert!(
        token["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // The same key bytes where no package put them: reported.
    find("private-key-pkcs8", "/opt/app/key.pem");
    let env = find("generic-secret-assignment", "image config");
    assert_eq!(env["location"]["field"], "Env API_TOKEN");
    // Shipped unchanged by a distro package: counted, listed apart.
    assert!(
        !findings
            .iter()
            .any(|f| f["location"]["path"] == "/usr/share/doc/python3-testkeys/test.pem")
    );
    assert_eq!(
        doc["notes"]["findings in files installed unchanged by distro packages"],
        1
    );
    assert_eq!(doc["notes"]["binary files skipped"], 1);
    assert!(
        stderr(&out).contains("--include-packaged"),
        "{}",
        stderr(&out)
    );
    let out = customs(dir.path())
        .args([
            "secrets",
            "-q",
            "-o",
            "json",
            "--include-packaged",
            &reference,
        ])
        .output()
        .unwrap();
    let doc = json(&out);
    let packaged = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"] == "/usr/share/doc/python3-testkeys/test.pem")
        .unwrap();
    assert!(
        packaged["title"]
            .as_str()
            .unwrap()
            .contains("distro package python3-testkeys")
    );
}

#[test]
fn allow_list_fail_on_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let reference = layout(dir.path(), &planted_image());
    let first = json(
        &customs(dir.path())
            .args(["secrets", "-q", "-o", "json", &reference])
            .output()
            .unwrap(),
    );
    let fingerprint = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "github-pat")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = dir.path().join("customs.toml");
    fs_err::write(
        &config,
        format!("[[secrets.allow]]\nfingerprint = \"{fingerprint}\"\nreason = \"rotated\"\n\n[[secrets.allow]]\nrule = \"private-key-pkcs8\"\npath = \"/opt/**\"\n"),
    )
    .unwrap();
    let sarif = dir.path().join("s.sarif");
    let out = customs(dir.path())
        .args(["secrets", "-q", "--fail-on", "high", "--config"])
        .arg(&config)
        .arg("-o")
        .arg(format!("sarif={}", sarif.display()))
        .args(["-o", "json", &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let rules = rules(&doc);
    assert!(
        !rules.contains(&"github-pat".to_owned())
            && !rules.contains(&"private-key-pkcs8".to_owned()),
        "{rules:?}"
    );
    assert_eq!(doc["notes"]["findings allowed by --config"], 2);
    let bytes = fs_err::read(&sarif).unwrap();
    customs_test::schema::assert_valid("sarif-2.1.0-rtm.5.json", &bytes);
    let log: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        log["runs"][0]["results"].as_array().unwrap().len(),
        doc["findings"].as_array().unwrap().len()
    );

    let bad = dir.path().join("bad.toml");
    fs_err::write(&bad, "[[secrets.allow]]\nrule = \"no-such-rule\"\n").unwrap();
    let out = customs(dir.path())
        .args(["secrets", "--config"])
        .arg(&bad)
        .arg(&reference)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("allow-list entry 1: unknown rule `no-such-rule`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn secrets_of_the_example_image_in_a_table() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["secrets", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("aws-access-key-id") && text.contains("[layer 3, deleted in layer 4]"),
        "{text}"
    );
    assert!(
        !text.contains("AKIAEXAMPLEFAKEKEY01")
            && !text.contains("fakeSecretKeyForTheCustomsExample"),
        "{text}"
    );
    assert!(text.contains("3 findings: 1 critical, 2 high"), "{text}");
}

#[test]
fn lint_an_image_configuration() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["lint", "-q", "-o", "json", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    let mut rules = rules(&doc);
    rules.sort();
    assert_eq!(
        rules,
        [
            "image-missing-oci-label",
            "image-missing-oci-label",
            "image-no-healthcheck",
            "image-runs-as-root",
            "image-secret-in-env"
        ]
    );
    let text = stdout(&out);
    assert!(!text.contains("example-fake-password"), "{text}");
    // --fail-on and a growth comparison against a smaller image.
    let dir = tempfile::tempdir().unwrap();
    let small = layout(
        dir.path(),
        &ImageBuilder::new()
            .layer(LayerBuilder::new().file("etc/os-release", "ID=debian\nVERSION_ID=12\n")),
    );
    let out = customs(home.path())
        .args([
            "lint",
            "-q",
            "-o",
            "json",
            "--fail-on",
            "high",
            "--compare",
            &small,
            &example_ref(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let growth = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "image-size-growth")
        .unwrap();
    assert!(
        growth["evidence"]
            .as_str()
            .unwrap()
            .starts_with("layers 1 → 4; packages +15"),
        "{growth}"
    );
}

#[test]
fn lint_files_dockerfiles_and_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = dir.path().join("Dockerfile");
    fs_err::write(
        &dockerfile,
        "FROM node\nRUN curl -sL https://deb.example/setup | bash -\nRUN npm install\nCOPY . .\n",
    )
    .unwrap();
    let compose = dir.path().join("compose.yaml");
    fs_err::write(
        &compose,
        "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n",
    )
    .unwrap();
    let out = customs(dir.path())
        .arg("lint")
        .arg(&dockerfile)
        .arg(&compose)
        .args(["--env", "prod", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    let findings = doc["findings"].as_array().unwrap();
    let at = |rule: &str| {
        let f = findings
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {findings:#?}"));
        (
            f["location"]["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned(),
            f["location"]["line"].as_u64().unwrap(),
            f["severity"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        at("dockerfile-curl-pipe-shell"),
        ("Dockerfile".to_owned(), 2, "high".to_owned())
    );
    assert_eq!(at("dockerfile-npm-install").1, 3);
    assert_eq!(
        at("manifest-privileged"),
        ("compose.yaml".to_owned(), 4, "high".to_owned())
    );
    assert_eq!(
        at("manifest-image-not-pinned"),
        ("compose.yaml".to_owned(), 3, "high".to_owned()),
        "an error for prod"
    );

    // Output is SARIF-valid with file:line locations.
    let out = customs(dir.path())
        .arg("lint")
        .arg(&dockerfile)
        .args(["-o", "sarif"])
        .output()
        .unwrap();
    customs_test::schema::assert_valid("sarif-2.1.0-rtm.5.json", &out.stdout);

    // Invalid input: an error with the line, exit 2, nothing on stdout.
    let broken = dir.path().join("k8s.yaml");
    fs_err::write(&broken, "apiVersion: v1\nkind: Pod\nspec: [\n").unwrap();
    let out = customs(dir.path())
        .arg("lint")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("k8s.yaml:4:"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let bad = dir.path().join("Dockerfile.bad");
    fs_err::write(&bad, "FROM debian:12\nCOPY\n").unwrap();
    let out = customs(dir.path()).arg("lint").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Dockerfile.bad:2:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn pin_references_through_a_real_registry() {
    let registry = TestRegistry::start();
    registry.push(
        &format!("oci:{}:latest", example_dir().display()),
        "examples/hello",
        "1.0",
        None,
    );
    let digest = registry.skopeo_digest("examples/hello", "1.0");
    let dir = tempfile::tempdir().unwrap();
    let image = format!("{}/examples/hello:1.0", registry.addr);
    // Issue 14 (hostile 6): `pin --write` made files 0600, replaced
    // symlinks by regular files and broke hard links. The Dockerfile here
    // is a symlink, the compose file 0640 with a second hard link.
    let dockerfile = dir.path().join("Dockerfile");
    let real_dockerfile = dir.path().join("build.Dockerfile");
    let dockerfile_text = format!("# build\nFROM {image} AS base\nRUN echo hi\nFROM base\n");
    fs_err::write(&real_dockerfile, &dockerfile_text).unwrap();
    std::os::unix::fs::symlink("build.Dockerfile", &dockerfile).unwrap();
    let compose = dir.path().join("compose.yaml");
    let compose_text = format!(
        "services:\n  app:\n    image: \"{image}\"  # pinned by customs\n    ports: [\"8080:8080\"]\n"
    );
    fs_err::write(&compose, &compose_text).unwrap();
    fs_err::set_permissions(
        &compose,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let compose_link = dir.path().join("compose.link.yaml");
    fs_err::hard_link(&compose, &compose_link).unwrap();

    let check = |expect: i32| {
        let out = customs(dir.path())
            .arg("pin")
            .arg("--check")
            .arg(&dockerfile)
            .arg(&compose)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    };
    let out = check(1);
    assert!(stdout(&out).contains("Dockerfile:2:"), "{}", stdout(&out));

    let out = customs(dir.path())
        .arg("pin")
        .arg("--write")
        .args(["--username", &registry.user, "--password-stdin"])
        .write_stdin(registry.password.clone())
        .arg(&dockerfile)
        .arg(&compose)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pinned = format!("{image}@{digest}");
    assert_eq!(
        fs_err::read_to_string(&dockerfile).unwrap(),
        dockerfile_text.replace(&format!("FROM {image} AS"), &format!("FROM {pinned} AS")),
        "only the reference changed"
    );
    assert_eq!(
        fs_err::read_to_string(&compose).unwrap(),
        compose_text.replace(&format!("\"{image}\""), &format!("\"{pinned}\"")),
        "formatting and comments kept"
    );
    assert!(
        fs_err::symlink_metadata(&dockerfile)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs_err::read_to_string(&real_dockerfile)
            .unwrap()
            .contains(&pinned)
    );
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&fs_err::metadata(&compose).unwrap().permissions())
            & 0o777,
        0o640
    );
    assert_eq!(
        fs_err::read_to_string(&compose_link).unwrap(),
        fs_err::read_to_string(&compose).unwrap(),
        "the hard link still names the same file"
    );
    check(0);
    // Idempotent: a second run changes nothing and needs no registry.
    let before = fs_err::read_to_string(&compose).unwrap();
    let out = customs(dir.path())
        .arg("pin")
        .arg("--write")
        .arg(&compose)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs_err::read_to_string(&compose).unwrap(), before);
}
