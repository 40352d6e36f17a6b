/*
 * targets.c - the workloads skewd watches: GET /api/v1/targets,
 * GET /api/v1/targets/{cluster}/{namespace}/{kind}/{name} and
 * POST .../{name}/collect. Targets are found by discovery on each pull
 * (collect.h); nobody creates them through the API.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

int
api_kind_check(const char *kind, struct err *e)
{
	if (strcmp(kind, "deployment") == 0 || strcmp(kind, "statefulset") == 0 ||
	    strcmp(kind, "leaderworkerset") == 0)
		return 0;
	return err_set(e, ERR_NOT_FOUND,
	    "unknown kind '%.64s'; use deployment, statefulset or leaderworkerset (lower case)", kind);
}

int
api_target_from_path(struct api_req *rq, struct store_target *t, struct err *e)
{
	const char *cluster = api_param(rq, "cluster"), *ns = api_param(rq, "namespace");
	const char *kind = api_param(rq, "kind"), *name = api_param(rq, "name");

	if (cluster == NULL || ns == NULL || kind == NULL || name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster}/{namespace}/{kind}/{name} parameters");
	if (api_kind_check(kind, e) < 0)
		return -1;
	if (store_target_get(rq->store, cluster, ns, kind, name, t, e) < 0) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "no target %.63s/%.63s/%.32s/%.253s; it appears after a pull "
			    "of the cluster discovers it", cluster, ns, kind, name);
		return -1;
	}
	return 0;
}

json_t *
api_target_json(const struct store_target *t)
{
	char first[32], last[32], path[STORE_MAX_NAME + STORE_MAX_NAMESPACE + STORE_MAX_KIND +
	    STORE_MAX_OBJECT_NAME + 8];

	api_time_rfc3339(t->first_seen, first);
	api_time_rfc3339(t->last_seen, last);
	snprintf(path, sizeof(path), "%s/%s/%s/%s", t->cluster, t->ns, t->kind, t->name);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}",
	    "target", path,
	    "cluster", t->cluster,
	    "namespace", t->ns,
	    "kind", t->kind,
	    "name", t->name,
	    "first_seen", first,
	    "last_seen", last,
	    "gone", t->gone,
	    "latest_snapshot_id", t->latest_snapshot_id > 0 ? json_integer(t->latest_snapshot_id) :
		json_null());
}

int
api_targets_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target *items = NULL;
	char cluster[STORE_MAX_NAME + 2], drift[8];
	json_t *arr = NULL;
	size_t i, n = 0;
	int r, rd, ret = -1;

	r = api_query_get(rq, "cluster", cluster, sizeof(cluster), e);
	if (r < 0)
		goto out;
	/* drift=true: only targets that differ from their baseline (api/diffs.c). */
	rd = api_query_get(rq, "drift", drift, sizeof(drift), e);
	if (rd < 0)
		goto out;
	if (rd == 1 && strcmp(drift, "true") == 0) {
		ret = api_targets_drift(rq, r == 1 ? cluster : NULL, rs, e);
		goto out;
	}
	if (rd == 1 && strcmp(drift, "false") != 0) {
		err_set(e, ERR_INVALID, "query parameter 'drift' must be true or false");
		goto out;
	}
	if (store_target_list(rq->store, r == 1 ? cluster : NULL, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory listing targets");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, api_target_json(&items[i])) < 0) {
			err_set(e, ERR_NOMEM, "out of memory listing targets");
			goto out;
		}
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o}", "targets", arr), e);
	arr = NULL;
out:
	json_decref(arr);
	free(items);
	return ret;
}

/*
 * A short view of an evidence document: counts of its lists and objects and
 * its scalar members as they are, so a target page can say "3 pods, 12
 * events" without shipping every log line.
 */
static json_t *
evidence_summary(const char *text, int64_t taken_at)
{
	json_t *doc, *sum, *v;
	const char *key;
	char when[32];

	api_time_rfc3339(taken_at, when);
	sum = json_pack("{s:s}", "taken_at", when);
	doc = json_loads(text, 0, NULL);
	if (sum == NULL || !json_is_object(doc)) {
		json_decref(doc);
		return sum;
	}
	json_object_foreach(doc, key, v) {
		if (json_is_array(v))
			json_object_set_new(sum, key, json_pack("{s:I}", "count", (json_int_t)json_array_size(v)));
		else if (json_is_object(v))
			json_object_set_new(sum, key, json_pack("{s:I}", "count", (json_int_t)json_object_size(v)));
		else
			json_object_set(sum, key, v);
	}
	json_decref(doc);
	return sum;
}

int
api_targets_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target t;
	struct store_snapshot meta;
	struct err ee = ERR_INIT;
	char *doc_text = NULL, *ev_text = NULL, seen[32];
	json_t *out = NULL, *doc = NULL, *facts, *snap;
	int64_t taken_at = 0;
	int ret = -1;

	if (api_target_from_path(rq, &t, e) < 0)
		goto out;
	if ((out = api_target_json(&t)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building the target");
		goto out;
	}
	if (t.latest_snapshot_id > 0) {
		if (store_snapshot_get(rq->store, t.latest_snapshot_id, &meta, &doc_text, e) < 0)
			goto out;
		doc = json_loads(doc_text, 0, NULL);
		facts = json_object_get(doc, "facts");
		api_time_rfc3339(meta.last_seen, seen);
		snap = json_pack("{s:I, s:s, s:s, s:O?, s:O?}",
		    "id", (json_int_t)meta.id,
		    "hash", meta.hash,
		    "last_seen", seen,
		    "schema", json_object_get(doc, "schema"),
		    "facts", facts);
		if (snap == NULL || json_object_set_new(out, "latest_snapshot", snap) < 0) {
			err_set(e, ERR_NOMEM, "out of memory building the target");
			goto out;
		}
	} else {
		json_object_set_new(out, "latest_snapshot", json_null());
	}
	if (store_evidence_latest(rq->store, t.id, &ev_text, &taken_at, &ee) == 0) {
		json_object_set_new(out, "latest_evidence", evidence_summary(ev_text, taken_at));
	} else if (ee.code == ERR_NOT_FOUND) {
		json_object_set_new(out, "latest_evidence", json_null());
	} else {
		*e = ee;
		goto out;
	}
	ret = api_resp_json(rs, 200, out, e);
	out = NULL;
out:
	json_decref(out);
	json_decref(doc);
	free(doc_text);
	free(ev_text);
	return ret;
}

int
api_targets_collect(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *cluster = api_param(rq, "cluster"), *ns = api_param(rq, "namespace");
	const char *kind = api_param(rq, "kind"), *name = api_param(rq, "name");
	json_t *out = NULL;

	if (cluster == NULL || ns == NULL || kind == NULL || name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster}/{namespace}/{kind}/{name} parameters");
	if (api_kind_check(kind, e) < 0)
		return -1;
	if (rq->collect == NULL)
		return err_set(e, ERR_UNAVAILABLE, "the collector is not running");
	if (collect_target(rq->collect, cluster, ns, kind, name, &out, e) < 0)
		return -1;
	return api_resp_json(rs, 200, out, e);
}
