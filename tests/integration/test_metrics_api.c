/*
 * test_metrics_api.c - GET .../targets/{...}/metrics (the stored time series
 * of figures) and POST .../targets/{...}/nvidia-smi (GPU facts a person
 * attaches), against a real skewd server that pulled kubesim's fixture cluster.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"

static struct tk_server srv;
static struct ck_sim good;
static char *viewer, *editor, *admin;

static int
setup(void **state)
{
	struct tk_resp r;
	int i;

	(void)state;
	if (ck_sim_start(&good) < 0 ||
	    tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 5000\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL ||
	    ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN) != 201)
		return -1;
	/* Two polls, in different seconds: the second has a window. */
	for (i = 0; i < 2; i++) {
		if (i > 0)
			usleep(1100 * 1000);
		if (ck_collect(&srv, editor, "good", &r) < 0 || r.status != 200) {
			fprintf(stderr, "collect: %ld %s\n", r.status, r.body);
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
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&good);
	free(ck_seen);
	return 0;
}

/* The scrape of `source` in a point, the first one. */
static const json_t *
point_scrape(const json_t *point, const char *source)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(point, "scrapes"), i, s)
		if (json_string_value(json_object_get(s, "source")) != NULL &&
		    strcmp(json_string_value(json_object_get(s, "source")), source) == 0)
			return s;
	return NULL;
}

static void
test_metrics_series(void **state)
{
	struct tk_resp r;
	const json_t *pts, *p0, *p1, *s0, *s1, *d;

	(void)state;
	assert_int_equal(ck_req(&srv, "GET", VLLM "/metrics?window=1h", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "window_seconds")), 3600);
	pts = json_object_get(r.json, "points");
	assert_int_equal(json_array_size(pts), 2);
	p0 = json_array_get(pts, 0);
	p1 = json_array_get(pts, 1);
	assert_true(json_integer_value(json_object_get(p0, "at")) <
	    json_integer_value(json_object_get(p1, "at")));
	s0 = point_scrape(p0, "pod");
	s1 = point_scrape(p1, "pod");
	assert_non_null(s0);
	assert_non_null(s1);
	/* First poll: gauges, and rates absent with the reason. */
	assert_true(json_is_null(json_object_get(s0, "window_seconds")));
	assert_true(json_is_null(json_object_get(json_object_get(s0, "figures"), "request_rate")));
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(s0, "absent"),
	    "request_rate")), "first scrape of this pod"));
	assert_true(json_is_number(json_object_get(json_object_get(s0, "figures"), "running_requests")));
	/* Second poll: a window; the fixture's counters did not move, so the rate is 0. */
	assert_true(json_number_value(json_object_get(s1, "window_seconds")) > 0);
	assert_true(json_is_number(json_object_get(json_object_get(s1, "figures"), "request_rate")));
	assert_true(json_number_value(json_object_get(json_object_get(s1, "figures"),
	    "request_rate")) == 0);
	/* GPUs from the DCGM exporter on the pod's node. */
	d = point_scrape(p1, "dcgm");
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d, "gpus"),
	    0), "namespace")), "llm");
	tk_resp_free(&r);

	assert_int_equal(ck_req(&srv, "GET", VLLM "/metrics", NULL, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", VLLM "/metrics?window=10s", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "window"));
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", VLLM "/metrics?window=1y", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets/good/llm/deployment/nope/metrics", viewer,
	    NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
}

static void
test_nvidia_smi(void **state)
{
	char path[600], *text;
	struct tk_resp r;
	json_t *body;
	const json_t *pts, *last;

	(void)state;
	snprintf(path, sizeof(path), "%s/nvidia-smi/nvgpuexp__linux-x86_64__nvidia-h100-80gb-hbm3__"
	    "590.48.01__query-gpu.csv", getenv("SKEWD_FIXTURES"));
	text = tk_read_file(path, NULL);
	assert_non_null(text);
	body = json_pack("{s:s}", "text", text);
	free(text);
	/* A viewer may not attach. */
	assert_int_equal(ck_req(&srv, "POST", VLLM "/nvidia-smi", viewer, body, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/nvidia-smi", editor, body, &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_object_get(r.json, "nvidia_smi"), "gpus"), 0), "name")), "NVIDIA H100 80GB HBM3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "nvidia_smi"),
	    "attached_by")), "editor-bot");
	tk_resp_free(&r);
	json_decref(body);

	/* Joined to the latest pull: still two points, the last one carries it. */
	assert_int_equal(ck_req(&srv, "GET", VLLM "/metrics", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	pts = json_object_get(r.json, "points");
	assert_int_equal(json_array_size(pts), 2);
	last = json_array_get(pts, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(last, "nvidia_smi"),
	    "driver_version")), "590.48.01");
	assert_non_null(point_scrape(last, "pod"));
	tk_resp_free(&r);

	/* Text that is no nvidia-smi output: 400 with the parser's message. */
	body = json_pack("{s:s}", "text", "hello, this is not nvidia-smi\n");
	assert_int_equal(ck_req(&srv, "POST", VLLM "/nvidia-smi", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "nvidia-smi"));
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:s,s:i}", "text", "x", "extra", 1);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/nvidia-smi", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:i}", "text", 5);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/nvidia-smi", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
}

/* Last: SIGTERM stops the server with exit code 0 and a sanitizer build of it
 * reported nothing (cmocka ignores a teardown's failure, so a test of its own). */
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
		cmocka_unit_test(test_metrics_series),
		cmocka_unit_test(test_nvidia_smi),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
