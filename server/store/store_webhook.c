/*
 * store_webhook.c - webhooks, backend-neutral: the checks every backend
 * relies on, and releasing a struct store_webhook. The sealed URL and secret
 * are wiped when freed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

static int
one_of(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, set[i]) == 0)
			return 1;
	}
	return 0;
}

/* A DNS-1123 label, as cluster names. */
static int
name_check(const char *name, struct err *e)
{
	size_t len, i;

	if (name[0] == '\0')
		return err_set(e, ERR_INVALID, "a webhook needs a name");
	len = strlen(name);
	if (len > STORE_MAX_NAME)
		return err_set(e, ERR_INVALID, "webhook name is longer than %d characters", STORE_MAX_NAME);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (c == '-' && i > 0 && i < len - 1)
			continue;
		return err_set(e, ERR_INVALID,
		    "webhook name '%.*s' must be a DNS label: a-z, 0-9 and inner '-'", STORE_MAX_NAME, name);
	}
	return 0;
}

static void
wipe_free(unsigned char *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

void
store_webhook_release(struct store_webhook *w)
{
	if (w == NULL)
		return;
	wipe_free(w->sealed_url, w->sealed_url_len);
	wipe_free(w->sealed_secret, w->sealed_secret_len);
	memset(w, 0, sizeof(*w));
}

void
store_webhooks_free(struct store_webhook *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		store_webhook_release(&items[i]);
	free(items);
}

int
store_webhook_create(struct store *s, struct store_webhook *w, struct err *e)
{
	static const char *const formats[] = { "json", "slack" };
	static const char *const sevs[] = { "critical", "high", "medium", "low", "info" };

	if (name_check(w->name, e) < 0)
		return -1;
	if (!one_of(w->format, formats, 2))
		return err_set(e, ERR_INVALID, "webhook '%s': format must be json or slack", w->name);
	if (!one_of(w->min_severity, sevs, 5))
		return err_set(e, ERR_INVALID,
		    "webhook '%s': min_severity must be critical, high, medium, low or info", w->name);
	if (w->sealed_url == NULL || w->sealed_url_len == 0)
		return err_set(e, ERR_INTERNAL, "webhook '%s' reached the store without its sealed URL", w->name);
	if ((w->sealed_secret == NULL) != (w->sealed_secret_len == 0))
		return err_set(e, ERR_INTERNAL, "webhook '%s': sealed secret pointer and length disagree", w->name);
	w->created_at = store_now();
	return s->be->webhook_insert(s, w, e);
}

int
store_webhook_get(struct store *s, const char *name, struct store_webhook *out, struct err *e)
{
	return s->be->webhook_get(s, name, out, e);
}

int
store_webhook_list(struct store *s, struct store_webhook **items, size_t *n, struct err *e)
{
	return s->be->webhook_list(s, items, n, e);
}

int
store_webhook_delete(struct store *s, const char *name, struct err *e)
{
	return s->be->webhook_delete(s, name, e);
}

int
store_webhook_claim(struct store *s, int64_t id, const char *drift_key, int *claimed, struct err *e)
{
	if (drift_key == NULL || drift_key[0] == '\0' || strlen(drift_key) > STORE_MAX_DRIFT_KEY)
		return err_set(e, ERR_INVALID, "a delivery needs a drift key of at most %d characters",
		    STORE_MAX_DRIFT_KEY);
	return s->be->webhook_claim(s, id, drift_key, store_now(), claimed, e);
}

int
store_webhook_attempt(struct store *s, int64_t id, const char *drift_key, int ok, int status,
    const char *error, int final, struct err *e)
{
	if (drift_key == NULL || drift_key[0] == '\0')
		return err_set(e, ERR_INVALID, "a delivery attempt needs its drift key");
	return s->be->webhook_attempt(s, id, drift_key, ok, status, error, final, store_now(), e);
}
