/*
 * test_baselines.c - baselines, diffs and reports through the real server and
 * a simulated cluster (kubesim, in this process): pull "last good", mark it
 * as the baseline, switch the cluster to "current", pull again; the diff names
 * the regression's changes in their categories (max_model_len and dtype,
 * same-tag digest, mixed GPUs, ingress timeouts); every diff and report format
 * answers; the drift list has vllm-llama and not the unchanged tgi-gemma; a
 * viewer cannot set a baseline; a report links the target's newest bundle; a
 * saved last-good YAML imported becomes the baseline; YAML bombs are refused at once; the fixture's Secret value is in
 * no answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"
#define TGI "/api/v1/targets/good/llm/deployment/tgi-gemma"

static struct tk_server srv;
static struct ck_sim good;
static char *viewer, *editor, *admin;
static long long vllm_good, vllm_now, tgi_good;

static int
setup(void **state)
{
	(void)state;
	if (ck_sim_start(&good) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 5000\n"
	    "public_url: https://skewd.example.com/\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL)
		return -1;
	if (ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN) != 201)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&good);
	free(ck_seen);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET path as `token`; fails the test unless the status is `want`. */
static void
get(const char *path, const char *token, long want, struct tk_resp *r)
{
	if (ck_req(&srv, "GET", path, token, NULL, r) < 0)
		fail_msg("GET %s: no answer", path);
	if (r->status != want)
		fail_msg("GET %s: %ld, wanted %ld: %s", path, r->status, want, r->body);
}

static long long
latest_of(const char *target)
{
	struct tk_resp r;
	long long id;

	get(target, viewer, 200, &r);
	id = json_integer_value(json_object_get(r.json, "latest_snapshot_id"));
	tk_resp_free(&r);
	return id;
}

/* A change of the diff in `category` whose setting, path or summary holds `needle`. */
static const json_t *
find_change(const json_t *diff, const char *category, const char *needle)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(diff, "changes"), i, c) {
		const char *fields[] = { "setting", "path", "summary" };
		size_t k;

		if (strcmp(json_string_value(json_object_get(c, "category")), category) != 0)
			continue;
		for (k = 0; k < 3; k++) {
			const char *v = json_string_value(json_object_get(c, fields[k]));

			if (v != NULL && strstr(v, needle) != NULL)
				return c;
		}
	}
	return NULL;
}

static void
expect_change(const json_t *diff, const char *category, const char *needle)
{
	if (find_change(diff, category, needle) == NULL) {
		char *s = json_dumps(json_object_get(diff, "changes"), JSON_INDENT(1));

		fail_msg("no %s change about '%s' in %s", category, needle, s);
	}
}

static void
test_baseline_then_diff(void **state)
{
	json_t *body;
	struct tk_resp r;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	vllm_good = latest_of(VLLM);
	tgi_good = latest_of(TGI);
	assert_true(vllm_good > 0 && tgi_good > 0);

	/* No baseline yet: no baseline, no diff against one. */
	get(VLLM "/baseline", viewer, 404, &r);
	tk_resp_free(&r);
	get(VLLM "/diff", viewer, 404, &r);
	assert_non_null(strstr(r.body, "no baseline"));
	tk_resp_free(&r);

	/* A viewer may not set one; an editor may, and who and why are kept. */
	body = json_pack("{s:s, s:s}", "snapshot", "latest", "note", "before the 0.10 rollout");
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", viewer, body, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", editor, body, &r), 0);
	if (r.status != 200)
		fail_msg("PUT baseline: %ld %s", r.status, r.body);
	assert_int_equal(json_integer_value(json_object_get(r.json, "snapshot_id")), vllm_good);
	assert_string_equal(json_string_value(json_object_get(r.json, "set_by")), "editor-bot");
	assert_string_equal(json_string_value(json_object_get(r.json, "note")), "before the 0.10 rollout");
	assert_string_equal(json_string_value(json_object_get(r.json, "source")), "snapshot");
	assert_false(json_is_true(json_object_get(r.json, "imported")));
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "PUT", TGI "/baseline", editor, body, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	json_decref(body);

	/* Bad bodies. */
	body = json_pack("{s:s}", "snapshot", "yesterday");
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:I}", "snapshot", (json_int_t)tgi_good);
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "another target"));
	tk_resp_free(&r);
	json_decref(body);

	get(VLLM "/baseline", viewer, 200, &r);
	assert_int_equal(json_integer_value(json_object_get(r.json, "snapshot_id")), vllm_good);
	tk_resp_free(&r);

	/* The rollout. */
	assert_int_equal(kubesim_set_state(good.k, "current", &e), 0);
	assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	vllm_now = latest_of(VLLM);
	assert_true(vllm_now > vllm_good);
	assert_int_equal(latest_of(TGI), tgi_good);
}

