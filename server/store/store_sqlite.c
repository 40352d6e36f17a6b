/*
 * store_sqlite.c - the SQLite backend: connections (one per thread), the
 * settings every connection gets, and migrations. Token SQL is in
 * store_sqlite_token.c, cluster SQL in store_sqlite_cluster.c, target,
 * snapshot and evidence SQL in store_sqlite_snapshot.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

struct sqlite_store;

/* One thread's connection, on the store's list so store_close() can close it. */
struct sqlite_conn {
	sqlite3 *db;
	struct sqlite_store *owner;
	struct sqlite_conn *prev, *next;
};

struct sqlite_store {
	char *path;
	pthread_key_t key;          /* the calling thread's struct sqlite_conn */
	pthread_mutex_t mu;         /* guards conns and nconns */
	struct sqlite_conn *conns;
	size_t nconns;
};

int
store_sqlite_err(sqlite3 *db, int rc, struct err *e, const char *what)
{
	enum err_code code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = ERR_UNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		code = ERR_CONFLICT;
		break;
	case SQLITE_NOMEM:
		code = ERR_NOMEM;
		break;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		code = ERR_INTERNAL;
		break;
	default:
		code = ERR_IO;
		break;
	}
	return err_set(e, code, "%s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Creates `dir` and its parents (mode 0700) when missing. */
static int
mkdir_parents(const char *path, struct err *e)
{
	char tmp[4096];
	size_t len = strlen(path), i;

	if (len == 0 || len >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "database folder '%s' has a bad length", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return err_set(e, ERR_IO, "cannot create folder '%s': %s", tmp, strerror(errno));
		tmp[i] = path[i];
	}
	return 0;
}

/* Makes sure the database file exists with mode 0600 (it holds token hashes)
 * before SQLite opens it; SQLite gives -wal and -shm the same mode. */
static int
prepare_file(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd;

	if (slash != NULL && slash != path) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return err_set(e, ERR_INVALID, "database path '%s' is too long", path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (mkdir_parents(dir, e) < 0)
			return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot open database '%s': %s", path, strerror(errno));
	close(fd);
	return 0;
}

/*
 * Settings of every connection. synchronous=NORMAL: in WAL mode it cannot
 * corrupt the database and keeps every commit across a crash of skewd
 * itself; only a power loss or OS crash may roll back the last commits. That
 * is an acceptable trade for a service whose data is re-pulled from clusters,
 * and it saves an fsync per write. trusted_schema=OFF and defensive mode keep
 * a tampered database file from running unsafe functions or corrupting itself
 * through SQL; secure_delete=ON overwrites deleted rows, and
 * journal_size_limit truncates the -wal file after a checkpoint so neither
 * keeps old content or grows without bound.
 */
#define STR_(x) #x
#define STR(x) STR_(x)
static const char conn_pragmas_sql[] =
	"PRAGMA foreign_keys = ON;"
	"PRAGMA trusted_schema = OFF;"
	"PRAGMA secure_delete = ON;"
	"PRAGMA synchronous = NORMAL;"
	"PRAGMA cache_size = -" STR(STORE_CACHE_KIB) ";"
	"PRAGMA journal_size_limit = " STR(STORE_WAL_SIZE_LIMIT) ";";

static int
conn_open(const char *path, int readonly, sqlite3 **out, struct err *e)
{
	sqlite3 *db = NULL;
	int flags, rc, ret = -1;
	char what[600];

	*out = NULL;
	flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	snprintf(what, sizeof(what), "opening database '%s'", path);
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	/* skewd never attaches other databases or loads extensions. */
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	if ((rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL)) != SQLITE_OK ||
	    (rc = sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS)) != SQLITE_OK ||
	    (rc = sqlite3_exec(db, conn_pragmas_sql, NULL, NULL, NULL)) != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	*out = db;
	db = NULL;
	ret = 0;
out:
	sqlite3_close(db);
	return ret;
}

/* Runs when a thread that used the store exits: its connection goes away. */
static void
conn_destroy(void *p)
{
	struct sqlite_conn *c = p;
	struct sqlite_store *ss = c->owner;

	pthread_mutex_lock(&ss->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ss->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ss->nconns--;
	pthread_mutex_unlock(&ss->mu);
	sqlite3_close(c->db);
	free(c);
}

/* Puts db on the store's list as the calling thread's connection. Takes db. */
static int
conn_attach(struct sqlite_store *ss, sqlite3 *db, struct err *e)
{
	struct sqlite_conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sqlite3_close(db);
		return err_set(e, ERR_NOMEM, "out of memory opening a database connection");
	}
	c->db = db;
	c->owner = ss;
	pthread_mutex_lock(&ss->mu);
	c->next = ss->conns;
	if (ss->conns != NULL)
		ss->conns->prev = c;
	ss->conns = c;
	ss->nconns++;
	pthread_mutex_unlock(&ss->mu);
	if (pthread_setspecific(ss->key, c) != 0) {
		conn_destroy(c);
		return err_set(e, ERR_INTERNAL, "cannot keep the database connection of a thread");
	}
	return 0;
}

sqlite3 *
store_sqlite_db(struct store *s, struct err *e)
{
	struct sqlite_store *ss = s->impl;
	struct sqlite_conn *c;
	sqlite3 *db = NULL;
	size_t n;

	c = pthread_getspecific(ss->key);
	if (c != NULL)
		return c->db;
	pthread_mutex_lock(&ss->mu);
	n = ss->nconns;
	pthread_mutex_unlock(&ss->mu);
	if (n >= STORE_MAX_CONNECTIONS) {
		err_set(e, ERR_UNAVAILABLE, "too many database connections (%d)", STORE_MAX_CONNECTIONS);
		return NULL;
	}
	if (conn_open(ss->path, 0, &db, e) < 0)
		return NULL;
	if (conn_attach(ss, db, e) < 0)
		return NULL;
	return db;
}

int
store_sqlite_exec(sqlite3 *db, const char *sql, const char *what, struct err *e)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_err(db, rc, e, what);
	return 0;
}

