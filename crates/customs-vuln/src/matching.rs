//! Matching an SBOM against the index: OSV's range semantics evaluated with
//! each ecosystem's own version ordering, findings merged across aliases,
//! and a [`MatchDetail`] on every finding that says exactly why it matched.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use customs_sbom::{Location, Package, PackageType, RelationshipKind, Sbom};
use customs_types::Severity;
use customs_version::{AnyVersion, Scheme};
use serde::Serialize;

use crate::ecosystem::{Query, Unmatchable, Via, queries};
use crate::index::{
    Candidate, IndexError, StoredAdvisory, StoredAffected, VulnIndex, event_version,
};
use crate::osv::{Event, Range};
use crate::severity::{Rated, rate};

/// The scheme a range's versions compare with: OSV's `SEMVER` ranges are
/// SemVer 2.0 whatever the ecosystem, except Go's, whose own scheme is
/// SemVer with Go's spellings.
#[must_use]
pub fn range_scheme(kind: &str, ecosystem: Scheme) -> Scheme {
    // Go's and Bitnami's SEMVER ranges keep their own scheme (a `v`
    // prefix; missing parts as zero).
    if kind == "SEMVER" && !matches!(ecosystem, Scheme::Go | Scheme::Runtime) {
        Scheme::Semver
    } else {
        ecosystem
    }
}

/// Whether a fix exists for a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    /// A fixed version is published.
    Fixed,
    /// No fixed version is known (`fix: none`).
    NotFixed,
}

/// Why a version is affected by one range or list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeHit {
    /// `introduced 0, fixed 1.2.3` or `version 1.0 listed`.
    pub constraint: String,
    /// The first fixed version after the installed one, if any.
    pub fixed: Option<String>,
}

/// An OSV range with its versions parsed once, to evaluate many installed
/// versions (import checks and compacts with it, matching reuses it for
/// every package that queries the same name).
#[derive(Debug, Clone)]
pub struct ParsedRange {
    scheme: Scheme,
    /// Sorted by version; `None` is `introduced: 0`.
    events: Vec<(Option<AnyVersion>, Event)>,
    limits: Vec<AnyVersion>,
}

/// A version of a range that does not parse in its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEvent {
    /// `introduced`, `fixed`, `last_affected` or `limit`.
    pub what: &'static str,
    /// The version as written.
    pub version: String,
    /// The scheme it had to parse in.
    pub scheme: Scheme,
}

impl ParsedRange {
    /// Parses every event of `range` with the scheme its type calls for.
    ///
    /// # Errors
    /// [`BadEvent`] naming the first version that does not parse.
    pub fn parse(range: &Range, ecosystem: Scheme) -> Result<Self, BadEvent> {
        Self::from_range(range.clone(), ecosystem)
    }

