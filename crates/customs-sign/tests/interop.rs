//! customs-sign against real outside material (`../shared/interop`): keys
//! and signatures made by cosign and containers/image, with the results
//! their NOTICE files say each must give. Failure cases come first.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use customs_sign::verify::Expectations;
use customs_sign::{
    KeyError, Payload, PrivateKey, PublicKey, SignatureLayer, VerifyError, verify_image,
};
use customs_types::Digest;
use sha2::Digest as _;

fn interop(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(path)
}

fn read(path: &str) -> String {
    fs_err::read_to_string(interop(path)).unwrap()
}

const KEYS: &str = "cosign/extracted/pkg/cosign/keys_test";
const FIXTURES: &str = "containers-image/signature/fixtures";

#[test]
fn cosign_encrypted_keys_load_with_their_password_and_only_then() {
    for name in ["pemcosignkey", "pemsigstorekey"] {
        let pem = read(&format!("{KEYS}/{name}.key"));
        let err = PrivateKey::from_pem(&pem, b"wrong", name).unwrap_err();
        assert!(matches!(err, KeyError::WrongPassword { .. }), "{err}");
        let key = PrivateKey::from_pem(&pem, b"hello", name).unwrap();
        let public = PublicKey::from_pem(&read(&format!("{KEYS}/{name}.pub")), name).unwrap();
        assert_eq!(key.public_key(), public, "{name}");
    }
    // SEC1 inside the envelope: cosign refuses it, so does customs.
    let pem = read(&format!("{KEYS}/pemcosigneckey.key"));
    let err = PrivateKey::from_pem(&pem, b"hello", "pemcosigneckey").unwrap_err();
    assert!(err.to_string().contains("not a PKCS#8"), "{err}");
}

#[test]
fn keys_customs_writes_load_back_and_sign() {
    let key = PrivateKey::generate().unwrap();
    let pem = key.to_cosign_pem(b"pw").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    assert!(PrivateKey::from_pem(&pem, b"other", "k").is_err());
    let back = PrivateKey::from_pem(&pem, b"pw", "k").unwrap();
    assert_eq!(back.public_key(), key.public_key());
    let public = PublicKey::from_pem(&key.public_key().to_pem().unwrap(), "p").unwrap();
    let signature = back.sign_base64(b"payload");
    assert_eq!(public.verify_base64(b"payload", &signature), Ok(()));
    assert_eq!(
        public.verify_base64(b"payload!", &signature),
        Err(VerifyError::WrongKeyOrPayload)
    );
    assert_eq!(
        public.verify_base64(b"payload", "not base64!"),
        Err(VerifyError::BadEncoding)
    );
    let other = PrivateKey::generate().unwrap().public_key();
    assert_eq!(
        other.verify_base64(b"payload", &signature),
        Err(VerifyError::WrongKeyOrPayload)
    );
}

#[test]
fn hostile_key_files_are_refused_naming_the_problem() {
    let kms = [
        "awskms://x",
        "not pem at all",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ];
    for text in kms {
        assert!(PrivateKey::from_pem(text, b"", "k").is_err(), "{text}");
    }
    // An envelope asking scrypt for N = 2^30 is refused before any work.
    let envelope = r#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AAAA"},"ciphertext":"AA=="}"#;
    let pem = format!(
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n{}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(envelope)
    );
    let err = PrivateKey::from_pem(&pem, b"x", "hostile.key").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("hostile.key: scrypt parameters"),
        "{err}"
    );
}

#[test]
fn the_payload_is_cosigns_byte_for_byte() {
    let golden = fs_err::read(interop(
        "cosign/extracted/pkg/cosign/simple_signing_payload.golden.json",
    ))
    .unwrap();
    let digest =
        Digest::parse("sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec")
            .unwrap();
    let payload = Payload::new("index.docker.io/namespace/image", &digest);
    assert_eq!(payload.to_bytes(), golden);
    assert_eq!(Payload::parse(&golden).unwrap(), payload);
}

/// A `signature-N` file of containers/image: `\0sigstore-json\n` + JSON.
fn signature_layer(dir: &str, file: &str) -> SignatureLayer {
    let bytes = fs_err::read(interop(&format!("{FIXTURES}/{dir}/{file}"))).unwrap();
    let json = &bytes[b"\0sigstore-json\n".len()..];
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    let annotations: BTreeMap<String, String> =
        serde_json::from_value(value["annotations"].clone()).unwrap();
    SignatureLayer {
        source: format!("{dir}/{file}"),
        media_type: value["mimeType"].as_str().unwrap().to_owned(),
        payload: base64::engine::general_purpose::STANDARD
            .decode(value["payload"].as_str().unwrap())
            .unwrap(),
        annotations,
    }
}

