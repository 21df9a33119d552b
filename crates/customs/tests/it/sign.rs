//! `customs key generate`, `sign` and `verify` against a real registry
//! (Debian's `docker-registry` with htpasswd auth): failure before success,
//! as cosign's own tests do.

use crate::common::{customs, example_dir, stderr, stdout};
use customs_test::registry::{TestRegistry, write_docker_config};

/// `(kind, state)` of each thing `customs attestations -o json` lists.
fn kinds_and_states(listing: &serde_json::Value) -> Vec<(String, String)> {
    listing["attached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

struct Setup {
    registry: TestRegistry,
    home: tempfile::TempDir,
    config: std::path::PathBuf,
    reference: String,
}

fn setup() -> Setup {
    let registry = TestRegistry::start();
    registry.push(
        &format!("oci:{}:latest", example_dir().display()),
        "examples/hello",
        "1.0",
        None,
    );
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("docker");
    fs_err::create_dir_all(&config).unwrap();
    write_docker_config(&config, &registry.addr, &registry.user, &registry.password);
    let reference = format!("{}/examples/hello:1.0", registry.addr);
    Setup {
        registry,
        home,
        config,
        reference,
    }
}

impl Setup {
    fn run(&self, args: &[&str]) -> std::process::Output {
        customs(self.home.path())
            .env("DOCKER_CONFIG", &self.config)
            .env("CUSTOMS_PASSWORD", "correct horse")
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs customs, which must fail verification (exit 3) saying `why`.
    fn refused(&self, args: &[&str], why: &str) {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }

    /// Runs customs, which must succeed, and reads its JSON output.
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The manifest at `tag` of examples/hello, as skopeo reads it.
    fn raw_manifest(&self, tag: &str) -> serde_json::Value {
        let raw = std::process::Command::new("skopeo")
            .args([
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--creds",
                &self.registry.creds(),
            ])
            .arg(format!(
                "docker://{}/examples/hello{}{tag}",
                self.registry.addr,
                if tag.starts_with("sha256:") { '@' } else { ':' }
            ))
            .output()
            .unwrap();
        assert!(
            raw.status.success(),
            "{}",
            String::from_utf8_lossy(&raw.stderr)
        );
        serde_json::from_slice(&raw.stdout).unwrap()
    }

    /// The checks every signature form must pass, failures first: another
    /// key (exit 3 saying `wrong_key`), a required annotation it lacks;
    /// then success with `team=payments`. Returns the JSON verification.
    fn verify_refuses_then_passes(
        &self,
        public: &str,
        other_public: &str,
        wrong_key: &str,
    ) -> serde_json::Value {
        self.refused(
            &["verify", &self.reference, "--key", other_public],
            wrong_key,
        );
        self.refused(
            &[
                "verify",
                &self.reference,
                "--key",
                public,
                "-a",
                "team=other",
            ],
            "lacks the required annotation team=other",
        );
        let out = self.run(&[
            "verify",
            &self.reference,
            "--key",
            public,
            "-a",
            "team=payments",
        ]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("Verified"), "{}", stdout(&out));
        let v = self.json(&["verify", &self.reference, "--key", public, "-o", "json"]);
        assert_eq!(v["signatures"][0]["verified"], true, "{v}");
        assert_eq!(v["signatures"][0]["annotations"]["team"], "payments", "{v}");
        v
    }

    /// The predicate of the first attestation of `kind` that verifies with
    /// `public`.
    fn attested_predicate(&self, public: &str, kind: &str) -> serde_json::Value {
        let v = self.json(&[
            "verify-attestation",
            &self.reference,
            "--key",
            public,
            "--type",
            kind,
            "-o",
            "json",
        ]);
        v["attestations"][0]["statement"]["predicate"].clone()
    }

    fn key(&self, name: &str) -> (String, String) {
        let prefix = self.home.path().join(name);
        let out = self.run(&[
            "key",
            "generate",
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        (
            format!("{}.key", prefix.display()),
            format!("{}.pub", prefix.display()),
        )
    }
}

#[cfg(unix)]
#[test]
fn key_generate_writes_cosign_keys_private_and_never_over_existing_ones() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = setup();
    let (private, public) = s.key("cosign");
    let mode = |p: &str| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&private), 0o600);
    let text = fs_err::read_to_string(&private).unwrap();
    assert!(text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    assert!(!text.contains("correct horse"));
    assert!(
        fs_err::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let prefix = private.trim_end_matches(".key");
    let out = s.run(&["key", "generate", "--output-key-prefix", prefix]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("exists; pass --force"),
        "{}",
        stderr(&out)
    );
    // Without a password and no terminal: a clear error, no key.
    let out = customs(s.home.path())
        .args(["key", "generate", "--output-key-prefix"])
        .arg(s.home.path().join("nopw"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CUSTOMS_PASSWORD"),
        "{}",
        stderr(&out)
    );
    assert!(!s.home.path().join("nopw.key").exists());
    // A KMS URI is a clear "not supported".
    let out = s.run(&["sign", &s.reference, "--key", "awskms://alias/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not supported"), "{}", stderr(&out));
}

#[test]
fn sign_then_verify_against_a_real_registry() {
    let s = setup();
    let (private, public) = s.key("alice");
    let (other_private, other_public) = s.key("bob");
    let digest = s.registry.skopeo_digest("examples/hello", "1.0");

    // Failure first: nothing signed yet.
    let out = s.run(&["verify", &s.reference, "--key", &public]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("verification failed: no signature found"),
        "{}",
        stderr(&out)
    );

    let out = s.run(&[
        "sign",
        &s.reference,
        "--key",
        &private,
        "-a",
        "team=payments",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "Signed {}/examples/hello@{digest}",
            s.registry.addr
        )),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("the digest is what is signed"),
        "{}",
        stderr(&out)
    );

    // Where cosign looks: the sha256-<hex>.sig tag, read with skopeo.
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let manifest = s.raw_manifest(&tag);
    let layer = &manifest["layers"][0];
    assert_eq!(
        layer["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(layer["annotations"]["dev.cosignproject.cosign/signature"].is_string());

    // The wrong key, a required annotation that is not there: exit 3
    // naming the check; then success.
    let v =
        s.verify_refuses_then_passes(&public, &other_public, "does not verify with the given key");
    assert_eq!(v["digest"], digest.as_str());

    // A second signer appends; nobody's signature is dropped; signing
    // again with the same key adds nothing.
    assert!(
        s.run(&["sign", &s.reference, "--key", &other_private])
            .status
            .success()
    );
    let out = s.run(&["sign", &s.reference, "--key", &other_private]);
    assert!(stdout(&out).contains("Already signed"), "{}", stdout(&out));
    for key in [&public, &other_public] {
        let out = s.run(&["verify", &s.reference, "--key", key, "-o", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["signatures"].as_array().unwrap().len(), 2);
    }
    // Verified by digest too, and never for another image of the repository.
    let by_digest = format!("{}/examples/hello@{digest}", s.registry.addr);
    assert!(
        s.run(&["verify", &by_digest, "--key", &public])
            .status
            .success()
    );
}

/// Two signers at once: both signatures end up in the manifest (each
/// re-reads after writing and merges again when the other got in between).
#[test]
fn concurrent_signers_both_end_up_in_the_manifest() {
    let s = setup();
    let keys: Vec<(String, String)> = (0..3).map(|i| s.key(&format!("signer{i}"))).collect();
    let children: Vec<std::process::Child> = keys
        .iter()
        .map(|(private, _)| {
            customs_test::isolated(assert_cmd::cargo::cargo_bin("customs"), s.home.path())
                .env("DOCKER_CONFIG", &s.config)
                .env("CUSTOMS_PASSWORD", "correct horse")
                .args(["sign", "-q", &s.reference, "--key", private])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    for (_, public) in &keys {
        let out = s.run(&["verify", &s.reference, "--key", public, "-o", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["signatures"].as_array().unwrap().len(), keys.len());
    }
}

/// A registry that refuses the push: a clear error, and no signature tag.
#[test]
fn a_registry_refusing_the_push_leaves_no_tag() {
    use customs_test::fault::{FaultServer, Reply};
    let image = customs_test::example_image().build();
    let served = image.clone();
    let server = FaultServer::start(move |r| {
        let path = r.path.as_str();
        if path == "/v2/" {
            return Reply::new(200, "{}");
        }
        if r.method == "GET" && path.starts_with("/v2/r/manifests/1.0") {
            return Reply::new(200, served.manifest.clone())
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json");
        }
        if r.method == "GET" && path == format!("/v2/r/blobs/{}", served.config_digest) {
            return Reply::new(200, served.config.clone());
        }
        if r.method == "HEAD" {
            return Reply::new(404, "");
        }
        if r.method == "GET" && path.starts_with("/v2/r/manifests/") {
            return Reply::new(404, r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#);
        }
        Reply::new(
            403,
            r#"{"errors":[{"code":"DENIED","message":"read-only"}]}"#,
        )
    });
    let home = tempfile::tempdir().unwrap();
    let prefix = home.path().join("k");
    let keygen = customs(home.path())
        .env("CUSTOMS_PASSWORD", "pw")
        .args(["key", "generate", "--output-key-prefix"])
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    // Neither form writes anything: not the `.sig` tag, not the v3
    // artifact manifest nor the referrers tag.
    for format in ["tag", "v3"] {
        let out = customs(home.path())
            .env("CUSTOMS_PASSWORD", "pw")
            .args(["sign", &format!("{}/r:1.0", server.addr)])
            .args(["--bundle-format", format, "--key"])
            .arg(prefix.with_extension("key"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        assert!(
            stderr(&out).contains("access denied (HTTP 403)"),
            "{format}: {}",
            stderr(&out)
        );
        assert!(
            !server
                .requests()
                .iter()
                .any(|r| r.method == "PUT" && r.path.contains("/manifests/")),
            "{format}: no manifest is written when a blob upload was refused"
        );
    }
}

/// `attest` then `verify-attestation` through the real registry: an SPDX
/// SBOM made by customs attached as an in-toto statement at the `.att`
/// tag, readable by skopeo, verifying only with the right key and type.
#[test]
fn attest_then_verify_attestation_against_a_real_registry() {
    let s = setup();
    let (private, public) = s.key("builder");
    let (_, other_public) = s.key("stranger");
    let digest = s.registry.skopeo_digest("examples/hello", "1.0");
    let sbom = s.home.path().join("sbom.spdx.json");
    let out = s.run(&[
        "sbom",
        &s.reference,
        "-q",
        "-o",
        &format!("spdx-json={}", sbom.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = s.run(&["verify-attestation", &s.reference, "--key", &public]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "nothing attested yet: {}",
        stderr(&out)
    );

    let out = s.run(&[
        "attest",
        &s.reference,
        "--predicate",
        sbom.to_str().unwrap(),
        "--type",
        "spdx",
        "--key",
        &private,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Attested https://spdx.dev/Document"),
        "{}",
        stdout(&out)
    );

    let tag = format!("{}.att", digest.replace(':', "-"));
    let manifest = s.raw_manifest(&tag);
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.dsse.envelope.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["predicateType"],
        "https://spdx.dev/Document"
    );

    s.refused(
        &["verify-attestation", &s.reference, "--key", &other_public],
        "does not verify with the given key",
    );
    let out = s.run(&[
        "verify-attestation",
        &s.reference,
        "--key",
        &public,
        "--type",
        "slsaprovenance1",
    ]);
    assert_eq!(out.status.code(), Some(3), "no attestation of that type");

    let v = s.json(&[
        "verify-attestation",
        &s.reference,
        "--key",
        &public,
        "--type",
        "spdx",
        "-o",
        "json",
    ]);
    let statement = &v["attestations"][0]["statement"];
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    assert_eq!(statement["predicate"]["spdxVersion"], "SPDX-2.3");
}

fn docker_attest(layout: &str) -> String {
    format!(
        "oci:{}",
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/interop/docker-attest/test/testdata")
            .join(layout)
            .display()
    )
}

/// Real `docker buildx build --sbom=true --provenance=true` output: each
/// platform's SPDX SBOM and SLSA provenance are found in the index, about
/// that platform's manifest; an image without them has nothing attached.
#[test]
fn buildkit_attestations_of_each_platform() {
    let home = tempfile::tempdir().unwrap();
    for platform in ["linux/amd64", "linux/arm64"] {
        let out = customs(home.path())
            .args([
                "attestations",
                &docker_attest("unsigned-index"),
                "--platform",
                platform,
                "-o",
                "json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let attached = v["attached"].as_array().unwrap();
        let types: Vec<&str> = attached
            .iter()
            .map(|a| a["predicate_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "https://spdx.dev/Document",
                "https://slsa.dev/provenance/v0.2"
            ],
            "{platform}"
        );
        let digest = v["digest"].as_str().unwrap().trim_start_matches("sha256:");
        for a in attached {
            assert_eq!(a["state"], "unsigned");
            assert_eq!(
                a["statement"]["subject"][0]["digest"]["sha256"], digest,
                "{platform}"
            );
        }
    }
    let dir = home.path().join("download");
    let out = customs(home.path())
        .args([
            "attestations",
            &docker_attest("unsigned-index"),
            "--platform",
            "linux/amd64",
            "--type",
            "spdx",
            "--download",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let sbom: serde_json::Value =
        serde_json::from_slice(&fs_err::read(dir.join("1-buildkit-attestation.json")).unwrap())
            .unwrap();
    assert_eq!(sbom["predicate"]["spdxVersion"], "SPDX-2.3");
    let out = customs(home.path())
        .args(["attestations", &docker_attest("unsigned-image")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("nothing is attached"),
        "{}",
        stdout(&out)
    );

    // `scan --sbom-source attestation` takes the chosen platform's BuildKit
    // SBOM, saying it is unverified; asked for a verified one, exit 3.
    let advisories = example_dir().parent().unwrap().join("advisories");
    let out = customs(home.path())
        .args(["db", "import", "-q", advisories.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for platform in ["linux/amd64", "linux/arm64"] {
        let scan = |extra: &[&str]| {
            customs(home.path())
                .args([
                    "scan",
                    &docker_attest("unsigned-index"),
                    "--sbom-source",
                    "attestation",
                    "--platform",
                    platform,
                    "-o",
                    "json",
                ])
                .args(extra)
                .output()
                .unwrap()
        };
        let out = scan(&[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains("UNVERIFIED"), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let listed = customs(home.path())
            .args([
                "digest",
                &docker_attest("unsigned-index"),
                "--platform",
                platform,
            ])
            .output()
            .unwrap();
        assert_eq!(
            report["subject"]["digest"].as_str().unwrap(),
            stdout(&listed).trim(),
            "{platform}"
        );
        let key = example_dir()
            .join("../../../shared/interop/containers-image/signature/fixtures/cosign.pub");
        let out = scan(&["--attestation-key", key.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    }
    let out = customs(home.path())
        .args([
            "scan",
            &docker_attest("unsigned-image"),
            "--sbom-source",
            "attestation",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no attached SBOM attestation"),
        "{}",
        stderr(&out)
    );
}

/// In a registry: the signatures and attestations customs attached, each
/// verified when a key is given.
#[test]
fn attestations_lists_what_was_signed_and_attested_in_a_registry() {
    let s = setup();
    let (private, public) = s.key("ci");
    let predicate = s.home.path().join("provenance.json");
    fs_err::write(
        &predicate,
        r#"{"buildDefinition":{"buildType":"https://example.com/ci"}}"#,
    )
    .unwrap();
    assert!(
        s.run(&["sign", &s.reference, "--key", &private])
            .status
            .success()
    );
    let out = s.run(&[
        "attest",
        &s.reference,
        "--key",
        &private,
        "--type",
        "slsaprovenance1",
        "--predicate",
        predicate.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = |extra: &[&str]| {
        let mut args = vec!["attestations", s.reference.as_str(), "-o", "json"];
        args.extend_from_slice(extra);
        let out = s.run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = list(&[]);
    let states = kinds_and_states(&v);
    assert_eq!(
        states,
        [
            (
                "signature".to_owned(),
                "signed (not verified: no --key or identity)".to_owned()
            ),
            (
                "attestation".to_owned(),
                "signed (not verified: no --key or identity)".to_owned()
            ),
            (
                "attestation (bundle)".to_owned(),
                "signed (not verified: no --key or identity)".to_owned()
            )
        ],
        "attest writes the .att tag and a v3 bundle referrer by default"
    );
    let v = list(&["--key", &public]);
    assert!(
        v["attached"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "verified" && a["signer"] == public.as_str()),
        "{v}"
    );
    let v = list(&["--type", "slsaprovenance1"]);
    assert_eq!(v["attached"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["attached"][0]["predicate_type"],
        "https://slsa.dev/provenance/v1"
    );
}

/// `sbom --attest` and `scan --attest`: the SBOM customs wrote, and the
/// scan with the advisory database's build time and digest, attached in
/// the same run, each verifying with the key.
#[test]
fn sbom_and_scan_attest_what_they_made_in_the_same_run() {
    let s = setup();
    let (private, public) = s.key("ci");
    let sbom_file = s.home.path().join("sbom.spdx.json");
    let out = s.run(&[
        "sbom",
        &s.reference,
        "-q",
        "-o",
        &format!("spdx-json={}", sbom_file.display()),
        "--attest",
        "--key",
        &private,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written: serde_json::Value =
        serde_json::from_slice(&fs_err::read(&sbom_file).unwrap()).unwrap();
    assert_eq!(
        s.attested_predicate(&public, "spdx"),
        written,
        "the SBOM it wrote"
    );

    let advisories = example_dir().parent().unwrap().join("advisories");
    let out = s.run(&["db", "import", "-q", advisories.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&[
        "scan",
        &s.reference,
        "-q",
        "-o",
        "json",
        "--attest",
        "--key",
        &private,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let predicate = &s.attested_predicate(&public, "vuln");
    assert!(
        predicate["scanner"]["db"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{predicate}"
    );
    assert!(
        predicate["scanner"]["db"]["version"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(
        !predicate["scanner"]["result"]["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // `scan --sbom-source attestation` scans the attested SBOM, no walk:
    // failures first (another key: exit 3), then verified, then unverified
    // with a warning; the findings equal the walk's.
    let (_, stranger) = s.key("stranger");
    let out = s.run(&[
        "scan",
        &s.reference,
        "-q",
        "--sbom-source",
        "attestation",
        "--attestation-key",
        &stranger,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no verified SBOM attestation"),
        "{}",
        stderr(&out)
    );
    let walked = s.json(&["scan", &s.reference, "-q", "-o", "json"]);
    let out = s.run(&[
        "scan",
        &s.reference,
        "-o",
        "json",
        "--sbom-source",
        "attestation",
        "--attestation-key",
        &public,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("(verified: "), "{}", stderr(&out));
    let attested: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |v: &serde_json::Value| {
        let mut ids: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{}@{}", m["id"], m["package"]["name"]))
            .collect();
        ids.sort();
        ids
    };
    assert!(!ids(&walked).is_empty());
    assert_eq!(ids(&attested), ids(&walked));
    let out = s.run(&["scan", &s.reference, "--sbom-source", "attestation"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("UNVERIFIED"), "{}", stderr(&out));
    // `--attest` on something that is not in a registry is refused before any work.
    let out = s.run(&[
        "sbom",
        &crate::common::example_ref(),
        "--attest",
        "--key",
        &private,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a registry image"),
        "{}",
        stderr(&out)
    );
}

/// `sign --recursive` on a multi-platform image: the index and each
/// platform manifest are signed, so a platform pulled by digest verifies.
#[test]
fn sign_recursive_signs_the_index_and_every_platform() {
    let registry = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let amd = customs_test::example_image().build();
    let arm = customs_test::example_image()
        .platform("linux", "arm64", Some("v8"))
        .build();
    let layout = dir.path().join("multi");
    customs_test::write_index_layout(&layout, &[&amd, &arm], Some("1.0"));
    registry.push_all(&format!("oci:{}:1.0", layout.display()), "multi", "1.0");
    let s = Setup {
        home: dir,
        config: std::path::PathBuf::new(),
        reference: format!("{}/multi:1.0", registry.addr),
        registry,
    };
    let config = s.home.path().join("docker");
    fs_err::create_dir_all(&config).unwrap();
    write_docker_config(
        &config,
        &s.registry.addr,
        &s.registry.user,
        &s.registry.password,
    );
    let s = Setup { config, ..s };
    let (private, public) = s.key("release");
    let signed = s.json(&[
        "sign",
        &s.reference,
        "--key",
        &private,
        "--recursive",
        "-o",
        "json",
    ]);
    assert_eq!(
        signed.as_array().unwrap().len(),
        3,
        "the index and two platforms"
    );
    for image in [
        amd.manifest_digest.to_string(),
        arm.manifest_digest.to_string(),
    ] {
        let by_digest = format!("{}/multi@{image}", s.registry.addr);
        let out = s.run(&["verify", &by_digest, "--key", &public]);
        assert!(out.status.success(), "{image}: {}", stderr(&out));
    }
    assert!(
        s.run(&["verify", &s.reference, "--key", &public])
            .status
            .success()
    );
}

/// cosign v3's form on Debian's registry (no referrers API): the bundle is
/// found through the referrers tag schema, verifies with its key only, and
/// is listed; the `.sig` tag is not written.
#[test]
fn bundle_format_v3_through_the_referrers_tag_schema() {
    let s = setup();
    let (private, public) = s.key("alice");
    let (_, other_public) = s.key("bob");
    let digest = s.registry.skopeo_digest("examples/hello", "1.0");
    s.refused(
        &["verify", &s.reference, "--key", &public],
        "no signature found",
    );
    let out = s.run(&[
        "sign",
        &s.reference,
        "--key",
        &private,
        "--bundle-format",
        "v3",
        "-a",
        "team=payments",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The referrers tag holds an index listing a bundle artifact.
    let index = s.raw_manifest(&digest.replace(':', "-"));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        entry["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    let artifact = s.raw_manifest(entry["digest"].as_str().unwrap());
    assert_eq!(artifact["subject"]["digest"], digest.as_str());
    assert_eq!(
        artifact["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    // No `.sig` tag: v3 only.
    let sig = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &s.registry.creds(),
        ])
        .arg(format!(
            "docker://{}/examples/hello:{}.sig",
            s.registry.addr,
            digest.replace(':', "-")
        ))
        .output()
        .unwrap();
    assert!(!sig.status.success());

    let v = s.verify_refuses_then_passes(&public, &other_public, "signature check failed");
    assert_eq!(v["signatures"][0]["signer"], "key");

    // An attestation in both forms; each verifies, and both are listed.
    let predicate = s.home.path().join("sbom.json");
    fs_err::write(&predicate, br#"{"spdxVersion":"SPDX-2.3"}"#).unwrap();
    let out = s.run(&[
        "attest",
        &s.reference,
        "--key",
        &private,
        "--type",
        "spdx",
        "--predicate",
        predicate.to_str().unwrap(),
        "--bundle-format",
        "both",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.refused(
        &[
            "verify-attestation",
            &s.reference,
            "--key",
            &other_public,
            "--type",
            "spdx",
        ],
        "check failed",
    );
    let v = s.json(&[
        "verify-attestation",
        &s.reference,
        "--key",
        &public,
        "--type",
        "spdx",
        "-o",
        "json",
    ]);
    let verified: Vec<_> = v["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["verified"] == true)
        .collect();
    assert_eq!(verified.len(), 2, "{v}");
    let listing = s.json(&["attestations", &s.reference, "--key", &public, "-o", "json"]);
    let kinds = kinds_and_states(&listing);
    assert!(
        kinds.contains(&("signature (bundle)".to_owned(), "verified".to_owned())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("attestation (bundle)".to_owned(), "verified".to_owned())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("attestation".to_owned(), "verified".to_owned())),
        "{kinds:?}"
    );
}

/// The example image in the in-process OCI 1.1 registry (the referrers
/// API Debian's registry lacks), a home, and a key pair in it.
struct Oci11 {
    registry: customs_test::oci11::Oci11Registry,
    home: tempfile::TempDir,
    /// The image's manifest digest.
    digest: String,
    reference: String,
    private: String,
    public: String,
}

fn oci11() -> Oci11 {
    let registry = customs_test::oci11::Oci11Registry::start();
    let digest = registry.load_layout(&crate::common::example_dir(), "hello", "1.0");
    let home = tempfile::tempdir().unwrap();
    let prefix = home.path().join("k");
    let reference = format!("{}/hello:1.0", registry.addr);
    let o = Oci11 {
        registry,
        digest,
        reference,
        private: format!("{}.key", prefix.display()),
        public: format!("{}.pub", prefix.display()),
        home,
    };
    let out = o.run(&[
        "key",
        "generate",
        "--output-key-prefix",
        prefix.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    o
}

impl Oci11 {
    fn run(&self, args: &[&str]) -> std::process::Output {
        customs(self.home.path())
            .env("CUSTOMS_PASSWORD", "pw")
            .args(args)
            .output()
            .unwrap()
    }
}

/// The OCI 1.1 referrers API (in-process registry: Debian's has none):
/// bundles are found through the API, across pages, even once the
/// referrers tag is gone.
#[test]
fn bundle_format_v3_through_the_referrers_api() {
    let o = oci11();
    let (registry, digest, reference, home) = (&o.registry, &o.digest, &o.reference, &o.home);
    let (private, public) = (&o.private, &o.public);
    let run = |args: &[&str]| o.run(args);
    let out = run(&["sign", reference, "--key", private, "--bundle-format", "v3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let predicate = home.path().join("p.json");
    fs_err::write(&predicate, b"{}").unwrap();
    for kind in ["spdx", "cyclonedx", "vuln"] {
        let out = run(&[
            "attest",
            reference,
            "--key",
            private,
            "--type",
            kind,
            "--predicate",
            predicate.to_str().unwrap(),
            "--bundle-format",
            "v3",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // The fallback tag is gone: only the API can find them now.
    registry.remove_manifest("hello", &digest.replace(':', "-"));
    let out = run(&["verify", reference, "--key", public]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = run(&["attestations", reference, "--key", public, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let verified = listing["attached"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "verified")
        .count();
    assert_eq!(verified, 4, "{listing}");
    // Four referrers at two per page: the Link header was followed.
    assert!(
        registry
            .requests()
            .iter()
            .any(|r| r.path.contains("/referrers/") && r.path.contains("page=2")),
        "no second page was read"
    );
}

/// `customs provenance --from-env` in a GitHub Actions job, piped into
/// `attest --predicate -`, then verified by type.
#[test]
fn provenance_from_the_ci_environment_is_attested_and_verified() {
    let o = oci11();
    let (home, reference) = (&o.home, &o.reference);
    // Outside any CI: an error naming what it looks for.
    let out = customs(home.path())
        .args(["provenance", "--from-env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GITHUB_ACTIONS=true"),
        "{}",
        stderr(&out)
    );
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/hello"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/hello/.github/workflows/build.yml@refs/heads/main",
        ),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("GITHUB_RUN_ID", "99"),
    ];
    let out = customs(home.path())
        .envs(github)
        .args(["provenance", "--from-env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let predicate: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        predicate["buildDefinition"]["externalParameters"]["workflow"]["path"],
        ".github/workflows/build.yml"
    );
    let out = customs(home.path())
        .env("CUSTOMS_PASSWORD", "pw")
        .args([
            "attest",
            reference,
            "--type",
            "slsaprovenance1",
            "--predicate",
            "-",
            "--key",
            &o.private,
        ])
        .write_stdin(out.stdout.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = customs(home.path())
        .args([
            "verify-attestation",
            reference,
            "--type",
            "slsaprovenance1",
            "-o",
            "json",
            "--key",
            &o.public,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["attestations"][0]["statement"]["predicate"]["buildDefinition"]["resolvedDependencies"]
            [0]["digest"]["gitCommit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
}

/// What a verify costs beyond resolving the digest, counted at the
/// registry: the `.sig` manifest, the referrers API and the referrers tag
/// (sent at once: one round trip), then the signature blob (the second).
#[test]
fn verify_costs_two_round_trips_beyond_resolving() {
    let o = oci11();
    let (registry, reference) = (&o.registry, &o.reference);
    let run = |args: &[&str]| {
        let out = o.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    run(&["sign", reference, "--key", &o.private]);
    let requests = |f: &dyn Fn()| {
        let before = registry.requests().len();
        f();
        registry.requests()[before..].to_vec()
    };
    let verifying = requests(&|| run(&["verify", reference, "--key", &o.public]));
    let paths: Vec<&str> = verifying.iter().map(|r| r.path.as_str()).collect();
    // Resolving: the ping and the manifest the tag names.
    assert_eq!(paths[..2], ["/v2/", "/v2/hello/manifests/1.0"], "{paths:?}");
    let beyond: Vec<String> = verifying[2..]
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                r.path.split('/').nth(3).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(beyond.len(), 4, "{paths:?}");
    // The three lookups go out together; the blob, which needs the
    // manifest, comes last.
    assert!(beyond[3].starts_with("GET blobs"), "{beyond:?}");
    assert_eq!(
        beyond.iter().filter(|r| r.starts_with("GET blobs")).count(),
        1,
        "{beyond:?}"
    );
}
