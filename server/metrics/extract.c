/*
 * extract.c - the key figures of a serving engine and its GPUs from one or two
 * scrapes: rates from counter increases, p50/p95/p99 from histogram deltas,
 * gauges as they are now, and the facts some engines export as labels.
 *
 * Each figure is a row of `figures[]` with its candidate metric families per
 * engine, in order of preference (vLLM V1 names before V0 names). The first
 * candidate of the scrape's engine that the current scrape holds is used.
 * docs/metrics.md lists the table in prose.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metrics_int.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

enum engine {
	ENG_NONE = 0,
	ENG_VLLM,
	ENG_SGLANG,
	ENG_TGI,
	ENG_NIM,
	ENG_TRITON
};

static const char *const engine_names[] = {
	"none", "vllm", "sglang", "tgi", "nim", "triton"
};

enum kind {
	K_RATE,          /* increase of counter family (plus family2) per second */
	K_RATE_EXCEPT,   /* as K_RATE, minus the series whose label lname = lvalue */
	K_RATE_ONLY,     /* as K_RATE, only the series whose label lname = lvalue */
	K_HIST_SUM_RATE, /* increase of a histogram's _sum per second */
	K_QUANTILE,      /* histogram_quantile(q) of the window's histogram */
	K_HIST_MEAN,     /* window _sum / window _count */
	K_RATIO,         /* increase(family) / increase(family2) * scale */
	K_GAUGE_SUM,     /* current value, summed over series */
	K_GAUGE_MAX      /* current value, the largest series */
};

struct cand {
	enum engine engine;
	const char *family;
	enum kind kind;
	const char *family2;
	const char *lname;
	const char *lvalue;
	double scale;
};

/* Rows with a NULL family are holes (QUANT() below leaves some) and are skipped. */
#define FIG_MAX_CANDS 8

struct figure {
	const char *key;
	const char *unit;
	double q;
	struct cand c[FIG_MAX_CANDS];
};

#define V ENG_VLLM
#define S ENG_SGLANG
#define T ENG_TGI
#define N ENG_NIM
#define TR ENG_TRITON

#define QUANT(key, q, v1, v0, sg, sg0, tgi, nim, nim0) \
	{ key, "s", q, { { V, v1, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ V, v0, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ S, sg, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ S, sg0, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ T, tgi, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ N, nim, K_QUANTILE, NULL, NULL, NULL, 0 }, \
		{ N, nim0, K_QUANTILE, NULL, NULL, NULL, 0 } } }

#define E2E(key, q) QUANT(key, q, "vllm:e2e_request_latency_seconds", NULL, \
	"sglang:e2e_request_latency_seconds", NULL, "tgi_request_duration", \
	"e2e_request_latency_seconds", NULL)
#define TTFT(key, q) QUANT(key, q, "vllm:time_to_first_token_seconds", NULL, \
	"sglang:time_to_first_token_seconds", NULL, NULL, \
	"time_to_first_token_seconds", NULL)
#define ITL(key, q) QUANT(key, q, "vllm:inter_token_latency_seconds", \
	"vllm:time_per_output_token_seconds", "sglang:inter_token_latency_seconds", \
	"sglang:time_per_output_token_seconds", "tgi_request_mean_time_per_token_duration", \
	"inter_token_latency_seconds", "time_per_output_token_seconds")

