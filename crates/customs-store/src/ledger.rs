//! The ledger: deployments, blocks, promotions and releases — events, never
//! rewritten; the state of a key is its newest event.

use customs_types::Digest;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::evidence::{Document, Seen};
use crate::{Store, StoreError, now};

/// A deployment to record.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    /// The environment (`prod`).
    pub environment: String,
    /// The service.
    pub service: String,
    /// The cluster (empty when not said).
    pub cluster: String,
    /// The namespace (empty when not said).
    pub namespace: String,
    /// The image.
    pub image: Seen,
    /// How the deployment named it (`reg/app:1.4` or `reg/app@sha256:…`).
    pub reference: String,
    /// Where the record came from (`cli`, a manifest's path).
    pub source: String,
}

/// A recorded deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// Its position (time order).
    pub id: i64,
    /// The environment.
    pub environment: String,
    /// The service.
    pub service: String,
    /// The cluster.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The namespace.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The digest deployed.
    pub digest: String,
    /// How it was named.
    pub reference: String,
    /// Where the record came from.
    pub source: String,
    /// Since when.
    pub since: String,
    /// Until when: the time a later deployment replaced it, `None` while it
    /// is current.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Who recorded it.
    pub actor: String,
}

impl Deployment {
    /// Whether it is still what runs there.
    #[must_use]
    pub fn current(&self) -> bool {
        self.until.is_none()
    }

    /// `environment/service[@cluster/namespace]`.
    #[must_use]
    pub fn slot(&self) -> String {
        let mut out = format!("{}/{}", self.environment, self.service);
        if !self.cluster.is_empty() || !self.namespace.is_empty() {
            out.push_str(&format!(" ({}/{})", self.cluster, self.namespace));
        }
        out
    }
}

/// A digest's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// The digest.
    pub digest: String,
    /// Why.
    pub reason: String,
    /// Until when (a date or date-time), `None` for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Since when.
    pub at: String,
    /// Who.
    pub actor: String,
}

/// A recorded promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promotion {
    /// Its position.
    pub id: i64,
    /// The digest.
    pub digest: String,
    /// From.
    pub source: String,
    /// To.
    pub target: String,
    /// For which environment.
    pub environment: String,
    /// The decision record's digest (the record of the gate that let it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// What was copied (counts, as JSON).
    pub copied: serde_json::Value,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
}

/// A stored release bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The service.
    pub service: String,
    /// The release.
    pub version: String,
    /// The environment.
    pub environment: String,
    /// The image digest.
    pub digest: String,
    /// The bundle's document digest.
    pub document: String,
    /// When.
    pub created_at: String,
    /// Who.
    pub actor: String,
}

pub(crate) const DEPLOYMENT_COLUMNS: &str = "d.id, d.environment, d.service, d.cluster, d.namespace, d.digest, d.reference, d.source, d.recorded_at, d.actor, (SELECT MIN(n.recorded_at) FROM deployments n WHERE n.environment = d.environment AND n.service = d.service AND n.cluster = d.cluster AND n.namespace = d.namespace AND n.id > d.id AND n.digest <> d.digest)";

/// Deployments that are the newest of their slot: no later event there
/// (an anti-join one index probe per row answers, on both backends; an
/// `IN (SELECT MAX(id) … GROUP BY …)` list made SQLite probe the whole list
/// per row).
pub(crate) const CURRENT: &str = "NOT EXISTS (SELECT 1 FROM deployments n WHERE n.environment = d.environment AND n.service = d.service AND n.cluster = d.cluster AND n.namespace = d.namespace AND n.id > d.id)";

pub(crate) fn deployment_of(row: &sqlx::any::AnyRow) -> Deployment {
    Deployment {
        id: row.get(0),
        environment: row.get(1),
        service: row.get(2),
        cluster: row.get(3),
        namespace: row.get(4),
        digest: row.get(5),
        reference: row.get(6),
        source: row.get(7),
        since: row.get(8),
        actor: row.get(9),
        until: row.get(10),
    }
}

