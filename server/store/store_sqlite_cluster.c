/*
 * store_sqlite_cluster.c - the clusters table in SQLite.
 *
 * Sealed blobs are bound as BLOBs with SQLITE_TRANSIENT (SQLite copies them)
 * and copied out byte for byte; they are never turned into text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

#define CLUSTER_COLUMNS \
	"id, name, server, insecure_skip_tls_verify, ca_pem, namespaces_json, label_selector," \
	" auth_kind, sealed_auth, prometheus_url, sealed_prometheus_token, created_at, updated_at," \
	" last_pull_at, last_success_at, last_duration_ms, last_error, server_version"

/* A malloc'd copy of a text column, or NULL when it is NULL. *oom is set when a copy fails. */
static char *
col_text(sqlite3_stmt *st, int i, int *oom)
{
	const unsigned char *t;
	char *p;
	int n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	t = sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	if (t == NULL) {
		*oom = 1;
		return NULL;
	}
	p = malloc((size_t)n + 1);
	if (p == NULL) {
		*oom = 1;
		return NULL;
	}
	memcpy(p, t, (size_t)n);
	p[n] = '\0';
	return p;
}

/* A malloc'd copy of a blob column into *out / *len; NULL and 0 when NULL or empty. */
static void
col_blob(sqlite3_stmt *st, int i, unsigned char **out, size_t *len, int *oom)
{
	const void *b;
	int n;

	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return;
	b = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	if (n == 0)
		return;
	if (b == NULL || (*out = malloc((size_t)n)) == NULL) {
		*oom = 1;
		return;
	}
	memcpy(*out, b, (size_t)n);
	*len = (size_t)n;
}

/* Fills c from a row of CLUSTER_COLUMNS. Returns 0, or -1 with e set (c released). */
static int
row_to_cluster(sqlite3_stmt *st, struct store_cluster *c, struct err *e)
{
	const char *name = (const char *)sqlite3_column_text(st, 1);
	int oom = 0;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	snprintf(c->name, sizeof(c->name), "%s", name != NULL ? name : "");
	c->server = col_text(st, 2, &oom);
	c->insecure_skip_tls_verify = sqlite3_column_int(st, 3) != 0;
	c->ca_pem = col_text(st, 4, &oom);
	c->namespaces_json = col_text(st, 5, &oom);
	c->label_selector = col_text(st, 6, &oom);
	c->auth_kind = col_text(st, 7, &oom);
	col_blob(st, 8, &c->sealed_auth, &c->sealed_auth_len, &oom);
	c->prometheus_url = col_text(st, 9, &oom);
	col_blob(st, 10, &c->sealed_prometheus_token, &c->sealed_prometheus_token_len, &oom);
	c->created_at = sqlite3_column_int64(st, 11);
	c->updated_at = sqlite3_column_int64(st, 12);
	c->last_pull_at = sqlite3_column_int64(st, 13);
	c->last_success_at = sqlite3_column_int64(st, 14);
	c->last_duration_ms = sqlite3_column_int64(st, 15);
	c->last_error = col_text(st, 16, &oom);
	c->server_version = col_text(st, 17, &oom);
	if (oom) {
		store_cluster_release(c);
		return err_set(e, ERR_NOMEM, "out of memory reading cluster '%s'", name != NULL ? name : "");
	}
	return 0;
}

static void
bind_blob_or_null(sqlite3_stmt *st, int i, const unsigned char *p, size_t n)
{
	if (p == NULL || n == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_TRANSIENT);
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *p)
{
	if (p == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, p, -1, SQLITE_TRANSIENT);
}

/* Binds the configuration fields to ?2..?11 (?1 is the name in both statements). */
static void
bind_config(sqlite3_stmt *st, const struct store_cluster *c)
{
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->server, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, c->insecure_skip_tls_verify != 0);
	bind_text_or_null(st, 4, c->ca_pem);
	sqlite3_bind_text(st, 5, c->namespaces_json != NULL ? c->namespaces_json : "[]", -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, c->label_selector != NULL ? c->label_selector : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, c->auth_kind, -1, SQLITE_TRANSIENT);
	bind_blob_or_null(st, 8, c->sealed_auth, c->sealed_auth_len);
	bind_text_or_null(st, 9, c->prometheus_url);
	bind_blob_or_null(st, 10, c->sealed_prometheus_token, c->sealed_prometheus_token_len);
}

