//! Severity of an advisory: CVSS base scores computed from the vectors
//! (v4.0, v3.1, v3.0, v2.0, with the `cvss` crate of RustSec), else the
//! database's own rating (GHSA `MODERATE`), else the distribution's urgency
//! (Debian `unimportant` = negligible).

use std::str::FromStr;

use customs_types::Severity;
use serde::Serialize;

use crate::index::{StoredAdvisory, StoredAffected};
use crate::osv::SeverityEntry;

/// A CVSS vector with its computed base score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssScore {
    /// `4.0`, `3.1`, `3.0` or `2.0`.
    pub version: String,
    /// The vector as published.
    pub vector: String,
    /// The base score computed from it.
    pub score: f64,
}

/// The severity of one finding and where it came from. Serialised with
/// its [`Rated::label`] as `severity_source`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rated {
    /// The rating.
    pub severity: Severity,
    /// The base score the rating comes from, when it comes from CVSS.
    pub score: Option<f64>,
    /// `cvss`, `database` or `distribution`; absent when unknown.
    pub source: Option<&'static str>,
    /// Every vector of the record, scored.
    pub cvss: Vec<CvssScore>,
    /// The record the rating was taken from, when it is not one of the
    /// finding's own (a record aliasing it).
    pub via: Option<String>,
}

impl Serialize for Rated {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            severity: Severity,
            #[serde(skip_serializing_if = "Option::is_none")]
            score: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            source: Option<&'static str>,
            #[serde(skip_serializing_if = "<[CvssScore]>::is_empty")]
            cvss: &'a [CvssScore],
            #[serde(skip_serializing_if = "Option::is_none")]
            via: Option<&'a str>,
            severity_source: String,
        }
        Out {
            severity: self.severity,
            score: self.score,
            source: self.source,
            cvss: &self.cvss,
            via: self.via.as_deref(),
            severity_source: self.label(),
        }
        .serialize(serializer)
    }
}

impl Rated {
    /// `cvss-3.1`, `database`, `distribution`, `malicious-package` or
    /// `unknown`, with ` via <record>` when taken from an alias.
    #[must_use]
    pub fn label(&self) -> String {
        let base = match self.source {
            Some("cvss") => format!("cvss-{}", self.cvss_version().unwrap_or("")),
            Some(other) => other.to_owned(),
            None => "unknown".to_owned(),
        };
        match &self.via {
            Some(via) => format!("{base} via {via}"),
            None => base,
        }
    }

    /// The CVSS version the score comes from (the newest one scoring it).
    #[must_use]
    pub fn cvss_version(&self) -> Option<&str> {
        self.cvss
            .iter()
            .filter(|c| Some(c.score) == self.score)
            .map(|c| c.version.as_str())
            .max()
    }

    /// How well founded the rating is: a malicious package over CVSS over a
    /// database rating over a distribution's urgency over nothing.
    #[must_use]
    pub fn rank(&self) -> u8 {
        match self.source {
            Some("malicious-package") => 4,
            Some("cvss") => 3,
            Some("database") => 2,
            Some("distribution") => 1,
            _ => 0,
        }
    }
}

/// Scores one OSV severity entry (`None` for unscorable or non-CVSS ones).
#[must_use]
pub fn score(entry: &SeverityEntry) -> Option<CvssScore> {
    let vector = entry.score.trim();
    // v2 vectors carry no `CVSS:` prefix; some writers add `CVSS:2.0/`.
    let text = vector.strip_prefix("CVSS:2.0/").unwrap_or(vector);
    let parsed = cvss::Cvss::from_str(text).ok()?;
    let (version, score) = match &parsed {
        cvss::Cvss::CvssV20(v) => ("2.0", v.score().value()),
        cvss::Cvss::CvssV30(v) => ("3.0", v.base_score().value()),
        cvss::Cvss::CvssV31(v) => ("3.1", v.base_score().value()),
        cvss::Cvss::CvssV40(v) => ("4.0", v.score().value()),
        _ => return None,
    };
    Some(CvssScore {
        version: version.to_owned(),
        vector: vector.to_owned(),
        score,
    })
}

