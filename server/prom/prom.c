/*
 * prom.c - the Prometheus path: instant queries for a target's figures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "prom/prom.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

enum prom_shape {
	SHAPE_RATE,        /* sum by (pod) (rate(M{sel}[w])) */
	SHAPE_RATE_ABORT,  /* the same for finished_reason="abort" */
	SHAPE_RATE_OK,     /* the same for finished_reason!="abort" */
	SHAPE_QUANTILE,    /* histogram_quantile(q, sum by (le, pod) (rate(M_bucket{sel}[w]))) */
	SHAPE_MEAN,        /* sum by (pod) (rate(M_sum[w])) / sum by (pod) (rate(M_count[w])) */
	SHAPE_GAUGE_SUM,   /* sum by (pod) (M{sel}) */
	SHAPE_GAUGE_MAX    /* max by (pod) (M{sel}) */
};

#define PROM_MAX_CANDIDATES 7   /* metric names tried for one figure */

struct prom_figure {
	const char *name;
	const char *unit;
	enum prom_shape shape;
	double q;
	const char *metrics[PROM_MAX_CANDIDATES]; /* candidates, first found wins; NULL-ended */
};

/* vLLM V1 and V0, SGLang, TGI, then NIM's unprefixed vLLM names (docs/metrics.md). */
#define E2E { "vllm:e2e_request_latency_seconds", "sglang:e2e_request_latency_seconds", \
	"tgi_request_duration", "e2e_request_latency_seconds", NULL }
#define TTFT { "vllm:time_to_first_token_seconds", "sglang:time_to_first_token_seconds", \
	"time_to_first_token_seconds", NULL }
#define ITL { "vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds", \
	"sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds", \
	"tgi_request_mean_time_per_token_duration", "inter_token_latency_seconds", \
	"time_per_output_token_seconds" }

static const struct prom_figure figures[] = {
	{ "request_rate", "req/s", SHAPE_RATE, 0, { "vllm:request_success_total",
	    "sglang:num_requests_total", "tgi_request_count", NULL } },
	{ "success_rate", "req/s", SHAPE_RATE_OK, 0, { "vllm:request_success_total", NULL } },
	{ "error_rate", "req/s", SHAPE_RATE_ABORT, 0, { "vllm:request_success_total", NULL } },
	{ "prompt_tokens_per_s", "tokens/s", SHAPE_RATE, 0, { "vllm:prompt_tokens_total",
	    "sglang:prompt_tokens_total", "tgi_request_input_length_sum", "prompt_tokens_total", NULL } },
	{ "generation_tokens_per_s", "tokens/s", SHAPE_RATE, 0, { "vllm:generation_tokens_total",
	    "sglang:generation_tokens_total", "tgi_request_generated_tokens_sum",
	    "generation_tokens_total", NULL } },
	{ "e2e_latency_p50", "s", SHAPE_QUANTILE, 0.5, E2E },
	{ "e2e_latency_p95", "s", SHAPE_QUANTILE, 0.95, E2E },
	{ "e2e_latency_p99", "s", SHAPE_QUANTILE, 0.99, E2E },
	{ "e2e_latency_mean", "s", SHAPE_MEAN, 0, E2E },
	{ "ttft_p50", "s", SHAPE_QUANTILE, 0.5, TTFT },
	{ "ttft_p95", "s", SHAPE_QUANTILE, 0.95, TTFT },
	{ "ttft_p99", "s", SHAPE_QUANTILE, 0.99, TTFT },
	{ "itl_p50", "s", SHAPE_QUANTILE, 0.5, ITL },
	{ "itl_p95", "s", SHAPE_QUANTILE, 0.95, ITL },
	{ "itl_p99", "s", SHAPE_QUANTILE, 0.99, ITL },
	{ "running_requests", "requests", SHAPE_GAUGE_SUM, 0, { "vllm:num_requests_running",
	    "sglang:num_running_reqs", "tgi_batch_current_size", "num_requests_running", NULL } },
	{ "waiting_requests", "requests", SHAPE_GAUGE_SUM, 0, { "vllm:num_requests_waiting",
	    "sglang:num_queue_reqs", "tgi_queue_size", "num_requests_waiting", NULL } },
	{ "kv_cache_usage", "ratio", SHAPE_GAUGE_MAX, 0, { "vllm:kv_cache_usage_perc",
	    "vllm:gpu_cache_usage_perc", "sglang:token_usage", "kv_cache_usage_perc",
	    "gpu_cache_usage_perc", NULL } },
	{ "preemptions_per_s", "preemptions/s", SHAPE_RATE, 0, { "vllm:num_preemptions_total",
	    "num_preemptions_total", NULL } },
};

