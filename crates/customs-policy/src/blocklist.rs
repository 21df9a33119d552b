//! A file-based block list of digests (the evidence store keeps one too):
//!
//! ```yaml
//! blocked:
//!   - digest: sha256:…
//!     reason: built from a compromised runner (INC-2041)
//!     until: 2027-03-01     # optional; for ever when absent
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::PolicyError;
use crate::input::BlockInput;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    blocked: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    digest: String,
    reason: Option<String>,
    until: Option<String>,
}

/// One blocked digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The digest.
    pub digest: String,
    /// Why.
    pub reason: String,
    /// The last day it is blocked (days since the epoch), if not for ever.
    pub until: Option<(String, i64)>,
}

/// A block list.
#[derive(Debug, Clone, Default)]
pub struct BlockList {
    entries: Vec<Blocked>,
}

impl BlockList {
    /// Parses a block-list file.
    ///
    /// # Errors
    /// [`PolicyError::Input`] naming the file, the entry and the problem.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PolicyError> {
        let failed = |reason: String| PolicyError::Input {
            what: path.display().to_string(),
            reason,
        };
        let raw: RawFile = yaml_serde::from_str(text).map_err(|e| failed(e.to_string()))?;
        let mut entries = Vec::new();
        for (i, e) in raw.blocked.into_iter().enumerate() {
            let at = |reason: String| failed(format!("entry {}: {reason}", i + 1));
            e.digest
                .parse::<customs_types::Digest>()
                .map_err(|_| at(format!("`{}` is not a digest", e.digest)))?;
            let reason = e
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| at("no reason".to_owned()))?;
            let until = match e.until {
                Some(u) => {
                    let day = customs_types::time::parse_date(&u)
                        .ok_or_else(|| at(format!("until `{u}` is not a date (YYYY-MM-DD)")))?;
                    Some((u, day))
                }
                None => None,
            };
            entries.push(Blocked {
                digest: e.digest,
                reason,
                until,
            });
        }
        Ok(Self { entries })
    }

    /// Reads a block-list file.
    ///
    /// # Errors
    /// As [`BlockList::parse`], and when it cannot be read.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        Self::parse(path, &crate::read_text(path, 16 << 20)?)
    }

    /// The entry blocking `digest` on `day`, if any.
    #[must_use]
    pub fn blocking(&self, digest: &str, day: i64) -> Option<BlockInput> {
        self.entries
            .iter()
            .find(|e| e.digest == digest && e.until.as_ref().is_none_or(|(_, u)| day <= *u))
            .map(|e| BlockInput {
                reason: e.reason.clone(),
                until: e.until.as_ref().map(|(u, _)| u.clone()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn blocks_until_the_day() {
        let text =
            format!("blocked:\n  - digest: {D}\n    reason: bad build\n    until: 2024-10-10\n");
        let list = BlockList::parse(Path::new("blocked.yaml"), &text).unwrap();
        let day = customs_types::time::parse_date("2024-10-10").unwrap();
        assert_eq!(list.blocking(D, day).unwrap().reason, "bad build");
        assert!(list.blocking(D, day + 1).is_none());
        assert!(list.blocking("sha256:11", day).is_none());
    }

    #[test]
    fn bad_entries_are_named() {
        for (text, wanted) in [
            (
                "blocked:\n  - digest: nope\n    reason: r\n",
                "entry 1: `nope`",
            ),
            (&*format!("blocked:\n  - digest: {D}\n"), "no reason"),
            (
                &*format!("blocked:\n  - digest: {D}\n    reason: r\n    until: soon\n"),
                "until",
            ),
            ("blocked: [", "line"),
        ] {
            let err = BlockList::parse(Path::new("blocked.yaml"), text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("blocked.yaml") && err.contains(wanted),
                "{err}"
            );
        }
    }
}