static const struct figure figures[] = {
	{ "request_rate", "req/s", 0, {
		{ V, "vllm:request_success_total", K_RATE, NULL, NULL, NULL, 0 },
		{ S, "sglang:num_requests_total", K_RATE, NULL, NULL, NULL, 0 },
		{ T, "tgi_request_count", K_RATE, NULL, NULL, NULL, 0 },
		{ N, "request_success_total", K_RATE, "request_failure_total", NULL, NULL, 0 },
		{ TR, "nv_inference_request_success", K_RATE, "nv_inference_request_failure",
			NULL, NULL, 0 } } },
	{ "success_rate", "req/s", 0, {
		{ V, "vllm:request_success_total", K_RATE_EXCEPT, NULL, "finished_reason", "abort", 0 },
		{ T, "tgi_request_success", K_RATE, NULL, NULL, NULL, 0 },
		{ N, "request_success_total", K_RATE, NULL, NULL, NULL, 0 },
		{ TR, "nv_inference_request_success", K_RATE, NULL, NULL, NULL, 0 } } },
	{ "error_rate", "req/s", 0, {
		{ V, "vllm:request_success_total", K_RATE_ONLY, NULL, "finished_reason", "abort", 0 },
		{ T, "tgi_request_failure", K_RATE, NULL, NULL, NULL, 0 },
		{ N, "request_failure_total", K_RATE, NULL, NULL, NULL, 0 },
		{ TR, "nv_inference_request_failure", K_RATE, NULL, NULL, NULL, 0 } } },
	{ "prompt_tokens_per_s", "tokens/s", 0, {
		{ V, "vllm:prompt_tokens_total", K_RATE, NULL, NULL, NULL, 0 },
		{ S, "sglang:prompt_tokens_total", K_RATE, NULL, NULL, NULL, 0 },
		{ T, "tgi_request_input_length", K_HIST_SUM_RATE, NULL, NULL, NULL, 0 },
		{ N, "prompt_tokens_total", K_RATE, NULL, NULL, NULL, 0 } } },
	{ "generation_tokens_per_s", "tokens/s", 0, {
		{ V, "vllm:generation_tokens_total", K_RATE, NULL, NULL, NULL, 0 },
		{ S, "sglang:generation_tokens_total", K_RATE, NULL, NULL, NULL, 0 },
		{ T, "tgi_request_generated_tokens", K_HIST_SUM_RATE, NULL, NULL, NULL, 0 },
		{ N, "generation_tokens_total", K_RATE, NULL, NULL, NULL, 0 } } },
	E2E("e2e_latency_p50", 0.5),
	E2E("e2e_latency_p95", 0.95),
	E2E("e2e_latency_p99", 0.99),
	{ "e2e_latency_mean", "s", 0, {
		{ V, "vllm:e2e_request_latency_seconds", K_HIST_MEAN, NULL, NULL, NULL, 0 },
		{ S, "sglang:e2e_request_latency_seconds", K_HIST_MEAN, NULL, NULL, NULL, 0 },
		{ T, "tgi_request_duration", K_HIST_MEAN, NULL, NULL, NULL, 0 },
		{ N, "e2e_request_latency_seconds", K_HIST_MEAN, NULL, NULL, NULL, 0 },
		{ TR, "nv_inference_request_duration_us", K_RATIO, "nv_inference_count",
			NULL, NULL, 1e-6 } } },
	TTFT("ttft_p50", 0.5),
	TTFT("ttft_p95", 0.95),
	TTFT("ttft_p99", 0.99),
	ITL("itl_p50", 0.5),
	ITL("itl_p95", 0.95),
	ITL("itl_p99", 0.99),
	{ "running_requests", "requests", 0, {
		{ V, "vllm:num_requests_running", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ S, "sglang:num_running_reqs", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ T, "tgi_batch_current_size", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ N, "num_requests_running", K_GAUGE_SUM, NULL, NULL, NULL, 0 } } },
	{ "waiting_requests", "requests", 0, {
		{ V, "vllm:num_requests_waiting", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ S, "sglang:num_queue_reqs", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ T, "tgi_queue_size", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ N, "num_requests_waiting", K_GAUGE_SUM, NULL, NULL, NULL, 0 },
		{ TR, "nv_inference_pending_request_count", K_GAUGE_SUM, NULL, NULL, NULL, 0 } } },
	{ "kv_cache_usage", "ratio", 0, {
		{ V, "vllm:kv_cache_usage_perc", K_GAUGE_MAX, NULL, NULL, NULL, 0 },
		{ V, "vllm:gpu_cache_usage_perc", K_GAUGE_MAX, NULL, NULL, NULL, 0 },
		{ S, "sglang:token_usage", K_GAUGE_MAX, NULL, NULL, NULL, 0 },
		{ N, "kv_cache_usage_perc", K_GAUGE_MAX, NULL, NULL, NULL, 0 },
		{ N, "gpu_cache_usage_perc", K_GAUGE_MAX, NULL, NULL, NULL, 0 } } },
	{ "preemptions_per_s", "preemptions/s", 0, {
		{ V, "vllm:num_preemptions_total", K_RATE, NULL, NULL, NULL, 0 },
		{ N, "num_preemptions_total", K_RATE, NULL, NULL, NULL, 0 } } },
};

