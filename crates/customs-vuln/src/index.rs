//! The local vulnerability index: OSV records compiled into one SQLite file
//! of small *handles* (ecosystem, name, advisory, the affected ranges) and
//! per-advisory *blobs* (summary, aliases, severity, links), as grype's v6
//! database does. Opening it reads no data, so it loads in milliseconds; a
//! lookup is one range scan of the clustered `(ecosystem, name)` key.
//!
//! Imports never touch the live file: they work on a copy beside it and
//! swap it in with one atomic rename, so a failed or interrupted import
//! leaves the previous index whole.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use customs_version::Scheme;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::ecosystem::{normalize_ecosystem, normalize_name};
use crate::matching::ParsedRange;
use crate::osv::{self, Event, Range, Record, SeverityEntry};
use customs_types::time::parse_rfc3339;

/// The file name of the index inside the database directory.
pub const INDEX_FILE: &str = "osv.sqlite";

/// Bumped whenever the tables change; an index of another version is rebuilt.
const SCHEMA_VERSION: i64 = 2;

/// The most entries one zip archive may have.
const MAX_ARCHIVE_ENTRIES: usize = 2_000_000;

/// How many warnings an import keeps in full (all are counted).
const KEPT_WARNINGS: usize = 200;

/// Why the index could not be used or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// There is no index yet.
    #[error("no vulnerability database at {path}")]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file is not an index of this version.
    #[error("{path} is not a customs vulnerability database of schema version {SCHEMA_VERSION}")]
    Incompatible {
        /// The file.
        path: PathBuf,
    },
    /// SQLite failed.
    #[error("vulnerability database {path}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A file could not be read or written.
    #[error("cannot read or write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A zip archive is damaged.
    #[error("{path}: not a readable zip archive")]
    Archive {
        /// The archive.
        path: PathBuf,
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
    /// An archive has more entries than any OSV export.
    #[error("{path}: more than {MAX_ARCHIVE_ENTRIES} entries")]
    TooManyEntries {
        /// The archive.
        path: PathBuf,
    },
    /// An entry of the index cannot be decoded (the file was damaged).
    #[error("{path}: damaged entry `{what}`; rebuild the database with `customs db import`")]
    Damaged {
        /// The index file.
        path: PathBuf,
        /// The advisory or handle.
        what: String,
    },
    /// A source holds no valid OSV record: importing nothing would leave a
    /// database that scans everything "clean".
    #[error(
        "{source_name}: no valid OSV advisory in it ({records} read, {skipped} malformed); nothing was imported"
    )]
    NothingImported {
        /// The source.
        source_name: String,
        /// Records read.
        records: u64,
        /// Of which malformed.
        skipped: u64,
    },
    /// A path to import is neither a JSON file, a zip archive nor a directory.
    #[error("{path}: not an OSV JSON file, zip archive or directory")]
    UnknownInput {
        /// The path.
        path: PathBuf,
    },
}

/// The part of an affected entry matching needs, stored per handle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAffected {
    /// `ECOSYSTEM` and `SEMVER` ranges (GIT ranges cannot match versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly listed versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Severity vectors of this package only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// A distribution's own urgency (Debian: `unimportant`, `low`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
}

/// The advisory blob: what reports show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAdvisory {
    /// The record ID.
    #[serde(default)]
    pub id: String,
    /// Other IDs of the same vulnerability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Related IDs (a DSA lists its CVEs here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// One-line summary (or the start of the details).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity vectors of the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// The database's own rating (GHSA `MODERATE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// Links, advisories first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// When it was published (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When it last changed (RFC 3339).
    #[serde(default)]
    pub modified: String,
}

/// One handle found for a package.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The advisory ID.
    pub advisory: String,
    /// The affected entry.
    pub affected: StoredAffected,
    /// Its ranges, parsed in the ecosystem's scheme (checked at import).
    pub ranges: Vec<ParsedRange>,
}

