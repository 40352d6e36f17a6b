/*
 * diffs.c - comparing snapshots over REST:
 * GET /api/v1/targets/{cluster}/{namespace}/{kind}/{name}/diff
 *   ?from=baseline|ID&to=latest|ID&format=json|markdown|text|patch|slack,
 * GET /api/v1/diff?from=ID&to=ID (any two snapshots, two targets too), and the
 * drift list behind GET /api/v1/targets?drift=true.
 *
 * A diff is built from the two stored configuration documents
 * (diff_side_from_values) and comes with a verdict (metrics_verdict) from the
 * figures each snapshot's evidence rows hold. The collector keeps one-scrape
 * figures per pull (docs/snapshot.md), so gauges have values and rates and
 * quantiles are absent: the verdict then says what it lacks.
 *
 * The diff rules and the verdict rules are loaded once per process and only
 * read afterwards. Drift summaries are cached in memory per pair of
 * configuration hashes (baseline, latest): a summary depends on nothing else,
 * so an entry never goes stale, even when snapshot ids are reused after a
 * cluster is deleted.
 */
#include "api/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "diff/diff.h"
#include "metrics/metrics.h"
#include "render/render.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/banned.h"

static pthread_once_t rules_once = PTHREAD_ONCE_INIT;
static struct diff_rules *rules_diff;
static struct metrics_verdict_rules *rules_verdict;
static struct err rules_err = ERR_INIT;
static int rules_configured;   /* set by api_rules_configure() before any request */

static void
rules_load(void)
{
	if (diff_rules_load(NULL, &rules_diff, &rules_err) < 0)
		return;
	if (metrics_verdict_rules_default(&rules_verdict, &rules_err) < 0) {
		diff_rules_free(rules_diff);
		rules_diff = NULL;
	}
}

int
api_rules_configure(const char *diff_rules_file, const char *verdict_rules_file, struct err *e)
{
	struct diff_rules *d = NULL;
	struct metrics_verdict_rules *v = NULL;
	char *text = NULL;
	size_t len = 0;

	if (diff_rules_load(diff_rules_file, &d, e) < 0)
		return -1;
	if (verdict_rules_file != NULL) {
		if (file_read_all(verdict_rules_file, API_RULES_MAX_BYTES, &text, &len, e) < 0 ||
		    metrics_verdict_rules_load(verdict_rules_file, text, len, &v, e) < 0) {
			free(text);
			diff_rules_free(d);
			return -1;
		}
		free(text);
	} else if (metrics_verdict_rules_default(&v, e) < 0) {
		diff_rules_free(d);
		return -1;
	}
	diff_rules_free(rules_diff);
	metrics_verdict_rules_free(rules_verdict);
	rules_diff = d;
	rules_verdict = v;
	rules_configured = 1;
	return 0;
}

static int
rules_get(struct err *e)
{
	if (!rules_configured)
		pthread_once(&rules_once, rules_load);
	if (rules_diff == NULL || rules_verdict == NULL) {
		if (e != NULL)
			*e = rules_err;
		return -1;
	}
	return 0;
}

void
api_diff_sides_release(struct api_diff_sides *d)
{
	if (d == NULL)
		return;
	json_decref(d->diff);
	json_decref(d->verdict);
	json_decref(d->before);
	json_decref(d->after);
	memset(d, 0, sizeof(*d));
}

/* One figure summed over the scrapes seen so far: the sum and count of values,
 * the unit, and the first reason a scrape gave for having none. */
static int
figure_add(json_t *acc, const char *key, const json_t *fig)
{
	json_t *a = json_object_get(acc, key), *v = json_object_get(fig, "value");

	if (a == NULL) {
		a = json_pack("{s:f, s:i}", "sum", 0.0, "n", 0);
		if (a == NULL || json_object_set_new(acc, key, a) < 0)
			return -1;
	}
	if (json_is_number(v)) {
		json_object_set_new(a, "sum", json_real(json_number_value(json_object_get(a, "sum")) +
		    json_number_value(v)));
		json_object_set_new(a, "n", json_integer(json_integer_value(json_object_get(a, "n")) + 1));
		if (json_object_get(fig, "unit") != NULL)
			json_object_set(a, "unit", json_object_get(fig, "unit"));
	} else if (json_object_get(a, "absent") == NULL && json_is_string(json_object_get(fig, "absent"))) {
		json_object_set(a, "absent", json_object_get(fig, "absent"));
	}
	return 0;
}

