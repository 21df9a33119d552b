//! Issue 15: runtimes no package database owns, found by the binary
//! classifiers in real binaries — this machine's Debian-built `bash`,
//! `curl`, `openssl`, `libcrypto`, CPython and (when installed) PostgreSQL
//! and Node, copied where official images put upstream builds, with no
//! package database entry. The expected versions come from each binary
//! itself (`bash --version` …), never from customs.

use std::path::Path;
use std::process::Command;

use customs_test::{ImageBuilder, LayerBuilder};

use crate::common::{customs, stderr};

/// `(image path, host path, package, version printed by the binary)`.
fn runtimes() -> Vec<(&'static str, String, &'static str, String)> {
    let version_of = |cmd: &str, args: &[&str], re: &str| -> Option<String> {
        let out = Command::new(cmd).args(args).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        regex::Regex::new(re)
            .ok()?
            .captures(&text)
            .map(|c| c[1].to_owned())
    };
    let mut out = Vec::new();
    let mut add = |image: &'static str, host: &str, package, version: Option<String>| {
        if let (true, Some(v)) = (Path::new(host).is_file(), version) {
            out.push((image, host.to_owned(), package, v));
        }
    };
    add(
        "/usr/local/bin/bash",
        "/usr/bin/bash",
        "bash",
        version_of(
            "/usr/bin/bash",
            &["--version"],
            r"version ([0-9]+\.[0-9]+\.[0-9]+)",
        ),
    );
    add(
        "/usr/local/bin/curl",
        "/usr/bin/curl",
        "curl",
        version_of(
            "/usr/bin/curl",
            &["--version"],
            r"^curl ([0-9]+\.[0-9]+\.[0-9]+)",
        ),
    );
    let openssl = version_of(
        "openssl",
        &["version"],
        r"OpenSSL ([0-9]+\.[0-9]+\.[0-9]+[a-z]*)",
    );
    add(
        "/usr/local/bin/openssl",
        "/usr/bin/openssl",
        "openssl",
        openssl.clone(),
    );
    add(
        "/usr/local/lib/libcrypto.so.3",
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "openssl",
        openssl,
    );
    add(
        "/usr/local/bin/python3.11",
        "/usr/bin/python3.11",
        "python",
        version_of("/usr/bin/python3.11", &["--version"], r"Python ([0-9.]+)"),
    );
    for pg in [
        "/usr/lib/postgresql/15/bin/postgres",
        "/usr/lib/postgresql/16/bin/postgres",
    ] {
        add(
            "/usr/local/bin/postgres",
            pg,
            "postgresql",
            version_of(pg, &["--version"], r"\(PostgreSQL\) ([0-9]+(?:\.[0-9]+)*)"),
        );
    }
    // A JDK as eclipse-temurin lays it out: the `java` binary's build
    // (`java -version` says `build 25.0.3+9-LTS`) is the answer, and its
    // `release` file does not repeat it.
    for jdk in [
        "/usr/lib/jvm/temurin-25-jdk-amd64",
        "/usr/lib/jvm/temurin-21-jdk-amd64",
        "/usr/lib/jvm/temurin-17-jdk-amd64",
    ] {
        let java = format!("{jdk}/bin/java");
        add(
            "/opt/java/openjdk/bin/java",
            &java,
            "openjdk",
            version_of(&java, &["-version"], r"\(build ([^,)]+)"),
        );
    }
    add(
        "/usr/local/bin/node",
        "/usr/bin/node",
        "node",
        version_of(
            "/usr/bin/node",
            &["--version"],
            r"v([0-9]+\.[0-9]+\.[0-9]+)",
        ),
    );
    out
}

