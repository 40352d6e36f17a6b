/*
 * test_collect_window.c - figures over the window between two polls, and GPU
 * figures from the DCGM exporter on each workload pod's node, pulled from
 * kubesim (server/kubesim/) into a real store.
 *
 * kubesim runs with advance_metrics: the n-th scrape of a pod serves the
 * fixture's counters and histograms multiplied by n, so between two polls
 * every counter grows by exactly the fixture's value and every histogram by
 * the fixture's buckets. The expected figures are computed here from the
 * fixture file itself (tests/fixtures/cluster/metrics/). One test runs it with
 * KUBESIM_ADVANCE_PER_SECOND instead, as skewd demo does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "collect/collect.h"
#include "collect/collect_pull.h"
#include "engine/engine.h"
#include "kubesim/kubesim.h"
#include "metrics/metrics.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/limits.h"
#include "util/err.h"
#include "util/banned.h"

#define TOKEN "collect-window-token-6a1f"

struct fx {
	char dir[256];
	struct seal *seal;
	struct kubesim *k;
	struct store *st;
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static int
setup_advancing(void **state, int advance)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	char cluster[512], role[512], path[600], auth[128];
	struct kubesim_user users[] = { { "collector", TOKEN, KUBESIM_ROLE_COLLECTOR, 0 } };
	struct kubesim_options o;
	struct store_cluster cl;
	struct err e = ERR_INIT;

	assert_non_null(f);
	assert_non_null(fixtures);
	assert_non_null(src);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-window-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/seal.key", f->dir);
	unsetenv("SKEWD_SEAL_KEY");
	if (engine_init(&e) < 0 || seal_open(path, &f->seal, &e) != 0)
		fail_msg("setup: %s", e.msg);
	snprintf(cluster, sizeof(cluster), "%s/cluster", fixtures);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = f->dir;
	o.users = users;
	o.nusers = 1;
	o.threads = 8;
	o.advance_metrics = advance;
	if (kubesim_start(&o, &f->k, &e) != 0)
		fail_msg("kubesim_start: %s", e.msg);
	snprintf(path, sizeof(path), "%s/skewd.db", f->dir);
	if (store_open(path, NULL, &f->st, &e) != 0)
		fail_msg("store_open: %s", e.msg);
	memset(&cl, 0, sizeof(cl));
	snprintf(cl.name, sizeof(cl.name), "sim");
	cl.server = strdup(kubesim_url(f->k));
	cl.ca_pem = slurp(kubesim_ca_path(f->k), NULL);
	cl.namespaces_json = strdup("[\"llm\"]");
	cl.label_selector = strdup("");
	cl.auth_kind = strdup("token");
	snprintf(auth, sizeof(auth), "{\"token\": \"%s\"}", TOKEN);
	if (seal_lock(f->seal, "cluster:sim:auth", auth, strlen(auth), &cl.sealed_auth,
	    &cl.sealed_auth_len, &e) != 0 || store_cluster_create(f->st, &cl, &e) != 0)
		fail_msg("registering the cluster: %s", e.msg);
	store_cluster_release(&cl);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_advancing(state, KUBESIM_ADVANCE_PER_SCRAPE);
}

static int
setup_per_second(void **state)
{
	return setup_advancing(state, KUBESIM_ADVANCE_PER_SECOND);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[400];

	store_close(f->st);
	kubesim_stop(f->k);
	seal_close(f->seal);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct collect *
collector(struct fx *f, const char *dcgm_selector)
{
	struct collect_options o;
	struct collect *c = NULL;
	struct err e = ERR_INIT;

	memset(&o, 0, sizeof(o));
	o.request_timeout_ms = 5000;
	o.dcgm_selector = dcgm_selector;
	if (collect_new(f->st, f->seal, &o, &c, &e) != 0)
		fail_msg("collect_new: %s", e.msg);
	return c;
}

static void
pull(struct collect *c)
{
	json_t *out = NULL;
	struct err e = ERR_INIT;

	if (collect_target(c, "sim", "llm", "deployment", "vllm-llama", &out, &e) != 0)
		fail_msg("collect_target: %s", e.msg);
	if (json_array_size(json_object_get(out, "errors")) != 0)
		fail_msg("pull errors: %s", json_string_value(json_object_get(json_array_get(
		    json_object_get(out, "errors"), 0), "message")));
	json_decref(out);
}

/* The evidence rows of vllm-llama, oldest first, as JSON. */
static json_t *
evidence(struct fx *f)
{
	struct store_target t;
	struct store_evidence *items = NULL;
	size_t n = 0, i;
	struct err e = ERR_INIT;
	json_t *all = json_array();

	assert_int_equal(store_target_get(f->st, "sim", "llm", "deployment", "vllm-llama", &t, &e), 0);
	assert_int_equal(store_evidence_range(f->st, t.id, 0, 0, 0, &items, &n, &e), 0);
	for (i = 0; i < n; i++)
		json_array_append_new(all, json_loads(items[i].json, 0, NULL));
	store_evidence_free(items, n);
	return all;
}

