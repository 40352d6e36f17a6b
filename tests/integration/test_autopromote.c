/*
 * test_autopromote.c - auto-promotion (auto_promote_after_s) through the real
 * server and a simulated cluster (kubesim in this process) over a copy of the
 * fixture cluster with a third state, "trouble": the last-good state with a
 * vllm-llama pod restarted 3 times and tgi-gemma's replica not ready (same
 * configuration, so the same snapshot; only the evidence differs).
 *
 * One kubesim, several registrations of it (each a cluster with its own
 * targets), a server with a 2 s window and one with auto-promotion off:
 *
 *   t0  (lastgood) pull every cluster; a person sets v's baseline; r imports one.
 *   t1  (lastgood) p: both targets promoted, once; o (off): nothing;
 *       r: tgi promoted, vllm keeps the imported baseline (a newer human decision);
 *       (current)  q: vllm changed within the window, not promoted; tgi promoted;
 *                  v: vllm changed (new snapshot);
 *       (trouble)  c: vllm restarted, tgi not ready: neither promoted.
 *   t2  (current)  v: vllm's new snapshot is promoted over the person's older
 *       baseline exactly when the verdict is not a regression;
 *       (lastgood) c: healthy for a whole window since its trouble: promoted.
 *
 * Waiting past the window is part of the feature; nothing asserts on how long
 * anything took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define WINDOW_S 2

static struct tk_server on, off;
static struct kubesim *sim;
static char simdir[256], tlsdir[300];
static char *ca_pem, *admin_on, *admin_off, *editor_on;

/* Replaces the first `from` in file `path` with `to`. */
static int
patch_file(const char *path, const char *from, const char *to)
{
	size_t len;
	char *text = tk_read_file(path, &len), *at;
	FILE *f;
	int ret = -1;

	if (text == NULL || (at = strstr(text, from)) == NULL) {
		fprintf(stderr, "%s has no '%s'\n", path, from);
		free(text);
		return -1;
	}
	f = fopen(path, "w");
	if (f != NULL) {
		fwrite(text, 1, (size_t)(at - text), f);
		fputs(to, f);
		fputs(at + strlen(from), f);
		ret = fclose(f) == 0 ? 0 : -1;
	}
	free(text);
	return ret;
}

