/*
 * test_store_snapshot.c - targets, content-addressed snapshots, evidence and
 * retention on real SQLite files. Row counts are read through a separate
 * plain SQLite connection, so "no new document" is checked in the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
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

static void
add_cluster(struct store *s, const char *name)
{
	struct store_cluster c;
	struct err e = ERR_INIT;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.server = strdup("https://10.0.0.1:6443");
	c.auth_kind = strdup("in_cluster");
	if (store_cluster_create(s, &c, &e) < 0)
		fail_msg("create cluster: %s", e.msg);
	store_cluster_release(&c);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err e = ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-snapshot-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/skewd.db", f->dir);
	if (store_open(f->db, NULL, &f->s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	add_cluster(f->s, "prod-us");
	add_cluster(f->s, "prod-eu");
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

/* A configuration document numbered i, and its hash. */
static void
doc(int i, char *json, size_t n, char hash[65])
{
	struct err e = ERR_INIT;

	snprintf(json, n, "{\"schema\":1,\"replicas\":%d}", i);
	assert_int_equal(store_sha256_hex(json, strlen(json), hash, &e), 0);
}

static int64_t
record(struct fx *f, int64_t target, int i, int64_t at, int *changed)
{
	char json[128], hash[65], ev[128];
	struct err e = ERR_INIT;
	int64_t sid = 0;

	doc(i, json, sizeof(json), hash);
	snprintf(ev, sizeof(ev), "{\"at\":%lld}", (long long)at);
	if (store_snapshot_record(f->s, target, hash, json, strlen(json), ev, strlen(ev), at, &sid, changed, &e) < 0)
		fail_msg("record: %s", e.msg);
	return sid;
}

