/*
 * test_extract.c - metrics_extract() on the real expositions of
 * tests/fixtures/metrics/ (vLLM, SGLang, NIM, DCGM, nvidia_gpu_exporter).
 *
 * A window needs two scrapes; the corpus has one of each exporter, so the
 * second scrape is the fixture text with chosen sample lines advanced by
 * known amounts (bump()), and every expected figure is worked out by hand in
 * the comments with PromQL's rate() and histogram_quantile() rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/err.h"
#include "util/banned.h"

#define EPS 1e-9

static char *
slurp(const char *name)
{
	const char *dir = getenv("SKEWD_FIXTURES");
	char path[1024];
	FILE *f;
	char *p;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/metrics/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	return p;
}

/* A copy of `text` where every sample line that starts with `series` followed by a space
 * has `delta` added to its value. The line must exist. Frees `text`. */
static char *
bump(char *text, const char *series, double delta)
{
	size_t sl = strlen(series), cap = strlen(text) + 4096, off = 0;
	char *out = malloc(cap);
	const char *p = text;
	int found = 0;

	assert_non_null(out);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (ll > sl && strncmp(p, series, sl) == 0 && p[sl] == ' ') {
			double v = strtod(p + sl + 1, NULL);

			off += (size_t)snprintf(out + off, cap - off, "%s %.17g\n", series, v + delta);
			found = 1;
		} else {
			memcpy(out + off, p, ll);
			off += ll;
			out[off++] = '\n';
		}
		p += ll + (nl != NULL);
		assert_true(off + 64 < cap);
	}
	out[off] = '\0';
	if (!found)
		fail_msg("no line '%s'", series);
	free(text);
	return out;
}

/* Drops the HELP, TYPE and sample lines of family `fam`. Frees `text`. */
static char *
drop(char *text, const char *fam)
{
	size_t fl = strlen(fam), off = 0;
	char *out = malloc(strlen(text) + 1);
	const char *p = text;

	assert_non_null(out);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
		int hit = strncmp(p, fam, fl) == 0 ||
			((strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0) &&
			strncmp(p + 7, fam, fl) == 0 && p[7 + fl] == ' ');

		if (!hit) {
			memcpy(out + off, p, ll);
			off += ll;
			out[off++] = '\n';
		}
		p += ll + (nl != NULL);
	}
	out[off] = '\0';
	free(text);
	return out;
}

static struct metrics_set *
parse(const char *text)
{
	struct metrics_set *set = NULL;
	struct err e = ERR_INIT;

	if (metrics_parse(text, strlen(text), METRICS_FORMAT_AUTO, &set, &e) < 0)
		fail_msg("parse: %s", e.msg);
	return set;
}

static json_t *
extract(const char *prev_text, double t0, const char *cur_text, double t1)
{
	struct metrics_set *a = prev_text != NULL ? parse(prev_text) : NULL;
	struct metrics_set *b = parse(cur_text);
	struct err e = ERR_INIT;
	json_t *out = NULL;

	if (metrics_extract(a, t0, b, t1, &out, &e) < 0)
		fail_msg("extract: %s", e.msg);
	metrics_set_free(a);
	metrics_set_free(b);
	return out;
}

static const json_t *
fig(const json_t *doc, const char *key)
{
	const json_t *f = json_object_get(json_object_get(doc, "figures"), key);

	if (f == NULL)
		fail_msg("figure '%s' missing", key);
	return f;
}

static void
assert_fig(const json_t *doc, const char *key, double want, const char *metric)
{
	const json_t *f = fig(doc, key);
	const json_t *v = json_object_get(f, "value");

	if (!json_is_number(v))
		fail_msg("figure '%s' absent: %s", key,
			json_string_value(json_object_get(f, "absent")));
	if (fabs(json_number_value(v) - want) > EPS * (fabs(want) > 1 ? fabs(want) : 1))
		fail_msg("figure '%s' = %.17g, want %.17g", key, json_number_value(v), want);
	if (metric != NULL)
		assert_string_equal(json_string_value(json_array_get(json_object_get(f, "metrics"), 0)),
			metric);
}

static void
assert_absent(const json_t *doc, const char *key, const char *reason)
{
	const json_t *f = fig(doc, key);

	if (json_object_get(f, "value") != NULL)
		fail_msg("figure '%s' should be absent", key);
	assert_non_null(strstr(json_string_value(json_object_get(f, "absent")), reason));
}