/*
 * The figures of one snapshot as metrics_verdict() reads them: each figure's
 * mean over every scrape of the snapshot's evidence rows within the last
 * API_VERDICT_WINDOW_S seconds it was seen (at most API_VERDICT_MAX_ROWS rows).
 * An imported snapshot has no evidence: its figures are empty.
 */
static int
snapshot_figures(struct store *st, const struct store_snapshot *m, json_t **out, struct err *e)
{
	struct store_evidence *rows = NULL;
	json_t *acc = NULL, *figs = NULL, *doc, *scrape_figs, *fig, *a;
	int64_t since = m->last_seen - API_VERDICT_WINDOW_S;
	const char *key;
	size_t i, j, n = 0;
	int ret = -1;

	*out = NULL;
	if (since < m->first_seen)
		since = m->first_seen;
	if (store_evidence_figures(st, m->target_id, m->id, since, m->last_seen, API_VERDICT_MAX_ROWS, &rows, &n,
	    e) < 0)
		return -1;
	if ((acc = json_object()) == NULL || (figs = json_object()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		/* An attachment (nvidia-smi) re-records a pull's evidence at the same
		 * time: rows are oldest first, so only the newest row of a pull counts. */
		if (i + 1 < n && rows[i + 1].taken_at == rows[i].taken_at &&
		    rows[i + 1].snapshot_id == rows[i].snapshot_id)
			continue;
		doc = json_loads(rows[i].json, 0, NULL);
		json_array_foreach(doc, j, scrape_figs) {
			json_object_foreach(scrape_figs, key, fig) {
				if (figure_add(acc, key, fig) < 0) {
					json_decref(doc);
					goto nomem;
				}
			}
		}
		json_decref(doc);
	}
	json_object_foreach(acc, key, a) {
		long long cnt = json_integer_value(json_object_get(a, "n"));
		json_t *f;

		if (cnt > 0)
			f = json_pack("{s:f, s:O?}", "value", json_number_value(json_object_get(a, "sum")) /
			    (double)cnt, "unit", json_object_get(a, "unit"));
		else
			f = json_pack("{s:O?}", "absent", json_object_get(a, "absent"));
		if (f == NULL || json_object_set_new(figs, key, f) < 0)
			goto nomem;
	}
	*out = json_pack("{s:o}", "figures", figs);
	figs = NULL;
	if (*out == NULL)
		goto nomem;
	ret = 0;
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory reading a snapshot's figures");
out:
	json_decref(acc);
	json_decref(figs);
	store_evidence_free(rows, n);
	return ret;
}

/* Loads snapshot `id`'s document into *doc and its metadata into *m. */
static int
load_snapshot(struct store *st, int64_t id, struct store_snapshot *m, json_t **doc, struct err *e)
{
	json_error_t jerr;
	char *text = NULL;

	*doc = NULL;
	if (store_snapshot_get(st, id, m, &text, e) < 0)
		return -1;
	*doc = json_loads(text, 0, &jerr);
	free(text);
	if (*doc == NULL)
		return err_set(e, ERR_IO, "stored snapshot %lld is not JSON: %s", (long long)id, jerr.text);
	return 0;
}

int
api_diff_snapshots(struct store *st, int64_t from_id, int64_t to_id, const char *from_label,
    const char *to_label, int want_sides, struct api_diff_sides *out, struct err *e)
{
	struct store_snapshot mf, mt;
	struct diff_side *sf = NULL, *stt = NULL;
	struct diff_result *res = NULL;
	json_t *df = NULL, *dt = NULL, *ff = NULL, *ft = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (rules_get(e) < 0)
		return -1;
	if (load_snapshot(st, from_id, &mf, &df, e) < 0 || load_snapshot(st, to_id, &mt, &dt, e) < 0)
		goto out;
	if (diff_side_from_values(&df, 1, from_label, &sf, e) < 0 ||
	    diff_side_from_values(&dt, 1, to_label, &stt, e) < 0 ||
	    diff_run(rules_diff, sf, stt, &res, e) < 0)
		goto out;
	if ((out->diff = diff_result_to_json(res)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory writing a diff");
		goto out;
	}
	if (snapshot_figures(st, &mf, &ff, e) < 0 || snapshot_figures(st, &mt, &ft, e) < 0 ||
	    metrics_verdict(ff, ft, out->diff, rules_verdict, &out->verdict, e) < 0)
		goto out;
	if (want_sides) {
		out->before = diff_side_normalised(sf);
		out->after = diff_side_normalised(stt);
		if (out->before == NULL || out->after == NULL) {
			err_set(e, ERR_NOMEM, "out of memory writing a diff");
			goto out;
		}
	}
	out->from = mf;
	out->to = mt;
	ret = 0;
out:
	if (ret < 0)
		api_diff_sides_release(out);
	diff_result_free(res);
	/* The sides share unchanged subtrees with the documents: free them first. */
	diff_side_free(sf);
	diff_side_free(stt);
	json_decref(df);
	json_decref(dt);
	json_decref(ff);
	json_decref(ft);
	return ret;
}

/* A snapshot id from a query value: a positive number. */
static int
parse_id(const char *s, const char *param, int64_t *out, struct err *e)
{
	long long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			break;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || v <= 0)
		return err_set(e, ERR_INVALID, "query parameter '%s' must be a snapshot id", param);
	*out = v;
	return 0;
}

int
api_diff_resolve(struct api_req *rq, const struct store_target *t, int64_t *from_id, int64_t *to_id,
    char *from_label, char *to_label, size_t labelsz, struct err *e)
{
	char from[32] = "baseline", to[32] = "latest";
	struct store_baseline b;
	struct store_snapshot m;
	int r;

	if ((r = api_query_get(rq, "from", from, sizeof(from), e)) < 0 ||
	    (r = api_query_get(rq, "to", to, sizeof(to), e)) < 0)
		return -1;
	if (strcmp(from, "baseline") == 0) {
		if (store_baseline_get(rq->store, t->id, &b, e) < 0) {
			if (e != NULL && e->code == ERR_NOT_FOUND)
				err_set(e, ERR_NOT_FOUND, "target %s/%s/%s/%s has no baseline; set one with PUT "
				    ".../baseline", t->cluster, t->ns, t->kind, t->name);
			return -1;
		}
		*from_id = b.snapshot_id;
		snprintf(from_label, labelsz, "baseline");
	} else {
		if (parse_id(from, "from", from_id, e) < 0)
			return -1;
		snprintf(from_label, labelsz, "snapshot %lld", (long long)*from_id);
	}
	if (strcmp(to, "latest") == 0) {
		if (t->latest_snapshot_id <= 0)
			return err_set(e, ERR_NOT_FOUND, "target %s/%s/%s/%s has no snapshot yet", t->cluster,
			    t->ns, t->kind, t->name);
		*to_id = t->latest_snapshot_id;
		snprintf(to_label, labelsz, "latest");
	} else {
		if (parse_id(to, "to", to_id, e) < 0)
			return -1;
		snprintf(to_label, labelsz, "snapshot %lld", (long long)*to_id);
	}
	/* Both must be this target's. */
	if (store_snapshot_get(rq->store, *from_id, &m, NULL, e) < 0)
		return -1;
	if (m.target_id != t->id)
		return err_set(e, ERR_INVALID, "snapshot %lld is another target's; use /api/v1/diff",
		    (long long)*from_id);
	if (store_snapshot_get(rq->store, *to_id, &m, NULL, e) < 0)
		return -1;
	if (m.target_id != t->id)
		return err_set(e, ERR_INVALID, "snapshot %lld is another target's; use /api/v1/diff",
		    (long long)*to_id);
	return 0;
}

int
api_target_link(const struct api_req *rq, const struct store_target *t, char *out, size_t outsz)
{
	const char *base = rq->cfg != NULL && rq->cfg->public_url != NULL ? rq->cfg->public_url : "";
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return snprintf(out, outsz, "%.*s/#/targets/%s/%s/%s/%s", (int)(n > 1024 ? 1024 : n), base, t->cluster,
	    t->ns, t->kind, t->name) >= (int)outsz ? -1 : 0;
}

/* Answers one diff in the asked format. */
static int
respond(struct api_req *rq, struct api_resp *rs, const char *format, const struct api_diff_sides *d,
    const struct render_report_info *info, struct err *e)
{
	struct render_opts ro = RENDER_OPTS_INIT;
	struct buf out = BUF_INIT(RENDER_MAX_BYTES);
	json_t *v = NULL, *rep = NULL;
	int ret = -1;

	(void)rq;
	ro.label_before = info->from_label;
	ro.label_after = info->to_label;
	if (strcmp(format, "json") == 0) {
		if ((v = json_deep_copy(d->diff)) == NULL || json_object_set(v, "verdict", d->verdict) < 0) {
			err_set(e, ERR_NOMEM, "out of memory writing a diff");
			goto out;
		}
		ret = api_resp_json(rs, 200, v, e);
		v = NULL;
	} else if (strcmp(format, "markdown") == 0 || strcmp(format, "text") == 0) {
		const char *verdict = json_string_value(json_object_get(d->verdict, "verdict"));

		/* The verdict first: it is what a reader wants to know. */
		if (buf_addstr(&out, format[0] == 'm' ? "**Verdict:** " : "Verdict: ", e) < 0 ||
		    buf_addstr(&out, verdict != NULL ? verdict : "unknown", e) < 0 ||
		    buf_addstr(&out, "\n\n", e) < 0)
			goto out;
		if (render_diff(format[0] == 'm' ? RENDER_MARKDOWN : RENDER_TEXT, d->diff, &ro, &out, e) < 0)
			goto out;
		ret = api_resp_text(rs, 200, format[0] == 'm' ? "text/markdown; charset=utf-8" :
		    "text/plain; charset=utf-8", buf_str(&out), buf_len(&out), e);
	} else if (strcmp(format, "patch") == 0) {
		if (render_patch(d->before, d->after, info->from_label, info->to_label, &out, e) < 0)
			goto out;
		ret = api_resp_text(rs, 200, "text/x-diff; charset=utf-8", buf_str(&out), buf_len(&out), e);
	} else if (strcmp(format, "slack") == 0) {
		if (render_report_build(d->diff, d->verdict, info, 0, &rep, e) < 0 ||
		    render_slack(rep, &v, e) < 0)
			goto out;
		ret = api_resp_json(rs, 200, v, e);
		v = NULL;
	} else {
		err_set(e, ERR_INVALID, "format must be json, markdown, text, patch or slack");
	}
out:
	buf_release(&out);
	json_decref(v);
	json_decref(rep);
	return ret;
}

static int
format_get(struct api_req *rq, char *format, size_t n, struct err *e)
{
	snprintf(format, n, "json");
	if (api_query_get(rq, "format", format, n, e) < 0)
		return -1;
	if (strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0 && strcmp(format, "text") != 0 &&
	    strcmp(format, "patch") != 0 && strcmp(format, "slack") != 0)
		return err_set(e, ERR_INVALID, "format must be json, markdown, text, patch or slack");
	return 0;
}

int
api_diffs_target(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct api_diff_sides d = { 0 };
	struct render_report_info info;
	struct store_target t;
	char format[16], fl[48], tl[48], title[STORE_MAX_NAME + STORE_MAX_NAMESPACE + STORE_MAX_KIND +
	    STORE_MAX_OBJECT_NAME + 8], link[2048];
	int64_t from_id = 0, to_id = 0;
	int ret = -1;

	if (format_get(rq, format, sizeof(format), e) < 0 || api_target_from_path(rq, &t, e) < 0 ||
	    api_diff_resolve(rq, &t, &from_id, &to_id, fl, tl, sizeof(fl), e) < 0)
		return -1;
	if (api_diff_snapshots(rq->store, from_id, to_id, fl, tl, strcmp(format, "patch") == 0, &d, e) < 0)
		return -1;
	snprintf(title, sizeof(title), "%s/%s/%s/%s", t.cluster, t.ns, t.kind, t.name);
	memset(&info, 0, sizeof(info));
	info.title = title;
	info.target = title;
	info.from_id = from_id;
	info.to_id = to_id;
	info.from_label = fl;
	info.to_label = tl;
	info.dashboard_url = api_target_link(rq, &t, link, sizeof(link)) == 0 ? link : NULL;
	ret = respond(rq, rs, format, &d, &info, e);
	api_diff_sides_release(&d);
	return ret;
}

int
api_diffs_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct api_diff_sides d = { 0 };
	struct render_report_info info;
	char format[16], from[32], to[32], fl[48], tl[48], title[128];
	int64_t from_id = 0, to_id = 0;
	int r1, r2, ret = -1;

	if (format_get(rq, format, sizeof(format), e) < 0)
		return -1;
	if ((r1 = api_query_get(rq, "from", from, sizeof(from), e)) < 0 ||
	    (r2 = api_query_get(rq, "to", to, sizeof(to), e)) < 0)
		return -1;
	if (r1 == 0 || r2 == 0)
		return err_set(e, ERR_INVALID, "query parameters 'from' and 'to' (snapshot ids) are required");
	if (parse_id(from, "from", &from_id, e) < 0 || parse_id(to, "to", &to_id, e) < 0)
		return -1;
	snprintf(fl, sizeof(fl), "snapshot %lld", (long long)from_id);
	snprintf(tl, sizeof(tl), "snapshot %lld", (long long)to_id);
	if (api_diff_snapshots(rq->store, from_id, to_id, fl, tl, strcmp(format, "patch") == 0, &d, e) < 0)
		return -1;
	snprintf(title, sizeof(title), "snapshot %lld \xe2\x86\x92 snapshot %lld", (long long)from_id,
	    (long long)to_id);
	memset(&info, 0, sizeof(info));
	info.title = title;
	info.from_id = from_id;
	info.to_id = to_id;
	info.from_label = fl;
	info.to_label = tl;
	ret = respond(rq, rs, format, &d, &info, e);
	api_diff_sides_release(&d);
	return ret;
}

