-- 0002_clusters: the Kubernetes clusters skewd pulls from.
--
-- Credentials never appear here in clear: sealed_auth and
-- sealed_prometheus_token hold AES-256-GCM blobs (server/seal/) under a key
-- that lives outside the database. Everything else in a row is public
-- configuration or health. Deleting a cluster deletes everything collected
-- from it (the targets table of 0003 cascades from here).

CREATE TABLE clusters (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
	server TEXT NOT NULL CHECK (length(server) > 0),
	insecure_skip_tls_verify INTEGER NOT NULL DEFAULT 0 CHECK (insecure_skip_tls_verify IN (0, 1)),
	ca_pem TEXT,
	namespaces_json TEXT NOT NULL DEFAULT '[]',
	label_selector TEXT NOT NULL DEFAULT '',
	auth_kind TEXT NOT NULL,
	sealed_auth BLOB,
	prometheus_url TEXT,
	sealed_prometheus_token BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	-- Health of the last pull, written by the collector.
	last_pull_at INTEGER,
	last_success_at INTEGER,
	last_duration_ms INTEGER,
	last_error TEXT,
	server_version TEXT
);