/// What an import did, per source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// The file, directory or URL.
    pub source: String,
    /// Records read.
    pub records: u64,
    /// New records.
    pub added: u64,
    /// Records replaced by a newer version.
    pub updated: u64,
    /// Records already present with the same or a later `modified` time.
    pub unchanged: u64,
    /// Withdrawn records (removed when present).
    pub withdrawn: u64,
    /// Records or affected entries skipped as malformed.
    pub skipped: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// Per source.
    pub sources: Vec<SourceSummary>,
    /// The first warnings, each naming its record.
    pub warnings: Vec<String>,
    /// How many warnings there were in all.
    pub warning_count: u64,
}

impl ImportSummary {
    fn warn(&mut self, message: String) {
        self.warning_count += 1;
        if self.warnings.len() < KEPT_WARNINGS {
            self.warnings.push(message);
        }
    }
}

/// What `db status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The index file.
    pub path: PathBuf,
    /// Schema version.
    pub schema_version: i64,
    /// When the index was last built (seconds since the epoch).
    pub built_at: u64,
    /// The `modified` time of the newest record (seconds since the epoch):
    /// how current the data is, whenever it was imported.
    pub newest_advisory: Option<u64>,
    /// Advisories in all.
    pub advisories: u64,
    /// Advisories per ecosystem (`Debian:12`, `PyPI`).
    pub ecosystems: BTreeMap<String, u64>,
    /// Every source imported, newest import last.
    pub sources: Vec<SourceStatus>,
}

/// One imported source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The file, directory or URL.
    pub source: String,
    /// When it was last imported (seconds since the epoch).
    pub imported_at: u64,
    /// Records it held then.
    pub records: u64,
}

/// A read-only handle on the index.
pub struct VulnIndex {
    conn: Connection,
    path: PathBuf,
    /// The file's digest, read at most once per open index.
    digest: std::sync::OnceLock<customs_types::Digest>,
}

impl std::fmt::Debug for VulnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnIndex")
            .field("path", &self.path)
            .finish()
    }
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> IndexError + '_ {
    move |source| IndexError::Sqlite {
        path: path.to_owned(),
        source,
    }
}

impl VulnIndex {
    /// Opens the index in `dir` read-only.
    ///
    /// # Errors
    /// [`IndexError::Missing`] when there is none, [`IndexError::Incompatible`]
    /// when it is of another schema version.
    pub fn open(dir: &Path) -> Result<Self, IndexError> {
        let path = dir.join(INDEX_FILE);
        if !path.is_file() {
            return Err(IndexError::Missing { path });
        }
        let (index, version) = Self::open_any(&path)?;
        if version != SCHEMA_VERSION {
            return Err(IndexError::Incompatible { path });
        }
        Ok(index)
    }

