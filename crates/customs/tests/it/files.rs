//! `customs files`: the squashed view, every layer with fates, and totals.

use predicates::prelude::*;

use crate::common::{customs, example_ref, stdout};

#[test]
fn squashed_view_hides_the_deleted_secret() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["files", "-o", "json", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let files: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"/var/lib/dpkg/status"));
    assert!(!paths.contains(&"/app/.env"));
    let status = files
        .iter()
        .find(|f| f["path"] == "/var/lib/dpkg/status")
        .unwrap();
    assert_eq!(status["layer"], 1);
    let sh = files.iter().find(|f| f["path"] == "/bin/sh").unwrap();
    assert_eq!(
        (sh["kind"].as_str(), sh["link_target"].as_str()),
        (Some("symlink"), Some("dash"))
    );
}

#[test]
fn all_layers_says_where_the_secret_went() {
    let home = tempfile::tempdir().unwrap();
    customs(home.path())
        .args(["files", "--all-layers", &example_ref()])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"3\s+-rw-r--r--\s+\d+\s+/app/\.env\s+deleted in layer 4")
                .unwrap(),
        )
        .stdout(predicate::str::is_match(r"4\s+whiteout\s+/app/\.env\s+deletes").unwrap());
}

#[test]
fn summary_counts_layers_and_fates() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["files", "--summary", "-o", "json", &example_ref()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["layers"].as_array().unwrap().len(), 4);
    assert_eq!(v["deleted"], 1);
    assert_eq!(v["layers"][3]["whiteouts"], 1);
}

#[test]
fn walks_an_unpacked_rootfs() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(dir.path().join("rootfs/etc")).unwrap();
    fs_err::write(dir.path().join("rootfs/etc/os-release"), "ID=debian\n").unwrap();
    customs(dir.path())
        .args([
            "files",
            &format!("dir:{}", dir.path().join("rootfs").display()),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("/etc/os-release"));
}

#[test]
fn a_truncated_layer_fails_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let built = customs_test::example_image().build();
    let layout = dir.path().join("l");
    built.write_oci_layout(&layout, None);
    let (digest, blob, _) = &built.layers[0];
    fs_err::write(
        layout.join("blobs/sha256").join(digest.hex()),
        &blob[..blob.len() / 2],
    )
    .unwrap();
    customs(dir.path())
        .args(["files", &format!("oci:{}", layout.display())])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("error: cannot read layer 1")
                .or(predicate::str::contains("size mismatch")),
        );
}