#undef V
#undef S
#undef T
#undef N
#undef TR

static enum engine
detect_engine(const struct metrics_set *set)
{
	size_t i, n = metrics_set_family_count(set);
	int nim = 0;

	for (i = 0; i < n; i++) {
		const char *name = metrics_family_name(metrics_set_family_at(set, i));

		if (strncmp(name, "vllm:", 5) == 0)
			return ENG_VLLM;
		if (strncmp(name, "sglang:", 7) == 0)
			return ENG_SGLANG;
		if (strncmp(name, "tgi_", 4) == 0)
			return ENG_TGI;
		if (strncmp(name, "nv_inference_", 13) == 0)
			return ENG_TRITON;
		if (strcmp(name, "num_requests_running") == 0 ||
		    strcmp(name, "e2e_request_latency_seconds") == 0 ||
		    strcmp(name, "time_to_first_token_seconds") == 0)
			nim = 1;
	}
	return nim ? ENG_NIM : ENG_NONE;
}

/* Sum (or max) of the current values of a family's samples that match. */
static int
gauge_value(const struct metrics_set *set, const struct cand *c, double *out)
{
	const struct metrics_family *f = metrics_set_family(set, c->family);
	struct metrics_matcher m = { c->lname, c->lvalue };
	size_t i, n = 0;
	double v = 0;

	if (f == NULL)
		return -1;
	for (i = 0; i < metrics_family_sample_count(f); i++) {
		const struct metrics_sample *s = metrics_family_sample_at(f, i);

		if (c->lname != NULL && !metrics_sample_matches(s, &m, 1))
			continue;
		if (isnan(s->value))
			continue;
		if (c->kind == K_GAUGE_MAX)
			v = n == 0 || s->value > v ? s->value : v;
		else
			v += s->value;
		n++;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

static int
json_add_names(json_t *fig, const struct cand *c)
{
	json_t *a = json_array();

	if (a == NULL)
		return -1;
	if (json_array_append_new(a, json_string(c->family)) < 0 ||
	    (c->family2 != NULL && json_array_append_new(a, json_string(c->family2)) < 0)) {
		json_decref(a);
		return -1;
	}
	return json_object_set_new(fig, "metrics", a);
}

static json_t *
absent(const char *reason, const struct figure *fg, enum engine eng)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (o == NULL || a == NULL)
		goto fail;
	for (i = 0; i < FIG_MAX_CANDS; i++) {
		if (fg->c[i].family == NULL || fg->c[i].engine != eng)
			continue;
		if (json_array_append_new(a, json_string(fg->c[i].family)) < 0)
			goto fail;
		if (fg->c[i].family2 != NULL &&
		    json_array_append_new(a, json_string(fg->c[i].family2)) < 0)
			goto fail;
	}
	if (json_object_set_new(o, "absent", json_string(reason)) < 0 ||
	    json_object_set_new(o, "metrics", a) < 0)
		goto fail_o;
	return o;
fail:
	json_decref(a);
fail_o:
	json_decref(o);
	return NULL;
}

static json_t *
present(double v, const struct figure *fg, const struct cand *c)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "value", json_real(v)) < 0 ||
	    json_object_set_new(o, "unit", json_string(fg->unit)) < 0 ||
	    json_add_names(o, c) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Increase of family (and family2) with the candidate's label filter; -1 when the
 * current scrape has no matching sample. */
static int
window_increase(const struct metrics_set *prev, const struct metrics_set *cur,
	const struct cand *c, double *out)
{
	struct metrics_matcher m = { c->lname, c->lvalue };
	double a = 0, b = 0;

	if (metrics_window_increase(prev, cur, c->family, NULL, 0, &a, NULL) < 0)
		return -1;
	if (c->kind == K_RATE_EXCEPT || c->kind == K_RATE_ONLY) {
		if (metrics_window_increase(prev, cur, c->family, &m, 1, &b, NULL) < 0)
			b = 0;
		*out = c->kind == K_RATE_ONLY ? b : a - b;
		return 0;
	}
	if (c->family2 != NULL) {
		if (metrics_window_increase(prev, cur, c->family2, NULL, 0, &b, NULL) < 0)
			b = 0;
	}
	*out = a + b;
	return 0;
}

