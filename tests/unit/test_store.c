/*
 * test_store.c - the store on real SQLite files in a temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/err.h"
#include "util/banned.h"

struct fx {
	char dir[256];
	char db[300];
};

static int
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[1024];

	if (d == NULL)
		return unlink(path);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	closedir(d);
	return rmdir(path);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* A folder that does not exist yet: store_open creates it. */
	snprintf(f->db, sizeof(f->db), "%s/data/skewd.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Reads a pragma's text value through a separate plain SQLite connection. */
static void
pragma_text(const char *db_path, const char *sql, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
exec_sql(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_open_creates_wal(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct stat sb;
	char mode[32], count[32];

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(store_ping(s, &e), 0);
	pragma_text(f->db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	pragma_text(f->db, "SELECT count(*) FROM schema_migrations WHERE version = 1", count, sizeof(count));
	assert_string_equal(count, "1");
	pragma_text(f->db, "SELECT value FROM meta WHERE key = 'application'", count, sizeof(count));
	assert_string_equal(count, "skewd");
	store_close(s);
	store_close(NULL);
}

static long long
pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* White box: the settings every connection must carry (store_sqlite.c). */
static void
check_conn_settings(sqlite3 *db)
{
	int defensive = -1, trusted = -1;

	assert_int_equal(pragma_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma_int(db, "PRAGMA trusted_schema"), 0);
	assert_int_equal(pragma_int(db, "PRAGMA secure_delete"), 1);
	assert_int_equal(pragma_int(db, "PRAGMA synchronous"), 1);
	assert_int_equal(pragma_int(db, "PRAGMA busy_timeout"), STORE_BUSY_TIMEOUT_MS);
	assert_int_equal(pragma_int(db, "PRAGMA journal_size_limit"), STORE_WAL_SIZE_LIMIT);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive), SQLITE_OK);
	assert_int_equal(defensive, 1);
	assert_int_equal(sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &trusted), SQLITE_OK);
	assert_int_equal(trusted, 0);
	/* Defensive mode refuses to corrupt the schema on purpose. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA writable_schema = ON", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM sqlite_schema", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA writable_schema = OFF", NULL, NULL, NULL);
}

struct other_thread {
	struct store *s;
	sqlite3 *db;
};

static void *
other_thread_run(void *p)
{
	struct other_thread *o = p;
	struct err e = ERR_INIT;

	o->db = store_sqlite_db(o->s, &e);
	if (o->db != NULL)
		check_conn_settings(o->db);
	return NULL;
}

static void
test_connection_settings(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct other_thread o = { NULL, NULL };
	pthread_t th;
	sqlite3 *db;

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	db = store_sqlite_db(s, &e);
	assert_non_null(db);
	assert_ptr_equal(store_sqlite_db(s, &e), db);
	check_conn_settings(db);
	/* Another thread gets a connection of its own, set up the same way. */
	o.s = s;
	assert_int_equal(pthread_create(&th, NULL, other_thread_run, &o), 0);
	pthread_join(th, NULL);
	assert_non_null(o.db);
	assert_ptr_not_equal(o.db, db);
	store_close(s);
}

static void
test_migrate_twice_noop(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct store_migration *items = NULL;
	char before[64], after[64];
	size_t n = 0;

	assert_int_equal(store_migration_status(f->db, NULL, &items, &n, &e), 0);
	assert_true(n >= 1);
	assert_int_equal(items[0].version, 1);
	assert_string_equal(items[0].name, "0001_init");
	assert_int_equal(items[0].applied, 0);
	assert_int_equal(strlen(items[0].sha256), 64);
	free(items);

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	store_close(s);
	pragma_text(f->db, "SELECT group_concat(version || ':' || applied_at) FROM schema_migrations",
	    before, sizeof(before));
	sleep(1);
	s = NULL;
	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	store_close(s);
	pragma_text(f->db, "SELECT group_concat(version || ':' || applied_at) FROM schema_migrations",
	    after, sizeof(after));
	assert_string_equal(before, after);

	assert_int_equal(store_migration_status(f->db, NULL, &items, &n, &e), 0);
	assert_int_equal(items[0].applied, 1);
	assert_true(items[0].applied_at > 0);
	assert_int_equal(items[0].modified, 0);
	free(items);
}

static void
copy_file(const char *from, const char *to, int flip_last_byte)
{
	char data[65536];
	FILE *in, *out;
	size_t n;

	in = fopen(from, "rb");
	assert_non_null(in);
	n = fread(data, 1, sizeof(data), in);
	fclose(in);
	assert_true(n > 0 && n < sizeof(data));
	if (flip_last_byte)
		data[n - 1] = data[n - 1] == '\n' ? ' ' : '\n';
	out = fopen(to, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(data, 1, n, out), n);
	fclose(out);
}

/* Copies every .sql file of the source tree's migrations/ into <fx>/migrations
 * (flipping the last byte of 0001_init.sql when `tamper`); returns how many. */
static int
make_migrations_dir(struct fx *f, char *dir, size_t n, int tamper)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	char from[1536], to[1536], srcdir[1024];
	struct dirent *de;
	size_t len;
	int count = 0;
	DIR *d;

	assert_non_null(src);
	snprintf(dir, n, "%s/migrations", f->dir);
	mkdir(dir, 0700);
	snprintf(srcdir, sizeof(srcdir), "%s/migrations", src);
	d = opendir(srcdir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		snprintf(from, sizeof(from), "%s/%s", srcdir, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, de->d_name);
		copy_file(from, to, tamper && strcmp(de->d_name, "0001_init.sql") == 0);
		count++;
	}
	closedir(d);
	assert_true(count > 0);
	return count;
}

