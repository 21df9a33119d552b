//! The [OSV schema](https://ossf.github.io/osv-schema/) (1.6), as plain
//! serde structs: only the fields matching and reporting use, every other
//! field ignored, and the ecosystem kept as a string so that a record of an
//! ecosystem customs does not know yet still parses.

use serde::{Deserialize, Serialize};

/// One OSV record.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// `GHSA-…`, `CVE-…`, `PYSEC-…`.
    pub id: String,
    /// When the record last changed (RFC 3339).
    pub modified: String,
    /// When it was published.
    #[serde(default)]
    pub published: Option<String>,
    /// Set when the record was withdrawn: it must not match anything.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// IDs of the same vulnerability in other databases.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// IDs of closely related vulnerabilities (a DSA lists its CVEs here).
    #[serde(default)]
    pub related: Vec<String>,
    /// One-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Longer description.
    #[serde(default)]
    pub details: Option<String>,
    /// Severity vectors of the whole record.
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    /// The affected packages.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Database-specific data (GHSA puts its severity rating here).
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity vector (`CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// The kind of score.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// One affected package with its ranges and versions.
#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    /// The package (may be absent in records that only describe GIT ranges).
    #[serde(default)]
    pub package: Option<PackageId>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicitly affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Severity of this package only.
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    /// Ecosystem-specific data (Debian's `urgency`).
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-specific data.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

/// The package an affected entry names.
#[derive(Debug, Clone, Deserialize)]
pub struct PackageId {
    /// `PyPI`, `Debian:12`, `Alpine:v3.19` (empty in GIT-only entries,
    /// which real records write as `"package": {}`).
    #[serde(default)]
    pub ecosystem: String,
    /// The name as the ecosystem spells it.
    #[serde(default)]
    pub name: String,
    /// Package URL, when given.
    #[serde(default)]
    pub purl: Option<String>,
}

/// A range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The events, in any order.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event of a range: exactly one field is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Event {
    /// Versions from here on are affected (`0`: from the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Versions from here on are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last affected version (no known fix after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// An upper limit on the range (`*`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A link.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not JSON, or not an OSV record.
    #[error("{source_name}: not a valid OSV record")]
    Invalid {
        /// The file or archive entry.
        source_name: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// Larger than any real record.
    #[error("{source_name}: larger than the {limit}-byte limit for one OSV record")]
    TooLarge {
        /// The file or archive entry.
        source_name: String,
        /// The bytes read (reading stops one past the limit).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A field has a value the schema does not allow.
    #[error("{source_name}: record `{id}`: {problem}")]
    Malformed {
        /// The file or archive entry.
        source_name: String,
        /// The record's ID.
        id: String,
        /// What is wrong.
        problem: String,
    },
}

/// The largest record accepted (the largest real ones, Linux kernel CVEs
/// with long version lists, are a few MiB).
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Parses one record and checks the fields the schema requires.
///
/// # Errors
/// [`RecordError`] naming `source_name`.
pub fn parse(source_name: &str, bytes: &[u8]) -> Result<Record, RecordError> {
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            source_name: source_name.to_owned(),
            size: bytes.len() as u64,
            limit: MAX_RECORD_BYTES,
        });
    }
    let record: Record = serde_json::from_slice(bytes).map_err(|source| RecordError::Invalid {
        source_name: source_name.to_owned(),
        source,
    })?;
    let malformed = |problem: String| RecordError::Malformed {
        source_name: source_name.to_owned(),
        id: record.id.chars().take(100).collect(),
        problem,
    };
    if record.id.is_empty() || record.id.len() > 256 || record.id.chars().any(char::is_whitespace) {
        return Err(malformed(
            "the id is empty, too long or contains spaces".to_owned(),
        ));
    }
    if customs_types::time::parse_rfc3339(&record.modified).is_none() {
        return Err(malformed(format!(
            "`modified` is not an RFC 3339 time: `{}`",
            record.modified.chars().take(40).collect::<String>()
        )));
    }
    for affected in &record.affected {
        for range in &affected.ranges {
            if !matches!(range.kind.as_str(), "ECOSYSTEM" | "SEMVER" | "GIT") {
                return Err(malformed(format!(
                    "unknown range type `{}`",
                    range.kind.chars().take(40).collect::<String>()
                )));
            }
            for event in &range.events {
                let set = [
                    &event.introduced,
                    &event.fixed,
                    &event.last_affected,
                    &event.limit,
                ]
                .iter()
                .filter(|e| e.is_some())
                .count();
                if set != 1 {
                    return Err(malformed(
                        "a range event must have exactly one of introduced, fixed, last_affected, limit"
                            .to_owned(),
                    ));
                }
            }
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_record_and_ignores_unknown_fields() {
        let r = parse(
            "x.json",
            br#"{"id":"GHSA-1","modified":"2024-01-02T03:04:05Z","new_field":1,
                "affected":[{"package":{"ecosystem":"PyPI","name":"Foo"},
                "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.id, "GHSA-1");
        assert_eq!(
            r.affected[0].ranges[0].events[1].fixed.as_deref(),
            Some("1.0")
        );
    }

    #[test]
    fn rejects_bad_records_naming_them() {
        let e = parse("bad.json", b"{not json").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bad.json: not a valid OSV record"),
            "{e}"
        );
        let e = parse(
            "r.json",
            br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"WEIRD","events":[]}]}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.json: record `X-1`: unknown range type `WEIRD`"
        );
        let e = parse(
            "r.json",
            br#"{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = parse("r.json", br#"{"id":"X-1","modified":"yesterday"}"#).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        let huge = vec![b' '; usize::try_from(MAX_RECORD_BYTES).unwrap() + 1];
        assert!(matches!(
            parse("h.json", &huge),
            Err(RecordError::TooLarge { .. })
        ));
    }
}
