/*
 * store_sqlite_snapshot.c - the targets, documents, snapshots and evidence
 * tables in SQLite.
 *
 * A target's latest snapshot is the one with the highest id (snapshot ids only
 * grow), found through the (target_id, id) index rather than kept in a column
 * that would have to follow every insert and prune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

#define TARGET_COLUMNS \
	"t.id, c.name, t.namespace, t.kind, t.name, t.first_seen, t.last_seen, t.gone," \
	" (SELECT max(sn.id) FROM snapshots sn WHERE sn.target_id = t.id AND sn.imported = 0)"
#define TARGET_FROM " FROM targets t JOIN clusters c ON c.id = t.cluster_id"

#define SNAPSHOT_COLUMNS "s.id, s.target_id, s.hash, s.first_seen, s.last_seen, d.size, s.imported"
#define SNAPSHOT_FROM " FROM snapshots s JOIN documents d ON d.hash = s.hash"

static void
copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(out, n, "%s", t != NULL ? t : "");
}

static void
row_to_target(sqlite3_stmt *st, struct store_target *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, t->cluster, sizeof(t->cluster));
	copy_col(st, 2, t->ns, sizeof(t->ns));
	copy_col(st, 3, t->kind, sizeof(t->kind));
	copy_col(st, 4, t->name, sizeof(t->name));
	t->first_seen = sqlite3_column_int64(st, 5);
	t->last_seen = sqlite3_column_int64(st, 6);
	t->gone = sqlite3_column_int(st, 7) != 0;
	t->latest_snapshot_id = sqlite3_column_int64(st, 8);
}

static void
row_to_snapshot(sqlite3_stmt *st, struct store_snapshot *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	m->target_id = sqlite3_column_int64(st, 1);
	copy_col(st, 2, m->hash, sizeof(m->hash));
	m->first_seen = sqlite3_column_int64(st, 3);
	m->last_seen = sqlite3_column_int64(st, 4);
	m->size = sqlite3_column_int64(st, 5);
	m->imported = sqlite3_column_int(st, 6) != 0;
}

/* A malloc'd NUL-terminated copy of a text column ("" for NULL). */
static char *
dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	char *p;

	p = malloc((size_t)n + 1);
	if (p == NULL)
		return NULL;
	if (t != NULL && n > 0)
		memcpy(p, t, (size_t)n);
	p[n] = '\0';
	return p;
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

