//! [CycloneDX 1.6](https://cyclonedx.org/docs/1.6/json/) JSON: writer and reader.
//!
//! The image is `metadata.component` (type `container`, version = manifest
//! digest); packages are `library` components; the OS is an
//! `operating-system` component. Evidence (paths, layer) travels in
//! `properties` under the `customs:` namespace.

use serde::{Deserialize, Serialize};

use super::{License, and_join, license, uuid_from};
use crate::{Package, RelationshipKind, Sbom, Subject, rfc3339};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: String,
    spec_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    serial_number: Option<String>,
    #[serde(default = "one")]
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<Dependency>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, Deserialize)]
struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tools: Option<Tools>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    component: Option<Component>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tools {
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Component {
    #[serde(rename = "bom-ref", default, skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    /// Sub-components (a library bundled inside another, an application's
    /// own libraries): packages as much as the top-level ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component>,
}

/// How deep nested `components` are followed. Real documents nest a few
/// levels; JSON nesting deeper than serde_json's limit (128) is refused
/// while parsing, so this is reached only by a document built to be deep.
const MAX_COMPONENT_DEPTH: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Hash {
    alg: String,
    content: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct LicenseObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    depends_on: Vec<String>,
}

fn prop(name: &str, value: impl Into<String>) -> Property {
    Property {
        name: format!("customs:{name}"),
        value: value.into(),
    }
}

/// `licenses` as CycloneDX 1.6 allows: several license objects, or exactly
/// one expression.
fn licenses(texts: &[String]) -> Vec<LicenseChoice> {
    let parsed: Vec<License> = texts.iter().map(|t| license(t)).collect();
    let compound: Vec<&String> = parsed
        .iter()
        .filter_map(|l| match l {
            License::Expression {
                expression,
                single_id: false,
            } => Some(expression),
            _ => None,
        })
        .collect();
    if !compound.is_empty() {
        // One expression joining everything that is an expression.
        let all = parsed.into_iter().filter_map(|l| match l {
            License::Expression { expression, .. } => Some(expression),
            License::Other(_) => None,
        });
        return vec![LicenseChoice::Expression {
            expression: and_join(all),
        }];
    }
    parsed
        .into_iter()
        .map(|l| match l {
            License::Expression { expression, .. } => LicenseChoice::License {
                license: LicenseObject {
                    id: Some(expression),
                    name: None,
                },
            },
            License::Other(text) => LicenseChoice::License {
                license: LicenseObject {
                    id: None,
                    name: Some(text),
                },
            },
        })
        .collect()
}

/// The `bom-ref` of a package's component, for documents that refer to it
/// (vulnerabilities' `affects`).
#[must_use]
pub fn bom_ref(p: &Package) -> String {
    format!("{}#{}", p.purl, p.id())
}

/// Writes a CycloneDX 1.6 JSON document.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn to_vec(sbom: &Sbom) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&document(sbom))?;
    out.push(b'\n');
    Ok(out)
}

/// The CycloneDX 1.6 document as a JSON value, for writers that add to it
/// (the scan report's `vulnerabilities`).
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn to_value(sbom: &Sbom) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(document(sbom))
}

fn document(sbom: &Sbom) -> Bom {
    let subject = &sbom.subject;
    let image_ref = subject
        .digest
        .as_ref()
        .map_or_else(|| format!("image:{}", subject.name), ToString::to_string);
    let mut image_props = Vec::new();
    if let Some(d) = &subject.index_digest {
        image_props.push(prop("image:index-digest", d.as_str()));
    }
    if let Some(d) = &subject.config_digest {
        image_props.push(prop("image:config-digest", d.as_str()));
    }
    if let Some(p) = &subject.platform {
        image_props.push(prop("image:platform", p.as_str()));
    }
    for (i, layer) in subject.layers.iter().enumerate() {
        image_props.push(prop(&format!("image:layer:{}", i + 1), layer.as_str()));
    }
    let image = Component {
        bom_ref: Some(image_ref.clone()),
        kind: "container".to_owned(),
        name: subject.name.clone(),
        version: subject.digest.as_ref().map(ToString::to_string),
        purl: subject.purl.clone(),
        hashes: subject
            .digest
            .iter()
            .map(|d| Hash {
                alg: "SHA-256".to_owned(),
                content: d.hex().to_owned(),
            })
            .collect(),
        properties: image_props,
        ..Component::default()
    };
    let mut components = Vec::new();
    let mut depends_on = Vec::new();
    if let Some(distro) = &sbom.distro {
        let reference = format!(
            "os:{}@{}",
            distro.id,
            distro.version_id.as_deref().unwrap_or("")
        );
        depends_on.push(reference.clone());
        components.push(Component {
            bom_ref: Some(reference),
            kind: "operating-system".to_owned(),
            name: distro.id.clone(),
            version: distro.version_id.clone(),
            description: distro.pretty_name.clone(),
            ..Component::default()
        });
    }
    for p in &sbom.packages {
        let mut properties = vec![
            prop("package:type", p.kind.as_str()),
            prop("package:found-by", p.found_by.as_str()),
        ];
        for (i, l) in p.locations.iter().enumerate() {
            properties.push(prop(&format!("location:{i}:path"), l.path.as_str()));
            if let Some(layer) = l.layer {
                properties.push(prop(
                    &format!("location:{i}:layer"),
                    (layer + 1).to_string(),
                ));
            }
        }
        if let Some(layer) = p.introduced_by_layer {
            properties.push(prop("package:introduced-by-layer", (layer + 1).to_string()));
        }
        if let Some(v) = &p.source_name {
            properties.push(prop("package:source-name", v.as_str()));
        }
        if let Some(v) = &p.source_version {
            properties.push(prop("package:source-version", v.as_str()));
        }
        for (k, v) in &p.metadata {
            properties.push(prop(&format!("metadata:{k}"), v.as_str()));
        }
        let reference = bom_ref(p);
        depends_on.push(reference.clone());
        components.push(Component {
            bom_ref: Some(reference),
            kind: "library".to_owned(),
            name: p.name.clone(),
            version: Some(p.version.clone()),
            purl: Some(p.purl.clone()),
            licenses: licenses(&p.licenses),
            properties,
            ..Component::default()
        });
    }
    let mut dependencies = vec![Dependency {
        reference: image_ref,
        depends_on,
    }];
    let refs: std::collections::BTreeMap<String, String> =
        sbom.packages.iter().map(|p| (p.id(), bom_ref(p))).collect();
    let mut contained: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for r in sbom
        .relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::Contains)
    {
        if let (Some(from), Some(to)) = (refs.get(&r.from), refs.get(&r.to)) {
            contained.entry(from.clone()).or_default().push(to.clone());
        }
    }
    dependencies.extend(
        contained
            .into_iter()
            .map(|(reference, depends_on)| Dependency {
                reference,
                depends_on,
            }),
    );
    let identity = format!(
        "{}{}",
        subject.name,
        subject.digest.as_ref().map_or("", |d| d.as_str())
    );
    let packages_hash: String = sbom.packages.iter().map(Package::id).collect();
    Bom {
        bom_format: "CycloneDX".to_owned(),
        spec_version: "1.6".to_owned(),
        serial_number: Some(format!(
            "urn:uuid:{}",
            uuid_from(format!("{identity}{packages_hash}{}", sbom.created).as_bytes())
        )),
        version: 1,
        metadata: Some(Metadata {
            timestamp: Some(rfc3339(sbom.created)),
            tools: Some(Tools {
                components: vec![Component {
                    kind: "application".to_owned(),
                    name: sbom.creator.name.clone(),
                    version: Some(sbom.creator.version.clone()),
                    ..Component::default()
                }],
            }),
            component: Some(image),
        }),
        components,
        dependencies,
    }
}

