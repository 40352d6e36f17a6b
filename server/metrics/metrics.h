/*
 * metrics.h - the Prometheus text and OpenMetrics parser, and the pure
 * computations on parsed scrapes (counter increases, histogram deltas and
 * histogram_quantile) that the collector and the verdict build on.
 *
 * Formats: the Prometheus text exposition format 0.0.4 and the OpenMetrics
 * 1.0 text format. Everything read is bounded by the METRICS_MAX_* constants
 * of util/limits.h; memory is linear in the input. Parse errors read
 * "LINE:COLUMN: reason" (1-based, columns in bytes); callers add the source
 * with err_prefix(). Over a limit the code is ERR_TOO_LARGE, other bad input
 * is ERR_INVALID.
 *
 * Choices worth knowing:
 * - Label values and HELP text must be valid UTF-8; other bytes are refused
 *   (they would reach JSON and the dashboard, which need UTF-8).
 * - A series (metric name plus label set) that appears twice is refused.
 * - A second TYPE or HELP line for a family, or a TYPE line after samples of
 *   that family, is refused (as Prometheus' own text parser does).
 * - Samples without a TYPE line form an untyped ("unknown" in OpenMetrics)
 *   family of their own name.
 * - Exemplars (OpenMetrics) are checked for syntax and dropped.
 * - Quoted UTF-8 metric and label names (OpenMetrics 2.0) are not supported.
 * - Numbers are read with strtod in the C locale: skewd never calls setlocale.
 *
 * A parsed set is immutable and may be read from several threads at once.
 * Every pointer handed out by a lookup is borrowed from the set and lives as
 * long as it.
 */
#ifndef SKEWD_METRICS_METRICS_H
#define SKEWD_METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct err;
struct metrics_set;
struct metrics_family;

enum metrics_format {
	METRICS_FORMAT_AUTO = 0,     /* OpenMetrics if the text ends with "# EOF", else Prometheus */
	METRICS_FORMAT_PROMETHEUS,   /* text/plain; version=0.0.4 */
	METRICS_FORMAT_OPENMETRICS   /* application/openmetrics-text; version=1.0.0 */
};

enum metrics_type {
	METRICS_UNTYPED = 0,         /* Prometheus "untyped", OpenMetrics "unknown" */
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
	METRICS_SUMMARY,
	METRICS_GAUGEHISTOGRAM,      /* OpenMetrics only */
	METRICS_INFO,                /* OpenMetrics only */
	METRICS_STATESET             /* OpenMetrics only */
};

struct metrics_label {
	const char *name;
	const char *value;           /* unescaped, valid UTF-8 */
};

/* One sample line. Labels are sorted by name; names within one sample are unique. */
struct metrics_sample {
	const char *name;            /* as written, e.g. "vllm:e2e_request_latency_seconds_bucket" */
	const struct metrics_label *labels;
	size_t nlabels;
	double value;
	int has_timestamp;
	int64_t timestamp_ms;        /* milliseconds since the epoch (OpenMetrics seconds are converted) */
};

/* A label matcher: the sample's label `name` equals `value` (a missing label equals ""). */
struct metrics_matcher {
	const char *name;
	const char *value;
};

/* The format a Content-Type header announces: OpenMetrics for "application/openmetrics-text",
 * Prometheus for "text/plain", AUTO for anything else or NULL. */
enum metrics_format metrics_format_from_content_type(const char *content_type);

/* Parses `len` bytes at `text` (no NUL needed). On success *out is a new set the caller
 * frees with metrics_set_free(). On failure returns -1, *out is NULL and `e` says where. */
int metrics_parse(const char *text, size_t len, enum metrics_format format,
	struct metrics_set **out, struct err *e);

/* NULL-safe. */
void metrics_set_free(struct metrics_set *set);

/* The format the set was parsed as (never AUTO). */
enum metrics_format metrics_set_format(const struct metrics_set *set);

/* Families in the order they first appeared; `i` < metrics_set_family_count(). */
size_t metrics_set_family_count(const struct metrics_set *set);
const struct metrics_family *metrics_set_family_at(const struct metrics_set *set, size_t i);
size_t metrics_set_sample_count(const struct metrics_set *set);

/* The family named `name`, or NULL. For counters both spellings find the family:
 * "x_total" finds an OpenMetrics counter family "x", and "x" finds a Prometheus
 * counter family "x_total", so callers can ask for the name as scraped. */
const struct metrics_family *metrics_set_family(const struct metrics_set *set, const char *name);

const char *metrics_family_name(const struct metrics_family *f);
const char *metrics_family_help(const struct metrics_family *f);   /* "" when none */
const char *metrics_family_unit(const struct metrics_family *f);   /* OpenMetrics UNIT; "" when none */
enum metrics_type metrics_family_type(const struct metrics_family *f);
size_t metrics_family_sample_count(const struct metrics_family *f);
const struct metrics_sample *metrics_family_sample_at(const struct metrics_family *f, size_t i);

/* Lower-case name of a type as Prometheus writes it ("untyped" for METRICS_UNTYPED). */
const char *metrics_type_name(enum metrics_type t);

