//! Severity of a finding, on the scale vulnerability databases and scanners
//! share (CVSS qualitative ratings plus `negligible` and `unknown`, as
//! grype and trivy report them).

use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered from least to most severe, so that
/// `severity >= Severity::High` is the usual `--fail-on high` test.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// No usable severity in the data.
    #[default]
    Unknown,
    /// Worth knowing, not a weakness by itself (lint findings).
    Info,
    /// The distribution considers it not worth fixing (Debian `unimportant`).
    Negligible,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Self; 7] = [
        Self::Unknown,
        Self::Info,
        Self::Negligible,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The lower-case name (`critical`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Info => "info",
            Self::Negligible => "negligible",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The rating of a CVSS v3/v4 base score.
    #[must_use]
    pub fn from_cvss_score(score: f64) -> Self {
        if score >= 9.0 {
            Self::Critical
        } else if score >= 7.0 {
            Self::High
        } else if score >= 4.0 {
            Self::Medium
        } else if score > 0.0 {
            Self::Low
        } else {
            Self::Unknown
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown severity `{0}` (severities: unknown, info, negligible, low, medium, high, critical)"
)]
pub struct ParseSeverityError(String);

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Case-insensitive; accepts the aliases databases use (`moderate`,
    /// `important`, `none`, `unimportant`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "unknown" | "none" | "" => Self::Unknown,
            "info" | "informational" | "note" => Self::Info,
            "negligible" | "unimportant" => Self::Negligible,
            "low" => Self::Low,
            "medium" | "moderate" => Self::Medium,
            "high" | "important" => Self::High,
            "critical" => Self::Critical,
            _ => return Err(ParseSeverityError(s.chars().take(40).collect())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn order_names_and_scores() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Negligible > Severity::Unknown);
        assert_eq!("MODERATE".parse::<Severity>().unwrap(), Severity::Medium);
        assert_eq!("Important".parse::<Severity>().unwrap(), Severity::High);
        assert!("severe".parse::<Severity>().is_err());
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(7.0), Severity::High);
        assert_eq!(Severity::from_cvss_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.1), Severity::Low);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Unknown);
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
    }
}
