/*
 * test_metrics.c - the Prometheus text / OpenMetrics parser on the real
 * exporter outputs of tests/fixtures/metrics/ (copied from ../shared/corpus),
 * on hand-written cases for each rule and each malformed input, and the pure
 * computations (histogram_quantile, counter and histogram deltas) with
 * hand-checked numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define EPS 1e-9

static char *
slurp(const char *name, size_t *len)
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
	*len = (size_t)n;
	return p;
}

static struct metrics_set *
parse_fixture(const char *name)
{
	struct metrics_set *set = NULL;
	struct err e = ERR_INIT;
	size_t len;
	char *text = slurp(name, &len);

	if (metrics_parse(text, len, METRICS_FORMAT_AUTO, &set, &e) < 0)
		fail_msg("%s: %s", name, e.msg);
	free(text);
	return set;
}

static struct metrics_set *
parse_str(const char *text, enum metrics_format fmt)
{
	struct metrics_set *set = NULL;
	struct err e = ERR_INIT;

	if (metrics_parse(text, strlen(text), fmt, &set, &e) < 0)
		fail_msg("parse: %s", e.msg);
	return set;
}

/* Parses text that must fail with `code` and a message containing `want`. */
static void
parse_fails(const char *text, size_t len, enum metrics_format fmt, enum err_code code,
	const char *want)
{
	struct metrics_set *set = (struct metrics_set *)1;
	struct err e = ERR_INIT;

	assert_int_equal(metrics_parse(text, len, fmt, &set, &e), -1);
	assert_null(set);
	if (e.code != code || strstr(e.msg, want) == NULL)
		fail_msg("input %.60s: got code %d '%s', want code %d '%s'", text, e.code, e.msg,
			code, want);
}

static double
value_of(const struct metrics_set *set, const char *family, const char *sample,
	const struct metrics_matcher *m, size_t nm)
{
	const struct metrics_sample *s = metrics_set_find(set, family, sample, m, nm);

	if (s == NULL)
		fail_msg("no sample %s in %s", sample ? sample : "(any)", family);
	return s->value;
}

static const struct metrics_matcher opt125m[] = { { "model_name", "facebook/opt-125m" } };

static void
test_every_fixture_parses(void **state)
{
	const char *dir = getenv("SKEWD_FIXTURES");
	char path[1024];
	struct dirent *d;
	DIR *dh;
	int n = 0;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/metrics", dir);
	dh = opendir(path);
	assert_non_null(dh);
	while ((d = readdir(dh)) != NULL) {
		size_t l = strlen(d->d_name);
		struct metrics_set *set;

		if (!(l > 4 && strcmp(d->d_name + l - 4, ".txt") == 0) &&
		    !(l > 8 && strcmp(d->d_name + l - 8, ".metrics") == 0))
			continue;
		set = parse_fixture(d->d_name);
		assert_int_equal(metrics_set_format(set), METRICS_FORMAT_PROMETHEUS);
		assert_true(metrics_set_family_count(set) > 0);
		metrics_set_free(set);
		n++;
	}
	closedir(dh);
	assert_int_equal(n, 6);
}

