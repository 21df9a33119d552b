-- The evidence store, schema 1 (SQLite). Append-only: no row is ever
-- updated or deleted; state (a block, a deployment) is the newest event of
-- its key.

-- Content-addressed bytes: SBOMs, decision records, release bundles and
-- their files. `encoding` is `identity` or `zstd`.
CREATE TABLE documents (
    digest     TEXT PRIMARY KEY NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    encoding   TEXT NOT NULL,
    content    BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE images (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    first_seen TEXT NOT NULL
);

-- Every repository:tag an image was reached through.
CREATE TABLE tags (
    repository TEXT NOT NULL,
    tag        TEXT NOT NULL,
    digest     TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (repository, tag, digest)
) WITHOUT ROWID;
CREATE INDEX tags_by_digest ON tags (digest);

-- One row per command result about a digest.
CREATE TABLE records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    record_digest TEXT NOT NULL UNIQUE,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    environment   TEXT,
    created_at    TEXT NOT NULL,
    actor         TEXT NOT NULL,
    tool          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    document      TEXT REFERENCES documents (digest)
);
CREATE INDEX records_by_subject ON records (subject, kind, id);

-- The SBOM of a digest, stored once.
CREATE TABLE sboms (
    image_id   BIGINT PRIMARY KEY NOT NULL REFERENCES images (id),
    document   TEXT NOT NULL REFERENCES documents (digest),
    packages   BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE packages (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    key     TEXT NOT NULL UNIQUE,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    purl    TEXT NOT NULL
);
CREATE INDEX packages_by_name ON packages (name);

-- How the advisory database finds a package (customs-vuln's queries).
CREATE TABLE package_queries (
    package_id BIGINT NOT NULL REFERENCES packages (id),
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, version, package_id)
) WITHOUT ROWID;

CREATE TABLE image_packages (
    package_id BIGINT NOT NULL REFERENCES packages (id),
    image_id   BIGINT NOT NULL REFERENCES images (id),
    PRIMARY KEY (package_id, image_id)
) WITHOUT ROWID;
CREATE INDEX image_packages_by_image ON image_packages (image_id);

CREATE TABLE deployments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    service     TEXT NOT NULL,
    cluster     TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    reference   TEXT NOT NULL,
    source      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX deployments_by_digest ON deployments (digest);
CREATE INDEX deployments_by_slot ON deployments (environment, service, cluster, namespace, id);

CREATE TABLE blocks (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('block', 'unblock')),
    reason TEXT NOT NULL,
    until  TEXT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL
);
CREATE INDEX blocks_by_digest ON blocks (digest, id);

CREATE TABLE promotions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    digest      TEXT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    environment TEXT NOT NULL,
    decision    TEXT,
    copied      TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX promotions_by_digest ON promotions (digest);

CREATE TABLE releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    environment TEXT NOT NULL,
    digest      TEXT NOT NULL,
    document    TEXT NOT NULL REFERENCES documents (digest),
    created_at  TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE INDEX releases_by_service ON releases (service, version, id);
CREATE INDEX releases_by_digest ON releases (digest);