fn sbom_of(dir: &Path, image: &ImageBuilder) -> serde_json::Value {
    image.build().write_oci_layout(&dir.join("img"), None);
    let out = customs(dir)
        .args(["sbom", "-q", "-o", "json"])
        .arg(format!("oci:{}", dir.join("img").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn upstream_runtimes_in_real_binaries_are_packages() {
    let runtimes = runtimes();
    assert!(
        runtimes.len() >= 4,
        "bash, curl, openssl and python3.11 are on every Debian machine: {runtimes:?}"
    );
    let mut layer = LayerBuilder::new()
        // A text file that names a runtime is not one.
        .file_mode(
            "usr/local/bin/python3.12",
            "#!/bin/sh\n\x003.12.1\x00\n",
            0o755,
        )
        // Links to a runtime: reported once, at the real path.
        .symlink("usr/local/bin/python3", "python3.11")
        .symlink("usr/local/bin/python", "python3");
    for (image, host, _, _) in &runtimes {
        layer = layer.file_mode(
            image.trim_start_matches('/'),
            fs_err::read(host).unwrap(),
            0o755,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let sbom = sbom_of(dir.path(), &ImageBuilder::new().layer(layer));
    let pythons: Vec<&serde_json::Value> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "python")
        .collect();
    assert_eq!(pythons.len(), 1, "{pythons:?}");
    let locations: Vec<&str> = pythons[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "/usr/local/bin/python3.11",
            "/usr/local/bin/python",
            "/usr/local/bin/python3"
        ]
    );
    let found: Vec<(String, String, String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "binary")
        .map(|p| {
            (
                p["locations"][0]["path"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["purl"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (image, _, package, version) in &runtimes {
        assert!(
            found.iter().any(|(path, name, v, purl)| path == image
                && name == package
                && v == version
                && purl.starts_with("pkg:generic/")
                && purl.ends_with(&format!("{package}@{}", version.replace('+', "%2B")))),
            "{package} {version} at {image}: found {found:?}"
        );
    }
    assert!(
        !found.iter().any(|(path, ..)| path.ends_with("python3.12")),
        "{found:?}"
    );
}

/// The same binaries where Debian puts them, listed by dpkg: the distro
/// package is the one finding; no classifier package repeats it.
#[test]
fn runtimes_a_package_database_owns_are_not_repeated() {
    let bash = fs_err::read("/usr/bin/bash").unwrap();
    let layer = LayerBuilder::new()
        .file(
            "var/lib/dpkg/status",
            "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n",
        )
        .file("var/lib/dpkg/info/bash.list", "/.\n/bin\n/bin/bash\n")
        .file_mode("usr/bin/bash", bash, 0o755);
    let dir = tempfile::tempdir().unwrap();
    let sbom = sbom_of(dir.path(), &ImageBuilder::new().layer(layer));
    let kinds: Vec<(&str, &str)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("bash", "deb")],
        "/bin/bash in the list is /usr/bin/bash on disk"
    );
}

/// A JDK's `release` file alone names the runtime; beside its `java`
/// binary it does not repeat it.
#[test]
fn a_jdk_release_file_names_the_runtime_once() {
    let Some(jdk) = [
        "/usr/lib/jvm/temurin-25-jdk-amd64",
        "/usr/lib/jvm/temurin-21-jdk-amd64",
    ]
    .into_iter()
    .find(|j| Path::new(j).join("release").is_file()) else {
        return; // no Temurin JDK on this machine: the unit tests cover it
    };
    let release = fs_err::read(Path::new(jdk).join("release")).unwrap();
    let java = fs_err::read(Path::new(jdk).join("bin/java")).unwrap();
    let names_at = |layer: LayerBuilder| -> Vec<(String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let sbom = sbom_of(dir.path(), &ImageBuilder::new().layer(layer));
        sbom["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["locations"][0]["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        names_at(LayerBuilder::new().file("opt/java/openjdk/release", release.clone())),
        [("openjdk".to_owned(), "/opt/java/openjdk/release".to_owned())]
    );
    assert_eq!(
        names_at(
            LayerBuilder::new()
                .file("opt/java/openjdk/release", release)
                .file_mode("opt/java/openjdk/bin/java", java, 0o755)
        ),
        [(
            "openjdk".to_owned(),
            "/opt/java/openjdk/bin/java".to_owned()
        )]
    );
}