static void
test_vllm_fixture(void **state)
{
	struct metrics_set *set = parse_fixture("datadog-vllm__vllm_metrics.txt");
	struct metrics_histogram h;
	const struct metrics_family *f;
	const struct metrics_sample *s;
	struct err e = ERR_INIT;
	double v;

	(void)state;
	/* 50 "# TYPE" lines, every sample under one of them; 185 sample lines. */
	assert_int_equal(metrics_set_family_count(set), 50);
	assert_int_equal(metrics_set_sample_count(set), 185);
	f = metrics_set_family(set, "vllm:num_requests_running");
	assert_non_null(f);
	assert_int_equal(metrics_family_type(f), METRICS_GAUGE);
	assert_string_equal(metrics_family_help(f), "Number of requests currently running on GPU.");
	assert_int_equal(metrics_family_type(metrics_set_family(set, "vllm:prompt_tokens_total")),
		METRICS_COUNTER);
	assert_int_equal(metrics_family_type(metrics_set_family(set,
		"vllm:e2e_request_latency_seconds")), METRICS_HISTOGRAM);
	/* A histogram whose name ends in _total (vLLM V1). */
	assert_int_equal(metrics_family_type(metrics_set_family(set, "vllm:iteration_tokens_total")),
		METRICS_HISTOGRAM);
	assert_true(fabs(value_of(set, "vllm:prompt_tokens_total", NULL, opt125m, 1) - 5.0) < EPS);
	assert_true(fabs(value_of(set, "vllm:generation_tokens_total", NULL, opt125m, 1) - 7.0) < EPS);
	assert_true(fabs(value_of(set, "process_virtual_memory_bytes", NULL, NULL, 0) -
		6.634254336e+09) < 1);
	assert_true(fabs(value_of(set, "vllm:prefix_cache_hits_total", NULL, opt125m, 1) - 64.0) < EPS);

	/* The engine's config as labels. */
	s = metrics_set_find(set, "vllm:cache_config_info", NULL, NULL, 0);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 10);
	assert_string_equal(s->labels[0].name, "block_size");   /* sorted */
	assert_string_equal(metrics_sample_label(s, "num_gpu_blocks"), "7281");
	assert_string_equal(metrics_sample_label(s, "gpu_memory_utilization"), "0.9");
	assert_string_equal(metrics_sample_label(s, "cache_dtype"), "auto");
	assert_null(metrics_sample_label(s, "model_name"));

	/* One of three series by label. */
	{
		struct metrics_matcher m[] = { { "sleep_state", "awake" } };
		assert_true(fabs(value_of(set, "vllm:engine_sleep_state", NULL, m, 1) - 1.0) < EPS);
		assert_int_equal(metrics_family_sample_count(metrics_set_family(set,
			"vllm:engine_sleep_state")), 3);
	}
	assert_int_equal(metrics_set_sum(set, "vllm:prompt_tokens_by_source_total", NULL, 0, &v, &e), 0);
	assert_true(fabs(v - 117.0) < EPS);   /* 53 + 64 + 0 */

	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "vllm:e2e_request_latency_seconds", opt125m, 1,
		&h, &e), 0);
	assert_int_equal(h.nbuckets, 11);      /* 1 .. 60 and +Inf */
	assert_true(isinf(h.buckets[10].le));
	assert_true(fabs(h.buckets[0].le - 1.0) < EPS);
	assert_true(fabs(h.count - 1.0) < EPS);
	assert_true(fabs(h.sum - 0.5034303665161133) < EPS);
	assert_int_equal(h.series, 1);
	/* p99: rank 0.99 of 1 falls in the first bucket (0, 1]: 0 + 1 * 0.99 / 1. */
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 0.99) < EPS);

	/*
	 * vllm:time_per_output_token_seconds, real buckets of the fixture:
	 *   le 0.01: 0, 0.025: 0, 0.05: 6, ... +Inf: 6.
	 * p50: rank = 0.5 * 6 = 3; first bucket with count >= 3 is (0.025, 0.05] holding 6 - 0 = 6,
	 *      so 0.025 + (0.05 - 0.025) * (3 - 0) / 6 = 0.025 + 0.0125 = 0.0375.
	 * p99: rank = 5.94, same bucket: 0.025 + 0.025 * 5.94 / 6 = 0.025 + 0.02475 = 0.04975.
	 */
	assert_int_equal(metrics_set_histogram(set, "vllm:time_per_output_token_seconds", opt125m, 1,
		&h, &e), 0);
	assert_int_equal(h.nbuckets, 14);
	assert_true(fabs(metrics_histogram_quantile(0.5, &h) - 0.0375) < EPS);
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 0.04975) < EPS);

	/*
	 * vllm:iteration_tokens_total (V1): le 1: 19, 8: 67, 16: 68, 32: 69, 64: 71, +Inf: 71.
	 * p50: rank 35.5 -> bucket (1, 8] holding 67 - 19 = 48, rank in it 35.5 - 19 = 16.5:
	 *      1 + 7 * 16.5 / 48 = 1 + 2.40625 = 3.40625.
	 * p95: rank 67.45 -> (8, 16] holding 1, rank in it 0.45: 8 + 8 * 0.45 = 11.6.
	 * p99: rank 70.29 -> (32, 64] holding 2, rank in it 1.29: 32 + 32 * 0.645 = 52.64.
	 */
	assert_int_equal(metrics_set_histogram(set, "vllm:iteration_tokens_total", NULL, 0, &h, &e), 0);
	assert_int_equal(h.nbuckets, 6);
	assert_true(fabs(metrics_histogram_quantile(0.5, &h) - 3.40625) < EPS);
	assert_true(fabs(metrics_histogram_quantile(0.95, &h) - 11.6) < EPS);
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 52.64) < EPS);

	/* inter_token_latency: le 0.01: 141, 0.1: 144, +Inf: 144.
	 * p99: rank 142.56 -> (0.01, 0.1] holding 3, rank in it 1.56: 0.01 + 0.09 * 0.52 = 0.0568. */
	assert_int_equal(metrics_set_histogram(set, "vllm:inter_token_latency_seconds", NULL, 0, &h,
		&e), 0);
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 0.0568) < EPS);

	/* Not a histogram; not there. */
	assert_int_equal(metrics_set_histogram(set, "vllm:num_requests_running", NULL, 0, &h, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(metrics_set_histogram(set, "vllm:nope", NULL, 0, &h, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	{
		struct metrics_matcher m[] = { { "model_name", "other" } };
		assert_int_equal(metrics_set_histogram(set, "vllm:e2e_request_latency_seconds", m, 1,
			&h, &e), -1);
		assert_int_equal(e.code, ERR_NOT_FOUND);
	}
	metrics_histogram_release(&h);
	metrics_set_free(set);
}

static void
test_sglang_fixture(void **state)
{
	struct metrics_set *set = parse_fixture("datadog-sglang__sglang_metrics.txt");
	struct metrics_histogram h;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(metrics_set_family_count(set), 25);
	assert_int_equal(metrics_set_sample_count(set), 43);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "sglang:num_running_reqs")),
		METRICS_GAUGE);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "sglang:generation_tokens_total")),
		METRICS_COUNTER);
	assert_true(fabs(value_of(set, "sglang:token_usage", NULL, NULL, 0) - 0.25) < EPS);
	assert_true(fabs(value_of(set, "sglang:max_total_num_tokens", NULL, NULL, 0) - 430839) < EPS);
	assert_true(fabs(value_of(set, "sglang:generation_tokens_total", NULL, opt125m, 1) - 32) < EPS);
	assert_string_equal(metrics_sample_label(metrics_set_find(set, "sglang:num_queue_reqs", NULL,
		NULL, 0), "tp_rank"), "0");
	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "sglang:time_to_first_token_seconds", opt125m, 1,
		&h, &e), 0);
	assert_int_equal(h.nbuckets, 2);
	/* le 0.1: 1, +Inf: 1. p99: rank 0.99 in (0, 0.1]: 0.1 * 0.99 = 0.099. */
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 0.099) < EPS);
	assert_true(fabs(h.sum - 0.02) < EPS);
	metrics_histogram_release(&h);
	metrics_set_free(set);
}