#define VL "{model_name=\"facebook/opt-125m\"}"
#define VLE(le) "{le=\"" le "\",model_name=\"facebook/opt-125m\"}"

/* The vLLM fixture advanced by 60 s of traffic (see the arithmetic per figure). */
static char *
vllm_advanced(char *t)
{
	static const char *const e2e_100[] = { "10.0", "15.0", "20.0", "30.0", "40.0", "50.0",
		"60.0", "+Inf" };
	static const char *const ttft_10[] = { "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
		"7.5", "10.0", "+Inf" };
	char s[256];
	size_t i;

	t = bump(t, "vllm:request_success_total{finished_reason=\"length\",model_name=\"facebook/opt-125m\"}", 120);
	t = bump(t, "vllm:prompt_tokens_total" VL, 600);
	t = bump(t, "vllm:generation_tokens_total" VL, 3000);
	t = bump(t, "vllm:num_preemptions_total" VL, 30);
	t = bump(t, "vllm:num_requests_running" VL, 7);
	t = bump(t, "vllm:num_requests_waiting" VL, 3);
	t = bump(t, "vllm:kv_cache_usage_perc" VL, 0.42);
	t = bump(t, "vllm:gpu_cache_usage_perc" VL, 0.40);
	/* e2e: 100 requests, 50 in (0,1], 30 in (1,2.5], 10 in (2.5,5], 10 in (5,10]. */
	t = bump(t, "vllm:e2e_request_latency_seconds_bucket" VLE("1.0"), 50);
	t = bump(t, "vllm:e2e_request_latency_seconds_bucket" VLE("2.5"), 80);
	t = bump(t, "vllm:e2e_request_latency_seconds_bucket" VLE("5.0"), 90);
	for (i = 0; i < sizeof(e2e_100) / sizeof(e2e_100[0]); i++) {
		snprintf(s, sizeof(s), "vllm:e2e_request_latency_seconds_bucket{le=\"%s\","
			"model_name=\"facebook/opt-125m\"}", e2e_100[i]);
		t = bump(t, s, 100);
	}
	t = bump(t, "vllm:e2e_request_latency_seconds_count" VL, 100);
	t = bump(t, "vllm:e2e_request_latency_seconds_sum" VL, 250);
	/* TTFT: 10 requests, all in (0.08, 0.1]. */
	for (i = 0; i < sizeof(ttft_10) / sizeof(ttft_10[0]); i++) {
		snprintf(s, sizeof(s), "vllm:time_to_first_token_seconds_bucket{le=\"%s\","
			"model_name=\"facebook/opt-125m\"}", ttft_10[i]);
		t = bump(t, s, 10);
	}
	t = bump(t, "vllm:time_to_first_token_seconds_count" VL, 10);
	return t;
}

/* V1 ITL: 100 tokens, 80 in (0,0.01], 20 in (0.01,0.1]. */
static char *
vllm_itl_v1(char *t)
{
	t = bump(t, "vllm:inter_token_latency_seconds_bucket" VLE("0.01"), 80);
	t = bump(t, "vllm:inter_token_latency_seconds_bucket" VLE("0.1"), 100);
	t = bump(t, "vllm:inter_token_latency_seconds_bucket" VLE("+Inf"), 100);
	return bump(t, "vllm:inter_token_latency_seconds_count" VL, 100);
}

/* V0 TPOT: 40 tokens, 20 in (0.025,0.05], 20 in (0.05,0.075]. */
static char *
vllm_itl_v0(char *t)
{
	static const char *const all40[] = { "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5",
		"0.75", "1.0", "2.5", "+Inf" };
	char s[256];
	size_t i;

	t = bump(t, "vllm:time_per_output_token_seconds_bucket" VLE("0.05"), 20);
	for (i = 0; i < sizeof(all40) / sizeof(all40[0]); i++) {
		snprintf(s, sizeof(s), "vllm:time_per_output_token_seconds_bucket{le=\"%s\","
			"model_name=\"facebook/opt-125m\"}", all40[i]);
		t = bump(t, s, 40);
	}
	return bump(t, "vllm:time_per_output_token_seconds_count" VL, 40);
}