/*
 * The drift cache: the diff summary of two configuration documents, by their
 * content hashes. The oldest entry is replaced when the cache is full.
 */
struct drift_entry {
	char from[65], to[65];
	json_t *summary;        /* owned */
};
static struct drift_entry drift_cache[API_DRIFT_CACHE];
static size_t drift_next;
static pthread_mutex_t drift_lock = PTHREAD_MUTEX_INITIALIZER;

/* A new reference to the cached summary, or NULL. */
static json_t *
drift_cached(const char *from, const char *to)
{
	json_t *s = NULL;
	size_t i;

	pthread_mutex_lock(&drift_lock);
	for (i = 0; i < API_DRIFT_CACHE; i++) {
		if (drift_cache[i].summary != NULL && strcmp(drift_cache[i].from, from) == 0 &&
		    strcmp(drift_cache[i].to, to) == 0) {
			s = json_deep_copy(drift_cache[i].summary);
			break;
		}
	}
	pthread_mutex_unlock(&drift_lock);
	return s;
}

static void
drift_remember(const char *from, const char *to, const json_t *summary)
{
	json_t *copy = json_deep_copy(summary);

	if (copy == NULL)
		return;
	pthread_mutex_lock(&drift_lock);
	json_decref(drift_cache[drift_next].summary);
	snprintf(drift_cache[drift_next].from, sizeof(drift_cache[drift_next].from), "%s", from);
	snprintf(drift_cache[drift_next].to, sizeof(drift_cache[drift_next].to), "%s", to);
	drift_cache[drift_next].summary = copy;
	drift_next = (drift_next + 1) % API_DRIFT_CACHE;
	pthread_mutex_unlock(&drift_lock);
}