impl Store {
    /// Records that `deployment.image` runs as the service now.
    ///
    /// # Errors
    /// A failing query (nothing is written then).
    pub async fn record_deployment(
        &self,
        deployment: &NewDeployment,
    ) -> Result<Deployment, StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO deployments (environment, service, cluster, namespace, digest, reference, source, recorded_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&deployment.environment)
        .bind(&deployment.service)
        .bind(&deployment.cluster)
        .bind(&deployment.namespace)
        .bind(deployment.image.digest.to_string())
        .bind(&deployment.reference)
        .bind(&deployment.source)
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("record a deployment", e))?;
        let id: i64 = sqlx::query_scalar(
            "SELECT MAX(id) FROM deployments WHERE environment = $1 AND service = $2 AND cluster = $3 AND namespace = $4",
        )
        .bind(&deployment.environment)
        .bind(&deployment.service)
        .bind(&deployment.cluster)
        .bind(&deployment.namespace)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.error("read a deployment", e))?;
        // The image is known from now on (by digest and the tag deployed).
        self.put_image(&mut tx, &deployment.image, &at).await?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a deployment", e))?;
        Ok(Deployment {
            id,
            environment: deployment.environment.clone(),
            service: deployment.service.clone(),
            cluster: deployment.cluster.clone(),
            namespace: deployment.namespace.clone(),
            digest: deployment.image.digest.to_string(),
            reference: deployment.reference.clone(),
            source: deployment.source.clone(),
            since: at,
            until: None,
            actor: self.actor.clone(),
        })
    }

    /// Deployments, newest first: the current one of every slot, or every
    /// event with `all`; only `environment`'s when given.
    ///
    /// # Errors
    /// A failing query.
    pub async fn deployments(
        &self,
        environment: Option<&str>,
        all: bool,
    ) -> Result<Vec<Deployment>, StoreError> {
        let mut filters: Vec<&str> = Vec::new();
        if !all {
            filters.push(CURRENT);
        }
        if environment.is_some() {
            filters.push("d.environment = $1");
        }
        let condition = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d {condition} ORDER BY d.environment, d.service, d.cluster, d.namespace, d.id DESC"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read deployments", e))?;
        Ok(rows.iter().map(deployment_of).collect())
    }

    /// Every deployment of `digest`, current or past, oldest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn deployments_of(&self, digest: &Digest) -> Result<Vec<Deployment>, StoreError> {
        let sql = format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM deployments d WHERE d.digest = $1 ORDER BY d.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(digest.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read deployments", e))?;
        // A redeployment of the same digest to the same slot continues the
        // first: one line per stint.
        let mut out: Vec<Deployment> = Vec::new();
        for deployment in rows.iter().map(deployment_of) {
            let continues = out.iter().any(|d| {
                d.environment == deployment.environment
                    && d.service == deployment.service
                    && d.cluster == deployment.cluster
                    && d.namespace == deployment.namespace
                    && d.until == deployment.until
            });
            if !continues {
                out.push(deployment);
            }
        }
        Ok(out)
    }

    /// Blocks `digest` in every environment (until `until`, a date, when
    /// given).
    ///
    /// # Errors
    /// A failing query.
    pub async fn block(
        &self,
        digest: &Digest,
        reason: &str,
        until: Option<&str>,
    ) -> Result<Block, StoreError> {
        let at = self.block_event(digest, "block", reason, until).await?;
        Ok(Block {
            digest: digest.to_string(),
            reason: reason.to_owned(),
            until: until.map(str::to_owned),
            at,
            actor: self.actor.clone(),
        })
    }

    /// Lifts the block of `digest`.
    ///
    /// # Errors
    /// A failing query.
    pub async fn unblock(&self, digest: &Digest, reason: &str) -> Result<(), StoreError> {
        self.block_event(digest, "unblock", reason, None).await?;
        Ok(())
    }

    async fn block_event(
        &self,
        digest: &Digest,
        action: &str,
        reason: &str,
        until: Option<&str>,
    ) -> Result<String, StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO blocks (digest, action, reason, until, at, actor) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(digest.to_string())
        .bind(action)
        .bind(reason)
        .bind(until)
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(&format!("record the {action} of {digest}"), e))?;
        tx.commit()
            .await
            .map_err(|e| self.error(&format!("commit the {action}"), e))?;
        Ok(at)
    }

    /// Every block in force at `now` (RFC 3339), newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn blocks(&self, now: &str) -> Result<Vec<Block>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.digest, b.reason, b.until, b.at, b.actor FROM blocks b WHERE b.action = 'block' AND b.id IN (SELECT MAX(id) FROM blocks GROUP BY digest) ORDER BY b.id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read blocks", e))?;
        Ok(rows
            .iter()
            .map(|r| Block {
                digest: r.get(0),
                reason: r.get(1),
                until: r.get(2),
                at: r.get(3),
                actor: r.get(4),
            })
            .filter(|b| in_force(b, now))
            .collect())
    }

    /// The block of `digest` in force at `now`, if any.
    ///
    /// # Errors
    /// A failing query.
    pub async fn block_of(&self, digest: &Digest, now: &str) -> Result<Option<Block>, StoreError> {
        let row = sqlx::query(
            "SELECT action, reason, until, at, actor FROM blocks WHERE digest = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(digest.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error("read a block", e))?;
        Ok(row.and_then(|r| {
            let action: String = r.get(0);
            let block = Block {
                digest: digest.to_string(),
                reason: r.get(1),
                until: r.get(2),
                at: r.get(3),
                actor: r.get(4),
            };
            (action == "block" && in_force(&block, now)).then_some(block)
        }))
    }

    /// Records a promotion.
    ///
    /// # Errors
    /// A failing query.
    pub async fn record_promotion(
        &self,
        digest: &Digest,
        source: &str,
        target: &str,
        environment: &str,
        decision: Option<&str>,
        copied: &serde_json::Value,
    ) -> Result<Promotion, StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO promotions (digest, source, target, environment, decision, copied, at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(digest.to_string())
        .bind(source)
        .bind(target)
        .bind(environment)
        .bind(decision)
        .bind(copied.to_string())
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("record a promotion", e))?;
        let id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM promotions WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error("read a promotion", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a promotion", e))?;
        Ok(Promotion {
            id,
            digest: digest.to_string(),
            source: source.to_owned(),
            target: target.to_owned(),
            environment: environment.to_owned(),
            decision: decision.map(str::to_owned),
            copied: copied.clone(),
            at,
            actor: self.actor.clone(),
        })
    }

    /// The promotions of `digest`, oldest first.
    ///
    /// # Errors
    /// A failing query or a damaged row.
    pub async fn promotions_of(&self, digest: &Digest) -> Result<Vec<Promotion>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, digest, source, target, environment, decision, copied, at, actor FROM promotions WHERE digest = $1 ORDER BY id",
        )
        .bind(digest.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read promotions", e))?;
        rows.iter()
            .map(|r| {
                let copied: String = r.get(6);
                Ok(Promotion {
                    id: r.get(0),
                    digest: r.get(1),
                    source: r.get(2),
                    target: r.get(3),
                    environment: r.get(4),
                    decision: r.get(5),
                    copied: serde_json::from_str(&copied).map_err(|e| StoreError::Damaged {
                        location: self.location.clone(),
                        what: "a promotion".to_owned(),
                        detail: e.to_string(),
                    })?,
                    at: r.get(7),
                    actor: r.get(8),
                })
            })
            .collect()
    }

    /// Stores a release bundle and its files (each a document) in one
    /// transaction.
    ///
    /// # Errors
    /// A failing query (nothing is written then).
    pub async fn record_release(
        &self,
        release: (&str, &str, &str),
        image: &Seen,
        bundle: &Document,
        files: &[Document],
    ) -> Result<Release, StoreError> {
        let (service, version, environment) = release;
        let at = now();
        let mut tx = self.begin().await?;
        for file in files {
            self.put_document(&mut tx, file).await?;
        }
        let document = self.put_document(&mut tx, bundle).await?;
        self.put_image(&mut tx, image, &at).await?;
        sqlx::query(
            "INSERT INTO releases (service, version, environment, digest, document, created_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(service)
        .bind(version)
        .bind(environment)
        .bind(image.digest.to_string())
        .bind(&document)
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("record a release", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a release", e))?;
        Ok(Release {
            service: service.to_owned(),
            version: version.to_owned(),
            environment: environment.to_owned(),
            digest: image.digest.to_string(),
            document,
            created_at: at,
            actor: self.actor.clone(),
        })
    }

    /// The releases of `service` `version` (every environment, or one),
    /// newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn releases(
        &self,
        service: &str,
        version: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<Release>, StoreError> {
        let mut sql = String::from(
            "SELECT service, version, environment, digest, document, created_at, actor FROM releases WHERE service = $1",
        );
        let mut n = 1;
        if version.is_some() {
            n += 1;
            sql.push_str(&format!(" AND version = ${n}"));
        }
        if environment.is_some() {
            n += 1;
            sql.push_str(&format!(" AND environment = ${n}"));
        }
        sql.push_str(" ORDER BY id DESC");
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(service);
        if let Some(version) = version {
            query = query.bind(version);
        }
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read releases", e))?;
        Ok(rows.iter().map(release_of).collect())
    }

    /// The releases of an image, newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn releases_of(&self, digest: &Digest) -> Result<Vec<Release>, StoreError> {
        let rows = sqlx::query(
            "SELECT service, version, environment, digest, document, created_at, actor FROM releases WHERE digest = $1 ORDER BY id DESC",
        )
        .bind(digest.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read releases", e))?;
        Ok(rows.iter().map(release_of).collect())
    }
}

fn release_of(r: &sqlx::any::AnyRow) -> Release {
    Release {
        service: r.get(0),
        version: r.get(1),
        environment: r.get(2),
        digest: r.get(3),
        document: r.get(4),
        created_at: r.get(5),
        actor: r.get(6),
    }
}

/// Whether a block still holds at `now`: no end, or an end after now (a
/// bare date ends at the end of that day).
fn in_force(block: &Block, now: &str) -> bool {
    match &block.until {
        None => true,
        Some(until) if until.len() == 10 => now.get(..10).is_none_or(|day| day <= until.as_str()),
        Some(until) => match (
            customs_types::time::parse_rfc3339(now),
            customs_types::time::parse_rfc3339(until),
        ) {
            (Some(now), Some(until)) => now < until,
            // An end that does not read as a time keeps the block.
            _ => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_end_after_their_day() {
        let block = |until: Option<&str>| Block {
            digest: String::new(),
            reason: String::new(),
            until: until.map(str::to_owned),
            at: String::new(),
            actor: String::new(),
        };
        assert!(in_force(&block(None), "2030-01-01T00:00:00Z"));
        assert!(in_force(&block(Some("2027-01-01")), "2027-01-01T23:59:59Z"));
        assert!(!in_force(
            &block(Some("2027-01-01")),
            "2027-01-02T00:00:00Z"
        ));
        assert!(!in_force(
            &block(Some("2027-01-01T12:00:00Z")),
            "2027-01-01T12:00:00.5Z"
        ));
    }
}
