//! The CISA Known Exploited Vulnerabilities catalogue (its JSON feed,
//! `known_exploited_vulnerabilities.json`): which CVEs are exploited in the
//! wild, whatever their severity or fix state.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use crate::PolicyError;

#[derive(Deserialize)]
struct Feed {
    #[serde(rename = "catalogVersion", default)]
    catalog_version: Option<String>,
    vulnerabilities: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "cveID")]
    cve_id: String,
}

/// The CVE ids of a KEV catalogue.
#[derive(Debug, Clone, Default)]
pub struct Kev {
    ids: BTreeSet<String>,
    /// The catalogue's version.
    pub version: Option<String>,
}

impl Kev {
    /// Parses the feed.
    ///
    /// # Errors
    /// [`PolicyError::Input`] naming the file and the problem.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PolicyError> {
        let feed: Feed = serde_json::from_str(text).map_err(|e| PolicyError::Input {
            what: path.display().to_string(),
            reason: format!("not a CISA KEV catalogue: {e}"),
        })?;
        Ok(Self {
            ids: feed
                .vulnerabilities
                .into_iter()
                .map(|e| e.cve_id.to_ascii_uppercase())
                .collect(),
            version: feed.catalog_version,
        })
    }

    /// Reads the feed.
    ///
    /// # Errors
    /// As [`Kev::parse`], and when it cannot be read.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        Self::parse(path, &crate::read_text(path, 64 << 20)?)
    }

    /// Whether any of these ids (a finding's id and aliases) is listed.
    #[must_use]
    pub fn lists(&self, ids: &[String]) -> bool {
        ids.iter()
            .any(|i| self.ids.contains(&i.to_ascii_uppercase()))
    }

    /// How many CVEs it lists.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it lists none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