/* True when a series of `family` fell between the scrapes: the process restarted and
 * its counters (or histogram buckets) started again from 0. */
static int
family_reset(const struct metrics_set *prev, const struct metrics_set *cur, const char *family)
{
	const struct metrics_family *f = family != NULL ? metrics_set_family(cur, family) : NULL;
	size_t i;

	for (i = 0; f != NULL && prev != NULL && i < f->nsamples; i++) {
		const struct msample *p = mset_series_lookup(prev, f->samples[i]);

		if (p != NULL && f->samples[i]->pub.value < p->pub.value)
			return 1;
	}
	return 0;
}

/* One figure: *out is a new "value" or "absent" object, or NULL when out of memory. */
static json_t *
figure_eval(const struct figure *fg, enum engine eng, const struct metrics_set *prev,
	const struct metrics_set *cur, double seconds, struct err *e)
{
	const struct cand *c = NULL;
	struct err le = ERR_INIT;    /* a missing family is an absent figure, not a failure */
	struct metrics_histogram h;
	json_t *r = NULL;
	double v = NAN, a, b;
	size_t i;
	int have_cand = 0;

	metrics_histogram_init(&h);
	for (i = 0; i < FIG_MAX_CANDS; i++) {
		if (fg->c[i].family == NULL || fg->c[i].engine != eng)
			continue;
		have_cand = 1;
		if (metrics_set_family(cur, fg->c[i].family) != NULL) {
			c = &fg->c[i];
			break;
		}
	}
	if (eng == ENG_NONE) {
		r = absent("no serving engine metrics in the scrape", fg, eng);
		goto out;
	}
	if (!have_cand) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%s exports no metric for this figure",
			engine_names[eng]);
		r = absent(msg, fg, eng);
		goto out;
	}
	if (c == NULL) {
		r = absent("not in the scrape", fg, eng);
		goto out;
	}
	switch (c->kind) {
	case K_GAUGE_SUM:
	case K_GAUGE_MAX:
		if (gauge_value(cur, c, &v) < 0) {
			r = absent("no sample of the metric", fg, eng);
			goto out;
		}
		r = isfinite(v) ? present(v, fg, c) : absent("not a finite number", fg, eng);
		goto out;
	default:
		break;
	}
	if (prev == NULL) {
		r = absent("needs two scrapes", fg, eng);
		goto out;
	}
	switch (c->kind) {
	case K_RATE:
	case K_RATE_EXCEPT:
	case K_RATE_ONLY:
		if (window_increase(prev, cur, c, &v) < 0) {
			r = absent("no sample of the metric", fg, eng);
			goto out;
		}
		v /= seconds;
		break;
	case K_RATIO:
		if (metrics_window_increase(prev, cur, c->family, NULL, 0, &a, NULL) < 0 ||
		    metrics_window_increase(prev, cur, c->family2, NULL, 0, &b, NULL) < 0) {
			r = absent("no sample of the metric", fg, eng);
			goto out;
		}
		if (b <= 0) {
			r = absent("no requests in the window", fg, eng);
			goto out;
		}
		v = a / b * c->scale;
		break;
	case K_HIST_SUM_RATE:
	case K_QUANTILE:
	case K_HIST_MEAN:
		if (metrics_window_histogram(prev, cur, c->family, NULL, 0, &h, &le) < 0) {
			if (le.code == ERR_NOMEM) {
				err_set(e, ERR_NOMEM, "%s", le.msg);
				goto out;
			}
			r = absent(le.code == ERR_INVALID ? "the metric is not a histogram" :
				"no sample of the metric", fg, eng);
			goto out;
		}
		if (c->kind == K_HIST_SUM_RATE) {
			if (isnan(h.sum)) {
				r = absent("the histogram has no _sum", fg, eng);
				goto out;
			}
			v = h.sum / seconds;
			break;
		}
		if (!(h.count > 0) && !(h.nbuckets > 0 && h.buckets[h.nbuckets - 1].count > 0)) {
			r = absent("no observations in the window", fg, eng);
			goto out;
		}
		if (c->kind == K_HIST_MEAN) {
			if (isnan(h.sum) || !(h.count > 0)) {
				r = absent("the histogram has no _sum or _count", fg, eng);
				goto out;
			}
			v = h.sum / h.count;
			break;
		}
		if (h.nbuckets < 2 || !isinf(h.buckets[h.nbuckets - 1].le)) {
			r = absent("the histogram has no buckets to estimate from", fg, eng);
			goto out;
		}
		v = metrics_histogram_quantile(fg->q, &h);
		if (isnan(v)) {
			r = absent("no observations in the window", fg, eng);
			goto out;
		}
		break;
	default:
		break;
	}
	r = isfinite(v) ? present(v, fg, c) : absent("not a finite number", fg, eng);
	if (r != NULL && isfinite(v) && (family_reset(prev, cur, c->family) ||
	    family_reset(prev, cur, c->family2)) &&
	    json_object_set_new(r, "counter_reset", json_true()) < 0) {
		json_decref(r);
		r = NULL;
	}
