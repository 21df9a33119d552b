//! [SARIF 2.1.0](https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html)
//! logs, shaped the way GitHub code scanning reads them: one rule per
//! finding kind with `properties.security-severity` (a CVSS-like number that
//! GitHub turns into its severity), results with a level, a message, a
//! location and a stable `partialFingerprints` entry so that alerts survive
//! re-runs. Every report kind (vulnerabilities now, checks later) builds
//! its log through this module.

use customs_types::Severity;
use serde::Serialize;

/// The schema URI GitHub and the OASIS standard name.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A rule: what one kind of finding means.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable ID (`CVE-2023-1234` or a check code).
    pub id: String,
    /// Short description.
    pub short: String,
    /// Full description.
    pub full: String,
    /// Markdown help: what to do.
    pub help: String,
    /// Severity, for `security-severity` and the tags.
    pub severity: Severity,
    /// The score to publish as `security-severity`, when known.
    pub score: Option<f64>,
    /// A link for more information.
    pub help_uri: Option<String>,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule it instantiates.
    pub rule_id: String,
    /// Severity (gives the level).
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// The file, relative to the image root (no leading `/`).
    pub path: String,
    /// The line, when known (1-based).
    pub line: Option<u64>,
    /// A stable identity for this result across runs.
    pub fingerprint: String,
    /// Why it is suppressed (an exception, a VEX statement), when it is:
    /// SARIF keeps it, marked, so code scanning shows it as dismissed.
    pub suppressed: Option<String>,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<ResultObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_details: Option<Automation>,
}

#[derive(Serialize)]
struct Automation {
    id: String,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<RuleObject<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleObject<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<String>,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultObject {
    rule_id: String,
    level: &'static str,
    message: Text,
    locations: Vec<LocationObject>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    justification: String,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "customs/v1")]
    customs: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationObject {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

/// The SARIF level of a severity: `error` for high and critical, `warning`
/// for medium, `note` below.
#[must_use]
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// GitHub's `security-severity`: the CVSS score when known, else the middle
/// of the severity's CVSS band.
fn security_severity(severity: Severity, score: Option<f64>) -> Option<String> {
    let value = score.or(match severity {
        Severity::Critical => Some(9.5),
        Severity::High => Some(8.0),
        Severity::Medium => Some(5.5),
        Severity::Low => Some(2.0),
        Severity::Negligible | Severity::Info => Some(0.5),
        _ => None,
    })?;
    Some(format!("{value:.1}"))
}

/// URIs in SARIF are relative references: no leading slash, spaces and
/// other reserved bytes percent-encoded.
fn uri(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    let mut out = String::with_capacity(trimmed.len());
    for b in trimmed.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// Writes a SARIF log of `rules` and `findings`; `category` tells GitHub
/// which analysis the results belong to (one per image, say).
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn to_vec(
    rules: &[Rule],
    findings: &[Finding],
    category: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    let rules = rules
        .iter()
        .map(|r| RuleObject {
            id: &r.id,
            name: r.id.chars().filter(char::is_ascii_alphanumeric).collect(),
            short_description: Text {
                text: r.short.clone(),
            },
            full_description: Text {
                text: r.full.clone(),
            },
            help: Help {
                text: r.help.clone(),
                markdown: r.help.clone(),
            },
            help_uri: r.help_uri.as_deref(),
            default_configuration: Configuration {
                level: level(r.severity),
            },
            properties: RuleProperties {
                security_severity: security_severity(r.severity, r.score),
                tags: vec!["security".to_owned(), r.severity.as_str().to_owned()],
            },
        })
        .collect();
    let results = findings
        .iter()
        .map(|f| ResultObject {
            rule_id: f.rule_id.clone(),
            level: level(f.severity),
            message: Text {
                text: f.message.clone(),
            },
            locations: vec![LocationObject {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri: uri(&f.path) },
                    region: Region {
                        start_line: f.line.unwrap_or(1).max(1),
                    },
                },
            }],
            partial_fingerprints: Fingerprints {
                customs: f.fingerprint.clone(),
            },
            suppressions: f
                .suppressed
                .iter()
                .map(|j| Suppression {
                    kind: "external",
                    justification: j.clone(),
                })
                .collect(),
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "customs",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules,
                },
            },
            results,
            automation_details: category.map(|c| Automation {
                id: format!("{c}/"),
            }),
        }],
    };
    let mut out = serde_json::to_vec_pretty(&log)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_uris() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Unknown), "note");
        assert_eq!(uri("/usr/lib/a b.jar"), "usr/lib/a%20b.jar");
        assert_eq!(
            security_severity(Severity::High, Some(7.45)).as_deref(),
            Some("7.5")
        );
        assert_eq!(security_severity(Severity::Unknown, None), None);
    }
}
