/*
 * verdict.c - skew, capacity, no regression, or unclear: the comparison of a
 * baseline window with the current window and the diff between them.
 *
 * The thresholds and lists are data (verdict.yaml, docs/metrics.md); the
 * decision itself is this order:
 *   1. no latency and no throughput figure comparable -> inconclusive;
 *   2. no figure past its threshold                   -> no_regression;
 *   3. no diff given                                  -> inconclusive;
 *   4. relevant changes, load rose and saturated      -> inconclusive (both);
 *   5. relevant changes                               -> skew_likely;
 *   6. load rose and saturated                        -> capacity_likely;
 *   7. otherwise                                      -> inconclusive, with what to check.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "metrics/metrics.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

EMBED_DECLARE(metrics_verdict_yaml);

#define VERDICT_RULES_SCHEMA "skewd.verdict-rules/v1"
#define DIFF_SCHEMA "skewd.diff/v1"
#define REASON_MAX 1024

struct metrics_verdict_rules {
	json_t *root;              /* owns every array below */
	double latency_pct;
	double throughput_pct;
	double load_tolerance_pct;
	double load_increase_pct;
	double waiting_min;
	double kv_min;
	const char *load_figure;
	json_t *latency_figures;
	json_t *throughput_figures;
	json_t *categories;
	json_t *severities;
	json_t *next_steps;
};

static const struct {
	const char *key;
	const char *label;
} labels[] = {
	{ "e2e_latency_p99", "p99 latency" },
	{ "e2e_latency_p95", "p95 latency" },
	{ "e2e_latency_p50", "p50 latency" },
	{ "e2e_latency_mean", "mean latency" },
	{ "ttft_p99", "p99 TTFT" },
	{ "ttft_p95", "p95 TTFT" },
	{ "ttft_p50", "p50 TTFT" },
	{ "itl_p99", "p99 inter-token latency" },
	{ "itl_p95", "p95 inter-token latency" },
	{ "itl_p50", "p50 inter-token latency" },
	{ "generation_tokens_per_s", "generation tokens/s" },
	{ "prompt_tokens_per_s", "prompt tokens/s" },
	{ "request_rate", "request rate" },
	{ "success_rate", "successful requests/s" },
	{ "error_rate", "failed requests/s" },
	{ "waiting_requests", "waiting requests" },
	{ "running_requests", "running requests" },
	{ "kv_cache_usage", "KV-cache usage" },
	{ "preemptions_per_s", "preemptions/s" },
};

static const char *
label_of(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].label;
	return key;
}

/* "+85%" or "−30%" (U+2212 MINUS SIGN, as people write it). */
static void
fmt_pct(char *out, size_t n, double pct)
{
	if (pct < 0)
		snprintf(out, n, "\xe2\x88\x92%.0f%%", -pct);
	else
		snprintf(out, n, "+%.0f%%", pct);
}

/*
 * Rules.
 */
static int
num_field(const json_t *root, const char *sect, const char *key, double min, double *out,
	const char *name, struct err *e)
{
	const json_t *v = json_object_get(json_object_get(root, sect), key);

	if (!json_is_number(v) || json_number_value(v) < min)
		return err_set(e, ERR_INVALID, "verdict rules '%s': '%s.%s' must be a number >= %g",
			name, sect, key, min);
	*out = json_number_value(v);
	return 0;
}

static json_t *
str_list(const json_t *root, const char *sect, const char *key, const char *name,
	struct err *e)
{
	json_t *v = json_object_get(json_object_get(root, sect), key);
	size_t i;

	if (!json_is_array(v))
		goto bad;
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			goto bad;
	return v;
bad:
	err_set(e, ERR_INVALID, "verdict rules '%s': '%s.%s' must be a list of strings",
		name, sect, key);
	return NULL;
}

void
metrics_verdict_rules_free(struct metrics_verdict_rules *r)
{
	if (r == NULL)
		return;
	json_decref(r->root);
	free(r);
}