out:
	metrics_histogram_release(&h);
	if (r == NULL && (e == NULL || e->code != ERR_NOMEM))
		err_set(e, ERR_NOMEM, "out of memory building metrics figures");
	return r;
}

static int
set_str(json_t *o, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(o, k, json_string(v));
}

/* Facts the engines export as labels or gauges. */
static int
add_facts(const struct metrics_set *cur, enum engine eng, json_t *facts)
{
	const struct metrics_family *f;
	json_t *models = json_array();
	size_t i, j, n;

	if (models == NULL)
		return -1;
	f = metrics_set_family(cur, "vllm:cache_config_info");
	if (f != NULL && metrics_family_sample_count(f) > 0) {
		const struct metrics_sample *s = metrics_family_sample_at(f, 0);
		json_t *cc = json_object();

		if (cc == NULL || json_object_set_new(facts, "cache_config", cc) < 0)
			goto fail;
		for (j = 0; j < s->nlabels; j++)
			if (set_str(cc, s->labels[j].name, s->labels[j].value) < 0)
				goto fail;
		if (json_object_set_new(facts, "cache_config_metric",
		    json_string("vllm:cache_config_info")) < 0)
			goto fail;
	}
	f = metrics_set_family(cur, "sglang:max_total_num_tokens");
	if (f != NULL && metrics_family_sample_count(f) > 0 &&
	    json_object_set_new(facts, "max_total_num_tokens",
	    json_real(metrics_family_sample_at(f, 0)->value)) < 0)
		goto fail;
	if (eng == ENG_NIM) {
		f = metrics_set_family(cur, "num_request_max");
		if (f != NULL && metrics_family_sample_count(f) > 0 &&
		    json_object_set_new(facts, "max_num_seqs",
		    json_real(metrics_family_sample_at(f, 0)->value)) < 0)
			goto fail;
	}
	/* Served model names, from the model_name label (vLLM, SGLang, NIM) or Triton's model. */
	n = metrics_set_family_count(cur);
	for (i = 0; i < n && json_array_size(models) < 16; i++) {
		f = metrics_set_family_at(cur, i);
		for (j = 0; j < metrics_family_sample_count(f); j++) {
			const struct metrics_sample *s = metrics_family_sample_at(f, j);
			const char *m = metrics_sample_label(s, eng == ENG_TRITON ? "model" : "model_name");
			size_t k;
			int seen = 0;

			if (m == NULL || *m == '\0' || eng == ENG_NONE)
				continue;
			for (k = 0; k < json_array_size(models); k++)
				if (strcmp(json_string_value(json_array_get(models, k)), m) == 0)
					seen = 1;
			if (!seen && json_array_append_new(models, json_string(m)) < 0)
				goto fail;
		}
	}
	if (json_array_size(models) > 0)
		return json_object_set_new(facts, "model_names", models);
	json_decref(models);
	return 0;
fail:
	json_decref(models);
	return -1;
}

/*
 * GPUs. DCGM exporter: one series per GPU (or MIG instance) with labels gpu, UUID
 * (uuid with the old namespace), modelName, Hostname (hostname on newer builds),
 * DCGM_FI_DRIVER_VERSION and, with pod mapping, pod/namespace/container.
 * nvidia_gpu_exporter: nvidia_smi_* keyed by uuid, model and driver from
 * nvidia_smi_gpu_info. Both are normalised to percent, MiB and MHz.
 */