static void
test_vllm_window(void **state)
{
	char *a = slurp("datadog-vllm__vllm_metrics.txt");
	char *b = vllm_itl_v0(vllm_itl_v1(vllm_advanced(slurp("datadog-vllm__vllm_metrics.txt"))));
	json_t *d;
	const json_t *cc;

	(void)state;
	d = extract(a, 1000, b, 1060);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "vllm");
	assert_string_equal(json_string_value(json_object_get(d, "schema")), METRICS_EXTRACT_SCHEMA);
	assert_true(json_number_value(json_object_get(d, "window_seconds")) == 60);
	/* 120 finished requests / 60 s = 2 req/s; none aborted, so success 2 and errors 0. */
	assert_fig(d, "request_rate", 2.0, "vllm:request_success_total");
	assert_fig(d, "success_rate", 2.0, NULL);
	assert_fig(d, "error_rate", 0.0, NULL);
	/* 600 / 60 = 10 prompt tokens/s; 3000 / 60 = 50 generation tokens/s; 30 / 60 = 0.5. */
	assert_fig(d, "prompt_tokens_per_s", 10.0, "vllm:prompt_tokens_total");
	assert_fig(d, "generation_tokens_per_s", 50.0, "vllm:generation_tokens_total");
	assert_fig(d, "preemptions_per_s", 0.5, "vllm:num_preemptions_total");
	/* e2e, window counts 50/80/90/100 at le 1/2.5/5/10:
	 * p50: rank 50 -> bucket (0,1], 0 + 1 * 50/50 = 1.0;
	 * p95: rank 95 -> bucket (5,10], 5 + 5 * (95-90)/(100-90) = 7.5;
	 * p99: rank 99 -> 5 + 5 * 9/10 = 9.5; mean 250 / 100 = 2.5. */
	assert_fig(d, "e2e_latency_p50", 1.0, "vllm:e2e_request_latency_seconds");
	assert_fig(d, "e2e_latency_p95", 7.5, NULL);
	assert_fig(d, "e2e_latency_p99", 9.5, NULL);
	assert_fig(d, "e2e_latency_mean", 2.5, NULL);
	/* TTFT: 10 in (0.08,0.1]: p50 = 0.08 + 0.02 * 5/10 = 0.09; p99 = 0.08 + 0.02 * 9.9/10. */
	assert_fig(d, "ttft_p50", 0.09, "vllm:time_to_first_token_seconds");
	assert_fig(d, "ttft_p99", 0.08 + 0.02 * 0.99, NULL);
	/* ITL: the V1 name wins over V0's time_per_output_token.
	 * p50: rank 50 of 100 -> (0,0.01], 0.01 * 50/80 = 0.00625;
	 * p95: rank 95 -> (0.01,0.1], 0.01 + 0.09 * (95-80)/(100-80) = 0.0775. */
	assert_fig(d, "itl_p50", 0.00625, "vllm:inter_token_latency_seconds");
	assert_fig(d, "itl_p95", 0.0775, NULL);
	/* Gauges are the current values; the V1 KV-cache name wins. */
	assert_fig(d, "running_requests", 7, "vllm:num_requests_running");
	assert_fig(d, "waiting_requests", 3, "vllm:num_requests_waiting");
	assert_fig(d, "kv_cache_usage", 0.42, "vllm:kv_cache_usage_perc");
	cc = json_object_get(json_object_get(d, "facts"), "cache_config");
	assert_string_equal(json_string_value(json_object_get(cc, "block_size")), "16");
	assert_string_equal(json_string_value(json_object_get(cc, "num_gpu_blocks")), "7281");
	assert_string_equal(json_string_value(json_object_get(cc, "cache_dtype")), "auto");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(d,
		"facts"), "model_names"), 0)), "facebook/opt-125m");
	assert_int_equal(json_array_size(json_object_get(d, "gpus")), 0);
	json_decref(d);
	free(a);
	free(b);
}

static void
test_vllm_v0_only(void **state)
{
	char *a = drop(drop(slurp("datadog-vllm__vllm_metrics.txt"), "vllm:kv_cache_usage_perc"),
		"vllm:inter_token_latency_seconds");
	char *b = vllm_itl_v0(vllm_advanced(drop(slurp("datadog-vllm__vllm_metrics.txt"),
		"vllm:inter_token_latency_seconds")));
	json_t *d;

	(void)state;
	b = drop(b, "vllm:kv_cache_usage_perc");
	d = extract(a, 0, b, 60);
	/* V0 TPOT: 40 tokens, 20 in (0.025,0.05], 20 in (0.05,0.075]:
	 * p50: rank 20 -> (0.025,0.05], 0.025 + 0.025 * 20/20 = 0.05;
	 * p95: rank 38 -> (0.05,0.075], 0.05 + 0.025 * 18/20 = 0.0725. */
	assert_fig(d, "itl_p50", 0.05, "vllm:time_per_output_token_seconds");
	assert_fig(d, "itl_p95", 0.0725, NULL);
	assert_fig(d, "kv_cache_usage", 0.40, "vllm:gpu_cache_usage_perc");
	json_decref(d);
	free(a);
	free(b);
}

