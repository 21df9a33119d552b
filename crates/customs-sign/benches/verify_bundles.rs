//! In-process bundle verification time, for `scripts/bench-verify-blob`:
//! the conformance cases that must verify, each verified `RUNS` times
//! (default 50) after loading (`ONLY=a,b` keeps those cases); prints the
//! mean time per verification.
//! Run with `cargo bench -p customs-sign --bench verify_bundles`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use customs_sign::{Artifact, Bundle, Identity, Matcher, PublicKey, Signer, TrustRoot};
use customs_test::sigstore::{IDENTITY, ISSUER, cases};

fn main() {
    let runs: u32 = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let identity = Identity {
        identity: Matcher::Exact(IDENTITY.to_owned()),
        issuer: Matcher::Exact(ISSUER.to_owned()),
    };
    // ONLY=a,b: the cases the peer also verifies (same set).
    let only = std::env::var("ONLY").ok();
    let mut loaded = Vec::new();
    for case in cases().into_iter().filter(|c| c.must_verify()).filter(|c| {
        only.as_ref()
            .is_none_or(|only| only.split(',').any(|n| n == c.name))
    }) {
        let root =
            TrustRoot::from_json(&fs_err::read_to_string(&case.trusted_root).unwrap(), "root")
                .unwrap();
        let artifact = fs_err::read(&case.artifact).unwrap();
        let bundle = Bundle::parse(&fs_err::read(&case.bundle).unwrap(), "b").unwrap();
        let key = case
            .key
            .as_ref()
            .map(|k| PublicKey::from_pem(&fs_err::read_to_string(k).unwrap(), "key.pub").unwrap());
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
                case.name,
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