/* The id of the cluster called `name`; ERR_NOT_FOUND when none. */
static int
cluster_id(sqlite3 *db, const char *name, int64_t *id, struct err *e)
{
	static const char sql[] = "SELECT id FROM clusters WHERE name = ?1";
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "finding a cluster");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "finding a cluster");
		goto out;
	}
	*id = sqlite3_column_int64(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_target_upsert(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, int64_t seen_at, int64_t *id, struct err *e)
{
	/* A late, out-of-order report never moves last_seen backwards. */
	static const char sql[] =
		"INSERT INTO targets (cluster_id, namespace, kind, name, first_seen, last_seen, gone)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)"
		" ON CONFLICT (cluster_id, namespace, kind, name) DO UPDATE SET"
		" last_seen = max(last_seen, excluded.last_seen),"
		" first_seen = min(first_seen, excluded.first_seen), gone = 0"
		" RETURNING id";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int64_t cid = 0;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "recording a target", e);
	if (st == NULL)
		return -1;
	if (cluster_id(db, cluster, &cid, e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, seen_at);
	rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		/* The cluster was deleted between the lookup and the insert. */
		ret = err_set(e, ERR_NOT_FOUND, "no cluster named '%s'", cluster);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "recording a target");
		goto out;
	}
	if (id != NULL)
		*id = sqlite3_column_int64(st, 0);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "recording a target");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_target_get(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, struct store_target *out, struct err *e)
{
	static const char sql[] =
		"SELECT " TARGET_COLUMNS TARGET_FROM
		" WHERE c.name = ?1 AND t.namespace = ?2 AND t.kind = ?3 AND t.name = ?4";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading a target", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ns, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no target %s/%s/%s/%s", cluster, ns, kind, name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a target");
		goto out;
	}
	row_to_target(st, out);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_target_get_by_id(struct store *s, int64_t id, struct store_target *out, struct err *e)
{
	static const char sql[] = "SELECT " TARGET_COLUMNS TARGET_FROM " WHERE t.id = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading a target", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no target with id %lld", (long long)id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading a target");
		goto out;
	}
	row_to_target(st, out);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_target_list(struct store *s, const char *cluster, struct store_target **items,
    size_t *n, struct err *e)
{
	/* ?1 NULL lists every cluster's targets. */
	static const char sql[] =
		"SELECT " TARGET_COLUMNS TARGET_FROM
		" WHERE ?1 IS NULL OR c.name = ?1"
		" ORDER BY c.name, t.namespace, t.kind, t.name";
	struct store_target *list = NULL, *grown;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int64_t cid;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "listing targets", e);
	if (st == NULL)
		return -1;
	if (cluster != NULL) {
		if (cluster_id(db, cluster, &cid, e) < 0)
			goto out;
		sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing targets");
				goto out;
			}
			list = grown;
		}
		row_to_target(st, &list[count++]);
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing targets");
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
store_sqlite_target_mark_gone(struct store *s, const char *cluster, int64_t discovered_at,
    struct err *e)
{
	static const char sql[] =
		"UPDATE targets SET gone = CASE WHEN last_seen < ?2 THEN 1 ELSE 0 END"
		" WHERE cluster_id = ?1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int64_t cid = 0;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "marking gone targets", e);
	if (st == NULL)
		return -1;
	if (cluster_id(db, cluster, &cid, e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, discovered_at);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "marking gone targets");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Runs a prepared statement that returns no rows, then finalizes it. */
static int
step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, e, what);
	return 0;
}

