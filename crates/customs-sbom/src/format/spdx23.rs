//! [SPDX 2.3](https://spdx.github.io/spdx-spec/v2.3/) JSON: writer and reader.
//!
//! The image is a package with `primaryPackagePurpose: CONTAINER`, its
//! manifest digest as checksum and an `oci` purl; the document DESCRIBES it
//! and it CONTAINS every package. Layer and path evidence travel in
//! `sourceInfo` and package annotations so that nothing is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{License, and_join, license, license_ref, short_hash};
use crate::{Location, Package, RelationshipKind, Sbom, Subject, rfc3339};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: String,
    data_license: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
    #[serde(default)]
    relationships: Vec<SpdxRelationship>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    #[serde(default = "noassertion")]
    download_location: String,
    #[serde(default)]
    files_analyzed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    license_concluded: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    license_declared: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    copyright_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supplier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

fn noassertion() -> String {
    "NOASSERTION".to_owned()
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: String,
    annotator: String,
    comment: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn package_spdx_id(p: &Package) -> String {
    format!(
        "SPDXRef-Package-{}-{}-{}",
        p.kind.as_str(),
        sanitize(&p.name).chars().take(60).collect::<String>(),
        p.id()
    )
}

/// The `pkg:oci/…` purl of the image, when it has a digest.
fn describe_locations(locations: &[Location]) -> String {
    locations
        .iter()
        .map(|l| match l.layer {
            Some(layer) => format!("{} (layer {})", l.path, layer + 1),
            None => l.path.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes an SPDX 2.3 JSON document.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn to_vec(sbom: &Sbom) -> Result<Vec<u8>, serde_json::Error> {
    let created = rfc3339(sbom.created);
    let tool = format!("Tool: {}-{}", sbom.creator.name, sbom.creator.version);
    let subject = &sbom.subject;
    let identity = subject.digest.as_ref().map_or_else(
        || short_hash(subject.name.as_bytes()),
        |d| d.hex().to_owned(),
    );
    let image_id = format!("SPDXRef-Image-{}", &identity[..12.min(identity.len())]);
    let mut extracted: BTreeMap<String, ExtractedLicense> = BTreeMap::new();
    let mut packages = vec![SpdxPackage {
        spdx_id: image_id.clone(),
        name: subject.name.clone(),
        version_info: subject.digest.as_ref().map(ToString::to_string),
        download_location: noassertion(),
        files_analyzed: false,
        license_concluded: None,
        license_declared: None,
        copyright_text: None,
        source_info: None,
        supplier: Some("NOASSERTION".to_owned()),
        primary_package_purpose: Some("CONTAINER".to_owned()),
        checksums: subject
            .digest
            .iter()
            .map(|d| Checksum {
                algorithm: "SHA256".to_owned(),
                checksum_value: d.hex().to_owned(),
            })
            .collect(),
        external_refs: subject
            .purl
            .iter()
            .map(|p| ExternalRef {
                reference_category: "PACKAGE-MANAGER".to_owned(),
                reference_type: "purl".to_owned(),
                reference_locator: p.clone(),
            })
            .collect(),
        annotations: Vec::new(),
    }];
    let mut relationships = vec![SpdxRelationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES".to_owned(),
        related_spdx_element: image_id.clone(),
    }];
    for p in &sbom.packages {
        let declared = if p.licenses.is_empty() {
            "NOASSERTION".to_owned()
        } else {
            let parts: Vec<String> = p
                .licenses
                .iter()
                .map(|l| match license(l) {
                    License::Expression { expression, .. } => expression,
                    License::Other(text) => {
                        let id = license_ref(&text);
                        extracted.entry(id.clone()).or_insert(ExtractedLicense {
                            license_id: id.clone(),
                            extracted_text: text.clone(),
                            name: Some(text),
                        });
                        id
                    }
                })
                .collect();
            and_join(parts)
        };
        let id = package_spdx_id(p);
        let annotate = |comment: String| Annotation {
            annotation_date: created.clone(),
            annotation_type: "OTHER".to_owned(),
            annotator: tool.clone(),
            comment,
        };
        let mut annotations = vec![annotate(format!("customs:type={}", p.kind.as_str()))];
        if let Some(layer) = p.introduced_by_layer {
            let digest = subject
                .layers
                .get(layer)
                .map_or_else(String::new, |d| format!(" {d}"));
            annotations.push(annotate(format!(
                "customs:introduced-by-layer={}{digest}",
                layer + 1
            )));
        }
        for (key, value) in [
            ("source-name", &p.source_name),
            ("source-version", &p.source_version),
        ] {
            if let Some(v) = value {
                annotations.push(annotate(format!("customs:{key}={v}")));
            }
        }
        packages.push(SpdxPackage {
            spdx_id: id.clone(),
            name: p.name.clone(),
            version_info: Some(p.version.clone()),
            download_location: noassertion(),
            files_analyzed: false,
            license_concluded: Some("NOASSERTION".to_owned()),
            license_declared: Some(declared),
            copyright_text: Some("NOASSERTION".to_owned()),
            source_info: Some(format!(
                "acquired package info from {}: {}",
                p.found_by,
                describe_locations(&p.locations)
            )),
            supplier: Some(p.metadata.get("maintainer").map_or_else(
                || "NOASSERTION".to_owned(),
                |m| format!("Person: {}", m.replace(['\n', '\r'], " ")),
            )),
            primary_package_purpose: Some("LIBRARY".to_owned()),
            checksums: Vec::new(),
            external_refs: vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER".to_owned(),
                reference_type: "purl".to_owned(),
                reference_locator: p.purl.clone(),
            }],
            annotations,
        });
        relationships.push(SpdxRelationship {
            spdx_element_id: image_id.clone(),
            relationship_type: "CONTAINS".to_owned(),
            related_spdx_element: id,
        });
    }
    let ids: BTreeMap<String, String> = sbom
        .packages
        .iter()
        .map(|p| (p.id(), package_spdx_id(p)))
        .collect();
    for r in &sbom.relationships {
        if let (Some(from), Some(to)) = (ids.get(&r.from), ids.get(&r.to)) {
            let relationship_type = match r.kind {
                RelationshipKind::Contains => "CONTAINS",
                RelationshipKind::OwnsFileOf => "OTHER",
            };
            relationships.push(SpdxRelationship {
                spdx_element_id: from.clone(),
                relationship_type: relationship_type.to_owned(),
                related_spdx_element: to.clone(),
            });
        }
    }
    let doc = Document {
        spdx_version: "SPDX-2.3".to_owned(),
        data_license: "CC0-1.0".to_owned(),
        spdx_id: "SPDXRef-DOCUMENT".to_owned(),
        name: subject.name.clone(),
        document_namespace: format!(
            "https://spdx.org/spdxdocs/customs/{}-{identity}",
            sanitize(&subject.name)
        ),
        creation_info: CreationInfo {
            created,
            creators: vec![tool, "Organization: customs".to_owned()],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted.into_values().collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}

/// Reads an SPDX 2.3 JSON document into the model: every package with a
/// purl becomes a [`Package`]; the CONTAINER package becomes the subject.
///
/// # Errors
/// When it is not SPDX 2.x JSON.
pub fn from_slice(bytes: &[u8]) -> Result<Sbom, serde_json::Error> {
    let doc: Document = serde_json::from_slice(bytes)?;
    if !doc.spdx_version.starts_with("SPDX-2.") {
        return Err(serde::de::Error::custom(format!(
            "unsupported spdxVersion `{}`",
            doc.spdx_version
        )));
    }
    let mut sbom = Sbom {
        subject: Subject {
            name: doc.name.clone(),
            ..Subject::default()
        },
        ..Sbom::default()
    };
    for p in doc.packages {
        if p.primary_package_purpose.as_deref() == Some("CONTAINER") {
            sbom.subject.digest = p
                .version_info
                .as_deref()
                .and_then(|v| customs_types::Digest::parse(v).ok());
            sbom.subject.purl = p
                .external_refs
                .iter()
                .find(|r| r.reference_type == "purl")
                .map(|r| r.reference_locator.clone());
            continue;
        }
        let Some(purl) = p
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl")
            .map(|r| r.reference_locator.clone())
        else {
            continue;
        };
        let Some(mut package) = super::package_from_purl(
            &p.name,
            p.version_info.as_deref().unwrap_or(""),
            purl,
            "spdx-document",
        ) else {
            continue;
        };
        if let Some(declared) = p
            .license_declared
            .filter(|l| l != "NOASSERTION" && l != "NONE")
        {
            package.licenses.push(declared);
        }
        for a in &p.annotations {
            if let Some(v) = a.comment.strip_prefix("customs:source-name=") {
                package.source_name = Some(v.to_owned());
            } else if let Some(v) = a.comment.strip_prefix("customs:source-version=") {
                package.source_version = Some(v.to_owned());
            }
        }
        sbom.packages.push(package);
    }
    super::infer_distro(&mut sbom);
    sbom.normalize();
    Ok(sbom)
}
