//! What `customs serve` keeps besides evidence: API tokens (hashed) and
//! the work queue. Jobs are claimed with a lease: PostgreSQL hands one
//! row to one worker (`FOR UPDATE SKIP LOCKED`), SQLite serialises
//! claims with `BEGIN IMMEDIATE`; a job whose worker died (its lease ran
//! out) is claimed again, and only the lease holder may finish it.

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::open::Backend;
use crate::{Store, StoreError, after, now};

/// An API token as stored: never the token, only its SHA-256.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    /// The one environment it may change; every one when `None`.
    pub environment: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// A job of the work queue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// What to do: `scan`, `rescan`.
    pub kind: String,
    /// What it is about (an image reference), for listings and logs.
    pub subject: String,
    /// The job's parameters (JSON).
    pub payload: serde_json::Value,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// How many times a worker took it.
    pub attempts: i64,
    pub queued_at: String,
    pub queued_by: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The worker's result (JSON) once done.
    pub result: Option<serde_json::Value>,
    /// The last failure.
    pub error: Option<String>,
    /// The worker holding it while running.
    pub lease_owner: Option<String>,
}

const TOKEN_COLUMNS: &str = "id, name, scope, environment, created_at, created_by, revoked_at";
const JOB_COLUMNS: &str = "id, kind, subject, payload, state, attempts, queued_at, queued_by, started_at, finished_at, result, error, lease_owner";

fn token_of(row: &sqlx::any::AnyRow) -> Token {
    Token {
        id: row.get("id"),
        name: row.get("name"),
        scope: row.get("scope"),
        environment: row.get("environment"),
        created_at: row.get("created_at"),
        created_by: row.get("created_by"),
        revoked_at: row.get("revoked_at"),
    }
}

