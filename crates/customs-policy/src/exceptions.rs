//! Exceptions: reviewed, expiring waivers of one rule or one vulnerability.
//!
//! ```yaml
//! exceptions:
//!   - id: EXC-42                       # optional; `FILE#N` otherwise
//!     scope: { repository: "registry.example.com/shop/*" }   # or digest: sha256:…, or all: true
//!     vulnerability: CVE-2023-44487    # any alias of the finding matches
//!     package: pkg:golang/golang.org/x/net   # optional; no version: any version
//!     environments: [staging, prod]    # optional; all when absent
//!     justification: the HTTP/2 server is not exposed
//!     compensating_control: ingress terminates HTTP/2
//!     owner: team-shop
//!     approver: security@example.com
//!     remediation: https://tracker.example.com/SHOP-1234
//!     expires: 2027-01-31              # mandatory: applies through that day (UTC)
//!   - scope: { digest: "sha256:…" }
//!     rule: healthcheck
//!     expires: 2027-01-15
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::PolicyError;
use crate::matching::{glob_matches, purl_matches};

/// The largest exceptions file read.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// What an exception covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// One image digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A repository, or a glob of them (`*` within a path segment, `**`
    /// across).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Every image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: Option<String>,
    scope: Option<Scope>,
    vulnerability: Option<String>,
    rule: Option<String>,
    package: Option<String>,
    #[serde(default)]
    environments: Vec<String>,
    justification: Option<String>,
    compensating_control: Option<String>,
    owner: Option<String>,
    approver: Option<String>,
    remediation: Option<String>,
    expires: Option<yaml_serde::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exceptions: Vec<RawException>,
}

/// One exception, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Its id (`FILE#N` when the file gives none).
    pub id: String,
    /// The file it came from.
    pub file: String,
    /// What it covers.
    pub scope: Scope,
    /// The vulnerability it waives (any alias matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// The rule it waives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Only this package (purl; without a version, any version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Only these environments (all when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// Why it is acceptable.
    pub justification: String,
    /// What reduces the risk meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensating_control: Option<String>,
    /// Who owns the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Who approved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Where the fix is tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// The last day it applies (`YYYY-MM-DD`, UTC).
    pub expires: String,
    /// The same, as days since 1970-01-01.
    #[serde(skip)]
    pub expires_day: i64,
}

/// Whether an exception applies on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It applies.
    Active,
    /// It applies, and stops within the asked window.
    Expiring,
    /// It stopped applying.
    Expired,
}

/// What a violation is, for matching exceptions and VEX.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The rule that reported it.
    pub rule: &'a str,
    /// The vulnerability it is about, and its aliases.
    pub vulnerabilities: &'a [String],
    /// The package it is about.
    pub package: Option<&'a str>,
    /// The image's digest.
    pub digest: &'a str,
    /// The image's repository, when it has one.
    pub repository: Option<&'a str>,
    /// The environment.
    pub environment: &'a str,
}

impl Exception {
    /// Whether it applies on `day` (days since the epoch): through its
    /// `expires` day, not after.
    #[must_use]
    pub fn status(&self, day: i64, warn_within_days: i64) -> Status {
        if day > self.expires_day {
            Status::Expired
        } else if self.expires_day - day < warn_within_days {
            Status::Expiring
        } else {
            Status::Active
        }
    }

    /// Whether it covers this violation, whatever the date.
    #[must_use]
    pub fn covers(&self, s: &Subject<'_>) -> bool {
        let scope = self.scope.all
            || self.scope.digest.as_deref() == Some(s.digest)
            || self
                .scope
                .repository
                .as_deref()
                .zip(s.repository)
                .is_some_and(|(glob, repo)| glob_matches(glob, repo));
        let environment =
            self.environments.is_empty() || self.environments.iter().any(|e| e == s.environment);
        let what = match (&self.vulnerability, &self.rule) {
            (Some(v), rule) => {
                s.vulnerabilities
                    .iter()
                    .any(|id| id.eq_ignore_ascii_case(v))
                    && rule.as_deref().is_none_or(|r| r == s.rule)
            }
            (None, Some(rule)) => rule == s.rule,
            (None, None) => false,
        };
        let package = self
            .package
            .as_deref()
            .is_none_or(|p| s.package.is_some_and(|found| purl_matches(p, found)));
        scope && environment && what && package
    }
}

/// A set of exceptions, from one or more files.
#[derive(Debug, Clone, Default)]
pub struct Exceptions {
    /// Every entry, in file order.
    pub entries: Vec<Exception>,
    /// The SHA-256 of the files' bytes, in order (for decision records).
    pub digest: Option<String>,
}

