//! Inventory questions asked after the build: what is known about a digest,
//! which images hold a package, which deployed digests an advisory affects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use customs_types::Digest;
use customs_version::Scheme;
use customs_vuln::VulnIndex;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::ledger::{CURRENT, Deployment, deployment_of};
use crate::{Store, StoreError};

/// One line of `customs history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// When.
    pub at: String,
    /// `tag`, `scan`, `gate`, `promote`, `deploy`, `block`, …
    pub kind: String,
    /// The environment, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// What happened, in a line.
    pub what: String,
    /// Who.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub actor: String,
}

/// What the store says about one digest ([`Store::dossier`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dossier {
    /// `(repository:tag, first seen)`.
    pub tags: Vec<(String, String)>,
    pub deployments: Vec<Deployment>,
    pub promotions: Vec<crate::Promotion>,
    pub releases: Vec<crate::Release>,
    pub history: Vec<HistoryEntry>,
}

/// Which versions of a package `who-has` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionFilter {
    /// Every version.
    Any,
    /// Exactly this one.
    Exact(String),
    /// Every comparator must hold (`>=1.0, <2.0`), in the package type's
    /// own version ordering.
    Range(Vec<(Comparator, String)>),
}

/// A version comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
}

/// `PACKAGE[@VERSION|@RANGE]` with an optional package type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFilter {
    /// The package name, as its ecosystem spells it.
    pub name: String,
    /// Which versions.
    pub version: VersionFilter,
    /// `deb`, `npm`, … (customs's package types).
    pub kind: Option<String>,
}

impl PackageFilter {
    /// Parses `name`, `name@1.2.3` or `name@<1.2.3`, `name@>=1.0,<2.0`
    /// (an npm scope's leading `@` is part of the name).
    ///
    /// # Errors
    /// An empty name, or a range with an empty or unknown comparator.
    pub fn parse(spec: &str, kind: Option<&str>) -> Result<Self, String> {
        let split_at = spec
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == '@')
            .map(|(i, _)| i);
        let (name, version) = match split_at {
            Some(i) => (&spec[..i], Some(&spec[i + 1..])),
            None => (spec, None),
        };
        if name.trim().trim_start_matches('@').is_empty() {
            return Err(format!("`{spec}` names no package"));
        }
        let version = match version.map(str::trim) {
            None | Some("" | "*") => VersionFilter::Any,
            Some(v) if v.starts_with(['<', '>', '=', '!']) => {
                let mut comparators = Vec::new();
                for part in v.split([',', ' ']).filter(|p| !p.is_empty()) {
                    let (op, rest) = if let Some(r) = part.strip_prefix(">=") {
                        (Comparator::GreaterOrEqual, r)
                    } else if let Some(r) = part.strip_prefix("<=") {
                        (Comparator::LessOrEqual, r)
                    } else if let Some(r) = part.strip_prefix("!=") {
                        (Comparator::NotEqual, r)
                    } else if let Some(r) = part.strip_prefix("==") {
                        (Comparator::Equal, r)
                    } else if let Some(r) = part.strip_prefix('>') {
                        (Comparator::Greater, r)
                    } else if let Some(r) = part.strip_prefix('<') {
                        (Comparator::Less, r)
                    } else if let Some(r) = part.strip_prefix('=') {
                        (Comparator::Equal, r)
                    } else {
                        return Err(format!(
                            "`{part}` in `{spec}` is not a comparison: write <, <=, >, >=, = or != before each version"
                        ));
                    };
                    if rest.trim().is_empty() {
                        return Err(format!("`{part}` in `{spec}` has no version"));
                    }
                    comparators.push((op, rest.trim().to_owned()));
                }
                VersionFilter::Range(comparators)
            }
            Some(v) => VersionFilter::Exact(v.to_owned()),
        };
        Ok(Self {
            name: name.to_owned(),
            version,
            kind: kind.map(str::to_owned),
        })
    }

    /// Whether `version` of a package of `kind` passes.
    #[must_use]
    pub fn accepts(&self, kind: &str, version: &str) -> bool {
        match &self.version {
            VersionFilter::Any => true,
            VersionFilter::Exact(v) => {
                v == version
                    || scheme_of(kind).is_some_and(|s| {
                        s.compare(v, version)
                            .is_ok_and(|o| o == std::cmp::Ordering::Equal)
                    })
            }
            VersionFilter::Range(comparators) => {
                let Some(scheme) = scheme_of(kind) else {
                    return false;
                };
                comparators.iter().all(|(op, bound)| {
                    scheme.compare(version, bound).is_ok_and(|o| {
                        use std::cmp::Ordering::{Equal, Greater, Less};
                        match op {
                            Comparator::Less => o == Less,
                            Comparator::LessOrEqual => o != Greater,
                            Comparator::Greater => o == Greater,
                            Comparator::GreaterOrEqual => o != Less,
                            Comparator::Equal => o == Equal,
                            Comparator::NotEqual => o != Equal,
                        }
                    })
                })
            }
        }
    }
}

