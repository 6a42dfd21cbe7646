-- Background work (escalation checks, webhook deliveries, sweeps, purges)
-- runs on one instance at a time: the one holding its lease. A lease that
-- is not renewed expires, and another instance takes the work over.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL, -- unix milliseconds
    renewed_at INTEGER NOT NULL  -- unix milliseconds
);

-- An instance claims a due notification before posting it, so that two
-- instances never post the same one; only the claimant records the outcome.
ALTER TABLE notifications ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