static void
test_diff_formats(void **state)
{
	struct tk_resp r;
	char path[256], ct[128];
	const json_t *v;
	size_t i;

	(void)state;
	get(VLLM "/diff", viewer, 200, &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "schema")), "skewd.diff/v1");
	v = json_object_get(r.json, "verdict");
	assert_true(json_is_string(json_object_get(v, "verdict")));
	assert_true(json_is_array(json_object_get(v, "reasons")));
	expect_change(r.json, "runtime", "max_model_len");
	expect_change(r.json, "runtime", "dtype");
	expect_change(r.json, "hardware", "");
	expect_change(r.json, "serving", "proxy-read-timeout");
	expect_change(r.json, "serving", "proxy-send-timeout");
	/* The same tag with another digest. */
	{
		const json_t *c;
		int digest = 0;

		json_array_foreach(json_object_get(r.json, "changes"), i, c) {
			const char *s = json_string_value(json_object_get(c, "summary"));
			const char *p = json_string_value(json_object_get(c, "path"));

			digest += (s != NULL && strstr(s, "78c33460") != NULL) || (p != NULL && strstr(p, "digest") != NULL);
		}
		if (digest == 0)
			fail_msg("no digest change in %s", r.body);
	}
	/* Mixed GPUs: a hardware change names the L4. */
	{
		const json_t *c;
		int l4 = 0;

		json_array_foreach(json_object_get(r.json, "changes"), i, c) {
			char *s = json_dumps(c, JSON_COMPACT);

			l4 += strcmp(json_string_value(json_object_get(c, "category")), "hardware") == 0 &&
			    strstr(s, "L4") != NULL;
			free(s);
		}
		if (l4 == 0)
			fail_msg("no hardware change naming the L4 in %s", r.body);
	}
	tk_resp_free(&r);

	/* The same with explicit ids. */
	snprintf(path, sizeof(path), VLLM "/diff?from=%lld&to=latest&format=json", vllm_good);
	get(path, viewer, 200, &r);
	expect_change(r.json, "runtime", "max_model_len");
	tk_resp_free(&r);

	get(VLLM "/diff?format=markdown", viewer, 200, &r);
	assert_non_null(strstr(tk_header(&r, "Content-Type", ct, sizeof(ct)), "text/markdown"));
	assert_non_null(strstr(r.body, "**Verdict:**"));
	assert_non_null(strstr(r.body, "max\\_model\\_len") != NULL ? r.body : strstr(r.body, "max_model_len"));
	tk_resp_free(&r);

	get(VLLM "/diff?format=text", viewer, 200, &r);
	assert_non_null(strstr(r.body, "Verdict: "));
	assert_non_null(strstr(r.body, "max_model_len"));
	tk_resp_free(&r);

	get(VLLM "/diff?format=patch", viewer, 200, &r);
	assert_non_null(strstr(r.body, "--- baseline"));
	assert_non_null(strstr(r.body, "+++ latest"));
	assert_non_null(strstr(r.body, "@@ "));
	assert_non_null(strstr(r.body, "proxy-read-timeout"));
	tk_resp_free(&r);

	get(VLLM "/diff?format=slack", viewer, 200, &r);
	assert_true(json_is_array(json_object_get(r.json, "blocks")));
	assert_true(json_array_size(json_object_get(r.json, "blocks")) <= 50);
	assert_true(json_is_string(json_object_get(r.json, "text")));
	tk_resp_free(&r);

	get(VLLM "/diff?format=yaml", viewer, 400, &r);
	tk_resp_free(&r);
	get(VLLM "/diff?from=0", viewer, 400, &r);
	tk_resp_free(&r);
	get(VLLM "/diff?from=999999", viewer, 404, &r);
	tk_resp_free(&r);

	/* Any two snapshots, two targets too. */
	snprintf(path, sizeof(path), "/api/v1/diff?from=%lld&to=%lld", vllm_good, vllm_now);
	get(path, viewer, 200, &r);
	expect_change(r.json, "runtime", "dtype");
	assert_true(json_is_object(json_object_get(r.json, "verdict")));
	tk_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/diff?from=%lld&to=%lld&format=markdown", vllm_now, tgi_good);
	get(path, viewer, 200, &r);
	assert_non_null(strstr(r.body, "Verdict"));
	tk_resp_free(&r);
	snprintf(path, sizeof(path), "/api/v1/diff?from=%lld", vllm_good);
	get(path, viewer, 400, &r);
	tk_resp_free(&r);
	/* A target's diff refuses another target's snapshot. */
	snprintf(path, sizeof(path), VLLM "/diff?from=%lld", tgi_good);
	get(path, viewer, 400, &r);
	tk_resp_free(&r);
}