/* The diff summary of two snapshots, from the cache or computed; new reference. */
static int
drift_summary(struct store *st, int64_t from, int64_t to, json_t **out, struct err *e)
{
	struct api_diff_sides d = { 0 };
	struct store_snapshot mf, mt;

	*out = NULL;
	if (store_snapshot_get(st, from, &mf, NULL, e) < 0 || store_snapshot_get(st, to, &mt, NULL, e) < 0)
		return -1;
	*out = drift_cached(mf.hash, mt.hash);
	if (*out != NULL)
		return 0;
	if (api_diff_snapshots(st, from, to, "baseline", "latest", 0, &d, e) < 0)
		return -1;
	*out = json_deep_copy(json_object_get(d.diff, "summary"));
	api_diff_sides_release(&d);
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "out of memory computing drift");
	drift_remember(mf.hash, mt.hash, *out);
	return 0;
}

int
api_targets_drift(struct api_req *rq, const char *cluster, struct api_resp *rs, struct err *e)
{
	struct store_target *items = NULL;
	struct store_baseline b;
	struct err ee = ERR_INIT;
	json_t *arr = NULL, *sum = NULL, *o;
	size_t i, n = 0;
	int ret = -1;

	if (store_target_list(rq->store, cluster, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (items[i].latest_snapshot_id <= 0)
			continue;
		if (store_baseline_get(rq->store, items[i].id, &b, &ee) < 0) {
			if (ee.code == ERR_NOT_FOUND)
				continue;
			*e = ee;
			goto out;
		}
		if (drift_summary(rq->store, b.snapshot_id, items[i].latest_snapshot_id, &sum, e) < 0)
			goto out;
		if (json_integer_value(json_object_get(sum, "changes")) > 0) {
			o = api_target_json(&items[i]);
			if (o == NULL || json_object_set_new(o, "drift", json_pack("{s:I, s:I, s:O, s:O, s:O}",
			    "baseline_snapshot_id", (json_int_t)b.snapshot_id,
			    "latest_snapshot_id", (json_int_t)items[i].latest_snapshot_id,
			    "changes", json_object_get(sum, "changes"),
			    "by_category", json_object_get(sum, "by_category"),
			    "by_severity", json_object_get(sum, "by_severity"))) < 0 ||
			    json_array_append_new(arr, o) < 0) {
				json_decref(o);
				goto nomem;
			}
		}
		json_decref(sum);
		sum = NULL;
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o}", "targets", arr), e);
	arr = NULL;
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory listing drift");
out:
	json_decref(sum);
	json_decref(arr);
	free(items);
	return ret;
}