static void
test_vllm_v1_only(void **state)
{
	char *a = drop(drop(slurp("datadog-vllm__vllm_metrics.txt"), "vllm:gpu_cache_usage_perc"),
		"vllm:time_per_output_token_seconds");
	char *b = vllm_itl_v1(vllm_advanced(drop(slurp("datadog-vllm__vllm_metrics.txt"),
		"vllm:time_per_output_token_seconds")));
	json_t *d;

	(void)state;
	/* vllm_advanced() bumps the V0 KV gauge too, so drop it after. */
	b = drop(b, "vllm:gpu_cache_usage_perc");
	d = extract(a, 0, b, 60);
	assert_fig(d, "itl_p50", 0.00625, "vllm:inter_token_latency_seconds");
	assert_fig(d, "kv_cache_usage", 0.42, "vllm:kv_cache_usage_perc");
	assert_fig(d, "request_rate", 2.0, NULL);
	json_decref(d);

	/* With neither ITL name the figure is absent and says which names were looked for. */
	a = drop(a, "vllm:inter_token_latency_seconds");
	b = drop(b, "vllm:inter_token_latency_seconds");
	d = extract(a, 0, b, 60);
	assert_absent(d, "itl_p99", "not in the scrape");
	assert_int_equal(json_array_size(json_object_get(fig(d, "itl_p99"), "metrics")), 2);
	json_decref(d);
	free(a);
	free(b);
}

static void
test_vllm_counter_reset(void **state)
{
	/* Before: the counter stood at 1 + 500; the pod restarted and now it stands at
	 * 1 + 120 = 121. increase() counts the new value: 121 requests in 60 s. */
	char *a = bump(slurp("datadog-vllm__vllm_metrics.txt"),
		"vllm:request_success_total{finished_reason=\"length\",model_name=\"facebook/opt-125m\"}", 500);
	char *b = vllm_advanced(slurp("datadog-vllm__vllm_metrics.txt"));
	json_t *d;

	(void)state;
	d = extract(a, 0, b, 60);
	assert_fig(d, "request_rate", 121.0 / 60.0, NULL);
	assert_true(json_is_true(json_object_get(fig(d, "request_rate"), "counter_reset")));
	/* The other counters did not reset: 3000 / 60. */
	assert_fig(d, "generation_tokens_per_s", 50.0, NULL);
	assert_null(json_object_get(fig(d, "generation_tokens_per_s"), "counter_reset"));
	json_decref(d);
	free(a);
	free(b);
}

static void
test_one_scrape(void **state)
{
	char *a = slurp("datadog-vllm__vllm_metrics.txt");
	json_t *d;

	(void)state;
	d = extract(NULL, 0, a, 0);
	assert_true(json_is_null(json_object_get(d, "window_seconds")));
	assert_absent(d, "request_rate", "needs two scrapes");
	assert_absent(d, "e2e_latency_p99", "needs two scrapes");
	assert_absent(d, "generation_tokens_per_s", "needs two scrapes");
	assert_fig(d, "running_requests", 0, NULL);
	assert_fig(d, "kv_cache_usage", 0, "vllm:kv_cache_usage_perc");
	assert_non_null(json_object_get(json_object_get(d, "facts"), "cache_config"));
	json_decref(d);
	free(a);
}

