-- Policy changes under review (docs/POLICY.md, Changes under review): a
-- change made through the API or the dashboard that loosens a gate waits
-- here, its policy already stored in policies, until another person with
-- the sre or ccb role approves or rejects it. Meanwhile the version in
-- force (services.policy_version) keeps governing.
CREATE TABLE policy_changes (
    id           INTEGER PRIMARY KEY,
    service      TEXT NOT NULL,
    version      TEXT NOT NULL REFERENCES policies(version),
    base_version TEXT NOT NULL,             -- the version in force when it was proposed
    origin       TEXT NOT NULL,             -- "api", "dashboard", "restore of sha256:..."
    loosens      TEXT NOT NULL,             -- what it loosens, one line each
    author_iss   TEXT NOT NULL,
    author_sub   TEXT NOT NULL,
    author_name  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    decided_iss  TEXT NOT NULL DEFAULT '',
    decided_sub  TEXT NOT NULL DEFAULT '',
    decided_name TEXT NOT NULL DEFAULT '',
    decided_at   TEXT NOT NULL DEFAULT '',
    comment      TEXT NOT NULL DEFAULT ''
);
-- At most one change per service waits: a newer one supersedes it.
CREATE UNIQUE INDEX policy_changes_one_pending ON policy_changes(service) WHERE status = 'pending';
CREATE INDEX policy_changes_service ON policy_changes(service, id);
