/*
 * snapshots.c - the history of a target: GET
 * /api/v1/targets/{cluster}/{namespace}/{kind}/{name}/snapshots (newest
 * first, paged with `limit` and `before`) and GET /api/v1/snapshots/{id}
 * (the metadata and the configuration document, docs/snapshot.md).
 */
#include "api/api.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static json_t *
snapshot_meta_json(const struct store_snapshot *s)
{
	char first[32], last[32];

	api_time_rfc3339(s->first_seen, first);
	api_time_rfc3339(s->last_seen, last);
	return json_pack("{s:I, s:s, s:s, s:s, s:I, s:s}",
	    "id", (json_int_t)s->id,
	    "hash", s->hash,
	    "first_seen", first,
	    "last_seen", last,
	    "size", (json_int_t)s->size,
	    "source", s->imported ? "import" : "pull");
}

int
api_snapshots_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target t;
	struct store_snapshot *items = NULL;
	long long limit = API_SNAPSHOTS_DEFAULT_LIMIT, before = 0;
	json_t *arr = NULL, *out = NULL;
	size_t i, n = 0;
	int ret = -1;

	if (api_target_from_path(rq, &t, e) < 0)
		goto out;
	if (api_query_int(rq, "limit", 1, API_SNAPSHOTS_MAX_LIMIT, &limit, e) < 0 ||
	    api_query_int(rq, "before", 1, INT64_MAX, &before, e) < 0)
		goto out;
	if (store_snapshot_list(rq->store, t.id, before, (size_t)limit, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory listing snapshots");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, snapshot_meta_json(&items[i])) < 0) {
			err_set(e, ERR_NOMEM, "out of memory listing snapshots");
			goto out;
		}
	}
	/* A full page may have more behind it: hand out the cursor. */
	out = json_pack("{s:o, s:o, s:o}",
	    "target", api_target_json(&t),
	    "snapshots", arr,
	    "next_before", n == (size_t)limit && n > 0 ? json_integer(items[n - 1].id) : json_null());
	arr = NULL;
	ret = api_resp_json(rs, 200, out, e);
out:
	json_decref(arr);
	free(items);
	return ret;
}

int
api_snapshots_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_snapshot meta;
	struct store_target t;
	const char *idtext = api_param(rq, "id");
	char *doc_text = NULL, *end;
	json_t *out = NULL, *doc = NULL;
	json_error_t jerr;
	long long id;
	int ret = -1;

	if (idtext == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {id} parameter");
	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (idtext[0] < '0' || idtext[0] > '9' || *end != '\0' || errno != 0 || id <= 0)
		return err_set(e, ERR_NOT_FOUND, "no snapshot '%.32s'; a snapshot id is a positive number",
		    idtext);
	if (store_snapshot_get(rq->store, id, &meta, &doc_text, e) < 0)
		goto out;
	if (store_target_get_by_id(rq->store, meta.target_id, &t, e) < 0)
		goto out;
	doc = json_loads(doc_text, JSON_DECODE_ANY, &jerr);
	if (doc == NULL) {
		err_set(e, ERR_INTERNAL, "snapshot %lld holds a document that is not JSON", id);
		goto out;
	}
	out = snapshot_meta_json(&meta);
	if (out == NULL || json_object_set_new(out, "target", api_target_json(&t)) < 0 ||
	    json_object_set(out, "document", doc) < 0) {
		err_set(e, ERR_NOMEM, "out of memory building the snapshot");
		goto out;
	}
	ret = api_resp_json(rs, 200, out, e);
	out = NULL;
out:
	json_decref(out);
	json_decref(doc);
	free(doc_text);
	return ret;
}
