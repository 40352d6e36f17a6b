/*
 * test_verdict.c - metrics_verdict() and its rules: one scenario per verdict
 * with figures of a baseline and a current window and a skewd.diff/v1
 * document, the edge cases (missing figures, no diff, load and changes at
 * once), rules loaded from text, and one end-to-end run from two windows of
 * the real vLLM exposition in tests/fixtures/metrics/.
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

static struct metrics_verdict_rules *rules;

static int
setup(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	if (metrics_verdict_rules_default(&rules, &e) < 0)
		fail_msg("rules: %s", e.msg);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	metrics_verdict_rules_free(rules);
	return 0;
}

static json_t *
js(const char *text)
{
	json_error_t je;
	json_t *v = json_loads(text, 0, &je);

	if (v == NULL)
		fail_msg("test JSON: %s", je.text);
	return v;
}

/* A figures document with request_rate, generation tokens/s, p99 latency, waiting
 * requests and KV-cache usage (a negative argument leaves that figure absent). */
static void
put(json_t *f, const char *key, double v, const char *unit)
{
	if (v < 0)
		assert_int_equal(json_object_set_new(f, key, json_pack("{s:s}", "absent",
			"needs two scrapes")), 0);
	else
		assert_int_equal(json_object_set_new(f, key, json_pack("{s:f,s:s}", "value", v,
			"unit", unit)), 0);
}

static json_t *
figs(double rr, double gen, double p99, double waiting, double kv)
{
	json_t *d = json_pack("{s:s,s:{}}", "schema", "skewd.metrics/v1", "figures");
	json_t *f = json_object_get(d, "figures");

	assert_non_null(d);
	put(f, "request_rate", rr, "req/s");
	put(f, "generation_tokens_per_s", gen, "tokens/s");
	put(f, "e2e_latency_p99", p99, "s");
	put(f, "waiting_requests", waiting, "requests");
	put(f, "kv_cache_usage", kv, "ratio");
	return d;
}

static const char diff_runtime[] =
	"{\"schema\": \"skewd.diff/v1\", \"summary\": {\"changes\": 4,"
	" \"by_category\": {\"model\": 0, \"runtime\": 3, \"hardware\": 0, \"serving\": 0,"
	"  \"orchestration\": 0, \"other\": 1},"
	" \"by_severity\": {\"critical\": 1, \"high\": 2, \"medium\": 0, \"low\": 0, \"info\": 1}},"
	" \"changes\": ["
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/spec/template/spec/containers/vllm/args/dtype\","
	"   \"setting\": \"dtype\", \"kind\": \"modified\", \"before\": \"bfloat16\", \"after\": \"float32\","
	"   \"category\": \"runtime\", \"severity\": \"critical\", \"summary\": \"dtype\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/spec/template/spec/containers/vllm/args/max_model_len\","
	"   \"setting\": \"max_model_len\", \"kind\": \"modified\", \"before\": 8192, \"after\": 4096,"
	"   \"category\": \"runtime\", \"severity\": \"high\", \"summary\": \"max_model_len\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/spec/template/spec/containers/vllm/args/max_num_seqs\","
	"   \"setting\": \"max_num_seqs\", \"kind\": \"modified\", \"before\": 256, \"after\": 64,"
	"   \"category\": \"runtime\", \"severity\": \"high\", \"summary\": \"max_num_seqs\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/metadata/labels/team\","
	"   \"setting\": null, \"kind\": \"modified\", \"before\": \"a\", \"after\": \"b\","
	"   \"category\": \"other\", \"severity\": \"info\", \"summary\": \"label\"}]}";

/* Only changes that cannot explain a regression: a label and an info-level runtime change. */
static const char diff_noise[] =
	"{\"schema\": \"skewd.diff/v1\", \"summary\": {\"changes\": 2},"
	" \"changes\": ["
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/metadata/labels/team\","
	"   \"setting\": null, \"kind\": \"modified\", \"before\": \"a\", \"after\": \"b\","
	"   \"category\": \"other\", \"severity\": \"info\", \"summary\": \"label\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\", \"path\": \"/spec/template/spec/containers/vllm/args/disable_log_stats\","
	"   \"setting\": \"disable_log_stats\", \"kind\": \"added\", \"before\": null, \"after\": true,"
	"   \"category\": \"runtime\", \"severity\": \"info\", \"summary\": \"log stats\"}]}";

static const char diff_empty[] =
	"{\"schema\": \"skewd.diff/v1\", \"summary\": {\"changes\": 0}, \"changes\": []}";

static json_t *
run(json_t *base, json_t *cur, const char *diff_text)
{
	json_t *diff = diff_text != NULL ? js(diff_text) : NULL;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	if (metrics_verdict(base, cur, diff, rules, &out, &e) < 0)
		fail_msg("verdict: %s", e.msg);
	json_decref(base);
	json_decref(cur);
	json_decref(diff);
	return out;
}

