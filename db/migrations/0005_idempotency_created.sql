-- A stored reply keeps what the use case did (it created something or it
-- did not), not an HTTP status: the HTTP layer chooses the status. Rows
-- written before record 201 where something was created.
ALTER TABLE idempotency_keys RENAME COLUMN status TO created;
UPDATE idempotency_keys SET created = (created = 201);