    /// [`ParsedRange::parse`] of an owned range.
    fn from_range(range: Range, ecosystem: Scheme) -> Result<Self, BadEvent> {
        let scheme = range_scheme(&range.kind, ecosystem);
        let mut events = Vec::with_capacity(range.events.len());
        let mut limits = Vec::new();
        for e in range.events {
            let (what, v) = event_version(&e);
            let parsed = match (what, v) {
                ("limit", "*") | ("introduced", "0") => None,
                _ => Some(scheme.parse(v).map_err(|_| BadEvent {
                    what,
                    version: v.to_owned(),
                    scheme,
                })?),
            };
            match (what, parsed) {
                ("limit", Some(limit)) => limits.push(limit),
                ("limit", None) => {}
                (_, parsed) => events.push((parsed, e)),
            }
        }
        events.sort_by(|a, b| match (&a.0, &b.0) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        });
        Ok(Self {
            scheme,
            events,
            limits,
        })
    }

    /// The scheme its versions compare in.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether the range has an `introduced` event (one without is malformed).
    #[must_use]
    pub fn has_introduced(&self) -> bool {
        self.events.iter().any(|(_, e)| e.introduced.is_some())
    }

    /// Evaluates the range for an installed version parsed with
    /// [`ParsedRange::scheme`] (OSV schema, "Evaluation").
    #[must_use]
    pub fn evaluate(&self, installed: &AnyVersion) -> Option<RangeHit> {
        let mut affected = false;
        for (parsed, e) in &self.events {
            match parsed {
                None => affected = true,
                Some(at) if e.introduced.is_some() => affected |= installed >= at,
                Some(at) if e.fixed.is_some() => affected &= installed < at,
                Some(at) => affected &= installed <= at,
            }
        }
        if !self.limits.is_empty() && self.limits.iter().all(|l| installed >= l) {
            affected = false;
        }
        if !affected {
            return None;
        }
        let fixed = self
            .events
            .iter()
            .find(|(parsed, e)| e.fixed.is_some() && parsed.as_ref().is_some_and(|f| installed < f))
            .and_then(|(_, e)| e.fixed.clone());
        let constraint = self
            .events
            .iter()
            .map(|(_, e)| {
                let (what, v) = event_version(e);
                format!("{what} {v}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        Some(RangeHit { constraint, fixed })
    }
}

/// Evaluates one OSV range for `version`.
///
/// `None` when not affected or when a version does not parse (never a
/// guess: an unparsable version matches nothing).
#[must_use]
pub fn evaluate_range(range: &Range, version: &str, ecosystem: Scheme) -> Option<RangeHit> {
    let parsed = ParsedRange::parse(range, ecosystem).ok()?;
    parsed.evaluate(&parsed.scheme.parse(version).ok()?)
}

/// Whether an affected entry covers `version`: any range, or the explicit
/// version list. Returns every hit (a version can sit in several ranges).
#[must_use]
pub fn evaluate(affected: &StoredAffected, version: &str, ecosystem: Scheme) -> Vec<RangeHit> {
    let ranges: Vec<ParsedRange> = affected
        .ranges
        .iter()
        .filter_map(|r| ParsedRange::parse(r, ecosystem).ok())
        .collect();
    evaluate_parsed(&ranges, &affected.versions, version, ecosystem)
}

/// [`evaluate`] with the ranges already parsed; the installed version is
/// parsed once per scheme the ranges use.
#[must_use]
pub fn evaluate_parsed(
    ranges: &[ParsedRange],
    versions: &[String],
    version: &str,
    ecosystem: Scheme,
) -> Vec<RangeHit> {
    let mut installed: Vec<(Scheme, Option<AnyVersion>)> = Vec::with_capacity(2);
    let mut hits: Vec<RangeHit> = Vec::new();
    for range in ranges {
        let parsed = match installed.iter().find(|(s, _)| *s == range.scheme) {
            Some((_, v)) => v.clone(),
            None => {
                let v = range.scheme.parse(version).ok();
                installed.push((range.scheme, v.clone()));
                v
            }
        };
        if let Some(hit) = parsed.and_then(|i| range.evaluate(&i)) {
            hits.push(hit);
        }
    }
    if hits.is_empty()
        && versions
            .iter()
            .any(|v| v == version || ecosystem.compare(v, version) == Ok(Ordering::Equal))
    {
        hits.push(RangeHit {
            constraint: format!("version {version} listed"),
            fixed: None,
        });
    }
    hits
}

/// Why one advisory matched one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchDetail {
    /// The record that matched.
    pub advisory: String,
    /// The ecosystem queried.
    pub ecosystem: String,
    /// The name queried (the source package's, for `via: source-package`).
    pub name: String,
    /// The version compared.
    pub version: String,
    /// Direct or through the source package.
    pub via: Via,
    /// The range or list that contains the version.
    pub constraint: String,
}

/// The package a finding is about, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingPackage {
    /// The SBOM package id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Package URL.
    pub purl: String,
    /// The layer that introduced it (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced_by_layer: Option<usize>,
    /// The files that evidence it.
    pub locations: Vec<Location>,
}