int
store_sqlite_cluster_insert(struct store *s, struct store_cluster *c, struct err *e)
{
	static const char sql[] =
		"INSERT INTO clusters (name, server, insecure_skip_tls_verify, ca_pem, namespaces_json,"
		" label_selector, auth_kind, sealed_auth, prometheus_url, sealed_prometheus_token,"
		" created_at, updated_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "registering a cluster");
		goto out;
	}
	bind_config(st, c);
	sqlite3_bind_int64(st, 11, c->created_at);
	sqlite3_bind_int64(st, 12, c->updated_at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		ret = err_set(e, ERR_CONFLICT, "a cluster named '%s' exists already", c->name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "registering a cluster");
		goto out;
	}
	c->id = sqlite3_last_insert_rowid(db);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_cluster_update(struct store *s, const struct store_cluster *c, int64_t now,
    struct err *e)
{
	static const char sql[] =
		"UPDATE clusters SET server = ?2, insecure_skip_tls_verify = ?3, ca_pem = ?4,"
		" namespaces_json = ?5, label_selector = ?6, auth_kind = ?7, sealed_auth = ?8,"
		" prometheus_url = ?9, sealed_prometheus_token = ?10, updated_at = ?11"
		" WHERE name = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "changing a cluster");
		goto out;
	}
	bind_config(st, c);
	sqlite3_bind_int64(st, 11, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "changing a cluster");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", c->name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_cluster_get(struct store *s, const char *name, struct store_cluster *out,
    struct err *e)
{
	static const char sql[] = "SELECT " CLUSTER_COLUMNS " FROM clusters WHERE name = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "reading a cluster");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a cluster");
		goto out;
	}
	ret = row_to_cluster(st, out, e);
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_cluster_list(struct store *s, struct store_cluster **items, size_t *n, struct err *e)
{
	static const char sql[] = "SELECT " CLUSTER_COLUMNS " FROM clusters ORDER BY name";
	struct store_cluster *list = NULL, *grown;
	size_t count = 0, cap = 0, i;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "listing clusters");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing clusters");
				goto out;
			}
			list = grown;
		}
		if (row_to_cluster(st, &list[count], e) < 0)
			goto out;
		count++;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing clusters");
		goto out;
	}
	*items = list;
	*n = count;
	list = NULL;
	count = 0;
	ret = 0;
out:
	for (i = 0; i < count; i++)
		store_cluster_release(&list[i]);
	free(list);
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_cluster_delete(struct store *s, const char *name, struct err *e)
{
	static const char del_sql[] = "DELETE FROM clusters WHERE name = ?1";
	/* The cascade removed the cluster's snapshots; documents only they used go too. */
	static const char orphans_sql[] =
		"DELETE FROM documents WHERE NOT EXISTS"
		" (SELECT 1 FROM snapshots WHERE snapshots.hash = documents.hash)";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1, in_tx = 0;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	if (store_sqlite_exec(db, "BEGIN IMMEDIATE", "deleting a cluster", e) < 0)
		goto out;
	in_tx = 1;
	rc = sqlite3_prepare_v2(db, del_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "deleting a cluster");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "deleting a cluster");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", name);
		goto out;
	}
	if (store_sqlite_exec(db, orphans_sql, "deleting a cluster's documents", e) < 0)
		goto out;
	if (store_sqlite_exec(db, "COMMIT", "deleting a cluster", e) < 0)
		goto out;
	in_tx = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int
store_sqlite_cluster_health(struct store *s, const char *name, int64_t pull_at, int ok,
    const char *error, int64_t duration_ms, const char *server_version, struct err *e)
{
	/* A failed pull keeps the last known server version and success time. */
	static const char sql[] =
		"UPDATE clusters SET last_pull_at = ?2,"
		" last_success_at = CASE WHEN ?3 = 1 THEN ?2 ELSE last_success_at END,"
		" last_duration_ms = ?4, last_error = ?5,"
		" server_version = COALESCE(?6, server_version)"
		" WHERE name = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "recording cluster health");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, pull_at);
	sqlite3_bind_int(st, 3, ok);
	sqlite3_bind_int64(st, 4, duration_ms);
	bind_text_or_null(st, 5, error);
	bind_text_or_null(st, 6, server_version != NULL && server_version[0] != '\0' ? server_version : NULL);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "recording cluster health");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
