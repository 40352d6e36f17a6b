/*
 * routes.c - the route table: every method and path skewd answers, the
 * handler, and the least role it needs. openapi.yaml describes exactly these
 * routes; tests/unit/test_routes.c fails when the two differ.
 *
 * A pattern is a sequence of "/"-separated segments; a segment "{name}"
 * matches one non-empty path segment and becomes a path parameter.
 */
#include "http/http.h"
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "store/store.h"
#include "util/banned.h"

const struct route http_routes[] = {
	{ "GET", "/healthz", api_health_live, ROLE_NONE, 0 },
	{ "GET", "/readyz", api_health_ready, ROLE_NONE, 0 },
	{ "GET", "/metrics", http_metrics_get, ROLE_NONE, 0 },
	{ "GET", "/api/v1/version", api_version_get, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/whoami", api_whoami_get, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/tokens", api_tokens_list, ROLE_ADMIN, 0 },
	{ "POST", "/api/v1/tokens", api_tokens_create, ROLE_ADMIN, ROUTE_JSON_BODY },
	{ "DELETE", "/api/v1/tokens/{name}", api_tokens_revoke, ROLE_ADMIN, 0 },
	{ "GET", "/api/v1/clusters", api_clusters_list, ROLE_VIEWER, 0 },
	{ "POST", "/api/v1/clusters", api_clusters_create, ROLE_ADMIN, ROUTE_JSON_BODY },
	{ "POST", "/api/v1/clusters/import", api_clusters_import, ROLE_ADMIN, ROUTE_JSON_BODY },
	{ "GET", "/api/v1/clusters/{cluster}", api_clusters_get, ROLE_VIEWER, 0 },
	{ "PATCH", "/api/v1/clusters/{cluster}", api_clusters_update, ROLE_ADMIN, ROUTE_JSON_BODY },
	{ "DELETE", "/api/v1/clusters/{cluster}", api_clusters_delete, ROLE_ADMIN, 0 },
	{ "POST", "/api/v1/clusters/{cluster}/collect", api_clusters_collect, ROLE_EDITOR, 0 },
	{ "GET", "/api/v1/targets", api_targets_list, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}", api_targets_get, ROLE_VIEWER, 0 },
	{ "POST", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/collect", api_targets_collect,
	  ROLE_EDITOR, 0 },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/snapshots", api_snapshots_list,
	  ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/metrics", api_metrics_get,
	  ROLE_VIEWER, 0 },
	{ "POST", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/nvidia-smi", api_metrics_nvsmi,
	  ROLE_EDITOR, ROUTE_JSON_BODY },
	{ "GET", "/api/v1/snapshots/{id}", api_snapshots_get, ROLE_VIEWER, 0 },
	{ "PUT", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/baseline", api_baselines_put,
	  ROLE_EDITOR, ROUTE_JSON_BODY },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/baseline", api_baselines_get,
	  ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/baselines", api_baselines_list,
	  ROLE_VIEWER, 0 },
	{ "POST", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/baseline/import", api_baselines_import,
	  ROLE_EDITOR, ROUTE_JSON_BODY },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/diff", api_diffs_target, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/report", api_reports_get, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/diff", api_diffs_get, ROLE_VIEWER, 0 },
	{ "POST", "/api/v1/targets/{cluster}/{namespace}/{kind}/{name}/bundles", api_bundles_create,
	  ROLE_EDITOR, ROUTE_JSON_BODY_OPTIONAL },
	{ "GET", "/api/v1/bundles", api_bundles_list, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/bundles/{id}", api_bundles_get, ROLE_VIEWER, 0 },
	{ "GET", "/api/v1/bundles/{id}/download", api_bundles_download, ROLE_VIEWER, 0 },
	{ "DELETE", "/api/v1/bundles/{id}", api_bundles_delete, ROLE_ADMIN, 0 },
	{ "GET", "/b/{id}", api_bundles_short, ROLE_NONE, 0 },
	{ "GET", "/api/v1/webhooks", api_webhooks_list, ROLE_ADMIN, 0 },
	{ "POST", "/api/v1/webhooks", api_webhooks_create, ROLE_ADMIN, ROUTE_JSON_BODY },
	{ "GET", "/api/v1/webhooks/{name}", api_webhooks_get, ROLE_ADMIN, 0 },
	{ "DELETE", "/api/v1/webhooks/{name}", api_webhooks_delete, ROLE_ADMIN, 0 },
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);