static void
test_bad_window(void **state)
{
	char *a = slurp("datadog-vllm__vllm_metrics.txt");
	struct metrics_set *s = parse(a);
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(metrics_extract(s, 100, s, 100, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(out);
	assert_int_equal(metrics_extract(s, 100, s, 40, &out, &e), -1);
	metrics_set_free(s);
	free(a);
}

#define SG "{model_name=\"facebook/opt-125m\",tp_rank=\"0\"}"

static void
test_sglang_window(void **state)
{
	char *a = slurp("datadog-sglang__sglang_metrics.txt");
	char *b = slurp("datadog-sglang__sglang_metrics.txt");
	json_t *d;

	(void)state;
	b = bump(b, "sglang:num_requests_total" SG, 30);
	b = bump(b, "sglang:generation_tokens_total" SG, 900);
	b = bump(b, "sglang:prompt_tokens_total" SG, 150);
	/* e2e: 10 requests, 6 in (0,0.1], 4 above the last finite bound. */
	b = bump(b, "sglang:e2e_request_latency_seconds_bucket{le=\"0.1\",model_name=\"facebook/opt-125m\"}", 6);
	b = bump(b, "sglang:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"facebook/opt-125m\"}", 10);
	b = bump(b, "sglang:e2e_request_latency_seconds_count{model_name=\"facebook/opt-125m\"}", 10);
	d = extract(a, 0, b, 30);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "sglang");
	/* 30 / 30 s = 1 req/s; 900 / 30 = 30 tokens/s; 150 / 30 = 5. */
	assert_fig(d, "request_rate", 1.0, "sglang:num_requests_total");
	assert_fig(d, "generation_tokens_per_s", 30.0, "sglang:generation_tokens_total");
	assert_fig(d, "prompt_tokens_per_s", 5.0, NULL);
	/* p50: rank 5 of 10 -> (0,0.1], 0.1 * 5/6; p95: rank 9.5 falls in +Inf -> 0.1. */
	assert_fig(d, "e2e_latency_p50", 0.1 * 5.0 / 6.0, "sglang:e2e_request_latency_seconds");
	assert_fig(d, "e2e_latency_p95", 0.1, NULL);
	/* TTFT had no new observation in the window. */
	assert_absent(d, "ttft_p99", "no observations in the window");
	assert_fig(d, "kv_cache_usage", 0.25, "sglang:token_usage");
	assert_fig(d, "waiting_requests", 0, "sglang:num_queue_reqs");
	assert_absent(d, "preemptions_per_s", "sglang exports no metric");
	assert_true(json_number_value(json_object_get(json_object_get(d, "facts"),
		"max_total_num_tokens")) == 430839);
	json_decref(d);
	free(a);
	free(b);
}

#define NM "{model_name=\"meta/llama-3.1-8b-instruct\"}"

static void
test_nim_window(void **state)
{
	char *a = slurp("datadog-nim__nim_metrics.txt");
	char *b = slurp("datadog-nim__nim_metrics.txt");
	static const char *const after_1[] = { "2.5", "5.0", "10.0", "15.0", "20.0", "30.0",
		"40.0", "50.0", "60.0", "+Inf" };
	char s[256];
	size_t i;
	json_t *d;

	(void)state;
	b = bump(b, "request_success_total" NM, 50);
	b = bump(b, "request_failure_total" NM, 10);
	b = bump(b, "generation_tokens_total" NM, 1200);
	/* e2e: 20 requests, all in (1,2.5]. */
	for (i = 0; i < sizeof(after_1) / sizeof(after_1[0]); i++) {
		snprintf(s, sizeof(s), "e2e_request_latency_seconds_bucket{le=\"%s\","
			"model_name=\"meta/llama-3.1-8b-instruct\"}", after_1[i]);
		b = bump(b, s, 20);
	}
	b = bump(b, "e2e_request_latency_seconds_count" NM, 20);
	b = bump(b, "e2e_request_latency_seconds_sum" NM, 36);
	d = extract(a, 0, b, 60);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "nim");
	/* (50 + 10) / 60 = 1 req/s; errors 10 / 60; tokens 1200 / 60 = 20. */
	assert_fig(d, "request_rate", 1.0, "request_success_total");
	assert_fig(d, "error_rate", 10.0 / 60.0, "request_failure_total");
	assert_fig(d, "success_rate", 50.0 / 60.0, NULL);
	assert_fig(d, "generation_tokens_per_s", 20.0, "generation_tokens_total");
	/* p50: rank 10 of 20 in (1,2.5]: 1 + 1.5 * 10/20 = 1.75; p99: 1 + 1.5 * 19.8/20.
	 * mean 36 / 20 = 1.8. */
	assert_fig(d, "e2e_latency_p50", 1.75, "e2e_request_latency_seconds");
	assert_fig(d, "e2e_latency_p99", 1 + 1.5 * 19.8 / 20, NULL);
	assert_fig(d, "e2e_latency_mean", 1.8, NULL);
	assert_fig(d, "running_requests", 1, "num_requests_running");
	assert_fig(d, "kv_cache_usage", 0.0002848191398461977, "gpu_cache_usage_perc");
	assert_true(json_number_value(json_object_get(json_object_get(d, "facts"),
		"max_num_seqs")) == 64);
	json_decref(d);
	free(a);
	free(b);
}

