//! Checks: secrets in every layer of an image ([`secrets`]), image-config
//! signals ([`image_config`]), Dockerfile lint ([`dockerfile`]), deploy
//! manifest lint ([`manifest`]) and the image references `customs pin`
//! rewrites ([`pin`]).
//!
//! Every check reports the same [`Finding`]: a stable kebab-case rule code
//! (listed once, in [`rules()`]), a severity, a title, where it is, redacted
//! evidence and what to do about it. Reports render them as a table, JSON or
//! SARIF, and `--fail-on` turns them into an exit code.

pub mod dockerfile;
pub mod image_config;
pub mod manifest;
pub mod pin;
pub mod redact;
pub mod secrets;

use customs_types::Severity;
use serde::Serialize;

/// Where a finding is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file (absolute path in an image, or the path given on the
    /// command line), or `image config` for the runtime configuration.
    pub path: String,
    /// 1-based line, when the finding has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The layer (0-based) the file is in, for image files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// What became of the file: `deleted in layer 8`, `overwritten in layer
    /// 3` (deleting a file does not remove it from the image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fate: Option<String>,
    /// The config field, manifest path or instruction (`Env`, `history[3]`,
    /// `spec.template.spec.containers[0]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Location {
    /// A file and line.
    #[must_use]
    pub fn file(path: &str, line: Option<u64>) -> Self {
        Self {
            path: path.to_owned(),
            line,
            ..Self::default()
        }
    }

    /// `path:line` (or just the path), with the layer and the file's fate.
    #[must_use]
    pub fn display(&self) -> String {
        let mut out = self.path.clone();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
        }
        if let Some(field) = &self.field {
            out.push_str(&format!(" ({field})"));
        }
        if let Some(layer) = self.layer {
            out.push_str(&format!(" [layer {}", layer + 1));
            if let Some(fate) = &self.fate {
                out.push_str(&format!(", {fate}"));
            }
            out.push(']');
        }
        out
    }
}

/// One finding of any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's stable code (`aws-access-key-id`, `dockerfile-curl-pipe-shell`).
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Where.
    pub location: Location,
    /// What was seen, with any secret redacted to a short prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// A stable fingerprint of the secret (`sha256:` + 16 hex digits of its
    /// SHA-256), to allow-list it without writing it down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// What to do.
    pub remediation: String,
}

/// A rule any check can report, for docs, SARIF rule lists and the
/// uniqueness test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The code.
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Title.
    pub title: &'static str,
    /// Which check reports it (`secrets`, `image-config`, `dockerfile`, `manifest`).
    pub check: &'static str,
}

/// Every rule of every check, in one list.
#[must_use]
pub fn rules() -> Vec<RuleInfo> {
    let mut all = Vec::new();
    all.extend(secrets::rules::RULES.iter().map(|r| RuleInfo {
        code: r.id,
        severity: r.severity,
        title: r.title,
        check: "secrets",
    }));
    all.extend(image_config::RULES.iter().copied());
    all.extend(dockerfile::RULES.iter().copied());
    all.extend(manifest::RULES.iter().copied());
    all
}

/// The rule with this code.
#[must_use]
pub fn rule(code: &str) -> Option<RuleInfo> {
    rules().into_iter().find(|r| r.code == code)
}

/// Sorts findings most severe first, then by place; a total order, so that
/// findings gathered by several threads print the same every run.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.path.cmp(&b.location.path))
            .then_with(|| a.location.layer.cmp(&b.location.layer))
            .then_with(|| a.location.line.cmp(&b.location.line))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
            .then_with(|| a.title.cmp(&b.title))
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn rule_codes_are_unique_and_kebab_case() {
        let rules = super::rules();
        let codes: BTreeSet<&str> = rules.iter().map(|r| r.code).collect();
        assert_eq!(codes.len(), rules.len(), "duplicate rule codes");
        for code in codes {
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{code} is not kebab-case"
            );
        }
        assert!(
            rules.iter().filter(|r| r.check == "secrets").count() >= 40,
            "at least 40 secret rules"
        );
    }
}
