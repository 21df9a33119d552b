//! The evidence store: everything customs learnt about a digest — the tags
//! it had, its SBOM (stored once), every scan, decision, signature check,
//! promotion, release and deployment — in one database keyed by digest.
//!
//! SQLite by default (one file, WAL mode), PostgreSQL when a team outgrows
//! one machine: the same schema (`migrations/<backend>/`), the same queries
//! (written once against sqlx's `Any` driver, `$N` placeholders both
//! understand), the same tests. Nothing is ever updated or deleted: a
//! re-scan adds a record, an unblock is an event after the block, the
//! deployment of a service is its newest event. Each write is one
//! transaction, so a process killed mid-way leaves no half record.

mod error;
mod evidence;
mod inventory;
mod ledger;
mod open;
mod server;

pub use error::StoreError;
pub use evidence::{Document, NewRecord, Record, Seen, StoredSbom, is_digest_prefix};
pub use inventory::{
    Affected, AffectedImage, Comparator, Dossier, HistoryEntry, Holder, PackageFilter,
    VersionFilter,
};
pub use ledger::{Block, Deployment, NewDeployment, Promotion, Release};
pub use open::{Backend, SCHEMA_VERSION, default_url, redact_url};
pub use server::{FleetRow, Job, ScanPoint, Token};

use sqlx::AnyPool;

/// An open evidence store.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    location: String,
    actor: String,
    tool: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Who the records are by (a user or CI identity) from now on.
    #[must_use]
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// The tool and version the records name.
    #[must_use]
    pub fn with_tool(mut self, tool: impl Into<String>) -> Self {
        self.tool = tool.into();
        self
    }

    /// Where the store is, with any password replaced.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }

    /// SQLite or PostgreSQL.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Who records are by.
    #[must_use]
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite, so that
    /// concurrent writers wait for each other (busy timeout) instead of
    /// failing when a read lock cannot be upgraded.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let statement = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.pool
            .begin_with(statement)
            .await
            .map_err(|e| self.error("start a transaction", e))
    }

    fn error(&self, what: &str, source: sqlx::Error) -> StoreError {
        StoreError::Query {
            location: self.location.clone(),
            what: what.to_owned(),
            source,
        }
    }
}

/// Now, as the store writes times: RFC 3339 UTC with microseconds, so
/// that text order is time order. The clock's, never `SOURCE_DATE_EPOCH`
/// (which dates reproducible documents, not whether a block still holds).
#[must_use]
pub fn now() -> String {
    after(0)
}

/// `seconds` from now, in the store's time format.
pub(crate) fn after(seconds: u64) -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + std::time::Duration::from_secs(seconds);
    let whole = customs_types::time::rfc3339(since.as_secs());
    format!(
        "{}.{:06}Z",
        whole.trim_end_matches('Z'),
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests;
