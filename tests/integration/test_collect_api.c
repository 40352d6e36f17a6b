/*
 * test_collect_api.c - pulling clusters through the API of the real server
 * from simulated API servers (kubesim, in this process): discovery of
 * targets; a snapshot whose facts carry the model, args, image digest, GPU
 * product and driver, HPA and ingress timeouts; an unchanged second poll that
 * stores no new document; the regression of the "current" state as a new
 * snapshot; paging; each kubesim fault recorded on one cluster while another
 * keeps being pulled; and the canaries (a registered bearer token and the
 * fixture's Secret value) in no form in the database, its WAL, the server's
 * log or any answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"

static struct tk_server srv;
static struct ck_sim good, bad;
static char *viewer, *editor, *admin;

static int
setup(void **state)
{
	(void)state;
	if (ck_sim_start(&good) < 0 || ck_sim_start(&bad) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 2000\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL)
		return -1;
	if (ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN) != 201 ||
	    ck_register(&srv, admin, "bad", kubesim_url(bad.k), bad.ca_pem, CK_CANARY_TOKEN) != 201)
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
	ck_sim_stop(&bad);
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

/* The entry of a collect answer for target `t`, borrowed from r. */
static json_t *
snap_of(const struct tk_resp *r, const char *t)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(r->json, "snapshots"), i, s) {
		if (strcmp(json_string_value(json_object_get(s, "target")), t) == 0)
			return s;
	}
	return NULL;
}

static size_t
history_len(const char *target_path)
{
	struct tk_resp r;
	char path[512];
	size_t n;

	snprintf(path, sizeof(path), "%s/snapshots", target_path);
	if (ck_req(&srv, "GET", path, viewer, NULL, &r) < 0 || r.status != 200)
		fail_msg("GET %s failed", path);
	n = json_array_size(json_object_get(r.json, "snapshots"));
	tk_resp_free(&r);
	return n;
}

static void
test_discovery_and_first_pull(void **state)
{
	struct tk_resp r;
	json_t *s, *t;
	size_t i;
	int seen_vllm = 0, seen_tgi = 0;

	(void)state;
	/* Nothing is known before the first pull. */
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets?cluster=good", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "targets")), 0);
	tk_resp_free(&r);

	assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
	if (r.status != 200)
		fail_msg("collect: %ld %s", r.status, r.body);
	assert_int_equal(json_array_size(json_object_get(r.json, "snapshots")), 2);
	s = snap_of(&r, "good/llm/deployment/vllm-llama");
	assert_non_null(s);
	assert_true(json_integer_value(json_object_get(s, "id")) > 0);
	assert_true(json_is_true(json_object_get(s, "changed")));
	assert_non_null(snap_of(&r, "good/llm/deployment/tgi-gemma"));
	tk_resp_free(&r);

	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets?cluster=good", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	json_array_foreach(json_object_get(r.json, "targets"), i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));

		assert_string_equal(json_string_value(json_object_get(t, "kind")), "deployment");
		assert_string_equal(json_string_value(json_object_get(t, "namespace")), "llm");
		assert_false(json_is_true(json_object_get(t, "gone")));
		assert_true(json_is_integer(json_object_get(t, "latest_snapshot_id")));
		seen_vllm += strcmp(name, "vllm-llama") == 0;
		seen_tgi += strcmp(name, "tgi-gemma") == 0;
	}
	assert_int_equal(seen_vllm, 1);
	assert_int_equal(seen_tgi, 1);
	tk_resp_free(&r);

	/* An unknown cluster in the filter is 404, a malformed escape 400. */
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets?cluster=nope", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets?cluster=%zz", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
}

