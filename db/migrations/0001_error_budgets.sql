-- Error budgets: policies (every version kept), SLI counts rolled up by minute,
-- hour and day, release decisions, escalations and the notification outbox.
-- Times are INTEGER unix seconds (UTC) where they are summed or ranged over,
-- TEXT RFC 3339 where they are only shown.

CREATE TABLE policies (
    version    TEXT PRIMARY KEY,            -- sha256:<hex of canonical form>
    service    TEXT NOT NULL,
    source     BLOB NOT NULL,               -- the file as given
    origin     TEXT NOT NULL,               -- file name or "api"
    created_at TEXT NOT NULL
);

CREATE TABLE services (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    policy_version TEXT NOT NULL REFERENCES policies(version),
    updated_at     TEXT NOT NULL
);

-- Which policy a service had from when: decisions cite theirs, the page shows the history.
CREATE TABLE policy_history (
    service      TEXT NOT NULL,
    version      TEXT NOT NULL REFERENCES policies(version),
    activated_at TEXT NOT NULL,
    activated_by TEXT NOT NULL
);
CREATE INDEX policy_history_service ON policy_history(service, activated_at);

-- Counts per service and bucket start. A window's sums read whole days, then
-- whole hours, then minutes at its edges: a few hundred rows for 30 days.
CREATE TABLE sli_minute (
    service_id INTEGER NOT NULL REFERENCES services(id),
    t          INTEGER NOT NULL,
    good       INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (service_id, t)
) WITHOUT ROWID;

CREATE TABLE sli_hour (
    service_id INTEGER NOT NULL REFERENCES services(id),
    t          INTEGER NOT NULL,
    good       INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (service_id, t)
) WITHOUT ROWID;

CREATE TABLE sli_day (
    service_id INTEGER NOT NULL REFERENCES services(id),
    t          INTEGER NOT NULL,
    good       INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    PRIMARY KEY (service_id, t)
) WITHOUT ROWID;

-- Replies to requests made with an Idempotency-Key, stored in the same
-- transaction as the write they acknowledge.
CREATE TABLE idempotency_keys (
    scope      TEXT NOT NULL,               -- route and subject, e.g. "sli:api-service"
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    status     INTEGER NOT NULL,
    response   BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    service        TEXT NOT NULL,
    version        TEXT NOT NULL,
    commit_sha     TEXT NOT NULL,
    risk_level     TEXT NOT NULL,
    release_type   TEXT NOT NULL,
    has_tests      INTEGER NOT NULL,
    has_rollback   INTEGER NOT NULL,
    requested_by   TEXT NOT NULL,
    approved       INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    alternative    TEXT NOT NULL,
    conditions     TEXT NOT NULL,           -- JSON array
    metrics        TEXT NOT NULL,           -- JSON object
    policy_version TEXT NOT NULL,
    status         TEXT NOT NULL,
    decided_at     TEXT NOT NULL
);
CREATE INDEX decisions_service ON decisions(service, id);

-- One row per (service, escalation): armed until remaining falls below the
-- threshold, re-armed once it is back above.
CREATE TABLE escalations (
    service    TEXT NOT NULL,
    name       TEXT NOT NULL,
    armed      INTEGER NOT NULL,
    fired_at   TEXT,
    remaining  REAL,
    PRIMARY KEY (service, name)
);

-- The outbox: every notification is recorded here, then delivered (with
-- retries) to the webhook configured for its target, if any.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,          -- "escalation", ...
    subject         TEXT NOT NULL,          -- service or project
    target          TEXT NOT NULL,          -- role name
    message         TEXT NOT NULL,
    payload         TEXT NOT NULL,          -- Slack-compatible JSON
    webhook_url     TEXT NOT NULL,          -- empty: recorded only
    state           TEXT NOT NULL,          -- pending, delivered, failed, recorded
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX notifications_due ON notifications(state, next_attempt_at);
CREATE INDEX notifications_subject ON notifications(subject, id);

-- Append-only record of who did what, when and why.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_iss  TEXT NOT NULL,
    actor_sub  TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