static void
test_nim_fixture(void **state)
{
	struct metrics_set *set = parse_fixture("datadog-nim__nim_metrics.txt");
	struct metrics_histogram h;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(metrics_set_family_count(set), 24);
	assert_int_equal(metrics_set_sample_count(set), 111);
	/* vLLM-derived names without the vllm: prefix. */
	assert_int_equal(metrics_family_type(metrics_set_family(set, "num_request_max")), METRICS_GAUGE);
	assert_true(fabs(value_of(set, "num_request_max", NULL, NULL, 0) - 64) < EPS);
	assert_true(fabs(value_of(set, "gpu_cache_usage_perc", NULL, NULL, 0) -
		0.0002848191398461977) < 1e-15);
	assert_true(fabs(value_of(set, "request_success_total", NULL, NULL, 0) - 5) < EPS);
	/*
	 * time_to_first_token_seconds: le 0.01: 0, 0.02: 2, 0.04: 4, ... 0.5: 4, 0.75: 5, +Inf: 5.
	 * p50: rank 2.5 -> (0.02, 0.04] holding 2, rank in it 0.5: 0.02 + 0.02 * 0.25 = 0.025.
	 * p99: rank 4.95 -> (0.5, 0.75] holding 1, rank in it 0.95: 0.5 + 0.25 * 0.95 = 0.7375.
	 */
	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "time_to_first_token_seconds", NULL, 0, &h, &e), 0);
	assert_int_equal(h.nbuckets, 17);
	assert_true(fabs(metrics_histogram_quantile(0.5, &h) - 0.025) < EPS);
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 0.7375) < EPS);
	metrics_histogram_release(&h);
	metrics_set_free(set);
}

static void
test_dcgm_fixture(void **state)
{
	struct metrics_set *set = parse_fixture("datadog-dcgm__metrics.txt");
	const struct metrics_family *f;
	const struct metrics_sample *s;

	(void)state;
	assert_int_equal(metrics_set_family_count(set), 38);
	assert_int_equal(metrics_set_sample_count(set), 38);
	s = metrics_set_find(set, "DCGM_FI_DEV_SM_CLOCK", NULL, NULL, 0);
	assert_non_null(s);
	assert_true(fabs(s->value - 300) < EPS);
	assert_int_equal(s->nlabels, 7);
	assert_string_equal(metrics_sample_label(s, "modelName"), "Tesla T4");
	assert_string_equal(metrics_sample_label(s, "DCGM_FI_DRIVER_VERSION"), "460.106.00");
	assert_string_equal(metrics_sample_label(s, "Hostname"), "424773df46e0");
	assert_int_equal(metrics_family_type(metrics_set_family(set,
		"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")), METRICS_COUNTER);
	/* "# HELP name" with no text. */
	f = metrics_set_family(set, "DCGM_FI_DEV_PSTATE");
	assert_non_null(f);
	assert_string_equal(metrics_family_help(f), "");
	/* A sample without labels. */
	s = metrics_set_find(set, "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", NULL, NULL, 0);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 0);
	/* The A10G line with Kubernetes attribution. */
	{
		struct metrics_matcher m[] = { { "namespace", "ray-llm" }, { "pod", "ray-1111111" } };
		s = metrics_set_find(set, "DCGM_FI_PROF_DRAM_ACTIVE", NULL, m, 2);
		assert_non_null(s);
		assert_true(fabs(s->value - 0.000003) < 1e-12);
		assert_string_equal(metrics_sample_label(s, "modelName"), "NVIDIA A10G");
	}
	metrics_set_free(set);
}

static void
test_nvgpuexp_fixtures(void **state)
{
	struct metrics_set *set;

	(void)state;
	set = parse_fixture("nvgpuexp__linux-x86_64__nvidia-h100-mig__590.48.01__load.metrics");
	assert_int_equal(metrics_set_family_count(set), 124);
	assert_int_equal(metrics_set_sample_count(set), 128);
	assert_true(fabs(value_of(set, "nvidia_smi_clocks_current_graphics_clock_hz", NULL, NULL, 0) -
		1.98e9) < 1);
	assert_true(fabs(value_of(set, "nvidia_smi_memory_total_bytes", NULL, NULL, 0) -
		8.5520809984e10) < 1);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "nvidia_smi_failed_scrapes_total")),
		METRICS_COUNTER);
	metrics_set_free(set);
	set = parse_fixture("nvgpuexp__linux-x86_64__nvidia-l40s__595.80__idle.metrics");
	assert_int_equal(metrics_set_family_count(set), 130);
	assert_int_equal(metrics_set_sample_count(set), 130);
	metrics_set_free(set);
}

