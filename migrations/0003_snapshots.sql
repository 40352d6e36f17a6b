-- 0003_snapshots: what is pulled from clusters.
--
-- A target is one workload (Deployment, StatefulSet, ...) of a cluster. Each
-- pull of a target records a snapshot: the configuration document is stored
-- once per content hash in `documents` (shared across targets and pulls), and
-- a poll that finds the same hash as the target's latest snapshot only moves
-- that snapshot's last_seen. The volatile evidence of every pull (metric
-- samples, events, log lines, pod names) goes to `evidence`, one row per pull,
-- outside the hash. Deleting a cluster cascades to its targets, their
-- snapshots and evidence; documents no snapshot references are removed by the
-- store in the same transaction.

CREATE TABLE targets (
	id INTEGER PRIMARY KEY,
	cluster_id INTEGER NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
	namespace TEXT NOT NULL CHECK (length(namespace) BETWEEN 1 AND 253),
	kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 31),
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 253),
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	gone INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1)),
	UNIQUE (cluster_id, namespace, kind, name)
);

-- Configuration documents (JSON text), keyed by the hex SHA-256 of their
-- canonical JSON.
CREATE TABLE documents (
	hash TEXT PRIMARY KEY CHECK (length(hash) = 64),
	body TEXT NOT NULL,
	size INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE snapshots (
	id INTEGER PRIMARY KEY,
	target_id INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	hash TEXT NOT NULL REFERENCES documents (hash),
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL
);
-- History of a target, newest first, and its latest snapshot.
CREATE INDEX snapshots_target ON snapshots (target_id, id);
-- Finding documents that no snapshot references any more.
CREATE INDEX snapshots_hash ON snapshots (hash);
-- Retention.
CREATE INDEX snapshots_last_seen ON snapshots (last_seen);

CREATE TABLE evidence (
	id INTEGER PRIMARY KEY,
	target_id INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
	taken_at INTEGER NOT NULL,
	body TEXT NOT NULL
);
-- A target's time series, and retention.
CREATE INDEX evidence_target_time ON evidence (target_id, taken_at, id);
CREATE INDEX evidence_snapshot ON evidence (snapshot_id);
CREATE INDEX evidence_taken_at ON evidence (taken_at);
