//! The ledger half of the flow, shared by the CLI and the server: what a
//! scan or decision records, promotion (tag rules, copy, read-back), and
//! re-matching stored SBOMs.

use std::collections::BTreeSet;

use customs_oci::{CopyReport, Image, RegistrySource, SourceError};
use customs_store::{NewRecord, Seen, Store, StoreError};
use customs_types::Digest;
use customs_vuln::{MatchReport, VulnIndex};

/// The image as the store keys it: the digest the reference resolved to
/// (an index's when it is one: what tags, signatures and deployments
/// name), and the tag it was reached through.
#[must_use]
pub fn seen(image: &Image) -> Seen {
    Seen {
        digest: image.resolved_digest().clone(),
        name: image.name.clone(),
        tags: image.tags.clone(),
    }
}

/// A finding as records keep it: `ID package@version`.
fn finding_key(id: &str, package: &str, version: &str) -> String {
    format!("{id} {package}@{version}")
}

/// What a scan record says: counts by severity, every finding's key, the
/// advisory database it came from.
#[must_use]
pub fn scan_summary(
    matches: &MatchReport,
    suppressed: usize,
    database: &customs_policy::input::DatabaseInput,
) -> serde_json::Value {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for finding in &matches.findings {
        *counts.entry(finding.severity().to_string()).or_default() += 1;
    }
    let findings: BTreeSet<String> = matches
        .findings
        .iter()
        .map(|f| finding_key(&f.id, &f.package.name, &f.package.version))
        .collect();
    let by_severity = counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    serde_json::json!({
        "line": if findings.is_empty() {
            format!("no vulnerabilities ({} packages matched)", matches.packages_matched)
        } else {
            format!("{} vulnerabilities ({by_severity}){}", findings.len(),
                if suppressed > 0 { format!(", {suppressed} suppressed") } else { String::new() })
        },
        "counts": counts,
        "findings": findings,
        "suppressed": suppressed,
        "packages_matched": matches.packages_matched,
        "database": database,
    })
}

/// The finding keys of a scan record's summary.
#[must_use]
pub fn findings_of(summary: &serde_json::Value) -> BTreeSet<String> {
    summary
        .get("findings")
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// What the advisory database is, as scan records and the policy input
/// name it.
///
/// # Errors
/// [`customs_vuln::IndexError`] when the database cannot be read.
pub fn database_facts(
    index: &VulnIndex,
) -> Result<customs_policy::input::DatabaseInput, customs_vuln::IndexError> {
    Ok(customs_policy::input::DatabaseInput {
        built_at: customs_sbom::rfc3339(index.built_at()?),
        newest_advisory: index.newest_advisory()?.map(customs_sbom::rfc3339),
        digest: index.file_digest()?.to_string(),
    })
}

/// One digest re-matched by `customs rescan`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rescanned {
    /// The digest.
    pub digest: String,
    /// Its findings now.
    pub findings: usize,
    /// Findings the previous scan record did not have.
    pub new: Vec<String>,
    /// Findings of the previous scan record that are gone.
    pub gone: Vec<String>,
    /// The new findings rated critical or high.
    pub severe: Vec<String>,
    /// Whether there was a stored SBOM to match (else nothing is known).
    pub sbom: bool,
}

/// Re-matches the stored SBOM of each digest against the advisory database
/// as it is now, records the result as a `scan` record, and says what is
/// new since the previous one. No image is pulled.
///
/// # Errors
/// Store and advisory-database failures.
pub async fn rescan(
    store: &Store,
    index: &VulnIndex,
    digests: &[Digest],
) -> Result<Vec<Rescanned>, RescanError> {
    let database = database_facts(index)?;
    let mut out = Vec::new();
    for digest in digests {
        let Some(stored) = store.sbom(digest).await? else {
            out.push(Rescanned {
                digest: digest.to_string(),
                findings: 0,
                new: Vec::new(),
                gone: Vec::new(),
                severe: Vec::new(),
                sbom: false,
            });
            continue;
        };
        let previous = store
            .records(digest, Some("scan"))
            .await?
            .last()
            .map(|r| findings_of(&r.summary))
            .unwrap_or_default();
        let matches =
            tokio::task::block_in_place(|| customs_vuln::match_sbom(index, &stored.sbom))?;
        let mut summary = scan_summary(&matches, 0, &database);
        let now = findings_of(&summary);
        let new: Vec<String> = now.difference(&previous).cloned().collect();
        let gone: Vec<String> = previous.difference(&now).cloned().collect();
        let severe: BTreeSet<String> = matches
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.severity(),
                    customs_types::Severity::Critical | customs_types::Severity::High
                )
            })
            .map(|f| finding_key(&f.id, &f.package.name, &f.package.version))
            .filter(|key| !previous.contains(key))
            .collect();
        summary["rescan"] = serde_json::json!({"new": new, "gone": gone});
        if let Some(line) = summary["line"].as_str() {
            summary["line"] = serde_json::Value::String(format!(
                "rescan of the stored SBOM: {line}; {} new, {} gone",
                new.len(),
                gone.len()
            ));
        }
        store
            .record(NewRecord {
                subject: Seen::digest(digest.clone()),
                kind: "scan".to_owned(),
                environment: None,
                summary,
                document: None,
            })
            .await?;
        out.push(Rescanned {
            digest: digest.to_string(),
            findings: now.len(),
            new,
            gone,
            severe: severe.into_iter().collect(),
            sbom: true,
        });
    }
    Ok(out)
}