struct gpu_metric {
	const char *family;
	const char *key;
	double scale;
};

static const struct gpu_metric dcgm_metrics[] = {
	{ "DCGM_FI_DEV_GPU_UTIL", "utilization_percent", 1 },
	{ "DCGM_FI_DEV_FB_USED", "fb_used_mib", 1 },
	{ "DCGM_FI_DEV_FB_FREE", "fb_free_mib", 1 },
	{ "DCGM_FI_DEV_SM_CLOCK", "sm_clock_mhz", 1 },
	{ NULL, NULL, 0 }
};

static const struct gpu_metric nvgpuexp_metrics[] = {
	{ "nvidia_smi_utilization_gpu_ratio", "utilization_percent", 100 },
	{ "nvidia_smi_memory_used_bytes", "fb_used_mib", 1.0 / (1024 * 1024) },
	{ "nvidia_smi_memory_free_bytes", "fb_free_mib", 1.0 / (1024 * 1024) },
	{ "nvidia_smi_memory_total_bytes", "fb_total_mib", 1.0 / (1024 * 1024) },
	{ "nvidia_smi_clocks_current_sm_clock_hz", "sm_clock_mhz", 1e-6 },
	{ "nvidia_smi_mig_mode_current", "mig_mode_enabled", 1 },
	{ NULL, NULL, 0 }
};

static const char *
first_label(const struct metrics_sample *s, const char *a, const char *b)
{
	const char *v = metrics_sample_label(s, a);

	return v != NULL ? v : metrics_sample_label(s, b);
}

/* The GPU object for a sample (found by id, else appended). Sets *full and returns NULL
 * when METRICS_MAX_GPUS are listed already; NULL alone is out of memory. */
static json_t *
gpu_entry(json_t *gpus, const char *id, int *full)
{
	size_t i;
	json_t *g;

	*full = 0;
	for (i = 0; i < json_array_size(gpus); i++) {
		g = json_array_get(gpus, i);
		if (strcmp(json_string_value(json_object_get(g, "id")), id) == 0)
			return g;
	}
	if (json_array_size(gpus) >= METRICS_MAX_GPUS) {
		*full = 1;
		return NULL;
	}
	g = json_object();
	if (g == NULL || json_object_set_new(g, "id", json_string(id)) < 0 ||
	    json_object_set_new(g, "metrics", json_array()) < 0 ||
	    json_array_append_new(gpus, g) < 0)
		return NULL;
	return g;
}

static int
add_metric_name(json_t *g, const char *name)
{
	json_t *a = json_object_get(g, "metrics");
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (strcmp(json_string_value(json_array_get(a, i)), name) == 0)
			return 0;
	return json_array_append_new(a, json_string(name));
}