/* The value of label `name` of a sample, or NULL. */
const char *metrics_sample_label(const struct metrics_sample *s, const char *name);

/* True when the sample matches every matcher (nm may be 0). */
int metrics_sample_matches(const struct metrics_sample *s,
	const struct metrics_matcher *m, size_t nm);

/* The first sample of family `family` whose name is `sample_name` (NULL: any name) and that
 * matches the matchers, or NULL. */
const struct metrics_sample *metrics_set_find(const struct metrics_set *set, const char *family,
	const char *sample_name, const struct metrics_matcher *m, size_t nm);

/* The sum of the values of a counter or gauge family's samples that match (the "_total"
 * samples of a counter; "_created" ones are skipped). Returns 0, or -1 with ERR_NOT_FOUND when
 * no family or no sample matches. */
int metrics_set_sum(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, double *out, struct err *e);

/*
 * Histogram and summary views. A view is caller-owned: init it, fill it, release it.
 */
struct metrics_bucket {
	double le;                   /* upper bound; +Inf for the last bucket */
	double count;                /* cumulative */
};

struct metrics_histogram {
	struct metrics_bucket *buckets;  /* sorted by le, unique le; owned */
	size_t nbuckets;
	double sum;                  /* NaN when no _sum sample */
	double count;                /* NaN when no _count sample */
	size_t series;               /* label sets (without le) that were summed */
};

struct metrics_quantile {
	double quantile;
	double value;
};

struct metrics_summary {
	struct metrics_quantile *quantiles;  /* sorted by quantile; owned */
	size_t nquantiles;
	double sum;
	double count;
	size_t series;
};

void metrics_histogram_init(struct metrics_histogram *h);
void metrics_histogram_release(struct metrics_histogram *h);
void metrics_summary_init(struct metrics_summary *s);
void metrics_summary_release(struct metrics_summary *s);

/* Fills `out` (released first) with the histogram family `family` summed over every label set
 * that matches, bucket by bucket on equal `le` - PromQL's `sum by (le) (...)`. A bucket missing
 * from one label set adds nothing there. Returns -1 with ERR_NOT_FOUND when there is no such
 * family or no sample matches, ERR_INVALID when the family is not a histogram or an `le` does
 * not parse. */
int metrics_set_histogram(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, struct metrics_histogram *out, struct err *e);

/* As metrics_set_histogram() for a summary family; quantiles of several label sets cannot be
 * added, so more than one matching label set is ERR_CONFLICT. */
int metrics_set_summary(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, struct metrics_summary *out, struct err *e);

/*
 * Pure computations.
 */

/* The increase of a counter from `prev` to `cur`. A decrease is a counter reset (the process
 * restarted), and then `cur` itself is the increase, as PromQL's increase() counts it. NaN in,
 * NaN out. */
double metrics_counter_increase(double prev, double cur);

/* metrics_counter_increase() per second over `seconds` (> 0, else NaN). */
double metrics_counter_rate(double prev, double cur, double seconds);

/* The quantile `q` of cumulative buckets, with PromQL histogram_quantile() semantics: the
 * buckets are sorted by le, the last must be +Inf (else NaN); fewer than 2 buckets or a zero
 * total count give NaN; q < 0 gives -Inf, q > 1 +Inf, NaN q gives NaN; a decrease of a
 * cumulative count is repaired as Prometheus does (a count never falls below the one before);
 * the rank falls in a bucket and is interpolated linearly inside it; the lowest bucket starts
 * at 0 when its upper bound is > 0 (else the answer is its upper bound); a rank in the +Inf
 * bucket gives the highest finite upper bound. */
double metrics_histogram_quantile(double q, const struct metrics_histogram *h);

/* The histogram of observations between two scrapes of the same label set: `cur` minus `prev`
 * bucket by bucket (and _sum, _count). When `cur` counts fewer observations than `prev` in
 * _count or in any bucket, the process restarted and the delta is `cur` itself. Buckets are
 * matched on le; a bucket missing from `prev` counts from 0. `out` is released first.
 * Returns -1 with ERR_NOMEM only. */
int metrics_histogram_delta(const struct metrics_histogram *prev,
	const struct metrics_histogram *cur, struct metrics_histogram *out, struct err *e);

/* The increase of counter family `family` between two scrapes: per matching series (name and
 * labels), metrics_counter_increase() of its value in `prev` and `cur`, summed. A series only
 * in `cur` started after `prev` and counts from 0; a series only in `prev` is gone and adds
 * nothing. Returns -1 with ERR_NOT_FOUND when `cur` has no matching sample. */
int metrics_window_increase(const struct metrics_set *prev, const struct metrics_set *cur,
	const char *family, const struct metrics_matcher *m, size_t nm, double *out, struct err *e);

/* The histogram of observations between two scrapes: per matching label set (without le),
 * metrics_histogram_delta() of the two scrapes, then summed by le - PromQL's
 * `sum by (le) (increase(x_bucket[w]))`. A label set only in `cur` counts from 0. Feed the
 * result to metrics_histogram_quantile() for p50/p95/p99 over the window. */
