//! The signature parsers on arbitrary bytes: key PEMs (cosign's encrypted
//! envelope included), simple-signing payloads, DSSE envelopes and the
//! verification of signature and attestation layers. Each either works or
//! fails with an error, never panics, and nothing verifies with a key that
//! did not sign it.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use customs_sign::{Payload, PrivateKey, PublicKey, SignatureLayer};
use customs_sign::dsse::Envelope;
use customs_sign::verify::Expectations;
use customs_types::Digest;
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<PublicKey> = LazyLock::new(|| PrivateKey::generate().unwrap().public_key());
static ROOT: LazyLock<customs_sign::TrustRoot> =
    LazyLock::new(|| customs_sign::TrustRoot::production().unwrap());

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Cheap scrypt only: the envelope bounds the work it may ask for.
    let _ = PrivateKey::from_pem(&text, b"pw", "fuzz.key");
    let _ = PublicKey::from_pem(&text, "fuzz.pub");
    let _ = Payload::parse(data);
    if let Ok(envelope) = Envelope::parse(data) {
        assert!(envelope.verify(&KEY).is_err(), "a fresh key verified a fuzzed envelope");
    }
    let digest = Digest::sha256(b"image");
    for media_type in [customs_sign::simple_signing::MEDIA_TYPE, customs_sign::dsse::MEDIA_TYPE] {
        let layer = SignatureLayer {
            source: "fuzz".into(),
            media_type: media_type.into(),
            payload: data.to_vec(),
            annotations: BTreeMap::from([(
                customs_sign::simple_signing::SIGNATURE_ANNOTATION.to_owned(),
                text.to_string(),
            )]),
        };
        let expect = Expectations { digest: &digest, repository: Some("r"), strict_reference: true, annotations: &[] };
        let trust = customs_sign::Trust { signer: customs_sign::Signer::Key(&KEY), root: &ROOT };
        assert!(!customs_sign::verify_image(std::slice::from_ref(&layer), trust, &expect).passed());
        assert!(!customs_sign::verify_attestations(&[layer], trust, &digest, None).passed());
    }
});
