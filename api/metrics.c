/*
 * metrics.c - a target's serving and GPU figures over time, and nvidia-smi
 * output a person attaches:
 *
 * GET  .../targets/{cluster}/{namespace}/{kind}/{name}/metrics?window=1h (viewer)
 *      the figures each pull stored in the target's evidence (docs/snapshot.md,
 *      "scrapes"), oldest first, for charts: per point and pod the value of
 *      each figure (null when absent, with the reason beside it), the window
 *      it covers, and the GPUs attributed to the target.
 * POST .../targets/{cluster}/{namespace}/{kind}/{name}/nvidia-smi (editor)
 *      {"text": "<output of nvidia-smi --query-gpu=... --format=csv, -q or -q -x>"}
 *      parsed by metrics_nvsmi_parse() into GPU facts and joined to the
 *      target's current evidence: a new evidence row, at the time of the
 *      latest pull and for its snapshot, holding that pull's evidence plus
 *      "nvidia_smi". Bad text is 400 with the parser's message.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* "90", "90s", "15m", "1h", "7d" -> seconds in [60, API_METRICS_MAX_WINDOW_S]. */
static int
parse_window(const char *s, long long *out, struct err *e)
{
	char *end;
	long long v, mul = 1;

	v = strtoll(s, &end, 10);
	if (end == s || v <= 0)
		goto bad;
	if (*end == 's')
		end++;
	else if (*end == 'm' && (end++, 1))
		mul = 60;
	else if (*end == 'h' && (end++, 1))
		mul = 3600;
	else if (*end == 'd' && (end++, 1))
		mul = 86400;
	if (*end != '\0' || v > API_METRICS_MAX_WINDOW_S / mul)
		goto bad;
	v *= mul;
	if (v < 60)
		goto bad;
	*out = v;
	return 0;
bad:
	return err_set(e, ERR_INVALID, "window '%.32s' is not a duration between 60s and %dd "
	    "(e.g. 15m, 1h, 7d)", s, API_METRICS_MAX_WINDOW_S / 86400);
}

/* One scrape of the evidence as a chart point: figure values, absent reasons, GPUs. */
static json_t *
scrape_point(const json_t *s)
{
	json_t *vals = json_object(), *absent = json_object(), *f, *out;
	const char *k;

	json_object_foreach(json_object_get(s, "figures"), k, f) {
		json_t *v = json_object_get(f, "value");

		json_object_set_new(vals, k, json_is_number(v) ? json_deep_copy(v) : json_null());
		if (json_object_get(f, "absent") != NULL)
			json_object_set(absent, k, json_object_get(f, "absent"));
	}
	out = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:o,s:o}",
	    "source", json_object_get(s, "source"), "pod", json_object_get(s, "pod"),
	    "node", json_object_get(s, "node"), "engine", json_object_get(s, "engine"),
	    "window_seconds", json_object_get(s, "window_seconds"),
	    "gpus", json_object_get(s, "gpus"),
	    "error", json_object_get(s, "error") ? json_object_get(s, "error") :
	    json_object_get(s, "parse_error"),
	    "figures", vals, "absent", absent);
	return out;
}

int
api_metrics_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target t;
	struct store_evidence *rows = NULL;
	char wtext[40], since_s[32];
	long long window = 3600;
	int64_t since;
	json_t *points = NULL, *out = NULL;
	size_t i, n = 0;
	int ret = -1, have;

	if (api_target_from_path(rq, &t, e) < 0)
		goto out;
	have = api_query_get(rq, "window", wtext, sizeof(wtext), e);
	if (have < 0 || (have == 1 && parse_window(wtext, &window, e) < 0))
		goto out;
	since = (int64_t)time(NULL) - window;
	if (store_evidence_range(rq->store, t.id, since, 0, API_METRICS_MAX_POINTS, &rows, &n, e) < 0)
		goto out;
	if ((points = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		json_t *doc = json_loads(rows[i].json, 0, NULL), *sc = json_array(), *s, *p;
		char at[32];
		size_t j;

		if (doc == NULL || sc == NULL) {
			json_decref(doc);
			json_decref(sc);
			continue;
		}
		json_array_foreach(json_object_get(doc, "scrapes"), j, s)
			json_array_append_new(sc, scrape_point(s));
		api_time_rfc3339(rows[i].taken_at, at);
		p = json_pack("{s:s,s:I,s:I,s:o,s:O?}", "taken_at", at, "at", (json_int_t)rows[i].taken_at,
		    "snapshot_id", (json_int_t)rows[i].snapshot_id, "scrapes", sc, "nvidia_smi",
		    json_object_get(doc, "nvidia_smi"));
		json_decref(doc);
		/* An nvidia-smi attachment re-records the pull it joins: the later row wins. */
		if (p != NULL && json_array_size(points) > 0 && json_integer_value(json_object_get(
		    json_array_get(points, json_array_size(points) - 1), "at")) == rows[i].taken_at &&
		    json_integer_value(json_object_get(json_array_get(points, json_array_size(points) - 1),
		    "snapshot_id")) == rows[i].snapshot_id)
			json_array_remove(points, json_array_size(points) - 1);
		if (p == NULL || json_array_append_new(points, p) < 0)
			goto nomem;
	}
	api_time_rfc3339(since, since_s);
	out = json_pack("{s:o,s:I,s:s,s:o,s:b}", "target", api_target_json(&t), "window_seconds",
	    (json_int_t)window, "since", since_s, "points", points, "truncated",
	    n == API_METRICS_MAX_POINTS);
	points = NULL;
	if (out == NULL)
		goto nomem;
	ret = api_resp_json(rs, 200, out, e);
	goto out;
nomem:
	err_set(e, ERR_NOMEM, "out of memory reading the metrics of a target");
out:
	json_decref(points);
	store_evidence_free(rows, n);
	return ret;
}