/* The report's links (new reference kept in a static: valid until the next call). */
static const json_t *
links_of(const char *target)
{
	static json_t *last;
	struct tk_resp r;
	char path[256];

	json_decref(last);
	snprintf(path, sizeof(path), "%s/report", target);
	get(path, viewer, 200, &r);
	last = json_incref(json_object_get(r.json, "links"));
	tk_resp_free(&r);
	return last;
}

/* Inserts a bundle row for a target straight into the server's database. */
static void
add_bundle(const char *name, const char *id, long long created_at)
{
	char db_path[400], sql[1024];
	sqlite3 *db = NULL;
	char *msg = NULL;

	snprintf(db_path, sizeof(db_path), "%s/data/skewd.db", srv.dir);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO bundles (id, target_id, target, to_snapshot_id, file, size, sha256, created_at,"
	    " created_by) SELECT '%s', id, 'good/llm/deployment/%s', 1, '%s.tar.gz', 1,"
	    " '0000000000000000000000000000000000000000000000000000000000000000', %lld, 'editor-bot'"
	    " FROM targets WHERE name = '%s'", id, name, id, created_at, name);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("insert bundle: %s", msg);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_close(db);
}

static void
test_reports(void **state)
{
	struct tk_resp r;
	const json_t *links;

	(void)state;
	get(VLLM "/report", viewer, 200, &r);
	assert_string_equal(json_string_value(json_object_get(r.json, "schema")), "skewd.report/v1");
	assert_true(json_is_object(json_object_get(r.json, "verdict")));
	assert_true(json_array_size(json_object_get(r.json, "changes")) > 0);
	assert_true(json_array_size(json_object_get(r.json, "changes")) <= 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "summary"), "changes")),
	    (json_int_t)json_array_size(json_object_get(r.json, "changes")) +
	    json_integer_value(json_object_get(r.json, "more")));
	links = json_object_get(r.json, "links");
	assert_string_equal(json_string_value(json_object_get(links, "dashboard")),
	    "https://skewd.example.com/#/targets/good/llm/deployment/vllm-llama");
	tk_resp_free(&r);

	get(VLLM "/report?format=markdown", viewer, 200, &r);
	assert_non_null(strstr(r.body, "# skewd report: "));
	assert_non_null(strstr(r.body, "**Verdict:** "));
	assert_non_null(strstr(r.body, "## Changes ("));
	assert_non_null(strstr(r.body, "| severity | category | object | change |"));
	assert_non_null(strstr(r.body, "runtime"));
	assert_non_null(strstr(r.body, "[Dashboard](https://skewd.example.com/#/targets/good/llm/deployment/vllm-llama)"));
	tk_resp_free(&r);

	get(VLLM "/report?format=slack", viewer, 200, &r);
	assert_non_null(r.json);
	assert_true(json_is_array(json_object_get(r.json, "blocks")));
	assert_true(json_array_size(json_object_get(r.json, "blocks")) <= 50);
	assert_non_null(strstr(r.body, "<https://skewd.example.com/#/targets/good/llm/deployment/vllm-llama|Dashboard>"));
	tk_resp_free(&r);

	get(VLLM "/report?format=patch", viewer, 400, &r);
	tk_resp_free(&r);

	/* A bundle row (as POST .../bundles leaves one) makes the report link it. */
	assert_true(json_is_null(json_object_get(links_of(VLLM), "bundle")));
	add_bundle("vllm-llama", "b7q3xk2m9d4f6h8j0n1p5r7t9v", 100);
	add_bundle("vllm-llama", "c7q3xk2m9d4f6h8j0n1p5r7t9v", 200);
	add_bundle("tgi-gemma", "d7q3xk2m9d4f6h8j0n1p5r7t9v", 300);
	assert_string_equal(json_string_value(json_object_get(links_of(VLLM), "bundle")),
	    "https://skewd.example.com/b/c7q3xk2m9d4f6h8j0n1p5r7t9v");
	get(VLLM "/report?format=markdown", viewer, 200, &r);
	assert_non_null(strstr(r.body, "[Newest bundle](https://skewd.example.com/b/c7q3xk2m9d4f6h8j0n1p5r7t9v)"));
	tk_resp_free(&r);

	/* tgi-gemma did not change: a report with no changes. */
	get(TGI "/report", viewer, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "changes")), 0);
	tk_resp_free(&r);
}

