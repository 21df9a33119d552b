//! In-process bundle verification time, for `scripts/bench-verify-blob`:
//! the conformance cases that must verify, each verified `RUNS` times
//! (default 50) after loading (`ONLY=a,b` keeps those cases); prints the
//! mean time per verification.
//! Run with `cargo bench -p customs-sign --bench verify_bundles`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use customs_sign::{Artifact, Bundle, Identity, Matcher, PublicKey, Signer, TrustRoot};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn main() {
    let runs: u32 = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop");
    let cases = interop.join("sigstore-conformance/test/assets/bundle-verify");
    let production = fs_err::read_to_string(
        interop.join("sigstore-rust/crates/sigstore-trust-root/src/trusted_root.json"),
    )
    .unwrap();
    let identity = Identity {
        identity: Matcher::Exact(IDENTITY.to_owned()),
        issuer: Matcher::Exact(ISSUER.to_owned()),
    };
    let mut loaded = Vec::new();
    let mut names: Vec<_> = fs_err::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.to_string_lossy().ends_with("_fail"))
        .filter(|p| {
            // ONLY=a,b: the cases the peer also verifies (same set).
            std::env::var("ONLY").map_or(true, |only| {
                only.split(',')
                    .any(|c| p.file_name().is_some_and(|n| n.to_string_lossy() == c))
            })
        })
        .collect();
    names.sort();
    for case in names {
        let root = match fs_err::read_to_string(case.join("trusted_root.json")) {
            Ok(json) => TrustRoot::from_json(&json, "case root").unwrap(),
            Err(_) => TrustRoot::from_json(&production, "production").unwrap(),
        };
        let artifact = fs_err::read(if case.join("artifact").exists() {
            case.join("artifact")
        } else {
            cases.join("a.txt")
        })
        .unwrap();
        let bundle = Bundle::parse(
            &fs_err::read(case.join("bundle.sigstore.json")).unwrap(),
            "b",
        )
        .unwrap();
        let key = fs_err::read_to_string(case.join("key.pub"))
            .ok()
            .map(|pem| PublicKey::from_pem(&pem, "key.pub").unwrap());
        if std::env::var_os("PER_CASE").is_some() {
            let t = Instant::now();
            let signer = key.as_ref().map_or(Signer::Keyless(&identity), Signer::Key);
            for _ in 0..runs {
                bundle
                    .verify(Artifact::Bytes(&artifact), signer, &root)
                    .unwrap();
            }
            println!(
                "  {}: {:.3} ms",
                case.file_name().unwrap().to_string_lossy(),
                t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
            );
        }
        loaded.push((root, artifact, bundle, key));
    }
    let start = Instant::now();
    for _ in 0..runs {
        for (root, artifact, bundle, key) in &loaded {
            let signer = key.as_ref().map_or(Signer::Keyless(&identity), Signer::Key);
            bundle
                .verify(Artifact::Bytes(artifact), signer, root)
                .unwrap();
        }
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs) / loaded.len() as f64;
    println!(
        "customs-sign in process: {} bundles, {per:.3} ms per verification",
        loaded.len()
    );
}
