//! `customs sbom`: formats, reproducibility, layer attribution, and bad input.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{customs, example_ref, stderr, stdout};
use customs_test::{ImageBuilder, LayerBuilder};

fn layout(dir: &std::path::Path, image: &ImageBuilder) -> String {
    image.build().write_oci_layout(&dir.join("l"), None);
    format!("oci:{}", dir.join("l").display())
}

fn packages(doc: &Value) -> Vec<(String, String, String)> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn sbom_of_the_example_image() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["sbom", &example_ref(), "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["schema"], "customs.sbom/v1");
    assert_eq!(
        doc["subject"]["digest"],
        customs_test::example_image()
            .build()
            .manifest_digest
            .as_str()
    );
    assert_eq!(doc["distro"]["id"], "debian");
    let p = packages(&doc);
    assert_eq!(p.iter().filter(|p| p.0 == "deb").count(), 11);
    for want in [
        ("python", "requests", "2.25.1"),
        ("python", "urllib3", "1.26.4"),
        ("npm", "lodash", "4.17.15"),
        ("npm", "hello", "1.0.0"),
        ("deb", "libssl3", "3.0.19-1~deb12u2"),
    ] {
        assert!(
            p.contains(&(want.0.to_owned(), want.1.to_owned(), want.2.to_owned())),
            "{want:?} missing"
        );
    }
    let libssl = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libssl3")
        .unwrap();
    assert_eq!(
        libssl["purl"],
        "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
    );
    assert_eq!(libssl["source_name"], "openssl");
    assert_eq!(libssl["introduced_by_layer"], 0);
    let requests = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "requests")
        .unwrap();
    assert_eq!(requests["introduced_by_layer"], 1);
    assert_eq!(requests["licenses"][0], "Apache 2.0");
    assert!(
        requests["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "/usr/local/lib/python3.11/site-packages/requests/__init__.py"),
        "RECORD lists the installed files"
    );
    assert_eq!(
        requests["locations"][1]["path"],
        "/usr/local/lib/python3.11/site-packages/requests-2.25.1.dist-info/RECORD"
    );
}

#[test]
fn several_formats_in_one_pass_are_schema_valid_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let run = |suffix: &str| {
        let (spdx, cdx, native) = (
            dir.path().join(format!("s{suffix}.json")),
            dir.path().join(format!("c{suffix}.json")),
            dir.path().join(format!("n{suffix}.json")),
        );
        customs(dir.path())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args([
                "sbom",
                &example_ref(),
                "-o",
                &format!("spdx-json={}", spdx.display()),
                "-o",
                &format!("cyclonedx-json={}", cdx.display()),
                "-o",
                "json",
                "--output",
            ])
            .arg(&native)
            .assert()
            .success()
            .stdout("");
        (
            fs_err::read(spdx).unwrap(),
            fs_err::read(cdx).unwrap(),
            fs_err::read(native).unwrap(),
        )
    };
    let first = run("1");
    let second = run("2");
    assert!(
        first == second,
        "two runs with SOURCE_DATE_EPOCH must be byte-identical"
    );
    customs_test::schema::assert_valid("spdx-2.3.schema.json", &first.0);
    customs_test::schema::assert_valid("bom-1.6.schema.json", &first.1);
    let spdx: Value = serde_json::from_slice(&first.0).unwrap();
    let digest = customs_test::example_image().build().manifest_digest;
    assert!(
        spdx["documentNamespace"]
            .as_str()
            .unwrap()
            .contains(digest.hex())
    );
    assert_eq!(spdx["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        spdx["creationInfo"]["creators"][0],
        format!("Tool: customs-{}", env!("CARGO_PKG_VERSION"))
    );
    let cdx: Value = serde_json::from_slice(&first.1).unwrap();
    assert_eq!(cdx["metadata"]["component"]["version"], digest.as_str());
    assert!(
        cdx["metadata"]["component"]["name"]
            .as_str()
            .unwrap()
            .contains("examples/hello")
    );
}

