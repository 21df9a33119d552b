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

/// Key-based verification (the root is not used for keys without a log
/// entry, but every verification has one).
fn by_key(key: &PublicKey) -> customs_sign::Trust<'_> {
    static ROOT: std::sync::OnceLock<customs_sign::TrustRoot> = std::sync::OnceLock::new();
    customs_sign::Trust {
        signer: customs_sign::Signer::Key(key),
        root: ROOT.get_or_init(|| customs_sign::TrustRoot::production().unwrap()),
    }
}

/// Runs a Python script (with `cryptography`) over `dir`; it must print
/// `verified`.
fn python_verifies(script: &str, dir: &Path) {
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
        by_key(&key),
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
        let v = verify_image(&[layer], by_key(&key), &expect);
        assert_eq!(v.failure(), Some(want));
    }
    assert!(verify_image(std::slice::from_ref(&good), by_key(&key), &expect).passed());
    let other = Digest::sha256(b"another image");
    let v = verify_image(
        std::slice::from_ref(&good),
        by_key(&key),
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
    let v = verify_image(std::slice::from_ref(&good), by_key(&key), &strict_other);
    assert!(matches!(
        v.failure(),
        Some(VerifyError::OtherReference { .. })
    ));
    let lenient = Expectations {
        strict_reference: false,
        ..strict_other
    };
    let v = verify_image(std::slice::from_ref(&good), by_key(&key), &lenient);
    assert!(v.passed());
    assert_eq!(
        v.signatures[0].reference_matches,
        Some(false),
        "reported, not failed"
    );
    let required = [("team".to_owned(), "payments".to_owned())];
    let v = verify_image(
        &[good],
        by_key(&key),
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
            by_key(&key),
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
    python_verifies(script, dir);
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
    let v = verify_attestations(&[layer(&envelope)], by_key(&public), &digest, None);
    assert!(v.passed(), "{:?}", v.failure());
    assert_eq!(
        v.attestations[0].statement.as_ref().unwrap().predicate_type,
        spdx
    );
    // Another image's attestation.
    let other = Digest::sha256(b"other image");
    let v = verify_attestations(&[layer(&envelope)], by_key(&public), &other, None);
    assert!(matches!(v.failure(), Some(VerifyError::OtherDigest { .. })));
    // Another key.
    let stranger = PrivateKey::generate().unwrap().public_key();
    let v = verify_attestations(&[layer(&envelope)], by_key(&stranger), &digest, None);
    assert_eq!(v.failure(), Some(VerifyError::WrongKeyOrPayload));
    // Garbled envelope bytes.
    let mut garbled = layer(&envelope);
    garbled.payload.truncate(garbled.payload.len() / 2);
    let v = verify_attestations(&[garbled], by_key(&public), &digest, None);
    assert!(matches!(
        v.failure(),
        Some(VerifyError::MalformedPayload(_))
    ));
    // Only the asked predicate type.
    let v = verify_attestations(
        &[layer(&envelope)],
        by_key(&public),
        &digest,
        Some("https://slsa.dev/provenance/v1"),
    );
    assert!(v.attestations.is_empty());
    assert_eq!(v.failure(), Some(VerifyError::NoSignature));
    assert!(predicate_type("nonsense").is_err());
}

/// One conformance case through the library, with the artifact's bytes or
/// its digest (the suite runs both); the key when the case has one, else
/// the identity (so `managed-key-no-key_fail` is checked keyless).
fn conformance_case(
    case: &customs_test::sigstore::Case,
    by_digest: bool,
) -> Result<customs_sign::BundleCheck, String> {
    use customs_sign::{Artifact, Bundle, Identity, Matcher, Signer, TrustRoot};
    use customs_test::sigstore::{IDENTITY, ISSUER};
    let root = TrustRoot::from_json(
        &fs_err::read_to_string(&case.trusted_root).unwrap(),
        "trusted_root.json",
    )
    .map_err(|e| e.to_string())?;
    let bytes = fs_err::read(&case.artifact).unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let artifact = if by_digest {
        Artifact::Sha256(digest)
    } else {
        Artifact::Bytes(&bytes)
    };
    let bundle =
        Bundle::parse(&fs_err::read(&case.bundle).unwrap(), "bundle").map_err(|e| e.to_string())?;
    let identity = Identity {
        identity: Matcher::Exact(IDENTITY.to_owned()),
        issuer: Matcher::Exact(ISSUER.to_owned()),
    };
    let key;
    let signer = if let Some(path) = &case.key {
        key = PublicKey::from_pem(&fs_err::read_to_string(path).unwrap(), "key.pub")
            .map_err(|e| e.to_string())?;
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
    let cases = customs_test::sigstore::cases();
    assert_eq!(cases.len(), 36);
    let mut wrong = Vec::new();
    for case in &cases {
        for by_digest in [false, true] {
            let outcome = conformance_case(case, by_digest);
            if outcome.is_ok() != case.must_verify() {
                wrong.push(format!("{} (digest: {by_digest}): {outcome:?}", case.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// cosign's legacy keyless signature (Fulcio certificate + Rekor SET in
/// the layer annotations, 2023): verifies against the public-good root for
/// its identity and issuer only, and fails naming the check otherwise.
#[test]
fn legacy_keyless_signature_verifies_for_its_identity_only() {
    use customs_sign::{Identity, Matcher, Signer, Trust, TrustRoot};
    let dir = "dir-img-cosign-fulcio-rekor-valid";
    let manifest = fs_err::read(interop(&format!("{FIXTURES}/{dir}/manifest.json"))).unwrap();
    let digest = Digest::sha256(&manifest);
    let layer = signature_layer(dir, "signature-1");
    let root = TrustRoot::production().unwrap();
    let expect = Expectations {
        digest: &digest,
        repository: None,
        strict_reference: false,
        annotations: &[],
    };
    let verify = |layer: &SignatureLayer, identity: &str, issuer: &str| {
        let wanted = Identity {
            identity: Matcher::Exact(identity.to_owned()),
            issuer: Matcher::Exact(issuer.to_owned()),
        };
        verify_image(
            std::slice::from_ref(layer),
            Trust {
                signer: Signer::Keyless(&wanted),
                root: &root,
            },
            &expect,
        )
    };
    const WHO: &str = "mitr@redhat.com";
    const ISSUER: &str = "https://github.com/login/oauth";
    // Failures first: another identity, another issuer, a changed SET, a
    // changed payload, no certificate.
    let v = verify(&layer, "someone@example.com", ISSUER);
    assert!(
        matches!(
            v.failure(),
            Some(VerifyError::Bundle {
                check: "identity",
                ..
            })
        ),
        "{:?}",
        v.failure()
    );
    let v = verify(&layer, WHO, "https://accounts.google.com");
    assert!(
        matches!(
            v.failure(),
            Some(VerifyError::Bundle {
                check: "issuer",
                ..
            })
        ),
        "{:?}",
        v.failure()
    );
    let mut bad_set = layer.clone();
    let rekor = bad_set
        .annotations
        .get_mut("dev.sigstore.cosign/bundle")
        .unwrap();
    *rekor = rekor.replacen(
        "\"SignedEntryTimestamp\":\"MEUCIQ",
        "\"SignedEntryTimestamp\":\"MEUCIR",
        1,
    );
    assert!(!verify(&bad_set, WHO, ISSUER).passed());
    let mut changed = layer.clone();
    changed.payload.push(b' ');
    assert!(!verify(&changed, WHO, ISSUER).passed());
    let mut no_cert = layer.clone();
    no_cert
        .annotations
        .remove("dev.sigstore.cosign/certificate");
    let v = verify(&no_cert, WHO, ISSUER);
    assert!(
        matches!(
            v.failure(),
            Some(VerifyError::Bundle {
                check: "certificate",
                ..
            })
        ),
        "{:?}",
        v.failure()
    );
    // Then success, with the identity recorded.
    let v = verify(&layer, WHO, ISSUER);
    assert!(v.passed(), "{:?}", v.failure());
    assert_eq!(v.signatures[0].signer.as_deref(), Some(WHO));
    let wanted = Identity {
        identity: Matcher::Regex(regex::Regex::new("^mitr@redhat\\.com$").unwrap()),
        issuer: Matcher::Regex(regex::Regex::new("^https://github\\.com/").unwrap()),
    };
    let v = verify_image(
        std::slice::from_ref(&layer),
        Trust {
            signer: Signer::Keyless(&wanted),
            root: &root,
        },
        &expect,
    );
    assert!(v.passed(), "{:?}", v.failure());
}

/// customs's own v3 bundles: an image signature and an attestation, made
/// with a key, verify for their digest only.
#[test]
fn bundle_signatures_and_attestations_round_trip() {
    use customs_sign::intoto::{SIGN_PREDICATE, Statement};
    use customs_sign::{Bundle, bundle::BUNDLE_V03};
    let key = PrivateKey::generate().unwrap();
    let public = key.public_key();
    let digest = Digest::sha256(b"an image manifest");
    let statement = Statement::new(
        "reg.example/app",
        &digest,
        SIGN_PREDICATE,
        serde_json::json!({}),
    );
    let bundle = Bundle::sign_dsse(
        &key,
        customs_sign::dsse::IN_TOTO,
        &serde_json::to_vec(&statement).unwrap(),
    )
    .unwrap();
    let layer = SignatureLayer {
        source: "referrer".into(),
        media_type: BUNDLE_V03.into(),
        payload: bundle.to_json().unwrap().into_bytes(),
        annotations: BTreeMap::new(),
    };
    let expect = |d| Expectations {
        digest: d,
        repository: Some("reg.example/app"),
        strict_reference: true,
        annotations: &[],
    };
    let other = Digest::sha256(b"another manifest");
    assert!(
        !verify_image(
            std::slice::from_ref(&layer),
            by_key(&public),
            &expect(&other)
        )
        .passed()
    );
    let stranger = PrivateKey::generate().unwrap().public_key();
    assert!(
        !verify_image(
            std::slice::from_ref(&layer),
            by_key(&stranger),
            &expect(&digest)
        )
        .passed()
    );
    let mut garbled = layer.clone();
    garbled.payload.truncate(40);
    let v = verify_image(
        std::slice::from_ref(&garbled),
        by_key(&public),
        &expect(&digest),
    );
    assert!(
        matches!(
            v.failure(),
            Some(VerifyError::Bundle {
                check: "bundle",
                ..
            })
        ),
        "{:?}",
        v.failure()
    );
    let v = verify_image(
        std::slice::from_ref(&layer),
        by_key(&public),
        &expect(&digest),
    );
    assert!(v.passed(), "{:?}", v.failure());
    // The same bundle is not an attestation of another type, and an
    // attestation bundle is not a signature.
    let v = customs_sign::verify_attestations(
        std::slice::from_ref(&layer),
        by_key(&public),
        &digest,
        None,
    );
    assert!(v.passed());
    let sbom = Statement::new(
        "reg.example/app",
        &digest,
        "https://spdx.dev/Document",
        serde_json::json!({}),
    );
    let attestation = SignatureLayer {
        payload: Bundle::sign_dsse(
            &key,
            customs_sign::dsse::IN_TOTO,
            &serde_json::to_vec(&sbom).unwrap(),
        )
        .unwrap()
        .to_json()
        .unwrap()
        .into_bytes(),
        ..layer.clone()
    };
    let v = verify_image(
        std::slice::from_ref(&attestation),
        by_key(&public),
        &expect(&digest),
    );
    assert!(
        matches!(v.failure(), Some(VerifyError::NotASignature(_))),
        "{:?}",
        v.failure()
    );
}

/// customs's Sigstore bundles checked by Python's `cryptography` alone,
/// from the bundle JSON: the DSSE signature over the PAE of an image
/// signature bundle, and a `sign-blob` bundle's message signature and
/// digest over the file.
#[test]
fn an_independent_verifier_accepts_customs_bundles() {
    use customs_sign::Bundle;
    use customs_sign::intoto::{SIGN_PREDICATE, Statement};
    let key = PrivateKey::generate().unwrap();
    let digest = Digest::sha256(b"image");
    let statement = Statement::new(
        "registry.example/app",
        &digest,
        SIGN_PREDICATE,
        serde_json::json!({}),
    );
    let dsse = Bundle::sign_dsse(
        &key,
        customs_sign::dsse::IN_TOTO,
        &serde_json::to_vec(&statement).unwrap(),
    )
    .unwrap();
    let blob = Bundle::sign_blob(&key, b"an SBOM file\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    fs_err::write(dir.join("key.pub"), key.public_key().to_pem().unwrap()).unwrap();
    fs_err::write(dir.join("dsse.json"), dsse.to_json().unwrap()).unwrap();
    fs_err::write(dir.join("blob.json"), blob.to_json().unwrap()).unwrap();
    fs_err::write(dir.join("file"), b"an SBOM file\n").unwrap();
    let script = r#"
import base64, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]
key = serialization.load_pem_public_key(open(d + "/key.pub", "rb").read())
der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
hint = base64.b64encode(hashlib.sha256(der).digest()).decode()
b = json.load(open(d + "/dsse.json"))
assert b["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
assert b["verificationMaterial"]["publicKey"]["hint"] == hint
env = b["dsseEnvelope"]
payload = base64.b64decode(env["payload"])
pae = b"DSSEv1 %d %s %d %s" % (len(env["payloadType"]), env["payloadType"].encode(), len(payload), payload)
key.verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))
statement = json.loads(payload)
assert statement["predicateType"] == "https://sigstore.dev/cosign/sign/v1"
assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(b"image").hexdigest()
m = json.load(open(d + "/blob.json"))["messageSignature"]
data = open(d + "/file", "rb").read()
assert base64.b64decode(m["messageDigest"]["digest"]) == hashlib.sha256(data).digest()
assert m["messageDigest"]["algorithm"] == "SHA2_256"
key.verify(base64.b64decode(m["signature"]), data, ec.ECDSA(hashes.SHA256()))
try:
    key.verify(base64.b64decode(m["signature"]), data + b"x", ec.ECDSA(hashes.SHA256()))
    sys.exit("tampered file accepted")
except Exception:
    pass
print("verified")
"#;
    python_verifies(script, dir);
}