fn json_of(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

fn job_of(row: &sqlx::any::AnyRow) -> Job {
    Job {
        id: row.get("id"),
        kind: row.get("kind"),
        subject: row.get("subject"),
        payload: json_of(Some(row.get("payload"))).unwrap_or_default(),
        state: row.get("state"),
        attempts: row.get("attempts"),
        queued_at: row.get("queued_at"),
        queued_by: row.get("queued_by"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        result: json_of(row.get("result")),
        error: row.get("error"),
        lease_owner: row.get("lease_owner"),
    }
}

impl Store {
    /// Stores a new token by its hash (hex SHA-256).
    ///
    /// # Errors
    /// A failing query (a hash stored already, too).
    pub async fn create_token(
        &self,
        name: &str,
        hash: &str,
        scope: &str,
        environment: Option<&str>,
    ) -> Result<Token, StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO tokens (name, hash, scope, environment, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name)
        .bind(hash)
        .bind(scope)
        .bind(environment)
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("store a token", e))?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1"
        )))
        .bind(hash)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.error("read a token", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a token", e))?;
        Ok(token_of(&row))
    }

    /// The unrevoked token with this hash.
    ///
    /// # Errors
    /// A failing query.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL"
        )))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error("read a token", e))?;
        Ok(row.as_ref().map(token_of))
    }

    /// Every token, revoked ones too, oldest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read tokens", e))?;
        Ok(rows.iter().map(token_of).collect())
    }

    /// Revokes token `id`; false when there is no such unrevoked token.
    ///
    /// # Errors
    /// A failing query.
    pub async fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(|e| self.error("revoke a token", e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues a job, and says whether it is new: when the same kind and
    /// subject is queued already (a registry that notifies twice), that
    /// job is the answer.
    ///
    /// # Errors
    /// A failing query.
    pub async fn enqueue(
        &self,
        kind: &str,
        subject: &str,
        payload: &serde_json::Value,
    ) -> Result<(Job, bool), StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        let waiting: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE kind = $1 AND subject = $2 AND state = 'queued' LIMIT 1",
        )
        .bind(kind)
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.error("read the queue", e))?;
        if let Some(id) = waiting {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error("read a job", e))?;
            return Ok((job_of(&row), false));
        }
        sqlx::query(
            "INSERT INTO jobs (kind, subject, payload, state, attempts, not_before, queued_at, queued_by) VALUES ($1, $2, $3, 'queued', 0, $4, $4, $5)",
        )
        .bind(kind)
        .bind(subject)
        .bind(payload.to_string())
        .bind(&at)
        .bind(&self.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("queue a job", e))?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = (SELECT MAX(id) FROM jobs WHERE kind = $1 AND subject = $2)"
        )))
        .bind(kind)
        .bind(subject)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.error("read a job", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a job", e))?;
        Ok((job_of(&row), true))
    }

    /// Claims the oldest job that is ready — queued, or running under a
    /// lease that ran out — for `worker`, leased for `lease_seconds`. A
    /// job taken `max_attempts` times already is failed instead.
    ///
    /// # Errors
    /// A failing query.
    pub async fn claim(
        &self,
        worker: &str,
        lease_seconds: u64,
        max_attempts: i64,
    ) -> Result<Option<Job>, StoreError> {
        let at = now();
        let mut tx = self.begin().await?;
        // Jobs whose worker died too often: failed, never retried forever.
        sqlx::query(
            "UPDATE jobs SET state = 'failed', finished_at = $1, error = COALESCE(error, 'its worker stopped while working on it') || ' (gave up after ' || CAST(attempts AS TEXT) || ' attempts)', lease_owner = NULL WHERE state = 'running' AND lease_until < $1 AND attempts >= $2",
        )
        .bind(&at)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("expire jobs", e))?;
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = $2, started_at = $3 WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND not_before <= $3) OR (state = 'running' AND lease_until < $3) ORDER BY id LIMIT 1 {lock}) RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(worker)
            .bind(after(lease_seconds))
            .bind(&at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.error("claim a job", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a claim", e))?;
        Ok(row.as_ref().map(job_of))
    }

    /// Extends `worker`'s lease of job `id`; false when it holds it no
    /// more (the lease ran out and another worker took the job).
    ///
    /// # Errors
    /// A failing query.
    pub async fn renew(
        &self,
        id: i64,
        worker: &str,
        lease_seconds: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(after(lease_seconds))
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error("renew a lease", e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Finishes job `id` as `worker`: done with `result`, or on `Err` back
    /// to the queue (after `retry_after` seconds) until `max_attempts`,
    /// then failed. False when `worker` no longer holds the job.
    ///
    /// # Errors
    /// A failing query.
    pub async fn finish(
        &self,
        id: i64,
        worker: &str,
        outcome: Result<&serde_json::Value, &str>,
        max_attempts: i64,
        retry_after: u64,
    ) -> Result<bool, StoreError> {
        let at = now();
        let query = match outcome {
            Ok(result) => sqlx::query(
                "UPDATE jobs SET state = 'done', finished_at = $1, result = $2, error = NULL, lease_owner = NULL, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
            )
            .bind(at)
            .bind(result.to_string()),
            Err(error) => sqlx::query(
                "UPDATE jobs SET state = CASE WHEN attempts >= $5 THEN 'failed' ELSE 'queued' END, finished_at = CASE WHEN attempts >= $5 THEN $1 ELSE NULL END, not_before = $6, error = $2, lease_owner = NULL, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
            )
            .bind(at)
            .bind(error.to_owned()),
        };
        let query = query.bind(id).bind(worker);
        let query = match outcome {
            Ok(_) => query,
            Err(_) => query.bind(max_attempts).bind(after(retry_after)),
        };
        let done = query
            .execute(&self.pool)
            .await
            .map_err(|e| self.error("finish a job", e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Job `id`.
    ///
    /// # Errors
    /// A failing query.
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error("read a job", e))?;
        Ok(row.as_ref().map(job_of))
    }

    /// The newest `limit` jobs (in `state` when given), newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn jobs(&self, state: Option<&str>, limit: i64) -> Result<Vec<Job>, StoreError> {
        let condition = if state.is_some() {
            "WHERE state = $2"
        } else {
            ""
        };
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM jobs {condition} ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit);
        if let Some(state) = state {
            query = query.bind(state);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read jobs", e))?;
        Ok(rows.iter().map(job_of).collect())
    }

    /// How many jobs are in each state.
    ///
    /// # Errors
    /// A failing query.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.error("count jobs", e))?;
        Ok(rows.iter().map(|r| (r.get("state"), r.get("n"))).collect())
    }
}

/// A current deployment with its digest's newest gate verdict in that
/// environment and its block: one row of the fleet view.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FleetRow {
    pub deployment: crate::Deployment,
    /// `pass`, `warn` or `deny`; `None` when never gated there.
    pub verdict: Option<String>,
    /// When that decision was made.
    pub decided_at: Option<String>,
    /// The block's reason, when the digest is blocked now.
    pub blocked: Option<String>,
}