int
api_metrics_nvsmi(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target t;
	const json_t *text = json_object_get(rq->body, "text");
	json_t *facts = NULL, *ev = NULL, *out = NULL;
	char *cfg = NULL, *evj = NULL, *evout = NULL, at[32];
	struct store_snapshot meta;
	int64_t taken_at = 0, sid = 0;
	const char *k;
	json_t *v;
	int ret = -1;

	if (api_target_from_path(rq, &t, e) < 0)
		goto out;
	json_object_foreach(rq->body, k, v) {
		if (strcmp(k, "text") != 0) {
			err_set(e, ERR_INVALID, "unknown field '%.64s'; the body is {\"text\": \"<nvidia-smi "
			    "output>\"}", k);
			goto out;
		}
	}
	if (!json_is_string(text)) {
		err_set(e, ERR_INVALID, "the body needs \"text\": the output of nvidia-smi "
		    "--query-gpu=... --format=csv, nvidia-smi -q or nvidia-smi -q -x");
		goto out;
	}
	if (metrics_nvsmi_parse(json_string_value(text), json_string_length(text), &facts, e) < 0) {
		if (e != NULL && e->code != ERR_NOMEM && e->code != ERR_TOO_LARGE)
			e->code = ERR_INVALID;
		err_prefix(e, "reading the nvidia-smi text");
		goto out;
	}
	if (t.latest_snapshot_id <= 0 ||
	    store_evidence_latest(rq->store, t.id, &evj, &taken_at, e) < 0) {
		err_set(e, ERR_CONFLICT, "target %s/%s/%s/%s has not been pulled yet; collect it, then "
		    "attach nvidia-smi output", t.cluster, t.ns, t.kind, t.name);
		goto out;
	}
	if (store_snapshot_get(rq->store, t.latest_snapshot_id, &meta, &cfg, e) < 0)
		goto out;
	ev = json_loads(evj, 0, NULL);
	if (!json_is_object(ev)) {
		err_set(e, ERR_INTERNAL, "the latest evidence of target %s is not a JSON object", t.name);
		goto out;
	}
	api_time_rfc3339((long long)time(NULL), at);
	json_object_set_new(facts, "attached_at", json_string(at));
	json_object_set_new(facts, "attached_by", json_string(rq->who != NULL ? rq->who->name : ""));
	json_object_set(ev, "nvidia_smi", facts);
	evout = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (evout == NULL)
		goto nomem;
	/* The row of the pull it joins: same time, same snapshot; last_seen does not move. */
	if (store_snapshot_record(rq->store, t.id, meta.hash, cfg, strlen(cfg), evout, strlen(evout),
	    taken_at, &sid, NULL, e) < 0)
		goto out;
	api_time_rfc3339(taken_at, at);
	out = json_pack("{s:o,s:I,s:s,s:O}", "target", api_target_json(&t), "snapshot_id",
	    (json_int_t)sid, "evidence_taken_at", at, "nvidia_smi", facts);
	if (out == NULL)
		goto nomem;
	ret = api_resp_json(rs, 201, out, e);
	goto out;
nomem:
	err_set(e, ERR_NOMEM, "out of memory attaching nvidia-smi output");
out:
	json_decref(facts);
	json_decref(ev);
	free(cfg);
	free(evj);
	free(evout);
	return ret;
}
