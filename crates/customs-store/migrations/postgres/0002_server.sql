-- Schema 2 (PostgreSQL): what `customs serve` keeps besides evidence. Unlike
-- the evidence tables these rows change: a token is revoked, a job moves
-- from queued to running to done. They hold no evidence.

-- API tokens: only the SHA-256 of each token is kept.
CREATE TABLE tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    environment TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TEXT
);

-- The work queue. A worker claims a job with a lease it renews while it
-- works; a job whose lease ran out (its worker died) is claimed again.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    not_before   TEXT NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    queued_at    TEXT NOT NULL,
    queued_by    TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    result       TEXT,
    error        TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