int
store_sqlite_snapshot_record(struct store *s, int64_t target_id, const char *hash,
    const char *config_json, size_t config_len, const char *evidence_json, size_t evidence_len,
    int64_t taken_at, int64_t *snapshot_id, int *changed, struct err *e)
{
	static const char target_sql[] = "SELECT 1 FROM targets WHERE id = ?1";
	static const char latest_sql[] =
		"SELECT id, hash FROM snapshots WHERE target_id = ?1 AND imported = 0 ORDER BY id DESC LIMIT 1";
	static const char seen_sql[] =
		"UPDATE snapshots SET last_seen = max(last_seen, ?2) WHERE id = ?1";
	static const char doc_sql[] =
		"INSERT INTO documents (hash, body, size, created_at) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (hash) DO NOTHING";
	static const char snap_sql[] =
		"INSERT INTO snapshots (target_id, hash, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)";
	static const char ev_sql[] =
		"INSERT INTO evidence (target_id, snapshot_id, taken_at, body) VALUES (?1, ?2, ?3, ?4)";
	const char *what = "recording a snapshot";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int64_t sid = 0;
	int rc, ret = -1, in_tx = 0, same = 0;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	/* IMMEDIATE: two pulls of the same target cannot both decide "changed". */
	if (store_sqlite_exec(db, "BEGIN IMMEDIATE", what, e) < 0)
		goto out;
	in_tx = 1;

	rc = sqlite3_prepare_v2(db, target_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_bind_int64(st, 1, target_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no target with id %lld", (long long)target_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_finalize(st);

	st = NULL;
	rc = sqlite3_prepare_v2(db, latest_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_bind_int64(st, 1, target_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *have = (const char *)sqlite3_column_text(st, 1);
		if (have != NULL && strcmp(have, hash) == 0) {
			same = 1;
			sid = sqlite3_column_int64(st, 0);
		}
	} else if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (same) {
		rc = sqlite3_prepare_v2(db, seen_sql, -1, &st, NULL);
		if (rc != SQLITE_OK) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		sqlite3_bind_int64(st, 1, sid);
		sqlite3_bind_int64(st, 2, taken_at);
		rc = step_done(db, st, what, e);
		st = NULL;
		if (rc < 0)
			goto out;
	} else {
		rc = sqlite3_prepare_v2(db, doc_sql, -1, &st, NULL);
		if (rc != SQLITE_OK) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text64(st, 2, config_json, (sqlite3_uint64)config_len, SQLITE_TRANSIENT,
		    SQLITE_UTF8);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)config_len);
		sqlite3_bind_int64(st, 4, store_now());
		rc = step_done(db, st, what, e);
		st = NULL;
		if (rc < 0)
			goto out;
		rc = sqlite3_prepare_v2(db, snap_sql, -1, &st, NULL);
		if (rc != SQLITE_OK) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		sqlite3_bind_int64(st, 1, target_id);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, taken_at);
		rc = step_done(db, st, what, e);
		st = NULL;
		if (rc < 0)
			goto out;
		sid = sqlite3_last_insert_rowid(db);
	}

	rc = sqlite3_prepare_v2(db, ev_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, sid);
	sqlite3_bind_int64(st, 3, taken_at);
	sqlite3_bind_text64(st, 4, evidence_json, (sqlite3_uint64)evidence_len, SQLITE_TRANSIENT,
	    SQLITE_UTF8);
	rc = step_done(db, st, what, e);
	st = NULL;
	if (rc < 0)
		goto out;
	if (store_sqlite_exec(db, "COMMIT", what, e) < 0)
		goto out;
	in_tx = 0;
	*snapshot_id = sid;
	*changed = !same;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int
store_sqlite_snapshot_get(struct store *s, int64_t id, struct store_snapshot *meta,
    char **config_json, struct err *e)
{
	static const char sql[] = "SELECT " SNAPSHOT_COLUMNS ", d.body" SNAPSHOT_FROM " WHERE s.id = ?1";
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
	row_to_snapshot(st, meta);
	if (config_json != NULL) {
		*config_json = dup_col(st, 7);
		if (*config_json == NULL) {
			ret = err_set(e, ERR_NOMEM, "out of memory reading snapshot %lld", (long long)id);
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_snapshot_list(struct store *s, int64_t target_id, int64_t before_id, size_t limit,
    struct store_snapshot **items, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT " SNAPSHOT_COLUMNS SNAPSHOT_FROM
		" WHERE s.target_id = ?1 AND (?2 <= 0 OR s.id < ?2)"
		" ORDER BY s.id DESC LIMIT ?3";
	struct store_snapshot *list = NULL;
	size_t count = 0;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc = SQLITE_DONE, ret = -1;

	st = prepare(s, &db, sql, "listing snapshots", e);
	if (st == NULL)
		return -1;
	list = calloc(limit > 0 ? limit : 1, sizeof(*list));
	if (list == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory listing snapshots");
		goto out;
	}
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, before_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while (count < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		row_to_snapshot(st, &list[count++]);
	if (count < limit && rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "listing snapshots");
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
store_sqlite_evidence_latest(struct store *s, int64_t target_id, char **evidence_json,
    int64_t *taken_at, struct err *e)
{
	static const char sql[] =
		"SELECT body, taken_at FROM evidence WHERE target_id = ?1"
		" ORDER BY taken_at DESC, id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading evidence", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no evidence for target %lld", (long long)target_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading evidence");
		goto out;
	}
	*evidence_json = dup_col(st, 0);
	if (*evidence_json == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory reading evidence");
		goto out;
	}
	if (taken_at != NULL)
		*taken_at = sqlite3_column_int64(st, 1);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_evidence_before(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t at,
    struct store_evidence *out, struct err *e)
{
	static const char sql[] =
		"SELECT id, snapshot_id, taken_at, body FROM evidence"
		" WHERE target_id = ?1 AND snapshot_id = ?2 AND taken_at <= ?3"
		" ORDER BY taken_at DESC, id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int rc, ret = -1;

	st = prepare(s, &db, sql, "reading evidence", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, snapshot_id);
	sqlite3_bind_int64(st, 3, at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = err_set(e, ERR_NOT_FOUND, "no evidence of snapshot %lld before %lld",
		    (long long)snapshot_id, (long long)at);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading evidence");
		goto out;
	}
	out->id = sqlite3_column_int64(st, 0);
	out->snapshot_id = sqlite3_column_int64(st, 1);
	out->taken_at = sqlite3_column_int64(st, 2);
	out->json = dup_col(st, 3);
	if (out->json == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory reading evidence");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Steps st to its end, each row (id, snapshot_id, taken_at, text) one item. */
static int
evidence_rows(sqlite3 *db, sqlite3_stmt *st, struct store_evidence **items, size_t *n, struct err *e)
{
	struct store_evidence *list = NULL, *grown;
	size_t count = 0, cap = 0;
	int rc, ret = -1;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory reading evidence");
				goto out;
			}
			list = grown;
		}
		list[count].id = sqlite3_column_int64(st, 0);
		list[count].snapshot_id = sqlite3_column_int64(st, 1);
		list[count].taken_at = sqlite3_column_int64(st, 2);
		list[count].json = dup_col(st, 3);
		if (list[count].json == NULL) {
			ret = err_set(e, ERR_NOMEM, "out of memory reading evidence");
			goto out;
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "reading evidence");
		goto out;
	}
	*items = list;
	*n = count;
	list = NULL;
	count = 0;
	ret = 0;
out:
	store_evidence_free(list, count);
	return ret;
}

int
store_sqlite_evidence_range(struct store *s, int64_t target_id, int64_t since, int64_t until,
    size_t limit, struct store_evidence **items, size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT id, snapshot_id, taken_at, body FROM evidence"
		" WHERE target_id = ?1 AND taken_at >= ?2 AND (?3 = 0 OR taken_at <= ?3)"
		" ORDER BY taken_at, id LIMIT ?4";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int ret;

	st = prepare(s, &db, sql, "reading evidence", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int64(st, 3, until);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
	ret = evidence_rows(db, st, items, n, e);
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_evidence_figures(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t since,
    int64_t until, size_t limit, struct store_evidence **items, size_t *n, struct err *e)
{
	/* SQLite's JSON functions pick the figures out of each body, so the
	 * logs, events and samples beside them never reach this process's heap. */
	static const char sql[] =
		"SELECT id, snapshot_id, taken_at,"
		" CASE WHEN json_valid(body) THEN"
		"  (SELECT json_group_array(json_extract(value, '$.figures'))"
		"   FROM json_each(evidence.body, '$.scrapes'))"
		" ELSE '[]' END"
		" FROM evidence"
		" WHERE target_id = ?1 AND snapshot_id = ?2 AND taken_at >= ?3 AND (?4 = 0 OR taken_at <= ?4)"
		" ORDER BY taken_at, id LIMIT ?5";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int ret;

	st = prepare(s, &db, sql, "reading evidence figures", e);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, target_id);
	sqlite3_bind_int64(st, 2, snapshot_id);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, until);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)limit);
	ret = evidence_rows(db, st, items, n, e);
	sqlite3_finalize(st);
	return ret;
}

int
store_sqlite_prune(struct store *s, int64_t older_than, int64_t *removed, struct err *e)
{
	static const char *const sqls[] = {
		"DELETE FROM evidence WHERE taken_at < ?1",
		/* Each target keeps its latest snapshot however old it is: it is what
		 * the target looks like now. Evidence of a removed snapshot goes with it.
		 * Snapshots a baseline points at (0004_baselines.sql) are kept too. */
		"DELETE FROM snapshots WHERE last_seen < ?1"
		" AND id NOT IN (SELECT max(id) FROM snapshots WHERE imported = 0 GROUP BY target_id)"
		" AND id NOT IN (SELECT snapshot_id FROM baselines)",
		"DELETE FROM documents WHERE NOT EXISTS"
		" (SELECT 1 FROM snapshots WHERE snapshots.hash = documents.hash)",
	};
	const char *what = "pruning old history";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int64_t total = 0;
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
		if (sqlite3_bind_parameter_count(st) > 0)
			sqlite3_bind_int64(st, 1, older_than);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE) {
			ret = store_sqlite_err(db, rc, e, what);
			goto out;
		}
		total += sqlite3_changes(db);
	}
	if (store_sqlite_exec(db, "COMMIT", what, e) < 0)
		goto out;
	in_tx = 0;
	*removed = total;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