fn verify_fixture(dir: &str, key: &str) -> customs_sign::ImageVerification {
    let path = interop(&format!("{FIXTURES}/{dir}"));
    let manifest = fs_err::read(path.join("manifest.json")).unwrap();
    let digest = Digest::sha256(&manifest);
    let mut layers = Vec::new();
    for n in 1.. {
        if !path.join(format!("signature-{n}")).exists() {
            break;
        }
        layers.push(signature_layer(dir, &format!("signature-{n}")));
    }
    let key = PublicKey::from_pem(&read(&format!("{FIXTURES}/{key}")), key).unwrap();
    verify_image(
        &layers,
        &key,
        &Expectations {
            digest: &digest,
            repository: None,
            strict_reference: false,
            annotations: &[],
        },
    )
}

/// The expected results of containers-image's NOTICE.md, failures first.
#[test]
fn containers_image_cosign_fixtures_verify_as_upstream_says() {
    for dir in [
        "dir-img-cosign-manifest-digest-error",
        "dir-img-cosign-modified-manifest",
    ] {
        let v = verify_fixture(dir, "cosign.pub");
        assert!(!v.passed(), "{dir}");
        assert!(
            matches!(v.failure(), Some(VerifyError::OtherDigest { .. })),
            "{dir}: {:?}",
            v.failure()
        );
    }
    let v = verify_fixture("dir-img-cosign-other-attachment", "cosign.pub");
    assert!(!v.passed());
    assert!(matches!(v.failure(), Some(VerifyError::NotASignature(_))));
    // The right signature with another key.
    let v = verify_fixture("dir-img-cosign-valid", "cosign2.pub");
    assert_eq!(v.failure(), Some(VerifyError::WrongKeyOrPayload));
    // "Any valid signature" semantics: one of two.
    let v = verify_fixture("dir-img-cosign-mixed", "cosign.pub");
    assert!(v.passed());
    assert_eq!(
        v.signatures
            .iter()
            .map(|s| s.check.verified)
            .collect::<Vec<_>>(),
        [false, true]
    );
    for (dir, key, count) in [
        ("dir-img-cosign-valid", "cosign.pub", 1),
        ("dir-img-cosign-valid-2", "cosign.pub", 2),
        ("dir-img-cosign-valid-with-tag", "cosign.pub", 1),
        ("dir-img-cosign-key-rekor-valid", "cosign2.pub", 1),
    ] {
        let v = verify_fixture(dir, key);
        assert!(v.passed(), "{dir}: {:?}", v.failure());
        assert_eq!(
            v.signatures.iter().filter(|s| s.check.verified).count(),
            count,
            "{dir}"
        );
    }
}

/// A payload changed by one byte, a truncated signature, and a signature
/// over another digest: each fails, naming its check.
#[test]
fn tampering_fails_the_check_it_breaks() {
    let good = signature_layer("dir-img-cosign-valid", "signature-1");
    let manifest = fs_err::read(interop(&format!(
        "{FIXTURES}/dir-img-cosign-valid/manifest.json"
    )))
    .unwrap();
    let digest = Digest::sha256(&manifest);
    let key = PublicKey::from_pem(&read(&format!("{FIXTURES}/cosign.pub")), "cosign.pub").unwrap();
    let expect = Expectations {
        digest: &digest,
        repository: Some("192.168.64.2:5000/cosign-signed-single-sample"),
        strict_reference: true,
        annotations: &[],
    };
    let mut changed = good.clone();
    changed.payload[10] ^= 1;
    let mut truncated = good.clone();
    let sig = truncated.annotations["dev.cosignproject.cosign/signature"].clone();
    truncated.annotations.insert(
        "dev.cosignproject.cosign/signature".into(),
        sig[..20].to_owned(),
    );
    let mut unsigned = good.clone();
    unsigned.annotations.clear();
    for (layer, want) in [
        (changed, VerifyError::WrongKeyOrPayload),
        (truncated, VerifyError::BadEncoding),
        (unsigned, VerifyError::MissingSignature),
    ] {
        let v = verify_image(&[layer], &key, &expect);
        assert_eq!(v.failure(), Some(want));
    }
    assert!(verify_image(std::slice::from_ref(&good), &key, &expect).passed());
    let other = Digest::sha256(b"another image");
    let v = verify_image(
        std::slice::from_ref(&good),
        &key,
        &Expectations {
            digest: &other,
            ..expect.clone()
        },
    );
    assert!(matches!(v.failure(), Some(VerifyError::OtherDigest { .. })));
    let strict_other = Expectations {
        repository: Some("example.com/else"),
        ..expect.clone()
    };
    let v = verify_image(std::slice::from_ref(&good), &key, &strict_other);
    assert!(matches!(
        v.failure(),
        Some(VerifyError::OtherReference { .. })
    ));
    let lenient = Expectations {
        strict_reference: false,
        ..strict_other
    };
    let v = verify_image(std::slice::from_ref(&good), &key, &lenient);
    assert!(v.passed());
    assert_eq!(
        v.signatures[0].reference_matches,
        Some(false),
        "reported, not failed"
    );
    let required = [("team".to_owned(), "payments".to_owned())];
    let v = verify_image(
        &[good],
        &key,
        &Expectations {
            annotations: &required,
            ..expect
        },
    );
    assert!(matches!(
        v.failure(),
        Some(VerifyError::AnnotationMissing { .. })
    ));
    assert_eq!(
        verify_image(
            &[],
            &key,
            &Expectations {
                digest: &digest,
                repository: None,
                strict_reference: false,
                annotations: &[]
            }
        )
        .failure(),
        Some(VerifyError::NoSignature)
    );
}

