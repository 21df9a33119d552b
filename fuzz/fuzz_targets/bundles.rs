//! Sigstore bundles, trusted roots and cosign's legacy keyless annotations
//! on arbitrary bytes: each parses or fails with an error, never panics,
//! and nothing verifies — not with a fresh key, not keyless against the
//! public-good root (fuzzed bytes cannot chain to Fulcio).
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use customs_sign::{Artifact, Bundle, Identity, Matcher, PrivateKey, PublicKey, Signer, TrustRoot};
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<PublicKey> = LazyLock::new(|| PrivateKey::generate().unwrap().public_key());
static ROOT: LazyLock<TrustRoot> = LazyLock::new(|| TrustRoot::production().unwrap());
static ANYONE: LazyLock<Identity> = LazyLock::new(|| Identity {
    identity: Matcher::Regex(regex::Regex::new(".*").unwrap()),
    issuer: Matcher::Regex(regex::Regex::new(".*").unwrap()),
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = TrustRoot::from_json(&text, "fuzz root");
    if let Ok(bundle) = Bundle::parse(data, "fuzz bundle") {
        let _ = bundle.to_json();
        let _ = bundle.envelope();
        for artifact in [Artifact::Bytes(b"a.txt"), Artifact::Sha256([7; 32])] {
            assert!(bundle.verify(artifact, Signer::Key(&KEY), &ROOT).is_err());
            assert!(bundle.verify(artifact, Signer::Keyless(&ANYONE), &ROOT).is_err());
        }
    }
    // The legacy annotations, split out of the input.
    let mut parts = text.splitn(3, '\u{1}');
    let annotations = BTreeMap::from([
        ("dev.sigstore.cosign/certificate".to_owned(), parts.next().unwrap_or_default().to_owned()),
        ("dev.sigstore.cosign/bundle".to_owned(), parts.next().unwrap_or_default().to_owned()),
        ("dev.cosignproject.cosign/signature".to_owned(), "MEUCIQ==".to_owned()),
    ]);
    let payload = parts.next().unwrap_or_default().as_bytes();
    for dsse in [false, true] {
        if let Ok(bundle) = Bundle::from_legacy(&annotations, payload, dsse) {
            assert!(bundle.verify(Artifact::Bytes(payload), Signer::Keyless(&ANYONE), &ROOT).is_err());
        }
    }
});