    /// Opens the file whatever its schema version, and says which it is
    /// (the import updates a readable index of version 1 or this one).
    fn open_any(path: &Path) -> Result<(Self, i64), IndexError> {
        let path = path.to_owned();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite(&path))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&path))?;
        // Map the file instead of reading pages through syscalls (lookups
        // touch pages all over the index), and keep the shared lock once
        // taken instead of re-taking it per query: imports never write the
        // live file (they rename a new one over it), so no writer waits.
        conn.execute_batch(
            "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768; PRAGMA locking_mode = EXCLUSIVE;",
        )
        .map_err(sqlite(&path))?;
        Ok((
            Self {
                conn,
                path,
                digest: std::sync::OnceLock::new(),
            },
            version,
        ))
    }

    /// The index file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every handle for a package name in an ecosystem (both normalised).
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Candidate>, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT advisory, affected FROM handles WHERE ecosystem = ?1 AND name = ?2",
            )
            .map_err(sqlite(&self.path))?;
        let rows = stmt
            .query_map(params![ecosystem, name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(sqlite(&self.path))?;
        let mut out = Vec::new();
        for row in rows {
            let (advisory, blob) = row.map_err(sqlite(&self.path))?;
            out.push(self.candidate(ecosystem, name, advisory, &blob)?);
        }
        Ok(out)
    }

    /// Every handle of the advisory `id` and of the records that alias it
    /// (a CVE's Debian, GHSA and language records), with the ecosystem and
    /// package name each one is for: what `customs affected` re-matches a
    /// fleet's packages against.
    ///
    /// # Errors
    /// [`IndexError`] when the file is damaged.
    pub fn handles_of(&self, id: &str) -> Result<Vec<(String, String, Candidate)>, IndexError> {
        let mut ids: Vec<String> = vec![id.to_owned()];
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT advisory FROM aliases WHERE alias = ?1")
                .map_err(sqlite(&self.path))?;
            let aliased: Vec<String> = stmt
                .query_map([id], |r| r.get(0))
                .map_err(sqlite(&self.path))?
                .collect::<Result<_, _>>()
                .map_err(sqlite(&self.path))?;
            ids.extend(aliased);
        }
        ids.sort();
        ids.dedup();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ecosystem, name, affected FROM handles WHERE advisory = ?1")
            .map_err(sqlite(&self.path))?;
        let mut out = Vec::new();
        for advisory in ids {
            let rows: Vec<(String, String, Vec<u8>)> = stmt
                .query_map([&advisory], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(sqlite(&self.path))?
                .collect::<Result<_, _>>()
                .map_err(sqlite(&self.path))?;
            for (ecosystem, name, blob) in rows {
                let candidate = self.candidate(&ecosystem, &name, advisory.clone(), &blob)?;
                out.push((ecosystem, name, candidate));
            }
        }
        Ok(out)
    }

    /// A handle's affected entry, its ranges parsed in the ecosystem's scheme.
    fn candidate(
        &self,
        ecosystem: &str,
        name: &str,
        advisory: String,
        blob: &[u8],
    ) -> Result<Candidate, IndexError> {
        let damaged = || IndexError::Damaged {
            path: self.path.clone(),
            what: format!("{ecosystem}/{name} in {advisory}"),
        };
        let affected: StoredAffected = serde_json::from_slice(blob).map_err(|_| damaged())?;
        let ranges = match Scheme::for_ecosystem(ecosystem) {
            Some(scheme) => affected
                .ranges
                .iter()
                .map(|r| ParsedRange::parse(r, scheme))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| damaged())?,
            None => Vec::new(),
        };
        Ok(Candidate {
            advisory,
            affected,
            ranges,
        })
    }

    /// The SHA-256 of the index file: what a scan record names to say
    /// which data its findings came from. Read once per open index.
    ///
    /// # Errors
    /// [`IndexError::Io`] when the file cannot be read.
    pub fn file_digest(&self) -> Result<customs_types::Digest, IndexError> {
        use std::io::Read as _;
        if let Some(digest) = self.digest.get() {
            return Ok(digest.clone());
        }
        let io = |source| IndexError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = fs_err::File::open(&self.path).map_err(io)?;
        let mut hasher = customs_types::Hasher::new(customs_types::Algorithm::Sha256);
        let mut buf = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                return Ok(self.digest.get_or_init(|| hasher.finish()).clone());
            }
            hasher.update(&buf[..n]);
        }
    }

    /// Whether the index holds any advisory for `ecosystem` (`Debian:12`,
    /// `npm`): packages of an ecosystem without any cannot be called clean.
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn has_ecosystem(&self, ecosystem: &str) -> Result<bool, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM handles WHERE ecosystem = ?1 LIMIT 1")
            .map_err(sqlite(&self.path))?;
        stmt.exists(params![ecosystem]).map_err(sqlite(&self.path))
    }

    /// The blob of one advisory.
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn advisory(&self, id: &str) -> Result<Option<StoredAdvisory>, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT blob FROM advisories WHERE id = ?1")
            .map_err(sqlite(&self.path))?;
        let blob: Option<Vec<u8>> = stmt
            .query_row([id], |r| r.get(0))
            .optional()
            .map_err(sqlite(&self.path))?;
        blob.map(|b: Vec<u8>| {
            serde_json::from_slice(&b).map_err(|_| IndexError::Damaged {
                path: self.path.clone(),
                what: id.to_owned(),
            })
        })
        .transpose()
    }

    /// Every record that names `id` among its aliases (the GHSA, Bitnami
    /// and language-ecosystem records of a CVE), with the affected entries
    /// it has for packages customs matches.
    ///
    /// # Errors
    /// [`IndexError`] when the file is damaged.
    pub fn aliasing(
        &self,
        id: &str,
    ) -> Result<Vec<(StoredAdvisory, Vec<StoredAffected>)>, IndexError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT advisory FROM aliases WHERE alias = ?1")
                .map_err(sqlite(&self.path))?;
            stmt.query_map([id], |r| r.get(0))
                .map_err(sqlite(&self.path))?
                .collect::<Result<_, _>>()
                .map_err(sqlite(&self.path))?
        };
        let mut out = Vec::new();
        for advisory_id in ids {
            let Some(advisory) = self.advisory(&advisory_id)? else {
                continue;
            };
            let mut stmt = self
                .conn
                .prepare_cached("SELECT affected FROM handles WHERE advisory = ?1")
                .map_err(sqlite(&self.path))?;
            let blobs: Vec<Vec<u8>> = stmt
                .query_map([&advisory_id], |r| r.get(0))
                .map_err(sqlite(&self.path))?
                .collect::<Result<_, _>>()
                .map_err(sqlite(&self.path))?;
            let affected = blobs
                .iter()
                .map(|b| {
                    serde_json::from_slice(b).map_err(|_| IndexError::Damaged {
                        path: self.path.clone(),
                        what: advisory_id.clone(),
                    })
                })
                .collect::<Result<_, _>>()?;
            out.push((advisory, affected));
        }
        Ok(out)
    }

    /// When the index was built (seconds since the epoch).
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn built_at(&self) -> Result<u64, IndexError> {
        Ok(read_meta(&self.conn, "built_at")
            .map_err(sqlite(&self.path))?
            .map_or(0, |v| u64::try_from(v).unwrap_or(0)))
    }

    /// The `modified` time of the newest record imported (seconds since the
    /// epoch).
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn newest_advisory(&self) -> Result<Option<u64>, IndexError> {
        Ok(read_meta(&self.conn, "newest_modified")
            .map_err(sqlite(&self.path))?
            .and_then(|v| u64::try_from(v).ok()))
    }

    /// Counts, sources and build time.
    ///
    /// # Errors
    /// [`IndexError::Sqlite`] when the file is damaged.
    pub fn status(&self) -> Result<Status, IndexError> {
        let err = sqlite(&self.path);
        let advisories: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM advisories", [], |r| r.get(0))
            .map_err(&err)?;
        let mut ecosystems = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT ecosystem, COUNT(DISTINCT advisory) FROM handles GROUP BY ecosystem")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(&err)?;
        for row in rows {
            let (e, n) = row.map_err(&err)?;
            ecosystems.insert(e, u64::try_from(n).unwrap_or(0));
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, imported_at, records FROM sources ORDER BY imported_at, source",
            )
            .map_err(&err)?;
        let sources = stmt
            .query_map([], |r| {
                Ok(SourceStatus {
                    source: r.get(0)?,
                    imported_at: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    records: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .map_err(&err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&err)?;
        Ok(Status {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            built_at: self.built_at()?,
            newest_advisory: self.newest_advisory()?,
            advisories: u64::try_from(advisories).unwrap_or(0),
            ecosystems,
            sources,
        })
    }
}

/// One input to an import: a path, and the name to record it under (the
/// URL it was downloaded from, for `db update`).
#[derive(Debug, Clone)]
pub struct ImportSource {
    /// The file or directory to read.
    pub path: PathBuf,
    /// The name recorded in `db status`.
    pub name: String,
}

impl ImportSource {
    /// A local path, recorded under its canonical name, so that
    /// `./osv`, `osv/` and `/abs/osv` are one source in `db status`.
    #[must_use]
    pub fn path(path: &Path) -> Self {
        let name = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        Self {
            path: path.to_owned(),
            name: name.display().to_string(),
        }
    }
}

/// Imports `sources` into the index in `dir`: built aside, swapped in
/// atomically. Records are skipped when the index already holds them with
/// the same or a later `modified` time; withdrawn records are removed.
///
/// # Errors
/// [`IndexError`] when a source cannot be read as a whole or the index
/// cannot be written; the previous index is then left as it was. Malformed
/// records are not errors: they are counted warnings in the summary.
pub fn import(dir: &Path, sources: &[ImportSource], now: u64) -> Result<ImportSummary, IndexError> {
    fs_err::create_dir_all(dir).map_err(|source| IndexError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let live = dir.join(INDEX_FILE);
    let temp = tempfile::Builder::new()
        .prefix(".osv-import-")
        .suffix(".sqlite")
        .tempfile_in(dir)
        .map_err(|source| IndexError::Io {
            path: dir.to_owned(),
            source,
        })?;
    let temp_path = temp.path().to_owned();
    // An index of this schema, or of version 1 (no alias table: added and
    // filled from the stored records), is updated in a copy; any other is
    // rebuilt from the sources given.
    let previous = live
        .is_file()
        .then(|| VulnIndex::open_any(&live).ok().map(|(_, version)| version))
        .flatten();
    if matches!(previous, Some(1 | SCHEMA_VERSION)) {
        fs_err::copy(&live, &temp_path).map_err(|source| IndexError::Io {
            path: live.clone(),
            source,
        })?;
    }
    let mut summary = ImportSummary::default();
    {
        let mut conn = Connection::open(&temp_path).map_err(sqlite(&temp_path))?;
        let copied_version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&temp_path))?;
        create_schema(&conn).map_err(sqlite(&temp_path))?;
        let tx = conn.transaction().map_err(sqlite(&temp_path))?;
        if copied_version == 1 {
            backfill_aliases(&tx).map_err(sqlite(&temp_path))?;
        }
        let mut newest: i64 = read_meta(&tx, "newest_modified")
            .map_err(sqlite(&temp_path))?
            .map_or(i64::MIN, |seconds| seconds.saturating_mul(1_000_000_000));
        for source in sources {
            let mut source_summary = SourceSummary {
                source: source.name.clone(),
                ..SourceSummary::default()
            };
            for_each_record(&source.path, &mut |name, bytes| {
                source_summary.records += 1;
                import_record(
                    &tx,
                    name,
                    bytes,
                    &mut source_summary,
                    &mut summary,
                    &mut newest,
                )
                .map_err(sqlite(&temp_path))
            })?;
            let s = &source_summary;
            if s.added + s.updated + s.unchanged + s.withdrawn == 0 {
                return Err(IndexError::NothingImported {
                    source_name: s.source.clone(),
                    records: s.records,
                    skipped: s.skipped,
                });
            }
            tx.execute(
                "INSERT INTO sources (source, imported_at, records) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET imported_at = excluded.imported_at, records = excluded.records",
                params![source.name, i64::try_from(now).unwrap_or(i64::MAX), i64::try_from(source_summary.records).unwrap_or(i64::MAX)],
            )
            .map_err(sqlite(&temp_path))?;
            summary.sources.push(source_summary);
        }
        let mut meta = vec![("built_at", now.to_string())];
        if newest > 0 {
            meta.push(("newest_modified", (newest / 1_000_000_000).to_string()));
        }
        for (key, value) in meta {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value.as_str()],
            )
            .map_err(sqlite(&temp_path))?;
        }
        tx.commit().map_err(sqlite(&temp_path))?;
        conn.execute_batch("PRAGMA optimize; VACUUM;")
            .map_err(sqlite(&temp_path))?;
        conn.close().map_err(|(_, e)| sqlite(&temp_path)(e))?;
    }
    temp.as_file().sync_all().map_err(|source| IndexError::Io {
        path: temp_path.clone(),
        source,
    })?;
    temp.persist(&live).map_err(|e| IndexError::Io {
        path: live.clone(),
        source: e.error,
    })?;
    Ok(summary)
}