static int
setup(void **state)
{
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	char cmd[1400], path[600], role[512];
	struct kubesim_user users[] = { { "collector", CK_CANARY_TOKEN, KUBESIM_ROLE_COLLECTOR, 0 } };
	struct kubesim_options o;
	struct err e = ERR_INIT;

	(void)state;
	if (fixtures == NULL || src == NULL)
		return -1;
	snprintf(simdir, sizeof(simdir), "/tmp/skewd-test-promote-XXXXXX");
	if (mkdtemp(simdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -r '%s/cluster/lastgood' '%s/cluster/current' '%s/' && "
	    "cp -r '%s/cluster/lastgood' '%s/trouble' && mkdir '%s/tls'",
	    fixtures, fixtures, simdir, fixtures, simdir, simdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/trouble/10-vllm-llama.yaml", simdir);
	if (patch_file(path, "    restartCount: 0", "    restartCount: 3") < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/trouble/20-tgi-gemma.yaml", simdir);
	if (patch_file(path, "  readyReplicas: 1", "  readyReplicas: 0") < 0 ||
	    patch_file(path, "    ready: true", "    ready: false") < 0)
		return -1;
	snprintf(tlsdir, sizeof(tlsdir), "%s/tls", simdir);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = simdir;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = tlsdir;
	o.users = users;
	o.nusers = 1;
	o.threads = 8;
	if (kubesim_start(&o, &sim, &e) < 0) {
		fprintf(stderr, "kubesim_start: %s\n", e.msg);
		return -1;
	}
	ca_pem = tk_read_file(kubesim_ca_path(sim), NULL);
	if (ca_pem == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "collect_interval_s: 0\ncollect_timeout_ms: 5000\nauto_promote_after_s: %d\n",
	    WINDOW_S);
	if (tk_start(&on, cmd) < 0 || tk_start(&off, "collect_interval_s: 0\ncollect_timeout_ms: 5000\n") < 0)
		return -1;
	admin_on = tk_token(&on, "admin-bot", "admin");
	editor_on = tk_token(&on, "editor-bot", "editor");
	admin_off = tk_token(&off, "admin-bot", "admin");
	if (admin_on == NULL || editor_on == NULL || admin_off == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	assert_int_equal(tk_stop(&on), 0);
	assert_int_equal(tk_stop(&off), 0);
	tk_cleanup(&on);
	tk_cleanup(&off);
	kubesim_stop(sim);
	free(ca_pem);
	free(admin_on);
	free(admin_off);
	free(editor_on);
	free(ck_seen);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", simdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
state_to(const char *name)
{
	struct err e = ERR_INIT;

	if (kubesim_set_state(sim, name, &e) < 0)
		fail_msg("kubesim state %s: %s", name, e.msg);
}

static void
pull(struct tk_server *s, const char *token, const char *cluster)
{
	struct tk_resp r;

	assert_int_equal(ck_collect(s, token, cluster, &r), 0);
	if (r.status != 200 || json_array_size(json_object_get(r.json, "errors")) != 0)
		fail_msg("pull of %s: %ld %s", cluster, r.status, r.body);
	tk_resp_free(&r);
}

/* The baselines of cluster/llm/deployment/app, newest first (new reference). */
static json_t *
baselines(struct tk_server *s, const char *token, const char *cluster, const char *app)
{
	char path[256];
	struct tk_resp r;
	json_t *out;

	snprintf(path, sizeof(path), "/api/v1/targets/%s/llm/deployment/%s/baselines", cluster, app);
	assert_int_equal(ck_req(s, "GET", path, token, NULL, &r), 0);
	if (r.status != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body);
	out = json_incref(json_object_get(r.json, "baselines"));
	tk_resp_free(&r);
	return out;
}

static json_t *
target(struct tk_server *s, const char *token, const char *cluster, const char *app)
{
	char path[256];
	struct tk_resp r;
	json_t *out;

	snprintf(path, sizeof(path), "/api/v1/targets/%s/llm/deployment/%s", cluster, app);
	assert_int_equal(ck_req(s, "GET", path, token, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	out = json_incref(r.json);
	tk_resp_free(&r);
	return out;
}

/* No baseline at all. */
static void
expect_none(struct tk_server *s, const char *token, const char *cluster, const char *app)
{
	json_t *b = baselines(s, token, cluster, app);

	if (json_array_size(b) != 0) {
		char *t = json_dumps(b, 0);

		fail_msg("%s/%s should have no baseline, has %s", cluster, app, t);
	}
	json_decref(b);
}

/* Exactly one baseline, by auto-promotion, of the target's latest snapshot. */
static void
expect_promoted_once(struct tk_server *s, const char *token, const char *cluster, const char *app)
{
	json_t *b = baselines(s, token, cluster, app), *t = target(s, token, cluster, app), *one;
	const char *note;

	if (json_array_size(b) != 1) {
		char *txt = json_dumps(b, 0);

		fail_msg("%s/%s should have one baseline, has %s", cluster, app, txt);
	}
	one = json_array_get(b, 0);
	assert_string_equal(json_string_value(json_object_get(one, "set_by")), "auto-promotion");
	assert_string_equal(json_string_value(json_object_get(one, "source")), "auto");
	assert_false(json_is_true(json_object_get(one, "imported")));
	assert_int_equal(json_integer_value(json_object_get(one, "snapshot_id")),
	    json_integer_value(json_object_get(t, "latest_snapshot_id")));
	note = json_string_value(json_object_get(one, "note"));
	assert_non_null(note);
	if (strncmp(note, "unchanged and healthy for 2s since 20", 37) != 0 ||
	    strstr(note, "replicas ready, no container restarts") == NULL)
		fail_msg("%s/%s: note '%s'", cluster, app, note);
	json_decref(b);
	json_decref(t);
}

static void
test_autopromote(void **state)
{
	static const char *const on_clusters[] = { "p", "q", "c", "r", "v" };
	json_t *body, *b, *t, *one;
	struct tk_resp r;
	char *yaml, path[400];
	long long v_good, v_now;
	const char *verdict;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(on_clusters) / sizeof(on_clusters[0]); i++)
		assert_int_equal(ck_register(&on, admin_on, on_clusters[i], kubesim_url(sim), ca_pem,
		    CK_CANARY_TOKEN), 201);
	assert_int_equal(ck_register(&off, admin_off, "o", kubesim_url(sim), ca_pem, CK_CANARY_TOKEN), 201);

	/* t0: everything in its last-good state. */
	for (i = 0; i < sizeof(on_clusters) / sizeof(on_clusters[0]); i++)
		pull(&on, editor_on, on_clusters[i]);
	pull(&off, admin_off, "o");
	/* Too young to promote anything. */
	expect_none(&on, editor_on, "p", "vllm-llama");
	expect_none(&on, editor_on, "q", "tgi-gemma");
	/* A person marks v's vllm as last good; r's vllm gets an imported baseline. */
	body = json_pack("{s:s, s:s}", "snapshot", "latest", "note", "checked by hand");
	assert_int_equal(ck_req(&on, "PUT", "/api/v1/targets/v/llm/deployment/vllm-llama/baseline", editor_on,
	    body, &r), 0);
	assert_int_equal(r.status, 200);
	v_good = json_integer_value(json_object_get(r.json, "snapshot_id"));
	tk_resp_free(&r);
	json_decref(body);
	snprintf(path, sizeof(path), "%s/lastgood/10-vllm-llama.yaml", simdir);
	yaml = tk_read_file(path, NULL);
	assert_non_null(yaml);
	body = json_pack("{s:s, s:s}", "document", yaml, "note", "from git");
	assert_int_equal(ck_req(&on, "POST", "/api/v1/targets/r/llm/deployment/vllm-llama/baseline/import",
	    editor_on, body, &r), 0);
	if (r.status != 201)
		fail_msg("import: %ld %s", r.status, r.body);
	tk_resp_free(&r);
	json_decref(body);
	free(yaml);

	sleep(WINDOW_S + 1);

	/* t1, last good: unchanged and healthy for the window. */
	pull(&on, editor_on, "p");
	expect_promoted_once(&on, editor_on, "p", "vllm-llama");
	expect_promoted_once(&on, editor_on, "p", "tgi-gemma");
	/* Another pull of the same content adds no baseline. */
	pull(&on, editor_on, "p");
	expect_promoted_once(&on, editor_on, "p", "vllm-llama");
	expect_promoted_once(&on, editor_on, "p", "tgi-gemma");
	/* Off: nothing, however long. */
	pull(&off, admin_off, "o");
	expect_none(&off, admin_off, "o", "vllm-llama");
	expect_none(&off, admin_off, "o", "tgi-gemma");
	/* The import came after the snapshot was first seen: it stays. */
	pull(&on, editor_on, "r");
	b = baselines(&on, editor_on, "r", "vllm-llama");
	assert_int_equal(json_array_size(b), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "source")), "import");
	json_decref(b);
	expect_promoted_once(&on, editor_on, "r", "tgi-gemma");

	/* t1, current: vllm changed within the window; tgi did not change. */
	state_to("current");
	pull(&on, editor_on, "q");
	expect_none(&on, editor_on, "q", "vllm-llama");
	expect_promoted_once(&on, editor_on, "q", "tgi-gemma");
	pull(&on, editor_on, "v");
	t = target(&on, editor_on, "v", "vllm-llama");
	v_now = json_integer_value(json_object_get(t, "latest_snapshot_id"));
	json_decref(t);
	assert_true(v_now > v_good);
	b = baselines(&on, editor_on, "v", "vllm-llama");
	assert_int_equal(json_array_size(b), 1);
	json_decref(b);

	/* t1, trouble: a restart and a replica not ready in the window. */
	state_to("trouble");
	pull(&on, editor_on, "c");
	expect_none(&on, editor_on, "c", "vllm-llama");
	expect_none(&on, editor_on, "c", "tgi-gemma");
	/* Still not after the trouble is over: the window holds it. */
	state_to("lastgood");
	pull(&on, editor_on, "c");
	expect_none(&on, editor_on, "c", "vllm-llama");
	expect_none(&on, editor_on, "c", "tgi-gemma");

	sleep(WINDOW_S + 1);

	/* t2, current: v's new snapshot has been unchanged and healthy for the
	 * window, and the person's baseline is older: promoted exactly when the
	 * verdict of that baseline against it is not a regression. */
	state_to("current");
	pull(&on, editor_on, "v");
	snprintf(path, sizeof(path), "/api/v1/targets/v/llm/deployment/vllm-llama/diff?from=%lld&to=%lld",
	    v_good, v_now);
	assert_int_equal(ck_req(&on, "GET", path, editor_on, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	verdict = json_string_value(json_object_get(json_object_get(r.json, "verdict"), "verdict"));
	assert_non_null(verdict);
	fprintf(stderr, "the verdict of v's hand-set baseline against its new snapshot: %s\n", verdict);
	b = baselines(&on, editor_on, "v", "vllm-llama");
	one = json_array_get(b, 0);
	if (strcmp(verdict, "skew_likely") == 0 || strcmp(verdict, "capacity_likely") == 0) {
		assert_int_equal(json_array_size(b), 1);
		assert_int_equal(json_integer_value(json_object_get(one, "snapshot_id")), v_good);
	} else {
		char want[64];

		assert_int_equal(json_array_size(b), 2);
		assert_int_equal(json_integer_value(json_object_get(one, "snapshot_id")), v_now);
		assert_string_equal(json_string_value(json_object_get(one, "source")), "auto");
		snprintf(want, sizeof(want), "; verdict %s", verdict);
		assert_non_null(strstr(json_string_value(json_object_get(one, "note")), want));
		/* The older, hand-set baseline is in the history behind it. */
		assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 1), "snapshot_id")), v_good);
	}
	json_decref(b);
	tk_resp_free(&r);
	/* c has been healthy again for a whole window since its trouble: the
	 * window slides, and the same snapshot is promoted now. */
	state_to("lastgood");
	pull(&on, editor_on, "c");
	expect_promoted_once(&on, editor_on, "c", "vllm-llama");
	expect_promoted_once(&on, editor_on, "c", "tgi-gemma");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autopromote),
	};

	return cmocka_run_group_tests_name("autopromote", tests, setup, teardown);
}