/* The scrapes of one evidence document from `source` ("pod" or "dcgm"). */
static json_t *
scrapes(const json_t *ev, const char *source)
{
	json_t *out = json_array(), *s;
	size_t i;

	json_array_foreach(json_object_get(ev, "scrapes"), i, s) {
		const char *src = json_string_value(json_object_get(s, "source"));

		if (src != NULL && strcmp(src, source) == 0)
			json_array_append(out, s);
	}
	return out;
}

static const json_t *
figure(const json_t *scrape, const char *name)
{
	return json_object_get(json_object_get(scrape, "figures"), name);
}

static void
test_window_over_two_polls(void **state)
{
	struct fx *f = *state;
	struct collect *c = collector(f, NULL);
	char path[600], *text;
	size_t len, i;
	struct metrics_set *set = NULL;
	struct metrics_histogram h;
	struct err e = ERR_INIT;
	double requests, gen_tokens, p99, ttft99, running;
	json_t *ev, *first, *second;

	/* What one window must hold: the fixture's own totals (the scrape is multiplied by n). */
	snprintf(path, sizeof(path), "%s/cluster/metrics/datadog-vllm__vllm_metrics.txt",
	    getenv("SKEWD_FIXTURES"));
	text = slurp(path, &len);
	if (metrics_parse(text, len, METRICS_FORMAT_AUTO, &set, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(metrics_set_sum(set, "vllm:request_success_total", NULL, 0, &requests, &e), 0);
	assert_int_equal(metrics_set_sum(set, "vllm:generation_tokens_total", NULL, 0, &gen_tokens,
	    &e), 0);
	assert_int_equal(metrics_set_sum(set, "vllm:num_requests_running", NULL, 0, &running, &e), 0);
	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "vllm:e2e_request_latency_seconds", NULL, 0, &h,
	    &e), 0);
	p99 = metrics_histogram_quantile(0.99, &h);
	assert_int_equal(metrics_set_histogram(set, "vllm:time_to_first_token_seconds", NULL, 0, &h,
	    &e), 0);
	ttft99 = metrics_histogram_quantile(0.99, &h);
	metrics_histogram_release(&h);
	metrics_set_free(set);
	free(text);
	assert_true(requests > 0 && gen_tokens > 0 && isfinite(p99) && isfinite(ttft99));

	pull(c);
	usleep(50 * 1000);
	pull(c);
	pull(c);
	ev = evidence(f);
	assert_int_equal(json_array_size(ev), 3);

	/* First poll since the collector started: gauges only, and each window figure says why. */
	first = scrapes(json_array_get(ev, 0), "pod");
	assert_int_equal(json_array_size(first), 2);
	for (i = 0; i < 2; i++) {
		const json_t *s = json_array_get(first, i);

		assert_true(json_is_null(json_object_get(s, "window_seconds")));
		assert_null(json_object_get(figure(s, "request_rate"), "value"));
		assert_non_null(strstr(json_string_value(json_object_get(figure(s, "request_rate"),
		    "absent")), "first scrape of this pod since skewd started"));
		assert_non_null(json_object_get(figure(s, "running_requests"), "value"));
	}
	/* Second and third polls: the window since the poll before. */
	for (i = 1; i < 3; i++) {
		size_t j;

		second = scrapes(json_array_get(ev, i), "pod");
		assert_int_equal(json_array_size(second), 2);
		for (j = 0; j < 2; j++) {
			const json_t *s = json_array_get(second, j);
			double w = json_real_value(json_object_get(s, "window_seconds"));
			double rate = json_real_value(json_object_get(figure(s, "request_rate"), "value"));
			double tps = json_real_value(json_object_get(figure(s, "generation_tokens_per_s"),
			    "value"));

			assert_true(w > 0 && w < 60);
			assert_true(fabs(rate * w - requests) < 1e-6 * requests);
			assert_true(fabs(tps * w - gen_tokens) < 1e-6 * gen_tokens);
			assert_true(fabs(json_real_value(json_object_get(figure(s, "e2e_latency_p99"),
			    "value")) - p99) < 1e-9);
			assert_true(fabs(json_real_value(json_object_get(figure(s, "ttft_p99"),
			    "value")) - ttft99) < 1e-9);
			assert_null(json_object_get(figure(s, "request_rate"), "counter_reset"));
			/* Gauges are served as they are: the fixture's value at every poll. */
			assert_true(fabs(json_number_value(json_object_get(figure(s, "running_requests"),
			    "value")) - running) < 1e-9);
		}
		json_decref(second);
	}
	json_decref(first);
	json_decref(ev);
	collect_free(c);
}