/* Every expected fact appears in the serialized facts of the snapshot. */
static void
test_snapshot_facts(void **state)
{
	static const char *const want[] = {
		"meta-llama/Llama-3.1-8B-Instruct",      /* model */
		"32768",                                 /* --max-model-len (args) */
		"bfloat16",                              /* --dtype */
		"sha256:aa65d015",                       /* image digest (imageID) */
		"NVIDIA-A100-SXM4-80GB",                 /* GPU product from node labels */
		"535",                                   /* CUDA driver major from node labels */
		"vllm_num_requests_waiting",             /* HPA metric */
		"3600",                                  /* ingress proxy-read-timeout */
	};
	struct tk_resp r, snap;
	json_t *facts, *latest;
	char *text, path[64];
	size_t i;

	(void)state;
	assert_int_equal(ck_req(&srv, "GET", VLLM, viewer, NULL, &r), 0);
	if (r.status != 200)
		fail_msg("GET target: %ld %s", r.status, r.body);
	latest = json_object_get(r.json, "latest_snapshot");
	assert_true(json_is_object(latest));
	facts = json_object_get(latest, "facts");
	assert_true(json_is_object(facts));
	for (i = 0; i < 5; i++) {
		static const char *const cats[] = { "model", "runtime", "hardware", "serving", "orchestration" };

		if (!json_is_object(json_object_get(facts, cats[i])))
			fail_msg("facts lack the category %s", cats[i]);
	}
	text = json_dumps(facts, JSON_COMPACT);
	assert_non_null(text);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(text, want[i]) == NULL)
			fail_msg("the facts lack '%s': %s", want[i], text);
	}
	free(text);
	assert_true(json_is_object(json_object_get(r.json, "latest_evidence")));
	assert_non_null(json_object_get(json_object_get(r.json, "latest_evidence"), "taken_at"));

	/* The snapshot itself: meta, target and the whole document. */
	snprintf(path, sizeof(path), "/api/v1/snapshots/%lld",
	    (long long)json_integer_value(json_object_get(latest, "id")));
	assert_int_equal(ck_req(&srv, "GET", path, viewer, NULL, &snap), 0);
	assert_int_equal(snap.status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(snap.json, "target"), "target")),
	    "good/llm/deployment/vllm-llama");
	assert_string_equal(json_string_value(json_object_get(snap.json, "hash")),
	    json_string_value(json_object_get(latest, "hash")));
	assert_non_null(json_string_value(json_object_get(json_object_get(snap.json, "document"), "schema")));
	assert_true(json_is_object(json_object_get(json_object_get(snap.json, "document"), "facts")));
	tk_resp_free(&snap);
	tk_resp_free(&r);

	assert_int_equal(ck_req(&srv, "GET", "/api/v1/snapshots/999999", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/snapshots/abc", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets/good/llm/pod/vllm-llama", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets/good/llm/deployment/nope", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
}

static void
test_unchanged_poll_and_regression(void **state)
{
	struct tk_resp r;
	json_t *s;
	long long first_id;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(history_len(VLLM), 1);
	/* The same state again: no new document, the same snapshot id. */
	assert_int_equal(ck_req(&srv, "POST", VLLM "/collect", editor, NULL, &r), 0);
	if (r.status != 200)
		fail_msg("collect target: %ld %s", r.status, r.body);
	s = snap_of(&r, "good/llm/deployment/vllm-llama");
	assert_non_null(s);
	assert_true(json_is_false(json_object_get(s, "changed")));
	first_id = json_integer_value(json_object_get(s, "id"));
	tk_resp_free(&r);
	assert_int_equal(history_len(VLLM), 1);

	/* The rollout that regressed: vllm-llama changes, tgi-gemma does not. */
	assert_int_equal(kubesim_set_state(good.k, "current", &e), 0);
	assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
	assert_int_equal(r.status, 200);
	s = snap_of(&r, "good/llm/deployment/vllm-llama");
	assert_true(json_is_true(json_object_get(s, "changed")));
	assert_true(json_integer_value(json_object_get(s, "id")) != first_id);
	assert_true(json_is_false(json_object_get(snap_of(&r, "good/llm/deployment/tgi-gemma"), "changed")));
	tk_resp_free(&r);
	assert_int_equal(history_len(VLLM), 2);
	assert_int_equal(history_len("/api/v1/targets/good/llm/deployment/tgi-gemma"), 1);

	/* Paging: one per page, newest first, then the older one, then the end. */
	assert_int_equal(ck_req(&srv, "GET", VLLM "/snapshots?limit=1", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "snapshots")), 1);
	assert_true(json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "snapshots"), 0),
	    "id")) != first_id);
	{
		char path[256];

		snprintf(path, sizeof(path), VLLM "/snapshots?limit=1&before=%lld",
		    (long long)json_integer_value(json_object_get(r.json, "next_before")));
		tk_resp_free(&r);
		assert_int_equal(ck_req(&srv, "GET", path, viewer, NULL, &r), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r.json,
		    "snapshots"), 0), "id")), first_id);
		tk_resp_free(&r);
	}
	assert_int_equal(ck_req(&srv, "GET", VLLM "/snapshots?limit=0", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", VLLM "/snapshots?before=x", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	assert_int_equal(kubesim_set_state(good.k, "lastgood", &e), 0);
}

struct pull_arg {
	const char *cluster;
	long status;
	double took;
};

static void *
pull_thread(void *p)
{
	struct pull_arg *a = p;
	struct tk_resp r;
	double t0 = now_s();

	a->status = -1;
	if (ck_collect(&srv, editor, a->cluster, &r) == 0) {
		a->status = r.status;
		tk_resp_free(&r);
	}
	a->took = now_s() - t0;
	return NULL;
}

static void
test_faults_stay_on_their_cluster(void **state)
{
	static const struct {
		const char *name;
		int param;
	} faults[] = {
		{ "401", 0 }, { "403", 0 }, { "404", 0 }, { "410", 0 }, { "429", 1 }, { "500", 0 },
		{ "hang", 0 }, { "slow", 50 }, { "truncated", 0 }, { "huge", 64 },
	};
	struct err e = ERR_INIT;
	enum kubesim_fault_kind kind;
	size_t i, before_bad;
	json_t *h;
	struct tk_resp r;

	(void)state;
	/* A baseline for "bad" before anything goes wrong. */
	assert_int_equal(ck_collect(&srv, editor, "bad", &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	before_bad = history_len("/api/v1/targets/bad/llm/deployment/vllm-llama");
	assert_int_equal(before_bad, 1);

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct pull_arg pb = { "bad", 0, 0 }, pg = { "good", 0, 0 };
		pthread_t tb, tg;
		const char *msg;

		assert_int_equal(kubesim_fault_parse(faults[i].name, &kind), 0);
		assert_int_equal(kubesim_set_fault(bad.k, "", kind, faults[i].param, &e), 0);
		/* The two pulls run at once: the failing one must not hold up the other. */
		assert_int_equal(pthread_create(&tb, NULL, pull_thread, &pb), 0);
		assert_int_equal(pthread_create(&tg, NULL, pull_thread, &pg), 0);
		pthread_join(tg, NULL);
		pthread_join(tb, NULL);
		kubesim_clear_faults(bad.k);
		if (pg.status != 200)
			fail_msg("fault %s on 'bad': pulling 'good' answered %ld", faults[i].name, pg.status);
		if (pb.status == 200)
			fail_msg("fault %s: pulling 'bad' answered 200", faults[i].name);
		if (strcmp(faults[i].name, "hang") == 0 && pg.took > pb.took)
			fail_msg("fault hang: 'good' took %.2f s, longer than the hung 'bad' (%.2f s)", pg.took,
			    pb.took);
		h = ck_health(&srv, viewer, "bad");
		msg = json_string_value(json_object_get(h, "last_error"));
		if (msg == NULL || msg[0] == '\0')
			fail_msg("fault %s: no error recorded on 'bad'", faults[i].name);
		assert_null(strstr(msg, CK_CANARY_TOKEN));
		json_decref(h);
		h = ck_health(&srv, viewer, "good");
		assert_true(json_is_null(json_object_get(h, "last_error")));
		json_decref(h);
		/* Nothing stored before was touched. */
		assert_int_equal(history_len("/api/v1/targets/bad/llm/deployment/vllm-llama"), before_bad);
	}

	/* Once the faults are gone, "bad" pulls again and the error clears. */
	assert_int_equal(ck_collect(&srv, editor, "bad", &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	h = ck_health(&srv, viewer, "bad");
	assert_true(json_is_null(json_object_get(h, "last_error")));
	json_decref(h);
}

static void
check_no_canary(const char *what, const char *data, size_t len)
{
	const char *form;

	if ((form = ck_leak(data, len, CK_CANARY_TOKEN)) != NULL)
		fail_msg("%s holds the canary bearer token (%s)", what, form);
	if ((form = ck_leak(data, len, CK_CANARY_SECRET)) != NULL)
		fail_msg("%s holds the canary Secret value (%s)", what, form);
}

static void
check_files(void)
{
	/* The WAL first: a checkpoint moves pages from it into the file, never back. */
	static const char *const files[] = { "data/skewd.db-wal", "data/skewd.db" };
	char path[512];
	size_t i, len;
	char *data;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", srv.dir, files[i]);
		len = 0;
		data = tk_read_file(path, &len);
		if (data != NULL)
			check_no_canary(path, data, len);
		free(data);
	}
	data = tk_read_file(srv.stderr_path, &len);
	assert_non_null(data);
	check_no_canary("the server log", data, len);
	free(data);
}

static void
test_canaries(void **state)
{
	struct tk_resp r;
	char path[512];
	size_t len = 0;
	char *db;
	int found;

	(void)state;
	/* The Secret was read (kubesim serves its value base64) and only an HMAC
	 * of the value was kept, in the WAL or the database file. The WAL is read
	 * first: a checkpoint moves pages from it into the file, never back. */
	snprintf(path, sizeof(path), "%s/data/skewd.db-wal", srv.dir);
	db = tk_read_file(path, &len);
	found = db != NULL && memmem(db, len, "hmac-sha256:", 12) != NULL;
	free(db);
	snprintf(path, sizeof(path), "%s/data/skewd.db", srv.dir);
	len = 0;
	db = tk_read_file(path, &len);
	assert_non_null(db);
	found |= memmem(db, len, "hmac-sha256:", 12) != NULL;
	free(db);
	assert_true(found);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters", viewer, NULL, &r), 0);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", VLLM, viewer, NULL, &r), 0);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/metrics", NULL, NULL, &r), 0);
	tk_resp_free(&r);
	check_no_canary("an API answer", ck_seen, ck_seen_len);
	check_files();
	/* After a clean stop too (the WAL is checkpointed into the file). */
	assert_int_equal(tk_stop(&srv), 0);
	check_files();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery_and_first_pull),
		cmocka_unit_test(test_snapshot_facts),
		cmocka_unit_test(test_unchanged_poll_and_regression),
		cmocka_unit_test(test_faults_stay_on_their_cluster),
		cmocka_unit_test(test_canaries),
	};

	return cmocka_run_group_tests_name("collect_api", tests, setup, teardown);
}
