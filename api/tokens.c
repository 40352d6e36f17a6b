/*
 * tokens.c - API token administration: GET, POST /api/v1/tokens and
 * DELETE /api/v1/tokens/{name}. Admin only (the route table says so).
 *
 * The plain token appears in exactly one place: the body of the 201 answer
 * to the POST that created it. It is never logged and never listed.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

/* The public view of a token: never the secret, never its hash. */
static json_t *
token_json(const struct store_token *t)
{
	char created[32], used[32];

	api_time_rfc3339(t->created_at, created);
	api_time_rfc3339(t->last_used_at, used);
	return json_pack("{s:s, s:s, s:s, s:o, s:b}",
	    "name", t->name,
	    "role", store_role_name(t->role),
	    "created_at", created,
	    "last_used_at", t->last_used_at > 0 ? json_string(used) : json_null(),
	    "revoked", t->revoked);
}

int
api_tokens_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_token *items = NULL;
	json_t *arr = NULL;
	size_t i, n = 0;
	int ret = -1;

	if (store_token_list(rq->store, &items, &n, e) < 0)
		goto out;
	arr = json_array();
	if (arr == NULL) {
		err_set(e, ERR_NOMEM, "out of memory listing tokens");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, token_json(&items[i])) < 0) {
			err_set(e, ERR_NOMEM, "out of memory listing tokens");
			goto out;
		}
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o}", "tokens", arr), e);
	arr = NULL;
out:
	json_decref(arr);
	free(items);
	return ret;
}

int
api_tokens_create(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_token tok;
	const char *key, *name, *role_name;
	json_t *v, *name_v, *role_v, *out_v = NULL;
	enum store_role role;
	char *plain = NULL;
	int ret = -1;

	if (!json_is_object(rq->body)) {
		err_set(e, ERR_INVALID, "the request body must be a JSON object with \"name\" and \"role\"");
		goto out;
	}
	json_object_foreach(rq->body, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "role") != 0) {
			err_set(e, ERR_INVALID, "unknown field '%.64s'; a token has only \"name\" and \"role\"", key);
			goto out;
		}
	}
	name_v = json_object_get(rq->body, "name");
	role_v = json_object_get(rq->body, "role");
	if (!json_is_string(name_v)) {
		err_set(e, ERR_INVALID, "\"name\" is required and must be a string");
		goto out;
	}
	if (!json_is_string(role_v)) {
		err_set(e, ERR_INVALID, "\"role\" is required and must be one of viewer, editor, admin");
		goto out;
	}
	name = json_string_value(name_v);
	role_name = json_string_value(role_v);
	role = store_role_parse(role_name);
	if (role == ROLE_NONE) {
		err_set(e, ERR_INVALID, "unknown role '%.32s'; use viewer, editor or admin", role_name);
		goto out;
	}
	memset(&tok, 0, sizeof(tok));
	if (store_token_create(rq->store, name, role, &plain, &tok, e) < 0)
		goto out;
	out_v = token_json(&tok);
	if (out_v == NULL || json_object_set_new(out_v, "token", json_string(plain)) < 0) {
		err_set(e, ERR_NOMEM, "out of memory building the token answer");
		goto out;
	}
	snprintf(rs->location, sizeof(rs->location), "/api/v1/tokens/%s", tok.name);
	ret = api_resp_json(rs, 201, out_v, e);
	out_v = NULL;
out:
	json_decref(out_v);
	if (plain != NULL) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
	}
	return ret;
}

int
api_tokens_revoke(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *name = api_param(rq, "name");

	if (name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {name} parameter");
	if (store_token_revoke(rq->store, name, e) < 0)
		return -1;
	rs->status = 204;
	return 0;
}
