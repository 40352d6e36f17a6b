/*
 * test_store_bundle.c - bundle rows and webhooks (migration 0005) on real
 * SQLite files: insert/get/list/paging/retention/delete of bundles, sealed
 * webhook blobs kept byte for byte, the at-most-once delivery claim, and
 * delivery counters, and bundle retention (api_bundles_prune: row and file).
 * A plain SQLite connection checks the file itself.
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
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "api/api.h"
#include "config/config.h"
#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

struct fx {
	char dir[256];
	char db[300];
	struct store *s;
	int64_t target;
	int64_t snap1, snap2;
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
	int changed = 0;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-store-bundle-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/skewd.db", f->dir);
	assert_int_equal(store_open(f->db, NULL, &f->s, &e), 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "prod");
	c.server = strdup("https://10.0.0.1:6443");
	c.auth_kind = strdup("in_cluster");
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);
	store_cluster_release(&c);
	assert_int_equal(store_target_upsert(f->s, "prod", "llm", "deployment", "vllm", 100, &f->target, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, f->target,
	    "1111111111111111111111111111111111111111111111111111111111111111", "{\"a\":1}", 7, NULL, 0, 100,
	    &f->snap1, &changed, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, f->target,
	    "2222222222222222222222222222222222222222222222222222222222222222", "{\"a\":2}", 7, NULL, 0, 200,
	    &f->snap2, &changed, &e), 0);
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

static void
fill_bundle(struct fx *f, struct store_bundle *b, const char *id, int64_t created)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->id, sizeof(b->id), "%s", id);
	b->target_id = f->target;
	snprintf(b->target, sizeof(b->target), "prod/llm/deployment/vllm");
	b->from_snapshot_id = f->snap1;
	b->to_snapshot_id = f->snap2;
	snprintf(b->file, sizeof(b->file), "skewd-bundle-%s.tar.gz", id);
	b->size = 1234;
	snprintf(b->sha256, sizeof(b->sha256), "%064d", 7);
	b->created_at = created;
	snprintf(b->created_by, sizeof(b->created_by), "ci-bot");
	b->meta_json = (char *)"{\"files\":[]}";
}

static void
test_bundle_rows(void **state)
{
	struct fx *f = *state;
	struct store_bundle b, got, *items = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	char id[32];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "aaaaaaaaaaaaaaaaaaaaaaaaa%c", 'a' + i);
		fill_bundle(f, &b, id, 1000 + i);
		assert_int_equal(store_bundle_insert(f->s, &b, &e), 0);
		assert_true(b.seq > 0);
	}
	/* The same id again is a conflict. */
	fill_bundle(f, &b, "aaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
	assert_int_equal(store_bundle_insert(f->s, &b, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	/* A file name with a slash, or an id with one, never gets in. */
	fill_bundle(f, &b, "bbbbbbbbbbbbbbbbbbbbbbbbbb", 0);
	snprintf(b.file, sizeof(b.file), "../etc/passwd");
	assert_int_equal(store_bundle_insert(f->s, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	fill_bundle(f, &b, "bbbbbbbbbbbbb/bbbbbbbbbbbb", 0);
	assert_int_equal(store_bundle_insert(f->s, &b, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);

	assert_int_equal(store_bundle_get(f->s, "aaaaaaaaaaaaaaaaaaaaaaaaac", &got, &e), 0);
	assert_string_equal(got.target, "prod/llm/deployment/vllm");
	assert_int_equal(got.from_snapshot_id, f->snap1);
	assert_int_equal(got.to_snapshot_id, f->snap2);
	assert_int_equal(got.size, 1234);
	assert_int_equal(got.created_at, 1002);
	assert_string_equal(got.created_by, "ci-bot");
	assert_string_equal(got.meta_json, "{\"files\":[]}");
	free(got.meta_json);
	assert_int_equal(store_bundle_get(f->s, "zzzzzzzzzzzzzzzzzzzzzzzzzz", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_bundle_get(f->s, "../x", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* Newest first, two per page, then the cursor. */
	assert_int_equal(store_bundle_list(f->s, 0, 2, &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].id, "aaaaaaaaaaaaaaaaaaaaaaaaae");
	assert_string_equal(items[1].id, "aaaaaaaaaaaaaaaaaaaaaaaaad");
	assert_null(items[0].meta_json);
	{
		int64_t cursor = items[1].seq;

		store_bundles_free(items, n);
		assert_int_equal(store_bundle_list(f->s, cursor, 10, &items, &n, &e), 0);
		assert_int_equal(n, 3);
		assert_string_equal(items[0].id, "aaaaaaaaaaaaaaaaaaaaaaaaac");
		assert_string_equal(items[2].id, "aaaaaaaaaaaaaaaaaaaaaaaaaa");
		store_bundles_free(items, n);
	}

	/* Retention: created before 1002, oldest first. */
	assert_int_equal(store_bundle_expired(f->s, 1002, 0, &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].id, "aaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(items[1].id, "aaaaaaaaaaaaaaaaaaaaaaaaab");
	store_bundles_free(items, n);

	assert_int_equal(store_bundle_delete(f->s, "aaaaaaaaaaaaaaaaaaaaaaaaaa", &e), 0);
	assert_int_equal(store_bundle_delete(f->s, "aaaaaaaaaaaaaaaaaaaaaaaaaa", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_bundle_list(f->s, 0, 0, &items, &n, &e), 0);
	assert_int_equal(n, 4);
	store_bundles_free(items, n);
}

/* A bundle outlives its target: deleting the cluster leaves the row, target_id 0. */
static void
test_bundle_outlives_target(void **state)
{
	struct fx *f = *state;
	struct store_bundle b, got;
	struct err e = ERR_INIT;

	fill_bundle(f, &b, "cccccccccccccccccccccccccc", 0);
	assert_int_equal(store_bundle_insert(f->s, &b, &e), 0);
	assert_true(b.created_at > 0);
	assert_int_equal(store_cluster_delete(f->s, "prod", &e), 0);
	assert_int_equal(store_bundle_get(f->s, "cccccccccccccccccccccccccc", &got, &e), 0);
	assert_int_equal(got.target_id, 0);
	assert_string_equal(got.target, "prod/llm/deployment/vllm");
	free(got.meta_json);
}

static void
fill_hook(struct store_webhook *w, const char *name)
{
	static const unsigned char blob[] = { 0x00, 0x01, 0xfe, 0xff, 0x00, 0x42 };

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->sealed_url = malloc(sizeof(blob));
	memcpy(w->sealed_url, blob, sizeof(blob));
	w->sealed_url_len = sizeof(blob);
	snprintf(w->url_display, sizeof(w->url_display), "https://hooks.example.com");
	snprintf(w->format, sizeof(w->format), "slack");
	snprintf(w->min_severity, sizeof(w->min_severity), "high");
	snprintf(w->created_by, sizeof(w->created_by), "admin");
}

static void
test_webhooks(void **state)
{
	struct fx *f = *state;
	struct store_webhook w, got, *items = NULL;
	struct err e = ERR_INIT;
	size_t n = 0;
	int claimed = -1;

	fill_hook(&w, "ops");
	assert_int_equal(store_webhook_create(f->s, &w, &e), 0);
	assert_true(w.id > 0);
	store_webhook_release(&w);
	fill_hook(&w, "ops");
	assert_int_equal(store_webhook_create(f->s, &w, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	store_webhook_release(&w);
	fill_hook(&w, "Bad_Name");
	assert_int_equal(store_webhook_create(f->s, &w, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	store_webhook_release(&w);
	fill_hook(&w, "x");
	snprintf(w.format, sizeof(w.format), "xml");
	assert_int_equal(store_webhook_create(f->s, &w, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	store_webhook_release(&w);
	fill_hook(&w, "x");
	snprintf(w.min_severity, sizeof(w.min_severity), "urgent");
	assert_int_equal(store_webhook_create(f->s, &w, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	store_webhook_release(&w);

	assert_int_equal(store_webhook_get(f->s, "ops", &got, &e), 0);
	assert_int_equal(got.sealed_url_len, 6);
	assert_memory_equal(got.sealed_url, "\x00\x01\xfe\xff\x00\x42", 6);
	assert_null(got.sealed_secret);
	assert_string_equal(got.format, "slack");
	assert_int_equal(got.attempts, 0);
	assert_int_equal(got.last_attempt_at, 0);
	assert_string_equal(got.last_error, "");

	/* At most once per drift key. */
	assert_int_equal(store_webhook_claim(f->s, got.id, "t1:b2:s3:high", &claimed, &e), 0);
	assert_int_equal(claimed, 1);
	assert_int_equal(store_webhook_claim(f->s, got.id, "t1:b2:s3:high", &claimed, &e), 0);
	assert_int_equal(claimed, 0);
	assert_int_equal(store_webhook_claim(f->s, got.id, "t1:b2:s4:high", &claimed, &e), 0);
	assert_int_equal(claimed, 1);
	/* An unknown webhook claims nothing. */
	assert_int_equal(store_webhook_claim(f->s, 9999, "t1:b2:s3:high", &claimed, &e), 0);
	assert_int_equal(claimed, 0);

	/* Two failures, then a success. */
	assert_int_equal(store_webhook_attempt(f->s, got.id, "t1:b2:s3:high", 0, 500,
	    "the receiver answered HTTP 500", 0, &e), 0);
	assert_int_equal(store_webhook_attempt(f->s, got.id, "t1:b2:s3:high", 0, 0,
	    "no answer from the receiver: Timeout was reached", 0, &e), 0);
	store_webhook_release(&got);
	assert_int_equal(store_webhook_get(f->s, "ops", &got, &e), 0);
	assert_int_equal(got.attempts, 2);
	assert_int_equal(got.deliveries, 0);
	assert_int_equal(got.last_status, 0);
	assert_string_equal(got.last_error, "no answer from the receiver: Timeout was reached");
	assert_true(got.last_attempt_at > 0);
	assert_int_equal(got.last_success_at, 0);
	assert_int_equal(store_webhook_attempt(f->s, got.id, "t1:b2:s3:high", 1, 204, NULL, 1, &e), 0);
	/* The other key gives up after one final failure. */
	assert_int_equal(store_webhook_attempt(f->s, got.id, "t1:b2:s4:high", 0, 404,
	    "the receiver answered HTTP 404", 1, &e), 0);
	store_webhook_release(&got);
	assert_int_equal(store_webhook_get(f->s, "ops", &got, &e), 0);
	assert_int_equal(got.attempts, 4);
	assert_int_equal(got.deliveries, 1);
	assert_int_equal(got.failures, 1);
	assert_int_equal(got.last_status, 404);
	assert_true(got.last_success_at > 0);
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT drift_key, state, attempts FROM webhook_deliveries"
		    " ORDER BY drift_key", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), "delivered");
		assert_int_equal(sqlite3_column_int(st, 2), 3);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), "failed");
		assert_int_equal(sqlite3_column_int(st, 2), 1);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}

	assert_int_equal(store_webhook_list(f->s, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].name, "ops");
	store_webhooks_free(items, n);

	/* Deleting takes the delivery records with it. */
	assert_int_equal(store_webhook_delete(f->s, "ops", &e), 0);
	assert_int_equal(store_webhook_delete(f->s, "ops", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_webhook_attempt(f->s, got.id, "t1:b2:s3:high", 1, 200, NULL, 1, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	store_webhook_release(&got);
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM webhook_deliveries", -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

/* Retention (api_bundles_prune): a bundle older than bundle_retention_days
 * loses its row and its file; a newer one keeps both; 0 days keeps all. */
static void
test_retention(void **state)
{
	struct fx *f = *state;
	struct store_bundle b, got;
	struct config cfg;
	struct err e = ERR_INIT;
	char dir[320], old_file[512], new_file[512];
	size_t removed = 99;
	int64_t now = 10 * 86400;
	FILE *fp;

	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = f->dir;
	snprintf(dir, sizeof(dir), "%s/bundles", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	fill_bundle(f, &b, "oldoldoldoldoldoldoldoldol", now - 8 * 86400);
	assert_int_equal(store_bundle_insert(f->s, &b, &e), 0);
	snprintf(old_file, sizeof(old_file), "%s/%s", dir, b.file);
	fill_bundle(f, &b, "newnewnewnewnewnewnewnewne", now - 1 * 86400);
	assert_int_equal(store_bundle_insert(f->s, &b, &e), 0);
	snprintf(new_file, sizeof(new_file), "%s/%s", dir, b.file);
	assert_non_null(fp = fopen(old_file, "w"));
	fclose(fp);
	assert_non_null(fp = fopen(new_file, "w"));
	fclose(fp);

	cfg.bundle_retention_days = 0;
	assert_int_equal(api_bundles_prune(f->s, &cfg, now, &removed, &e), 0);
	assert_int_equal(removed, 0);
	cfg.bundle_retention_days = 7;
	assert_int_equal(api_bundles_prune(f->s, &cfg, now, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(access(old_file, F_OK), -1);
	assert_int_equal(access(new_file, F_OK), 0);
	assert_int_equal(store_bundle_get(f->s, "oldoldoldoldoldoldoldoldol", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_bundle_get(f->s, "newnewnewnewnewnewnewnewne", &got, &e), 0);
	free(got.meta_json);
	/* A row whose file is gone already is still removed. */
	cfg.bundle_retention_days = 1;
	assert_int_equal(unlink(new_file), 0);
	assert_int_equal(api_bundles_prune(f->s, &cfg, now + 86400, &removed, &e), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_bundle_get(f->s, "newnewnewnewnewnewnewnewne", &got, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bundle_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_outlives_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