/// A number kept in the `meta` table.
fn read_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(value.and_then(|v| v.parse().ok()))
}

/// Creates the tables in a new file, or in a copy of a compatible index
/// (`import` never copies one of another schema version: it starts afresh).
fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS sources (
             source TEXT PRIMARY KEY, imported_at INTEGER NOT NULL, records INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS advisories (
             id TEXT PRIMARY KEY,
             modified INTEGER NOT NULL,
             blob BLOB NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS handles (
             ecosystem TEXT NOT NULL,
             name TEXT NOT NULL,
             advisory TEXT NOT NULL,
             entry INTEGER NOT NULL,
             affected BLOB NOT NULL,
             PRIMARY KEY (ecosystem, name, advisory, entry)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS handles_by_advisory ON handles (advisory);
         CREATE TABLE IF NOT EXISTS aliases (
             alias TEXT NOT NULL,
             advisory TEXT NOT NULL,
             PRIMARY KEY (alias, advisory)
         ) WITHOUT ROWID;
         PRAGMA user_version = {SCHEMA_VERSION};"
    ))
}

/// Fills the alias table of a version 1 index from its stored records.
fn backfill_aliases(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut rows = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, blob FROM advisories")?;
        let mut query = stmt.query([])?;
        while let Some(row) = query.next()? {
            let id: String = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            if let Ok(advisory) = serde_json::from_slice::<StoredAdvisory>(&blob) {
                for alias in advisory.aliases {
                    rows.push((alias, id.clone()));
                }
            }
        }
    }
    let mut insert =
        tx.prepare("INSERT OR IGNORE INTO aliases (alias, advisory) VALUES (?1, ?2)")?;
    for (alias, id) in rows {
        insert.execute(params![alias, id])?;
    }
    Ok(())
}