static void
test_targets(void **state)
{
	struct fx *f = *state;
	struct store_target t, *items = NULL;
	struct err e = ERR_INIT;
	int64_t a = 0, b = 0, c = 0, again = 0;
	size_t n = 0;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "Deployment", "vllm", 100, &a, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "statefulset", "tgi", 100, &b, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod-eu", "llm", "deployment", "vllm", 100, &c, &e), 0);
	assert_true(a > 0 && b > 0 && c > 0 && a != b && b != c);

	/* Seen again: same id, last_seen moves, first_seen stays; the kind is lowercased. */
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 200, &again, &e), 0);
	assert_int_equal(again, a);
	assert_int_equal(store_target_get(f->s, "prod-us", "llm", "DEPLOYMENT", "vllm", &t, &e), 0);
	assert_int_equal(t.id, a);
	assert_string_equal(t.cluster, "prod-us");
	assert_string_equal(t.ns, "llm");
	assert_string_equal(t.kind, "deployment");
	assert_string_equal(t.name, "vllm");
	assert_int_equal(t.first_seen, 100);
	assert_int_equal(t.last_seen, 200);
	assert_int_equal(t.latest_snapshot_id, 0);
	assert_int_equal(t.gone, 0);
	/* A late report does not move last_seen back. */
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 150, NULL, &e), 0);
	assert_int_equal(store_target_get_by_id(f->s, a, &t, &e), 0);
	assert_int_equal(t.last_seen, 200);

	/* Unknown things. */
	assert_int_equal(store_target_upsert(f->s, "nope", "llm", "deployment", "vllm", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_target_get(f->s, "prod-us", "llm", "deployment", "nope", &t, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_target_get_by_id(f->s, 9999, &t, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_target_upsert(f->s, "prod-us", "", "deployment", "vllm", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deploy/ment", "vllm", 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);

	/* Lists: all, ordered by cluster, ns, kind, name; one cluster; an unknown cluster. */
	assert_int_equal(store_target_list(f->s, NULL, &items, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].cluster, "prod-eu");
	assert_string_equal(items[1].kind, "deployment");
	assert_string_equal(items[1].cluster, "prod-us");
	assert_string_equal(items[2].kind, "statefulset");
	free(items);
	assert_int_equal(store_target_list(f->s, "prod-us", &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].id, a);
	assert_int_equal(items[1].id, b);
	free(items);
	assert_int_equal(store_target_list(f->s, "nope", &items, &n, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* A discovery at 300 finds only vllm: tgi is gone, prod-eu is untouched. */
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 300, NULL, &e), 0);
	assert_int_equal(store_target_mark_gone(f->s, "prod-us", 300, &e), 0);
	assert_int_equal(store_target_get_by_id(f->s, b, &t, &e), 0);
	assert_int_equal(t.gone, 1);
	assert_int_equal(store_target_get_by_id(f->s, a, &t, &e), 0);
	assert_int_equal(t.gone, 0);
	assert_int_equal(store_target_get_by_id(f->s, c, &t, &e), 0);
	assert_int_equal(t.gone, 0);
	/* It comes back. */
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "statefulset", "tgi", 400, NULL, &e), 0);
	assert_int_equal(store_target_get_by_id(f->s, b, &t, &e), 0);
	assert_int_equal(t.gone, 0);
	assert_int_equal(store_target_mark_gone(f->s, "nope", 300, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
}

static void
test_snapshot_dedup(void **state)
{
	struct fx *f = *state;
	struct store_snapshot meta;
	struct store_target t;
	struct err e = ERR_INIT;
	char *config = NULL, json[128], hash[65];
	int64_t target = 0, s1, s2, s3, s4;
	int changed = -1;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &target, &e), 0);

	s1 = record(f, target, 1, 100, &changed);
	assert_int_equal(changed, 1);
	assert_true(s1 > 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 1);

	/* Unchanged: same id, no new document or snapshot row, one more evidence row. */
	s2 = record(f, target, 1, 160, &changed);
	assert_int_equal(changed, 0);
	assert_int_equal(s2, s1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 2);
	assert_int_equal(store_snapshot_get(f->s, s1, &meta, &config, &e), 0);
	assert_int_equal(meta.first_seen, 100);
	assert_int_equal(meta.last_seen, 160);
	assert_int_equal(meta.target_id, target);
	doc(1, json, sizeof(json), hash);
	assert_string_equal(meta.hash, hash);
	assert_string_equal(config, json);
	assert_int_equal(meta.size, (int64_t)strlen(json));
	free(config);
	config = NULL;

	/* Changed: a new id and a new document. */
	s3 = record(f, target, 2, 220, &changed);
	assert_int_equal(changed, 1);
	assert_true(s3 > s1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);
	assert_int_equal(store_target_get_by_id(f->s, target, &t, &e), 0);
	assert_int_equal(t.latest_snapshot_id, s3);

	/* Back to the first content: a new snapshot (history shows the flip), the old document reused. */
	s4 = record(f, target, 1, 280, &changed);
	assert_int_equal(changed, 1);
	assert_true(s4 > s3);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 3);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 4);

	/* Metadata only. */
	assert_int_equal(store_snapshot_get(f->s, s3, &meta, NULL, &e), 0);
	assert_int_equal(meta.id, s3);
	assert_int_equal(store_snapshot_get(f->s, 9999, &meta, &config, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_null(config);

	/* Refusals: unknown target (nothing written), bad hash, no document. */
	doc(7, json, sizeof(json), hash);
	assert_int_equal(store_snapshot_record(f->s, 9999, hash, json, strlen(json), NULL, 0, 1, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);
	assert_int_equal(store_snapshot_record(f->s, target, "ABC", json, strlen(json), NULL, 0, 1, NULL, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID);
	hash[0] = 'G';
	assert_int_equal(store_snapshot_record(f->s, target, hash, json, strlen(json), NULL, 0, 1, NULL, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID);
	doc(7, json, sizeof(json), hash);
	assert_int_equal(store_snapshot_record(f->s, target, hash, json, 0, NULL, 0, 1, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
}

static void
test_shared_document(void **state)
{
	struct fx *f = *state;
	struct err e = ERR_INIT;
	int64_t a = 0, b = 0, sa, sb;
	int changed = 0;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &a, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod-eu", "llm", "deployment", "vllm", 100, &b, &e), 0);
	sa = record(f, a, 42, 100, &changed);
	assert_int_equal(changed, 1);
	/* The other target's first snapshot is a change for it, but the bytes are shared. */
	sb = record(f, b, 42, 100, &changed);
	assert_int_equal(changed, 1);
	assert_true(sa != sb);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 2);
}

static void
test_paging(void **state)
{
	struct fx *f = *state;
	struct store_snapshot *items = NULL;
	struct err e = ERR_INIT;
	int64_t target = 0, other = 0, ids[25];
	size_t n = 0, i, seen = 0;
	int64_t before = 0;
	int changed;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &target, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "other", 100, &other, &e), 0);
	for (i = 0; i < 25; i++) {
		ids[i] = record(f, target, (int)i, 100 + (int64_t)i, &changed);
		/* Another target's snapshots interleave and must not show up. */
		record(f, other, 1000 + (int)i, 100 + (int64_t)i, &changed);
	}

	/* Pages of 10, newest first, each continuing below the last id seen. */
	for (;;) {
		assert_int_equal(store_snapshot_list(f->s, target, before, 10, &items, &n, &e), 0);
		if (n == 0) {
			free(items);
			break;
		}
		assert_true(n <= 10);
		for (i = 0; i < n; i++) {
			assert_int_equal(items[i].target_id, target);
			assert_int_equal(items[i].id, ids[24 - seen]);
			assert_int_equal(items[i].first_seen, 100 + (int64_t)(24 - seen));
			assert_true(items[i].size > 0);
			seen++;
		}
		before = items[n - 1].id;
		free(items);
	}
	assert_int_equal(seen, 25);

	/* limit 0 means the largest page; an unknown target has no history. */
	assert_int_equal(store_snapshot_list(f->s, target, 0, 0, &items, &n, &e), 0);
	assert_int_equal(n, 25);
	free(items);
	assert_int_equal(store_snapshot_list(f->s, 9999, 0, 10, &items, &n, &e), 0);
	assert_int_equal(n, 0);
	free(items);
}

static void
test_evidence(void **state)
{
	struct fx *f = *state;
	struct store_evidence *items = NULL;
	struct err e = ERR_INIT;
	int64_t target = 0, at = 0, sid1, sid2;
	char *json = NULL;
	size_t n = 0, i;
	int changed;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &target, &e), 0);
	assert_int_equal(store_evidence_latest(f->s, target, &json, &at, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_null(json);

	/* Ten pulls at 100, 110, ... 190; the config changes once at 150. */
	for (i = 0; i < 10; i++)
		record(f, target, i < 5 ? 1 : 2, 100 + 10 * (int64_t)i, &changed);
	sid1 = record(f, target, 2, 200, &changed);
	assert_int_equal(changed, 0);

	assert_int_equal(store_evidence_latest(f->s, target, &json, &at, &e), 0);
	assert_string_equal(json, "{\"at\":200}");
	assert_int_equal(at, 200);
	free(json);

	/* Inclusive range, oldest first, each row names its snapshot. */
	assert_int_equal(store_evidence_range(f->s, target, 120, 160, 0, &items, &n, &e), 0);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "{\"at\":%lld}", (long long)(120 + 10 * (int64_t)i));
		assert_int_equal(items[i].taken_at, 120 + 10 * (int64_t)i);
		assert_string_equal(items[i].json, want);
		assert_true(items[i].id > 0);
	}
	sid2 = items[0].snapshot_id;
	assert_true(sid2 != sid1);
	assert_int_equal(items[4].snapshot_id, sid1);
	store_evidence_free(items, n);

	/* until 0 = no end; a limit cuts from the oldest side. */
	assert_int_equal(store_evidence_range(f->s, target, 150, 0, 0, &items, &n, &e), 0);
	assert_int_equal(n, 6);
	store_evidence_free(items, n);
	assert_int_equal(store_evidence_range(f->s, target, 0, 0, 3, &items, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(items[0].taken_at, 100);
	store_evidence_free(items, n);
	assert_int_equal(store_evidence_range(f->s, target, 500, 600, 0, &items, &n, &e), 0);
	assert_int_equal(n, 0);
	store_evidence_free(items, n);
	store_evidence_free(NULL, 0);

	/* The newest row of one snapshot at or before a time (the auto-promotion's anchor). */
	{
		struct store_evidence one;

		assert_int_equal(store_evidence_before(f->s, target, sid1, 175, &one, &e), 0);
		assert_int_equal(one.taken_at, 170);
		assert_int_equal(one.snapshot_id, sid1);
		assert_string_equal(one.json, "{\"at\":170}");
		free(one.json);
		assert_int_equal(store_evidence_before(f->s, target, sid1, 1000, &one, &e), 0);
		assert_int_equal(one.taken_at, 200);
		free(one.json);
		/* The other snapshot's rows do not count; before its first row there is none. */
		assert_int_equal(store_evidence_before(f->s, target, sid2, 1000, &one, &e), 0);
		assert_int_equal(one.taken_at, 140);
		free(one.json);
		assert_int_equal(store_evidence_before(f->s, target, sid1, 149, &one, &e), -1);
		assert_int_equal(e.code, ERR_NOT_FOUND);
		assert_null(one.json);
		assert_int_equal(store_evidence_before(f->s, target + 1, sid1, 1000, &one, &e), -1);
		assert_int_equal(e.code, ERR_NOT_FOUND);
	}
}

/* Only the figures of each scrape come back, per snapshot, oldest first. */
static void
test_evidence_figures(void **state)
{
	static const char ev1[] = "{\"scrapes\": [{\"pod\": \"p0\", \"figures\": {\"tps\": {\"value\": 10}},"
		" \"samples\": [1, 2, 3]}, {\"pod\": \"p1\", \"figures\": {\"tps\": {\"absent\": \"no scrape\"}}}],"
		" \"logs\": [\"a long log line\"]}";
	static const char ev2[] = "{\"scrapes\": [{\"figures\": {\"p99\": {\"value\": 0.5, \"unit\": \"s\"}}}]}";
	struct fx *f = *state;
	struct store_evidence *items = NULL;
	struct err e = ERR_INIT;
	char json[128], hash[65];
	int64_t target = 0, sid1 = 0, sid2 = 0;
	size_t n = 0;
	int changed;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &target, &e), 0);
	doc(1, json, sizeof(json), hash);
	assert_int_equal(store_snapshot_record(f->s, target, hash, json, strlen(json), ev1, strlen(ev1), 100, &sid1,
	    &changed, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, target, hash, json, strlen(json), "{\"at\": 1}", 10, 110, &sid1,
	    &changed, &e), 0);
	doc(2, json, sizeof(json), hash);
	assert_int_equal(store_snapshot_record(f->s, target, hash, json, strlen(json), ev2, strlen(ev2), 120, &sid2,
	    &changed, &e), 0);
	assert_true(sid1 != sid2);

	assert_int_equal(store_evidence_figures(f->s, target, sid1, 0, 0, 0, &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].taken_at, 100);
	assert_int_equal(items[0].snapshot_id, sid1);
	assert_string_equal(items[0].json, "[{\"tps\":{\"value\":10}},{\"tps\":{\"absent\":\"no scrape\"}}]");
	assert_string_equal(items[1].json, "[]");
	store_evidence_free(items, n);

	assert_int_equal(store_evidence_figures(f->s, target, sid2, 0, 0, 0, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].json, "[{\"p99\":{\"value\":0.5,\"unit\":\"s\"}}]");
	store_evidence_free(items, n);

	/* The range and the limit hold as for store_evidence_range(). */
	assert_int_equal(store_evidence_figures(f->s, target, sid1, 105, 200, 0, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].taken_at, 110);
	store_evidence_free(items, n);
	assert_int_equal(store_evidence_figures(f->s, target, sid1, 0, 0, 1, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].taken_at, 100);
	store_evidence_free(items, n);
}

static void
test_prune(void **state)
{
	struct fx *f = *state;
	struct store_snapshot meta;
	struct store_target t;
	struct err e = ERR_INIT;
	int64_t a = 0, b = 0, a1, a2, a3, b1, removed = -1;
	char *json = NULL;
	int changed;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &a, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "prod-eu", "llm", "deployment", "vllm", 100, &b, &e), 0);
	a1 = record(f, a, 1, 100, &changed);
	a2 = record(f, a, 2, 200, &changed);
	a3 = record(f, a, 3, 300, &changed);
	b1 = record(f, b, 1, 100, &changed);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 3);

	/* Nothing is older than 50. */
	assert_int_equal(store_prune(f->s, 50, &removed, &e), 0);
	assert_int_equal(removed, 0);

	/* Keep 250 and later: a1 and a2 go; a3 stays; b1 is old but b's latest, so it stays,
	 * and so does document 1 it uses; document 2 goes. Evidence at 100 and 200 goes. */
	assert_int_equal(store_prune(f->s, 250, &removed, &e), 0);
	assert_int_equal(store_snapshot_get(f->s, a1, &meta, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_snapshot_get(f->s, a2, &meta, NULL, &e), -1);
	assert_int_equal(store_snapshot_get(f->s, a3, &meta, NULL, &e), 0);
	assert_int_equal(store_snapshot_get(f->s, b1, &meta, &json, &e), 0);
	assert_non_null(strstr(json, "\"replicas\":1"));
	free(json);
	json = NULL;
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 1);
	/* 3 evidence rows + 2 snapshots + 1 document. */
	assert_int_equal(removed, 6);
	assert_int_equal(store_target_get_by_id(f->s, b, &t, &e), 0);
	assert_int_equal(t.latest_snapshot_id, b1);
	assert_int_equal(store_evidence_latest(f->s, b, &json, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* Far in the future: each target still keeps its latest snapshot. */
	assert_int_equal(store_prune(f->s, 1000000, &removed, &e), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 0);
	assert_int_equal(store_prune(f->s, 1000000, NULL, &e), 0);
}

#define RACE_THREADS 4
#define RACE_PULLS 25

struct race {
	struct fx *f;
	int64_t target;
	int64_t ids[RACE_PULLS];
	int changed;
	int failed;
};

static void *
race_main(void *arg)
{
	struct race *r = arg;
	char json[128], hash[65];
	struct err e = ERR_INIT;
	int i, changed;

	doc(5, json, sizeof(json), hash);
	for (i = 0; i < RACE_PULLS; i++) {
		if (store_snapshot_record(r->f->s, r->target, hash, json, strlen(json), "{}", 2, 100 + i,
		    &r->ids[i], &changed, &e) < 0) {
			r->failed = 1;
			break;
		}
		r->changed += changed;
	}
	return NULL;
}

/* Pulls of one target racing on their own connections: the first one decides
 * "changed", every other one finds the same hash. */
static void
test_concurrent_record(void **state)
{
	struct fx *f = *state;
	struct race r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	struct err e = ERR_INIT;
	int64_t target = 0;
	int i, j, changed = 0;

	assert_int_equal(store_target_upsert(f->s, "prod-us", "llm", "deployment", "vllm", 100, &target, &e), 0);
	memset(r, 0, sizeof(r));
	for (i = 0; i < RACE_THREADS; i++) {
		r[i].f = f;
		r[i].target = target;
		assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(r[i].failed, 0);
		changed += r[i].changed;
		for (j = 0; j < RACE_PULLS; j++)
			assert_int_equal(r[i].ids[j], r[0].ids[0]);
	}
	assert_int_equal(changed, 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), RACE_THREADS * RACE_PULLS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_document, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_record, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