static void
test_prometheus_text_features(void **state)
{
	static const char text[] =
		"# a comment first\r\n"
		"\r\n"
		"# HELP esc Backslash \\\\ and\\nnewline, \\q kept\r\n"
		"# TYPE esc gauge\r\n"
		"esc{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",empty=\"\"} 1.5e3 1700000000123\r\n"
		"   \r\n"
		"# TYPE specials untyped\r\n"
		"specials{k=\"nan\"} NaN\r\n"
		"specials{k=\"pinf\"} +Inf\r\n"
		"specials{k=\"ninf\"} -Inf\r\n"
		"specials{k=\"sci\",} -1.25E-3\r\n"
		"specials{k=\"neg\"} -7 -5\r\n"
		"# unrelated comment in the middle\r\n"
		"vllm:num_requests_running{model_name=\"m\"}\t3\r\n"
		"# TYPE rpc_seconds summary\r\n"
		"rpc_seconds{quantile=\"0.99\"} 0.9\r\n"
		"rpc_seconds{quantile=\"0.5\"} 0.2\r\n"
		"rpc_seconds_sum 42\r\n"
		"rpc_seconds_count 100\r\n"
		"# EOF\r\n"
		"bare 1";
	struct metrics_set *set = parse_str(text, METRICS_FORMAT_AUTO);
	const struct metrics_sample *s;
	const struct metrics_family *f;
	struct metrics_summary sum;
	struct err e = ERR_INIT;

	(void)state;
	/* "# EOF" is only a comment in Prometheus text, and "bare" follows it. */
	assert_int_equal(metrics_set_format(set), METRICS_FORMAT_PROMETHEUS);
	assert_int_equal(metrics_set_family_count(set), 5);
	f = metrics_set_family(set, "esc");
	assert_string_equal(metrics_family_help(f), "Backslash \\ and\nnewline, \\q kept");
	s = metrics_family_sample_at(f, 0);
	assert_string_equal(metrics_sample_label(s, "path"), "C:\\dir");
	assert_string_equal(metrics_sample_label(s, "quote"), "say \"hi\"");
	assert_string_equal(metrics_sample_label(s, "nl"), "a\nb");
	assert_string_equal(metrics_sample_label(s, "empty"), "");
	assert_string_equal(s->labels[0].name, "empty");
	assert_string_equal(s->labels[3].name, "quote");
	assert_true(fabs(s->value - 1500) < EPS);
	assert_true(s->has_timestamp);
	assert_true(s->timestamp_ms == 1700000000123LL);
	{
		struct metrics_matcher m[] = { { "k", "nan" } };
		assert_true(isnan(value_of(set, "specials", NULL, m, 1)));
		m[0].value = "pinf";
		assert_true(isinf(value_of(set, "specials", NULL, m, 1)) &&
			value_of(set, "specials", NULL, m, 1) > 0);
		m[0].value = "ninf";
		assert_true(value_of(set, "specials", NULL, m, 1) < 0 &&
			isinf(value_of(set, "specials", NULL, m, 1)));
		m[0].value = "sci";
		assert_true(fabs(value_of(set, "specials", NULL, m, 1) + 0.00125) < EPS);
		m[0].value = "neg";
		s = metrics_set_find(set, "specials", NULL, m, 1);
		assert_true(s->timestamp_ms == -5);
	}
	assert_int_equal(metrics_family_type(metrics_set_family(set, "specials")), METRICS_UNTYPED);
	assert_true(fabs(value_of(set, "vllm:num_requests_running", NULL, NULL, 0) - 3) < EPS);
	assert_non_null(metrics_set_family(set, "bare"));

	metrics_summary_init(&sum);
	assert_int_equal(metrics_set_summary(set, "rpc_seconds", NULL, 0, &sum, &e), 0);
	assert_int_equal(sum.nquantiles, 2);
	assert_true(fabs(sum.quantiles[0].quantile - 0.5) < EPS);
	assert_true(fabs(sum.quantiles[0].value - 0.2) < EPS);
	assert_true(fabs(sum.quantiles[1].value - 0.9) < EPS);
	assert_true(fabs(sum.sum - 42) < EPS && fabs(sum.count - 100) < EPS);
	metrics_summary_release(&sum);
	metrics_set_free(set);
}

