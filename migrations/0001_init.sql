-- 0001_init: what skewd keeps from its first version: API tokens and a small
-- key/value table for facts about the database itself.
--
-- Migrations run inside a transaction that skewd opens (do not write BEGIN or
-- COMMIT here), are recorded in schema_migrations with their SHA-256, and must
-- never change once released: add a new NNNN_name.sql instead.
-- Keep the SQL portable (SQLite now, PostgreSQL planned) where it costs nothing.

CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

INSERT INTO meta (key, value) VALUES ('application', 'skewd');

-- One row per API token. Only the SHA-256 of the token's secret part is kept;
-- public_id is the random id that appears in the token text and is how a
-- presented token is found. A revoked token stays listed (revoked_at set).
CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY,
	public_id TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
	secret_sha256 TEXT NOT NULL CHECK (length(secret_sha256) = 64),
	created_at INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at INTEGER
);

-- At most one active token per name; revoked ones may share it.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;