/* The corpus has no TGI or Triton exposition: these are written by hand with the metric
 * names and types of domain-knowledge §C.2 (TGI router) and Triton's metrics page. */
static const char tgi0[] =
	"# TYPE tgi_request_count counter\ntgi_request_count 100\n"
	"# TYPE tgi_request_success counter\ntgi_request_success 95\n"
	"# TYPE tgi_request_failure counter\ntgi_request_failure{err=\"overloaded\"} 3\n"
	"tgi_request_failure{err=\"validation\"} 2\n"
	"# TYPE tgi_queue_size gauge\ntgi_queue_size 4\n"
	"# TYPE tgi_batch_current_size gauge\ntgi_batch_current_size 8\n"
	"# TYPE tgi_request_duration histogram\n"
	"tgi_request_duration_bucket{le=\"0.5\"} 10\ntgi_request_duration_bucket{le=\"1\"} 60\n"
	"tgi_request_duration_bucket{le=\"+Inf\"} 100\ntgi_request_duration_sum 90\n"
	"tgi_request_duration_count 100\n"
	"# TYPE tgi_request_generated_tokens histogram\n"
	"tgi_request_generated_tokens_bucket{le=\"+Inf\"} 100\n"
	"tgi_request_generated_tokens_sum 5000\ntgi_request_generated_tokens_count 100\n";

static void
test_tgi_window(void **state)
{
	char *b = strdup(tgi0);
	json_t *d;

	(void)state;
	assert_non_null(b);
	b = bump(b, "tgi_request_count", 60);
	b = bump(b, "tgi_request_success", 54);
	b = bump(b, "tgi_request_failure{err=\"overloaded\"}", 6);
	/* 60 requests: none <= 0.5 s, 30 in (0.5,1], 30 above 1 s; sum +72. */
	b = bump(b, "tgi_request_duration_bucket{le=\"1\"}", 30);
	b = bump(b, "tgi_request_duration_bucket{le=\"+Inf\"}", 60);
	b = bump(b, "tgi_request_duration_count", 60);
	b = bump(b, "tgi_request_duration_sum", 72);
	b = bump(b, "tgi_request_generated_tokens_bucket{le=\"+Inf\"}", 60);
	b = bump(b, "tgi_request_generated_tokens_count", 60);
	b = bump(b, "tgi_request_generated_tokens_sum", 3000);
	d = extract(tgi0, 0, b, 30);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "tgi");
	/* 60 / 30 s = 2 req/s; 54 / 30 = 1.8; 6 / 30 = 0.2; 3000 tokens / 30 s = 100. */
	assert_fig(d, "request_rate", 2.0, "tgi_request_count");
	assert_fig(d, "success_rate", 1.8, "tgi_request_success");
	assert_fig(d, "error_rate", 0.2, "tgi_request_failure");
	assert_fig(d, "generation_tokens_per_s", 100.0, "tgi_request_generated_tokens");
	/* p50: rank 30 -> (0.5,1]: 0.5 + 0.5 * 30/30 = 1.0; p95: rank 57 is in +Inf -> 1;
	 * mean 72 / 60 = 1.2. */
	assert_fig(d, "e2e_latency_p50", 1.0, "tgi_request_duration");
	assert_fig(d, "e2e_latency_p95", 1.0, NULL);
	assert_fig(d, "e2e_latency_mean", 1.2, NULL);
	assert_fig(d, "waiting_requests", 4, "tgi_queue_size");
	assert_fig(d, "running_requests", 8, "tgi_batch_current_size");
	assert_absent(d, "ttft_p99", "tgi exports no metric");
	assert_absent(d, "kv_cache_usage", "tgi exports no metric");
	/* No input-length histogram in this scrape. */
	assert_absent(d, "prompt_tokens_per_s", "not in the scrape");
	json_decref(d);
	free(b);
}

