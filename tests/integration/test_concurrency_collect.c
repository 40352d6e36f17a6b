/*
 * test_concurrency_collect.c - the scheduler, the HTTP workers and the store
 * at once. Three clusters (all served by one kubesim in this process) are
 * pulled by the scheduler every second while client threads read (targets,
 * diffs, reports, snapshots, bundles, metrics) and write (on-demand pulls,
 * baselines, bundles, tokens) and one thread switches the simulated cluster
 * between its "lastgood" and "current" states so pulls keep storing new
 * snapshots. Every request answers as it should; afterwards every bundle made
 * is listed and every cluster was pulled by the scheduler too.
 *
 * Its point is the ThreadSanitizer build (SKEWD_TSAN=ON, ctest label
 * "concurrency"): the server's stderr must hold no report (tk_stop fails on
 * one) and neither may this process (kubesim runs here; TSan makes the test
 * exit non-zero on a report). In the other builds it is a plain stress test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/limits.h"
#include "util/banned.h"

#define CLUSTERS 3
#define READERS 3
#define WRITERS 2
#define READ_ROUNDS 10
#define WRITE_ROUNDS 4
#define TARGET "llm/deployment/vllm-llama"

static struct tk_server srv;
static struct ck_sim sim;
static char *editor, *admin;

struct worker {
	int id;
	int failures;
	int bundles;            /* bundles this writer created */
	char msg[512];          /* the first failure */
};

static void
failed(struct worker *w, const char *what, const struct tk_resp *r)
{
	if (w->failures++ == 0)
		snprintf(w->msg, sizeof(w->msg), "%s: %ld %.300s", what, r->status, r->body ? r->body : "");
}

/* One request that must answer `want`; counts a failure otherwise. */
static void
expect(struct worker *w, const char *method, const char *path, const char *token, const char *body,
    long want, json_t **json)
{
	static const char *const ct[] = { "Content-Type: application/json", NULL };
	struct tk_resp r;

	if (tk_request(&srv, method, path, token, body != NULL ? ct : NULL, body, body != NULL ? strlen(body) : 0,
	    0, &r) < 0 || r.status != want) {
		char what[300];

		snprintf(what, sizeof(what), "%s %s", method, path);
		failed(w, what, &r);
	} else if (json != NULL) {
		*json = json_incref(r.json);
	}
	tk_resp_free(&r);
}

static void *
reader(void *arg)
{
	struct worker *w = arg;
	char path[256];
	int i, c;

	for (i = 0; i < READ_ROUNDS; i++) {
		c = 1 + (w->id + i) % CLUSTERS;
		expect(w, "GET", "/api/v1/targets", editor, NULL, 200, NULL);
		expect(w, "GET", "/api/v1/clusters", editor, NULL, 200, NULL);
		snprintf(path, sizeof(path), "/api/v1/targets/c%d/" TARGET "/diff", c);
		expect(w, "GET", path, editor, NULL, 200, NULL);
		snprintf(path, sizeof(path), "/api/v1/targets/c%d/" TARGET "/report?format=markdown", c);
		expect(w, "GET", path, editor, NULL, 200, NULL);
		snprintf(path, sizeof(path), "/api/v1/targets/c%d/" TARGET "/snapshots", c);
		expect(w, "GET", path, editor, NULL, 200, NULL);
		expect(w, "GET", "/api/v1/bundles", editor, NULL, 200, NULL);
		expect(w, "GET", "/metrics", NULL, NULL, 200, NULL);
	}
	return NULL;
}

static void *
writer(void *arg)
{
	struct worker *w = arg;
	char path[256], body[128];
	json_t *j;
	int i, c;

	for (i = 0; i < WRITE_ROUNDS; i++) {
		c = 1 + (w->id + i) % CLUSTERS;
		snprintf(path, sizeof(path), "/api/v1/clusters/c%d/collect", c);
		expect(w, "POST", path, editor, NULL, 200, NULL);
		snprintf(path, sizeof(path), "/api/v1/targets/c%d/" TARGET "/baseline", c);
		expect(w, "PUT", path, editor, "{\"snapshot\":\"latest\",\"note\":\"concurrency\"}", 200, NULL);
		snprintf(path, sizeof(path), "/api/v1/targets/c%d/" TARGET "/bundles", c);
		j = NULL;
		expect(w, "POST", path, editor, NULL, 201, &j);
		if (j != NULL) {
			w->bundles++;
			snprintf(path, sizeof(path), "/b/%s", json_string_value(json_object_get(j, "id")));
			expect(w, "GET", path, NULL, NULL, 200, NULL);
			json_decref(j);
		}
		snprintf(body, sizeof(body), "{\"name\":\"w%d-%d\",\"role\":\"viewer\"}", w->id, i);
		expect(w, "POST", "/api/v1/tokens", admin, body, 201, NULL);
	}
	return NULL;
}

