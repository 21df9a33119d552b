//! A gate decision for people (a verdict line, the reasons, the exceptions
//! that waived or expired, what it was computed from) and for code scanning
//! (SARIF: deny reasons are errors, warn reasons warnings, waived reasons
//! suppressed with the exception as justification).

use std::fmt::Write as _;

use customs_policy::{DecisionRecord, Level, RuleMeta};
use customs_types::Severity;

use crate::{columns, sarif};

/// `DENY`, `WARN`, `PASS`.
fn verdict(record: &DecisionRecord) -> String {
    record.verdict.as_str().to_ascii_uppercase()
}

/// The decision as a table, verdict first.
#[must_use]
pub fn table(record: &DecisionRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} ({}) in {}",
        verdict(record),
        record.reference,
        record.digest,
        record.environment
    );
    let counting: Vec<_> = record.reasons.iter().filter(|r| r.counts()).collect();
    let waived: Vec<_> = record.reasons.iter().filter(|r| !r.counts()).collect();
    if !counting.is_empty() {
        let rows: Vec<Vec<String>> = counting
            .iter()
            .map(|r| {
                let mut reason = r.message.clone();
                if let Some(e) = &r.expired_exception {
                    let _ = write!(reason, " ({})", e.message);
                }
                vec![r.level.as_str().to_owned(), r.rule.clone(), reason]
            })
            .collect();
        out.push('\n');
        out.push_str(&columns::render(&["LEVEL", "RULE", "REASON"], &rows));
    }
    if !waived.is_empty() {
        out.push_str("\nWaived by exceptions:\n");
        for r in &waived {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                r.waived_by.as_deref().unwrap_or("-"),
                r.rule,
                r.message
            );
        }
    }
    for e in &record.exceptions_applied {
        let _ = writeln!(
            out,
            "Exception {} applied (waived {}, expires {}{}): {}",
            e.id,
            e.waived,
            e.expires,
            e.approver
                .as_deref()
                .map_or_else(String::new, |a| format!(", approved by {a}")),
            e.justification
        );
    }
    for e in &record.exceptions_expired {
        let _ = writeln!(
            out,
            "Exception {} expired on {}: no longer applies",
            e.id, e.expired_on
        );
    }
    let deny = counting.iter().filter(|r| r.level == Level::Deny).count();
    let warn = counting.len() - deny;
    let _ = writeln!(
        out,
        "\n{}: {deny} deny, {warn} warn, {} waived. Policy {}, input {}{}.",
        verdict(record),
        waived.len(),
        short(&record.policy.digest),
        short(&record.input_digest),
        record
            .database
            .as_ref()
            .map_or_else(String::new, |d| format!(
                ", advisories built {}",
                d.built_at
            ))
    );
    out
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// The decision as SARIF 2.1.0.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn sarif(record: &DecisionRecord, rules: &[RuleMeta]) -> Result<Vec<u8>, serde_json::Error> {
    let severity = |level: Level| match level {
        Level::Deny => Severity::High,
        Level::Warn | Level::Off => Severity::Medium,
    };
    let mut sarif_rules: Vec<sarif::Rule> = rules
        .iter()
        .map(|r| sarif::Rule {
            id: r.id.clone(),
            short: r.title.clone(),
            full: r.description.clone(),
            help: format!(
                "{}\n\nDefault levels: {}.",
                r.description,
                r.levels
                    .iter()
                    .map(|(env, l)| format!("{env} {}", l.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            severity: severity(r.default_level("prod")),
            score: None,
            help_uri: None,
        })
        .collect();
    if record.reasons.iter().any(|r| r.rule == "policy-error") {
        sarif_rules.push(sarif::Rule {
            id: "policy-error".to_owned(),
            short: "A policy rule failed to evaluate".to_owned(),
            full: "A rule that fails to evaluate is a deny, never a pass.".to_owned(),
            help: "Fix the rule named in the message.".to_owned(),
            severity: Severity::High,
            score: None,
            help_uri: None,
        });
    }
    let results: Vec<sarif::Finding> = record
        .reasons
        .iter()
        .filter(|r| r.level != Level::Off)
        .map(|r| sarif::Finding {
            rule_id: r.rule.clone(),
            severity: severity(r.level),
            message: format!(
                "{} ({} in {})",
                r.message,
                r.level.as_str(),
                record.environment
            ),
            path: r
                .package
                .clone()
                .or_else(|| r.evidence.clone().filter(|e| e.starts_with('/')))
                .unwrap_or_else(|| record.reference.clone()),
            line: None,
            fingerprint: format!(
                "{}:{}:{}",
                r.rule,
                record.environment,
                r.vulnerability
                    .as_deref()
                    .or(r.evidence.as_deref())
                    .unwrap_or(&r.message)
            ),
            suppressed: r.waived_by.as_ref().map(|id| format!("exception {id}")),
        })
        .collect();
    sarif::to_vec(
        &sarif_rules,
        &results,
        Some(&format!("customs-gate/{}", record.environment)),
    )
}