static const char triton0[] =
	"# TYPE nv_inference_request_success counter\n"
	"nv_inference_request_success{model=\"llama\",version=\"1\"} 10\n"
	"# TYPE nv_inference_request_failure counter\n"
	"nv_inference_request_failure{model=\"llama\",version=\"1\"} 0\n"
	"# TYPE nv_inference_count counter\n"
	"nv_inference_count{model=\"llama\",version=\"1\"} 10\n"
	"# TYPE nv_inference_request_duration_us counter\n"
	"nv_inference_request_duration_us{model=\"llama\",version=\"1\"} 5000000\n"
	"# TYPE nv_inference_pending_request_count gauge\n"
	"nv_inference_pending_request_count{model=\"llama\",version=\"1\"} 2\n";

static void
test_triton_window(void **state)
{
	char *b = strdup(triton0);
	json_t *d;

	(void)state;
	assert_non_null(b);
	b = bump(b, "nv_inference_request_success{model=\"llama\",version=\"1\"}", 40);
	b = bump(b, "nv_inference_request_failure{model=\"llama\",version=\"1\"}", 2);
	b = bump(b, "nv_inference_count{model=\"llama\",version=\"1\"}", 40);
	b = bump(b, "nv_inference_request_duration_us{model=\"llama\",version=\"1\"}", 30e6);
	d = extract(triton0, 0, b, 20);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "triton");
	/* (40 + 2) / 20 s = 2.1 req/s; 2 / 20 = 0.1 failed; mean 30 s / 40 = 0.75 s. */
	assert_fig(d, "request_rate", 2.1, "nv_inference_request_success");
	assert_fig(d, "error_rate", 0.1, NULL);
	assert_fig(d, "e2e_latency_mean", 0.75, "nv_inference_request_duration_us");
	assert_fig(d, "waiting_requests", 2, "nv_inference_pending_request_count");
	assert_absent(d, "e2e_latency_p99", "triton exports no metric");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(d,
		"facts"), "model_names"), 0)), "llama");
	json_decref(d);
	free(b);
}

static const json_t *
gpu_by_uuid(const json_t *d, const char *uuid)
{
	const json_t *gpus = json_object_get(d, "gpus");
	size_t i;

	for (i = 0; i < json_array_size(gpus); i++) {
		const json_t *g = json_array_get(gpus, i);

		if (strcmp(json_string_value(json_object_get(g, "uuid")), uuid) == 0)
			return g;
	}
	fail_msg("no GPU '%s'", uuid);
	return NULL;
}

static double
num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_number(v))
		fail_msg("'%s' is not a number", k);
	return json_number_value(v);
}

static void
test_dcgm(void **state)
{
	char *a = slurp("datadog-dcgm__metrics.txt");
	json_t *d;
	const json_t *g;

	(void)state;
	d = extract(NULL, 0, a, 0);
	assert_string_equal(json_string_value(json_object_get(d, "engine")), "none");
	assert_absent(d, "request_rate", "no serving engine metrics");
	/* The four per-GPU series of the fixture are one T4 on host 424773df46e0. */
	assert_int_equal(json_array_size(json_object_get(d, "gpus")), 1);
	g = gpu_by_uuid(d, "GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e");
	assert_string_equal(json_string_value(json_object_get(g, "model")), "Tesla T4");
	assert_string_equal(json_string_value(json_object_get(g, "driver")), "460.106.00");
	assert_string_equal(json_string_value(json_object_get(g, "hostname")), "424773df46e0");
	assert_string_equal(json_string_value(json_object_get(g, "source")), "dcgm");
	assert_true(num(g, "utilization_percent") == 0);
	assert_true(num(g, "fb_free_mib") == 15109);
	assert_true(num(g, "fb_used_mib") == 0);
	assert_true(num(g, "sm_clock_mhz") == 300);
	assert_null(json_object_get(g, "pod"));
	assert_int_equal(json_array_size(json_object_get(g, "metrics")), 4);
	json_decref(d);
	free(a);
}

