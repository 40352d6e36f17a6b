/*
 * store_bundle.c - bundle rows and webhooks, backend-neutral: the checks
 * every backend relies on and releasing the structs. The backends keep the
 * rows (store_sqlite_bundle.c, store_sqlite_webhook.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

/* A plain name: [A-Za-z0-9._-], not starting with '.', 1 to max chars. */
static int
plain_name(const char *s, size_t max)
{
	size_t i, len;

	if (s == NULL || s[0] == '\0' || s[0] == '.')
		return 0;
	len = strlen(s);
	if (len > max)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void
store_bundles_free(struct store_bundle *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		free(items[i].meta_json);
	free(items);
}

int
store_bundle_insert(struct store *s, struct store_bundle *b, struct err *e)
{
	if (!plain_name(b->id, STORE_MAX_BUNDLE_ID) || strlen(b->id) < 16)
		return err_set(e, ERR_INVALID, "a bundle id must be 16 to %d letters and digits",
		    STORE_MAX_BUNDLE_ID);
	if (!plain_name(b->file, STORE_MAX_BUNDLE_FILE))
		return err_set(e, ERR_INVALID, "bundle '%s' needs a plain file name", b->id);
	if (b->target[0] == '\0' || b->to_snapshot_id <= 0)
		return err_set(e, ERR_INVALID, "bundle '%s' needs a target and a current snapshot", b->id);
	if (strlen(b->sha256) != 64)
		return err_set(e, ERR_INVALID, "bundle '%s' needs the SHA-256 of its archive", b->id);
	if (b->size < 0)
		return err_set(e, ERR_INVALID, "bundle '%s' has a negative size", b->id);
	if (b->created_at == 0)
		b->created_at = store_now();
	return s->be->bundle_insert(s, b, e);
}

int
store_bundle_get(struct store *s, const char *id, struct store_bundle *out, struct err *e)
{
	if (!plain_name(id, STORE_MAX_BUNDLE_ID))
		return err_set(e, ERR_NOT_FOUND, "no such bundle");
	return s->be->bundle_get(s, id, out, e);
}

int
store_bundle_list(struct store *s, int64_t before, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e)
{
	if (limit == 0 || limit > STORE_MAX_PAGE)
		limit = STORE_MAX_PAGE;
	return s->be->bundle_list(s, before, limit, items, n, e);
}

int
store_bundle_expired(struct store *s, int64_t older_than, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e)
{
	if (limit == 0 || limit > STORE_MAX_PAGE)
		limit = STORE_MAX_PAGE;
	return s->be->bundle_expired(s, older_than, limit, items, n, e);
}

int
store_bundle_delete(struct store *s, const char *id, struct err *e)
{
	if (!plain_name(id, STORE_MAX_BUNDLE_ID))
		return err_set(e, ERR_NOT_FOUND, "no such bundle");
	return s->be->bundle_delete(s, id, e);
}