static const char migrations_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" applied_at INTEGER NOT NULL)";

/* Refuses a database that records migrations this binary does not have. */
static int
check_known(sqlite3 *db, const struct store_mig *migs, size_t n, struct err *e)
{
	static const char sql[] = "SELECT version, name FROM schema_migrations ORDER BY version DESC";
	sqlite3_stmt *st = NULL;
	int rc, ret = -1, max_known = n > 0 ? migs[n - 1].version : 0;
	size_t i;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "reading applied migrations");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int v = sqlite3_column_int(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		for (i = 0; i < n && migs[i].version != v; i++)
			;
		if (i < n)
			continue;
		if (v > max_known)
			ret = err_set(e, ERR_CONFLICT,
			    "database is newer than this skewd (version %d); upgrade skewd", v);
		else
			ret = err_set(e, ERR_CONFLICT,
			    "database has migration %d '%s' that this skewd does not know", v,
			    name != NULL ? name : "");
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "reading applied migrations");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Applies one migration in its own transaction; a no-op when already applied
 * with the same checksum. *applied is set to 1 when it ran now. */
static int
apply_one(sqlite3 *db, const struct store_mig *m, int *applied, struct err *e)
{
	static const char find_sql[] = "SELECT sha256 FROM schema_migrations WHERE version = ?1";
	static const char record_sql[] =
		"INSERT INTO schema_migrations (version, name, sha256, applied_at)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = NULL;
	char *errmsg = NULL;
	int rc, ret = -1, in_tx = 0;
	char what[300];

	*applied = 0;
	snprintf(what, sizeof(what), "applying migration '%s'", m->file);
	/* IMMEDIATE takes the write lock now, so two skewd processes starting at
	 * once queue here (busy_timeout) instead of both applying. */
	if (store_sqlite_exec(db, "BEGIN IMMEDIATE", what, e) < 0)
		goto out;
	in_tx = 1;
	rc = sqlite3_prepare_v2(db, find_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_bind_int(st, 1, m->version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *have = (const char *)sqlite3_column_text(st, 0);
		if (have == NULL || strcmp(have, m->sha256) != 0) {
			ret = err_set(e, ERR_CONFLICT,
			    "migration '%s' was changed after it was applied (recorded sha256 %.12s..., "
			    "file has %.12s...); restore the file and add a new migration instead",
			    m->file, have != NULL ? have : "", m->sha256);
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
		in_tx = 0;
		ret = store_sqlite_exec(db, "COMMIT", what, e);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* The files are ours (compiled in or from the operator's folder): they
	 * are the one place where SQL text runs without parameters. */
	rc = sqlite3_exec(db, m->sql, NULL, NULL, &errmsg);
	if (rc != SQLITE_OK) {
		ret = err_set(e, ERR_IO, "%s: %s", what, errmsg != NULL ? errmsg : sqlite3_errstr(rc));
		goto out;
	}
	if (sqlite3_get_autocommit(db)) {
		in_tx = 0;
		ret = err_set(e, ERR_INVALID, "%s: it must not end the transaction itself", what);
		goto out;
	}
	rc = sqlite3_prepare_v2(db, record_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, m->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, store_now());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, what);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	in_tx = 0;
	if (store_sqlite_exec(db, "COMMIT", what, e) < 0)
		goto out;
	*applied = 1;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_free(errmsg);
	if (in_tx || (ret < 0 && !sqlite3_get_autocommit(db)))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int
migrate(sqlite3 *db, const char *path, const struct store_mig *migs, size_t n, struct err *e)
{
	size_t i, count = 0;
	int applied;

	if (store_sqlite_exec(db, migrations_table_sql, "creating the migrations table", e) < 0)
		return -1;
	if (check_known(db, migs, n, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (apply_one(db, &migs[i], &applied, e) < 0)
			return -1;
		if (applied) {
			log_info("applied migration %s to %s", migs[i].name, path);
			count++;
		}
	}
	if (count == 0)
		log_debug("database %s is up to date", path);
	return 0;
}

/* Switches the file to WAL (a persistent setting of the file) and checks it took. */
static int
set_wal(sqlite3 *db, const char *path, struct err *e)
{
	static const char sql[] = "PRAGMA journal_mode = WAL";
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "switching the database to WAL mode");
		goto out;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		ret = err_set(e, ERR_IO, "database '%s' cannot use WAL mode (it is in '%s' mode)",
		    path, mode != NULL ? mode : "unknown");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static void
sqlite_close(struct store *s)
{
	struct sqlite_store *ss = s->impl;
	struct sqlite_conn *c, *next;

	if (ss == NULL)
		return;
	pthread_setspecific(ss->key, NULL);
	/* Deleting the key first means no thread-exit destructor runs for it any more. */
	pthread_key_delete(ss->key);
	for (c = ss->conns; c != NULL; c = next) {
		next = c->next;
		sqlite3_close(c->db);
		free(c);
	}
	pthread_mutex_destroy(&ss->mu);
	free(ss->path);
	free(ss);
	s->impl = NULL;
}

static int
sqlite_open(struct store *s, const char *db_path, const struct store_mig *migs, size_t n,
    struct err *e)
{
	struct sqlite_store *ss = NULL;
	sqlite3 *db = NULL;
	int ret = -1;

	if (sqlite3_threadsafe() == 0) {
		ret = err_set(e, ERR_INTERNAL, "this SQLite library was built without thread support");
		goto out;
	}
	ss = calloc(1, sizeof(*ss));
	if (ss == NULL || (ss->path = strdup(db_path)) == NULL) {
		if (ss != NULL)
			free(ss);
		ss = NULL;
		ret = err_set(e, ERR_NOMEM, "out of memory opening the store");
		goto out;
	}
	if (pthread_key_create(&ss->key, conn_destroy) != 0) {
		free(ss->path);
		free(ss);
		ss = NULL;
		ret = err_set(e, ERR_INTERNAL, "cannot create a thread key for the store");
		goto out;
	}
	pthread_mutex_init(&ss->mu, NULL);
	s->impl = ss;
	if (prepare_file(db_path, e) < 0)
		goto out;
	if (conn_open(db_path, 0, &db, e) < 0)
		goto out;
	if (set_wal(db, db_path, e) < 0 || migrate(db, db_path, migs, n, e) < 0)
		goto out;
	if (conn_attach(ss, db, e) < 0) {
		db = NULL;
		goto out;
	}
	db = NULL;
	ret = 0;
out:
	sqlite3_close(db);
	if (ret < 0 && s->impl != NULL)
		sqlite_close(s);
	return ret;
}

static int
sqlite_ping(struct store *s, struct err *e)
{
	static const char sql[] = "SELECT count(*) FROM schema_migrations";
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, ret = -1;

	db = store_sqlite_db(s, e);
	if (db == NULL)
		return -1;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "checking the database");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int
sqlite_migration_status(const char *db_path, struct store_migration **items, size_t *n,
    struct err *e)
{
	static const char exists_sql[] =
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'";
	static const char list_sql[] =
		"SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY version";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct store_migration *list = *items, *grown;
	size_t count = *n, i;
	struct stat sb;
	int rc, ret = -1;

	if (stat(db_path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_IO, "cannot read database '%s': %s", db_path, strerror(errno));
	}
	if (conn_open(db_path, 1, &db, e) < 0)
		goto out;
	rc = sqlite3_prepare_v2(db, exists_sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = store_sqlite_err(db, rc, e, "reading the migrations table");
		goto out;
	}
	if (sqlite3_column_int(st, 0) == 0) {
		ret = 0;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(db, list_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = store_sqlite_err(db, rc, e, "reading the migrations table");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int v = sqlite3_column_int(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *sha = (const char *)sqlite3_column_text(st, 2);
		struct store_migration *m = NULL;

		for (i = 0; i < count; i++) {
			if (list[i].version == v)
				m = &list[i];
		}
		if (m == NULL) {
			grown = realloc(list, (count + 1) * sizeof(*list));
			if (grown == NULL) {
				ret = err_set(e, ERR_NOMEM, "out of memory listing migrations");
				goto out;
			}
			list = grown;
			*items = list;
			m = &list[count++];
			memset(m, 0, sizeof(*m));
			m->version = v;
			m->unknown = 1;
			snprintf(m->name, sizeof(m->name), "%s", name != NULL ? name : "");
			snprintf(m->sha256, sizeof(m->sha256), "%s", sha != NULL ? sha : "");
		} else if (sha == NULL || strcmp(sha, m->sha256) != 0) {
			m->modified = 1;
		}
		m->applied = 1;
		m->applied_at = sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_DONE) {
		ret = store_sqlite_err(db, rc, e, "reading the migrations table");
		goto out;
	}
	ret = 0;
out:
	*items = list;
	*n = count;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.ping = sqlite_ping,
	.migration_status = sqlite_migration_status,
	.token_insert = store_sqlite_token_insert,
	.token_find = store_sqlite_token_find,
	.token_touch = store_sqlite_token_touch,
	.token_list = store_sqlite_token_list,
	.token_revoke = store_sqlite_token_revoke,
	.cluster_insert = store_sqlite_cluster_insert,
	.cluster_update = store_sqlite_cluster_update,
	.cluster_get = store_sqlite_cluster_get,
	.cluster_list = store_sqlite_cluster_list,
	.cluster_delete = store_sqlite_cluster_delete,
	.cluster_health = store_sqlite_cluster_health,
	.target_upsert = store_sqlite_target_upsert,
	.target_get = store_sqlite_target_get,
	.target_get_by_id = store_sqlite_target_get_by_id,
	.target_list = store_sqlite_target_list,
	.target_mark_gone = store_sqlite_target_mark_gone,
	.snapshot_record = store_sqlite_snapshot_record,
	.snapshot_get = store_sqlite_snapshot_get,
	.snapshot_list = store_sqlite_snapshot_list,
	.evidence_latest = store_sqlite_evidence_latest,
	.evidence_range = store_sqlite_evidence_range,
	.evidence_figures = store_sqlite_evidence_figures,
	.evidence_before = store_sqlite_evidence_before,
	.prune = store_sqlite_prune,
	.baseline_insert = store_sqlite_baseline_insert,
	.baseline_get = store_sqlite_baseline_get,
	.baseline_list = store_sqlite_baseline_list,
	.snapshot_import = store_sqlite_snapshot_import,
	.snapshot_is_imported = store_sqlite_snapshot_is_imported,
	.bundle_insert = store_sqlite_bundle_insert,
	.bundle_get = store_sqlite_bundle_get,
	.bundle_list = store_sqlite_bundle_list,
	.bundle_expired = store_sqlite_bundle_expired,
	.bundle_delete = store_sqlite_bundle_delete,
	.webhook_insert = store_sqlite_webhook_insert,
	.webhook_get = store_sqlite_webhook_get,
	.webhook_list = store_sqlite_webhook_list,
	.webhook_delete = store_sqlite_webhook_delete,
	.webhook_claim = store_sqlite_webhook_claim,
	.webhook_attempt = store_sqlite_webhook_attempt,
};