static const char *
verdict_of(const json_t *v)
{
	return json_string_value(json_object_get(v, "verdict"));
}

static const char *
reason_at(const json_t *v, size_t i)
{
	const char *s = json_string_value(json_array_get(json_object_get(v, "reasons"), i));

	if (s == NULL)
		fail_msg("no reason %zu", i);
	return s;
}

static void
test_skew_likely(void **state)
{
	json_t *v;
	const json_t *f;

	(void)state;
	/* p99 1.0 -> 1.85 s (+85%), generation 100 -> 70 tokens/s (-30%), requests 10 -> 10.3
	 * req/s (+3%, inside the 10% tolerance), three runtime changes (critical, high, high). */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(10.3, 70, 1.85, 0, 0.5), diff_runtime);
	assert_string_equal(verdict_of(v), "skew_likely");
	assert_string_equal(reason_at(v, 0), "p99 latency +85% and generation tokens/s "
		"\xe2\x88\x92" "30% while request rate +3%: load does not explain it");
	assert_string_equal(reason_at(v, 1),
		"3 runtime changes since last good (dtype, max_model_len, max_num_seqs)");
	/* The label change is info severity and category other: not counted. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "changes"),
		"relevant")), 3);
	f = json_object_get(json_object_get(v, "figures"), "e2e_latency_p99");
	assert_true(json_real_value(json_object_get(f, "before")) == 1.0);
	assert_true(json_real_value(json_object_get(f, "after")) == 1.85);
	assert_true(fabs(json_real_value(json_object_get(f, "change_pct")) - 85) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(f, "unit")), "s");
	assert_true(json_array_size(json_object_get(v, "next_steps")) > 0);
	json_decref(v);
}

static void
test_capacity_likely(void **state)
{
	json_t *v;

	(void)state;
	/* Requests +50%, p99 +60%, 12 requests waiting and the KV cache 97% full; the diff
	 * holds only changes below the relevant severities. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(15, 140, 1.6, 12, 0.97), diff_noise);
	assert_string_equal(verdict_of(v), "capacity_likely");
	assert_non_null(strstr(reason_at(v, 0), "p99 latency +60% while request rate +50%"));
	assert_non_null(strstr(reason_at(v, 0), "load explains it"));
	assert_string_equal(reason_at(v, 1), "no relevant configuration change since last good");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "changes"),
		"relevant")), 0);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "next_steps"), 0)),
		"Scale out"));
	json_decref(v);
}

static void
test_inconclusive_no_change(void **state)
{
	json_t *v;

	(void)state;
	/* p99 +50% with requests +2% and an empty diff: neither load nor configuration. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(10.2, 100, 1.5, 0, 0.5), diff_empty);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_string_equal(reason_at(v, 0),
		"p99 latency +50% while request rate +2%: a regression with no load change");
	assert_string_equal(reason_at(v, 1), "no relevant configuration change since last good");
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "next_steps"), 0)),
		"nodes and GPUs"));
	json_decref(v);
}

static void
test_no_regression(void **state)
{
	json_t *v;

	(void)state;
	/* p99 +5%, generation -3%: inside the thresholds, whatever the diff says. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(10, 97, 1.05, 0, 0.5), diff_runtime);
	assert_string_equal(verdict_of(v), "no_regression");
	assert_string_equal(reason_at(v, 0), "no latency rise of 20% or more and no throughput "
		"fall of 15% or more (request rate +0%)");
	assert_int_equal(json_array_size(json_object_get(v, "reasons")), 1);
	json_decref(v);

	/* Throughput falls 40% because load fell 40%: not a regression. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(6, 60, 1.0, 0, 0.5), diff_empty);
	assert_string_equal(verdict_of(v), "no_regression");
	json_decref(v);
}

static void
test_missing_figures(void **state)
{
	json_t *v;

	(void)state;
	/* One scrape per window: no rates, no quantiles. */
	v = run(js("{\"figures\": {\"e2e_latency_p99\": {\"absent\": \"needs two scrapes\"},"
		"\"running_requests\": {\"value\": 3}}}"),
		js("{\"figures\": {\"e2e_latency_p99\": {\"absent\": \"needs two scrapes\"}}}"),
		diff_runtime);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_string_equal(reason_at(v, 0), "no latency or throughput figure in both windows "
		"(e2e_latency_p99: baseline needs two scrapes, current needs two scrapes)");
	/* The changes are still reported. */
	assert_non_null(strstr(reason_at(v, 1), "3 runtime changes"));
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "next_steps"), 0)),
		"missing figures"));
	/* A baseline exists (there is a diff): the advice does not ask for one. */
	assert_int_equal(json_array_size(json_object_get(v, "next_steps")), 1);
	json_decref(v);

	/* Nothing at all. */
	v = run(js("{}"), js("{\"figures\": {}}"), NULL);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_non_null(strstr(reason_at(v, 0), "baseline not reported"));
	json_decref(v);
}

