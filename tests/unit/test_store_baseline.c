/*
 * test_store_baseline.c - baselines on real SQLite files: recording with who
 * and why, the history newest first, the latest, refusals (another target's
 * snapshot, an unknown one, bad arguments), imported snapshots that never
 * become a target's latest, and baselines that survive retention.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

struct fx {
	char dir[256];
	char db[300];
	struct store *s;
	int64_t a, b;           /* two targets */
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
	struct store_cluster c;
	struct err e = ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-baseline-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/skewd.db", f->dir);
	if (store_open(f->db, NULL, &f->s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "prod");
	c.server = strdup("https://10.0.0.1:6443");
	c.auth_kind = strdup("in_cluster");
	if (store_cluster_create(f->s, &c, &e) < 0)
		fail_msg("create cluster: %s", e.msg);
	store_cluster_release(&c);
	assert_int_equal(store_target_upsert(f->s, "prod", "llm", "Deployment", "vllm", 100, &f->a, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod", "llm", "deployment", "tgi", 100, &f->b, &e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static long long
query_int(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Records pull number i of target t at time `at`; returns the snapshot id. */
static int64_t
record(struct fx *f, int64_t t, int i, int64_t at)
{
	char json[128], hash[65];
	struct err e = ERR_INIT;
	int64_t sid = 0;

	snprintf(json, sizeof(json), "{\"schema\":1,\"replicas\":%d}", i);
	assert_int_equal(store_sha256_hex(json, strlen(json), hash, &e), 0);
	if (store_snapshot_record(f->s, t, hash, json, strlen(json), "{}", 2, at, &sid, NULL, &e) < 0)
		fail_msg("record: %s", e.msg);
	return sid;
}

static void
test_set_get_history(void **state)
{
	struct fx *f = *state;
	struct store_baseline b, *items = NULL;
	struct err e = ERR_INIT;
	int64_t s1, s2;
	size_t n = 0;

	s1 = record(f, f->a, 1, 100);
	s2 = record(f, f->a, 2, 200);

	assert_int_equal(store_baseline_get(f->s, f->a, &b, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	assert_int_equal(store_baseline_set(f->s, f->a, s1, "alice-bot", "before the 0.10 rollout",
	    "snapshot", 150, &b, &e), 0);
	assert_true(b.id > 0);
	assert_int_equal(b.snapshot_id, s1);
	assert_int_equal(store_baseline_set(f->s, f->a, s2, "auto", NULL, "auto", 250, NULL, &e), 0);

	assert_int_equal(store_baseline_get(f->s, f->a, &b, &e), 0);
	assert_int_equal(b.snapshot_id, s2);
	assert_string_equal(b.set_by, "auto");
	assert_string_equal(b.note, "");
	assert_string_equal(b.source, "auto");
	assert_int_equal(b.set_at, 250);

	assert_int_equal(store_baseline_list(f->s, f->a, 0, &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].snapshot_id, s2);
	assert_int_equal(items[1].snapshot_id, s1);
	assert_string_equal(items[1].set_by, "alice-bot");
	assert_string_equal(items[1].note, "before the 0.10 rollout");
	assert_string_equal(items[1].source, "snapshot");
	assert_int_equal(items[1].set_at, 150);
	free(items);
	items = NULL;

	/* A page of one. */
	assert_int_equal(store_baseline_list(f->s, f->a, 1, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].snapshot_id, s2);
	free(items);
	items = NULL;

	/* The other target has none. */
	assert_int_equal(store_baseline_list(f->s, f->b, 0, &items, &n, &e), 0);
	assert_int_equal(n, 0);
	free(items);
}

static void
test_refusals(void **state)
{
	struct fx *f = *state;
	char note[STORE_MAX_BASELINE_NOTE + 2];
	struct err e = ERR_INIT;
	int64_t s1, sb;

	s1 = record(f, f->a, 1, 100);
	sb = record(f, f->b, 7, 100);

	/* Another target's snapshot. */
	assert_int_equal(store_baseline_set(f->s, f->a, sb, "alice", NULL, "snapshot", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "another target"));
	/* An unknown snapshot. */
	assert_int_equal(store_baseline_set(f->s, f->a, 9999, "alice", NULL, "snapshot", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	/* Who, note and source. */
	assert_int_equal(store_baseline_set(f->s, f->a, s1, "", NULL, "snapshot", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	memset(note, 'x', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	assert_int_equal(store_baseline_set(f->s, f->a, s1, "alice", note, "snapshot", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(store_baseline_set(f->s, f->a, s1, "alice", NULL, "guess", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM baselines"), 0);
	/* A note of exactly the cap is fine. */
	note[STORE_MAX_BASELINE_NOTE] = '\0';
	assert_int_equal(store_baseline_set(f->s, f->a, s1, "alice", note, "snapshot", 1, NULL, &e), 0);
}

static void
test_import_is_never_latest(void **state)
{
	struct fx *f = *state;
	const char *json = "{\"schema\":\"skewd.snapshot/v1\",\"imported\":1}";
	struct store_target t;
	struct err e = ERR_INIT;
	char hash[65];
	int64_t s1, imp = 0, s2;
	int imported = -1, changed = -1;

	s1 = record(f, f->a, 1, 100);
	assert_int_equal(store_sha256_hex(json, strlen(json), hash, &e), 0);
	assert_int_equal(store_snapshot_import(f->s, f->a, hash, json, strlen(json), 150, &imp, &e), 0);
	assert_true(imp > s1);
	assert_int_equal(store_snapshot_is_imported(f->s, imp, &imported, &e), 0);
	assert_int_equal(imported, 1);
	assert_int_equal(store_snapshot_is_imported(f->s, s1, &imported, &e), 0);
	assert_int_equal(imported, 0);
	assert_int_equal(store_snapshot_is_imported(f->s, 4242, &imported, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* The target's latest is still its pull. */
	assert_int_equal(store_target_get_by_id(f->s, f->a, &t, &e), 0);
	assert_int_equal(t.latest_snapshot_id, s1);
	/* A pull equal to the latest pull is still "unchanged", the import notwithstanding. */
	{
		char pj[128], ph[65];
		int64_t sid = 0;

		snprintf(pj, sizeof(pj), "{\"schema\":1,\"replicas\":%d}", 1);
		assert_int_equal(store_sha256_hex(pj, strlen(pj), ph, &e), 0);
		assert_int_equal(store_snapshot_record(f->s, f->a, ph, pj, strlen(pj), NULL, 0, 160, &sid,
		    &changed, &e), 0);
		assert_int_equal(changed, 0);
		assert_int_equal(sid, s1);
	}
	/* A pull of the imported content records a snapshot of its own. */
	assert_int_equal(store_snapshot_record(f->s, f->a, hash, json, strlen(json), NULL, 0, 170, &s2,
	    &changed, &e), 0);
	assert_int_equal(changed, 1);
	assert_true(s2 != imp);
	assert_int_equal(store_target_get_by_id(f->s, f->a, &t, &e), 0);
	assert_int_equal(t.latest_snapshot_id, s2);
	/* No evidence for an import; one document for both. */
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence WHERE snapshot_id IN "
	    "(SELECT id FROM snapshots WHERE imported = 1)"), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);

	assert_int_equal(store_baseline_set(f->s, f->a, imp, "alice", "from git", "import", 180, NULL, &e), 0);

	/* Refusals: unknown target, bad hash, empty document. */
	assert_int_equal(store_snapshot_import(f->s, 4242, hash, json, strlen(json), 1, &imp, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(imp, 0);
	assert_int_equal(store_snapshot_import(f->s, f->a, "abc", json, strlen(json), 1, &imp, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(store_snapshot_import(f->s, f->a, hash, json, 0, 1, &imp, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_survives_prune(void **state)
{
	struct fx *f = *state;
	const char *json = "{\"schema\":\"skewd.snapshot/v1\",\"imported\":2}";
	struct store_baseline b;
	struct err e = ERR_INIT;
	char hash[65], *body = NULL;
	int64_t s1, s2, s3, imp = 0, removed = 0;

	s1 = record(f, f->a, 1, 100);
	s2 = record(f, f->a, 2, 200);
	s3 = record(f, f->a, 3, 300);
	assert_int_equal(store_sha256_hex(json, strlen(json), hash, &e), 0);
	assert_int_equal(store_snapshot_import(f->s, f->b, hash, json, strlen(json), 50, &imp, &e), 0);
	assert_int_equal(store_baseline_set(f->s, f->a, s1, "alice", "old good", "snapshot", 110, NULL, &e), 0);
	assert_int_equal(store_baseline_set(f->s, f->b, imp, "alice", NULL, "import", 60, NULL, &e), 0);

	/* Everything is older than 1000: only the latest and the baselines stay. */
	assert_int_equal(store_prune(f->s, 1000, &removed, &e), 0);
	assert_int_equal(store_snapshot_get(f->s, s1, NULL, &body, &e), 0);
	assert_non_null(strstr(body, "\"replicas\":1"));
	free(body);
	body = NULL;
	assert_int_equal(store_snapshot_get(f->s, s2, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_snapshot_get(f->s, s3, NULL, NULL, &e), 0);
	assert_int_equal(store_snapshot_get(f->s, imp, NULL, &body, &e), 0);
	assert_non_null(strstr(body, "\"imported\":2"));
	free(body);
	assert_int_equal(store_baseline_get(f->s, f->a, &b, &e), 0);
	assert_int_equal(b.snapshot_id, s1);
	assert_int_equal(store_baseline_get(f->s, f->b, &b, &e), 0);
	assert_int_equal(b.snapshot_id, imp);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 3);

	/* Deleting the cluster takes the baselines with it. */
	assert_int_equal(store_cluster_delete(f->s, "prod", &e), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM baselines"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_is_never_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_prune, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
