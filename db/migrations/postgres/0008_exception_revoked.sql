-- PostgreSQL twin of migrations/0008_exception_revoked.sql: who ended an
-- approved exception early, when and why (JSON; see there).
ALTER TABLE exceptions ADD COLUMN revoked TEXT COLLATE "C";