#define NFIGURES (sizeof(figures) / sizeof(figures[0]))

int
prom_query(struct kube_client *k, const char *promql, json_t **result, struct err *e)
{
	char path[PROM_MAX_QUERY * 3 + 64], q[PROM_MAX_QUERY * 3];
	json_t *doc = NULL, *res;
	const char *status;

	*result = NULL;
	if (strlen(promql) >= PROM_MAX_QUERY || kube_escape(promql, q, sizeof(q)) != 0)
		return err_set(e, ERR_TOO_LARGE, "a Prometheus query is longer than %d bytes",
		    PROM_MAX_QUERY);
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", q);
	if (kube_get_json(k, path, &doc, e) != 0)
		return err_prefix(e, "asking Prometheus");
	status = json_string_value(json_object_get(doc, "status"));
	res = json_object_get(json_object_get(doc, "data"), "result");
	if (status == NULL || strcmp(status, "success") != 0 || !json_is_array(res)) {
		const char *msg = json_string_value(json_object_get(doc, "error"));

		err_set(e, ERR_UPSTREAM, "Prometheus did not answer the query: %.300s",
		    msg != NULL ? msg : "no result in its answer");
		json_decref(doc);
		return -1;
	}
	*result = json_incref(res);
	json_decref(doc);
	return 0;
}

/* A label value as a regular expression matching it alone (RE2 metacharacters escaped). */
static int
regex_quote(struct buf *b, const char *s, struct err *e)
{
	for (; *s != '\0'; s++) {
		if (strchr(".+*?()|[]{}^$\\", *s) != NULL && buf_addstr(b, "\\\\", e) != 0)
			return -1;
		if (*s == '"' || (unsigned char)*s < 0x20)
			return err_set(e, ERR_INVALID, "a pod name holds a character a query cannot carry");
		if (buf_addch(b, *s, e) != 0)
			return -1;
	}
	return 0;
}