static void
test_openmetrics_features(void **state)
{
	static const char text[] =
		"# TYPE requests counter\n"
		"# HELP requests Requests with a \\\"quote\\\".\n"
		"requests_total{code=\"200\"} 10 1700000000.5 # {trace_id=\"abc\"} 1 1700000000.1\n"
		"requests_created{code=\"200\"} 1699999000\n"
		"# TYPE build info\n"
		"build_info{version=\"1.2\"} 1\n"
		"# TYPE state stateset\n"
		"state{state=\"a\"} 1\n"
		"state{state=\"b\"} 0\n"
		"# TYPE queue gaugehistogram\n"
		"# UNIT queue seconds\n"
		"queue_bucket{le=\"1\"} 2\n"
		"queue_bucket{le=\"+Inf\"} 3\n"
		"queue_gcount 3\n"
		"queue_gsum 2.5\n"
		"# TYPE mystery unknown\n"
		"mystery 4\n"
		"# EOF\n";
	struct metrics_set *set = parse_str(text, METRICS_FORMAT_AUTO);
	const struct metrics_family *f;
	const struct metrics_sample *s;
	struct metrics_histogram h;
	struct err e = ERR_INIT;
	double v;

	(void)state;
	assert_int_equal(metrics_set_format(set), METRICS_FORMAT_OPENMETRICS);
	assert_int_equal(metrics_set_family_count(set), 5);
	/* Both spellings find the counter. */
	f = metrics_set_family(set, "requests_total");
	assert_non_null(f);
	assert_ptr_equal(f, metrics_set_family(set, "requests"));
	assert_string_equal(metrics_family_name(f), "requests");
	assert_string_equal(metrics_family_help(f), "Requests with a \"quote\".");
	assert_int_equal(metrics_family_sample_count(f), 2);
	s = metrics_set_find(set, "requests", "requests_total", NULL, 0);
	assert_non_null(s);
	assert_true(s->has_timestamp && s->timestamp_ms == 1700000000500LL);
	/* _created is not part of the sum. */
	assert_int_equal(metrics_set_sum(set, "requests_total", NULL, 0, &v, &e), 0);
	assert_true(fabs(v - 10) < EPS);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "build")), METRICS_INFO);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "state")), METRICS_STATESET);
	assert_int_equal(metrics_family_type(metrics_set_family(set, "mystery")), METRICS_UNTYPED);
	f = metrics_set_family(set, "queue");
	assert_int_equal(metrics_family_type(f), METRICS_GAUGEHISTOGRAM);
	assert_string_equal(metrics_family_unit(f), "seconds");
	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "queue", NULL, 0, &h, &e), 0);
	assert_int_equal(h.nbuckets, 2);
	assert_true(fabs(h.count - 3) < EPS && fabs(h.sum - 2.5) < EPS);
	metrics_histogram_release(&h);
	metrics_set_free(set);

	/* Prometheus-only and OpenMetrics-only type words. */
	parse_fails("# TYPE x untyped\nx 1\n# EOF\n", 27, METRICS_FORMAT_OPENMETRICS, ERR_INVALID,
		"1:10: unknown metric type 'untyped'");
	parse_fails("# TYPE x info\nx_info 1\n", 23, METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:10: unknown metric type 'info'");
	assert_int_equal(metrics_format_from_content_type(
		"application/openmetrics-text; version=1.0.0; charset=utf-8"), METRICS_FORMAT_OPENMETRICS);
	assert_int_equal(metrics_format_from_content_type("text/plain; version=0.0.4"),
		METRICS_FORMAT_PROMETHEUS);
	assert_int_equal(metrics_format_from_content_type(NULL), METRICS_FORMAT_AUTO);
}

#define FAILS(text, fmt, code, want) parse_fails(text, sizeof(text) - 1, fmt, code, want)

