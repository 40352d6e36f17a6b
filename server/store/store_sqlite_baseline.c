/*
 * store_sqlite_baseline.c - the baselines table and imported snapshots in
 * SQLite (migrations/0004_baselines.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

#define BASELINE_COLUMNS "id, target_id, snapshot_id, set_by, note, source, set_at"

static void
copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(out, n, "%s", t != NULL ? t : "");
}

static void
row_to_baseline(sqlite3_stmt *st, struct store_baseline *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(st, 0);
	b->target_id = sqlite3_column_int64(st, 1);
	b->snapshot_id = sqlite3_column_int64(st, 2);
	copy_col(st, 3, b->set_by, sizeof(b->set_by));
	copy_col(st, 4, b->note, sizeof(b->note));
	copy_col(st, 5, b->source, sizeof(b->source));
	b->set_at = sqlite3_column_int64(st, 6);
}

/* Prepares sql on the calling thread's connection. Returns the statement, or NULL with e set. */
static sqlite3_stmt *
prepare(struct store *s, sqlite3 **dbp, const char *sql, const char *what, struct err *e)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return NULL;
	*dbp = db;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		store_sqlite_err(db, rc, e, what);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int
store_sqlite_baseline_insert(struct store *s, struct store_baseline *b, struct err *e)
{
	/* The snapshot must be the target's own: checked in the same statement. */
	static const char sql[] =
		"INSERT INTO baselines (target_id, snapshot_id, set_by, note, source, set_at)"
		" SELECT ?1, sn.id, ?3, ?4, ?5, ?6 FROM snapshots sn WHERE sn.id = ?2 AND sn.target_id = ?1"
		" RETURNING id";
	static const char owner_sql[] = "SELECT target_id FROM snapshots WHERE id = ?1";
	const char *what = "recording a baseline";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, what, e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, b->target_id);
	sqlite3_bind_int64(st, 2, b->snapshot_id);
	sqlite3_bind_text(st, 3, b->set_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, b->note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, b->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, b->set_at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b->id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	/* No row inserted: say whether the snapshot is unknown or another target's. */
	sqlite3_finalize(st);
	st = prepare(s, &db, owner_sql, what, e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, b->snapshot_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = err_set(e, ERR_INVALID, "snapshot %lld belongs to another target",
		    (long long)b->snapshot_id);
	else if (rc == SQLITE_DONE)
		ret = err_set(e, ERR_NOT_FOUND, "no snapshot with id %lld", (long long)b->snapshot_id);
	else
		ret = store_sqlite_err(db, rc, e, what);
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_baseline_get(struct store *s, int64_t target_id, struct store_baseline *out, struct err *e)
{
	static const char sql[] =
		"SELECT " BASELINE_COLUMNS " FROM baselines WHERE target_id = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading a baseline", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "the target has no baseline");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a baseline");
		goto out;
	}
	row_to_baseline(st, out);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_baseline_list(struct store *s, int64_t target_id, size_t limit,
    struct store_baseline **items, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT " BASELINE_COLUMNS " FROM baselines WHERE target_id = ?1 ORDER BY id DESC LIMIT ?2";
	struct store_baseline *arr = NULL, *grown;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	size_t cnt = 0, cap = 0;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "listing baselines", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			grown = realloc(arr, cap * sizeof(*arr));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing baselines");
				goto out;
			}
			arr = grown;
		}
		row_to_baseline(st, &arr[cnt++]);
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing baselines");
		goto out;
	}
	*items = arr;
	*n = cnt;
	arr = NULL;
	ret = 0;
out:
	free(arr);
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_snapshot_import(struct store *s, int64_t target_id, const char *hash,
    const char *config_json, size_t config_len, int64_t at, int64_t *snapshot_id, struct err *e)
{
	static const char *const sqls[] = {
		"SELECT 1 FROM targets WHERE id = ?1",
		"INSERT INTO documents (hash, body, size, created_at) VALUES (?2, ?3, ?4, ?5)"
		" ON CONFLICT (hash) DO NOTHING",
		"INSERT INTO snapshots (target_id, hash, first_seen, last_seen, imported)"
		" VALUES (?1, ?2, ?5, ?5, 1)",
	};
	const char *what = "recording an imported snapshot";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	size_t i;
	int rc, ret = -1, in_tx = 0;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	if (store_sqlite_exec(db, "BEGIN IMMEDIATE", what, e) < 0)
		goto out;
	in_tx = 1;
	for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		rc = sqlite3_prepare_v2(db, sqls[i], -1, &st, NULL);
		if (rc != SQLITE_OK) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		/* Each statement binds only the parameters it names. */
		if (sqlite3_bind_parameter_index(st, "?1") > 0)
			sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "?1"), target_id);
		if (sqlite3_bind_parameter_index(st, "?2") > 0)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, "?2"), hash, -1, SQLITE_TRANSIENT);
		if (sqlite3_bind_parameter_index(st, "?3") > 0)
			sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, "?3"), config_json, (int)config_len,
			    SQLITE_TRANSIENT);
		if (sqlite3_bind_parameter_index(st, "?4") > 0)
			sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "?4"), (sqlite3_int64)config_len);
		if (sqlite3_bind_parameter_index(st, "?5") > 0)
			sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, "?5"), at);
		rc = sqlite3_step(st);
		if (i == 0 && rc == SQLITE_DONE) {
			ret = err_set(e, ERR_NOT_FOUND, "no target with id %lld", (long long)target_id);
			goto out;
		}
		if (rc != (i == 0 ? SQLITE_ROW : SQLITE_DONE)) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	*snapshot_id = sqlite3_last_insert_rowid(db);
	if (store_sqlite_exec(db, "COMMIT", what, e) < 0)
		goto out;
	in_tx = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (ret < 0)
		*snapshot_id = 0;
	return ret;
}

int
store_sqlite_snapshot_is_imported(struct store *s, int64_t id, int *imported, struct err *e)
{
	static const char sql[] = "SELECT imported FROM snapshots WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading a snapshot", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no snapshot with id %lld", (long long)id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a snapshot");
		goto out;
	}
	*imported = sqlite3_column_int(st, 0) != 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