static void
test_no_diff(void **state)
{
	json_t *v;

	(void)state;
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(10, 100, 2.0, 0, 0.5), NULL);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_string_equal(reason_at(v, 0), "p99 latency +100% while request rate +0%");
	assert_non_null(strstr(reason_at(v, 1), "no diff against last good"));
	assert_true(json_is_null(json_object_get(json_object_get(v, "changes"), "relevant")));
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "next_steps"), 0)),
		"last-good baseline"));
	json_decref(v);
}

static void
test_load_and_changes(void **state)
{
	json_t *v;

	(void)state;
	/* Load +50% and saturated, and three runtime changes: either could explain it. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(15, 100, 1.6, 20, 0.99), diff_runtime);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_non_null(strstr(reason_at(v, 0), "load may explain it, and so may the changes"));
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(v, "next_steps"), 0)),
		"one at a time"));
	json_decref(v);

	/* Load +50% without saturation and no relevant change: not clearly capacity. */
	v = run(figs(10, 100, 1.0, 0, 0.5), figs(15, 100, 1.6, 0, 0.3), diff_empty);
	assert_string_equal(verdict_of(v), "inconclusive");
	assert_non_null(strstr(reason_at(v, 0), "but the engine is not saturated"));
	json_decref(v);

	/* Unknown request rate with relevant changes: still skew, said with the caveat. */
	v = run(figs(-1, 100, 1.0, 0, 0.5), figs(10, 100, 1.6, 0, 0.5), diff_runtime);
	assert_string_equal(verdict_of(v), "skew_likely");
	assert_string_equal(reason_at(v, 0),
		"p99 latency +60%; the request rate of one window is unknown");
	json_decref(v);
}

static void
test_rules_from_text(void **state)
{
	static const char custom[] =
		"schema: skewd.verdict-rules/v1\n"
		"regression: {latency_increase_pct: 100, latency_figures: [e2e_latency_p99],\n"
		"  throughput_decrease_pct: 50, throughput_figures: [generation_tokens_per_s]}\n"
		"load: {figure: request_rate, tolerance_pct: 5, increase_pct: 30}\n"
		"saturation: {waiting_requests_min: 5, kv_cache_usage_min: 0.95}\n"
		"changes: {relevant_categories: [runtime], relevant_severities: [critical]}\n"
		"next_steps: {skew_likely: [a], capacity_likely: [b], inconclusive_no_change: [c],\n"
		"  inconclusive_no_figures: [d], inconclusive_no_diff: [d2],\n"
		"  inconclusive_load_and_changes: [d3], no_regression: [e]}\n";
	static const char bad[] =
		"schema: skewd.verdict-rules/v1\n"
		"regression: {latency_increase_pct: fast}\n";
	struct metrics_verdict_rules *r = NULL;
	struct err e = ERR_INIT;
	json_t *out = NULL, *b, *c, *d;

	(void)state;
	if (metrics_verdict_rules_load("custom.yaml", custom, strlen(custom), &r, &e) < 0)
		fail_msg("%s", e.msg);
	/* +85% is under this file's 100% latency threshold, -30% under its 50%. */
	b = figs(10, 100, 1.0, 0, 0.5);
	c = figs(10.3, 70, 1.85, 0, 0.5);
	d = js(diff_runtime);
	assert_int_equal(metrics_verdict(b, c, d, r, &out, &e), 0);
	assert_string_equal(verdict_of(out), "no_regression");
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "next_steps"), 0)), "e");
	json_decref(out);
	json_decref(c);
	/* +150%: only the critical dtype change counts under this file. */
	c = figs(10.3, 70, 2.5, 0, 0.5);
	assert_int_equal(metrics_verdict(b, c, d, r, &out, &e), 0);
	assert_string_equal(verdict_of(out), "skew_likely");
	assert_string_equal(reason_at(out, 1), "1 runtime change since last good (dtype)");
	json_decref(out);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	metrics_verdict_rules_free(r);

	assert_int_equal(metrics_verdict_rules_load("bad.yaml", bad, strlen(bad), &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.msg, "verdict rules 'bad.yaml': 'regression.latency_increase_pct' "
		"must be a number >= 0");
	assert_null(r);
	assert_int_equal(metrics_verdict_rules_load("x", "schema: other/v1\n", 17, &r, &e), -1);
	assert_non_null(strstr(e.msg, "'schema' must be 'skewd.verdict-rules/v1'"));
	assert_int_equal(metrics_verdict_rules_load("x", "a: [", 4, &r, &e), -1);
	assert_non_null(strstr(e.msg, "loading verdict rules"));
}