int metrics_window_histogram(const struct metrics_set *prev, const struct metrics_set *cur,
	const char *family, const struct metrics_matcher *m, size_t nm,
	struct metrics_histogram *out, struct err *e);

/*
 * Extraction (extract.c): the key figures of one serving engine, and of the GPUs a DCGM
 * exporter or nvidia_gpu_exporter reports, from one or two scrapes of the same target.
 *
 * The result is a new JSON object the caller owns (json_decref()); docs/metrics.md
 * describes it:
 *   {"schema": "skewd.metrics/v1", "engine": "vllm", "window_seconds": 60,
 *    "figures": {"request_rate": {"value": 2.5, "unit": "req/s",
 *                                 "metrics": ["vllm:request_success_total"]},
 *                "e2e_latency_p99": {"absent": "needs two scrapes",
 *                                    "metrics": ["vllm:e2e_request_latency_seconds"]}, ...},
 *    "facts": {"cache_config": {"block_size": "16", ...}, "model_names": [...]},
 *    "gpus": [{"uuid": ..., "model": ..., "driver": ..., "pod": ..., "namespace": ...,
 *              "utilization_percent": 97, "fb_used_mib": ..., "metrics": [...]}]}
 * Every figure key is always present: with "value" when it could be computed, else with
 * "absent" saying why (never a made-up 0). "metrics" names the families read (or looked
 * for), so a person can check the number by hand.
 *
 * `prev` may be NULL (one scrape): gauges and facts only; rates and quantiles are absent
 * with "needs two scrapes". With two scrapes `cur_time` - `prev_time` (seconds) must be
 * > 0. Counter resets between the scrapes are handled as PromQL's increase() does.
 * Returns -1 with ERR_INVALID for a bad window, ERR_NOMEM when out of memory.
 */
#define METRICS_EXTRACT_SCHEMA "skewd.metrics/v1"

int metrics_extract(const struct metrics_set *prev, double prev_time,
	const struct metrics_set *cur, double cur_time, json_t **out, struct err *e);

/*
 * nvidia-smi text (nvsmi.c): the GPU facts of `nvidia-smi --query-gpu=... --format=csv`
 * (header line required; units in the header or in values, "[N/A]" as absent), of
 * `nvidia-smi -q` and of `nvidia-smi -q -x` (XML). The format is recognised from the text.
 * At most METRICS_NVSMI_MAX_BYTES bytes and METRICS_NVSMI_MAX_GPUS GPUs are read.
 * On success *out is a new JSON object the caller owns:
 *   {"schema": "skewd.nvidia-smi/v1", "format": "csv" | "query" | "xml",
 *    "driver_version": "590.48.01", "cuda_version": "13.1",
 *    "gpus": [{"name": "NVIDIA H100 80GB HBM3", "memory_total_mib": 81559,
 *              "driver_version": ..., "cuda_version": ..., "mig_mode": "Enabled",
 *              "uuid": ..., "pci_bus_id": ..., "compute_cap": "9.0"}]}
 * A fact the input does not hold is left out. ERR_INVALID when the text is none of the
 * three forms or holds no GPU, ERR_TOO_LARGE over a limit.
 */
#define METRICS_NVSMI_SCHEMA "skewd.nvidia-smi/v1"

int metrics_nvsmi_parse(const char *text, size_t len, json_t **out, struct err *e);

/*
 * The verdict (verdict.c): is a regression between a baseline window and the current window
 * skew (a configuration change), capacity (more load), neither, or unclear?
 *
 * Rules and thresholds are data: server/metrics/verdict.yaml is compiled in and is the
 * default; a deployment may load its own text with the same schema. docs/metrics.md
 * documents both. A rules object is immutable once loaded and may be shared by threads.
 */
struct metrics_verdict_rules;

/* Loads the compiled-in verdict.yaml. *out is new; free with metrics_verdict_rules_free(). */
int metrics_verdict_rules_default(struct metrics_verdict_rules **out, struct err *e);
/* Loads rules from YAML or JSON text (`name` for messages); ERR_INVALID names the bad key. */
int metrics_verdict_rules_load(const char *name, const char *text, size_t len,
	struct metrics_verdict_rules **out, struct err *e);
/* NULL-safe. */
void metrics_verdict_rules_free(struct metrics_verdict_rules *r);

/* `baseline` and `current` are metrics_extract() results (or any object with a "figures"
 * member of that shape); `diff` is a skewd.diff/v1 document or NULL when none is known.
 * Borrowed, not changed. On success *out is a new object the caller owns:
 *   {"verdict": "skew_likely" | "capacity_likely" | "inconclusive" | "no_regression",
 *    "reasons": ["p99 latency +85% and ...", ...],
 *    "figures": {"e2e_latency_p99": {"before": 1.2, "after": 2.2, "change_pct": 85,
 *                                    "unit": "s"}, ...},
 *    "changes": {"relevant": 3, "by_category": {"runtime": 3, ...}},
 *    "next_steps": ["...", ...]}
 * Missing figures never fail the call: they make the verdict inconclusive, with a reason. */
int metrics_verdict(const json_t *baseline, const json_t *current, const json_t *diff,
	const struct metrics_verdict_rules *rules, json_t **out, struct err *e);

#endif
