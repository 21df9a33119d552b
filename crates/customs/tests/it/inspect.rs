//! `customs inspect` and `customs digest` on every local source form.

use predicates::prelude::*;

use crate::common::{customs, example_ref, stderr, stdout};
use customs_test::{ImageBuilder, LayerBuilder, write_index_layout};

#[test]
fn inspect_table_of_the_example() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["inspect", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out).replace(&example_ref(), "[EXAMPLE]");
    insta::assert_snapshot!(text);
}

#[test]
fn inspect_json_is_stable_and_redacted() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["inspect", "-o", "json", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        !text.contains("example-fake-password"),
        "a secret leaked into inspect output"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "customs.inspect/v1");
    assert_eq!(
        v["digest"],
        customs_test::example_image()
            .build()
            .manifest_digest
            .as_str()
    );
    assert_eq!(v["index_digest"], serde_json::Value::Null);
    assert_eq!(v["platform"], "linux/amd64");
    assert_eq!(v["config"]["runs_as_root"], true);
    assert_eq!(v["config"]["env"][2], "DB_PASSWORD=[redacted]");
    assert_eq!(v["config"]["exposed_ports"][0], "8080/tcp");
    assert_eq!(v["base_image"]["name"], "docker.io/library/debian:12");
    assert_eq!(v["layers"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["layers"][3]["created_by"],
        "RUN /bin/sh -c rm /app/.env # buildkit"
    );
    assert_eq!(v["history"].as_array().unwrap().len(), 5);
    assert_eq!(v["history"][4]["empty_layer"], true);
    let layer_total: u64 = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    assert_eq!(v["total_size"], layer_total);
}

#[test]
fn history_build_args_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    ImageBuilder::new()
        .layer(LayerBuilder::new().file("a", "a").created_by(
            "RUN |1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c npm ci",
        ))
        .config_field(
            "Env",
            serde_json::json!([
                "GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
                "URL=https://bob:hunter2@example.com/x"
            ]),
        )
        .build()
        .write_oci_layout(&dir.path().join("l"), None);
    let out = customs(dir.path())
        .args([
            "inspect",
            "-o",
            "json",
            &format!("oci:{}", dir.path().join("l").display()),
        ])
        .output()
        .unwrap();
    let text = stdout(&out);
    for secret in ["npm_abcdefghij", "ghp_0123456789", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    assert!(
        text.contains("https://bob:[redacted]@example.com/x"),
        "{text}"
    );
}

#[test]
fn multi_platform_digests_and_platform_errors() {
    let dir = tempfile::tempdir().unwrap();
    let amd = ImageBuilder::new()
        .layer(LayerBuilder::new().file("a", "a"))
        .build();
    let arm = ImageBuilder::new()
        .platform("linux", "arm64", Some("v8"))
        .layer(LayerBuilder::new().file("b", "b"))
        .build();
    let index = write_index_layout(&dir.path().join("m"), &[&amd, &arm], None);
    let reference = format!("oci:{}", dir.path().join("m").display());
    customs(dir.path())
        .args(["digest", &reference, "--platform", "linux/arm64"])
        .assert()
        .success()
        .stdout(format!("{}\n", arm.manifest_digest));
    customs(dir.path())
        .args(["digest", &reference, "--platform", "linux/amd64", "--index"])
        .assert()
        .success()
        .stdout(format!("{index}\n"));
    customs(dir.path())
        .args(["digest", &reference, "--platform", "windows/amd64"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no image for platform windows/amd64 (available: linux/amd64, linux/arm64/v8)",
        ))
        .stderr(predicate::str::contains(
            "hint: choose one of the available platforms with --platform",
        ));
    let out = customs(dir.path())
        .args(["inspect", &reference, "--platform", "linux/arm64"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains(&format!("Index digest  {index}")), "{text}");
    assert!(
        text.contains("Platforms     linux/amd64, linux/arm64/v8"),
        "{text}"
    );
}

#[test]
fn single_image_has_no_index_digest() {
    let home = tempfile::tempdir().unwrap();
    customs(home.path())
        .args(["digest", "--index", &example_ref()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is a single-platform image: it has no index digest",
        ));
}

#[test]
fn docker_archive_digest_matches_skopeo() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.tar");
    customs_test::example_image()
        .build()
        .write_docker_archive(&file, &["example/hello:1"], true);
    let reference = format!("docker-archive:{}", file.display());
    let out = customs(dir.path())
        .args(["digest", &reference])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out).trim(),
        customs_test::registry::skopeo_digest(&reference, None)
    );
}

#[test]
fn bad_references_and_inputs_are_errors_with_exit_code_2() {
    let home = tempfile::tempdir().unwrap();
    customs(home.path())
        .args(["digest", "Not/Valid"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: invalid image reference `Not/Valid`",
        ));
    customs(home.path())
        .args(["digest", "oci:/nonexistent"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: /nonexistent: does not exist",
        ));
    customs(home.path())
        .args(["digest", &format!("dir:{}", home.path().display())])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no manifest and so no digest"));
    customs(home.path())
        .args(["digest", &example_ref(), "--platform", "linux"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid platform `linux`"));
    customs(home.path()).args(["digest"]).assert().code(2);
    customs(home.path())
        .args(["--version"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("customs "));
}

#[test]
fn a_tampered_config_is_an_integrity_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let built = customs_test::example_image().build();
    let layout = dir.path().join("l");
    built.write_oci_layout(&layout, None);
    let mut config = built.config.clone();
    config[20] ^= 1;
    fs_err::write(
        layout.join("blobs/sha256").join(built.config_digest.hex()),
        config,
    )
    .unwrap();
    customs(dir.path())
        .args(["inspect", &format!("oci:{}", layout.display())])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("digest mismatch"))
        .stderr(predicate::str::contains(
            "hint: the image content does not match its digests",
        ));
}
