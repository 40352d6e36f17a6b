/*
 * store_baseline.c - baselines ("last good") and imported snapshots,
 * backend-neutral: the argument checks every backend relies on. The rows are
 * kept by the backend (store_sqlite_baseline.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static size_t
page_size(size_t limit)
{
	return limit == 0 || limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : limit;
}

static int
source_ok(const char *source)
{
	return source != NULL && (strcmp(source, "snapshot") == 0 || strcmp(source, "import") == 0 ||
	    strcmp(source, "auto") == 0);
}

int
store_baseline_set(struct store *s, int64_t target_id, int64_t snapshot_id, const char *set_by,
    const char *note, const char *source, int64_t set_at, struct store_baseline *out, struct err *e)
{
	struct store_baseline b;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (set_by == NULL || set_by[0] == '\0' || strlen(set_by) > TOKEN_MAX_NAME)
		return err_set(e, ERR_INVALID, "a baseline needs who set it, 1 to %d characters",
		    TOKEN_MAX_NAME);
	if (note == NULL)
		note = "";
	if (strlen(note) > STORE_MAX_BASELINE_NOTE)
		return err_set(e, ERR_INVALID, "a baseline note is at most %d bytes", STORE_MAX_BASELINE_NOTE);
	if (!source_ok(source))
		return err_set(e, ERR_INVALID, "a baseline's source must be snapshot, import or auto");
	memset(&b, 0, sizeof(b));
	b.target_id = target_id;
	b.snapshot_id = snapshot_id;
	snprintf(b.set_by, sizeof(b.set_by), "%s", set_by);
	snprintf(b.note, sizeof(b.note), "%s", note);
	snprintf(b.source, sizeof(b.source), "%s", source);
	b.set_at = set_at;
	if (s->be->baseline_insert(s, &b, e) < 0)
		return -1;
	if (out != NULL)
		*out = b;
	return 0;
}

int
store_baseline_get(struct store *s, int64_t target_id, struct store_baseline *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	return s->be->baseline_get(s, target_id, out, e);
}

int
store_baseline_list(struct store *s, int64_t target_id, size_t limit, struct store_baseline **items,
    size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->baseline_list(s, target_id, page_size(limit), items, n, e);
}

/* A content hash is 64 lowercase hex characters. */
static int
hash_ok(const char *hash)
{
	size_t i;

	if (hash == NULL)
		return 0;
	for (i = 0; i < 64; i++) {
		if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
			return 0;
	}
	return hash[64] == '\0';
}

int
store_snapshot_import(struct store *s, int64_t target_id, const char *hash, const char *config_json,
    size_t config_len, int64_t at, int64_t *snapshot_id, struct err *e)
{
	*snapshot_id = 0;
	if (!hash_ok(hash))
		return err_set(e, ERR_INVALID, "a snapshot hash must be 64 lowercase hex characters");
	if (config_json == NULL || config_len == 0)
		return err_set(e, ERR_INVALID, "a snapshot needs a configuration document");
	if (config_len > DOC_MAX_BYTES)
		return err_set(e, ERR_TOO_LARGE, "a snapshot document is larger than %d bytes", DOC_MAX_BYTES);
	return s->be->snapshot_import(s, target_id, hash, config_json, config_len, at, snapshot_id, e);
}

int
store_snapshot_is_imported(struct store *s, int64_t id, int *imported, struct err *e)
{
	*imported = 0;
	return s->be->snapshot_is_imported(s, id, imported, e);
}
