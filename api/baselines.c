/*
 * baselines.c - "last good" per target:
 * PUT    /api/v1/targets/{cluster}/{namespace}/{kind}/{name}/baseline
 *        {"snapshot": ID | "latest", "note": "..."}  (editor)
 * GET    .../baseline, GET .../baselines (history, newest first)
 * POST   .../baseline/import {"document": "<YAML or JSON text>", "note": "..."} (editor)
 *
 * Who set a baseline is the token's name; the note says why. An import is a
 * saved last-good manifest or a GitOps file, given as the text of the file in
 * a JSON string (the HTTP layer takes JSON bodies only): it goes through the
 * document loader (bounded: billion-laughs and self-referencing aliases are
 * refused before anything is expanded) and the same normaliser as a pull
 * (collect_raw_from_objects + collect_build), and is stored as a snapshot of
 * the target marked imported, which then becomes the baseline.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "doc/doc.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* The public view of a baseline; new reference or NULL. */
static json_t *
baseline_json(struct store *st, const struct store_target *t, const struct store_baseline *b)
{
	char at[32], path[STORE_MAX_NAME + STORE_MAX_NAMESPACE + STORE_MAX_KIND + STORE_MAX_OBJECT_NAME + 8];
	int imported = 0;

	api_time_rfc3339(b->set_at, at);
	snprintf(path, sizeof(path), "%s/%s/%s/%s", t->cluster, t->ns, t->kind, t->name);
	store_snapshot_is_imported(st, b->snapshot_id, &imported, NULL);
	return json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:b}",
	    "id", (json_int_t)b->id,
	    "target", path,
	    "snapshot_id", (json_int_t)b->snapshot_id,
	    "set_by", b->set_by,
	    "note", b->note,
	    "source", b->source,
	    "set_at", at,
	    "imported", imported);
}

/* Checks that the body has only `allowed` keys and reads an optional string note. */
static int
body_note(const json_t *body, const char *const *allowed, const char **note, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	*note = NULL;
	if (!json_is_object(body))
		return err_set(e, ERR_INVALID, "the body must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return err_set(e, ERR_INVALID, "unknown field '%.64s' in the body", key);
	}
	v = json_object_get(body, "note");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return err_set(e, ERR_INVALID, "\"note\" must be a string");
		*note = json_string_value(v);
		if (strlen(*note) > STORE_MAX_BASELINE_NOTE)
			return err_set(e, ERR_INVALID, "\"note\" is at most %d bytes", STORE_MAX_BASELINE_NOTE);
	}
	return 0;
}

/* Records the baseline and answers 200 with it. */
static int
set_and_answer(struct api_req *rq, struct api_resp *rs, const struct store_target *t, int64_t snapshot_id,
    const char *note, const char *source, int status, struct err *e)
{
	struct store_baseline b;

	if (store_baseline_set(rq->store, t->id, snapshot_id, rq->who != NULL ? rq->who->name : "anonymous",
	    note, source, (int64_t)time(NULL), &b, e) < 0)
		return -1;
	return api_resp_json(rs, status, baseline_json(rq->store, t, &b), e);
}

int
api_baselines_put(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	static const char *const allowed[] = { "snapshot", "note", NULL };
	struct store_target t;
	const char *note;
	json_t *snap;
	int64_t id;

	if (api_target_from_path(rq, &t, e) < 0 || body_note(rq->body, allowed, &note, e) < 0)
		return -1;
	snap = json_object_get(rq->body, "snapshot");
	if (json_is_string(snap) && strcmp(json_string_value(snap), "latest") == 0) {
		if (t.latest_snapshot_id <= 0)
			return err_set(e, ERR_CONFLICT, "target %s/%s/%s/%s has no snapshot yet; collect first",
			    t.cluster, t.ns, t.kind, t.name);
		id = t.latest_snapshot_id;
	} else if (json_is_integer(snap) && json_integer_value(snap) > 0) {
		id = json_integer_value(snap);
	} else {
		return err_set(e, ERR_INVALID, "\"snapshot\" must be a snapshot id or \"latest\"");
	}
	return set_and_answer(rq, rs, &t, id, note, "snapshot", 200, e);
}