static void
test_bad_input(void **state)
{
	json_t *b = figs(10, 100, 1.0, 0, 0.5), *d = js("{\"schema\": \"skewd.diff/v0\"}");
	struct err e = ERR_INIT;
	json_t *out = NULL;

	(void)state;
	assert_int_equal(metrics_verdict(b, b, d, rules, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.msg, "verdict: the diff is not a 'skewd.diff/v1' document");
	assert_null(out);
	assert_int_equal(metrics_verdict(NULL, b, NULL, rules, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	json_decref(b);
	json_decref(d);
}

/*
 * End to end: two windows of the real vLLM exposition.
 */
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

/* A copy of `text` with `delta` added to the value of sample line `series`. Frees `text`. */
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
			off += (size_t)snprintf(out + off, cap - off, "%s %.17g\n", series,
				strtod(p + sl + 1, NULL) + delta);
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

/* The fixture advanced by n requests whose e2e latency all fall in bucket (lo, le_first],
 * with `tokens` generated, over a 60 s window. */
static char *
window(char *t, double n, double tokens, size_t first)
{
	static const char *const les[] = { "1.0", "2.5", "5.0", "10.0", "15.0", "20.0", "30.0",
		"40.0", "50.0", "60.0", "+Inf" };
	char s[256];
	size_t i;

	t = bump(t, "vllm:request_success_total{finished_reason=\"length\",model_name=\"facebook/opt-125m\"}", n);
	t = bump(t, "vllm:generation_tokens_total{model_name=\"facebook/opt-125m\"}", tokens);
	for (i = first; i < sizeof(les) / sizeof(les[0]); i++) {
		snprintf(s, sizeof(s), "vllm:e2e_request_latency_seconds_bucket{le=\"%s\","
			"model_name=\"facebook/opt-125m\"}", les[i]);
		t = bump(t, s, n);
	}
	return bump(t, "vllm:e2e_request_latency_seconds_count{model_name=\"facebook/opt-125m\"}", n);
}

static json_t *
extract_window(const char *a, const char *b)
{
	struct metrics_set *x = NULL, *y = NULL;
	struct err e = ERR_INIT;
	json_t *out = NULL;

	if (metrics_parse(a, strlen(a), METRICS_FORMAT_AUTO, &x, &e) < 0 ||
	    metrics_parse(b, strlen(b), METRICS_FORMAT_AUTO, &y, &e) < 0 ||
	    metrics_extract(x, 0, y, 60, &out, &e) < 0)
		fail_msg("%s", e.msg);
	metrics_set_free(x);
	metrics_set_free(y);
	return out;
}

static void
test_end_to_end_vllm(void **state)
{
	char *a0 = slurp("datadog-vllm__vllm_metrics.txt");
	char *a1 = window(slurp("datadog-vllm__vllm_metrics.txt"), 600, 60000, 1);
	char *b0 = slurp("datadog-vllm__vllm_metrics.txt");
	char *b1 = window(slurp("datadog-vllm__vllm_metrics.txt"), 600, 36000, 3);
	json_t *base, *cur, *v;

	(void)state;
	/* Baseline: 600 requests in (1, 2.5]: p99 = 1 + 1.5 * 594/600 = 2.485 s, 1000 tokens/s.
	 * Current: the same 600 requests in (5, 10]: p99 = 5 + 5 * 594/600 = 9.95 s (+300%),
	 * 600 tokens/s (-40%), request rate 10 req/s in both. p95 likewise:
	 * 1 + 1.5 * 570/600 = 2.425 s -> 5 + 5 * 570/600 = 9.75 s (+302%). */
	base = extract_window(a0, a1);
	cur = extract_window(b0, b1);
	v = run(base, cur, diff_runtime);
	assert_string_equal(verdict_of(v), "skew_likely");
	assert_string_equal(reason_at(v, 0), "p99 latency +300% and p95 latency +302% and "
		"generation tokens/s "
		"\xe2\x88\x92" "40% while request rate +0%: load does not explain it");
	json_decref(v);
	free(a0);
	free(a1);
	free(b0);
	free(b1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skew_likely),
		cmocka_unit_test(test_capacity_likely),
		cmocka_unit_test(test_inconclusive_no_change),
		cmocka_unit_test(test_no_regression),
		cmocka_unit_test(test_missing_figures),
		cmocka_unit_test(test_no_diff),
		cmocka_unit_test(test_load_and_changes),
		cmocka_unit_test(test_rules_from_text),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_end_to_end_vllm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