/* KUBESIM_ADVANCE_PER_SECOND (skewd demo): the counters grow by the fixture's
 * totals every second, so the rate is the fixture's count per second however
 * long the gap between two polls. */
static void
test_window_per_second(void **state)
{
	struct fx *f = *state;
	struct collect *c = collector(f, NULL);
	char path[600], *text;
	size_t len, i;
	struct metrics_set *set = NULL;
	struct err e = ERR_INIT;
	double requests, gen_tokens;
	json_t *ev, *second;

	snprintf(path, sizeof(path), "%s/cluster/metrics/datadog-vllm__vllm_metrics.txt",
	    getenv("SKEWD_FIXTURES"));
	text = slurp(path, &len);
	if (metrics_parse(text, len, METRICS_FORMAT_AUTO, &set, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(metrics_set_sum(set, "vllm:request_success_total", NULL, 0, &requests, &e), 0);
	assert_int_equal(metrics_set_sum(set, "vllm:generation_tokens_total", NULL, 0, &gen_tokens,
	    &e), 0);
	metrics_set_free(set);
	free(text);

	pull(c);
	usleep(1200 * 1000);
	pull(c);
	ev = evidence(f);
	assert_int_equal(json_array_size(ev), 2);
	second = scrapes(json_array_get(ev, 1), "pod");
	assert_int_equal(json_array_size(second), 2);
	for (i = 0; i < 2; i++) {
		const json_t *s = json_array_get(second, i);
		double w = json_real_value(json_object_get(s, "window_seconds"));
		double rate = json_real_value(json_object_get(figure(s, "request_rate"), "value"));
		double tps = json_real_value(json_object_get(figure(s, "generation_tokens_per_s"),
		    "value"));

		assert_true(w > 1.0 && w < 10);
		/* Per second, not per scrape: per scrape would be requests / w (< requests / 1.0). */
		assert_true(fabs(rate - requests) < 0.1 * requests);
		assert_true(fabs(tps - gen_tokens) < 0.1 * gen_tokens);
	}
	json_decref(second);
	json_decref(ev);
	collect_free(c);
}

static void
test_dcgm_attribution(void **state)
{
	struct fx *f = *state;
	struct collect *c = collector(f, NULL);
	json_t *ev, *dc, *pods;
	size_t i;

	pull(c);
	ev = evidence(f);
	dc = scrapes(json_array_get(ev, 0), "dcgm");
	pods = scrapes(json_array_get(ev, 0), "pod");
	/* lastgood: the two vLLM pods run on the two A100 nodes, one exporter each. */
	assert_int_equal(json_array_size(dc), 2);
	for (i = 0; i < 2; i++) {
		const json_t *s = json_array_get(dc, i), *g = json_array_get(json_object_get(s, "gpus"), 0);
		const char *gp = json_string_value(json_object_get(g, "pod"));
		size_t j;
		int mine = 0;

		assert_string_equal(json_string_value(json_object_get(s, "namespace")), "gpu-operator");
		assert_int_equal(json_integer_value(json_object_get(s, "port")), 9400);
		assert_non_null(strstr(json_string_value(json_object_get(s, "node")), "a100"));
		/* The exporter reports one GPU, mapped to the vLLM pod on that node. */
		assert_int_equal(json_integer_value(json_object_get(s, "gpus_on_node")), 1);
		assert_int_equal(json_array_size(json_object_get(s, "gpus")), 1);
		assert_string_equal(json_string_value(json_object_get(g, "namespace")), "llm");
		assert_string_equal(json_string_value(json_object_get(g, "model")), "Tesla T4");
		assert_non_null(json_object_get(g, "utilization_percent"));
		assert_null(json_object_get(s, "figures"));
		for (j = 0; j < json_array_size(pods); j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(pods, j), "pod")),
			    gp) == 0)
				mine = 1;
		assert_true(mine);
	}

	/* tgi-gemma on its L4 node: that exporter's GPU is TGI's, and none of vLLM's exporters
	 * gave it a GPU of another workload. */
	{
		json_t *out = NULL, *tev, *tdc;
		struct store_target t;
		struct store_evidence *items = NULL;
		size_t n = 0;
		struct err e = ERR_INIT;

		if (collect_target(c, "sim", "llm", "deployment", "tgi-gemma", &out, &e) != 0)
			fail_msg("collect_target: %s", e.msg);
		json_decref(out);
		assert_int_equal(store_target_get(f->st, "sim", "llm", "deployment", "tgi-gemma", &t, &e), 0);
		assert_int_equal(store_evidence_range(f->st, t.id, 0, 0, 0, &items, &n, &e), 0);
		assert_int_equal(n, 1);
		tev = json_loads(items[0].json, 0, NULL);
		store_evidence_free(items, n);
		tdc = scrapes(tev, "dcgm");
		assert_int_equal(json_array_size(tdc), 1);
		assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(
		    json_array_get(tdc, 0), "gpus"), 0), "pod")), "tgi-gemma-"));
		json_decref(tdc);
		json_decref(tev);
		for (i = 0; i < json_array_size(dc); i++)
			assert_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(
			    json_array_get(dc, i), "gpus"), 0), "pod")), "tgi-gemma"));
	}
	collect_free(c);
	json_decref(dc);
	json_decref(pods);
	json_decref(ev);

	/* A selector no pod carries: no exporter scraped. */
	c = collector(f, "app=no-such-exporter");
	pull(c);
	ev = evidence(f);
	dc = scrapes(json_array_get(ev, 1), "dcgm");
	assert_int_equal(json_array_size(dc), 0);
	json_decref(dc);
	json_decref(ev);
	collect_free(c);
}

