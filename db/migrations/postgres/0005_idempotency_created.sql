-- PostgreSQL twin of migrations/0005_idempotency_created.sql: a stored
-- reply keeps whether something was created, not an HTTP status.
ALTER TABLE idempotency_keys RENAME COLUMN status TO created;
ALTER TABLE idempotency_keys ALTER COLUMN created TYPE BOOLEAN USING (created = 201);
