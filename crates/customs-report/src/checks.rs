//! Reports of the checks (`customs secrets`, `customs lint`): a table
//! grouped by severity, versioned JSON (`customs.checks/v1`) and SARIF.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use customs_checks::Finding;
use customs_types::Severity;
use serde::Serialize;

use crate::{columns, sarif};

/// The version of the JSON document.
pub const SCHEMA: &str = "customs.checks/v1";

/// The findings of one run, about one or more targets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChecksReport {
    /// What was checked (an image reference, file names).
    pub targets: Vec<String>,
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// Extra counts to show (`packaged`, `allowed`, `files`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, u64>,
}

impl ChecksReport {
    /// Whether a finding is at least `threshold`.
    #[must_use]
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// Counts per severity.
    #[must_use]
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.severity).or_default() += 1;
        }
        counts
    }
}

/// The summary sentence.
#[must_use]
pub fn summary_line(report: &ChecksReport) -> String {
    if report.findings.is_empty() {
        return "no findings".to_owned();
    }
    let counts = report.counts();
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    format!(
        "{} finding{}: {}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// The table: one section per severity.
#[must_use]
pub fn table(report: &ChecksReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.targets.join(", "));
    out.push_str(&columns::by_severity(
        &report.findings,
        |f| f.severity,
        &["RULE", "LOCATION", "EVIDENCE", "TITLE"],
        |f| {
            vec![
                f.rule.to_owned(),
                f.location.display(),
                columns::truncate(f.evidence.as_deref().unwrap_or("-"), 60),
                columns::truncate(&f.title, 90),
            ]
        },
    ));
    let _ = writeln!(out, "\n{}", summary_line(report));
    for (what, n) in &report.notes {
        let _ = writeln!(out, "{what}: {n}");
    }
    crate::terminal::escape(&out).into_owned()
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a ChecksReport,
    summary: BTreeMap<Severity, usize>,
}

/// The versioned JSON document.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn json(report: &ChecksReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&JsonDocument {
        schema: SCHEMA,
        report,
        summary: report.counts(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// SARIF 2.1.0: one rule per rule code, one result per finding.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn sarif(report: &ChecksReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut rules: Vec<sarif::Rule> = Vec::new();
    for f in &report.findings {
        if rules.iter().any(|r| r.id == f.rule) {
            continue;
        }
        let info = customs_checks::rule(f.rule);
        rules.push(sarif::Rule {
            id: f.rule.to_owned(),
            short: info.map_or_else(|| f.title.clone(), |i| i.title.to_owned()),
            full: info.map_or_else(
                || f.title.clone(),
                |i| format!("{} ({} check)", i.title, i.check),
            ),
            help: f.remediation.clone(),
            severity: info.map_or(f.severity, |i| i.severity),
            score: None,
            help_uri: None,
        });
    }
    let results: Vec<sarif::Finding> = report
        .findings
        .iter()
        .map(|f| sarif::Finding {
            rule_id: f.rule.to_owned(),
            severity: f.severity,
            message: format!(
                "{}{}",
                f.title,
                f.evidence
                    .as_deref()
                    .map_or_else(String::new, |e| format!(": {e}"))
            ),
            path: f.location.path.clone(),
            line: f.location.line,
            fingerprint: format!(
                "{}:{}:{}",
                f.rule,
                f.location.path,
                f.fingerprint
                    .clone()
                    .unwrap_or_else(|| f.location.line.unwrap_or(0).to_string())
            ),
            suppressed: None,
        })
        .collect();
    sarif::to_vec(&rules, &results, report.targets.first().map(String::as_str))
}