/// How versions of a customs package type (`deb`, `npm`) compare.
fn scheme_of(kind: &str) -> Option<Scheme> {
    let kind: customs_sbom::PackageType =
        serde_json::from_value(serde_json::Value::String(kind.to_owned())).ok()?;
    customs_vuln::ecosystem::scheme_of(kind)
}

/// An image holding a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// The image digest.
    pub digest: String,
    /// The image's name when first seen.
    pub image: String,
    /// The package type.
    pub kind: String,
    /// The package.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its purl.
    pub purl: String,
    /// Where the image runs now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
}

/// What an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// The ID asked about.
    pub id: String,
    /// The advisory records that matched (the ID and its aliases).
    pub advisories: Vec<String>,
    /// Whether the advisory database knows the ID at all.
    pub known: bool,
    /// Every stored image with an affected package.
    pub images: Vec<AffectedImage>,
}

/// An image an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedImage {
    /// The image digest.
    pub digest: String,
    /// Its name.
    pub image: String,
    /// The affected package.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The fixed version, when the advisory names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The advisory record that matched.
    pub advisory: String,
    /// Where it runs now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<Deployment>,
}

/// Parameters per `IN (…)` list.
const IN_BATCH: usize = 500;

impl Store {
    /// Everything the store says about `digest`, each part read once:
    /// its tags, deployments, promotions and releases, and its whole
    /// history (those, its records, SBOM and blocks) in time order.
    ///
    /// # Errors
    /// A failing query.
    pub async fn dossier(&self, digest: &Digest) -> Result<Dossier, StoreError> {
        let tags = self.tags_of(digest).await?;
        let promotions = self.promotions_of(digest).await?;
        let releases = self.releases_of(digest).await?;
        let deployments = self.deployments_of(digest).await?;
        let mut out = Vec::new();
        for (tag, at) in &tags {
            out.push(HistoryEntry {
                at: at.clone(),
                kind: "tag".to_owned(),
                environment: None,
                what: format!("seen as {tag}"),
                actor: String::new(),
            });
        }
        for record in self.records(digest, None).await? {
            let what = record
                .summary
                .get("line")
                .and_then(|l| l.as_str())
                .map_or_else(|| record.summary.to_string(), str::to_owned);
            out.push(HistoryEntry {
                at: record.created_at,
                kind: record.kind,
                environment: record.environment,
                what,
                actor: record.actor,
            });
        }
        if let Some((document, created_at, packages)) = self.sbom_of(digest).await? {
            out.push(HistoryEntry {
                at: created_at,
                kind: "sbom-stored".to_owned(),
                environment: None,
                what: format!("SBOM stored: {packages} packages (document {document})"),
                actor: String::new(),
            });
        }
        for p in &promotions {
            out.push(HistoryEntry {
                at: p.at.clone(),
                kind: "promote".to_owned(),
                environment: Some(p.environment.clone()),
                what: format!("promoted {} → {}", p.source, p.target),
                actor: p.actor.clone(),
            });
        }
        for r in &releases {
            out.push(HistoryEntry {
                at: r.created_at.clone(),
                kind: "release".to_owned(),
                environment: Some(r.environment.clone()),
                what: format!(
                    "released as {} {} (bundle {})",
                    r.service, r.version, r.document
                ),
                actor: r.actor.clone(),
            });
        }
        for d in &deployments {
            let what = match &d.until {
                None => format!("deployed as {} (current)", d.slot()),
                Some(until) => format!("deployed as {} until {until}", d.slot()),
            };
            out.push(HistoryEntry {
                at: d.since.clone(),
                kind: "deploy".to_owned(),
                environment: Some(d.environment.clone()),
                what,
                actor: d.actor.clone(),
            });
        }
        let rows = sqlx::query(
            "SELECT action, reason, until, at, actor FROM blocks WHERE digest = $1 ORDER BY id",
        )
        .bind(digest.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read blocks", e))?;
        for r in rows {
            let action: String = r.get(0);
            let reason: String = r.get(1);
            let until: Option<String> = r.get(2);
            out.push(HistoryEntry {
                at: r.get(3),
                kind: action.clone(),
                environment: None,
                what: match until {
                    Some(until) => format!("{action}ed until {until}: {reason}"),
                    None => format!("{action}ed: {reason}"),
                },
                actor: r.get(4),
            });
        }
        out.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(Dossier {
            tags,
            deployments,
            promotions,
            releases,
            history: out,
        })
    }

    /// Everything known about `digest`, oldest first: tags, records,
    /// promotions, releases, deployments and blocks (the history part of
    /// [`Self::dossier`]).
    ///
    /// # Errors
    /// A failing query.
    pub async fn history(&self, digest: &Digest) -> Result<Vec<HistoryEntry>, StoreError> {
        Ok(self.dossier(digest).await?.history)
    }

    /// Every stored image holding a package `filter` accepts; with
    /// `deployed`, only images that run now (in `environment` when given),
    /// each with where.
    ///
    /// # Errors
    /// A failing query.
    pub async fn who_has(
        &self,
        filter: &PackageFilter,
        deployed: bool,
        environment: Option<&str>,
    ) -> Result<Vec<Holder>, StoreError> {
        // The package rows first (a few), their versions judged here; then
        // the images holding the accepted ones, narrowed in SQL to what runs
        // when only that is asked.
        let kind_filter = if filter.kind.is_some() {
            " AND kind = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, kind, name, version, purl FROM packages WHERE name = $1{kind_filter}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(&filter.name);
        if let Some(kind) = &filter.kind {
            query = query.bind(kind);
        }
        let packages: BTreeMap<i64, (String, String, String, String)> = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("find a package", e))?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
            .filter(
                |(_, (kind, _, version, _)): &(i64, (String, String, String, String))| {
                    filter.accepts(kind, version)
                },
            )
            .collect();
        let running_only = deployed || environment.is_some();
        let ids: Vec<i64> = packages.keys().copied().collect();
        // (digest, package id) → holder, in first-seen order.
        let mut holders: Vec<Holder> = Vec::new();
        let mut at: HashMap<(String, i64), usize> = HashMap::new();
        for chunk in ids.chunks(IN_BATCH) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            // What runs is joined in SQL: only running images' rows come
            // back (rows cost more to decode than to find).
            let sql = if running_only {
                format!(
                    "SELECT ip.package_id, i.digest, i.name, d.id, d.environment, d.service, d.cluster, d.namespace, d.reference, d.source, d.recorded_at, d.actor FROM image_packages ip JOIN images i ON i.id = ip.image_id JOIN deployments d ON d.digest = i.digest WHERE ip.package_id IN ({list}) AND {CURRENT}{}",
                    if environment.is_some() {
                        format!(" AND d.environment = ${}", chunk.len() + 1)
                    } else {
                        String::new()
                    }
                )
            } else {
                format!(
                    "SELECT ip.package_id, i.digest, i.name FROM image_packages ip JOIN images i ON i.id = ip.image_id WHERE ip.package_id IN ({list})"
                )
            };
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            if running_only && let Some(environment) = environment {
                query = query.bind(environment);
            }
            for row in query
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.error("find a package's images", e))?
            {
                let package: i64 = row.get(0);
                let digest: String = row.get(1);
                let slot = *at.entry((digest.clone(), package)).or_insert_with(|| {
                    let (kind, name, version, purl) = &packages[&package];
                    holders.push(Holder {
                        digest: digest.clone(),
                        image: row.get(2),
                        kind: kind.clone(),
                        name: name.clone(),
                        version: version.clone(),
                        purl: purl.clone(),
                        deployments: Vec::new(),
                    });
                    holders.len() - 1
                });
                if running_only {
                    holders[slot].deployments.push(Deployment {
                        id: row.get(3),
                        environment: row.get(4),
                        service: row.get(5),
                        cluster: row.get(6),
                        namespace: row.get(7),
                        digest,
                        reference: row.get(8),
                        source: row.get(9),
                        since: row.get(10),
                        until: None,
                        actor: row.get(11),
                    });
                }
            }
        }
        holders.sort_by(|a, b| (&a.digest, &a.version).cmp(&(&b.digest, &b.version)));
        Ok(holders)
    }

    /// The current deployments of `digests` (in `environment` when given),
    /// by digest: the digests named in the query when they are few, else
    /// every current deployment read once and kept when asked about (rows
    /// cost more to decode than to find).
    async fn current_deployments(
        &self,
        digests: &BTreeSet<&str>,
        environment: Option<&str>,
    ) -> Result<HashMap<String, Vec<Deployment>>, StoreError> {
        let mut out: HashMap<String, Vec<Deployment>> = HashMap::new();
        if digests.is_empty() {
            return Ok(out);
        }
        let few = digests.len() <= IN_BATCH;
        let mut sql = format!(
            "SELECT d.id, d.environment, d.service, d.cluster, d.namespace, d.digest, d.reference, d.source, d.recorded_at, d.actor, NULL FROM deployments d WHERE {CURRENT}"
        );
        let mut n = 0;
        if few {
            let list = (1..=digests.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            sql.push_str(&format!(" AND d.digest IN ({list})"));
            n = digests.len();
        }
        if environment.is_some() {
            sql.push_str(&format!(" AND d.environment = ${}", n + 1));
        }
        sql.push_str(" ORDER BY d.id");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if few {
            for digest in digests {
                query = query.bind(*digest);
            }
        }
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        for row in query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read deployments", e))?
        {
            let deployment = deployment_of(&row);
            if few || digests.contains(deployment.digest.as_str()) {
                out.entry(deployment.digest.clone())
                    .or_default()
                    .push(deployment);
            }
        }
        Ok(out)
    }

    /// The stored images an advisory (or any record aliasing it) affects,
    /// found by matching the stored package index against the advisory
    /// database as it is now — no image is pulled. With `environment`,
    /// only images deployed there.
    ///
    /// # Errors
    /// A failing query or a damaged advisory database.
    pub async fn affected(
        &self,
        index: &VulnIndex,
        id: &str,
        environment: Option<&str>,
    ) -> Result<Affected, StoreError> {
        let damaged = |e: customs_vuln::IndexError| StoreError::Damaged {
            location: index.path().display().to_string(),
            what: "the advisory database".to_owned(),
            detail: e.to_string(),
        };
        let handles = index.handles_of(id).map_err(damaged)?;
        let known = !handles.is_empty() || index.advisory(id).map_err(damaged)?.is_some();
        let mut advisories: BTreeSet<String> = BTreeSet::new();
        // package id → (advisory, fixed)
        let mut hit: BTreeMap<i64, (String, Option<String>)> = BTreeMap::new();
        for (ecosystem, name, candidate) in &handles {
            let Some(scheme) = Scheme::for_ecosystem(ecosystem) else {
                continue;
            };
            let rows = sqlx::query(
                "SELECT version, package_id FROM package_queries WHERE ecosystem = $1 AND name = $2",
            )
            .bind(ecosystem)
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("find packages an advisory names", e))?;
            let mut verdicts: HashMap<String, Option<Option<String>>> = HashMap::new();
            for row in rows {
                let version: String = row.get(0);
                let package: i64 = row.get(1);
                let verdict = verdicts.entry(version.clone()).or_insert_with(|| {
                    let hits = customs_vuln::matching::evaluate_parsed(
                        &candidate.ranges,
                        &candidate.affected.versions,
                        &version,
                        scheme,
                    );
                    hits.first().map(|h| h.fixed.clone())
                });
                if let Some(fixed) = verdict {
                    advisories.insert(candidate.advisory.clone());
                    hit.entry(package)
                        .or_insert_with(|| (candidate.advisory.clone(), fixed.clone()));
                }
            }
        }
        let mut images: Vec<AffectedImage> = Vec::new();
        let ids: Vec<i64> = hit.keys().copied().collect();
        for chunk in ids.chunks(IN_BATCH) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut query = sqlx::query(AssertSqlSafe(format!(
                "SELECT ip.package_id, i.digest, i.name, p.name, p.version FROM image_packages ip JOIN images i ON i.id = ip.image_id JOIN packages p ON p.id = ip.package_id WHERE ip.package_id IN ({list})"
            )));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.error("find affected images", e))?
            {
                let package: i64 = row.get(0);
                let (advisory, fixed) = hit[&package].clone();
                images.push(AffectedImage {
                    digest: row.get(1),
                    image: row.get(2),
                    package: row.get(3),
                    version: row.get(4),
                    fixed,
                    advisory,
                    deployments: Vec::new(),
                });
            }
        }
        let digests: BTreeSet<&str> = images.iter().map(|i| i.digest.as_str()).collect();
        let running = self.current_deployments(&digests, environment).await?;
        for image in &mut images {
            image.deployments = running.get(&image.digest).cloned().unwrap_or_default();
        }
        if environment.is_some() {
            images.retain(|i| !i.deployments.is_empty());
        }
        images.sort_by(|a, b| {
            b.deployments
                .len()
                .cmp(&a.deployments.len())
                .then_with(|| a.digest.cmp(&b.digest))
                .then_with(|| a.package.cmp(&b.package))
        });
        Ok(Affected {
            id: id.to_owned(),
            advisories: advisories.into_iter().collect(),
            known,
            images,
        })
    }

    /// The digests that run now (in `environment` when given).
    ///
    /// # Errors
    /// A failing query.
    pub async fn deployed_digests(
        &self,
        environment: Option<&str>,
    ) -> Result<Vec<Digest>, StoreError> {
        let mut digests: Vec<Digest> = self
            .deployments(environment, false)
            .await?
            .iter()
            .filter_map(|d| Digest::parse(&d.digest).ok())
            .collect();
        digests.sort();
        digests.dedup();
        Ok(digests)
    }

    /// The store's size in bytes and its image count (what a benchmark
    /// reports per image).
    ///
    /// # Errors
    /// A failing query.
    pub async fn size(&self) -> Result<(u64, u64), StoreError> {
        let images: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error("count images", e))?;
        let bytes: i64 = match self.backend {
            crate::Backend::Sqlite => sqlx::query_scalar(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            ),
            crate::Backend::Postgres => {
                sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
            }
        }
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error("measure the store", e))?;
        Ok((
            u64::try_from(bytes).unwrap_or(0),
            u64::try_from(images).unwrap_or(0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_specs() {
        let f = PackageFilter::parse("openssl", None).unwrap();
        assert_eq!(f.version, VersionFilter::Any);
        let f = PackageFilter::parse("@babel/core@7.1.0", Some("npm")).unwrap();
        assert_eq!(f.name, "@babel/core");
        assert_eq!(f.version, VersionFilter::Exact("7.1.0".to_owned()));
        let f = PackageFilter::parse("libssl3@>=3.0.0, <3.0.11-1~deb12u2", None).unwrap();
        assert!(f.accepts("deb", "3.0.9-1"));
        assert!(f.accepts("deb", "3.0.11-1~deb12u1"));
        assert!(!f.accepts("deb", "3.0.11-1~deb12u2"));
        assert!(!f.accepts("deb", "2.9"));
        assert!(
            PackageFilter::parse("x@~1.0", None)
                .is_ok_and(|f| matches!(f.version, VersionFilter::Exact(_)))
        );
        assert!(PackageFilter::parse("x@<", None).is_err());
        assert!(PackageFilter::parse("@", None).is_err());
        // A range cannot be compared without an ordering: nothing passes.
        let f = PackageFilter::parse("x@<2", None).unwrap();
        assert!(!f.accepts("unknown-type", "1"));
    }
}

/// What `Store::check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Images known.
    pub images: u64,
    /// Records kept.
    pub records: u64,
    /// Documents verified against their digests.
    pub documents: u64,
    /// SBOMs whose package index was counted.
    pub sboms: u64,
    /// Deployment events.
    pub deployments: u64,
    /// What is wrong (empty when consistent).
    pub problems: Vec<String>,
}

impl Store {
    /// Verifies the store: the database's own integrity check (SQLite),
    /// every document against its digest, every SBOM's package index
    /// against its count. A store left by a killed process passes: each
    /// write was one transaction.
    ///
    /// # Errors
    /// A failing query.
    pub async fn check(&self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        if self.backend == crate::Backend::Sqlite {
            let result: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.error("run the integrity check", e))?;
            if result != "ok" {
                report.problems.push(format!("integrity check: {result}"));
            }
            let broken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_check")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.error("check foreign keys", e))?;
            if broken > 0 {
                report
                    .problems
                    .push(format!("{broken} row(s) point at missing rows"));
            }
        }
        let count = |table: &'static str| async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .fetch_one(&self.pool)
                .await
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| self.error(&format!("count {table}"), e))
        };
        report.images = count("images").await?;
        report.records = count("records").await?;
        report.deployments = count("deployments").await?;
        let digests: Vec<String> =
            sqlx::query_scalar("SELECT digest FROM documents ORDER BY digest")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.error("list documents", e))?;
        for digest in digests {
            match self.document(&digest).await {
                Ok(Some(_)) => report.documents += 1,
                Ok(None) => {}
                Err(e) => report.problems.push(e.to_string()),
            }
        }
        let rows = sqlx::query(
            "SELECT i.digest, s.packages, (SELECT COUNT(*) FROM image_packages ip WHERE ip.image_id = s.image_id) FROM sboms s JOIN images i ON i.id = s.image_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("count SBOM packages", e))?;
        for row in rows {
            report.sboms += 1;
            let (digest, said, found): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            if said != found {
                report.problems.push(format!(
                    "the SBOM of {digest} lists {said} packages, its index holds {found}"
                ));
            }
        }
        let orphans: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT ip.image_id) FROM image_packages ip LEFT JOIN sboms s ON s.image_id = ip.image_id WHERE s.image_id IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error("look for half-written SBOMs", e))?;
        if orphans > 0 {
            report.problems.push(format!(
                "{orphans} image(s) have a package index but no SBOM: a half-written record"
            ));
        }
        Ok(report)
    }
}
