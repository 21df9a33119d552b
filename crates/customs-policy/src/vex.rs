//! VEX: statements by a supplier or the team that a vulnerability does or
//! does not affect a product. Read from OpenVEX documents (0.2.0 and the
//! older 0.0.1, JSON or YAML) and from CycloneDX BOMs with `vulnerabilities`
//! and `analysis` (CycloneDX VEX).
//!
//! A statement applies to a finding when it names the finding's
//! vulnerability or one of its aliases (or the finding names one of the
//! statement's aliases), and a product that is the image (by digest, as
//! `sha256:…` or `pkg:oci/…@sha256%3A…`; then only its `subcomponents`,
//! when it lists any) or the package itself (by purl; without a version,
//! any version). A statement without products applies to every product.
//! When several apply, the newest (by timestamp, then by the order read)
//! wins, as OpenVEX says. `not_affected` and `fixed` suppress a finding;
//! `affected` and `under_investigation` keep it, annotated.

use serde::{Deserialize, Serialize};

use crate::PolicyError;
use crate::matching::{image_digest_of, purl_matches};

/// The largest VEX document read.
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// A statement's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not affected (with a justification or impact statement).
    NotAffected,
    /// Affected: action is needed.
    Affected,
    /// Fixed in this product.
    Fixed,
    /// Not yet known.
    UnderInvestigation,
}

impl Status {
    /// The OpenVEX name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAffected => "not_affected",
            Self::Affected => "affected",
            Self::Fixed => "fixed",
            Self::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether a finding this statement applies to is suppressed.
    #[must_use]
    pub fn suppresses(self) -> bool {
        matches!(self, Self::NotAffected | Self::Fixed)
    }
}

/// A product a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// Its identifier: an image digest, or a package URL.
    pub id: String,
    /// Packages within it that the statement is about (empty: all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<String>,
}

/// One statement, normalised from either format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The vulnerability.
    pub vulnerability: String,
    /// Its other names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The products (empty: every product).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// The status.
    pub status: Status,
    /// Why not affected (OpenVEX's justification labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Free text on the impact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    /// What to do, for `affected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    /// When it was made (RFC 3339), if said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The document it came from.
    pub document: String,
    #[serde(skip)]
    order: usize,
    #[serde(skip)]
    time: Option<i64>,
}

/// OpenVEX justification labels (0.2.0).
const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

