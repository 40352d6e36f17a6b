-- 0004_baselines: "last good" per target, with who set it, why and when.
--
-- A baseline row points at a snapshot of its target. Setting a baseline adds a
-- row (the history); the newest row is the target's baseline. A snapshot made
-- from an imported file (a saved last-good manifest, a GitOps file) is marked
-- `imported`: it belongs to the target's history but is never its latest
-- snapshot (what the cluster looks like now). Retention keeps every snapshot a
-- baseline row points at.

ALTER TABLE snapshots ADD COLUMN imported INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1));

CREATE TABLE baselines (
	id INTEGER PRIMARY KEY,
	target_id INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
	set_by TEXT NOT NULL CHECK (length(set_by) BETWEEN 1 AND 64),
	note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 1024),
	source TEXT NOT NULL CHECK (source IN ('snapshot', 'import', 'auto')),
	set_at INTEGER NOT NULL
);
-- A target's baseline (the newest row) and its history, newest first.
CREATE INDEX baselines_target ON baselines (target_id, id);
-- Retention: is a snapshot some baseline's?
CREATE INDEX baselines_snapshot ON baselines (snapshot_id);