static void
test_drift_list(void **state)
{
	struct tk_resp r;
	const json_t *t, *d;
	size_t i;
	int vllm = 0, tgi = 0;

	(void)state;
	/* Twice: the second answer comes from the cache and must be the same. */
	for (int round = 0; round < 2; round++) {
		vllm = tgi = 0;
		get("/api/v1/targets?drift=true", viewer, 200, &r);
		json_array_foreach(json_object_get(r.json, "targets"), i, t) {
			const char *name = json_string_value(json_object_get(t, "name"));

			if (strcmp(name, "vllm-llama") == 0) {
				vllm++;
				d = json_object_get(t, "drift");
				assert_int_equal(json_integer_value(json_object_get(d, "baseline_snapshot_id")), vllm_good);
				assert_int_equal(json_integer_value(json_object_get(d, "latest_snapshot_id")), vllm_now);
				assert_true(json_integer_value(json_object_get(d, "changes")) >= 5);
				assert_true(json_integer_value(json_object_get(json_object_get(d, "by_category"),
				    "runtime")) >= 2);
				assert_true(json_is_object(json_object_get(d, "by_severity")));
			}
			tgi += strcmp(name, "tgi-gemma") == 0;
		}
		tk_resp_free(&r);
		assert_int_equal(vllm, 1);
		assert_int_equal(tgi, 0);
	}
	get("/api/v1/targets?drift=true&cluster=good", viewer, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "targets")), 1);
	tk_resp_free(&r);
	/* drift=false is the plain list. */
	get("/api/v1/targets?drift=false", viewer, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "targets")), 2);
	tk_resp_free(&r);
	get("/api/v1/targets?drift=maybe", viewer, 400, &r);
	tk_resp_free(&r);
}

/* The saved last-good manifests of the workload (nodes, Deployment with its
 * ReplicaSets and Pods, Service, Ingress, HPA, ...), as one YAML stream. */
static char *
lastgood_yaml(void)
{
	static const char *const files[] = { "01-nodes.yaml", "10-vllm-llama.yaml", "11-vllm-llama-routing.yaml" };
	const char *fixtures = getenv("SKEWD_FIXTURES");
	char path[512], *all = NULL, *one, *grown;
	size_t i, len = 0, n;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/cluster/lastgood/%s", fixtures, files[i]);
		one = tk_read_file(path, &n);
		if (one == NULL)
			fail_msg("cannot read %s", path);
		grown = realloc(all, len + n + 8);
		assert_non_null(grown);
		all = grown;
		memcpy(all + len, "\n---\n", 5);
		memcpy(all + len + 5, one, n);
		len += n + 5;
		all[len] = '\0';
		free(one);
	}
	return all;
}