static void
test_malformed(void **state)
{
	(void)state;
	/* Truncated lines. */
	FAILS("up 1\nvllm:num_requests_running{model_name=\"m\"}", METRICS_FORMAT_PROMETHEUS,
		ERR_INVALID, "2:42: missing value of 'vllm:num_requests_running'");
	FAILS("up 1\nvllm:x{model_name=\"m", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:21: unterminated value of label 'model_name'");
	FAILS("a{b=\"c\",d=\"e\" 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:15: expected ',' or '}' after a label value");
	FAILS("a{b=\"c\",\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:9: unterminated label set opened at column 2");
	/* Bad escape: the column is that of the backslash. */
	FAILS("# TYPE a gauge\na{b=\"x\\qy\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:7: invalid escape '\\q' in value of label 'b'");
	/* Bad values and timestamps. */
	FAILS("a 1.2.3\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:3: invalid value '1.2.3'");
	FAILS("a 0x10\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:3: invalid value '0x10'");
	FAILS("a nan(1)\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "invalid value");
	FAILS("a 1 12.5\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:5: invalid timestamp '12.5'");
	FAILS("a 1 2 3\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:7: unexpected text after the value");
	FAILS("a 1e999\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "invalid value");
	/* Raw bytes quoted in a message are made printable (messages reach JSON). */
	FAILS("a 1\xff\x01\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:3: invalid value '1?" "?'");
	FAILS("# TYPE a g\xe9\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "unknown metric type 'g?'");
	/* Names. */
	FAILS("9a 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:1: expected a metric name");
	FAILS("a{:b=\"c\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:3: expected a label name");
	FAILS("a{b=\"1\",b=\"2\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:9: duplicate label name 'b'");
	FAILS("a{b c} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:5: expected '=' after label name 'b'");
	FAILS("a{b=c} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:5: expected '\"'");
	/* Families. */
	FAILS("# TYPE a gauge\n# TYPE a counter\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:3: second TYPE line for 'a'");
	FAILS("a 1\n# TYPE a gauge\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:3: TYPE line for 'a' after its samples");
	FAILS("# HELP a x\n# HELP a y\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:3: second HELP line for 'a'");
	FAILS("# TYPE a gauge\n# TYPE b counter\na 1\na 2\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"4:1: duplicate series 'a'");
	FAILS("# TYPE a\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:9: TYPE line for 'a' has no type");
	FAILS("# TYPE a widget\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:10: unknown metric type 'widget'");
	FAILS("# TYPE h histogram\nh_bucket 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:1: histogram sample 'h_bucket' has no 'le' label");
	FAILS("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"label 'le' of 'h_bucket' is not a number");
	FAILS("# TYPE h histogram\nh 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"2:1: sample 'h' does not fit histogram family 'h'");
	FAILS("# TYPE s summary\ns 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"summary sample 's' has no 'quantile' label");
	/* Non-UTF-8 in a label value is refused (a decision, see metrics.h). */
	FAILS("a{b=\"ok\xff\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:3: value of label 'b' is not valid UTF-8 (byte 3)");
	FAILS("a{b=\"\xc3\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "not valid UTF-8");
	FAILS("a{b=\"\xed\xa0\x80\"} 1\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "not valid UTF-8");
	FAILS("# HELP a bad \xc0\xaf\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID,
		"1:10: HELP text is not valid UTF-8");
	FAILS("a 1\0\n", METRICS_FORMAT_PROMETHEUS, ERR_INVALID, "1:4: NUL byte");
	/* OpenMetrics: # EOF is the end, and is required. */
	FAILS("a 1\n# EOF\nb 2\n", METRICS_FORMAT_OPENMETRICS, ERR_INVALID, "3:1: data after '# EOF'");
	FAILS("a 1\n", METRICS_FORMAT_OPENMETRICS, ERR_INVALID,
		"2:1: OpenMetrics text ends without '# EOF'");
	FAILS("# TYPE c counter\nc_total 1 # trace\n# EOF\n", METRICS_FORMAT_OPENMETRICS, ERR_INVALID,
		"2:13: expected '{' to open an exemplar");
	FAILS("# UNIT a sec onds\n# EOF\n", METRICS_FORMAT_OPENMETRICS, ERR_INVALID,
		"1:13: unit of 'a' is not a name");
	FAILS("# HELP a bad \\q\n# EOF\n", METRICS_FORMAT_OPENMETRICS, ERR_INVALID,
		"1:14: invalid escape in HELP text");
}

static void
test_valid_utf8_accepted(void **state)
{
	struct metrics_set *set = parse_str("a{b=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"} 1\n",
		METRICS_FORMAT_PROMETHEUS);

	(void)state;
	assert_string_equal(metrics_sample_label(metrics_set_find(set, "a", NULL, NULL, 0), "b"),
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	metrics_set_free(set);
}

static void
test_limits(void **state)
{
	struct buf b = BUF_INIT(64 * 1024 * 1024);
	struct err e = ERR_INIT;
	struct metrics_set *set = NULL;
	clock_t t0;
	size_t i;
	char *big;

	(void)state;
	/* A 1 MB label value fails at the label limit. */
	big = malloc(1024 * 1024 + 64);
	assert_non_null(big);
	memcpy(big, "a{b=\"", 5);
	memset(big + 5, 'x', 1024 * 1024);
	memcpy(big + 5 + 1024 * 1024, "\"} 1\n", 5);
	assert_int_equal(metrics_parse(big, 1024 * 1024 + 10, METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "1:6: value of label 'b' longer than"));
	/* The same with escapes, so the unescaped length is what counts. */
	for (i = 0; i + 2 <= 1024 * 1024; i += 2)
		memcpy(big + 5 + i, "\\n", 2);
	assert_int_equal(metrics_parse(big, 1024 * 1024 + 10, METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "value of label 'b' longer than"));
	/* A long HELP line fails at the line limit. */
	memcpy(big, "# HELP a ", 9);
	memset(big + 9, 'h', 1024 * 1024);
	assert_int_equal(metrics_parse(big, 1024 * 1024 + 9, METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "line longer than"));
	/* A name over the name limit. */
	memset(big, 'n', METRICS_MAX_NAME_BYTES + 1);
	memcpy(big + METRICS_MAX_NAME_BYTES + 1, " 1\n", 3);
	assert_int_equal(metrics_parse(big, METRICS_MAX_NAME_BYTES + 4, METRICS_FORMAT_PROMETHEUS,
		&set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	free(big);

	/* Too many labels. */
	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "a{", &e), 0);
	for (i = 0; i <= METRICS_MAX_LABELS; i++)
		assert_int_equal(buf_addf(&b, &e, "l%zu=\"v\",", i), 0);
	assert_int_equal(buf_addstr(&b, "} 1\n", &e), 0);
	assert_int_equal(metrics_parse(buf_str(&b), buf_len(&b), METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "more than 64 labels"));

	/* 10^6 series (about 27 MB) fail at the byte limit; the first 16 MB of them fail at the
	 * series limit, quickly. */
	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "# TYPE vllm:x gauge\n", &e), 0);
	for (i = 0; i < 1000000; i++)
		assert_int_equal(buf_addf(&b, &e, "vllm:x{i=\"%zu\"} 1\n", i), 0);
	assert_int_equal(metrics_parse(buf_str(&b), buf_len(&b), METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "over the limit"));
	t0 = clock();
	assert_int_equal(metrics_parse(buf_str(&b), METRICS_MAX_BYTES, METRICS_FORMAT_PROMETHEUS, &set,
		&e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "100002:1: more than 100000 series"));
	assert_null(set);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	/* Exactly the limit parses. */
	{
		const char *p = buf_str(&b);
		size_t n = 0, lines = 0;
		while (lines < METRICS_MAX_SERIES + 1) {
			if (p[n++] == '\n')
				lines++;
		}
		assert_int_equal(metrics_parse(p, n, METRICS_FORMAT_PROMETHEUS, &set, &e), 0);
		assert_int_equal(metrics_set_sample_count(set), METRICS_MAX_SERIES);
		metrics_set_free(set);
	}
	/* Too many families (one TYPE line each). */
	buf_reset(&b);
	for (i = 0; i <= METRICS_MAX_FAMILIES; i++)
		assert_int_equal(buf_addf(&b, &e, "# TYPE f%zu gauge\n", i), 0);
	assert_int_equal(metrics_parse(buf_str(&b), buf_len(&b), METRICS_FORMAT_PROMETHEUS, &set, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_non_null(strstr(e.msg, "more than 100000 metric families"));
	buf_release(&b);
}

static void
test_quantile_semantics(void **state)
{
	struct metrics_bucket b[4];
	struct metrics_histogram h = { b, 0, NAN, NAN, 1 };

	(void)state;
	b[0] = (struct metrics_bucket){ 1, 10 };
	b[1] = (struct metrics_bucket){ 2, 20 };
	b[2] = (struct metrics_bucket){ INFINITY, 20 };
	h.nbuckets = 3;
	assert_true(isnan(metrics_histogram_quantile(NAN, &h)));
	assert_true(isinf(metrics_histogram_quantile(-0.1, &h)) && metrics_histogram_quantile(-0.1, &h) < 0);
	assert_true(isinf(metrics_histogram_quantile(1.1, &h)) && metrics_histogram_quantile(1.1, &h) > 0);
	/* rank 10 is reached in the first bucket, which starts at 0: 0 + 1 * 10/10. */
	assert_true(fabs(metrics_histogram_quantile(0.5, &h) - 1.0) < EPS);
	/* rank 15: (1, 2] holding 10, rank in it 5: 1.5. */
	assert_true(fabs(metrics_histogram_quantile(0.75, &h) - 1.5) < EPS);
	/* q = 1: rank 20 reached in (1, 2]. */
	assert_true(fabs(metrics_histogram_quantile(1.0, &h) - 2.0) < EPS);
	/* Observations in +Inf: the highest finite bound. */
	b[2].count = 40;
	assert_true(fabs(metrics_histogram_quantile(0.99, &h) - 2.0) < EPS);
	/* No +Inf bucket, fewer than 2 buckets, zero count: NaN. */
	b[2].le = 3;
	assert_true(isnan(metrics_histogram_quantile(0.5, &h)));
	b[0] = (struct metrics_bucket){ INFINITY, 5 };
	h.nbuckets = 1;
	assert_true(isnan(metrics_histogram_quantile(0.5, &h)));
	b[0] = (struct metrics_bucket){ 1, 0 };
	b[1] = (struct metrics_bucket){ INFINITY, 0 };
	h.nbuckets = 2;
	assert_true(isnan(metrics_histogram_quantile(0.5, &h)));
	/* Lowest bucket with an upper bound <= 0: its bound, no interpolation. */
	b[0] = (struct metrics_bucket){ -1, 5 };
	b[1] = (struct metrics_bucket){ INFINITY, 10 };
	assert_true(fabs(metrics_histogram_quantile(0.2, &h) + 1.0) < EPS);
	/* Unsorted input is sorted; a falling cumulative count is raised to the one before:
	 * 1: 10, 2: 8 -> 10, 4: 20, +Inf: 20. rank 15 falls in (2, 4] holding 10, rank 5: 3. */
	b[0] = (struct metrics_bucket){ 4, 20 };
	b[1] = (struct metrics_bucket){ 1, 10 };
	b[2] = (struct metrics_bucket){ INFINITY, 20 };
	b[3] = (struct metrics_bucket){ 2, 8 };
	h.nbuckets = 4;
	assert_true(fabs(metrics_histogram_quantile(0.75, &h) - 3.0) < EPS);
}

static void
test_counters(void **state)
{
	(void)state;
	assert_true(fabs(metrics_counter_increase(10, 25) - 15) < EPS);
	/* A reset: the current value is the increase. */
	assert_true(fabs(metrics_counter_increase(100, 7) - 7) < EPS);
	assert_true(isnan(metrics_counter_increase(NAN, 7)));
	assert_true(fabs(metrics_counter_rate(10, 70, 30) - 2) < EPS);
	assert_true(isnan(metrics_counter_rate(10, 70, 0)));
}

static const char scrape1[] =
	"# TYPE vllm:generation_tokens_total counter\n"
	"vllm:generation_tokens_total{model_name=\"m\",pod=\"a\"} 1000\n"
	"vllm:generation_tokens_total{model_name=\"m\",pod=\"b\"} 5000\n"
	"# TYPE vllm:e2e_request_latency_seconds histogram\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"1\",pod=\"a\"} 10\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"2\",pod=\"a\"} 20\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",pod=\"a\"} 20\n"
	"vllm:e2e_request_latency_seconds_sum{pod=\"a\"} 25\n"
	"vllm:e2e_request_latency_seconds_count{pod=\"a\"} 20\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"1\",pod=\"b\"} 100\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"2\",pod=\"b\"} 100\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",pod=\"b\"} 100\n"
	"vllm:e2e_request_latency_seconds_sum{pod=\"b\"} 50\n"
	"vllm:e2e_request_latency_seconds_count{pod=\"b\"} 100\n";

/* Pod a advanced; pod b restarted (counts fell); pod c is new. */
static const char scrape2[] =
	"# TYPE vllm:generation_tokens_total counter\n"
	"vllm:generation_tokens_total{model_name=\"m\",pod=\"a\"} 1600\n"
	"vllm:generation_tokens_total{model_name=\"m\",pod=\"b\"} 300\n"
	"vllm:generation_tokens_total{model_name=\"m\",pod=\"c\"} 100\n"
	"# TYPE vllm:e2e_request_latency_seconds histogram\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"1\",pod=\"a\"} 12\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"2\",pod=\"a\"} 30\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",pod=\"a\"} 40\n"
	"vllm:e2e_request_latency_seconds_sum{pod=\"a\"} 75\n"
	"vllm:e2e_request_latency_seconds_count{pod=\"a\"} 40\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"1\",pod=\"b\"} 0\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"2\",pod=\"b\"} 10\n"
	"vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",pod=\"b\"} 10\n"
	"vllm:e2e_request_latency_seconds_sum{pod=\"b\"} 15\n"
	"vllm:e2e_request_latency_seconds_count{pod=\"b\"} 10\n";

static void
test_windows(void **state)
{
	struct metrics_set *p = parse_str(scrape1, METRICS_FORMAT_PROMETHEUS);
	struct metrics_set *c = parse_str(scrape2, METRICS_FORMAT_PROMETHEUS);
	struct metrics_histogram a, b, d;
	struct err e = ERR_INIT;
	double v;

	(void)state;
	/* a: 1600 - 1000 = 600; b reset: 300; c new: 100. */
	assert_int_equal(metrics_window_increase(p, c, "vllm:generation_tokens_total", NULL, 0, &v, &e), 0);
	assert_true(fabs(v - 1000) < EPS);
	{
		struct metrics_matcher m[] = { { "pod", "a" } };
		assert_int_equal(metrics_window_increase(p, c, "vllm:generation_tokens_total", m, 1, &v,
			&e), 0);
		assert_true(fabs(v - 600) < EPS);
		m[0].value = "zzz";
		assert_int_equal(metrics_window_increase(p, c, "vllm:generation_tokens_total", m, 1, &v,
			&e), -1);
		assert_int_equal(e.code, ERR_NOT_FOUND);
	}

	/*
	 * Window histogram: pod a delta 1: 2, 2: 10, +Inf: 20 (sum 50, count 20); pod b restarted,
	 * so its delta is scrape 2 itself: 1: 0, 2: 10, +Inf: 10 (sum 15, count 10).
	 * Summed by le: 1: 2, 2: 20, +Inf: 30; sum 65, count 30.
	 * p50: rank 15 -> (1, 2] holding 18, rank in it 13: 1 + 13/18 = 1.7222...
	 * p95: rank 28.5 -> +Inf bucket -> highest finite bound 2.
	 */
	metrics_histogram_init(&d);
	assert_int_equal(metrics_window_histogram(p, c, "vllm:e2e_request_latency_seconds", NULL, 0, &d,
		&e), 0);
	assert_int_equal(d.nbuckets, 3);
	assert_true(fabs(d.buckets[0].count - 2) < EPS);
	assert_true(fabs(d.buckets[1].count - 20) < EPS);
	assert_true(fabs(d.buckets[2].count - 30) < EPS);
	assert_true(fabs(d.sum - 65) < EPS && fabs(d.count - 30) < EPS);
	assert_int_equal(d.series, 2);
	assert_true(fabs(metrics_histogram_quantile(0.5, &d) - (1.0 + 13.0 / 18.0)) < EPS);
	assert_true(fabs(metrics_histogram_quantile(0.95, &d) - 2.0) < EPS);

	/* The primitive on one label set, without a reset. */
	metrics_histogram_init(&a);
	metrics_histogram_init(&b);
	{
		struct metrics_matcher m[] = { { "pod", "a" } };
		assert_int_equal(metrics_set_histogram(p, "vllm:e2e_request_latency_seconds", m, 1, &a, &e), 0);
		assert_int_equal(metrics_set_histogram(c, "vllm:e2e_request_latency_seconds", m, 1, &b, &e), 0);
	}
	assert_int_equal(metrics_histogram_delta(&a, &b, &d, &e), 0);
	assert_true(fabs(d.buckets[0].count - 2) < EPS && fabs(d.buckets[2].count - 20) < EPS);
	assert_true(fabs(d.sum - 50) < EPS);
	/* Reversed, it is a reset: the "current" one is the delta. */
	assert_int_equal(metrics_histogram_delta(&b, &a, &d, &e), 0);
	assert_true(fabs(d.buckets[2].count - 20) < EPS && fabs(d.sum - 25) < EPS);

	/* Summed over both pods in one scrape. */
	assert_int_equal(metrics_set_histogram(p, "vllm:e2e_request_latency_seconds", NULL, 0, &a, &e), 0);
	assert_true(fabs(a.buckets[0].count - 110) < EPS && fabs(a.count - 120) < EPS);
	assert_int_equal(a.series, 2);

	metrics_histogram_release(&a);
	metrics_histogram_release(&b);
	metrics_histogram_release(&d);
	metrics_set_free(p);
	metrics_set_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fixture_parses),
		cmocka_unit_test(test_vllm_fixture),
		cmocka_unit_test(test_sglang_fixture),
		cmocka_unit_test(test_nim_fixture),
		cmocka_unit_test(test_dcgm_fixture),
		cmocka_unit_test(test_nvgpuexp_fixtures),
		cmocka_unit_test(test_prometheus_text_features),
		cmocka_unit_test(test_openmetrics_features),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_valid_utf8_accepted),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_quantile_semantics),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