/// Only what deciding "is this newer" needs; the full parse comes after.
#[derive(Deserialize)]
struct Head {
    id: String,
    modified: String,
}

fn import_record(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    bytes: &[u8],
    counts: &mut SourceSummary,
    summary: &mut ImportSummary,
    newest: &mut i64,
) -> rusqlite::Result<()> {
    let Ok(head) = serde_json::from_slice::<Head>(bytes) else {
        // The full parse names the problem precisely.
        counts.skipped += 1;
        summary.warn(osv::parse(name, bytes).err().map_or_else(
            || format!("{name}: not a valid OSV record"),
            |e| error_chain(&e),
        ));
        return Ok(());
    };
    let Some(modified) = parse_rfc3339(&head.modified) else {
        counts.skipped += 1;
        summary.warn(format!(
            "{name}: record `{}`: `modified` is not an RFC 3339 time",
            head.id.chars().take(100).collect::<String>()
        ));
        return Ok(());
    };
    *newest = (*newest).max(modified);
    let existing: Option<i64> = tx
        .prepare_cached("SELECT modified FROM advisories WHERE id = ?1")?
        .query_row([&head.id], |r| r.get(0))
        .optional()?;
    if existing.is_some_and(|e| e >= modified) {
        counts.unchanged += 1;
        return Ok(());
    }
    let record = match osv::parse(name, bytes) {
        Ok(r) => r,
        Err(e) => {
            counts.skipped += 1;
            summary.warn(error_chain(&e));
            return Ok(());
        }
    };
    if existing.is_some() {
        tx.prepare_cached("DELETE FROM handles WHERE advisory = ?1")?
            .execute([&record.id])?;
        tx.prepare_cached("DELETE FROM aliases WHERE advisory = ?1")?
            .execute([&record.id])?;
        tx.prepare_cached("DELETE FROM advisories WHERE id = ?1")?
            .execute([&record.id])?;
    }
    if record.withdrawn.is_some() {
        counts.withdrawn += 1;
        return Ok(());
    }
    for (entry, affected) in record.affected.iter().enumerate() {
        let Some(package) = &affected.package else {
            continue;
        };
        let Some(scheme) = Scheme::for_ecosystem(&package.ecosystem) else {
            // An ecosystem customs does not match (Linux, OSS-Fuzz, GIT-only).
            continue;
        };
        let stored = match compile_affected(affected, scheme) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(problem) => {
                counts.skipped += 1;
                summary.warn(format!(
                    "{name}: record `{}`, package {}/{}: {problem}; entry skipped",
                    record.id, package.ecosystem, package.name
                ));
                continue;
            }
        };
        let ecosystem = normalize_ecosystem(&package.ecosystem);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO handles (ecosystem, name, advisory, entry, affected) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            ecosystem,
            normalize_name(&ecosystem, &package.name),
            record.id,
            i64::try_from(entry).unwrap_or(i64::MAX),
            serde_json::to_vec(&stored).unwrap_or_default()
        ])?;
    }
    for alias in &record.aliases {
        tx.prepare_cached("INSERT OR IGNORE INTO aliases (alias, advisory) VALUES (?1, ?2)")?
            .execute(params![alias, record.id])?;
    }
    tx.prepare_cached("INSERT INTO advisories (id, modified, blob) VALUES (?1, ?2, ?3)")?
        .execute(params![
            record.id,
            modified,
            serde_json::to_vec(&advisory_blob(&record)).unwrap_or_default()
        ])?;
    if existing.is_some() {
        counts.updated += 1;
    } else {
        counts.added += 1;
    }
    Ok(())
}