int
api_baselines_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_target t;
	struct store_baseline b;

	if (api_target_from_path(rq, &t, e) < 0)
		return -1;
	if (store_baseline_get(rq->store, t.id, &b, e) < 0) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_NOT_FOUND, "target %s/%s/%s/%s has no baseline", t.cluster, t.ns, t.kind,
			    t.name);
		return -1;
	}
	return api_resp_json(rs, 200, baseline_json(rq->store, &t, &b), e);
}

int
api_baselines_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_baseline *items = NULL;
	struct store_target t;
	long long limit = API_SNAPSHOTS_DEFAULT_LIMIT;
	json_t *arr = NULL;
	size_t i, n = 0;
	int ret = -1;

	if (api_target_from_path(rq, &t, e) < 0 ||
	    api_query_int(rq, "limit", 1, API_BASELINES_MAX_LIMIT, &limit, e) < 0 ||
	    store_baseline_list(rq->store, t.id, (size_t)limit, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, baseline_json(rq->store, &t, &items[i])) < 0)
			goto nomem;
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o, s:o}", "target", api_target_json(&t), "baselines", arr), e);
	arr = NULL;
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory listing baselines");
out:
	json_decref(arr);
	free(items);
	return ret;
}

/* Every Kubernetes object of the loaded documents, `List`s unpacked, in a new array. */
static int
objects_of(const struct doc_set *d, json_t **out, struct err *e)
{
	json_t *arr = json_array(), *doc, *item;
	const char *kind;
	size_t i, j, len;

	*out = NULL;
	if (arr == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading the import");
	for (i = 0; i < doc_set_count(d); i++) {
		doc = doc_set_get(d, i);
		kind = json_string_value(json_object_get(doc, "kind"));
		len = kind != NULL ? strlen(kind) : 0;
		if (len > 4 && strcmp(kind + len - 4, "List") == 0 && json_is_array(json_object_get(doc, "items"))) {
			json_array_foreach(json_object_get(doc, "items"), j, item) {
				if (json_is_object(item) && json_array_append(arr, item) < 0)
					goto nomem;
			}
		} else if (json_is_object(doc) && kind != NULL) {
			if (json_array_append(arr, doc) < 0)
				goto nomem;
		}
	}
	*out = arr;
	return 0;
nomem:
	json_decref(arr);
	return err_set(e, ERR_NOMEM, "out of memory reading the import");
}

int
api_baselines_import(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	static const char *const allowed[] = { "document", "note", NULL };
	struct store_target t;
	struct doc_set *d = NULL;
	json_t *objects = NULL, *raw = NULL, *config = NULL, *evidence = NULL, *doc;
	const char *note, *text;
	char hash[65], *cj = NULL;
	int64_t sid = 0;
	int ret = -1;

	if (api_target_from_path(rq, &t, e) < 0 || body_note(rq->body, allowed, &note, e) < 0)
		return -1;
	doc = json_object_get(rq->body, "document");
	if (!json_is_string(doc) || json_string_length(doc) == 0)
		return err_set(e, ERR_INVALID, "\"document\" must be the text of a YAML or JSON file");
	text = json_string_value(doc);
	if (rq->seal == NULL)
		return err_set(e, ERR_UNAVAILABLE, "imports need the credential seal, which is not open");
	if (doc_load_mem("document", text, json_string_length(doc), DOC_AUTO, &d, e) < 0) {
		if (e != NULL && e->code != ERR_TOO_LARGE && e->code != ERR_NOMEM)
			e->code = ERR_INVALID;
		goto out;
	}
	if (objects_of(d, &objects, e) < 0)
		goto out;
	if (collect_raw_from_objects(objects, t.cluster, t.ns, t.kind, t.name, &raw, e) < 0) {
		if (e != NULL && e->code == ERR_NOT_FOUND)
			err_set(e, ERR_INVALID, "the document holds no %s named '%s' in namespace '%s'", t.kind,
			    t.name, t.ns);
		goto out;
	}
	if (collect_build(raw, rq->seal, &config, &evidence, e) < 0 || collect_hash(config, hash, e) < 0)
		goto out;
	if ((cj = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory writing the imported snapshot");
		goto out;
	}
	if (store_snapshot_import(rq->store, t.id, hash, cj, strlen(cj), (int64_t)time(NULL), &sid, e) < 0)
		goto out;
	ret = set_and_answer(rq, rs, &t, sid, note, "import", 201, e);
out:
	free(cj);
	json_decref(config);
	json_decref(evidence);
	json_decref(raw);
	json_decref(objects);
	doc_set_free(d);
	return ret;
}
