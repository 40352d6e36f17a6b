/*
 * store_sqlite_token.c - the api_tokens table in SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

/* Fills a token from the columns id, name, role, created_at, last_used_at, revoked_at. */
static void
row_to_token(sqlite3_stmt *st, struct store_token *t)
{
	const char *name = (const char *)sqlite3_column_text(st, 1);
	const char *role = (const char *)sqlite3_column_text(st, 2);

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	snprintf(t->name, sizeof(t->name), "%s", name != NULL ? name : "");
	t->role = store_role_parse(role);
	t->created_at = sqlite3_column_int64(st, 3);
	t->last_used_at = sqlite3_column_int64(st, 4);
	t->revoked = sqlite3_column_type(st, 5) != SQLITE_NULL;
}

int
store_sqlite_token_insert(struct store *s, struct store_token_row *row, struct err *e)
{
	static const char sql[] =
		"INSERT INTO api_tokens (public_id, name, role, secret_sha256, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "creating a token");
		goto out;
	}
	sqlite3_bind_text(st, 1, row->public_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, row->tok.name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, store_role_name(row->tok.role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->secret_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, row->tok.created_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		ret = err_set(e, ERR_CONFLICT, "an active token named '%s' exists already", row->tok.name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "creating a token");
		goto out;
	}
	row->tok.id = sqlite3_last_insert_rowid(db);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_token_find(struct store *s, const char *public_id, struct store_token_row *row,
    struct err *e)
{
	static const char sql[] =
		"SELECT id, name, role, created_at, last_used_at, revoked_at, secret_sha256"
		" FROM api_tokens WHERE public_id = ?1";
	sqlite3_stmt *st = NULL;
	const char *hash;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "checking a token");
		goto out;
	}
	sqlite3_bind_text(st, 1, public_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no such token");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "checking a token");
		goto out;
	}
	row_to_token(st, &row->tok);
	snprintf(row->public_id, sizeof(row->public_id), "%s", public_id);
	hash = (const char *)sqlite3_column_text(st, 6);
	snprintf(row->secret_hash, sizeof(row->secret_hash), "%s", hash != NULL ? hash : "");
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_token_touch(struct store *s, int64_t id, int64_t now, struct err *e)
{
	/* The WHERE clause repeats the once-a-minute rule, so threads racing on
	 * the same token write at most once. */
	static const char sql[] =
		"UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"
		" AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3 OR last_used_at > ?2)";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "recording token use");
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, TOKEN_TOUCH_INTERVAL_S);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "recording token use");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_token_list(struct store *s, struct store_token **items, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT id, name, role, created_at, last_used_at, revoked_at"
		" FROM api_tokens ORDER BY created_at DESC, id DESC";
	struct store_token *list = NULL, *grown;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "listing tokens");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing tokens");
				goto out;
			}
			list = grown;
		}
		row_to_token(st, &list[count++]);
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing tokens");
		goto out;
	}
	*items = list;
	*n = count;
	list = NULL;
	ret = 0;
out:
	free(list);
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_token_revoke(struct store *s, const char *name, int64_t now, struct err *e)
{
	static const char sql[] =
		"UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "revoking a token");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "revoking a token");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no active token named '%s'", name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