int
metrics_verdict_rules_load(const char *name, const char *text, size_t len,
	struct metrics_verdict_rules **out, struct err *e)
{
	static const char *const steps[] = {
		"skew_likely", "capacity_likely", "inconclusive_no_change", "inconclusive_no_figures",
		"inconclusive_no_diff", "inconclusive_load_and_changes", "no_regression", NULL
	};
	struct metrics_verdict_rules *r = NULL;
	struct doc_set *d = NULL;
	const json_t *schema, *lf;
	size_t i;
	int ret = -1;

	*out = NULL;
	if (doc_load_mem(name, text, len, DOC_AUTO, &d, e) < 0) {
		err_prefix(e, "loading verdict rules");
		goto out;
	}
	if (doc_set_count(d) != 1) {
		err_set(e, ERR_INVALID, "verdict rules '%s': expected one document", name);
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		err_set(e, ERR_NOMEM, "out of memory loading verdict rules");
		goto out;
	}
	r->root = json_incref(doc_set_get(d, 0));
	schema = json_object_get(r->root, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), VERDICT_RULES_SCHEMA) != 0) {
		err_set(e, ERR_INVALID, "verdict rules '%s': 'schema' must be '%s'", name,
			VERDICT_RULES_SCHEMA);
		goto out;
	}
	if (num_field(r->root, "regression", "latency_increase_pct", 0, &r->latency_pct, name, e) < 0 ||
	    num_field(r->root, "regression", "throughput_decrease_pct", 0, &r->throughput_pct,
	    name, e) < 0 ||
	    num_field(r->root, "load", "tolerance_pct", 0, &r->load_tolerance_pct, name, e) < 0 ||
	    num_field(r->root, "load", "increase_pct", 0, &r->load_increase_pct, name, e) < 0 ||
	    num_field(r->root, "saturation", "waiting_requests_min", 0, &r->waiting_min, name, e) < 0 ||
	    num_field(r->root, "saturation", "kv_cache_usage_min", 0, &r->kv_min, name, e) < 0)
		goto out;
	lf = json_object_get(json_object_get(r->root, "load"), "figure");
	if (!json_is_string(lf)) {
		err_set(e, ERR_INVALID, "verdict rules '%s': 'load.figure' must be a string", name);
		goto out;
	}
	r->load_figure = json_string_value(lf);
	if ((r->latency_figures = str_list(r->root, "regression", "latency_figures", name, e)) == NULL ||
	    (r->throughput_figures = str_list(r->root, "regression", "throughput_figures", name,
	    e)) == NULL ||
	    (r->categories = str_list(r->root, "changes", "relevant_categories", name, e)) == NULL ||
	    (r->severities = str_list(r->root, "changes", "relevant_severities", name, e)) == NULL)
		goto out;
	r->next_steps = json_object_get(r->root, "next_steps");
	for (i = 0; steps[i] != NULL; i++)
		if (str_list(r->root, "next_steps", steps[i], name, e) == NULL)
			goto out;
	if (r->load_tolerance_pct > r->load_increase_pct) {
		err_set(e, ERR_INVALID, "verdict rules '%s': 'load.tolerance_pct' is above "
			"'load.increase_pct'", name);
		goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	metrics_verdict_rules_free(r);
	doc_set_free(d);
	return ret;
}

int
metrics_verdict_rules_default(struct metrics_verdict_rules **out, struct err *e)
{
	return metrics_verdict_rules_load("verdict.yaml", (const char *)metrics_verdict_yaml,
		metrics_verdict_yaml_len, out, e);
}

/*
 * The verdict.
 */

/* The value of figure `key` in an extraction result, or NaN. */
static double
fig_value(const json_t *doc, const char *key)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(doc, "figures"), key),
		"value");

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
fig_absent(const json_t *doc, const char *key)
{
	const json_t *f = json_object_get(json_object_get(doc, "figures"), key);
	const json_t *a = json_object_get(f, "absent");

	if (json_is_string(a))
		return json_string_value(a);
	return f == NULL ? "not reported" : "no value";
}

static double
change_pct(double before, double after)
{
	if (isnan(before) || isnan(after) || before == 0)
		return NAN;
	return (after - before) / fabs(before) * 100.0;
}