/// One vulnerability in one package: every record about it merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The ID shown first (a CVE when there is one).
    pub id: String,
    /// Every other ID of the same vulnerability (aliases, and the distro
    /// advisories that fixed it).
    pub aliases: Vec<String>,
    /// The package.
    pub package: FindingPackage,
    /// Severity, score and their source.
    #[serde(flatten)]
    pub rating: Rated,
    /// Fixed or not.
    pub fix_state: FixState,
    /// Versions that fix it (the first fixed version after the installed
    /// one, per record).
    pub fixed_versions: Vec<String>,
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Links, advisories first.
    pub references: Vec<String>,
    /// Why it matched, one entry per record.
    pub details: Vec<MatchDetail>,
}

impl Finding {
    /// The severity.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.rating.severity
    }
}

/// The result of matching one SBOM.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchReport {
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Packages looked up.
    pub packages_matched: usize,
    /// Packages not looked up, by reason.
    pub packages_not_matched: BTreeMap<String, usize>,
    /// Packages that should have been looked up but could not be: their
    /// version does not parse in their ecosystem, so no range can say
    /// whether they are affected. Never silently clean (issue 14).
    pub unmatched: Vec<Unmatched>,
    /// Ecosystems the packages belong to that the index has no advisory
    /// for at all, with how many packages each: those were not checked.
    pub ecosystems_without_advisories: BTreeMap<String, usize>,
}

/// A package that could not be matched, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmatched {
    /// The package's name.
    pub name: String,
    /// Its version, as found.
    pub version: String,
    /// Its purl.
    pub purl: String,
    /// Why it was not matched.
    pub reason: String,
}

/// A record that matched one package, before merging.
struct Hit {
    advisory: std::sync::Arc<StoredAdvisory>,
    rating: Rated,
    fixed: Vec<String>,
    detail: MatchDetail,
}