#[derive(Deserialize)]
struct OpenVexDocument {
    #[serde(rename = "@context")]
    context: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    statements: Vec<OpenVexStatement>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vulnerability {
    Name(String),
    Object {
        #[serde(default)]
        name: Option<String>,
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProductRef {
    Id(String),
    Object {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        subcomponents: Vec<ProductRef>,
    },
}

impl ProductRef {
    fn id(&self) -> Option<String> {
        match self {
            Self::Id(s) => Some(s.clone()),
            Self::Object {
                id, identifiers, ..
            } => id.clone().or_else(|| identifiers.get("purl").cloned()),
        }
    }
}

#[derive(Deserialize)]
struct OpenVexStatement {
    vulnerability: Vulnerability,
    #[serde(default)]
    products: Vec<ProductRef>,
    #[serde(default)]
    subcomponents: Vec<ProductRef>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

fn status(text: &str) -> Option<Status> {
    Some(match text {
        "not_affected" => Status::NotAffected,
        "affected" => Status::Affected,
        "fixed" => Status::Fixed,
        "under_investigation" => Status::UnderInvestigation,
        _ => return None,
    })
}

fn openvex(what: &str, doc: OpenVexDocument) -> Result<Vec<Statement>, PolicyError> {
    let failed = |reason: String| PolicyError::Vex {
        what: what.to_owned(),
        reason,
    };
    if !doc.context.starts_with("https://openvex.dev/ns") {
        return Err(failed(format!(
            "@context `{}` is not an OpenVEX context",
            doc.context
        )));
    }
    let mut out = Vec::new();
    for (i, s) in doc.statements.into_iter().enumerate() {
        let at = |reason: &str| failed(format!("statement {}: {reason}", i + 1));
        let (vulnerability, aliases) = match s.vulnerability {
            Vulnerability::Name(n) => (n, Vec::new()),
            Vulnerability::Object { name, id, aliases } => (
                name.or(id)
                    .ok_or_else(|| at("the vulnerability has no name"))?,
                aliases,
            ),
        };
        let status = status(&s.status).ok_or_else(|| {
            at(&format!(
                "status `{}` is not one of not_affected, affected, fixed, under_investigation",
                s.status
            ))
        })?;
        if status == Status::NotAffected
            && s.justification.is_none()
            && s.impact_statement.is_none()
        {
            return Err(at(
                "not_affected needs a justification or an impact_statement (OpenVEX 0.2 §4.3)",
            ));
        }
        if let Some(j) = &s.justification
            && !JUSTIFICATIONS.contains(&j.as_str())
        {
            return Err(at(&format!(
                "justification `{j}` is not one of {}",
                JUSTIFICATIONS.join(", ")
            )));
        }
        // 0.0.1 wrote subcomponents beside the products.
        let shared_subs: Vec<String> = s.subcomponents.iter().filter_map(ProductRef::id).collect();
        let mut products = Vec::new();
        for p in &s.products {
            let id = p.id().ok_or_else(|| at("a product has no @id or purl"))?;
            let mut subcomponents = shared_subs.clone();
            if let ProductRef::Object {
                subcomponents: subs,
                ..
            } = p
            {
                subcomponents.extend(subs.iter().filter_map(ProductRef::id));
            }
            products.push(Product { id, subcomponents });
        }
        let timestamp = s.timestamp.or_else(|| doc.timestamp.clone());
        let time = match &timestamp {
            Some(t) => Some(
                customs_types::time::parse_rfc3339(t)
                    .ok_or_else(|| at(&format!("timestamp `{t}` is not an RFC 3339 date-time")))?,
            ),
            None => None,
        };
        out.push(Statement {
            vulnerability,
            aliases,
            products,
            status,
            justification: s.justification,
            impact_statement: s.impact_statement,
            action_statement: s.action_statement,
            timestamp,
            document: what.to_owned(),
            order: 0,
            time,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct CdxBom {
    #[serde(default)]
    components: Vec<CdxComponent>,
    #[serde(default)]
    vulnerabilities: Vec<CdxVulnerability>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxVulnerability {
    id: String,
    #[serde(default)]
    references: Vec<CdxReference>,
    #[serde(default)]
    analysis: Option<CdxAnalysis>,
    #[serde(default)]
    affects: Vec<CdxAffects>,
}

#[derive(Deserialize)]
struct CdxReference {
    id: String,
}

#[derive(Deserialize)]
struct CdxAnalysis {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    response: Vec<String>,
    #[serde(rename = "lastUpdated", default)]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct CdxAffects {
    #[serde(rename = "ref")]
    reference: String,
}

fn cyclonedx(what: &str, bom: CdxBom) -> Result<Vec<Statement>, PolicyError> {
    let failed = |reason: String| PolicyError::Vex {
        what: what.to_owned(),
        reason,
    };
    let mut refs = std::collections::BTreeMap::new();
    let mut stack: Vec<&CdxComponent> = bom.components.iter().collect();
    while let Some(c) = stack.pop() {
        if let (Some(r), Some(p)) = (&c.bom_ref, &c.purl) {
            refs.insert(r.clone(), p.clone());
        }
        stack.extend(c.components.iter());
    }
    let document_time = bom.metadata.and_then(|m| m.timestamp);
    let mut out = Vec::new();
    for (i, v) in bom.vulnerabilities.into_iter().enumerate() {
        let Some(analysis) = v.analysis else {
            continue; // a finding, not a VEX statement
        };
        let Some(state) = analysis.state else {
            continue;
        };
        let status = match state.as_str() {
            "not_affected" | "false_positive" => Status::NotAffected,
            "resolved" | "resolved_with_pedigree" => Status::Fixed,
            "exploitable" => Status::Affected,
            "in_triage" => Status::UnderInvestigation,
            other => {
                return Err(failed(format!(
                    "vulnerability {} ({}): analysis state `{other}` is not a CycloneDX impact analysis state",
                    i + 1,
                    v.id
                )));
            }
        };
        // CycloneDX justifications map onto OpenVEX's where they mean the same.
        let justification = analysis.justification.as_deref().map(|j| {
            match j {
                "code_not_present" => "vulnerable_code_not_present",
                "code_not_reachable" => "vulnerable_code_not_in_execute_path",
                "requires_configuration" | "requires_dependency" | "requires_environment" => {
                    "vulnerable_code_cannot_be_controlled_by_adversary"
                }
                "protected_by_compiler"
                | "protected_at_runtime"
                | "protected_at_perimeter"
                | "protected_by_mitigating_control" => "inline_mitigations_already_exist",
                other => other,
            }
            .to_owned()
        });
        let impact_statement = analysis.detail.clone().or_else(|| {
            (status == Status::NotAffected && justification.is_none())
                .then(|| format!("CycloneDX analysis state {state}"))
        });
        let products = v
            .affects
            .iter()
            .map(|a| Product {
                id: refs
                    .get(&a.reference)
                    .cloned()
                    .unwrap_or_else(|| a.reference.clone()),
                subcomponents: Vec::new(),
            })
            .collect();
        let timestamp = analysis.last_updated.or_else(|| document_time.clone());
        out.push(Statement {
            vulnerability: v.id,
            aliases: v.references.into_iter().map(|r| r.id).collect(),
            products,
            status,
            justification,
            impact_statement,
            action_statement: (!analysis.response.is_empty()).then(|| analysis.response.join(", ")),
            time: timestamp
                .as_deref()
                .and_then(customs_types::time::parse_rfc3339),
            timestamp,
            document: what.to_owned(),
            order: 0,
        });
    }
    Ok(out)
}

/// Parses a VEX document: OpenVEX (JSON or YAML) or a CycloneDX BOM with
/// analysed vulnerabilities; `what` names it in errors.
///
/// # Errors
/// [`PolicyError::Vex`] naming the document, the statement and the problem
/// (line and column for syntax).
pub fn parse(what: &str, bytes: &[u8]) -> Result<Vec<Statement>, PolicyError> {
    let failed = |reason: String| PolicyError::Vex {
        what: what.to_owned(),
        reason,
    };
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(failed(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| failed(format!("not UTF-8 text: {e}")))?;
    let value: serde_json::Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| failed(format!("not valid JSON: {e}")))?
    } else {
        yaml_serde::from_str(text).map_err(|e| failed(format!("not valid YAML: {e}")))?
    };
    if value.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        let bom: CdxBom = serde_json::from_value(value)
            .map_err(|e| failed(format!("not a CycloneDX VEX document: {e}")))?;
        return cyclonedx(what, bom);
    }
    let mut value = value;
    if value.get("@context").is_none() {
        // go-vex's YAML form has statements and no @context.
        if value
            .get("statements")
            .is_some_and(serde_json::Value::is_array)
        {
            value["@context"] = serde_json::Value::from("https://openvex.dev/ns");
        } else {
            return Err(failed(
                "neither an OpenVEX document (no @context) nor a CycloneDX BOM (no bomFormat)"
                    .to_owned(),
            ));
        }
    }
    let doc: OpenVexDocument = serde_json::from_value(value)
        .map_err(|e| failed(format!("not an OpenVEX document: {e}")))?;
    openvex(what, doc)
}

/// What a finding is, for VEX.
#[derive(Debug, Clone, Copy)]
pub struct FindingRef<'a> {
    /// The vulnerability id and aliases.
    pub ids: &'a [String],
    /// The package's purl.
    pub purl: &'a str,
    /// The image's digest.
    pub image_digest: Option<&'a str>,
}

/// Every statement read, in order.
#[derive(Debug, Clone, Default)]
pub struct VexSet {
    statements: Vec<Statement>,
}

impl VexSet {
    /// Adds statements (later ones win ties).
    pub fn extend(&mut self, statements: Vec<Statement>) {
        for mut s in statements {
            s.order = self.statements.len();
            self.statements.push(s);
        }
    }

    /// Reads VEX documents from files.
    ///
    /// # Errors
    /// As [`parse`], and when a file cannot be read.
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Self, PolicyError> {
        let mut set = Self::default();
        for path in paths {
            let text = crate::read_text(path, MAX_DOCUMENT_BYTES)?;
            set.extend(parse(&path.display().to_string(), text.as_bytes())?);
        }
        Ok(set)
    }

    /// Whether there are no statements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Every statement.
    #[must_use]
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The statement that decides a finding: the newest that applies.
    #[must_use]
    pub fn decide(&self, finding: &FindingRef<'_>) -> Option<&Statement> {
        self.statements
            .iter()
            .filter(|s| applies(s, finding))
            .max_by_key(|s| (s.time.unwrap_or(i64::MIN), s.order))
    }
}

fn applies(s: &Statement, f: &FindingRef<'_>) -> bool {
    let named = |id: &str| f.ids.iter().any(|i| i.eq_ignore_ascii_case(id));
    if !(named(&s.vulnerability) || s.aliases.iter().any(|a| named(a))) {
        return false;
    }
    s.products.is_empty()
        || s.products.iter().any(|p| match image_digest_of(&p.id) {
            Some(digest) => {
                f.image_digest.is_some_and(|d| d == digest)
                    && (p.subcomponents.is_empty()
                        || p.subcomponents.iter().any(|c| purl_matches(c, f.purl)))
            }
            None => purl_matches(&p.id, f.purl),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn subcomponents_of_an_image_product() {
        let doc = r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","timestamp":"2023-07-17T18:28:47Z","version":1,
          "statements":[{"vulnerability":{"name":"CVE-2023-1255"},"products":[{"@id":"pkg:oci/alpine@sha256%3A124c","subcomponents":[{"@id":"pkg:apk/alpine/libssl3@3.0.8-r3"}]}],"status":"fixed"}]}"#;
        let mut set = VexSet::default();
        set.extend(parse("doc", doc.as_bytes()).unwrap());
        let v = ids(&["CVE-2023-1255"]);
        let hit = FindingRef {
            ids: &v,
            purl: "pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64",
            image_digest: Some("sha256:124c"),
        };
        assert_eq!(set.decide(&hit).unwrap().status, Status::Fixed);
        let other_package = FindingRef {
            purl: "pkg:apk/alpine/busybox@1",
            ..hit
        };
        assert!(set.decide(&other_package).is_none());
        let other_image = FindingRef {
            image_digest: Some("sha256:9999"),
            ..hit
        };
        assert!(set.decide(&other_image).is_none());
    }

    #[test]
    fn newest_statement_wins_and_aliases_match() {
        let doc = r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
          {"vulnerability":{"name":"CVE-1","aliases":["GHSA-x"]},"products":[{"@id":"pkg:npm/a"}],"status":"not_affected","justification":"component_not_present","timestamp":"2024-01-02T00:00:00Z"},
          {"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:npm/a"}],"status":"affected","timestamp":"2024-01-01T00:00:00Z"}]}"#;
        let mut set = VexSet::default();
        set.extend(parse("doc", doc.as_bytes()).unwrap());
        let v = ids(&["GHSA-x"]);
        let f = FindingRef {
            ids: &v,
            purl: "pkg:npm/a@1.0.0",
            image_digest: None,
        };
        assert_eq!(set.decide(&f).unwrap().status, Status::NotAffected);
    }

    #[test]
    fn cyclonedx_vex() {
        let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"c1","purl":"pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0"}],
          "vulnerabilities":[{"id":"CVE-2021-44228","references":[{"id":"GHSA-jfh8-c2jp-5v3q","source":{"name":"GitHub"}}],
            "analysis":{"state":"not_affected","justification":"code_not_reachable","detail":"JNDI lookups disabled"},"affects":[{"ref":"c1"}]},
            {"id":"CVE-2000-1","affects":[{"ref":"c1"}]}]}"#;
        let statements = parse("bom.cdx.json", doc.as_bytes()).unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s.status, Status::NotAffected);
        assert_eq!(
            s.justification.as_deref(),
            Some("vulnerable_code_not_in_execute_path")
        );
        assert_eq!(
            s.products[0].id,
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0"
        );
        assert_eq!(s.aliases, ["GHSA-jfh8-c2jp-5v3q"]);
    }

    #[test]
    fn malformed_documents_name_the_problem() {
        for (doc, wanted) in [
            ("{", "not valid JSON"),
            ("{\"a\":1}", "neither an OpenVEX"),
            (
                "{\"@context\":\"https://example.com\",\"statements\":[]}",
                "not an OpenVEX context",
            ),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"maybe"}]}"#,
                "statement 1: status `maybe`",
            ),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected"}]}"#,
                "needs a justification",
            ),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected","justification":"trust_me"}]}"#,
                "justification `trust_me`",
            ),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"status":"fixed"}]}"#,
                "not an OpenVEX document",
            ),
            (
                r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":"CVE-1","status":"fixed","timestamp":"yesterday"}]}"#,
                "timestamp",
            ),
            ("statements: [\n  - a\n b", "not valid YAML"),
        ] {
            let err = parse("vex.json", doc.as_bytes()).unwrap_err().to_string();
            assert!(
                err.contains("vex.json") && err.contains(wanted),
                "{wanted}: {err}"
            );
        }
    }
}
