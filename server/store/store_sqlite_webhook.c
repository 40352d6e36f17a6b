/*
 * store_sqlite_webhook.c - the webhooks and webhook_deliveries tables in
 * SQLite. Sealed blobs are bound as BLOBs and copied out byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

#define WEBHOOK_COLUMNS \
	"id, name, sealed_url, url_display, format, min_severity, sealed_secret, created_at," \
	" created_by, last_attempt_at, last_success_at, last_status, coalesce(last_error, '')," \
	" attempts, deliveries, failures"

static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outsz)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(out, outsz, "%s", t != NULL ? t : "");
}

static int
col_blob(sqlite3_stmt *st, int i, unsigned char **out, size_t *len)
{
	const void *b;
	int n;

	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	b = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	if (n == 0)
		return 0;
	if (b == NULL || (*out = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(*out, b, (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int
row_to_webhook(sqlite3_stmt *st, struct store_webhook *w, struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, w->name, sizeof(w->name));
	col_copy(st, 3, w->url_display, sizeof(w->url_display));
	col_copy(st, 4, w->format, sizeof(w->format));
	col_copy(st, 5, w->min_severity, sizeof(w->min_severity));
	w->created_at = sqlite3_column_int64(st, 7);
	col_copy(st, 8, w->created_by, sizeof(w->created_by));
	w->last_attempt_at = sqlite3_column_int64(st, 9);
	w->last_success_at = sqlite3_column_int64(st, 10);
	w->last_status = sqlite3_column_int(st, 11);
	col_copy(st, 12, w->last_error, sizeof(w->last_error));
	w->attempts = sqlite3_column_int64(st, 13);
	w->deliveries = sqlite3_column_int64(st, 14);
	w->failures = sqlite3_column_int64(st, 15);
	if (col_blob(st, 2, &w->sealed_url, &w->sealed_url_len) < 0 ||
	    col_blob(st, 6, &w->sealed_secret, &w->sealed_secret_len) < 0) {
		store_webhook_release(w);
		return err_set(e, ERR_NOMEM, "out of memory reading a webhook");
	}
	return 0;
}

/* Prepares sql on the calling thread's connection. */
static sqlite3_stmt *
prepare(struct store *s, const char *sql, const char *what, sqlite3 **dbp, struct err *e)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc;

	if ((db = store_sqlite_db(s, e)) == NULL)
		return NULL;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		store_sqlite_err(db, rc, e, what);
		return NULL;
	}
	*dbp = db;
	return st;
}

int
store_sqlite_webhook_insert(struct store *s, struct store_webhook *w, struct err *e)
{
	static const char sql[] =
		"INSERT INTO webhooks (name, sealed_url, url_display, format, min_severity, sealed_secret,"
		" created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	if ((st = prepare(s, sql, "adding a webhook", &db, e)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, w->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob64(st, 2, w->sealed_url, (sqlite3_uint64)w->sealed_url_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, w->url_display, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, w->format, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, w->min_severity, -1, SQLITE_TRANSIENT);
	if (w->sealed_secret != NULL)
		sqlite3_bind_blob64(st, 6, w->sealed_secret, (sqlite3_uint64)w->sealed_secret_len,
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(st, 7, w->created_at);
	sqlite3_bind_text(st, 8, w->created_by, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		ret = err_set(e, ERR_CONFLICT, "a webhook named '%s' exists already", w->name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "adding a webhook");
		goto out;
	}
	w->id = sqlite3_last_insert_rowid(db);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_webhook_get(struct store *s, const char *name, struct store_webhook *out, struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE name = ?1";
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	if ((st = prepare(s, sql, "reading a webhook", &db, e)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no webhook named '%.*s'", STORE_MAX_NAME, name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a webhook");
		goto out;
	}
	ret = row_to_webhook(st, out, e);
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_webhook_list(struct store *s, struct store_webhook **items, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks ORDER BY name";
	struct store_webhook *v = NULL, *nv;
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	size_t cnt = 0, cap = 0;
	int rc, ret = -1;

	*items = NULL;
	*n = 0;
	if ((st = prepare(s, sql, "listing webhooks", &db, e)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing webhooks");
				goto out;
			}
			v = nv;
		}
		if (row_to_webhook(st, &v[cnt], e) < 0)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing webhooks");
		goto out;
	}
	*items = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	store_webhooks_free(v, cnt);
	return ret;
}

int
store_sqlite_webhook_delete(struct store *s, const char *name, struct err *e)
{
	static const char sql[] = "DELETE FROM webhooks WHERE name = ?1";
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	if ((st = prepare(s, sql, "deleting a webhook", &db, e)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "deleting a webhook");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no webhook named '%.*s'", STORE_MAX_NAME, name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_webhook_claim(struct store *s, int64_t id, const char *drift_key, int64_t now,
    int *claimed, struct err *e)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO webhook_deliveries (webhook_id, drift_key, state, created_at, updated_at)"
		" SELECT id, ?2, 'pending', ?3, ?3 FROM webhooks WHERE id = ?1";
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	*claimed = 0;
	if ((st = prepare(s, sql, "claiming a webhook delivery", &db, e)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, drift_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "claiming a webhook delivery");
		goto out;
	}
	*claimed = sqlite3_changes(db) > 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_webhook_attempt(struct store *s, int64_t id, const char *drift_key, int ok, int status,
    const char *error, int final, int64_t now, struct err *e)
{
	static const char hook_sql[] =
		"UPDATE webhooks SET last_attempt_at = ?2, last_status = ?3,"
		" last_error = CASE WHEN ?4 THEN NULL ELSE ?5 END,"
		" last_success_at = CASE WHEN ?4 THEN ?2 ELSE last_success_at END,"
		" attempts = attempts + 1,"
		" deliveries = deliveries + (CASE WHEN ?4 THEN 1 ELSE 0 END),"
		" failures = failures + (CASE WHEN ?6 AND NOT ?4 THEN 1 ELSE 0 END)"
		" WHERE id = ?1";
	static const char del_sql[] =
		"UPDATE webhook_deliveries SET attempts = attempts + 1, updated_at = ?3,"
		" state = CASE WHEN ?4 THEN 'delivered' WHEN ?5 THEN 'failed' ELSE state END"
		" WHERE webhook_id = ?1 AND drift_key = ?2";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	if ((db = store_sqlite_db(s, e)) == NULL)
		return -1;
	if (store_sqlite_exec(db, "BEGIN IMMEDIATE", "recording a webhook delivery", e) < 0)
		return -1;
	if ((st = prepare(s, hook_sql, "recording a webhook delivery", &db, e)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, status);
	sqlite3_bind_int(st, 4, ok != 0);
	if (error != NULL)
		sqlite3_bind_text(st, 5, error, (int)strnlen(error, STORE_MAX_WEBHOOK_ERROR), SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(st, 5, "the delivery failed", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, final != 0);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		store_sqlite_err(db, rc, e, "recording a webhook delivery");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		err_set(e, ERR_NOT_FOUND, "the webhook was deleted during its delivery");
		goto out;
	}
	sqlite3_finalize(st);
	if ((st = prepare(s, del_sql, "recording a webhook delivery", &db, e)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, drift_key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, ok != 0);
	sqlite3_bind_int(st, 5, final != 0);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		store_sqlite_err(db, rc, e, "recording a webhook delivery");
		goto out;
	}
	if (store_sqlite_exec(db, "COMMIT", "recording a webhook delivery", e) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
