-- PostgreSQL twin of migrations/0004_token_owner.sql: a token belongs to
-- the person who made it on the dashboard (see there).
ALTER TABLE tokens ADD COLUMN owner_iss  TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN owner_sub  TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN owner_name TEXT COLLATE "C" NOT NULL DEFAULT '';

UPDATE tokens SET owner_iss = created_iss, owner_sub = created_sub, owner_name = created_name
    WHERE created_iss NOT IN ('budgetgate', 'budgetgate:cli', 'budgetgate:token');

ALTER TABLE users ADD COLUMN username TEXT COLLATE "C" NOT NULL DEFAULT '';