/// Reads a CycloneDX 1.4–1.6 JSON document into the model: components with
/// a purl of a known type become [`Package`]s.
///
/// # Errors
/// When it is not CycloneDX JSON.
pub fn from_slice(bytes: &[u8]) -> Result<Sbom, serde_json::Error> {
    let bom: Bom = serde_json::from_slice(bytes)?;
    if bom.bom_format != "CycloneDX" {
        return Err(serde::de::Error::custom(format!(
            "bomFormat is `{}`, not CycloneDX",
            bom.bom_format
        )));
    }
    let mut sbom = Sbom::default();
    // The whole component tree, the subject's sub-components included,
    // depth first in document order.
    let mut pending: Vec<(usize, Component)> = Vec::new();
    if let Some(mut component) = bom.metadata.and_then(|m| m.component) {
        pending.extend(
            std::mem::take(&mut component.components)
                .into_iter()
                .map(|c| (1, c)),
        );
        sbom.subject = Subject {
            name: component.name,
            digest: component
                .version
                .as_deref()
                .and_then(|v| customs_types::Digest::parse(v).ok()),
            purl: component.purl,
            ..Subject::default()
        };
    }
    pending.extend(bom.components.into_iter().map(|c| (0, c)));
    pending.reverse();
    let mut flat = Vec::new();
    while let Some((depth, mut c)) = pending.pop() {
        let children = std::mem::take(&mut c.components);
        if !children.is_empty() {
            if depth + 1 > MAX_COMPONENT_DEPTH {
                return Err(serde::de::Error::custom(format!(
                    "components nest more than {MAX_COMPONENT_DEPTH} levels deep (at `{}`)",
                    c.name
                )));
            }
            pending.extend(children.into_iter().rev().map(|child| (depth + 1, child)));
        }
        flat.push(c);
    }
    for c in flat {
        if c.kind == "operating-system" && sbom.distro.is_none() {
            sbom.distro = Some(crate::Distro {
                id: c.name.to_ascii_lowercase(),
                version_id: c.version.clone(),
                pretty_name: c.description.clone(),
                ..crate::Distro::default()
            });
            continue;
        }
        let Some(purl) = c.purl else { continue };
        let Some(mut package) = super::package_from_purl(
            &c.name,
            c.version.as_deref().unwrap_or(""),
            purl,
            "cyclonedx-document",
        ) else {
            continue;
        };
        for l in c.licenses {
            match l {
                LicenseChoice::Expression { expression } => package.licenses.push(expression),
                LicenseChoice::License { license } => {
                    package.licenses.extend(license.id.or(license.name))
                }
            }
        }
        for p in c.properties {
            match p.name.as_str() {
                "customs:package:source-name" => package.source_name = Some(p.value),
                "customs:package:source-version" => package.source_version = Some(p.value),
                name if name.starts_with("customs:location:") && name.ends_with(":path") => {
                    package.locations.push(crate::Location {
                        path: p.value,
                        layer: None,
                        layer_digest: None,
                    });
                }
                _ => {}
            }
        }
        sbom.packages.push(package);
    }
    super::infer_distro(&mut sbom);
    sbom.normalize();
    Ok(sbom)
}
