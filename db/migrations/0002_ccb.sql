-- Identity, API tokens and CCB exceptions.

-- People who signed in through OIDC, keyed by (issuer, subject). Roles are
-- re-read from the groups claim at every login.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    roles      TEXT NOT NULL,               -- comma-separated
    created_at TEXT NOT NULL,
    last_login TEXT NOT NULL,
    UNIQUE (issuer, subject)
);

-- Server-side sessions: the cookie holds only the id, so that logout and
-- the timeouts take effect on the server. The id is stored hashed, so that
-- a copy of the database does not sign anyone in.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,            -- hex SHA-256 of the id in the cookie
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,               -- the form token bound to this session
    created_at INTEGER NOT NULL,            -- unix seconds
    last_seen  INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

-- API tokens, stored as the SHA-256 of a high-entropy random secret.
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,             -- comma-separated
    created_iss  TEXT NOT NULL,
    created_sub  TEXT NOT NULL,
    created_name TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

-- CCB requests of either kind. The subject and evidence are JSON so that
-- variant requests (with their analysis) fit the same table; subject_key is
-- what an approval covers ("service@version" or "project/dimension/variant/metric").
CREATE TABLE exceptions (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('release', 'variant')),
    status             TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    subject_key        TEXT NOT NULL,
    subject            TEXT NOT NULL,       -- JSON
    evidence           TEXT NOT NULL,       -- JSON
    decision_id        INTEGER REFERENCES decisions(id),
    analysis_id        INTEGER,             -- the variant side's analyses table, when it exists
    requester_iss      TEXT NOT NULL,
    requester_sub      TEXT NOT NULL,
    requester_name     TEXT NOT NULL,
    reason             TEXT NOT NULL,
    plan               TEXT,                -- JSON refactoring plan
    requested_expiry   INTEGER NOT NULL,    -- seconds
    approvals_required INTEGER NOT NULL,
    conditions         TEXT NOT NULL,       -- JSON array, set at approval
    created_at         TEXT NOT NULL,
    pending_until      TEXT NOT NULL,
    decided_at         TEXT,
    expires_at         TEXT,
    reminded_lead      INTEGER NOT NULL DEFAULT 0 -- seconds before expiry of the last reminder sent
);
CREATE INDEX exceptions_status ON exceptions(status, id);
CREATE INDEX exceptions_subject ON exceptions(kind, subject_key, status);

CREATE TABLE exception_votes (
    exception_id INTEGER NOT NULL REFERENCES exceptions(id),
    voter_iss    TEXT NOT NULL,
    voter_sub    TEXT NOT NULL,
    voter_name   TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (exception_id, voter_iss, voter_sub) -- one vote per person, even if two requests race
);

-- Which exception let a release through, where one did.
ALTER TABLE decisions ADD COLUMN exception_id INTEGER REFERENCES exceptions(id);

CREATE INDEX audit_log_action ON audit_log(action, id);
