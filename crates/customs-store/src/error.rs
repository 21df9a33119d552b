//! What can go wrong with the store; every error names the store (its URL
//! with the password replaced) and what was being done.

/// An evidence-store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported database.
    #[error(
        "`{url}` is not a database URL customs knows: use sqlite://PATH (or a file path) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl {
        /// The URL, password replaced.
        url: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the evidence store {location}")]
    Connect {
        /// Where.
        location: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The folder of a SQLite file could not be made.
    #[error("cannot create the folder of the evidence store {path}")]
    CreateDir {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer customs.
    #[error(
        "the evidence store {location} has schema version {found}, newer than this customs knows ({known}): upgrade customs to use it (nothing was written)"
    )]
    NewerSchema {
        /// Where.
        location: String,
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A migration failed.
    #[error("cannot bring the evidence store {location} to schema version {version}")]
    Migrate {
        /// Where.
        location: String,
        /// The target version.
        version: i64,
        /// Why.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("evidence store {location}: cannot {what}")]
    Query {
        /// Where.
        location: String,
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// Stored content does not read back as what it should be.
    #[error("evidence store {location}: {what} is damaged: {detail}")]
    Damaged {
        /// Where.
        location: String,
        /// What.
        what: String,
        /// How.
        detail: String,
    },
    /// A document could not be serialised or compressed.
    #[error("cannot encode {what} for the evidence store: {detail}")]
    Encode {
        /// What.
        what: String,
        /// Why.
        detail: String,
    },
}
