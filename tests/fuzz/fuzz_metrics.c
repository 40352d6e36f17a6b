/*
 * fuzz_metrics.c - libFuzzer target for the Prometheus text / OpenMetrics
 * parser and the computations on what it parsed.
 *
 * The input is parsed as AUTO, PROMETHEUS and OPENMETRICS. For every set that
 * parses, each family is walked: samples and labels are read back and checked
 * (labels sorted and unique, strings NUL-terminated), histogram and summary
 * views are built and their quantiles computed, and the set is taken as both
 * scrapes of a window (its increase must be 0 and its window histogram all
 * zeros, which checks the delta and the grouping). Built by hand, not by
 * CMake's default build:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_metrics.c server/metrics/[a-z]*.c server/util/buf.c \
 *       server/util/err.c -lm -o fuzz_metrics
 *   mkdir -p corpus_metrics
 *   ./fuzz_metrics -max_total_time=180 -max_len=65536 corpus_metrics tests/fixtures/metrics
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_metrics: %s\n", what);
		abort();
	}
}

static void
walk(const struct metrics_set *set)
{
	size_t i, j, k, n = 0;

	for (i = 0; i < metrics_set_family_count(set); i++) {
		const struct metrics_family *f = metrics_set_family_at(set, i);
		const char *name = metrics_family_name(f);
		enum metrics_type t = metrics_family_type(f);
		struct metrics_histogram h, d;
		struct metrics_summary s;
		struct err e = ERR_INIT;
		struct metrics_matcher m[METRICS_MAX_LABELS];
		double v;

		check(metrics_set_family(set, name) == f, "family lookup by name");
		(void)strlen(metrics_family_help(f));
		(void)strlen(metrics_family_unit(f));
		for (j = 0; j < metrics_family_sample_count(f); j++) {
			const struct metrics_sample *x = metrics_family_sample_at(f, j);
			check(strncmp(x->name, name, strlen(name)) == 0, "sample name starts with family");
			for (k = 0; k < x->nlabels; k++) {
				check(metrics_sample_label(x, x->labels[k].name) == x->labels[k].value,
					"label lookup");
				if (k > 0)
					check(strcmp(x->labels[k - 1].name, x->labels[k].name) < 0,
						"labels sorted and unique");
			}
			for (k = 0; k < x->nlabels; k++) {
				m[k].name = x->labels[k].name;
				m[k].value = x->labels[k].value;
			}
			check(metrics_sample_matches(x, m, x->nlabels), "a sample matches its own labels");
			n++;
		}
		metrics_histogram_init(&h);
		metrics_histogram_init(&d);
		metrics_summary_init(&s);
		if (t == METRICS_HISTOGRAM || t == METRICS_GAUGEHISTOGRAM) {
			if (metrics_set_histogram(set, name, NULL, 0, &h, &e) == 0) {
				for (k = 1; k < h.nbuckets; k++)
					check(h.buckets[k - 1].le < h.buckets[k].le, "buckets sorted");
				(void)metrics_histogram_quantile(0.5, &h);
				(void)metrics_histogram_quantile(0.99, &h);
				(void)metrics_histogram_quantile(0.0, &h);
			}
			if (metrics_window_histogram(set, set, name, NULL, 0, &d, &e) == 0) {
				for (k = 0; k < d.nbuckets; k++)
					check(d.buckets[k].count == 0 || isnan(d.buckets[k].count) ||
						isinf(d.buckets[k].count), "a window over one scrape is empty");
				(void)metrics_histogram_quantile(0.95, &d);
				if (metrics_histogram_delta(&h, &h, &d, &e) == 0)
					(void)metrics_histogram_quantile(0.95, &d);
			}
		} else if (t == METRICS_SUMMARY) {
			(void)metrics_set_summary(set, name, NULL, 0, &s, &e);
		} else if (t == METRICS_COUNTER || t == METRICS_GAUGE || t == METRICS_UNTYPED) {
			(void)metrics_set_sum(set, name, NULL, 0, &v, &e);
			if (metrics_window_increase(set, set, name, NULL, 0, &v, &e) == 0)
				check(v == 0 || isnan(v), "an increase over one scrape is 0");
		}
		metrics_histogram_release(&h);
		metrics_histogram_release(&d);
		metrics_summary_release(&s);
	}
	check(n == metrics_set_sample_count(set), "sample count");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum metrics_format formats[] = {
		METRICS_FORMAT_AUTO, METRICS_FORMAT_PROMETHEUS, METRICS_FORMAT_OPENMETRICS
	};
	size_t i, k;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct metrics_set *set = NULL;
		struct err e = ERR_INIT;

		if (metrics_parse((const char *)data, size, formats[i], &set, &e) == 0) {
			walk(set);
			metrics_set_free(set);
		} else {
			check(set == NULL, "no set on failure");
			check(e.code != ERR_OK && e.msg[0] != '\0', "an error says why");
			for (k = 0; e.msg[k] != '\0'; k++)
				check(e.msg[k] >= 0x20 && e.msg[k] < 0x7f, "an error is printable ASCII");
		}
	}
	return 0;
}