/// `error: cause: cause`, for warnings that carry their reason.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Checks every version of an affected entry against its scheme and keeps
/// what matching needs. `Ok(None)`: nothing to match (GIT ranges only).
fn compile_affected(
    affected: &osv::Affected,
    scheme: Scheme,
) -> Result<Option<StoredAffected>, String> {
    let ranges: Vec<Range> = affected
        .ranges
        .iter()
        .filter(|r| r.kind != "GIT")
        .cloned()
        .collect();
    let mut parsed = Vec::with_capacity(ranges.len());
    for range in &ranges {
        let p = ParsedRange::parse(range, scheme).map_err(|bad| {
            format!(
                "{} version `{}` is not a valid {:?} version",
                bad.what,
                bad.version.chars().take(60).collect::<String>(),
                bad.scheme
            )
        })?;
        if !p.has_introduced() {
            return Err("a range without an `introduced` event".to_owned());
        }
        parsed.push(p);
    }
    if ranges.is_empty() && affected.versions.is_empty() {
        return Ok(None);
    }
    let urgency = affected
        .ecosystem_specific
        .as_ref()
        .and_then(|e| e.get("urgency"))
        .and_then(|u| u.as_str())
        .map(ToOwned::to_owned);
    // GHSA and osv.dev enumerate every version the ranges already cover;
    // keep only the ones the ranges miss (the index stays small, the
    // answer is the same).
    let versions = affected
        .versions
        .iter()
        .filter(|v| crate::matching::evaluate_parsed(&parsed, &[], v, scheme).is_empty())
        .cloned()
        .collect();
    Ok(Some(StoredAffected {
        ranges,
        versions,
        severity: affected.severity.clone(),
        urgency,
    }))
}