static int
in_list(const json_t *list, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_array_get(list, i)), s) == 0)
			return 1;
	return 0;
}

struct verdict_ctx {
	json_t *reasons;
	struct err *e;
	int failed;
};

static void
reason(struct verdict_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
reason(struct verdict_ctx *c, const char *fmt, ...)
{
	char msg[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_array_append_new(c->reasons, json_string(msg)) < 0)
		c->failed = 1;
}

/* The figures table of the answer: every figure both windows hold a value for. */
static int
compare_figures(const json_t *base, const json_t *cur, json_t *out)
{
	const json_t *figs = json_object_get(base, "figures");
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)figs, key, v) {
		double b = fig_value(base, key), a = fig_value(cur, key), p = change_pct(b, a);
		const json_t *unit = json_object_get(v, "unit");
		json_t *o;

		if (isnan(b) || isnan(a))
			continue;
		o = json_object();
		if (o == NULL || json_object_set_new(out, key, o) < 0 ||
		    json_object_set_new(o, "before", json_real(b)) < 0 ||
		    json_object_set_new(o, "after", json_real(a)) < 0 ||
		    json_object_set_new(o, "change_pct", isnan(p) ? json_null() : json_real(p)) < 0 ||
		    (json_is_string(unit) && json_object_set(o, "unit", (json_t *)unit) < 0))
			return -1;
	}
	return 0;
}

/* The name a person knows a change by: its engine setting, else the last path segment. */
static const char *
change_name(const json_t *ch)
{
	const json_t *s = json_object_get(ch, "setting");
	const char *p, *slash;

	if (json_is_string(s))
		return json_string_value(s);
	s = json_object_get(ch, "path");
	if (!json_is_string(s))
		return "?";
	p = json_string_value(s);
	slash = strrchr(p, '/');
	if (slash != NULL && slash[1] != '\0')
		return slash + 1;
	s = json_object_get(ch, "object");
	return json_is_string(s) ? json_string_value(s) : p;
}

/* Counts relevant changes per category into `counts` ({"runtime": 3}) and the sentences
 * ("3 runtime changes since last good (dtype, max_model_len, max_num_seqs)") into c. */
static int
relevant_changes(const json_t *diff, const struct metrics_verdict_rules *r, json_t *counts,
	struct verdict_ctx *c, size_t *total)
{
	const json_t *changes = json_object_get(diff, "changes");
	size_t k, i;

	*total = 0;
	for (k = 0; k < json_array_size(r->categories); k++) {
		const char *cat = json_string_value(json_array_get(r->categories, k));
		char names[REASON_MAX] = "";
		size_t n = 0, listed = 0, off = 0;
		const char *seen[METRICS_VERDICT_MAX_NAMES];

		for (i = 0; i < json_array_size(changes); i++) {
			const json_t *ch = json_array_get(changes, i);
			const char *ccat = json_string_value(json_object_get(ch, "category"));
			const char *name;
			size_t j;
			int dup = 0;

			if (ccat == NULL || strcmp(ccat, cat) != 0 ||
			    !in_list(r->severities, json_string_value(json_object_get(ch, "severity"))))
				continue;
			n++;
			name = change_name(ch);
			for (j = 0; j < listed; j++)
				if (strcmp(seen[j], name) == 0)
					dup = 1;
			if (dup)
				continue;
			if (listed == METRICS_VERDICT_MAX_NAMES) {
				if (off + 8 < sizeof(names) && strstr(names, ", \xe2\x80\xa6") == NULL)
					off += (size_t)snprintf(names + off, sizeof(names) - off, ", \xe2\x80\xa6");
				continue;
			}
			seen[listed++] = name;
			if (off < sizeof(names))
				off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
					listed > 1 ? ", " : "", name);
		}
		if (n == 0)
			continue;
		*total += n;
		if (json_object_set_new(counts, cat, json_integer((json_int_t)n)) < 0)
			return -1;
		reason(c, "%zu %s change%s since last good (%s)", n, cat, n == 1 ? "" : "s", names);
	}
	return c->failed ? -1 : 0;
}

