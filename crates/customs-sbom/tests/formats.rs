//! Every SPDX and CycloneDX document customs writes validates against the
//! official JSON schema, and reads back into the same packages.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use customs_sbom::format::{cyclonedx16, native, spdx23};
use customs_sbom::{
    Distro, Location, Package, PackageType, Relationship, RelationshipKind, Sbom, Subject, purl,
};
use customs_types::Digest;
use serde_json::Value;

fn validate(schema_file: &str, document: &[u8]) {
    customs_test::schema::assert_valid(schema_file, document);
}

fn package(
    kind: PackageType,
    ty: &str,
    ns: Option<&str>,
    name: &str,
    version: &str,
    licenses: &[&str],
) -> Package {
    let mut p = Package::new(
        kind,
        name,
        version,
        purl(ty, ns, name, version, &[]).unwrap(),
        "test-cataloger",
        &format!("/evidence/{name}"),
    );
    p.licenses = licenses.iter().map(|l| (*l).to_owned()).collect();
    p.locations[0].layer = Some(0);
    p.introduced_by_layer = Some(0);
    p
}

fn sample() -> Sbom {
    let layer = Digest::sha256(b"layer");
    let mut openssl = package(
        PackageType::Deb,
        "deb",
        Some("debian"),
        "libssl3",
        "3.0.15-1~deb12u1",
        &["Apache-2.0"],
    );
    openssl.source_name = Some("openssl".to_owned());
    openssl.metadata.insert(
        "maintainer".to_owned(),
        "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>".to_owned(),
    );
    let go = package(
        PackageType::GoModule,
        "golang",
        Some("github.com/docker"),
        "distribution",
        "v2.8.2+incompatible",
        &[],
    );
    let sys = package(
        PackageType::GoModule,
        "golang",
        Some("golang.org/x"),
        "sys",
        "v0.0.0-20230808",
        &["BSD-3-Clause"],
    );
    let mut sbom = Sbom {
        subject: Subject {
            name: "registry.example/app:1.0".to_owned(),
            digest: Some(Digest::sha256(b"manifest")),
            purl: Some(
                purl(
                    "oci",
                    None,
                    "app",
                    Digest::sha256(b"manifest").as_str(),
                    &[
                        ("arch", "amd64"),
                        ("repository_url", "registry.example/app"),
                        ("tag", "1.0"),
                    ],
                )
                .unwrap(),
            ),
            index_digest: Some(Digest::sha256(b"index")),
            config_digest: Some(Digest::sha256(b"config")),
            platform: Some("linux/amd64".to_owned()),
            layers: vec![layer.clone()],
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            id_like: vec![],
        }),
        packages: vec![
            openssl,
            package(
                PackageType::Python,
                "pypi",
                None,
                "requests",
                "2.25.1",
                &["Apache 2.0"],
            ),
            package(
                PackageType::Npm,
                "npm",
                Some("@babel"),
                "core",
                "7.0.0",
                &["MIT"],
            ),
            package(
                PackageType::RustCrate,
                "cargo",
                None,
                "base64",
                "0.13.0",
                &["MIT OR Apache-2.0"],
            ),
            package(
                PackageType::JavaArchive,
                "maven",
                Some("org.apache.logging.log4j"),
                "log4j-core",
                "2.19.0",
                &["Some proprietary licence text", "GPL-2.0+"],
            ),
            go.clone(),
            sys.clone(),
        ],
        relationships: vec![Relationship {
            from: go.id(),
            to: sys.id(),
            kind: RelationshipKind::Contains,
        }],
        created: 1_704_067_200,
        ..Sbom::default()
    };
    sbom.packages[0].locations.push(Location {
        path: "/var/lib/dpkg/info/libssl3.list".into(),
        layer: Some(0),
        layer_digest: Some(layer),
    });
    sbom.normalize();
    sbom
}

#[test]
fn spdx_validates_and_reads_back() {
    let sbom = sample();
    let doc = spdx23::to_vec(&sbom).unwrap();
    validate("spdx-2.3.schema.json", &doc);
    let v: Value = serde_json::from_slice(&doc).unwrap();
    let namespace = v["documentNamespace"].as_str().unwrap();
    assert!(
        namespace.contains(sbom.subject.digest.as_ref().unwrap().hex()),
        "{namespace}"
    );
    assert_eq!(v["creationInfo"]["created"], "2024-01-01T00:00:00Z");
    assert!(
        v["hasExtractedLicensingInfos"][0]["licenseId"]
            .as_str()
            .unwrap()
            .starts_with("LicenseRef-")
    );
    let back = spdx23::from_slice(&doc).unwrap();
    assert_eq!(back.subject.digest, sbom.subject.digest);
    // Issue 14: the image package carries the purl spec's `oci` purl.
    let image = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "CONTAINER")
        .unwrap();
    assert_eq!(
        image["externalRefs"][0]["referenceLocator"].as_str(),
        sbom.subject.purl.as_deref()
    );
    assert!(
        sbom.subject
            .purl
            .as_deref()
            .unwrap()
            .starts_with("pkg:oci/app@sha256:"),
        "{:?}",
        sbom.subject.purl
    );
    assert_eq!(back.subject.purl, sbom.subject.purl);
    let names = |s: &Sbom| {
        s.packages
            .iter()
            .map(|p| (p.kind, p.name.clone(), p.version.clone(), p.purl.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&back), names(&sbom));
    assert_eq!(
        back.packages
            .iter()
            .find(|p| p.name == "libssl3")
            .unwrap()
            .source_name
            .as_deref(),
        Some("openssl")
    );
}

#[test]
fn cyclonedx_validates_and_reads_back() {
    let sbom = sample();
    let doc = cyclonedx16::to_vec(&sbom).unwrap();
    validate("bom-1.6.schema.json", &doc);
    let v: Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(
        v["metadata"]["component"]["version"],
        sbom.subject.digest.as_ref().unwrap().as_str()
    );
    // Issue 14: the metadata component had no purl at all.
    assert_eq!(
        v["metadata"]["component"]["purl"].as_str(),
        sbom.subject.purl.as_deref()
    );
    assert_eq!(v["metadata"]["component"]["type"], "container");
    let back = cyclonedx16::from_slice(&doc).unwrap();
    let names = |s: &Sbom| {
        s.packages
            .iter()
            .map(|p| (p.kind, p.name.clone(), p.version.clone(), p.purl.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&back), names(&sbom));
}

#[test]
fn documents_are_reproducible() {
    assert_eq!(
        spdx23::to_vec(&sample()).unwrap(),
        spdx23::to_vec(&sample()).unwrap()
    );
    assert_eq!(
        cyclonedx16::to_vec(&sample()).unwrap(),
        cyclonedx16::to_vec(&sample()).unwrap()
    );
    let native_doc = native::to_vec(&sample()).unwrap();
    assert_eq!(native::from_slice(&native_doc).unwrap(), sample());
}

#[test]
fn a_schema_violation_is_caught_by_the_validator() {
    // The check itself must be able to fail: a document without creators.
    let mut v: Value = serde_json::from_slice(&spdx23::to_vec(&sample()).unwrap()).unwrap();
    v["creationInfo"]["creators"] = serde_json::json!([]);
    let errors =
        customs_test::schema::errors("spdx-2.3.schema.json", &serde_json::to_vec(&v).unwrap());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("creators") || e.contains("[]")),
        "{errors:?}"
    );
}
