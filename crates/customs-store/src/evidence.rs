//! Records about digests, the documents they point to, and SBOMs (stored
//! once per digest, with the package index the inventory queries use).

use std::collections::BTreeMap;

use customs_sbom::Sbom;
use customs_types::Digest;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row as _};

use crate::{Store, StoreError, now};

/// An image as a command saw it: its digest, its name, and the
/// `repository:tag` references it was reached through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The manifest (or index) digest.
    pub digest: Digest,
    /// How the user named it.
    pub name: String,
    /// `repository:tag` references that pointed at it.
    pub tags: Vec<String>,
}

impl Seen {
    /// An image known by digest only.
    #[must_use]
    pub fn digest(digest: Digest) -> Self {
        Self {
            name: digest.to_string(),
            digest,
            tags: Vec::new(),
        }
    }
}

/// Bytes to store content-addressed.
#[derive(Debug, Clone)]
pub struct Document {
    /// What they are (`application/spdx+json`, `application/json`).
    pub media_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Document {
    /// A JSON document of `value`.
    ///
    /// # Errors
    /// [`StoreError::Encode`] when it does not serialise.
    pub fn json(value: &impl Serialize, what: &str) -> Result<Self, StoreError> {
        Ok(Self {
            media_type: "application/json".to_owned(),
            bytes: serde_json::to_vec(value).map_err(|e| StoreError::Encode {
                what: what.to_owned(),
                detail: e.to_string(),
            })?,
        })
    }

    /// Its digest.
    #[must_use]
    pub fn digest(&self) -> Digest {
        Digest::sha256(&self.bytes)
    }
}

/// A result to record against a digest.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The image it is about.
    pub subject: Seen,
    /// `scan`, `gate`, `verify`, … (the command's name).
    pub kind: String,
    /// The environment, for decisions and promotions.
    pub environment: Option<String>,
    /// What a human (and `history`) reads: counts, verdicts, IDs.
    pub summary: serde_json::Value,
    /// The whole result, when it is worth keeping.
    pub document: Option<Document>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Its position in the store (time order).
    pub id: i64,
    /// Its content digest.
    pub digest: String,
    /// The image digest it is about.
    pub subject: String,
    /// What made it.
    pub kind: String,
    /// The environment, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// When (RFC 3339, UTC).
    pub created_at: String,
    /// Who.
    pub actor: String,
    /// Which customs.
    pub tool: String,
    /// What it says.
    pub summary: serde_json::Value,
    /// The digest of its stored document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// An SBOM read back from the store.
#[derive(Debug, Clone)]
pub struct StoredSbom {
    /// The document digest.
    pub document: String,
    /// When it was stored.
    pub created_at: String,
    /// The SBOM.
    pub sbom: Sbom,
}

/// The columns a [`Record`] is read from.
const RECORD_COLUMNS: &str =
    "id, record_digest, subject, kind, environment, created_at, actor, tool, summary, document";

/// Documents larger than this are stored zstd-compressed.
const COMPRESS_ABOVE: usize = 4096;

/// Rows per multi-row `INSERT` (both backends take far more parameters).
const BATCH: usize = 500;

/// The `repository` and `tag` of `repository:tag` (a registry port's colon
/// is part of the repository).
fn split_tag(reference: &str) -> Option<(&str, &str)> {
    let (repository, tag) = reference.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty() && !repository.is_empty()).then_some((repository, tag))
}

/// `$a, $b, …` placeholders for `rows` rows of `width` values each.
pub(crate) fn placeholders(rows: usize, width: usize) -> String {
    let mut out = String::new();
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..width {
            if column > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", row * width + column + 1));
        }
        out.push(')');
    }
    out
}

pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Stores `document` (once per digest) inside `tx`; returns its digest.
    pub(crate) async fn put_document(
        &self,
        tx: &mut Tx,
        document: &Document,
    ) -> Result<String, StoreError> {
        let digest = document.digest().to_string();
        let (encoding, content) = if document.bytes.len() > COMPRESS_ABOVE {
            let compressed =
                zstd::encode_all(document.bytes.as_slice(), 3).map_err(|e| StoreError::Encode {
                    what: format!("document {digest}"),
                    detail: e.to_string(),
                })?;
            ("zstd", compressed)
        } else {
            ("identity", document.bytes.clone())
        };
        sqlx::query(
            "INSERT INTO documents (digest, media_type, size, encoding, content) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(&document.media_type)
        .bind(i64::try_from(document.bytes.len()).unwrap_or(i64::MAX))
        .bind(encoding)
        .bind(content)
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error("store a document", e))?;
        Ok(digest)
    }

    /// A stored document's bytes, verified against its digest.
    ///
    /// # Errors
    /// A failing query, or content that does not match its digest.
    pub async fn document(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT encoding, content FROM documents WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error("read a document", e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let encoding: String = row.get(0);
        let content: Vec<u8> = row.get(1);
        let damaged = |detail: String| StoreError::Damaged {
            location: self.location.clone(),
            what: format!("document {digest}"),
            detail,
        };
        let bytes = match encoding.as_str() {
            "identity" => content,
            "zstd" => zstd::decode_all(content.as_slice()).map_err(|e| damaged(e.to_string()))?,
            other => return Err(damaged(format!("unknown encoding `{other}`"))),
        };
        let expected = Digest::parse(digest).map_err(|e| damaged(e.to_string()))?;
        if !expected.matches(&bytes) {
            return Err(damaged("its content does not match its digest".to_owned()));
        }
        Ok(Some(bytes))
    }

    /// Notes the image and its tags inside `tx`; returns the image's id.
    pub(crate) async fn put_image(
        &self,
        tx: &mut Tx,
        seen: &Seen,
        at: &str,
    ) -> Result<i64, StoreError> {
        let digest = seen.digest.to_string();
        sqlx::query(
            "INSERT INTO images (digest, name, first_seen) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(&seen.name)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error("store an image", e))?;
        for (repository, tag) in seen.tags.iter().filter_map(|t| split_tag(t)) {
            sqlx::query(
                "INSERT INTO tags (repository, tag, digest, first_seen) VALUES ($1, $2, $3, $4) ON CONFLICT (repository, tag, digest) DO NOTHING",
            )
            .bind(repository)
            .bind(tag)
            .bind(&digest)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.error("store a tag", e))?;
        }
        sqlx::query_scalar::<_, i64>("SELECT id FROM images WHERE digest = $1")
            .bind(&digest)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| self.error("read an image", e))
    }

    /// Records a result, with its image, tags and document, in one
    /// transaction. The record is content-addressed: its digest covers
    /// every field.
    ///
    /// # Errors
    /// A failing query (nothing is written then).
    pub async fn record(&self, record: NewRecord) -> Result<Record, StoreError> {
        let at = now();
        let summary = serde_json::to_string(&record.summary).map_err(|e| StoreError::Encode {
            what: format!("the {} record", record.kind),
            detail: e.to_string(),
        })?;
        let mut tx = self.begin().await?;
        let document = match &record.document {
            Some(document) => Some(self.put_document(&mut tx, document).await?),
            None => None,
        };
        self.put_image(&mut tx, &record.subject, &at).await?;
        let subject = record.subject.digest.to_string();
        let canonical = serde_json::json!({
            "subject": subject,
            "kind": record.kind,
            "environment": record.environment,
            "created_at": at,
            "actor": self.actor,
            "tool": self.tool,
            "summary": record.summary,
            "document": document,
        });
        let digest = Digest::sha256(canonical.to_string().as_bytes()).to_string();
        sqlx::query(
            "INSERT INTO records (record_digest, subject, kind, environment, created_at, actor, tool, summary, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (record_digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(&subject)
        .bind(&record.kind)
        .bind(record.environment.as_deref())
        .bind(&at)
        .bind(&self.actor)
        .bind(&self.tool)
        .bind(&summary)
        .bind(document.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("store a record", e))?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM records WHERE record_digest = $1")
            .bind(&digest)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error("read a record", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit a record", e))?;
        Ok(Record {
            id,
            digest,
            subject,
            kind: record.kind,
            environment: record.environment,
            created_at: at,
            actor: self.actor.clone(),
            tool: self.tool.clone(),
            summary: record.summary,
            document,
        })
    }

    /// Stores the SBOM of `seen` unless the store has one for that digest
    /// already (it is reused, never replaced), with the package index
    /// `who-has` and `affected` read. Returns whether it was stored now.
    ///
    /// # Errors
    /// A failing query (nothing is written then).
    pub async fn record_sbom(&self, seen: &Seen, sbom: &Sbom) -> Result<bool, StoreError> {
        let at = now();
        // Serialised (outside the write lock) only when the store has no
        // SBOM of the digest yet: one scanned again reuses the one it has.
        let document = if self.sbom_of(&seen.digest).await?.is_some() {
            None
        } else {
            let bytes =
                customs_sbom::format::native::to_vec(sbom).map_err(|e| StoreError::Encode {
                    what: format!("the SBOM of {}", seen.digest),
                    detail: e.to_string(),
                })?;
            Some(Document {
                media_type: "application/vnd.customs.sbom+json".to_owned(),
                bytes,
            })
        };
        let mut tx = self.begin().await?;
        let image_id = self.put_image(&mut tx, seen, &at).await?;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sboms WHERE image_id = $1")
            .bind(image_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error("look for a stored SBOM", e))?;
        // Another process may have stored it since: reused all the same.
        let Some(document) = document.filter(|_| stored == 0) else {
            tx.commit()
                .await
                .map_err(|e| self.error("commit the image", e))?;
            return Ok(false);
        };
        let document = self.put_document(&mut tx, &document).await?;
        let rows = package_rows(sbom);
        let ids = self.put_packages(&mut tx, &rows).await?;
        let mut image_packages: Vec<i64> = ids.values().copied().collect();
        image_packages.sort_unstable();
        image_packages.dedup();
        for chunk in image_packages.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO image_packages (package_id, image_id) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id).bind(image_id);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error("store the image's packages", e))?;
        }
        sqlx::query(
            "INSERT INTO sboms (image_id, document, packages, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(image_id)
        .bind(&document)
        .bind(i64::try_from(image_packages.len()).unwrap_or(i64::MAX))
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error("store an SBOM", e))?;
        tx.commit()
            .await
            .map_err(|e| self.error("commit an SBOM", e))?;
        Ok(true)
    }

    /// Inserts the packages that are new (in key order, so that concurrent
    /// writers take row locks in one order) and their advisory queries;
    /// returns every row's id by key.
    async fn put_packages(
        &self,
        tx: &mut Tx,
        rows: &BTreeMap<String, PackageRow>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let keys: Vec<&String> = rows.keys().collect();
        let mut ids = BTreeMap::new();
        for chunk in keys.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO packages (key, kind, name, version, purl) VALUES {} ON CONFLICT (key) DO NOTHING",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for key in chunk {
                let row = &rows[*key];
                query = query
                    .bind(key.as_str())
                    .bind(row.kind)
                    .bind(row.name.as_str())
                    .bind(row.version.as_str())
                    .bind(row.purl.as_str());
            }
            query
                .execute(&mut **tx)
                .await
                .map_err(|e| self.error("store packages", e))?;
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut select = sqlx::query(AssertSqlSafe(format!(
                "SELECT key, id FROM packages WHERE key IN ({list})"
            )));
            for key in chunk {
                select = select.bind(key.as_str());
            }
            for row in select
                .fetch_all(&mut **tx)
                .await
                .map_err(|e| self.error("read packages", e))?
            {
                ids.insert(row.get::<String, _>(0), row.get::<i64, _>(1));
            }
        }
        let mut queries: Vec<(&str, &str, &str, i64)> = Vec::new();
        for (key, row) in rows {
            let Some(&id) = ids.get(key) else {
                return Err(StoreError::Damaged {
                    location: self.location.clone(),
                    what: format!("package {key}"),
                    detail: "it was not stored".to_owned(),
                });
            };
            for (ecosystem, name, version) in &row.queries {
                queries.push((ecosystem, name, version, id));
            }
        }
        queries.sort_unstable();
        queries.dedup();
        for chunk in queries.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO package_queries (ecosystem, name, version, package_id) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (ecosystem, name, version, id) in chunk {
                query = query.bind(*ecosystem).bind(*name).bind(*version).bind(*id);
            }
            query
                .execute(&mut **tx)
                .await
                .map_err(|e| self.error("store package queries", e))?;
        }
        Ok(ids)
    }

    /// Where the stored SBOM of `digest` is: its document, when it was
    /// stored and how many packages it indexes — without reading it.
    ///
    /// # Errors
    /// A failing query.
    pub async fn sbom_of(
        &self,
        digest: &Digest,
    ) -> Result<Option<(String, String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.document, s.created_at, s.packages FROM sboms s JOIN images i ON i.id = s.image_id WHERE i.digest = $1",
        )
        .bind(digest.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error("read an SBOM", e))?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// The stored SBOM of `digest`.
    ///
    /// # Errors
    /// A failing query or a damaged document.
    pub async fn sbom(&self, digest: &Digest) -> Result<Option<StoredSbom>, StoreError> {
        let Some((document, created_at, _)) = self.sbom_of(digest).await? else {
            return Ok(None);
        };
        let bytes = self
            .document(&document)
            .await?
            .ok_or_else(|| StoreError::Damaged {
                location: self.location.clone(),
                what: format!("the SBOM of {digest}"),
                detail: format!("document {document} is missing"),
            })?;
        let sbom =
            customs_sbom::format::native::from_slice(&bytes).map_err(|e| StoreError::Damaged {
                location: self.location.clone(),
                what: format!("the SBOM of {digest}"),
                detail: e.to_string(),
            })?;
        Ok(Some(StoredSbom {
            document,
            created_at,
            sbom,
        }))
    }

    /// Every record about `digest`, oldest first; only of `kind` when given.
    ///
    /// # Errors
    /// A failing query or a damaged record.
    pub async fn records(
        &self,
        digest: &Digest,
        kind: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let columns = RECORD_COLUMNS;
        let rows = match kind {
            Some(kind) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {columns} FROM records WHERE subject = $1 AND kind = $2 ORDER BY id"
                )))
                .bind(digest.to_string())
                .bind(kind)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {columns} FROM records WHERE subject = $1 ORDER BY id"
                )))
                .bind(digest.to_string())
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(|e| self.error("read records", e))?;
        rows.iter().map(|row| self.record_of(row)).collect()
    }

    /// The newest record of `kind` about `digest` (in `environment` when
    /// given).
    ///
    /// # Errors
    /// A failing query or a damaged row.
    pub async fn latest_record(
        &self,
        digest: &Digest,
        kind: &str,
        environment: Option<&str>,
    ) -> Result<Option<Record>, StoreError> {
        let filter = if environment.is_some() {
            " AND environment = $3"
        } else {
            ""
        };
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE subject = $1 AND kind = $2{filter} ORDER BY id DESC LIMIT 1"
        )))
        .bind(digest.to_string())
        .bind(kind);
        if let Some(environment) = environment {
            query = query.bind(environment);
        }
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error("read a record", e))?;
        row.as_ref().map(|row| self.record_of(row)).transpose()
    }

    fn record_of(&self, row: &sqlx::any::AnyRow) -> Result<Record, StoreError> {
        let summary: String = row.get(8);
        let id: i64 = row.get(0);
        Ok(Record {
            id,
            digest: row.get(1),
            subject: row.get(2),
            kind: row.get(3),
            environment: row.get(4),
            created_at: row.get(5),
            actor: row.get(6),
            tool: row.get(7),
            summary: serde_json::from_str(&summary).map_err(|e| StoreError::Damaged {
                location: self.location.clone(),
                what: format!("record {id}"),
                detail: e.to_string(),
            })?,
            document: row.get(9),
        })
    }

    /// The digests whose hex starts with `prefix` (`sha256:` optional), or
    /// that `repository:tag` (or a bare tag) pointed at, newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn resolve(&self, reference: &str) -> Result<Vec<Digest>, StoreError> {
        let digests: Vec<String> = if let Ok(digest) = Digest::parse(reference) {
            vec![digest.to_string()]
        } else if is_digest_prefix(reference) {
            let prefix = format!("sha256:{}", reference.trim_start_matches("sha256:"));
            sqlx::query_scalar(
                "SELECT digest FROM images WHERE digest >= $1 AND digest < $2 ORDER BY digest",
            )
            .bind(&prefix)
            .bind(format!("{prefix}g"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error("find digests by prefix", e))?
        } else {
            self.tag_matches(reference)
                .await?
                .into_iter()
                .map(|(_, digest)| digest.to_string())
                .collect()
        };
        let mut out: Vec<Digest> = Vec::new();
        for digest in digests {
            if let Ok(d) = Digest::parse(&digest)
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Every `(repository, digest)` a `repository:tag` (or a bare
    /// `name:tag`, matching any registry's repository ending in `/name`)
    /// was seen pointing at, newest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn tag_matches(&self, reference: &str) -> Result<Vec<(String, Digest)>, StoreError> {
        let Some((repository, tag)) = split_tag(reference) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT repository, digest FROM tags WHERE (repository = $1 OR repository LIKE $2) AND tag = $3 ORDER BY first_seen DESC",
        )
        .bind(repository)
        .bind(format!("%/{repository}"))
        .bind(tag)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("find digests by tag", e))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Digest::parse(&r.get::<String, _>(1))
                    .ok()
                    .map(|d| (r.get::<String, _>(0), d))
            })
            .collect())
    }

    /// The `repository:tag` references `digest` had, oldest first.
    ///
    /// # Errors
    /// A failing query.
    pub async fn tags_of(&self, digest: &Digest) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT repository, tag, first_seen FROM tags WHERE digest = $1 ORDER BY first_seen",
        )
        .bind(digest.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("read tags", e))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    format!("{}:{}", r.get::<String, _>(0), r.get::<String, _>(1)),
                    r.get(2),
                )
            })
            .collect())
    }

    /// Whether the store knows `digest` at all.
    ///
    /// # Errors
    /// A failing query.
    pub async fn knows(&self, digest: &Digest) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error("look up an image", e))?;
        Ok(n > 0)
    }
}