static int
build_query(const struct prom_figure *f, const char *metric, const char *sel, char *out, size_t outsz)
{
	int n;

	switch (f->shape) {
	case SHAPE_RATE:
		n = snprintf(out, outsz, "sum by (pod) (rate(%s{%s}[%s]))", metric, sel, PROM_WINDOW);
		break;
	case SHAPE_RATE_ABORT:
		n = snprintf(out, outsz, "sum by (pod) (rate(%s{%s,finished_reason=\"abort\"}[%s]))",
		    metric, sel, PROM_WINDOW);
		break;
	case SHAPE_RATE_OK:
		n = snprintf(out, outsz, "sum by (pod) (rate(%s{%s,finished_reason!=\"abort\"}[%s]))",
		    metric, sel, PROM_WINDOW);
		break;
	case SHAPE_QUANTILE:
		n = snprintf(out, outsz, "histogram_quantile(%g, sum by (le, pod) (rate(%s_bucket{%s}[%s])))",
		    f->q, metric, sel, PROM_WINDOW);
		break;
	case SHAPE_MEAN:
		n = snprintf(out, outsz, "sum by (pod) (rate(%s_sum{%s}[%s])) / sum by (pod) "
		    "(rate(%s_count{%s}[%s]))", metric, sel, PROM_WINDOW, metric, sel, PROM_WINDOW);
		break;
	case SHAPE_GAUGE_SUM:
		n = snprintf(out, outsz, "sum by (pod) (%s{%s})", metric, sel);
		break;
	default:
		n = snprintf(out, outsz, "max by (pod) (%s{%s})", metric, sel);
		break;
	}
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Number of a Prometheus sample value ("1.5", "NaN", "+Inf"). */
static double
sample_value(const json_t *sample)
{
	const char *v = json_string_value(json_array_get(json_object_get(sample, "value"), 1));

	return v != NULL ? strtod(v, NULL) : NAN;
}

int
prom_figures(struct kube_client *k, const char *ns, const json_t *pods, json_t **out, struct err *e)
{
	struct buf sel = BUF_INIT(PROM_MAX_QUERY);
	json_t *res = NULL, *all = json_object(), *p;
	char q[PROM_MAX_QUERY];
	size_t i, j, m;
	int ret = -1, asked = 0;

	*out = NULL;
	if (all == NULL || buf_addstr(&sel, "namespace=\"", e) != 0 || regex_quote(&sel, ns, e) != 0 ||
	    buf_addstr(&sel, "\",pod=~\"", e) != 0)
		goto out;
	json_array_foreach(pods, i, p) {
		if (!json_is_string(p))
			continue;
		if ((i > 0 && buf_addch(&sel, '|', e) != 0) || regex_quote(&sel, json_string_value(p), e) != 0)
			goto out;
		json_object_set_new(all, json_string_value(p), json_object());
	}
	if (buf_addch(&sel, '"', e) != 0)
		goto out;
	for (i = 0; i < NFIGURES; i++) {
		const struct prom_figure *f = &figures[i];
		json_t *names = json_array();
		int found = 0;

		for (m = 0; m < PROM_MAX_CANDIDATES && f->metrics[m] != NULL && !found; m++) {
			const char *key;
			json_t *s;

			json_array_append_new(names, json_string(f->metrics[m]));
			if (build_query(f, f->metrics[m], buf_str(&sel), q, sizeof(q)) != 0) {
				err_set(e, ERR_TOO_LARGE, "the Prometheus query for %s is too long", f->name);
				json_decref(names);
				goto out;
			}
			if (prom_query(k, q, &res, e) != 0) {
				if (!asked) {
					json_decref(names);
					goto out;
				}
				/* A later query that fails: this figure says why, the others go on. */
				json_object_foreach(all, key, p)
					json_object_set_new(p, f->name, json_pack("{s:s,s:s,s:s,s:O}", "absent",
					    e != NULL ? e->msg : "the query failed", "source", "prometheus",
					    "query", q, "metrics", names));
				found = 1;
				break;
			}
			asked = 1;
			json_array_foreach(res, j, s) {
				const char *pod = json_string_value(json_object_get(json_object_get(s, "metric"),
				    "pod"));
				json_t *fig, *dst = pod != NULL ? json_object_get(all, pod) : NULL;
				double v = sample_value(s);

				if (dst == NULL)
					continue;
				found = 1;
				if (isfinite(v))
					fig = json_pack("{s:f,s:s,s:[s],s:s,s:s,s:i}", "value", v, "unit", f->unit,
					    "metrics", f->metrics[m], "source", "prometheus", "query", q,
					    "window_seconds", PROM_WINDOW_SECONDS);
				else
					fig = json_pack("{s:s,s:[s],s:s,s:s}", "absent", isnan(v) ?
					    "no observations in the window" : "not a finite number", "metrics",
					    f->metrics[m], "source", "prometheus", "query", q);
				json_object_set_new(dst, f->name, fig);
			}
			json_decref(res);
			res = NULL;
		}
		/* Pods Prometheus has nothing for. */
		{
			const char *key;

			json_object_foreach(all, key, p)
				if (json_object_get(p, f->name) == NULL)
					json_object_set_new(p, f->name, json_pack("{s:s,s:O,s:s}", "absent",
					    "not in Prometheus", "metrics", names, "source", "prometheus"));
		}
		json_decref(names);
	}
	*out = all;
	all = NULL;
	ret = 0;
out:
	json_decref(res);
	json_decref(all);
	buf_release(&sel);
	return ret;
}
