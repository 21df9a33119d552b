//! Opening a store: the URL, the connection pool, the schema.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, SqlStr};

use crate::{Store, StoreError};

/// SQLite or PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, WAL mode.
    Sqlite,
    /// A server.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The schema versions this build knows, in order, per backend.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "evidence",
        include_str!("../migrations/sqlite/0001_evidence.sql"),
        include_str!("../migrations/postgres/0001_evidence.sql"),
    ),
    (
        2,
        "server",
        include_str!("../migrations/sqlite/0002_server.sql"),
        include_str!("../migrations/postgres/0002_server.sql"),
    ),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// How many times a migration that lost a race with another process's is
/// tried again (100 ms apart).
const MIGRATION_ATTEMPTS: u32 = 50;

/// How long a SQLite writer waits for another process's write.
const BUSY_TIMEOUT_MS: u32 = 30_000;

/// The default store: `customs.db` in `data_dir`.
#[must_use]
pub fn default_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("customs.db").display())
}

/// The URL with its password (if any) replaced by `***`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest
        .find(['/', '?', '#'])
        .map_or((rest, ""), |i| rest.split_at(i));
    let tail = tail
        .split_once('?')
        .map_or_else(|| tail.to_owned(), |(path, _)| format!("{path}?…"));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => format!("{scheme}://{user}@{host}{tail}"),
        },
        None => format!("{scheme}://{authority}{tail}"),
    }
}

/// What a URL names.
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

fn target(url: &str) -> Result<Target, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_owned()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() || path.contains('?') {
            return Err(StoreError::UnsupportedUrl {
                url: redact_url(url),
            });
        }
        return Ok(Target::Sqlite(PathBuf::from(path)));
    }
    if url.contains("://") || url.is_empty() {
        return Err(StoreError::UnsupportedUrl {
            url: redact_url(url),
        });
    }
    Ok(Target::Sqlite(PathBuf::from(url)))
}

/// `path` as a `sqlite://` URL sqlx reads back to the same file.
fn sqlite_url(path: &Path) -> String {
    let mut out = String::from("sqlite://");
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b' ' | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | b'%' => {
                out.push_str(&format!("%{byte:02X}"));
            }
            0..0x20 | 0x7f.. => out.push_str(&format!("%{byte:02X}")),
            _ => out.push(char::from(*byte)),
        }
    }
    out.push_str("?mode=rwc");
    out
}

impl Store {
    /// Opens (creating a SQLite file and its folder when missing) the store
    /// at `url` and brings its schema up to date. A database from a newer
    /// customs is refused before anything is written.
    ///
    /// # Errors
    /// [`StoreError`] naming the store: unknown URL, unreachable server,
    /// newer schema, failed migration.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let location = redact_url(url);
        let (backend, connect_url) = match target(url)? {
            Target::Sqlite(path) => {
                // Absolute, so that the URL's path is never read as a host.
                let path = std::path::absolute(&path).unwrap_or(path);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    fs_err::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                (Backend::Sqlite, sqlite_url(&path))
            }
            Target::Postgres(url) => (Backend::Postgres, url),
        };
        let mut options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            });
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(AssertSqlSafe(format!(
                        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                    )))
                    .await?;
                    Ok(())
                })
            });
        }
        if backend == Backend::Postgres {
            // One direct attempt first: an unreachable server is an error
            // at once, not after the pool's acquire timeout of retries.
            let probe = sqlx::AnyConnection::connect(&connect_url)
                .await
                .map_err(|source| StoreError::Connect {
                    location: location.clone(),
                    source,
                })?;
            let _ = probe.close().await;
        }
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|source| StoreError::Connect {
                location: location.clone(),
                source,
            })?;
        let store = Self {
            pool,
            backend,
            location,
            actor: String::from("unknown"),
            tool: format!("customs-store {}", env!("CARGO_PKG_VERSION")),
        };
        if backend == Backend::Sqlite {
            store.wal().await?;
        }
        store.migrate().await?;
        Ok(store)
    }

    /// Puts a SQLite file in WAL mode (it stays so). A process that opens
    /// a fresh file while another creates it may be refused the lock the
    /// switch takes at once, without the busy timeout: it waits and asks
    /// again, within the busy timeout.
    async fn wal(&self) -> Result<(), StoreError> {
        let deadline =
            std::time::Instant::now() + Duration::from_millis(u64::from(BUSY_TIMEOUT_MS));
        loop {
            let mode: Result<String, sqlx::Error> = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&self.pool)
                .await;
            if mode.as_deref().is_ok_and(|m| m.eq_ignore_ascii_case("wal")) {
                return Ok(());
            }
            match sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(self.error("switch to WAL mode", e)),
            }
        }
    }

    /// The schema version the database is at (0 when empty).
    ///
    /// # Errors
    /// A failing query.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: i64 = match self.backend {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            ),
            Backend::Postgres => sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
            ),
        }
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error("read the schema version", e))?;
        if exists == 0 {
            return Ok(0);
        }
        sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error("read the schema version", e))
    }

    /// Refuses a newer schema, then applies what is missing. Several
    /// processes may open a fresh store at once: PostgreSQL serialises them
    /// with an advisory lock; on SQLite a loser of the race finds the
    /// schema in place and goes on.
    async fn migrate(&self) -> Result<(), StoreError> {
        let found = self.schema_version().await?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                location: self.location.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let migrations: Vec<Migration> = MIGRATIONS
            .iter()
            .map(|&(version, description, sqlite, postgres)| {
                let sql = match self.backend {
                    Backend::Sqlite => sqlite,
                    Backend::Postgres => postgres,
                };
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect();
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(migrations);
        // Another process may be migrating the same fresh SQLite file: its
        // migration wins, ours fails on what it created; once it is done
        // (or between its steps) the missing rest is applied, or found.
        let mut attempt = 0;
        loop {
            let Err(source) = migrator.run(&self.pool).await else {
                return Ok(());
            };
            if self.schema_version().await? == SCHEMA_VERSION {
                return Ok(());
            }
            attempt += 1;
            if attempt >= MIGRATION_ATTEMPTS {
                return Err(StoreError::Migrate {
                    location: self.location.clone(),
                    version: SCHEMA_VERSION,
                    source,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Whether SQLite refused for a lock another connection holds.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "5" || code == "6")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db.example:5432/customs?sslmode=require"),
            "postgres://alice:***@db.example:5432/customs?…"
        );
        assert_eq!(
            redact_url("postgres://alice@db/customs"),
            "postgres://alice@db/customs"
        );
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert!(!redact_url("postgres://u:p%40ss@h/d").contains("p%40ss"));
    }

    #[test]
    fn urls() {
        assert!(
            matches!(target("/tmp/x.db"), Ok(Target::Sqlite(p)) if p == Path::new("/tmp/x.db"))
        );
        assert!(
            matches!(target("sqlite:///tmp/x.db"), Ok(Target::Sqlite(p)) if p == Path::new("/tmp/x.db"))
        );
        assert!(matches!(
            target("postgresql://h/d"),
            Ok(Target::Postgres(_))
        ));
        assert!(target("mysql://h/d").is_err());
        assert!(target("").is_err());
        assert_eq!(
            sqlite_url(Path::new("/tmp/a b?#.db")),
            "sqlite:///tmp/a%20b%3F%23.db?mode=rwc"
        );
    }
}