/// Matches every package of `sbom` against the index.
///
/// Language packages whose files a distro package owns (a Debian
/// `python3-yaml` installs `PyYAML`'s metadata) are matched through the
/// distro package only: the distribution backports fixes without changing
/// the upstream version, so upstream advisories would be false positives.
///
/// # Errors
/// [`IndexError`] when the index cannot be read.
pub fn match_sbom(index: &VulnIndex, sbom: &Sbom) -> Result<MatchReport, IndexError> {
    let os_ids: HashSet<String> = sbom
        .packages
        .iter()
        .filter(|p| p.kind.is_os())
        .map(Package::id)
        .collect();
    let owned: HashSet<&str> = sbom
        .relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::OwnsFileOf && os_ids.contains(&r.from))
        .map(|r| r.to.as_str())
        .collect();
    let mut report = MatchReport::default();
    let mut lookups: HashMap<(String, String), Vec<Candidate>> = HashMap::new();
    let mut advisories: HashMap<String, Option<std::sync::Arc<StoredAdvisory>>> = HashMap::new();
    let mut known_ecosystems: HashMap<String, bool> = HashMap::new();
    for package in &sbom.packages {
        let id = package.id();
        if owned.contains(id.as_str()) {
            *report
                .packages_not_matched
                .entry("owned by a distro package (matched through it)".to_owned())
                .or_default() += 1;
            continue;
        }
        let package_queries = match queries(package, sbom.distro.as_ref()) {
            Ok(q) => q,
            Err(reason) => {
                let reason = match reason {
                    Unmatchable::NoVersion => "no version",
                    Unmatchable::UnknownDistro => "distro release unknown or without advisories",
                    Unmatchable::NoEcosystem => "no advisory ecosystem",
                };
                *report
                    .packages_not_matched
                    .entry(reason.to_owned())
                    .or_default() += 1;
                continue;
            }
        };
        if let Some(bad) = package_queries
            .iter()
            .find_map(|q| q.scheme.parse(&q.version).err().map(|e| (q, e)))
        {
            let (query, error) = bad;
            *report
                .packages_not_matched
                .entry("version does not parse".to_owned())
                .or_default() += 1;
            report.unmatched.push(Unmatched {
                name: package.name.clone(),
                version: package.version.clone(),
                purl: package.purl.clone(),
                reason: format!(
                    "version `{}` is not a valid {} version ({error}); no advisory range can be compared with it",
                    query.version, query.ecosystem
                ),
            });
            continue;
        }
        report.packages_matched += 1;
        if let Some(first) = package_queries.first() {
            let known = match known_ecosystems.get(&first.ecosystem) {
                Some(known) => *known,
                None => {
                    let known = index.has_ecosystem(&first.ecosystem)?;
                    known_ecosystems.insert(first.ecosystem.clone(), known);
                    known
                }
            };
            if !known {
                *report
                    .ecosystems_without_advisories
                    .entry(first.ecosystem.clone())
                    .or_default() += 1;
            }
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for query in &package_queries {
            let key = (query.ecosystem.clone(), query.name.clone());
            if !lookups.contains_key(&key) {
                let found = index.lookup(&query.ecosystem, &query.name)?;
                lookups.insert(key.clone(), found);
            }
            for candidate in &lookups[&key] {
                if seen.contains(&candidate.advisory) {
                    continue;
                }
                let range_hits = evaluate_parsed(
                    &candidate.ranges,
                    &candidate.affected.versions,
                    &query.version,
                    query.scheme,
                );
                let Some(first) = range_hits.first() else {
                    continue;
                };
                if !advisories.contains_key(&candidate.advisory) {
                    let blob = index
                        .advisory(&candidate.advisory)?
                        .map(std::sync::Arc::new);
                    advisories.insert(candidate.advisory.clone(), blob);
                }
                let Some(advisory) = advisories[&candidate.advisory].clone() else {
                    continue;
                };
                seen.insert(candidate.advisory.clone());
                hits.push(hit(advisory, candidate, query, first, &range_hits));
            }
        }
        let scheme = package_queries.first().map(|q| q.scheme);
        report.findings.extend(merge(package, &id, hits, scheme));
    }
    // A finding its own records cannot rate takes the rating of the
    // records that alias it (a Debian CVE without CVSS: its GHSA, Bitnami
    // or language-ecosystem records), said so in `severity_source`.
    let mut by_alias: HashMap<String, Option<Rated>> = HashMap::new();
    for finding in report
        .findings
        .iter_mut()
        .filter(|f| f.rating.source.is_none())
    {
        let rated = match by_alias.get(&finding.id) {
            Some(rated) => rated.clone(),
            None => {
                let rated = rate_by_alias(index, finding)?;
                by_alias.insert(finding.id.clone(), rated.clone());
                rated
            }
        };
        if let Some(rated) = rated {
            finding.rating = rated;
        }
    }
    report.findings.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| {
                b.rating
                    .score
                    .unwrap_or(0.0)
                    .total_cmp(&a.rating.score.unwrap_or(0.0))
            })
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(report)
}

fn hit(
    advisory: std::sync::Arc<StoredAdvisory>,
    candidate: &Candidate,
    query: &Query,
    first: &RangeHit,
    all: &[RangeHit],
) -> Hit {
    let distribution = matches!(query.scheme, Scheme::Dpkg | Scheme::Apk | Scheme::Rpm);
    let rating = rate(&advisory, Some(&candidate.affected), distribution);
    let mut fixed: Vec<String> = all.iter().filter_map(|h| h.fixed.clone()).collect();
    fixed.dedup();
    Hit {
        detail: MatchDetail {
            advisory: advisory.id.clone(),
            ecosystem: query.ecosystem.clone(),
            name: query.name.clone(),
            version: query.version.clone(),
            via: query.via,
            constraint: first.constraint.clone(),
        },
        advisory,
        rating,
        fixed,
    }
}