#[test]
fn output_flags_are_checked() {
    let home = tempfile::tempdir().unwrap();
    customs(home.path())
        .args(["sbom", &example_ref(), "-o", "json", "-o", "table"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "only one format can go to standard output",
        ));
    customs(home.path())
        .args(["sbom", &example_ref(), "-o", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown SBOM format `xml`"));
    customs(home.path())
        .args(["sbom", &example_ref(), "--catalogers", "cobol"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no cataloger is named or tagged `cobol`",
        ));
}

#[test]
fn catalogers_can_be_chosen() {
    let home = tempfile::tempdir().unwrap();
    let only = |selection: &str| {
        let out = customs(home.path())
            .args([
                "sbom",
                &example_ref(),
                "-o",
                "json",
                "--catalogers",
                selection,
            ])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let mut kinds: Vec<String> = packages(&doc).into_iter().map(|p| p.0).collect();
        kinds.dedup();
        kinds
    };
    assert_eq!(only("python"), ["python"]);
    assert_eq!(only("-dpkg"), ["python", "npm"]);
    assert_eq!(only("os"), ["deb"]);
}

#[test]
fn packages_are_attributed_to_their_layer_and_removed_ones_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let stanza = |name: &str| {
        format!(
            "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n\n"
        )
    };
    let site = "usr/lib/python3/dist-packages";
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .file(
                    "var/lib/dpkg/status",
                    format!("{}{}", stanza("a"), stanza("b")),
                )
                .file(
                    &format!("{site}/gone-1.0.dist-info/METADATA"),
                    "Name: gone\nVersion: 1.0\n",
                ),
        )
        .layer(
            LayerBuilder::new()
                .file(
                    "var/lib/dpkg/status",
                    format!("{}{}{}", stanza("a"), stanza("b"), stanza("c")),
                )
                .whiteout(&format!("{site}/gone-1.0.dist-info")),
        );
    let out = customs(dir.path())
        .args(["sbom", &layout(dir.path(), &image), "-o", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let layer_of = |name: &str| {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["introduced_by_layer"].clone())
    };
    assert_eq!(layer_of("a"), Some(Value::from(0)));
    assert_eq!(layer_of("c"), Some(Value::from(1)));
    assert_eq!(
        layer_of("gone"),
        None,
        "a package deleted by a later layer is not in the SBOM"
    );
    let a = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "a")
        .unwrap();
    assert_eq!(
        a["locations"][0]["layer"], 1,
        "the surviving evidence is the second layer's status file"
    );
}

#[test]
fn broken_package_files_are_warnings_and_the_rest_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut go = b"\x7fELF\x02\x01\x01".to_vec();
    go.resize(64, 0);
    go.extend(b"\xff Go buildinf:\x08\x02");
    go.resize(64 + 32, 0);
    go.push(200); // a version string longer than the file
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file(
                "var/lib/dpkg/status",
                "Package: ok\nVersion: 1\n\nthis is not a control field\n",
            )
            .file(
                "usr/lib/python3/dist-packages/broken-1.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: broken\n",
            )
            .file(
                "usr/lib/python3/dist-packages/fine-2.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: fine\nVersion: 2.0\n",
            )
            .file(
                "app/lib/garbage.jar",
                b"PK\x03\x04\x00\x01garbage garbage garbage",
            )
            .file_mode("usr/local/bin/tool", go, 0o755)
            .file("app/node_modules/huge/package.json", vec![b' '; 9 << 20])
            .file(
                "app/node_modules/ok/package.json",
                r#"{"name":"ok","version":"1.2.3"}"#,
            ),
    );
    let out = customs(dir.path())
        .args(["sbom", &layout(dir.path(), &image), "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    for (path, kind) in [
        ("/var/lib/dpkg/status", "deb"),
        ("broken-1.0.dist-info/METADATA", "python"),
        ("/app/lib/garbage.jar", "java-archive"),
        ("/usr/local/bin/tool", "go-module"),
        ("/app/node_modules/huge/package.json", "npm"),
    ] {
        assert!(
            err.lines().any(|l| l.starts_with("warning:")
                && l.contains(path)
                && l.contains(&format!("({kind})"))),
            "no warning for {path} ({kind}):\n{err}"
        );
    }
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["unknowns"].as_array().unwrap().len(), 5);
    let p = packages(&doc);
    assert!(p.contains(&("python".into(), "fine".into(), "2.0".into())));
    assert!(p.contains(&("npm".into(), "ok".into(), "1.2.3".into())));
}

