-- Separation of duties: a token made on the dashboard belongs to the person
-- who made it, and a request opened with it is that person's, who then
-- cannot vote on it. A token made with the CLI belongs to no one (empty).
ALTER TABLE tokens ADD COLUMN owner_iss  TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN owner_sub  TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN owner_name TEXT NOT NULL DEFAULT '';

-- Tokens made before this migration on the dashboard were made by a
-- signed-in person: every issuer but the server's own and the CLI's is an
-- identity provider.
UPDATE tokens SET owner_iss = created_iss, owner_sub = created_sub, owner_name = created_name
    WHERE created_iss NOT IN ('budgetgate', 'budgetgate:cli', 'budgetgate:token');

-- The username (preferred_username) a person signs in with, so that a
-- release's requested_by can name them.
ALTER TABLE users ADD COLUMN username TEXT NOT NULL DEFAULT '';