/// Merges the records that describe one vulnerability into one finding:
/// records sharing an ID (aliases) are one; a distro advisory (DSA, DLA,
/// USN …) whose related IDs are matched on their own joins those findings
/// instead of standing alone.
fn merge(
    package: &Package,
    package_id: &str,
    hits: Vec<Hit>,
    scheme: Option<Scheme>,
) -> Vec<Finding> {
    // Union-find over hits by shared IDs.
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn find(parent: &mut [usize], i: usize) -> usize {
        let mut root = i;
        while parent[root] != root {
            root = parent[root];
        }
        let mut j = i;
        while parent[j] != root {
            let next = parent[j];
            parent[j] = root;
            j = next;
        }
        root
    }
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, h) in hits.iter().enumerate() {
        for id in std::iter::once(&h.advisory.id).chain(&h.advisory.aliases) {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..hits.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    // Fold bundles (groups without a CVE or GHSA of their own) into the
    // groups their related IDs name.
    // Every ID has an owner hit; its group is the owner's.
    let group_of_id: HashMap<&str, usize> = owner
        .iter()
        .map(|(&id, &i)| (id, find(&mut parent, i)))
        .collect();
    let mut folded: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut dropped: BTreeSet<usize> = BTreeSet::new();
    for (&root, members) in &groups {
        let is_bundle = members.iter().all(|&m| {
            let id = &hits[m].advisory.id;
            !id.starts_with("CVE-")
                && !id.starts_with("GHSA-")
                && !hits[m]
                    .advisory
                    .aliases
                    .iter()
                    .any(|a| a.starts_with("CVE-"))
        });
        if !is_bundle {
            continue;
        }
        let targets: BTreeSet<usize> = members
            .iter()
            .flat_map(|&m| hits[m].advisory.related.iter())
            .filter_map(|r| group_of_id.get(r.as_str()).copied())
            .filter(|t| *t != root)
            .collect();
        if targets.is_empty() {
            continue;
        }
        for t in targets {
            folded.entry(t).or_default().extend(members.iter().copied());
        }
        dropped.insert(root);
    }
    let mut out = Vec::new();
    for (root, members) in &groups {
        if dropped.contains(root) {
            continue;
        }
        let bundles = folded.get(root).cloned().unwrap_or_default();
        out.push(finding(
            package, package_id, &hits, members, &bundles, scheme,
        ));
    }
    out
}

/// The best rating among the records that alias the finding's IDs (its
/// own records excepted): CVSS over a database rating, the newest CVSS
/// version, the highest score; with the record it came from as `via`.
fn rate_by_alias(index: &VulnIndex, finding: &Finding) -> Result<Option<Rated>, IndexError> {
    let own: HashSet<&str> = finding
        .details
        .iter()
        .map(|d| d.advisory.as_str())
        .collect();
    let key = |r: &Rated| {
        (
            r.rank(),
            r.cvss_version().map(str::to_owned),
            r.score.unwrap_or(0.0),
        )
    };
    let mut best: Option<Rated> = None;
    for id in std::iter::once(&finding.id).chain(&finding.aliases) {
        for (advisory, affected) in index.aliasing(id)? {
            if own.contains(advisory.id.as_str()) {
                continue;
            }
            let candidates = std::iter::once(rate(&advisory, None, false))
                .chain(affected.iter().map(|a| rate(&advisory, Some(a), false)));
            for mut rated in candidates.filter(|r| matches!(r.source, Some("cvss" | "database"))) {
                let better = best.as_ref().is_none_or(|b| {
                    key(&rated).partial_cmp(&key(b)) == Some(std::cmp::Ordering::Greater)
                });
                if better {
                    rated.via = Some(advisory.id.clone());
                    best = Some(rated);
                }
            }
        }
    }
    Ok(best)
}

fn finding(
    package: &Package,
    package_id: &str,
    hits: &[Hit],
    members: &[usize],
    bundles: &[usize],
    scheme: Option<Scheme>,
) -> Finding {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for &m in members.iter().chain(bundles) {
        ids.insert(hits[m].advisory.id.clone());
        ids.extend(hits[m].advisory.aliases.iter().cloned());
    }
    // Bundles bring their own ID, not the IDs of every CVE they fixed.
    let primary = ids
        .iter()
        .find(|i| i.starts_with("CVE-"))
        .or_else(|| ids.iter().find(|i| i.starts_with("GHSA-")))
        .or_else(|| ids.iter().next())
        .cloned()
        .unwrap_or_default();
    let aliases = ids.iter().filter(|i| **i != primary).cloned().collect();
    // The best-founded rating: CVSS over a database rating over an urgency;
    // among equals, the most severe.
    let rating = members
        .iter()
        .map(|&m| &hits[m].rating)
        .max_by(|a, b| {
            a.rank()
                .cmp(&b.rank())
                .then(a.severity.cmp(&b.severity))
                .then(a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0)))
        })
        .cloned()
        .unwrap_or(Rated {
            severity: Severity::Unknown,
            score: None,
            source: None,
            cvss: Vec::new(),
            via: None,
        });
    let mut fixed: Vec<String> = members
        .iter()
        .chain(bundles)
        .flat_map(|&m| hits[m].fixed.iter().cloned())
        .collect();
    let order = |a: &String, b: &String| {
        scheme
            .and_then(|s| s.compare(a, b).ok())
            .unwrap_or_else(|| a.cmp(b))
    };
    fixed.sort_by(order);
    // `2022.12.07` and `2022.12.7` are one PEP 440 version.
    fixed.dedup_by(|a, b| order(a, b) == std::cmp::Ordering::Equal);
    let summary = members
        .iter()
        .filter_map(|&m| hits[m].advisory.summary.clone())
        .find(|s| !s.is_empty());
    let mut references: Vec<String> = Vec::new();
    for &m in members.iter().chain(bundles) {
        for r in &hits[m].advisory.references {
            if !references.contains(r) && references.len() < 8 {
                references.push(r.clone());
            }
        }
    }
    Finding {
        id: primary,
        aliases,
        package: FindingPackage {
            id: package_id.to_owned(),
            name: package.name.clone(),
            version: package.version.clone(),
            kind: package.kind,
            purl: package.purl.clone(),
            introduced_by_layer: package.introduced_by_layer,
            locations: package.locations.clone(),
        },
        rating,
        fix_state: if fixed.is_empty() {
            FixState::NotFixed
        } else {
            FixState::Fixed
        },
        fixed_versions: fixed,
        summary,
        references,
        details: members
            .iter()
            .chain(bundles)
            .map(|&m| hits[m].detail.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(kind: &str, events: &[(&str, &str)]) -> Range {
        Range {
            kind: kind.to_owned(),
            events: events
                .iter()
                .map(|(k, v)| {
                    let v = Some((*v).to_owned());
                    match *k {
                        "introduced" => Event {
                            introduced: v,
                            ..Event::default()
                        },
                        "fixed" => Event {
                            fixed: v,
                            ..Event::default()
                        },
                        "last_affected" => Event {
                            last_affected: v,
                            ..Event::default()
                        },
                        _ => Event {
                            limit: v,
                            ..Event::default()
                        },
                    }
                })
                .collect(),
        }
    }

    fn affected(r: &Range, v: &str, s: Scheme) -> bool {
        evaluate_range(r, v, s).is_some()
    }

    #[test]
    fn introduced_fixed_ranges_in_any_order() {
        let r = range("ECOSYSTEM", &[("fixed", "1.25.9"), ("introduced", "0")]);
        assert!(affected(&r, "1.25.8", Scheme::Pep440));
        assert!(affected(&r, "1.0", Scheme::Pep440));
        assert!(!affected(&r, "1.25.9", Scheme::Pep440));
        assert!(!affected(&r, "1.26.4", Scheme::Pep440));
        assert_eq!(
            evaluate_range(&r, "1.24", Scheme::Pep440)
                .unwrap()
                .fixed
                .as_deref(),
            Some("1.25.9")
        );
        // Two windows (Go stdlib style).
        let r = range(
            "SEMVER",
            &[
                ("introduced", "0"),
                ("fixed", "1.19.11"),
                ("introduced", "1.20.0-0"),
                ("fixed", "1.20.6"),
            ],
        );
        assert!(affected(&r, "1.19.10", Scheme::Go));
        assert!(!affected(&r, "1.19.11", Scheme::Go));
        assert!(!affected(&r, "1.19.13", Scheme::Go));
        assert!(affected(&r, "1.20.0", Scheme::Go));
        assert_eq!(
            evaluate_range(&r, "1.20.5", Scheme::Go)
                .unwrap()
                .fixed
                .as_deref(),
            Some("1.20.6")
        );
        assert!(!affected(&r, "1.20.6", Scheme::Go));
        assert!(!affected(&r, "1.21.0", Scheme::Go));
    }

    #[test]
    fn last_affected_and_limit() {
        let r = range(
            "ECOSYSTEM",
            &[("introduced", "2.0.0"), ("last_affected", "2.3.1")],
        );
        assert!(!affected(&r, "1.9.9", Scheme::Semver));
        assert!(affected(&r, "2.3.1", Scheme::Semver));
        assert!(!affected(&r, "2.3.2", Scheme::Semver));
        assert_eq!(
            evaluate_range(&r, "2.1.0", Scheme::Semver).unwrap().fixed,
            None
        );
        let r = range("ECOSYSTEM", &[("introduced", "0"), ("limit", "3.0.0")]);
        assert!(affected(&r, "2.9.9", Scheme::Semver));
        assert!(!affected(&r, "3.0.0", Scheme::Semver));
    }

    #[test]
    fn distro_versions_respect_backports_and_tildes() {
        // Debian's backported fix: 3.0.11-1~deb12u2 is fixed, although it is
        // "older" upstream than 3.0.12.
        let r = range(
            "ECOSYSTEM",
            &[("introduced", "0"), ("fixed", "3.0.11-1~deb12u2")],
        );
        assert!(affected(&r, "3.0.11-1~deb12u1", Scheme::Dpkg));
        assert!(!affected(&r, "3.0.11-1~deb12u2", Scheme::Dpkg));
        assert!(!affected(&r, "3.0.15-1~deb12u1", Scheme::Dpkg));
        assert!(affected(&r, "3.0.9-1", Scheme::Dpkg));
        let r = range(
            "ECOSYSTEM",
            &[("introduced", "0"), ("fixed", "1:1.2.13.dfsg-1")],
        );
        assert!(!affected(&r, "1:1.2.13.dfsg-1", Scheme::Dpkg));
        assert!(
            affected(&r, "1.2.13.dfsg-9", Scheme::Dpkg),
            "no epoch sorts before epoch 1"
        );
        // Unfixed.
        let r = range("ECOSYSTEM", &[("introduced", "0")]);
        assert_eq!(
            evaluate_range(&r, "2.36-9+deb12u4", Scheme::Dpkg)
                .unwrap()
                .fixed,
            None
        );
    }

    #[test]
    fn unparsable_versions_never_match() {
        let r = range("ECOSYSTEM", &[("introduced", "0"), ("fixed", "1.0")]);
        assert!(!affected(&r, "not a version!", Scheme::Semver));
        let r = range("ECOSYSTEM", &[("introduced", "0"), ("fixed", "garbage!")]);
        assert!(!affected(&r, "1.0.0", Scheme::Semver));
    }

    #[test]
    fn explicit_versions() {
        let a = StoredAffected {
            versions: vec!["3.1.3".into(), "3.0.4".into()],
            ..StoredAffected::default()
        };
        assert_eq!(evaluate(&a, "3.1.3", Scheme::Semver).len(), 1);
        assert!(evaluate(&a, "3.1.2", Scheme::Semver).is_empty());
        let a = StoredAffected {
            versions: vec!["1.0".into()],
            ..StoredAffected::default()
        };
        assert_eq!(
            evaluate(&a, "1.0.0", Scheme::Pep440).len(),
            1,
            "PEP 440: 1.0 == 1.0.0"
        );
    }
}