/// The kind and version of an event.
pub(crate) fn event_version(event: &Event) -> (&'static str, &str) {
    if let Some(v) = &event.introduced {
        ("introduced", v)
    } else if let Some(v) = &event.fixed {
        ("fixed", v)
    } else if let Some(v) = &event.last_affected {
        ("last_affected", v)
    } else {
        ("limit", event.limit.as_deref().unwrap_or("*"))
    }
}

fn advisory_blob(record: &Record) -> StoredAdvisory {
    let summary = record
        .summary
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            record.details.as_ref().map(|d| {
                let first = d.trim().lines().next().unwrap_or("");
                if first.chars().count() > 200 {
                    format!("{}…", first.chars().take(200).collect::<String>())
                } else {
                    first.to_owned()
                }
            })
        });
    let rating = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .map(ToOwned::to_owned);
    let mut references: Vec<&osv::Reference> = record.references.iter().collect();
    references.sort_by_key(|r| r.kind != "ADVISORY");
    StoredAdvisory {
        id: record.id.clone(),
        aliases: record.aliases.clone(),
        related: record.related.clone(),
        summary,
        severity: record.severity.clone(),
        rating,
        references: references.iter().take(8).map(|r| r.url.clone()).collect(),
        published: record.published.clone(),
        modified: record.modified.clone(),
    }
}