static void
test_import(void **state)
{
	char *yaml = lastgood_yaml();
	json_t *body;
	struct tk_resp r;
	long long imported;

	(void)state;
	body = json_pack("{s:s, s:s}", "document", yaml, "note", "from git: release-2026-11-03");
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", viewer, body, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	if (r.status != 201)
		fail_msg("import: %ld %s", r.status, r.body);
	assert_string_equal(json_string_value(json_object_get(r.json, "source")), "import");
	assert_true(json_is_true(json_object_get(r.json, "imported")));
	assert_string_equal(json_string_value(json_object_get(r.json, "note")), "from git: release-2026-11-03");
	imported = json_integer_value(json_object_get(r.json, "snapshot_id"));
	assert_true(imported > vllm_now);
	tk_resp_free(&r);
	json_decref(body);
	free(yaml);

	/* It is the baseline, the history has both, and the target's latest is still its pull. */
	get(VLLM "/baseline", viewer, 200, &r);
	assert_int_equal(json_integer_value(json_object_get(r.json, "snapshot_id")), imported);
	tk_resp_free(&r);
	get(VLLM "/baselines", viewer, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "baselines")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "baselines"), 1),
	    "snapshot_id")), vllm_good);
	tk_resp_free(&r);
	assert_int_equal(latest_of(VLLM), vllm_now);
	/* The history marks the imported snapshot; the pulled ones say so. */
	get(VLLM "/snapshots", viewer, 200, &r);
	{
		const json_t *sn;
		size_t i;
		int seen_import = 0, seen_pull = 0;

		json_array_foreach(json_object_get(r.json, "snapshots"), i, sn) {
			const char *src = json_string_value(json_object_get(sn, "source"));
			long long id = json_integer_value(json_object_get(sn, "id"));

			assert_non_null(src);
			if (id == imported) {
				assert_string_equal(src, "import");
				seen_import = 1;
			} else {
				assert_string_equal(src, "pull");
				seen_pull = 1;
			}
		}
		assert_true(seen_import && seen_pull);
	}
	tk_resp_free(&r);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/snapshots/%lld", imported);
		get(path, viewer, 200, &r);
		assert_string_equal(json_string_value(json_object_get(r.json, "source")), "import");
		tk_resp_free(&r);
		snprintf(path, sizeof(path), "/api/v1/snapshots/%lld", vllm_now);
		get(path, viewer, 200, &r);
		assert_string_equal(json_string_value(json_object_get(r.json, "source")), "pull");
		tk_resp_free(&r);
	}

	/* The imported last good against now: the same regression. */
	get(VLLM "/diff", viewer, 200, &r);
	expect_change(r.json, "runtime", "max_model_len");
	expect_change(r.json, "runtime", "dtype");
	expect_change(r.json, "serving", "proxy-read-timeout");
	tk_resp_free(&r);

	/* A file without the workload, and bodies that are not files. */
	body = json_pack("{s:s}", "document", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "vllm-llama"));
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:i}", "document", 3);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:s}", "document", "a: [1, 2\n");
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
}

/* Posts a hostile document; it must be refused with a 4xx within a second. */
static void
refuse_fast(const char *doc)
{
	json_t *body = json_pack("{s:s}", "document", doc);
	struct tk_resp r;
	double t0 = now_s(), took;

	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	took = now_s() - t0;
	if (r.status < 400 || r.status > 499)
		fail_msg("a hostile document got %ld: %s", r.status, r.body);
	if (took > 1.0)
		fail_msg("a hostile document took %.2f s", took);
	tk_resp_free(&r);
	json_decref(body);
}

static void
test_import_bombs(void **state)
{
	struct tk_resp r;

	(void)state;
	refuse_fast("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n");
	refuse_fast("&a [*a]\n");
	/* Nothing was recorded: the baseline is still the import of test_import. */
	get(VLLM "/baselines", viewer, 200, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "baselines")), 2);
	tk_resp_free(&r);
}

static void
test_no_canary_in_answers(void **state)
{
	const char *form;

	(void)state;
	form = ck_leak(ck_seen, ck_seen_len, CK_CANARY_SECRET);
	if (form != NULL)
		fail_msg("the fixture's Secret value appeared in an answer (%s)", form);
	form = ck_leak(ck_seen, ck_seen_len, CK_CANARY_TOKEN);
	if (form != NULL)
		fail_msg("the registered token appeared in an answer (%s)", form);
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_then_diff),
		cmocka_unit_test(test_diff_formats),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_drift_list),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_import_bombs),
		cmocka_unit_test(test_no_canary_in_answers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