/// Whether `text` is the start of a SHA-256 digest (`sha256:` optional, at
/// least 6 hex digits), as `resolve` takes it.
#[must_use]
pub fn is_digest_prefix(text: &str) -> bool {
    let hex = text.trim_start_matches("sha256:");
    hex.len() >= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One package as the inventory indexes it.
struct PackageRow {
    kind: &'static str,
    name: String,
    version: String,
    purl: String,
    /// `(ecosystem, name, version)` the advisory database is asked.
    queries: Vec<(String, String, String)>,
}

/// The SBOM's packages by key (the purl, else `type:name@version`).
fn package_rows(sbom: &Sbom) -> BTreeMap<String, PackageRow> {
    let mut rows = BTreeMap::new();
    for package in &sbom.packages {
        let key = if package.purl.is_empty() {
            format!(
                "{}:{}@{}",
                package.kind.as_str(),
                package.name,
                package.version
            )
        } else {
            package.purl.clone()
        };
        rows.entry(key).or_insert_with(|| PackageRow {
            kind: package.kind.as_str(),
            name: package.name.clone(),
            version: package.version.clone(),
            purl: package.purl.clone(),
            queries: customs_vuln::ecosystem::queries(package, sbom.distro.as_ref())
                .unwrap_or_default()
                .into_iter()
                .map(|q| (q.ecosystem, q.name, q.version))
                .collect(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_after_the_port() {
        assert_eq!(
            split_tag("localhost:5000/shop/app:1.0"),
            Some(("localhost:5000/shop/app", "1.0"))
        );
        assert_eq!(split_tag("localhost:5000/shop/app"), None);
        assert_eq!(split_tag("app:"), None);
    }

    #[test]
    fn placeholder_rows() {
        assert_eq!(placeholders(2, 2), "($1, $2), ($3, $4)");
    }
}