/// customs's signatures checked by an independent verifier: Python's
/// `cryptography` over the exact bytes cosign verifies.
#[test]
fn an_independent_verifier_accepts_customs_signatures() {
    let key = PrivateKey::generate().unwrap();
    let digest = Digest::sha256(b"image");
    let payload = Payload::new("registry.example/app", &digest).to_bytes();
    let signature = key.sign_base64(&payload);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fs_err::write(dir.join("payload"), &payload).unwrap();
    fs_err::write(dir.join("key.pub"), key.public_key().to_pem().unwrap()).unwrap();
    fs_err::write(dir.join("sig"), &signature).unwrap();
    let script = r#"
import base64, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]
key = serialization.load_pem_public_key(open(d + "/key.pub", "rb").read())
sig = base64.b64decode(open(d + "/sig").read())
payload = open(d + "/payload", "rb").read()
key.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
try:
    key.verify(sig, payload + b" ", ec.ECDSA(hashes.SHA256()))
    sys.exit("tampered payload accepted")
except Exception:
    pass
print("verified")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .expect("python3 with `cryptography` (scripts/test installs it)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "verified",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The DSSE spec's own test vector: the PAE bytes, and its signature (raw
/// `r || s`) and the DER form cosign would write, both verifying.
#[test]
fn dsse_spec_vector() {
    use customs_sign::dsse::{Envelope, pae};
    let vector: serde_json::Value =
        serde_json::from_str(&read("dsse/extracted/test-vector.json")).unwrap();
    let s = |k: &str| vector[k].as_str().unwrap().to_owned();
    let pae_bytes = pae(&s("payloadType"), s("payload_utf8").as_bytes());
    assert_eq!(String::from_utf8(pae_bytes.clone()).unwrap(), s("pae_utf8"));
    let key = PublicKey::from_pem(&s("public_key_pem"), "vector").unwrap();
    for field in ["signature_raw_r_s_b64", "signature_der_b64"] {
        assert_eq!(key.verify_base64(&pae_bytes, &s(field)), Ok(()), "{field}");
    }
    let envelope = Envelope::parse(&serde_json::to_vec(&vector["envelope"]).unwrap()).unwrap();
    assert_eq!(envelope.verify(&key).unwrap(), b"hello world");
    // One byte of the payload changed: the PAE differs, nothing verifies.
    let mut changed = envelope.clone();
    changed.payload = base64::engine::general_purpose::STANDARD.encode("hello worle");
    assert_eq!(changed.verify(&key), Err(VerifyError::WrongKeyOrPayload));
    // Truncated or garbled envelopes are refused before any crypto.
    for bad in [
        &b"{\"payload\":\"aGk=\",\"payloadType\":\"x\",\"signatures\":[]}"[..],
        b"{\"payload\":",
        b"[]",
    ] {
        assert!(
            Envelope::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

/// customs's own attestations: the statement, its subject, and each way an
/// attestation can fail.
#[test]
fn attestations_verify_only_for_their_subject_and_key() {
    use customs_sign::dsse::{Envelope, IN_TOTO, MEDIA_TYPE};
    use customs_sign::intoto::{Statement, predicate_type};
    use customs_sign::verify_attestations;
    let key = PrivateKey::generate().unwrap();
    let digest = Digest::sha256(b"image");
    let spdx = predicate_type("spdx").unwrap();
    let statement = Statement::new(
        "registry.example/app",
        &digest,
        &spdx,
        serde_json::json!({"spdxVersion": "SPDX-2.3"}),
    );
    let envelope = Envelope::sign(IN_TOTO, &serde_json::to_vec(&statement).unwrap(), &key);
    let layer = |envelope: &Envelope| SignatureLayer {
        source: "att".into(),
        media_type: MEDIA_TYPE.into(),
        payload: serde_json::to_vec(envelope).unwrap(),
        annotations: BTreeMap::from([("predicateType".to_owned(), spdx.clone())]),
    };
    let public = key.public_key();
    let v = verify_attestations(&[layer(&envelope)], &public, &digest, None);
    assert!(v.passed(), "{:?}", v.failure());
    assert_eq!(
        v.attestations[0].statement.as_ref().unwrap().predicate_type,
        spdx
    );
    // Another image's attestation.
    let other = Digest::sha256(b"other image");
    let v = verify_attestations(&[layer(&envelope)], &public, &other, None);
    assert!(matches!(v.failure(), Some(VerifyError::OtherDigest { .. })));
    // Another key.
    let stranger = PrivateKey::generate().unwrap().public_key();
    let v = verify_attestations(&[layer(&envelope)], &stranger, &digest, None);
    assert_eq!(v.failure(), Some(VerifyError::WrongKeyOrPayload));
    // Garbled envelope bytes.
    let mut garbled = layer(&envelope);
    garbled.payload.truncate(garbled.payload.len() / 2);
    let v = verify_attestations(&[garbled], &public, &digest, None);
    assert!(matches!(
        v.failure(),
        Some(VerifyError::MalformedPayload(_))
    ));
    // Only the asked predicate type.
    let v = verify_attestations(
        &[layer(&envelope)],
        &public,
        &digest,
        Some("https://slsa.dev/provenance/v1"),
    );
    assert!(v.attestations.is_empty());
    assert_eq!(v.failure(), Some(VerifyError::NoSignature));
    assert!(predicate_type("nonsense").is_err());
}

const CONFORMANCE: &str = "sigstore-conformance/test/assets/bundle-verify";
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// One conformance case through the library, with the artifact's bytes or
/// its digest (the suite runs both).
fn conformance_case(case: &Path, by_digest: bool) -> Result<customs_sign::BundleCheck, String> {
    use customs_sign::{Artifact, Bundle, Identity, Matcher, Signer, TrustRoot};
    let root = if case.join("trusted_root.json").exists() {
        TrustRoot::from_json(
            &fs_err::read_to_string(case.join("trusted_root.json")).unwrap(),
            "trusted_root.json",
        )
    } else {
        TrustRoot::from_json(
            &read("sigstore-rust/crates/sigstore-trust-root/src/trusted_root.json"),
            "production",
        )
    }
    .map_err(|e| e.to_string())?;
    let artifact_path = if case.join("artifact").exists() {
        case.join("artifact")
    } else {
        case.parent().unwrap().join("a.txt")
    };
    let bytes = fs_err::read(artifact_path).unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let artifact = if by_digest {
        Artifact::Sha256(digest)
    } else {
        Artifact::Bytes(&bytes)
    };
    let bundle = Bundle::parse(
        &fs_err::read(case.join("bundle.sigstore.json")).unwrap(),
        "bundle",
    )
    .map_err(|e| e.to_string())?;
    let identity = Identity {
        identity: Matcher::Exact(IDENTITY.to_owned()),
        issuer: Matcher::Exact(ISSUER.to_owned()),
    };
    let key;
    // The suite's protocol: `--key` when the case has a key, else the
    // identity flags (so `managed-key-no-key_fail` is checked keyless).
    let signer = if let Ok(pem) = fs_err::read_to_string(case.join("key.pub")) {
        key = PublicKey::from_pem(&pem, "key.pub").map_err(|e| e.to_string())?;
        Signer::Key(&key)
    } else {
        Signer::Keyless(&identity)
    };
    bundle
        .verify(artifact, signer, &root)
        .map_err(|e| e.to_string())
}

#[test]
fn sigstore_conformance_bundle_cases_pass_or_fail_as_the_suite_says() {
    let mut cases: Vec<PathBuf> = fs_err::read_dir(interop(CONFORMANCE))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 36);
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let must_fail = name.ends_with("_fail");
        for by_digest in [false, true] {
            let outcome = conformance_case(case, by_digest);
            if outcome.is_ok() == must_fail {
                wrong.push(format!("{name} (digest: {by_digest}): {outcome:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
