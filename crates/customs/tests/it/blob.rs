//! `customs sign-blob` and `verify-blob`: the Sigstore conformance suite's
//! bundle cases run through the CLI with the suite's own arguments, and
//! customs's own bundles verified back, failure before success.

use customs_test::sigstore::{self, Case};

use crate::common::{customs, stderr, stdout};

/// The arguments the conformance suite passes for a case: the artifact (a
/// path, or `sha256:<hex>` of it), the bundle, the key or the identity,
/// and the trusted root.
fn suite_args(case: &Case, by_digest: bool) -> Vec<String> {
    let artifact = if by_digest {
        sigstore::sha256_of(&case.artifact)
    } else {
        case.artifact.display().to_string()
    };
    let mut args = vec![
        "verify-blob".to_owned(),
        artifact,
        "--bundle".to_owned(),
        case.bundle.display().to_string(),
        "--trusted-root".to_owned(),
        case.trusted_root.display().to_string(),
    ];
    match &case.key {
        Some(key) => args.extend(["--key".to_owned(), key.display().to_string()]),
        None => args.extend([
            "--certificate-identity".to_owned(),
            sigstore::IDENTITY.to_owned(),
            "--certificate-oidc-issuer".to_owned(),
            sigstore::ISSUER.to_owned(),
        ]),
    }
    args
}

#[test]
fn sigstore_conformance_cases_through_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let cases = sigstore::cases();
    assert_eq!(cases.len(), 36, "the suite's 36 cases");
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.name.as_str();
        for by_digest in [false, true] {
            let out = customs(home.path())
                .args(suite_args(case, by_digest))
                .output()
                .unwrap();
            // A failing case exits 3 naming the check; a malformed trusted
            // root is an input error (2) naming the file and the problem.
            let want = if name.starts_with("trust-root-tlog-missing") {
                2
            } else if name.ends_with("_fail") {
                3
            } else {
                0
            };
            if out.status.code() != Some(want) {
                wrong.push(format!(
                    "{name} (by digest: {by_digest}): exit {:?}, want {want}: {}",
                    out.status.code(),
                    stderr(&out)
                ));
            } else if want == 3 {
                // A failure names the check.
                assert!(
                    stderr(&out).contains("check failed"),
                    "{name}: {}",
                    stderr(&out)
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn sign_blob_then_verify_blob_failure_before_success() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let run = |args: &[&str]| {
        customs(dir)
            .current_dir(dir)
            .env("CUSTOMS_PASSWORD", "pw")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["key", "generate"]).status.success());
    assert!(
        run(&["key", "generate", "--output-key-prefix", "other"])
            .status
            .success()
    );
    fs_err::write(dir.join("sbom.json"), b"{\"spdxVersion\":\"SPDX-2.3\"}\n").unwrap();
    let out = run(&[
        "sign-blob",
        "sbom.json",
        "--key",
        "cosign.key",
        "--bundle",
        "sbom.bundle",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundle: serde_json::Value =
        serde_json::from_slice(&fs_err::read(dir.join("sbom.bundle")).unwrap()).unwrap();
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert!(bundle["verificationMaterial"]["publicKey"]["hint"].is_string());

    // Failures first: no key or identity, wrong key, changed file, garbled
    // bundle, keyless flags for a key-signed bundle.
    let out = run(&["verify-blob", "sbom.json", "--bundle", "sbom.bundle"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing passes by default"));
    // Exit 3 naming the check.
    let refused = |file: &str, bundle: &str, key: &str, why: &str| {
        let out = run(&["verify-blob", file, "--bundle", bundle, "--key", key]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    };
    refused(
        "sbom.json",
        "sbom.bundle",
        "other.pub",
        "signature check failed",
    );
    fs_err::write(
        dir.join("changed.json"),
        b"{\"spdxVersion\":\"SPDX-2.2\"}\n",
    )
    .unwrap();
    refused(
        "changed.json",
        "sbom.bundle",
        "cosign.pub",
        "verification failed",
    );
    let text = fs_err::read_to_string(dir.join("sbom.bundle")).unwrap();
    fs_err::write(dir.join("truncated.bundle"), &text[..text.len() / 2]).unwrap();
    refused(
        "sbom.json",
        "truncated.bundle",
        "cosign.pub",
        "bundle check failed",
    );
    let out = run(&[
        "verify-blob",
        "sbom.json",
        "--bundle",
        "sbom.bundle",
        "--certificate-identity",
        "me@example.com",
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    // Then success, from the file and from its digest.
    let out = run(&[
        "verify-blob",
        "sbom.json",
        "--bundle",
        "sbom.bundle",
        "--key",
        "cosign.pub",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Verified sbom.json"),
        "{}",
        stdout(&out)
    );
    let digest = sigstore::sha256_of(&dir.join("sbom.json"));
    let out = run(&[
        "verify-blob",
        &digest,
        "--bundle",
        "sbom.bundle",
        "--key",
        "cosign.pub",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified"], true);
    assert_eq!(json["transparency_log"], false);

    // The detached signature cosign prints.
    let out = run(&[
        "sign-blob",
        "sbom.json",
        "--key",
        "cosign.key",
        "--output-signature",
        "sbom.sig",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[
        "verify-blob",
        "changed.json",
        "--signature",
        "sbom.sig",
        "--key",
        "cosign.pub",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let out = run(&[
        "verify-blob",
        "sbom.json",
        "--signature",
        "sbom.sig",
        "--key",
        "cosign.pub",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
