/*
 * webhooks.c - POST/GET/DELETE /api/v1/webhooks: where skewd tells people
 * about new drift (server/notify/). Admin only.
 *
 * The URL is write-only: it may hold a token (Slack's incoming webhooks do),
 * so it is sealed at once (seal_lock, AAD "webhook:<name>:url") and only its
 * scheme and host are ever shown. The optional secret (an HMAC key for the
 * X-Skewd-Signature header) is sealed the same way and never shown.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config/config.h"
#include "notify/notify.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static json_t *
time_or_null(int64_t t)
{
	char s[32];

	if (t == 0)
		return json_null();
	api_time_rfc3339(t, s);
	return json_string(s);
}

/* The public view: never the URL beyond scheme and host, never the secret. */
static json_t *
webhook_json(const struct store_webhook *w)
{
	char created[32];

	api_time_rfc3339(w->created_at, created);
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:{s:o, s:o, s:o, s:o, s:I, s:I, s:I}}",
	    "name", w->name,
	    "url", w->url_display,
	    "format", w->format,
	    "min_severity", w->min_severity,
	    "has_secret", w->sealed_secret != NULL,
	    "created_at", created,
	    "created_by", w->created_by,
	    "delivery",
	    "last_attempt_at", time_or_null(w->last_attempt_at),
	    "last_success_at", time_or_null(w->last_success_at),
	    "last_status", w->last_status != 0 ? json_integer(w->last_status) : json_null(),
	    "last_error", w->last_error[0] != '\0' ? json_string(w->last_error) : json_null(),
	    "attempts", (json_int_t)w->attempts,
	    "deliveries", (json_int_t)w->deliveries,
	    "failures", (json_int_t)w->failures);
}

/* A string member: 1 and *out when present, 0 when absent, -1 when not a string. */
static int
member_string(const json_t *body, const char *name, const char **out, struct err *e)
{
	const json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "'%s' must be a string", name);
	*out = json_string_value(v);
	return 1;
}

int
api_webhooks_create(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	static const char *const known[] = { "name", "url", "format", "min_severity", "secret" };
	struct store_webhook w;
	const char *name = NULL, *url = NULL, *format = "json", *sev = "high", *secret = NULL, *key;
	char aad[STORE_MAX_NAME + 32];
	json_t *v;
	size_t i, n = 0;
	struct store_webhook *all = NULL;
	int ret = -1;

	memset(&w, 0, sizeof(w));
	if (!json_is_object(rq->body)) {
		err_set(e, ERR_INVALID, "the body must be a JSON object");
		goto out;
	}
	json_object_foreach(rq->body, key, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(key, known[i]) == 0)
				break;
		}
		if (i == sizeof(known) / sizeof(known[0])) {
			err_set(e, ERR_INVALID, "unknown member '%.64s'; a webhook takes name, url, format, "
			    "min_severity and secret", key);
			goto out;
		}
	}
	if (member_string(rq->body, "name", &name, e) < 0 || member_string(rq->body, "url", &url, e) < 0 ||
	    member_string(rq->body, "format", &format, e) < 0 ||
	    member_string(rq->body, "min_severity", &sev, e) < 0 ||
	    member_string(rq->body, "secret", &secret, e) < 0)
		goto out;
	if (name == NULL) {
		err_set(e, ERR_INVALID, "a webhook needs a name");
		goto out;
	}
	if (strlen(name) > STORE_MAX_NAME || strlen(format) >= sizeof(w.format) ||
	    strlen(sev) >= sizeof(w.min_severity)) {
		err_set(e, ERR_INVALID, "name, format or min_severity is too long");
		goto out;
	}
	snprintf(w.name, sizeof(w.name), "%s", name);
	snprintf(w.format, sizeof(w.format), "%s", format);
	snprintf(w.min_severity, sizeof(w.min_severity), "%s", sev);
	if (notify_url_check(url, rq->cfg != NULL && rq->cfg->allow_http_webhooks, w.url_display,
	    sizeof(w.url_display), e) < 0)
		goto out;
	if (secret != NULL && (secret[0] == '\0' || strlen(secret) > WEBHOOK_MAX_SECRET)) {
		err_set(e, ERR_INVALID, "the secret must be 1 to %d characters", WEBHOOK_MAX_SECRET);
		goto out;
	}
	if (rq->seal == NULL) {
		err_set(e, ERR_UNAVAILABLE, "this server has no seal key; webhooks cannot be stored");
		goto out;
	}
	if (store_webhook_list(rq->store, &all, &n, e) < 0)
		goto out;
	if (n >= API_MAX_WEBHOOKS) {
		err_set(e, ERR_CONFLICT, "there are %d webhooks already, the most skewd keeps", API_MAX_WEBHOOKS);
		goto out;
	}
	snprintf(aad, sizeof(aad), "webhook:%s:url", w.name);
	if (seal_lock(rq->seal, aad, url, strlen(url), &w.sealed_url, &w.sealed_url_len, e) < 0)
		goto out;
	if (secret != NULL) {
		snprintf(aad, sizeof(aad), "webhook:%s:secret", w.name);
		if (seal_lock(rq->seal, aad, secret, strlen(secret), &w.sealed_secret, &w.sealed_secret_len, e) < 0)
			goto out;
	}
	snprintf(w.created_by, sizeof(w.created_by), "%s", rq->who != NULL ? rq->who->name : "");
	if (store_webhook_create(rq->store, &w, e) < 0)
		goto out;
	snprintf(rs->location, sizeof(rs->location), "/api/v1/webhooks/%s", w.name);
	ret = api_resp_json(rs, 201, webhook_json(&w), e);
out:
	store_webhooks_free(all, n);
	store_webhook_release(&w);
	return ret;
}

int
api_webhooks_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_webhook *items = NULL;
	json_t *arr = NULL;
	size_t i, n = 0;
	int ret = -1;

	if (store_webhook_list(rq->store, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, webhook_json(&items[i])) < 0)
			goto oom;
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o}", "webhooks", arr), e);
	arr = NULL;
	goto out;
oom:
	err_set(e, ERR_NOMEM, "out of memory listing webhooks");
out:
	json_decref(arr);
	store_webhooks_free(items, n);
	return ret;
}

int
api_webhooks_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_webhook w;
	int ret;

	if (store_webhook_get(rq->store, api_param(rq, "name"), &w, e) < 0)
		return -1;
	ret = api_resp_json(rs, 200, webhook_json(&w), e);
	store_webhook_release(&w);
	return ret;
}

int
api_webhooks_delete(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	if (store_webhook_delete(rq->store, api_param(rq, "name"), e) < 0)
		return -1;
	rs->status = 204;
	return 0;
}
