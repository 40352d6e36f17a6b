/*
 * test_store_cluster.c - registered clusters on real SQLite files, with
 * credentials sealed by a real seal key: CRUD, the sealed blob kept byte for
 * byte and the plain secret absent from the database and WAL files, health,
 * and deleting a cluster with everything collected from it.
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

#include "seal/seal.h"
#include "store/store.h"
#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY_TOKEN "canary-bearer-5d1e0a77c3b94f2e8a61"
#define CANARY_PROM "canary-prom-92b4e6f1d0c8a3"
#define SEAL_KEY "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct fx {
	char dir[256];
	char db[300];
	struct store *s;
	struct seal *seal;
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
	struct err e = ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-cluster-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/skewd.db", f->dir);
	if (store_open(f->db, NULL, &f->s, &e) < 0)
		fail_msg("store_open: %s", e.msg);
	assert_int_equal(setenv("SKEWD_SEAL_KEY", SEAL_KEY, 1), 0);
	if (seal_open(NULL, &f->seal, &e) < 0)
		fail_msg("seal_open: %s", e.msg);
	unsetenv("SKEWD_SEAL_KEY");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	seal_close(f->seal);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* One integer from a query, through a separate plain SQLite connection. */
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

/* The whole file, or NULL with *n = 0 when it does not exist. */
static unsigned char *
slurp(const char *path, size_t *n)
{
	unsigned char *p = NULL;
	FILE *fp = fopen(path, "rb");
	long len;

	*n = 0;
	if (fp == NULL)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	p = malloc((size_t)len + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return p;
}

static int
memfind(const unsigned char *hay, size_t n, const void *needle, size_t k)
{
	size_t i;

	for (i = 0; k > 0 && i + k <= n; i++) {
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	}
	return 0;
}

/* Fills c as the API would: strings on the heap, the auth sealed. */
static void
make_cluster(struct fx *f, struct store_cluster *c, const char *name, const char *token)
{
	struct err e = ERR_INIT;
	char aad[128], json[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->server = strdup("https://10.0.0.1:6443");
	c->ca_pem = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	c->namespaces_json = strdup("[\"llm\"]");
	c->label_selector = strdup("app=vllm");
	c->auth_kind = strdup("token");
	snprintf(json, sizeof(json), "{\"token\":\"%s\"}", token);
	snprintf(aad, sizeof(aad), "cluster:%s:auth", name);
	assert_int_equal(seal_lock(f->seal, aad, json, strlen(json), &c->sealed_auth, &c->sealed_auth_len, &e), 0);
	c->prometheus_url = strdup("https://prom.example:9090");
	snprintf(aad, sizeof(aad), "cluster:%s:prometheus_token", name);
	assert_int_equal(seal_lock(f->seal, aad, CANARY_PROM, strlen(CANARY_PROM), &c->sealed_prometheus_token,
	    &c->sealed_prometheus_token_len, &e), 0);
}

static void
test_cluster_crud(void **state)
{
	struct fx *f = *state;
	struct store_cluster c, got, *items = NULL;
	struct err e = ERR_INIT;
	char *plain = NULL;
	size_t n = 0, len = 0, i;

	make_cluster(f, &c, "prod-us", CANARY_TOKEN);
	if (store_cluster_create(f->s, &c, &e) < 0)
		fail_msg("create: %s", e.msg);
	assert_true(c.id > 0);
	assert_true(c.created_at > 0);

	/* Read back: every field, the blobs byte for byte, and they still open. */
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_int_equal(got.id, c.id);
	assert_string_equal(got.name, "prod-us");
	assert_string_equal(got.server, c.server);
	assert_string_equal(got.ca_pem, c.ca_pem);
	assert_string_equal(got.namespaces_json, "[\"llm\"]");
	assert_string_equal(got.label_selector, "app=vllm");
	assert_string_equal(got.auth_kind, "token");
	assert_string_equal(got.prometheus_url, c.prometheus_url);
	assert_int_equal(got.insecure_skip_tls_verify, 0);
	assert_int_equal(got.sealed_auth_len, c.sealed_auth_len);
	assert_memory_equal(got.sealed_auth, c.sealed_auth, c.sealed_auth_len);
	assert_int_equal(got.sealed_prometheus_token_len, c.sealed_prometheus_token_len);
	assert_memory_equal(got.sealed_prometheus_token, c.sealed_prometheus_token, c.sealed_prometheus_token_len);
	assert_int_equal(got.created_at, c.created_at);
	assert_int_equal(got.last_pull_at, 0);
	assert_null(got.last_error);
	assert_null(got.server_version);
	assert_int_equal(seal_unlock(f->seal, "cluster:prod-us:auth", got.sealed_auth, got.sealed_auth_len, &plain,
	    &len, &e), 0);
	assert_non_null(strstr(plain, CANARY_TOKEN));
	free(plain);
	store_cluster_release(&got);

	/* The same name again conflicts; bad input is refused. */
	assert_int_equal(store_cluster_create(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_non_null(strstr(e.msg, "prod-us"));
	snprintf(c.name, sizeof(c.name), "Prod_US");
	assert_int_equal(store_cluster_create(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	snprintf(c.name, sizeof(c.name), "-prod");
	assert_int_equal(store_cluster_create(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	snprintf(c.name, sizeof(c.name), "prod-eu");
	free(c.auth_kind);
	c.auth_kind = strdup("exec");
	assert_int_equal(store_cluster_create(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	free(c.auth_kind);
	c.auth_kind = strdup("client_cert");
	free(c.label_selector);
	c.label_selector = NULL;
	free(c.namespaces_json);
	c.namespaces_json = NULL;
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-eu", &got, &e), 0);
	/* NULL namespaces and selector mean "all". */
	assert_string_equal(got.namespaces_json, "[]");
	assert_string_equal(got.label_selector, "");
	assert_string_equal(got.auth_kind, "client_cert");
	store_cluster_release(&got);

	/* Update replaces the configuration; the Prometheus part can go away. */
	snprintf(c.name, sizeof(c.name), "prod-us");
	free(c.server);
	c.server = strdup("https://api.prod-us.example:443");
	c.insecure_skip_tls_verify = 1;
	free(c.prometheus_url);
	c.prometheus_url = NULL;
	free(c.sealed_prometheus_token);
	c.sealed_prometheus_token = NULL;
	c.sealed_prometheus_token_len = 0;
	assert_int_equal(store_cluster_update(f->s, &c, &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_string_equal(got.server, "https://api.prod-us.example:443");
	assert_int_equal(got.insecure_skip_tls_verify, 1);
	assert_null(got.prometheus_url);
	assert_null(got.sealed_prometheus_token);
	assert_int_equal(got.sealed_prometheus_token_len, 0);
	assert_string_equal(got.auth_kind, "client_cert");
	assert_true(got.updated_at >= got.created_at);
	store_cluster_release(&got);
	snprintf(c.name, sizeof(c.name), "nope");
	assert_int_equal(store_cluster_update(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* A blob whose pointer and length disagree is a caller bug. */
	snprintf(c.name, sizeof(c.name), "prod-us");
	c.sealed_prometheus_token_len = 5;
	assert_int_equal(store_cluster_update(f->s, &c, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	c.sealed_prometheus_token_len = 0;

	/* List, by name. */
	assert_int_equal(store_cluster_list(f->s, &items, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].name, "prod-eu");
	assert_string_equal(items[1].name, "prod-us");
	assert_non_null(items[1].sealed_auth);
	for (i = 0; i < n; i++)
		store_cluster_release(&items[i]);
	free(items);

	/* Delete. */
	assert_int_equal(store_cluster_delete(f->s, "prod-eu", &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-eu", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_cluster_delete(f->s, "prod-eu", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_cluster_get(f->s, "Not A Name", &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(store_cluster_list(f->s, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	store_cluster_release(&items[0]);
	free(items);
	store_cluster_release(&c);
	store_cluster_release(NULL);
}

static void
check_files_clean(const char *db, const unsigned char *blob, size_t bloblen, int want_blob)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[400];
	unsigned char *p;
	size_t n, i;
	int blob_seen = 0;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		p = slurp(path, &n);
		if (p == NULL)
			continue;
		assert_false(memfind(p, n, CANARY_TOKEN, strlen(CANARY_TOKEN)));
		assert_false(memfind(p, n, CANARY_PROM, strlen(CANARY_PROM)));
		assert_false(memfind(p, n, "canary-", 7));
		blob_seen |= memfind(p, n, blob, bloblen);
		free(p);
	}
	/* The sealed bytes are there, so the search looked in the right place. */
	assert_int_equal(blob_seen, want_blob);
}

static void
test_secret_absent_from_files(void **state)
{
	struct fx *f = *state;
	struct store_cluster c, got;
	struct err e = ERR_INIT;
	unsigned char *blob;
	size_t bloblen;

	make_cluster(f, &c, "canary", CANARY_TOKEN);
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);
	blob = malloc(c.sealed_auth_len);
	assert_non_null(blob);
	memcpy(blob, c.sealed_auth, c.sealed_auth_len);
	bloblen = c.sealed_auth_len;
	assert_int_equal(store_cluster_health(f->s, "canary", 100, 0, "the API server answered 401", 12, NULL, &e), 0);
	/* Open: the rows are in the WAL. */
	check_files_clean(f->db, blob, bloblen, 1);
	assert_int_equal(store_cluster_get(f->s, "canary", &got, &e), 0);
	assert_memory_equal(got.sealed_auth, blob, bloblen);
	store_cluster_release(&got);

	/* Deleted (secure_delete is on) and closed: neither the canary nor the blob remains. */
	assert_int_equal(store_cluster_delete(f->s, "canary", &e), 0);
	store_close(f->s);
	f->s = NULL;
	check_files_clean(f->db, blob, bloblen, 0);
	free(blob);
	store_cluster_release(&c);
}

static void
test_health(void **state)
{
	struct fx *f = *state;
	struct store_cluster c, got;
	struct err e = ERR_INIT;

	make_cluster(f, &c, "prod-us", CANARY_TOKEN);
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);

	assert_int_equal(store_cluster_health(f->s, "prod-us", 1000, 1, NULL, 250, "v1.30.2", &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_int_equal(got.last_pull_at, 1000);
	assert_int_equal(got.last_success_at, 1000);
	assert_int_equal(got.last_duration_ms, 250);
	assert_null(got.last_error);
	assert_string_equal(got.server_version, "v1.30.2");
	store_cluster_release(&got);

	/* A failure keeps the last success and the version, and records the sentence. */
	assert_int_equal(store_cluster_health(f->s, "prod-us", 2000, 0, "the API server timed out after 30 s",
	    30000, NULL, &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_int_equal(got.last_pull_at, 2000);
	assert_int_equal(got.last_success_at, 1000);
	assert_int_equal(got.last_duration_ms, 30000);
	assert_string_equal(got.last_error, "the API server timed out after 30 s");
	assert_string_equal(got.server_version, "v1.30.2");
	store_cluster_release(&got);

	/* A failure without a sentence still records one. */
	assert_int_equal(store_cluster_health(f->s, "prod-us", 2500, 0, NULL, 1, NULL, &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_non_null(got.last_error);
	store_cluster_release(&got);

	/* Success clears the error; a new version replaces the old. */
	assert_int_equal(store_cluster_health(f->s, "prod-us", 3000, 1, "ignored", 90, "v1.31.0", &e), 0);
	assert_int_equal(store_cluster_get(f->s, "prod-us", &got, &e), 0);
	assert_int_equal(got.last_success_at, 3000);
	assert_null(got.last_error);
	assert_string_equal(got.server_version, "v1.31.0");
	/* Health does not touch the configuration. */
	assert_memory_equal(got.sealed_auth, c.sealed_auth, c.sealed_auth_len);
	store_cluster_release(&got);

	assert_int_equal(store_cluster_health(f->s, "nope", 1, 1, NULL, 1, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	store_cluster_release(&c);
}

static void
test_cascade_delete(void **state)
{
	struct fx *f = *state;
	struct store_cluster c;
	struct err e = ERR_INIT;
	const char *shared = "{\"schema\":1,\"kind\":\"shared\"}";
	const char *own = "{\"schema\":1,\"kind\":\"own\"}";
	char h_shared[65], h_own[65];
	int64_t t1 = 0, t2 = 0, sid = 0;
	int changed = 0;

	assert_int_equal(store_sha256_hex(shared, strlen(shared), h_shared, &e), 0);
	assert_int_equal(store_sha256_hex(own, strlen(own), h_own, &e), 0);
	make_cluster(f, &c, "doomed", CANARY_TOKEN);
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);
	snprintf(c.name, sizeof(c.name), "kept");
	assert_int_equal(store_cluster_create(f->s, &c, &e), 0);

	assert_int_equal(store_target_upsert(f->s, "doomed", "llm", "deployment", "vllm", 100, &t1, &e), 0);
	assert_int_equal(store_target_upsert(f->s, "kept", "llm", "deployment", "vllm", 100, &t2, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, t1, h_shared, shared, strlen(shared), "{\"pods\":1}", 10, 100,
	    &sid, &changed, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, t1, h_own, own, strlen(own), "{\"pods\":2}", 10, 200,
	    &sid, &changed, &e), 0);
	assert_int_equal(store_snapshot_record(f->s, t2, h_shared, shared, strlen(shared), NULL, 0, 100,
	    &sid, &changed, &e), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 3);

	if (store_cluster_delete(f->s, "doomed", &e) < 0)
		fail_msg("delete: %s", e.msg);
	/* Everything of "doomed" is gone; the document "kept" still uses stays. */
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM targets"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM snapshots"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM evidence WHERE target_id = 1"), 0);
	assert_int_equal(store_target_upsert(f->s, "doomed", "llm", "deployment", "vllm", 300, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	assert_int_equal(store_cluster_delete(f->s, "kept", &e), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM documents"), 0);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM targets"), 0);
	store_cluster_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cluster_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_absent_from_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cascade_delete, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
