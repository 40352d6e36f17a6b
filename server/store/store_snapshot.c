/*
 * store_snapshot.c - targets, snapshots and evidence, backend-neutral: the
 * argument checks every backend relies on (lengths, hash form, size caps,
 * page sizes) and the lowercasing of kinds. The backends keep the rows
 * (store_sqlite_snapshot.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* Checks the three parts of a target's address and copies the kind lowercased into kind_out. */
static int
address_check(const char *ns, const char *kind, const char *name, char kind_out[STORE_MAX_KIND + 1],
    struct err *e)
{
	size_t i, len;

	if (ns == NULL || ns[0] == '\0' || strlen(ns) > STORE_MAX_NAMESPACE)
		return err_set(e, ERR_INVALID, "a target's namespace must be 1 to %d characters",
		    STORE_MAX_NAMESPACE);
	if (name == NULL || name[0] == '\0' || strlen(name) > STORE_MAX_OBJECT_NAME)
		return err_set(e, ERR_INVALID, "a target's name must be 1 to %d characters",
		    STORE_MAX_OBJECT_NAME);
	if (kind == NULL || kind[0] == '\0' || (len = strlen(kind)) > STORE_MAX_KIND)
		return err_set(e, ERR_INVALID, "a target's kind must be 1 to %d characters", STORE_MAX_KIND);
	for (i = 0; i < len; i++) {
		char c = kind[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return err_set(e, ERR_INVALID, "target kind '%s' may only hold letters and digits", kind);
		kind_out[i] = c;
	}
	kind_out[len] = '\0';
	return 0;
}

static int
cluster_name_ok(const char *cluster)
{
	return cluster != NULL && cluster[0] != '\0' && strlen(cluster) <= STORE_MAX_NAME;
}

static size_t
page_size(size_t limit)
{
	return limit == 0 || limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : limit;
}

int
store_target_upsert(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, int64_t seen_at, int64_t *id, struct err *e)
{
	char k[STORE_MAX_KIND + 1];

	if (id != NULL)
		*id = 0;
	if (!cluster_name_ok(cluster))
		return err_set(e, ERR_NOT_FOUND, "no cluster named '%.*s'", STORE_MAX_NAME,
		    cluster != NULL ? cluster : "");
	if (address_check(ns, kind, name, k, e) < 0)
		return -1;
	return s->be->target_upsert(s, cluster, ns, k, name, seen_at, id, e);
}

int
store_target_get(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, struct store_target *out, struct err *e)
{
	char k[STORE_MAX_KIND + 1];

	memset(out, 0, sizeof(*out));
	if (!cluster_name_ok(cluster) || address_check(ns, kind, name, k, NULL) < 0)
		return err_set(e, ERR_NOT_FOUND, "no such target");
	return s->be->target_get(s, cluster, ns, k, name, out, e);
}

int
store_target_get_by_id(struct store *s, int64_t id, struct store_target *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	return s->be->target_get_by_id(s, id, out, e);
}

int
store_target_list(struct store *s, const char *cluster, struct store_target **items, size_t *n,
    struct err *e)
{
	*items = NULL;
	*n = 0;
	if (cluster != NULL && !cluster_name_ok(cluster))
		return err_set(e, ERR_NOT_FOUND, "no cluster named '%.*s'", STORE_MAX_NAME, cluster);
	return s->be->target_list(s, cluster, items, n, e);
}

int
store_target_mark_gone(struct store *s, const char *cluster, int64_t discovered_at, struct err *e)
{
	if (!cluster_name_ok(cluster))
		return err_set(e, ERR_NOT_FOUND, "no cluster named '%.*s'", STORE_MAX_NAME,
		    cluster != NULL ? cluster : "");
	return s->be->target_mark_gone(s, cluster, discovered_at, e);
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
store_snapshot_record(struct store *s, int64_t target_id, const char *hash, const char *config_json,
    size_t config_len, const char *evidence_json, size_t evidence_len, int64_t taken_at,
    int64_t *snapshot_id, int *changed, struct err *e)
{
	int64_t sid = 0;
	int ch = 0;

	if (snapshot_id != NULL)
		*snapshot_id = 0;
	if (changed != NULL)
		*changed = 0;
	if (!hash_ok(hash))
		return err_set(e, ERR_INVALID, "a snapshot hash must be 64 lowercase hex characters");
	if (config_json == NULL || config_len == 0)
		return err_set(e, ERR_INVALID, "a snapshot needs a configuration document");
	if (config_len > DOC_MAX_BYTES)
		return err_set(e, ERR_TOO_LARGE, "a snapshot document is larger than %d bytes", DOC_MAX_BYTES);
	if (evidence_json == NULL) {
		evidence_json = "{}";
		evidence_len = 2;
	}
	if (evidence_len > STORE_MAX_EVIDENCE_BYTES)
		return err_set(e, ERR_TOO_LARGE, "a snapshot's evidence is larger than %d bytes",
		    STORE_MAX_EVIDENCE_BYTES);
	if (s->be->snapshot_record(s, target_id, hash, config_json, config_len, evidence_json,
	    evidence_len, taken_at, &sid, &ch, e) < 0)
		return -1;
	if (snapshot_id != NULL)
		*snapshot_id = sid;
	if (changed != NULL)
		*changed = ch;
	return 0;
}

int
store_snapshot_get(struct store *s, int64_t id, struct store_snapshot *meta, char **config_json,
    struct err *e)
{
	struct store_snapshot scratch;

	/* meta is optional: the backend always fills a struct. */
	if (meta == NULL)
		meta = &scratch;
	memset(meta, 0, sizeof(*meta));
	if (config_json != NULL)
		*config_json = NULL;
	return s->be->snapshot_get(s, id, meta, config_json, e);
}

int
store_snapshot_list(struct store *s, int64_t target_id, int64_t before_id, size_t limit,
    struct store_snapshot **items, size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->snapshot_list(s, target_id, before_id, page_size(limit), items, n, e);
}

int
store_evidence_latest(struct store *s, int64_t target_id, char **evidence_json, int64_t *taken_at,
    struct err *e)
{
	*evidence_json = NULL;
	if (taken_at != NULL)
		*taken_at = 0;
	return s->be->evidence_latest(s, target_id, evidence_json, taken_at, e);
}

int
store_evidence_before(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t at,
    struct store_evidence *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	return s->be->evidence_before(s, target_id, snapshot_id, at, out, e);
}

int
store_evidence_range(struct store *s, int64_t target_id, int64_t since, int64_t until, size_t limit,
    struct store_evidence **items, size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->evidence_range(s, target_id, since, until, page_size(limit), items, n, e);
}

int
store_evidence_figures(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t since, int64_t until,
    size_t limit, struct store_evidence **items, size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->evidence_figures(s, target_id, snapshot_id, since, until, page_size(limit), items, n, e);
}

void
store_evidence_free(struct store_evidence *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		free(items[i].json);
	free(items);
}

int
store_prune(struct store *s, int64_t older_than, int64_t *removed, struct err *e)
{
	int64_t r = 0;

	if (removed != NULL)
		*removed = 0;
	if (s->be->prune(s, older_than, &r, e) < 0)
		return -1;
	if (removed != NULL)
		*removed = r;
	return 0;
}
