-- 0005_bundles_webhooks: evidence bundles and notification webhooks.
--
-- A bundle is a .tar.gz under data_dir/bundles/ written by server/bundle/;
-- its row is inserted only after the file is in place, so a row always names
-- a complete file. The id is 128 random bits in base32 (the short link /b/<id>
-- is public, so the id is the capability). The target reference is kept as
-- text too, so a bundle outlives the target it was made from.
--
-- A webhook's URL may hold a token: it is stored sealed (seal_lock, AAD
-- "webhook:<name>:url") and only its scheme and host are kept in clear.
-- webhook_deliveries holds one row per (webhook, drift key): the key is
-- target + baseline snapshot + latest snapshot + severity, so a drift is
-- delivered at most once per webhook.

CREATE TABLE bundles (
	id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 64),
	target_id INTEGER REFERENCES targets (id) ON DELETE SET NULL,
	target TEXT NOT NULL,
	from_snapshot_id INTEGER,
	to_snapshot_id INTEGER NOT NULL,
	file TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	meta_json TEXT NOT NULL DEFAULT '{}'
);
-- Listing newest first, and retention.
CREATE INDEX bundles_created ON bundles (created_at, id);

CREATE TABLE webhooks (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
	sealed_url BLOB NOT NULL,
	url_display TEXT NOT NULL,
	format TEXT NOT NULL CHECK (format IN ('json', 'slack')),
	min_severity TEXT NOT NULL CHECK (min_severity IN ('critical', 'high', 'medium', 'low', 'info')),
	sealed_secret BLOB,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	last_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_success_at INTEGER NOT NULL DEFAULT 0,
	last_status INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	attempts INTEGER NOT NULL DEFAULT 0,
	deliveries INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
	id INTEGER PRIMARY KEY,
	webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	drift_key TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (webhook_id, drift_key)
);
