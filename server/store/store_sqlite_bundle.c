/*
 * store_sqlite_bundle.c - the bundles table in SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

#define BUNDLE_COLUMNS \
	"b.rowid, b.id, coalesce(b.target_id, 0), b.target, coalesce(b.from_snapshot_id, 0)," \
	" b.to_snapshot_id, b.file, b.size, b.sha256, b.created_at, b.created_by"

static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(out, outsz, "%s", t != NULL ? t : "");
}

/* Fills b from a row of BUNDLE_COLUMNS (and meta_json at column 11 when with_meta). */
static int
row_to_bundle(sqlite3_stmt *st, struct store_bundle *b, int with_meta, struct err *e)
{
	memset(b, 0, sizeof(*b));
	b->seq = sqlite3_column_int64(st, 0);
	col_copy(st, 1, b->id, sizeof(b->id));
	b->target_id = sqlite3_column_int64(st, 2);
	col_copy(st, 3, b->target, sizeof(b->target));
	b->from_snapshot_id = sqlite3_column_int64(st, 4);
	b->to_snapshot_id = sqlite3_column_int64(st, 5);
	col_copy(st, 6, b->file, sizeof(b->file));
	b->size = sqlite3_column_int64(st, 7);
	col_copy(st, 8, b->sha256, sizeof(b->sha256));
	b->created_at = sqlite3_column_int64(st, 9);
	col_copy(st, 10, b->created_by, sizeof(b->created_by));
	if (with_meta) {
		const char *m = (const char *)sqlite3_column_text(st, 11);

		b->meta_json = strdup(m != NULL ? m : "{}");
		if (b->meta_json == NULL)
			return err_set(e, ERR_NOMEM, "out of memory reading bundle '%s'", b->id);
	}
	return 0;
}

int
store_sqlite_bundle_insert(struct store *s, struct store_bundle *b, struct err *e)
{
	static const char sql[] =
		"INSERT INTO bundles (id, target_id, target, from_snapshot_id, to_snapshot_id, file, size,"
		" sha256, created_at, created_by, meta_json)"
		" VALUES (?1, nullif(?2, 0), ?3, nullif(?4, 0), ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	if ((db = store_sqlite_db(s, e)) == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "recording a bundle");
		goto out;
	}
	sqlite3_bind_text(st, 1, b->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, b->target_id);
	sqlite3_bind_text(st, 3, b->target, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, b->from_snapshot_id);
	sqlite3_bind_int64(st, 5, b->to_snapshot_id);
	sqlite3_bind_text(st, 6, b->file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, b->size);
	sqlite3_bind_text(st, 8, b->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, b->created_at);
	sqlite3_bind_text(st, 10, b->created_by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 11, b->meta_json != NULL ? b->meta_json : "{}", -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
		ret = err_set(e, ERR_CONFLICT, "a bundle with id '%s' exists already", b->id);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "recording a bundle");
		goto out;
	}
	b->seq = sqlite3_last_insert_rowid(db);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_bundle_get(struct store *s, const char *id, struct store_bundle *out, struct err *e)
{
	static const char sql[] = "SELECT " BUNDLE_COLUMNS ", b.meta_json FROM bundles b WHERE b.id = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	if ((db = store_sqlite_db(s, e)) == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "reading a bundle");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no such bundle");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a bundle");
		goto out;
	}
	ret = row_to_bundle(st, out, 1, e);
out:
	sqlite3_finalize(st);
	return ret;
}

/* Runs a SELECT of BUNDLE_COLUMNS with ?1 and ?2 bound as integers and collects the rows. */
static int
bundle_rows(struct store *s, const char *sql, int64_t a, int64_t b, struct store_bundle **items,
    size_t *n, struct err *e)
{
	struct store_bundle *v = NULL, *nv;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	size_t cnt = 0, cap = 0;
	int rc, ret = -1;

	*items = NULL;
	*n = 0;
	if ((db = store_sqlite_db(s, e)) == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "listing bundles");
		goto out;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing bundles");
				goto out;
			}
			v = nv;
		}
		if (row_to_bundle(st, &v[cnt], 0, e) < 0)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing bundles");
		goto out;
	}
	*items = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	store_bundles_free(v, cnt);
	return ret;
}

int
store_sqlite_bundle_list(struct store *s, int64_t before, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " BUNDLE_COLUMNS " FROM bundles b"
		" WHERE (?1 = 0 OR b.rowid < ?1) ORDER BY b.rowid DESC LIMIT ?2";

	return bundle_rows(s, sql, before, (int64_t)limit, items, n, e);
}

int
store_sqlite_bundle_expired(struct store *s, int64_t older_than, size_t limit,
    struct store_bundle **items, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " BUNDLE_COLUMNS " FROM bundles b"
		" WHERE b.created_at < ?1 ORDER BY b.created_at, b.rowid LIMIT ?2";

	return bundle_rows(s, sql, older_than, (int64_t)limit, items, n, e);
}

int
store_sqlite_bundle_delete(struct store *s, const char *id, struct err *e)
{
	static const char sql[] = "DELETE FROM bundles WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	if ((db = store_sqlite_db(s, e)) == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "deleting a bundle");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "deleting a bundle");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no such bundle");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