static int
add_gpus(const struct metrics_set *cur, json_t *gpus)
{
	const struct gpu_metric *tabs[2] = { dcgm_metrics, nvgpuexp_metrics };
	size_t t, i, j;
	char id[512];

	for (t = 0; t < 2; t++) {
		for (i = 0; tabs[t][i].family != NULL; i++) {
			const struct metrics_family *f = metrics_set_family(cur, tabs[t][i].family);

			for (j = 0; f != NULL && j < metrics_family_sample_count(f); j++) {
				const struct metrics_sample *s = metrics_family_sample_at(f, j);
				const char *uuid = first_label(s, "UUID", "uuid");
				const char *host = first_label(s, "Hostname", "hostname");
				const char *gpu = metrics_sample_label(s, "gpu");
				const char *gi = metrics_sample_label(s, "GPU_I_ID");
				json_t *g;
				int full;

				if (uuid == NULL && gpu == NULL)
					continue;   /* an unlabelled DCGM line says nothing about a GPU */
				if (!isfinite(s->value))
					continue;
				snprintf(id, sizeof(id), "%s/%s/%s/%s", host ? host : "",
					uuid ? uuid : "", gpu ? gpu : "", gi ? gi : "");
				g = gpu_entry(gpus, id, &full);
				if (g == NULL && full)
					continue;
				if (g == NULL)
					return -1;
				if (json_object_set_new(g, tabs[t][i].key,
				    json_real(s->value * tabs[t][i].scale)) < 0 ||
				    add_metric_name(g, tabs[t][i].family) < 0 ||
				    set_str(g, "source", t == 0 ? "dcgm" : "nvidia_gpu_exporter") < 0 ||
				    set_str(g, "uuid", uuid) < 0 || set_str(g, "gpu", gpu) < 0 ||
				    set_str(g, "hostname", host) < 0 ||
				    set_str(g, "model", metrics_sample_label(s, "modelName")) < 0 ||
				    set_str(g, "driver", metrics_sample_label(s, "DCGM_FI_DRIVER_VERSION")) < 0 ||
				    set_str(g, "mig_profile", metrics_sample_label(s, "GPU_I_PROFILE")) < 0 ||
				    set_str(g, "pod", metrics_sample_label(s, "pod")) < 0 ||
				    set_str(g, "namespace", metrics_sample_label(s, "namespace")) < 0 ||
				    set_str(g, "container", metrics_sample_label(s, "container")) < 0)
					return -1;
			}
		}
	}
	/* nvidia_gpu_exporter's info series carries name, driver and CUDA per uuid. */
	{
		const struct metrics_family *f = metrics_set_family(cur, "nvidia_smi_gpu_info");

		for (j = 0; f != NULL && j < metrics_family_sample_count(f); j++) {
			const struct metrics_sample *s = metrics_family_sample_at(f, j);
			const char *uuid = metrics_sample_label(s, "uuid");
			json_t *g;
			int full;

			if (uuid == NULL)
				continue;
			snprintf(id, sizeof(id), "/%s//", uuid);
			g = gpu_entry(gpus, id, &full);
			if (g == NULL && full)
				continue;
			if (g == NULL ||
			    set_str(g, "source", "nvidia_gpu_exporter") < 0 ||
			    set_str(g, "uuid", uuid) < 0 ||
			    set_str(g, "model", metrics_sample_label(s, "name")) < 0 ||
			    set_str(g, "driver", metrics_sample_label(s, "driver_version")) < 0 ||
			    set_str(g, "cuda_version", metrics_sample_label(s, "cuda_version")) < 0 ||
			    set_str(g, "compute_cap", metrics_sample_label(s, "compute_cap")) < 0 ||
			    add_metric_name(g, "nvidia_smi_gpu_info") < 0)
				return -1;
		}
	}
	return 0;
}

int
metrics_extract(const struct metrics_set *prev, double prev_time,
	const struct metrics_set *cur, double cur_time, json_t **out, struct err *e)
{
	json_t *root = NULL, *figs, *facts, *gpus;
	double seconds = NAN;
	enum engine eng;
	size_t i;
	int ret = -1;

	*out = NULL;
	if (cur == NULL)
		return err_set(e, ERR_INVALID, "metrics extraction needs a current scrape");
	if (prev != NULL) {
		seconds = cur_time - prev_time;
		if (!(seconds > 0))
			return err_set(e, ERR_INVALID,
				"metrics window of %g seconds: the second scrape must be later", seconds);
	}
	eng = detect_engine(cur);
	root = json_object();
	figs = json_object();
	facts = json_object();
	gpus = json_array();
	if (root == NULL ||
	    json_object_set_new(root, "schema", json_string(METRICS_EXTRACT_SCHEMA)) < 0 ||
	    json_object_set_new(root, "engine", json_string(engine_names[eng])) < 0 ||
	    json_object_set_new(root, "window_seconds",
	    prev != NULL ? json_real(seconds) : json_null()) < 0 ||
	    json_object_set_new(root, "figures", figs) < 0 ||
	    json_object_set_new(root, "facts", facts) < 0 ||
	    json_object_set_new(root, "gpus", gpus) < 0) {
		err_set(e, ERR_NOMEM, "out of memory building metrics figures");
		goto out;
	}
	for (i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		json_t *f = figure_eval(&figures[i], eng, prev, cur, seconds, e);

		if (f == NULL || json_object_set_new(figs, figures[i].key, f) < 0)
			goto out;
	}
	if (add_facts(cur, eng, facts) < 0 || add_gpus(cur, gpus) < 0) {
		err_set(e, ERR_NOMEM, "out of memory building metrics facts");
		goto out;
	}
	*out = root;
	root = NULL;
	ret = 0;
out:
	json_decref(root);
	return ret;
}