static volatile int switching;

static void *
switcher(void *arg)
{
	struct err e = ERR_INIT;
	int n = 0;

	(void)arg;
	while (__atomic_load_n(&switching, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 500 * 1000000L };

		if (kubesim_set_state(sim.k, n++ % 2 == 0 ? "current" : "lastgood", &e) < 0)
			fprintf(stderr, "kubesim_set_state: %s\n", e.msg);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
test_scheduler_and_clients(void **state)
{
	pthread_t th[READERS + WRITERS], sw;
	struct worker w[READERS + WRITERS];
	struct tk_resp r;
	char path[128];
	int i, failures = 0, bundles = 0;
	json_t *h;

	(void)state;
	__atomic_store_n(&switching, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&sw, NULL, switcher, NULL), 0);
	for (i = 0; i < READERS + WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, i < READERS ? reader : writer, &w[i]), 0);
	}
	for (i = 0; i < READERS + WRITERS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failures > 0)
			fprintf(stderr, "thread %d: %d failures, first: %s\n", i, w[i].failures, w[i].msg);
		failures += w[i].failures;
		bundles += w[i].bundles;
	}
	__atomic_store_n(&switching, 0, __ATOMIC_RELEASE);
	pthread_join(sw, NULL);
	assert_int_equal(failures, 0);
	assert_int_equal(bundles, WRITERS * WRITE_ROUNDS);

	/* Every bundle made is listed. */
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/bundles?limit=100", editor, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "bundles")), WRITERS * WRITE_ROUNDS);
	tk_resp_free(&r);

	/* The scheduler pulled every cluster without an error. */
	for (i = 1; i <= CLUSTERS; i++) {
		snprintf(path, sizeof(path), "c%d", i);
		h = ck_health(&srv, editor, path);
		assert_non_null(h);
		assert_true(json_is_string(json_object_get(h, "last_success_at")));
		assert_true(json_is_null(json_object_get(h, "last_error")) ||
		    json_object_get(h, "last_error") == NULL);
		json_decref(h);
	}
}

static int
setup(void **state)
{
	static const char *const json_ct[] = { "Content-Type: application/json", NULL };
	static const char latest[] = "{\"snapshot\":\"latest\"}";
	struct tk_resp r;
	char name[16], path[256];
	int i;

	(void)state;
	/* Enough workers for every pull in flight (the scheduler's three and the
	 * writers' two, KUBE_MAX_PARALLEL connections each): see clusterkit.h. */
	if (ck_sim_start_threads(&sim, (CLUSTERS + WRITERS) * KUBE_MAX_PARALLEL + 8) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 1\ncollect_timeout_ms: 20000\nbundle_retention_days: 30\n") < 0)
		return -1;
	editor = tk_token(&srv, "conc-editor", "editor");
	admin = tk_token(&srv, "conc-admin", "admin");
	if (editor == NULL || admin == NULL)
		return -1;
	for (i = 1; i <= CLUSTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (ck_register(&srv, admin, name, kubesim_url(sim.k), sim.ca_pem, CK_CANARY_TOKEN) != 201)
			return -1;
		/* A first pull and a baseline, so diffs and reports have two sides. */
		if (ck_collect(&srv, editor, name, &r) < 0 || r.status != 200) {
			fprintf(stderr, "collect %s: %ld %s\n", name, r.status, r.body);
			tk_resp_free(&r);
			return -1;
		}
		tk_resp_free(&r);
		snprintf(path, sizeof(path), "/api/v1/targets/%s/" TARGET "/baseline", name);
		if (tk_request(&srv, "PUT", path, editor, json_ct, latest, strlen(latest), 0, &r) < 0 ||
		    r.status != 200) {
			fprintf(stderr, "baseline %s: %ld %s\n", name, r.status, r.body);
			tk_resp_free(&r);
			return -1;
		}
		tk_resp_free(&r);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&sim);
	free(ck_seen);
	return 0;
}

/* Last: SIGTERM stops the server (the scheduler and pulls included) with exit
 * code 0, and a sanitizer build of it reported nothing. */
static void
test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheduler_and_clients),
		cmocka_unit_test(test_clean_stop),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("concurrency_collect", tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