impl Exceptions {
    /// Parses one exceptions file. `today` (days since the epoch) and
    /// `max_days` bound `expires`.
    ///
    /// # Errors
    /// [`PolicyError::Exceptions`] naming the file, the entry and the
    /// problem (the line, for YAML syntax).
    pub fn parse(
        path: &Path,
        text: &str,
        today: i64,
        max_days: u32,
    ) -> Result<Vec<Exception>, PolicyError> {
        let file = path.display().to_string();
        let failed = |reason: String| PolicyError::Exceptions {
            path: file.clone(),
            reason,
        };
        if text.len() > MAX_FILE_BYTES {
            return Err(failed(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let raw: RawFile = yaml_serde::from_str(text).map_err(|e| failed(e.to_string()))?;
        let mut out: Vec<Exception> = Vec::new();
        for (i, e) in raw.exceptions.into_iter().enumerate() {
            let name =
                e.id.clone()
                    .unwrap_or_else(|| format!("{}#{}", file, i + 1));
            let entry = |reason: &str| failed(format!("exception {} ({name}): {reason}", i + 1));
            let scope = e.scope.ok_or_else(|| {
                entry("no scope: give scope.digest, scope.repository or scope.all: true")
            })?;
            let scopes = usize::from(scope.all)
                + usize::from(scope.digest.is_some())
                + usize::from(scope.repository.is_some());
            if scopes != 1 {
                return Err(entry(
                    "scope needs exactly one of digest, repository or all: true",
                ));
            }
            if let Some(d) = &scope.digest
                && d.parse::<customs_types::Digest>().is_err()
            {
                return Err(entry(&format!("scope.digest `{d}` is not a digest")));
            }
            if e.vulnerability.is_none() && e.rule.is_none() {
                return Err(entry("names neither a vulnerability nor a rule"));
            }
            if let Some(p) = &e.package
                && !p.starts_with("pkg:")
            {
                return Err(entry(&format!("package `{p}` is not a package URL")));
            }
            let justification = e
                .justification
                .filter(|j| !j.trim().is_empty())
                .ok_or_else(|| entry("no justification"))?;
            let expires = match e.expires {
                None => {
                    return Err(entry(
                        "no expiry: every exception needs `expires: YYYY-MM-DD`",
                    ));
                }
                Some(yaml_serde::Value::String(s)) => s,
                Some(other) => {
                    return Err(entry(&format!(
                        "expires `{}` is not a date (YYYY-MM-DD)",
                        yaml_serde::to_string(&other).unwrap_or_default().trim()
                    )));
                }
            };
            let expires_day = customs_types::time::parse_date(&expires)
                .ok_or_else(|| entry(&format!("expires `{expires}` is not a date (YYYY-MM-DD)")))?;
            if expires_day - today > i64::from(max_days) {
                return Err(entry(&format!(
                    "expires {expires}, more than {max_days} days ahead (the longest an exception may run; `max_exception_days` in customs.toml)"
                )));
            }
            if out.iter().any(|o| o.id == name) {
                return Err(entry("the id is used twice"));
            }
            out.push(Exception {
                id: name,
                file: file.clone(),
                scope,
                vulnerability: e.vulnerability,
                rule: e.rule,
                package: e.package,
                environments: e.environments,
                justification,
                compensating_control: e.compensating_control,
                owner: e.owner,
                approver: e.approver,
                remediation: e.remediation,
                expires,
                expires_day,
            });
        }
        Ok(out)
    }

    /// Reads and parses exceptions files, keeping the digest of their bytes.
    ///
    /// # Errors
    /// As [`Exceptions::parse`], and when a file cannot be read.
    pub fn load(
        paths: &[std::path::PathBuf],
        today: i64,
        max_days: u32,
    ) -> Result<Self, PolicyError> {
        let mut entries = Vec::new();
        let mut hasher = customs_types::Hasher::new(customs_types::Algorithm::Sha256);
        for path in paths {
            let text = crate::read_text(path, MAX_FILE_BYTES)?;
            hasher.update(text.as_bytes());
            for e in Self::parse(path, &text, today, max_days)? {
                if entries.iter().any(|o: &Exception| o.id == e.id) {
                    return Err(PolicyError::Exceptions {
                        path: path.display().to_string(),
                        reason: format!("exception id {} is used in another file too", e.id),
                    });
                }
                entries.push(e);
            }
        }
        Ok(Self {
            entries,
            digest: (!paths.is_empty()).then(|| hasher.finish().to_string()),
        })
    }

    /// The exceptions covering a violation, active ones first.
    #[must_use]
    pub fn covering<'a>(
        &'a self,
        s: &Subject<'_>,
        day: i64,
    ) -> (Option<&'a Exception>, Option<&'a Exception>) {
        let mut active = None;
        let mut expired = None;
        for e in self.entries.iter().filter(|e| e.covers(s)) {
            match e.status(day, 0) {
                Status::Expired => {
                    if expired.is_none_or(|x: &Exception| x.expires_day < e.expires_day) {
                        expired = Some(e);
                    }
                }
                _ => {
                    active.get_or_insert(e);
                }
            }
        }
        (active, expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 20_000; // 2024-10-04

    fn parse(text: &str) -> Result<Vec<Exception>, PolicyError> {
        Exceptions::parse(Path::new("exceptions.yaml"), text, DAY, 180)
    }

    fn subject<'a>(vulns: &'a [String], env: &'a str, digest: &'a str) -> Subject<'a> {
        Subject {
            rule: "critical-vulnerability",
            vulnerabilities: vulns,
            package: Some("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"),
            digest,
            repository: Some("registry.example.com/shop/cart"),
            environment: env,
        }
    }

    const ONE: &str = "exceptions:
  - id: EXC-1
    scope: { repository: registry.example.com/shop/* }
    vulnerability: CVE-2024-0001
    package: pkg:deb/debian/openssl
    environments: [prod]
    justification: not reachable
    expires: 2024-10-10
";

    #[test]
    fn matches_by_alias_scope_package_and_environment() {
        let e = &parse(ONE).unwrap()[0];
        let vulns = vec!["DSA-5000-1".to_owned(), "CVE-2024-0001".to_owned()];
        assert!(e.covers(&subject(&vulns, "prod", "sha256:aa")));
        assert!(!e.covers(&subject(&vulns, "staging", "sha256:aa")));
        let other = vec!["CVE-2024-0002".to_owned()];
        assert!(!e.covers(&subject(&other, "prod", "sha256:aa")));
        let mut s = subject(&vulns, "prod", "sha256:aa");
        s.repository = Some("registry.example.com/other/cart");
        assert!(!e.covers(&s));
        s.repository = Some("registry.example.com/shop/cart");
        s.package = Some("pkg:deb/debian/curl@8");
        assert!(!e.covers(&s));
    }

    #[test]
    fn expiry_is_inclusive_of_the_last_day() {
        let e = &parse(ONE).unwrap()[0];
        let expires = customs_types::time::parse_date("2024-10-10").unwrap();
        assert_eq!(e.status(expires, 0), Status::Active);
        assert_eq!(e.status(expires + 1, 0), Status::Expired);
        assert_eq!(e.status(expires - 3, 14), Status::Expiring);
    }

    #[test]
    fn a_digest_scope_covers_only_that_digest() {
        let text = "exceptions:\n  - scope: { digest: \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" }\n    rule: healthcheck\n    justification: batch job\n    expires: 2024-11-01\n";
        let e = &parse(text).unwrap()[0];
        assert_eq!(e.id, "exceptions.yaml#1");
        let mut s = subject(
            &[],
            "prod",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        );
        s.rule = "healthcheck";
        assert!(e.covers(&s));
        s.digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        assert!(!e.covers(&s));
    }

    #[test]
    fn invalid_entries_name_the_entry_and_problem() {
        for (text, wanted) in [
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    justification: j\n",
                "no expiry",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    justification: j\n    expires: 2030-01-01\n",
                "more than 180 days",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    justification: j\n    expires: 2024-13-01\n",
                "not a date",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    justification: j\n    expires: 20241001\n",
                "not a date",
            ),
            (
                "exceptions:\n  - rule: x\n    justification: j\n    expires: 2024-10-10\n",
                "no scope",
            ),
            (
                "exceptions:\n  - scope: {all: true, digest: \"sha256:00\"}\n    rule: x\n    justification: j\n    expires: 2024-10-10\n",
                "exactly one",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    justification: j\n    expires: 2024-10-10\n",
                "neither",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    expires: 2024-10-10\n",
                "no justification",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    package: openssl\n    justification: j\n    expires: 2024-10-10\n",
                "not a package URL",
            ),
            (
                "exceptions:\n  - scope: {all: true}\n    rule: x\n    justification: j\n    expiry: 2024-10-10\n",
                "unknown field",
            ),
            ("exceptions:\n  - scope: {all: true\n", "line"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.contains("exceptions.yaml") && err.contains(wanted),
                "{wanted}: {err}"
            );
        }
    }
}