#[test]
fn sbom_of_a_root_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    fs_err::create_dir_all(root.join("app/node_modules/left-pad")).unwrap();
    fs_err::write(
        root.join("app/node_modules/left-pad/package.json"),
        r#"{"name":"left-pad","version":"1.3.0","license":"WTFPL"}"#,
    )
    .unwrap();
    let out = customs(dir.path())
        .args(["sbom", &format!("dir:{}", root.display())])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("left-pad  1.3.0    npm"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn lock_files_count_for_source_trees_and_on_request_for_images() {
    let dir = tempfile::tempdir().unwrap();
    let lock = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0"},"node_modules/ms":{"version":"2.1.1"}}}"#;
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file("app/package-lock.json", lock)
            .file(
                "app/node_modules/ms/package.json",
                r#"{"name":"ms","version":"2.1.1"}"#,
            ),
    );
    let reference = layout(dir.path(), &image);
    let names = |args: &[&str]| {
        let out = customs(dir.path())
            .args(["sbom", "-o", "json"])
            .args(args)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["locations"].as_array().unwrap().len(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&[&reference]),
        [("ms".to_owned(), 1)],
        "an image reports what is installed"
    );
    assert_eq!(
        names(&[&reference, "--catalogers", "+lockfile"]),
        [("left-pad".to_owned(), 1), ("ms".to_owned(), 2)],
        "declared packages on request; installed ones gain the lock file as a location"
    );
    let root = dir.path().join("src");
    fs_err::create_dir_all(&root).unwrap();
    fs_err::write(root.join("package-lock.json"), lock).unwrap();
    assert_eq!(
        names(&[&format!("dir:{}", root.display())]).len(),
        2,
        "a source tree reports its lock file"
    );
}

#[test]
fn rpm_packages_from_a_sqlite_rpmdb() {
    let dir = tempfile::tempdir().unwrap();
    let rpmdb = include_bytes!("../../../customs-catalog/tests/fixtures/rpm/rpmdb.sqlite");
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file(
                "etc/os-release",
                "ID=\"rhel\"\nVERSION_ID=\"9.4\"\nID_LIKE=\"fedora\"\n",
            )
            .file("var/lib/rpm/rpmdb.sqlite", rpmdb),
    );
    let out = customs(dir.path())
        .args(["sbom", &layout(dir.path(), &image), "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let openssl = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "openssl-libs")
        .unwrap();
    assert_eq!(openssl["type"], "rpm");
    assert_eq!(openssl["version"], "1:3.0.7-27.el9");
    assert_eq!(
        openssl["purl"],
        "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl-libs-3.0.7-27.el9.src.rpm"
    );
    assert_eq!(packages(&doc).len(), 3);
}

/// Issue 14: the image was named `pkg:oci/latest@…` for
/// `oci:examples/hello:latest` (the tag taken as the name). The purl spec's
/// `oci` type names it by the last path component, with its tag and arch.
#[test]
fn issue14_the_image_purl_follows_the_purl_spec() {
    let home = tempfile::tempdir().unwrap();
    let digest = customs_test::example_image().build().manifest_digest;
    let want = format!(
        "pkg:oci/hello@sha256:{}?arch=amd64&tag=latest",
        digest.hex()
    );
    let out = customs(home.path())
        .args(["sbom", &example_ref(), "-o", "spdx-json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let image = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .unwrap();
    assert_eq!(image["externalRefs"][0]["referenceLocator"], want.as_str());
    let out = customs(home.path())
        .args(["sbom", &example_ref(), "-o", "cyclonedx-json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["metadata"]["component"]["purl"], want.as_str());
    // A registry image names its repository.
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("app.tar");
    customs_test::example_image()
        .build()
        .write_docker_archive(&archive, &["lab/app:1.2"], false);
    let out = customs(home.path())
        .args(["sbom", "-o", "json"])
        .arg(format!("docker-archive:{}:lab/app:1.2", archive.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let purl = doc["subject"]["purl"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:oci/app@sha256:")
            && purl.ends_with("?arch=amd64&repository_url=docker.io%2Flab%2Fapp&tag=1.2"),
        "{purl}"
    );
}