static void
test_window_bounded(void **state)
{
	struct collect_window *w = NULL;
	struct err e = ERR_INIT;
	const char *text = "# TYPE x_total counter\nx_total 1\n";
	char key[64];
	size_t i;
	json_t *rec;

	(void)state;
	assert_int_equal(collect_window_new(&w, &e), 0);
	for (i = 0; i < COLLECT_WINDOW_MAX_SCRAPES + 10; i++) {
		rec = json_object();
		snprintf(key, sizeof(key), "c/ns/pod-%zu:8000", i);
		collect_window_figures(w, key, rec, text, strlen(text), 1000.0 + (double)i, NULL);
		json_decref(rec);
	}
	assert_int_equal(collect_window_count(w), COLLECT_WINDOW_MAX_SCRAPES);
	/* The oldest were dropped: pod-0 starts again, the newest has a window. */
	rec = json_object();
	collect_window_figures(w, "c/ns/pod-0:8000", rec, text, strlen(text), 5000.0, NULL);
	assert_true(json_is_null(json_object_get(rec, "window_seconds")));
	json_decref(rec);
	rec = json_object();
	snprintf(key, sizeof(key), "c/ns/pod-%d:8000", COLLECT_WINDOW_MAX_SCRAPES + 9);
	collect_window_figures(w, key, rec, text, strlen(text), 2000.0, NULL);
	assert_true(json_real_value(json_object_get(rec, "window_seconds")) > 0);
	json_decref(rec);
	/* A previous scrape too old makes no window, and says so. */
	rec = json_object();
	collect_window_figures(w, key, rec, text, strlen(text), 2000.0 + COLLECT_WINDOW_MAX_AGE_S + 1,
	    NULL);
	assert_true(json_is_null(json_object_get(rec, "window_seconds")));
	/* A counter that went down between polls: the pod restarted, the current value is the
	 * increase, and the figure says so. */
	json_decref(rec);
	rec = json_object();
	collect_window_figures(w, "c/ns/vllm:8000", rec, "# TYPE vllm:request_success_total counter\n"
	    "vllm:request_success_total 100\n", 73, 4000.0, NULL);
	json_decref(rec);
	rec = json_object();
	collect_window_figures(w, "c/ns/vllm:8000", rec, "# TYPE vllm:request_success_total counter\n"
	    "vllm:request_success_total 8\n", 71, 4010.0, NULL);
	assert_true(fabs(json_real_value(json_object_get(rec, "window_seconds")) - 10.0) < 1e-9);
	assert_true(fabs(json_number_value(json_object_get(json_object_get(json_object_get(rec,
	    "figures"), "request_rate"), "value")) - 0.8) < 1e-9);
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(rec, "figures"),
	    "request_rate"), "counter_reset")));
	/* Bad text: a parse error, and the earlier scrape is not replaced by nothing. */
	json_decref(rec);
	rec = json_object();
	collect_window_figures(w, "c/ns/bad:1", rec, "x{", 2, 3000.0, NULL);
	assert_non_null(json_object_get(rec, "parse_error"));
	json_decref(rec);
	collect_window_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_bounded),
		cmocka_unit_test_setup_teardown(test_window_over_two_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_per_second, setup_per_second, teardown),
		cmocka_unit_test_setup_teardown(test_dcgm_attribution, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