/// One scan of a digest a service ran: when, which, findings by severity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScanPoint {
    pub at: String,
    pub digest: String,
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl Store {
    /// What runs now (in `environment` when given), at most `limit` rows,
    /// each with its newest verdict there and its block.
    ///
    /// # Errors
    /// A failing query.
    pub async fn fleet(
        &self,
        environment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<FleetRow>, StoreError> {
        let env_filter = if environment.is_some() {
            "AND d.environment = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {columns}, (SELECT r.summary || char(31) || r.created_at FROM records r WHERE r.subject = d.digest AND r.kind = 'gate' AND r.environment = d.environment ORDER BY r.id DESC LIMIT 1) FROM deployments d WHERE {current} {env_filter} ORDER BY d.environment, d.service, d.cluster, d.namespace LIMIT $1",
            columns = crate::ledger::DEPLOYMENT_COLUMNS,
            current = crate::ledger::CURRENT,
        );
        let sql = match self.backend {
            Backend::Sqlite => sql,
            Backend::Postgres => sql.replace("char(31)", "chr(31)"),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(limit);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read the fleet", e))?;
        let blocks: std::collections::HashMap<String, String> = self
            .blocks(&now())
            .await?
            .into_iter()
            .map(|b| (b.digest, b.reason))
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let deployment = crate::ledger::deployment_of(row);
            let gate: Option<String> = row.get(11);
            let (verdict, decided_at) = match gate.as_deref().and_then(|g| g.rsplit_once('\u{1f}'))
            {
                Some((summary, at)) => (
                    serde_json::from_str::<serde_json::Value>(summary)
                        .ok()
                        .and_then(|s| s["verdict"].as_str().map(str::to_owned)),
                    Some(at.to_owned()),
                ),
                None => (None, None),
            };
            let blocked = blocks.get(&deployment.digest).cloned();
            out.push(FleetRow {
                deployment,
                verdict,
                decided_at,
                blocked,
            });
        }
        Ok(out)
    }

    /// The scans of every digest `service` ran (in `environment` when
    /// given), oldest first: findings over time.
    ///
    /// # Errors
    /// A failing query.
    pub async fn service_scans(
        &self,
        service: &str,
        environment: Option<&str>,
    ) -> Result<Vec<ScanPoint>, StoreError> {
        let env_filter = if environment.is_some() {
            "AND environment = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT r.created_at, r.subject, r.summary FROM records r WHERE r.kind = 'scan' AND r.subject IN (SELECT DISTINCT digest FROM deployments WHERE service = $1 {env_filter}) ORDER BY r.id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(service);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("read a service's scans", e))?;
        Ok(rows
            .iter()
            .map(|row| {
                let summary: String = row.get(2);
                let counts = serde_json::from_str::<serde_json::Value>(&summary)
                    .ok()
                    .and_then(|s| serde_json::from_value(s["counts"].clone()).ok())
                    .unwrap_or_default();
                ScanPoint {
                    at: row.get(0),
                    digest: row.get(1),
                    counts,
                }
            })
            .collect())
    }
}

impl Store {
    /// Every digest each tag of `repository` (`registry/name`) was seen
    /// pointing at, oldest first: a release tag with two was moved.
    ///
    /// # Errors
    /// A failing query.
    pub async fn tag_history(
        &self,
        repository: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT tag, digest, first_seen FROM tags WHERE repository = $1 ORDER BY tag, first_seen",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read the tag history", e))?;
        let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for row in &rows {
            let tag: String = row.get(0);
            let seen = (row.get(1), row.get(2));
            match out.last_mut() {
                Some((last, digests)) if *last == tag => digests.push(seen),
                _ => out.push((tag, vec![seen])),
            }
        }
        Ok(out)
    }

    /// The repositories (`registry/name`) the store has seen tags of on
    /// `registry`.
    ///
    /// # Errors
    /// A failing query.
    pub async fn repositories_of(&self, registry: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT repository FROM tags WHERE repository LIKE $1 ORDER BY repository",
        )
        .bind(format!(
            "{}/%",
            registry.replace('%', "\\%").replace('_', "\\_")
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read repositories", e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