/// Rates an advisory for one affected package: the package's own vectors
/// first, then the record's; the newest CVSS version wins; then the
/// database's rating; then the distribution's urgency.
///
/// For a distribution's own package (`distribution` set), the
/// distribution's assessment comes first, as trivy's vendor severity does:
/// Debian rating a glibc CVE `unimportant` for its build outweighs the
/// upstream 9.8 (which stays visible as the score).
#[must_use]
pub fn rate(
    advisory: &StoredAdvisory,
    affected: Option<&StoredAffected>,
    distribution: bool,
) -> Rated {
    let vectors = affected
        .map(|a| a.severity.as_slice())
        .filter(|s| !s.is_empty())
        .unwrap_or(&advisory.severity);
    let cvss: Vec<CvssScore> = vectors.iter().filter_map(score).collect();
    let best = cvss
        .iter()
        .max_by(|a, b| a.version.cmp(&b.version).then(a.score.total_cmp(&b.score)))
        .map(|b| b.score);
    let urgency = affected
        .and_then(|a| a.urgency.as_deref())
        .and_then(urgency);
    if distribution && let Some(severity) = urgency {
        return Rated {
            severity,
            score: best,
            source: Some("distribution"),
            cvss,
            via: None,
        };
    }
    if let Some(best) = best {
        return Rated {
            severity: Severity::from_cvss_score(best),
            score: Some(best),
            source: Some("cvss"),
            cvss,
            via: None,
        };
    }
    if let Some(severity) = advisory
        .rating
        .as_deref()
        .and_then(|r| r.parse::<Severity>().ok())
        .filter(|s| *s != Severity::Unknown)
    {
        return Rated {
            severity,
            score: None,
            source: Some("database"),
            cvss,
            via: None,
        };
    }
    if let Some(severity) = urgency {
        return Rated {
            severity,
            score: None,
            source: Some("distribution"),
            cvss,
            via: None,
        };
    }
    if advisory.id.starts_with("MAL-") {
        // A malicious package (OpenSSF): every version of it is the attack.
        return Rated {
            severity: Severity::Critical,
            score: None,
            source: Some("malicious-package"),
            cvss,
            via: None,
        };
    }
    Rated {
        severity: Severity::Unknown,
        score: None,
        source: None,
        cvss,
        via: None,
    }
}

/// Debian's urgencies (`low**` marks a guess, still low).
fn urgency(text: &str) -> Option<Severity> {
    match text.trim_end_matches('*').trim() {
        "unimportant" => Some(Severity::Negligible),
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, score: &str) -> SeverityEntry {
        SeverityEntry {
            kind: kind.to_owned(),
            score: score.to_owned(),
        }
    }

    #[test]
    fn scores_every_cvss_version() {
        // Reference scores from FIRST's calculators.
        let s = score(&entry(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ))
        .unwrap();
        assert_eq!((s.version.as_str(), s.score), ("3.1", 9.8));
        let s = score(&entry(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N",
        ))
        .unwrap();
        assert!((s.score - 6.5).abs() < 1e-9);
        let s = score(&entry(
            "CVSS_V3",
            "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:L/A:N",
        ))
        .unwrap();
        assert_eq!((s.version.as_str(), s.score), ("3.0", 4.7));
        let s = score(&entry(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ))
        .unwrap();
        assert_eq!((s.version.as_str(), s.score), ("4.0", 9.3));
        let s = score(&entry(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
        ))
        .unwrap();
        assert_eq!(s.score, 6.9);
        let s = score(&entry("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P")).unwrap();
        assert_eq!((s.version.as_str(), s.score), ("2.0", 7.5));
        assert!(score(&entry("CVSS_V3", "CVSS:3.1/AV:X")).is_none());
        assert!(score(&entry("Ubuntu", "medium")).is_none());
    }

    #[test]
    fn rating_falls_back_in_order() {
        let mut advisory = StoredAdvisory {
            severity: vec![
                entry("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N"),
                entry(
                    "CVSS_V4",
                    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                ),
            ],
            rating: Some("LOW".into()),
            ..StoredAdvisory::default()
        };
        let r = rate(&advisory, None, false);
        assert_eq!(
            (r.severity, r.score, r.source),
            (Severity::Critical, Some(9.3), Some("cvss"))
        );
        // The distribution's own rating wins for its packages; the score stays.
        let unimportant = StoredAffected {
            urgency: Some("unimportant".into()),
            ..StoredAffected::default()
        };
        let r = rate(&advisory, Some(&unimportant), true);
        assert_eq!(
            (r.severity, r.score, r.source),
            (Severity::Negligible, Some(9.3), Some("distribution"))
        );
        assert_eq!(
            rate(&advisory, Some(&unimportant), false).severity,
            Severity::Critical
        );
        advisory.severity.clear();
        assert_eq!(rate(&advisory, None, false).severity, Severity::Low);
        advisory.rating = None;
        let r = rate(&advisory, Some(&unimportant), false);
        assert_eq!(
            (r.severity, r.source),
            (Severity::Negligible, Some("distribution"))
        );
        let affected = StoredAffected {
            urgency: Some("not yet assigned".into()),
            ..StoredAffected::default()
        };
        assert_eq!(
            rate(&advisory, Some(&affected), true).severity,
            Severity::Unknown
        );
    }
}
