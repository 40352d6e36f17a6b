/*
 * store_cluster.c - registered clusters, backend-neutral: the checks every
 * backend relies on, and releasing a struct store_cluster. The backends keep
 * the rows (store_sqlite_cluster.c).
 *
 * Credentials reach the store sealed (seal.h); the store never opens them and
 * never puts them in a message. Freed blobs are wiped anyway, so a heap dump
 * holds as little of them as possible.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

/* A DNS-1123 label: [a-z0-9] and inner '-', 1 to STORE_MAX_NAME chars. */
static int
name_check(const char *name, struct err *e)
{
	size_t len, i;

	if (name == NULL || name[0] == '\0')
		return err_set(e, ERR_INVALID, "a cluster needs a name");
	len = strlen(name);
	if (len > STORE_MAX_NAME)
		return err_set(e, ERR_INVALID, "cluster name is longer than %d characters", STORE_MAX_NAME);
	for (i = 0; i < len; i++) {
		char c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (c == '-' && i > 0 && i < len - 1)
			continue;
		return err_set(e, ERR_INVALID,
		    "cluster name '%.*s' must be a DNS label: a-z, 0-9 and inner '-'", STORE_MAX_NAME, name);
	}
	return 0;
}

static int
auth_kind_known(const char *kind)
{
	static const char *const kinds[] = { "token", "token_file", "client_cert", "in_cluster" };
	size_t i;

	if (kind == NULL)
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	}
	return 0;
}

/* What every write of a cluster must hold; the backend stores NULL
 * namespaces_json as "[]" and NULL label_selector as "". */
static int
cluster_check(const struct store_cluster *c, struct err *e)
{
	if (name_check(c->name, e) < 0)
		return -1;
	if (c->server == NULL || c->server[0] == '\0')
		return err_set(e, ERR_INVALID, "cluster '%s' needs an API server URL", c->name);
	if (!auth_kind_known(c->auth_kind))
		return err_set(e, ERR_INVALID,
		    "cluster '%s' has an unknown auth kind (token, token_file, client_cert or in_cluster)",
		    c->name);
	if ((c->sealed_auth == NULL) != (c->sealed_auth_len == 0))
		return err_set(e, ERR_INTERNAL, "cluster '%s': sealed auth pointer and length disagree", c->name);
	if ((c->sealed_prometheus_token == NULL) != (c->sealed_prometheus_token_len == 0))
		return err_set(e, ERR_INTERNAL, "cluster '%s': sealed Prometheus token pointer and length disagree",
		    c->name);
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
store_cluster_release(struct store_cluster *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->ca_pem);
	free(c->namespaces_json);
	free(c->label_selector);
	free(c->auth_kind);
	wipe_free(c->sealed_auth, c->sealed_auth_len);
	free(c->prometheus_url);
	wipe_free(c->sealed_prometheus_token, c->sealed_prometheus_token_len);
	free(c->last_error);
	free(c->server_version);
	memset(c, 0, sizeof(*c));
}

int
store_cluster_create(struct store *s, struct store_cluster *c, struct err *e)
{
	if (cluster_check(c, e) < 0)
		return -1;
	c->created_at = store_now();
	c->updated_at = c->created_at;
	return s->be->cluster_insert(s, c, e);
}

int
store_cluster_update(struct store *s, const struct store_cluster *c, struct err *e)
{
	if (cluster_check(c, e) < 0)
		return -1;
	return s->be->cluster_update(s, c, store_now(), e);
}

int
store_cluster_get(struct store *s, const char *name, struct store_cluster *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (name_check(name, e) < 0) {
		if (e != NULL)
			e->code = ERR_NOT_FOUND;
		return -1;
	}
	return s->be->cluster_get(s, name, out, e);
}

int
store_cluster_list(struct store *s, struct store_cluster **items, size_t *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	return s->be->cluster_list(s, items, n, e);
}

int
store_cluster_delete(struct store *s, const char *name, struct err *e)
{
	if (name_check(name, e) < 0) {
		if (e != NULL)
			e->code = ERR_NOT_FOUND;
		return -1;
	}
	return s->be->cluster_delete(s, name, e);
}

int
store_cluster_health(struct store *s, const char *name, int64_t pull_at, int ok,
    const char *error, int64_t duration_ms, const char *server_version, struct err *e)
{
	if (name_check(name, e) < 0) {
		if (e != NULL)
			e->code = ERR_NOT_FOUND;
		return -1;
	}
	if (!ok && (error == NULL || error[0] == '\0'))
		error = "the pull failed for an unknown reason";
	return s->be->cluster_health(s, name, pull_at, ok != 0, ok ? NULL : error,
	    duration_ms < 0 ? 0 : duration_ms, server_version, e);
}