static void
test_dcgm_pods(void **state)
{
	/* The fixture's A10G line carries the pod mapping labels; the same labels on the
	 * figures skewd reads, as dcgm-exporter -k writes them, for two GPUs of two pods. */
	static const char text[] =
		"# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-abc\",device=\"nvidia0\",modelName=\"NVIDIA A10G\","
		"Hostname=\"ip-11111\",DCGM_FI_DRIVER_VERSION=\"550.144.03\",container=\"ray-worker\","
		"namespace=\"ray-llm\",pod=\"ray-1111111\"} 87\n"
		"DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-def\",device=\"nvidia1\",modelName=\"NVIDIA A10G\","
		"Hostname=\"ip-11111\",DCGM_FI_DRIVER_VERSION=\"550.144.03\",container=\"vllm\","
		"namespace=\"llm\",pod=\"vllm-0\"} 12\n"
		"# TYPE DCGM_FI_DEV_FB_USED gauge\n"
		"DCGM_FI_DEV_FB_USED{gpu=\"0\",UUID=\"GPU-abc\",device=\"nvidia0\",modelName=\"NVIDIA A10G\","
		"Hostname=\"ip-11111\",DCGM_FI_DRIVER_VERSION=\"550.144.03\",container=\"ray-worker\","
		"namespace=\"ray-llm\",pod=\"ray-1111111\"} 20480\n";
	json_t *d;
	const json_t *g;

	(void)state;
	d = extract(NULL, 0, text, 0);
	assert_int_equal(json_array_size(json_object_get(d, "gpus")), 2);
	g = gpu_by_uuid(d, "GPU-abc");
	assert_string_equal(json_string_value(json_object_get(g, "pod")), "ray-1111111");
	assert_string_equal(json_string_value(json_object_get(g, "namespace")), "ray-llm");
	assert_true(num(g, "utilization_percent") == 87);
	assert_true(num(g, "fb_used_mib") == 20480);
	assert_string_equal(json_string_value(json_object_get(g, "driver")), "550.144.03");
	g = gpu_by_uuid(d, "GPU-def");
	assert_string_equal(json_string_value(json_object_get(g, "pod")), "vllm-0");
	assert_string_equal(json_string_value(json_object_get(g, "namespace")), "llm");
	assert_null(json_object_get(g, "fb_used_mib"));
	json_decref(d);
}

static void
test_nvgpuexp(void **state)
{
	char *a = slurp("nvgpuexp__linux-x86_64__nvidia-h100-mig__590.48.01__load.metrics");
	char *b = slurp("nvgpuexp__linux-x86_64__nvidia-l40s__595.80__idle.metrics");
	json_t *d;
	const json_t *g;

	(void)state;
	d = extract(NULL, 0, a, 0);
	assert_int_equal(json_array_size(json_object_get(d, "gpus")), 1);
	g = gpu_by_uuid(d, "00000000-0000-0000-0000-000000000000");
	assert_string_equal(json_string_value(json_object_get(g, "model")), "NVIDIA H100 80GB HBM3");
	assert_string_equal(json_string_value(json_object_get(g, "driver")), "590.48.01");
	assert_string_equal(json_string_value(json_object_get(g, "cuda_version")), "13.1");
	assert_string_equal(json_string_value(json_object_get(g, "source")), "nvidia_gpu_exporter");
	/* 85520809984 B / 2^20 = 81559 MiB; used 11665408000 B = 11125 MiB; 1.98 GHz. */
	assert_true(num(g, "fb_total_mib") == 81559);
	assert_true(num(g, "fb_used_mib") == 11125);
	assert_true(fabs(num(g, "sm_clock_mhz") - 1980) < EPS);
	assert_true(num(g, "mig_mode_enabled") == 1);
	/* With MIG on the exporter reports no whole-GPU utilisation. */
	assert_null(json_object_get(g, "utilization_percent"));
	json_decref(d);

	d = extract(NULL, 0, b, 0);
	g = gpu_by_uuid(d, "00000000-0000-0000-0000-000000000000");
	/* utilization ratio 1 -> 100 %; 48305799168 B = 46068 MiB; 2.52 GHz. */
	assert_true(num(g, "utilization_percent") == 100);
	assert_true(num(g, "fb_total_mib") == 46068);
	assert_true(fabs(num(g, "sm_clock_mhz") - 2520) < EPS);
	/* The L40S has no MIG: the exporter writes no mig_mode series. */
	assert_null(json_object_get(g, "mig_mode_enabled"));
	json_decref(d);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vllm_window),
		cmocka_unit_test(test_vllm_v0_only),
		cmocka_unit_test(test_vllm_v1_only),
		cmocka_unit_test(test_vllm_counter_reset),
		cmocka_unit_test(test_one_scrape),
		cmocka_unit_test(test_bad_window),
		cmocka_unit_test(test_sglang_window),
		cmocka_unit_test(test_nim_window),
		cmocka_unit_test(test_tgi_window),
		cmocka_unit_test(test_triton_window),
		cmocka_unit_test(test_dcgm),
		cmocka_unit_test(test_dcgm_pods),
		cmocka_unit_test(test_nvgpuexp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