/// Why a rescan failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RescanError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The advisory database.
    #[error(transparent)]
    Index(#[from] customs_vuln::IndexError),
}

/// The default release-tag pattern: SemVer-like `v?MAJOR.MINOR.PATCH…`.
pub const RELEASE_PATTERN: &str = r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+.].*)?$";

/// What promoting does to the target tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum TagPlan {
    /// No tag: the image is reachable by digest.
    None,
    /// The tag is new.
    Create {
        /// The tag.
        tag: String,
    },
    /// The tag points at this digest already.
    Unchanged {
        /// The tag.
        tag: String,
    },
    /// A channel tag named in `--allow-mutable` moves.
    Move {
        /// The tag.
        tag: String,
        /// The digest it pointed at.
        from: String,
    },
}

impl TagPlan {
    /// The tag the image ends up under, if any.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        match self {
            Self::Create { tag } | Self::Unchanged { tag } | Self::Move { tag, .. } => Some(tag),
            Self::None => None,
        }
    }
}

/// Why a promotion stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    /// A release tag would move.
    #[error(
        "{target}:{tag} is a release tag and points at {existing}: release tags are immutable, so it will not move to {digest} (promote under a new version)"
    )]
    ImmutableTag {
        /// The target repository.
        target: String,
        /// The tag.
        tag: String,
        /// What it points at.
        existing: String,
        /// What would replace it.
        digest: String,
    },
    /// A channel tag would move without being allowed to.
    #[error(
        "{target}:{tag} points at {existing}: moving it to {digest} needs --allow-mutable {tag}"
    )]
    MutableTag {
        /// The target repository.
        target: String,
        /// The tag.
        tag: String,
        /// What it points at.
        existing: String,
        /// What would replace it.
        digest: String,
    },
    /// The tag read back is not the digest promoted.
    #[error("{target}:{tag} reads back as {actual}, not the promoted {expected}")]
    ReadBack {
        /// The target repository.
        target: String,
        /// The tag.
        tag: String,
        /// The promoted digest.
        expected: String,
        /// What the registry answered.
        actual: String,
    },
    /// The copy failed (nothing is tagged).
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Decides what happens to `tag` at `target` before anything is copied:
/// a release tag (matching `release`) never moves; another tag moves only
/// when listed in `allow_mutable`.
///
/// # Errors
/// [`PromoteError`] when the tag may not move, or the target cannot be read.
pub async fn plan_tag(
    target: &RegistrySource,
    tag: Option<&str>,
    digest: &Digest,
    allow_mutable: &[String],
    release: &regex::Regex,
) -> Result<TagPlan, PromoteError> {
    let Some(tag) = tag else {
        return Ok(TagPlan::None);
    };
    let existing = target.tag_digest(tag).await?;
    Ok(match existing {
        None => TagPlan::Create {
            tag: tag.to_owned(),
        },
        Some(existing) if &existing == digest => TagPlan::Unchanged {
            tag: tag.to_owned(),
        },
        Some(existing) if release.is_match(tag) => {
            return Err(PromoteError::ImmutableTag {
                target: target.reference().name(),
                tag: tag.to_owned(),
                existing: existing.to_string(),
                digest: digest.to_string(),
            });
        }
        Some(existing) if allow_mutable.iter().any(|t| t == tag) => TagPlan::Move {
            tag: tag.to_owned(),
            from: existing.to_string(),
        },
        Some(existing) => {
            return Err(PromoteError::MutableTag {
                target: target.reference().name(),
                tag: tag.to_owned(),
                existing: existing.to_string(),
                digest: digest.to_string(),
            });
        }
    })
}

/// Copies `digest` from `source` to `target` (every platform, blob and
/// referrer), then — only when all of it is there — points the planned tag
/// at it and reads the tag back.
///
/// # Errors
/// [`PromoteError`]; on any error the tag has not been written.
pub async fn promote(
    source: &RegistrySource,
    target: &RegistrySource,
    digest: &Digest,
    plan: &TagPlan,
    jobs: usize,
) -> Result<CopyReport, PromoteError> {
    let report = source.copy_to(target, digest, jobs).await?;
    if let Some(tag) = plan.tag() {
        if !matches!(plan, TagPlan::Unchanged { .. }) {
            target.put_tag(tag, digest).await?;
        }
        let actual = target.tag_digest(tag).await?;
        if actual.as_ref() != Some(digest) {
            return Err(PromoteError::ReadBack {
                target: target.reference().name(),
                tag: tag.to_owned(),
                expected: digest.to_string(),
                actual: actual.map_or_else(|| "nothing".to_owned(), |d| d.to_string()),
            });
        }
    }
    Ok(report)
}