/* A copy, not a reference: the rules are shared by every thread, and a
 * reference would have them change the rules' reference counts at once (a
 * data race on the count jansson reads unguarded, found by TSan). */
static int
add_steps(json_t *out, const struct metrics_verdict_rules *r, const char *which)
{
	return json_object_set_new(out, "next_steps", json_deep_copy(json_object_get(r->next_steps, which)));
}

int
metrics_verdict(const json_t *baseline, const json_t *current, const json_t *diff,
	const struct metrics_verdict_rules *r, json_t **out, struct err *e)
{
	struct verdict_ctx c = { NULL, e, 0 };
	json_t *root = NULL, *figs, *counts, *chg;
	const char *verdict = NULL, *steps = NULL;
	char regress[REASON_MAX] = "", pct[32], loadtxt[128] = "";
	double load_b, load_a, load_pct, waiting, kv;
	size_t i, off = 0, compared = 0, nrelevant = 0;
	int regressed = 0, load_known, load_up, load_down, saturated, sat_known;
	int ret = -1;

	*out = NULL;
	if (!json_is_object(baseline) || !json_is_object(current))
		return err_set(e, ERR_INVALID, "verdict needs the figures of both windows");
	if (diff != NULL) {
		const json_t *s = json_object_get(diff, "schema");

		if (!json_is_string(s) || strcmp(json_string_value(s), DIFF_SCHEMA) != 0)
			return err_set(e, ERR_INVALID, "verdict: the diff is not a '%s' document",
				DIFF_SCHEMA);
	}
	root = json_object();
	c.reasons = json_array();
	figs = json_object();
	chg = json_object();
	counts = json_object();
	if (root == NULL || json_object_set_new(root, "reasons", c.reasons) < 0 ||
	    json_object_set_new(root, "figures", figs) < 0 ||
	    json_object_set_new(root, "changes", chg) < 0 ||
	    json_object_set_new(chg, "by_category", counts) < 0 ||
	    compare_figures(baseline, current, figs) < 0)
		goto nomem;

	/* Regression: latency up, or throughput down while load did not fall as much. */
	load_b = fig_value(baseline, r->load_figure);
	load_a = fig_value(current, r->load_figure);
	load_pct = change_pct(load_b, load_a);
	load_known = !isnan(load_pct);
	load_up = load_known && load_pct >= r->load_increase_pct;
	load_down = load_known && load_pct <= -r->load_tolerance_pct;
	if (load_known) {
		fmt_pct(pct, sizeof(pct), load_pct);
		snprintf(loadtxt, sizeof(loadtxt), "%s %s", label_of(r->load_figure), pct);
	}
	for (i = 0; i < json_array_size(r->latency_figures); i++) {
		const char *k = json_string_value(json_array_get(r->latency_figures, i));
		double p = change_pct(fig_value(baseline, k), fig_value(current, k));

		if (isnan(p))
			continue;
		compared++;
		if (p >= r->latency_pct && off < sizeof(regress)) {
			fmt_pct(pct, sizeof(pct), p);
			off += (size_t)snprintf(regress + off, sizeof(regress) - off, "%s%s %s",
				regressed ? " and " : "", label_of(k), pct);
			regressed++;
		}
	}
	for (i = 0; i < json_array_size(r->throughput_figures); i++) {
		const char *k = json_string_value(json_array_get(r->throughput_figures, i));
		double p = change_pct(fig_value(baseline, k), fig_value(current, k));

		if (isnan(p))
			continue;
		compared++;
		if (p <= -r->throughput_pct && !load_down && off < sizeof(regress)) {
			fmt_pct(pct, sizeof(pct), p);
			off += (size_t)snprintf(regress + off, sizeof(regress) - off, "%s%s %s",
				regressed ? " and " : "", label_of(k), pct);
			regressed++;
		}
	}
	waiting = fig_value(current, "waiting_requests");
	kv = fig_value(current, "kv_cache_usage");
	sat_known = !isnan(waiting) || !isnan(kv);
	saturated = (!isnan(waiting) && waiting >= r->waiting_min) || (!isnan(kv) && kv >= r->kv_min);

	if (diff != NULL && relevant_changes(diff, r, counts, &c, &nrelevant) < 0)
		goto nomem;
	if (json_object_set_new(chg, "relevant", diff != NULL ?
	    json_integer((json_int_t)nrelevant) : json_null()) < 0)
		goto nomem;

	if (compared == 0) {
		/* Reasons so far are change sentences; the missing figures come first. */
		char miss[REASON_MAX];
		const char *k = json_string_value(json_array_get(r->latency_figures, 0));

		snprintf(miss, sizeof(miss), "no latency or throughput figure in both windows "
			"(%s: baseline %s, current %s)", k ? k : "latency",
			k ? (isnan(fig_value(baseline, k)) ? fig_absent(baseline, k) : "present") : "-",
			k ? (isnan(fig_value(current, k)) ? fig_absent(current, k) : "present") : "-");
		if (json_array_insert_new(c.reasons, 0, json_string(miss)) < 0)
			goto nomem;
		verdict = "inconclusive";
		steps = "inconclusive_no_figures";
		goto done;
	}
	if (!regressed) {
		json_array_clear(c.reasons);
		reason(&c, "no latency rise of %.0f%% or more and no throughput fall of %.0f%% or more%s%s%s",
			r->latency_pct, r->throughput_pct, load_known ? " (" : "", loadtxt,
			load_known ? ")" : "");
		json_object_clear(counts);
		verdict = "no_regression";
		steps = "no_regression";
		goto done;
	}
	if (diff == NULL) {
		reason(&c, "%s%s%s", regress, load_known ? " while " : "", loadtxt);
		reason(&c, "no diff against last good was given, so configuration changes are unknown");
		verdict = "inconclusive";
		steps = "inconclusive_no_diff";
		goto done;
	}
	if (nrelevant > 0 && load_up && saturated) {
		char first[2 * REASON_MAX];

		snprintf(first, sizeof(first), "%s while %s and the engine is saturated: load may "
			"explain it, and so may the changes", regress, loadtxt);
		if (json_array_insert_new(c.reasons, 0, json_string(first)) < 0)
			goto nomem;
		verdict = "inconclusive";
		steps = "inconclusive_load_and_changes";
		goto done;
	}
	if (nrelevant > 0) {
		char first[2 * REASON_MAX];

		if (load_known)
			snprintf(first, sizeof(first), "%s while %s: load does not explain it",
				regress, loadtxt);
		else
			snprintf(first, sizeof(first), "%s; the request rate of one window is unknown",
				regress);
		if (json_array_insert_new(c.reasons, 0, json_string(first)) < 0)
			goto nomem;
		verdict = "skew_likely";
		steps = "skew_likely";
		goto done;
	}
	if (load_up && saturated) {
		reason(&c, "%s while %s and the engine is saturated (waiting requests %g, KV-cache "
			"usage %g): load explains it", regress, loadtxt, waiting, kv);
		reason(&c, "no relevant configuration change since last good");
		verdict = "capacity_likely";
		steps = "capacity_likely";
		goto done;
	}
	if (load_up) {
		reason(&c, "%s while %s, but the engine is %s", regress, loadtxt,
			sat_known ? "not saturated" : "of unknown saturation (no queue or KV-cache figure)");
		reason(&c, "no relevant configuration change since last good");
		verdict = "inconclusive";
		steps = "inconclusive_no_change";
		goto done;
	}
	reason(&c, "%s%s%s: a regression with no load change", regress,
		load_known ? " while " : "", load_known ? loadtxt : "");
	reason(&c, "no relevant configuration change since last good");
	verdict = "inconclusive";
	steps = "inconclusive_no_change";
done:
	if (c.failed || json_object_set_new(root, "verdict", json_string(verdict)) < 0 ||
	    add_steps(root, r, steps) < 0)
		goto nomem;
	*out = root;
	root = NULL;
	ret = 0;
	goto out;
nomem:
	err_set(e, ERR_NOMEM, "out of memory building the verdict");
out:
	json_decref(root);
	return ret;
}