size_t
http_route_count(void)
{
	return http_nroutes;
}

int
http_route_get(size_t i, const char **method, const char **pattern)
{
	if (i >= http_nroutes)
		return -1;
	*method = http_routes[i].method;
	*pattern = http_routes[i].pattern;
	return 0;
}

const char *
http_route_role(size_t i)
{
	if (i >= http_nroutes)
		return "none";
	return store_role_name(http_routes[i].min_role);
}

const char *
http_route_label(size_t slot)
{
	if (slot < http_nroutes)
		return http_routes[slot].pattern;
	if (slot == HTTP_ROUTE_STATIC)
		return "static";
	return "unmatched";
}

/*
 * Matches `path` against `pat`. When `rq` is not NULL, copies each
 * parameter name and value into `scratch` and records them in rq.
 * Returns 1 on a match, 0 otherwise (also when scratch is too small).
 */
static int
match(const char *pat, const char *path, struct api_req *rq, char *scratch, size_t scratchsz)
{
	size_t used = 0, np = 0;

	while (*pat != '\0' && *path != '\0') {
		if (*pat != '/' || *path != '/')
			return 0;
		pat++;
		path++;
		if (*pat == '{') {
			const char *end = strchr(pat, '}');
			size_t vlen = strcspn(path, "/"), nlen;

			if (end == NULL || vlen == 0 || np >= HTTP_MAX_PATH_SEGMENTS)
				return 0;
			nlen = (size_t)(end - pat - 1);
			if (rq != NULL) {
				if (used + nlen + vlen + 2 > scratchsz)
					return 0;
				memcpy(scratch + used, pat + 1, nlen);
				scratch[used + nlen] = '\0';
				rq->params[np].name = scratch + used;
				used += nlen + 1;
				memcpy(scratch + used, path, vlen);
				scratch[used + vlen] = '\0';
				rq->params[np].value = scratch + used;
				used += vlen + 1;
			}
			np++;
			pat = end + 1;
			path += vlen;
		} else {
			size_t plen = strcspn(pat, "/");

			if (strncmp(pat, path, plen) != 0 || (path[plen] != '/' && path[plen] != '\0'))
				return 0;
			pat += plen;
			path += plen;
		}
	}
	if (*pat != '\0' || *path != '\0')
		return 0;
	if (rq != NULL)
		rq->nparams = np;
	return 1;
}

int
http_route_matches(size_t i, const char *path)
{
	if (i >= http_nroutes)
		return 0;
	return match(http_routes[i].pattern, path, NULL, NULL, 0);
}

enum route_result
http_routes_find(const char *method, const char *path, size_t *idx,
    struct api_req *rq, char *scratch, size_t scratchsz, char *allow, size_t allowsz)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t i, alen = 0;
	int path_known = 0;

	if (allowsz > 0)
		allow[0] = '\0';
	for (i = 0; i < http_nroutes; i++) {
		if (!match(http_routes[i].pattern, path, NULL, NULL, 0))
			continue;
		path_known = 1;
		if (strcmp(http_routes[i].method, want) == 0) {
			if (!match(http_routes[i].pattern, path, rq, scratch, scratchsz))
				return ROUTE_NONE;
			*idx = i;
			return ROUTE_FOUND;
		}
		if (alen < allowsz) {
			int n = snprintf(allow + alen, allowsz - alen, "%s%s%s",
			    alen > 0 ? ", " : "", http_routes[i].method,
			    strcmp(http_routes[i].method, "GET") == 0 ? ", HEAD" : "");
			if (n > 0)
				alen += (size_t)n;
		}
	}
	return path_known ? ROUTE_BAD_METHOD : ROUTE_NONE;
}