/// Receives each record's name and bytes.
type RecordSink<'a> = dyn FnMut(&str, &[u8]) -> Result<(), IndexError> + 'a;

/// Calls `f` with every record of `path`: a JSON file, a zip archive of
/// them (osv.dev's `all.zip`) or a directory tree of either.
fn for_each_record(path: &Path, f: &mut RecordSink<'_>) -> Result<(), IndexError> {
    let io = |source| IndexError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = fs_err::metadata(path).map_err(io)?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = fs_err::read_dir(path)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            let Ok(m) = fs_err::symlink_metadata(&entry) else {
                continue;
            };
            if m.is_dir() || is_input(&entry) {
                for_each_record(&entry, f)?;
            }
        }
        return Ok(());
    }
    let name = path.display().to_string();
    match extension(path).as_deref() {
        Some("json") => {
            let bytes = read_bounded(fs_err::File::open(path).map_err(io)?, path)?;
            f(&name, &bytes)
        }
        Some("zip") => {
            let file = fs_err::File::open(path).map_err(io)?;
            let mut archive = zip::ZipArchive::new(file.into_parts().0).map_err(|source| {
                IndexError::Archive {
                    path: path.to_owned(),
                    source,
                }
            })?;
            if archive.len() > MAX_ARCHIVE_ENTRIES {
                return Err(IndexError::TooManyEntries {
                    path: path.to_owned(),
                });
            }
            for i in 0..archive.len() {
                let mut entry = archive.by_index(i).map_err(|source| IndexError::Archive {
                    path: path.to_owned(),
                    source,
                })?;
                let inner = String::from_utf8_lossy(entry.name_raw()).into_owned();
                if !entry.is_file() || !inner.ends_with(".json") {
                    continue;
                }
                let entry_name = format!("{name}!{inner}");
                let mut bytes =
                    Vec::with_capacity(usize::try_from(entry.size().min(1 << 20)).unwrap_or(0));
                (&mut entry)
                    .take(osv::MAX_RECORD_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|source| IndexError::Io {
                        path: PathBuf::from(&entry_name),
                        source,
                    })?;
                f(&entry_name, &bytes)?;
            }
            Ok(())
        }
        _ => Err(IndexError::UnknownInput {
            path: path.to_owned(),
        }),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn is_input(path: &Path) -> bool {
    matches!(extension(path).as_deref(), Some("json" | "zip"))
}

/// Reads at most one byte more than a record may have, so that an oversized
/// file is reported by the parser instead of being read whole.
fn read_bounded(file: fs_err::File, path: &Path) -> Result<Vec<u8>, IndexError> {
    let mut bytes = Vec::new();
    file.take(osv::MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IndexError::Io {
            path: path.to_owned(),
            source,
        })?;
    Ok(bytes)
}