static void
test_tampered_migration_refuses(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct store_migration *items = NULL;
	char dir[512];
	size_t n = 0;

	/* The folder copy is byte-identical to the compiled-in file: same checksum. */
	make_migrations_dir(f, dir, sizeof(dir), 0);
	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(f->db, dir, &s, &e), 0);
	store_close(s);
	s = NULL;

	make_migrations_dir(f, dir, sizeof(dir), 1);
	assert_int_equal(store_open(f->db, dir, &s, &e), -1);
	assert_null(s);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_non_null(strstr(e.msg, "0001_init.sql"));
	assert_non_null(strstr(e.msg, "changed"));

	assert_int_equal(store_migration_status(f->db, dir, &items, &n, &e), 0);
	assert_int_equal(items[0].applied, 1);
	assert_int_equal(items[0].modified, 1);
	free(items);
}

static void
test_new_migration_from_dir(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char dir[512], path[600], count[32], want[32];
	int files;
	FILE *fp;

	files = make_migrations_dir(f, dir, sizeof(dir), 0);
	snprintf(path, sizeof(path), "%s/9000_extra.sql", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("CREATE TABLE extra (id INTEGER PRIMARY KEY);\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, dir, &s, &e), 0);
	store_close(s);
	pragma_text(f->db, "SELECT count(*) FROM schema_migrations", count, sizeof(count));
	snprintf(want, sizeof(want), "%d", files + 1);
	assert_string_equal(count, want);

	/* The compiled-in set does not know 9000: the database is newer. */
	s = NULL;
	assert_int_equal(store_open(f->db, NULL, &s, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_non_null(strstr(e.msg, "database is newer than this skewd (version 9000)"));
}

static void
test_bad_migration_rolls_back(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char dir[512], path[600], count[32], want[32];
	int files;
	FILE *fp;

	files = make_migrations_dir(f, dir, sizeof(dir), 0);
	snprintf(path, sizeof(path), "%s/9000_broken.sql", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("CREATE TABLE half (id INTEGER);\nTHIS IS NOT SQL;\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, dir, &s, &e), -1);
	assert_non_null(strstr(e.msg, "9000_broken.sql"));
	pragma_text(f->db, "SELECT count(*) FROM sqlite_schema WHERE name = 'half'", count, sizeof(count));
	assert_string_equal(count, "0");
	pragma_text(f->db, "SELECT count(*) FROM schema_migrations", count, sizeof(count));
	snprintf(want, sizeof(want), "%d", files);
	assert_string_equal(count, want);

	/* A badly named file is refused, naming it. */
	unlink(path);
	snprintf(path, sizeof(path), "%s/2_bad-name.sql", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, dir, &s, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "2_bad-name.sql"));
}

static void
test_unknown_higher_version(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct store_migration *items = NULL;
	size_t n = 0;

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	store_close(s);
	s = NULL;
	exec_sql(f->db, "INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x', 1)");
	assert_int_equal(store_open(f->db, NULL, &s, &e), -1);
	assert_null(s);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_string_equal(e.msg, "database is newer than this skewd (version 9999); upgrade skewd");

	assert_int_equal(store_migration_status(f->db, NULL, &items, &n, &e), 0);
	assert_int_equal(items[n - 1].version, 9999);
	assert_int_equal(items[n - 1].unknown, 1);
	free(items);
}

static void
test_tokens(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct store_token t, v, *list = NULL;
	char *plain = NULL, *plain2 = NULL, bad[200];
	size_t n = 0;

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	assert_int_equal(store_token_create(s, "bot", ROLE_EDITOR, &plain, &t, &e), 0);
	assert_non_null(plain);
	assert_int_equal(strncmp(plain, "skewd_", 6), 0);
	assert_string_equal(t.name, "bot");
	assert_int_equal(t.role, ROLE_EDITOR);
	assert_true(t.created_at > 0);

	assert_int_equal(store_token_verify(s, plain, &v, &e), 0);
	assert_string_equal(v.name, "bot");
	assert_int_equal(v.role, ROLE_EDITOR);
	assert_int_equal(v.id, t.id);
	assert_true(v.last_used_at > 0);

	/* Same name while active: conflict. Bad names and roles: invalid. */
	assert_int_equal(store_token_create(s, "bot", ROLE_VIEWER, &plain2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_null(plain2);
	assert_int_equal(store_token_create(s, "Bad_Name", ROLE_VIEWER, &plain2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(store_token_create(s, "-x", ROLE_VIEWER, &plain2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(store_token_create(s, "x", ROLE_NONE, &plain2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	memset(bad, 'a', TOKEN_MAX_NAME + 1);
	bad[TOKEN_MAX_NAME + 1] = '\0';
	assert_int_equal(store_token_create(s, bad, ROLE_VIEWER, &plain2, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	bad[TOKEN_MAX_NAME] = '\0';
	assert_int_equal(store_token_create(s, bad, ROLE_VIEWER, &plain2, NULL, &e), 0);
	free(plain2);
	plain2 = NULL;

	/* Bad tokens: wrong secret, wrong id, garbage, empty; never echoed. */
	snprintf(bad, sizeof(bad), "%s", plain);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	assert_int_equal(store_token_verify(s, bad, &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_null(strstr(e.msg, bad));
	snprintf(bad, sizeof(bad), "%s", plain);
	bad[7] = bad[7] == '0' ? '1' : '0';
	assert_int_equal(store_token_verify(s, bad, &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(store_token_verify(s, "skewd_nonsense", &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(store_token_verify(s, "", &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(store_token_verify(s, NULL, &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);

	/* List, newest first, then revoke. */
	assert_int_equal(store_token_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].name, "bot");
	assert_int_equal(list[1].revoked, 0);
	free(list);
	list = NULL;

	assert_int_equal(store_token_revoke(s, "bot", &e), 0);
	assert_int_equal(store_token_verify(s, plain, &v, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_null(strstr(e.msg, plain));
	assert_int_equal(store_token_revoke(s, "bot", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_token_revoke(s, "nobody", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* The name is free again; the revoked one stays listed. */
	assert_int_equal(store_token_create(s, "bot", ROLE_ADMIN, &plain2, NULL, &e), 0);
	assert_int_equal(store_token_verify(s, plain2, &v, &e), 0);
	assert_int_equal(v.role, ROLE_ADMIN);
	assert_int_equal(store_token_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[2].revoked + list[1].revoked + list[0].revoked, 1);
	free(list);

	assert_string_equal(store_role_name(ROLE_VIEWER), "viewer");
	assert_int_equal(store_role_parse("admin"), ROLE_ADMIN);
	assert_int_equal(store_role_parse("root"), ROLE_NONE);
	free(plain);
	free(plain2);
	store_close(s);
}

/* Reads a whole file (missing = empty) and reports whether needle is in it. */
static int
file_contains(const char *path, const char *needle)
{
	static char data[8 * 1024 * 1024];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(data, 1, sizeof(data), fp);
	fclose(fp);
	return memmem(data, n, needle, strlen(needle)) != NULL;
}

static void
test_plain_token_not_on_disk(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char *plain = NULL, wal[400], shm[400];
	const char *secret;

	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	snprintf(shm, sizeof(shm), "%s-shm", f->db);
	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	assert_int_equal(store_token_create(s, "canary", ROLE_VIEWER, &plain, NULL, &e), 0);
	assert_int_equal(store_token_verify(s, plain, NULL, &e), 0);
	secret = strrchr(plain, '_') + 1;
	/* While open (the rows are in the -wal), then after close (checkpointed). */
	assert_true(file_contains(wal, "canary") || file_contains(f->db, "canary"));
	assert_false(file_contains(f->db, plain));
	assert_false(file_contains(wal, plain));
	assert_false(file_contains(shm, plain));
	assert_false(file_contains(f->db, secret));
	assert_false(file_contains(wal, secret));
	store_close(s);
	assert_true(file_contains(f->db, "canary"));
	assert_false(file_contains(f->db, plain));
	assert_false(file_contains(f->db, secret));
	assert_false(file_contains(wal, secret));
	free(plain);
}

struct worker {
	struct store *s;
	int idx;
	int failures;
	char msg[ERR_MSG_MAX];
};

static void *
worker_run(void *p)
{
	struct worker *w = p;
	struct err e = ERR_INIT;
	struct store_token *list = NULL;
	char name[32], *plain = NULL;
	size_t n;
	int i;

	for (i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "w%d-t%d", w->idx, i);
		if (store_token_create(w->s, name, ROLE_VIEWER, &plain, NULL, &e) < 0 ||
		    store_token_verify(w->s, plain, NULL, &e) < 0 ||
		    store_token_list(w->s, &list, &n, &e) < 0 ||
		    (i % 5 == 0 && store_token_revoke(w->s, name, &e) < 0) ||
		    store_ping(w->s, &e) < 0) {
			w->failures++;
			snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
		}
		free(list);
		list = NULL;
		free(plain);
		plain = NULL;
	}
	return NULL;
}

static void
test_concurrent_threads(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct store_token *list = NULL;
	struct worker w[4];
	pthread_t th[4];
	size_t n = 0;
	int i;

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = s;
		w[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failures != 0)
			fail_msg("thread %d: %d failures, last: %s", i, w[i].failures, w[i].msg);
	}
	assert_int_equal(store_token_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 100);
	free(list);
	store_close(s);
}

static void *
short_lived_run(void *p)
{
	struct worker *w = p;
	struct err e = ERR_INIT;

	if (store_ping(w->s, &e) < 0) {
		w->failures++;
		snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
	}
	return NULL;
}

/* A thread's connection closes when the thread exits: more short-lived
 * threads than STORE_MAX_CONNECTIONS, one after another, all get one. */
static void
test_thread_exit_closes(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	struct worker w;
	pthread_t th;
	int i;

	assert_int_equal(store_open(f->db, NULL, &s, &e), 0);
	memset(&w, 0, sizeof(w));
	w.s = s;
	for (i = 0; i < STORE_MAX_CONNECTIONS + 16; i++) {
		assert_int_equal(pthread_create(&th, NULL, short_lived_run, &w), 0);
		pthread_join(th, NULL);
		if (w.failures != 0)
			fail_msg("thread %d: %s", i, w.msg);
	}
	store_close(s);
}

static void
test_open_errors(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = ERR_INIT;
	char path[400];
	FILE *fp;

	assert_int_equal(store_open("", NULL, &s, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	/* A file that is not a database. */
	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, not at all, it is plain text padding it out\n", fp);
	fclose(fp);
	assert_int_equal(store_open(path, NULL, &s, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_null(s);
	/* A missing migrations folder. */
	assert_int_equal(store_open(f->db, "/nonexistent/skewd-migrations", &s, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "/nonexistent/skewd-migrations"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_twice_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_migration_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_migration_from_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_higher_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_token_not_on_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_exit_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
