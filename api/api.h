/*
 * api.h - the REST handlers of skewd, one file per resource.
 *
 * Every handler has one shape:
 *
 *     int api_<resource>_<verb>(struct api_req *rq, struct api_resp *rs, struct err *e);
 *
 * It reads the request from `rq`, calls the modules that do the work (store,
 * diff, ...) and fills `rs` with a status and a body. It returns 0, or -1
 * with `e` set; the HTTP layer (server/http/) then maps e->code to a status
 * and the JSON error body {"error":{"code":"...","message":"..."}}.
 * Handlers never touch the connection: server/http/ reads the request,
 * checks authentication and the role the route needs, and sends the
 * response once. Nothing here includes civetweb.h.
 *
 * Which handler serves which method and path, and the least role it needs,
 * is the route table in server/http/routes.c; openapi.yaml describes the
 * same routes (tests/unit/test_routes.c keeps the two equal).
 */
#ifndef SKEWD_API_API_H
#define SKEWD_API_API_H

#include <stddef.h>
#include <jansson.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/limits.h"

struct collect;
struct config;
struct err;
struct seal;

/* What the handlers reach, set up once by `skewd serve` (or `skewd demo`) and
 * borrowed by every request. */
struct api_services {
	const struct config *cfg;
	struct store *store;
	struct seal *seal;          /* credential sealing and HMAC keys (seal.h); may be NULL in tests */
	struct collect *collect;    /* the collector (collect.h); NULL when not running */
};

/* Who is asking: a verified API token, or the anonymous reader when the
 * config allows anonymous reads. */
struct api_principal {
	char name[TOKEN_MAX_NAME + 1];  /* token name; "anonymous" for the anonymous reader */
	enum store_role role;
	int anonymous;                  /* 1 when no token was presented */
};

/* A `{name}` segment of the route pattern and the path segment it matched
 * (URL-decoded). Both borrowed for the duration of the request. */
struct api_param {
	const char *name;
	const char *value;
};

/* A request as handlers see it. Everything is borrowed and valid only for
 * the duration of the handler call. */
struct api_req {
	const char *method;             /* "GET", "POST", ... */
	const char *path;               /* URL-decoded path, without the query */
	const char *route;              /* the route pattern, e.g. "/api/v1/tokens/{name}" */
	const char *query;              /* raw query string without '?', or NULL */
	const char *request_id;         /* the X-Request-Id echoed in the response */
	struct api_param params[HTTP_MAX_PATH_SEGMENTS];
	size_t nparams;
	json_t *body;                   /* the parsed JSON body for routes that take one, else NULL */
	const struct api_principal *who;
	struct store *store;            /* shared; see store.h for the threading rule */
	const struct config *cfg;
	struct seal *seal;              /* see struct api_services */
	struct collect *collect;        /* see struct api_services */
};

/* A response as handlers build it. Use the api_resp_* helpers; the HTTP
 * layer initialises it, sends it and releases it. */
struct api_resp {
	int status;                     /* 0 means 200 */
	json_t *json;                   /* owned: a JSON body, or NULL */
	struct buf text;                /* a non-JSON body (e.g. Prometheus text) when json is NULL */
	const char *content_type;       /* static string; NULL = application/json */
	char location[256];             /* a Location header when not empty */
	/* A file body (api_resp_file): when file_set, the HTTP layer streams the
	 * open file file_fd (owned; it closes it) instead of json/text. */
	int file_set;
	int file_fd;
	char filename[96];              /* Content-Disposition attachment name when not empty */
};

/* The value of path parameter `name`, or NULL when the route has none. Borrowed. */
const char *api_param(const struct api_req *rq, const char *name);

/* Sets the status and a JSON body; takes ownership of `v` (also on failure).
 * Returns 0, or -1 with e set when v is NULL (a failed jansson constructor). */
int api_resp_json(struct api_resp *rs, int status, json_t *v, struct err *e);

/* Sets the status and a text body copied from s with the given content type
 * (a static string). Returns 0, or -1 with e set. */
int api_resp_text(struct api_resp *rs, int status, const char *content_type,
    const char *s, size_t n, struct err *e);

/* Formats unix seconds as RFC 3339 UTC ("2026-01-02T03:04:05Z") into out. */
void api_time_rfc3339(long long secs, char out[32]);

/* Health (api/health.c): no authentication. */
int api_health_live(struct api_req *rq, struct api_resp *rs, struct err *e);   /* GET /healthz */
int api_health_ready(struct api_req *rq, struct api_resp *rs, struct err *e);  /* GET /readyz */

/* Version (api/version.c). */
int api_version_get(struct api_req *rq, struct api_resp *rs, struct err *e);   /* GET /api/v1/version */

/* Who am I (api/whoami.c). */
int api_whoami_get(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET /api/v1/whoami */

/* API tokens (api/tokens.c): admin only. */
int api_tokens_list(struct api_req *rq, struct api_resp *rs, struct err *e);   /* GET /api/v1/tokens */
int api_tokens_create(struct api_req *rq, struct api_resp *rs, struct err *e); /* POST /api/v1/tokens */
int api_tokens_revoke(struct api_req *rq, struct api_resp *rs, struct err *e); /* DELETE /api/v1/tokens/{name} */

/* Clusters (api/clusters.c). Registering and changing a cluster is admin only. */
int api_clusters_list(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET /api/v1/clusters */
int api_clusters_create(struct api_req *rq, struct api_resp *rs, struct err *e);  /* POST /api/v1/clusters */
int api_clusters_import(struct api_req *rq, struct api_resp *rs, struct err *e);  /* POST /api/v1/clusters/import */
int api_clusters_get(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET /api/v1/clusters/{cluster} */
int api_clusters_update(struct api_req *rq, struct api_resp *rs, struct err *e);  /* PATCH /api/v1/clusters/{cluster} */
int api_clusters_delete(struct api_req *rq, struct api_resp *rs, struct err *e);  /* DELETE /api/v1/clusters/{cluster} */
int api_clusters_collect(struct api_req *rq, struct api_resp *rs, struct err *e); /* POST /api/v1/clusters/{cluster}/collect */

/* Registers a cluster from a body shaped as POST /api/v1/clusters takes it:
 * checks it, seals its credentials and stores it. The one path by which a
 * cluster is registered (the API, `skewd demo` and the in-cluster start all use
 * it). `seal` may be NULL only for a body without credentials (which is
 * refused). *out (new reference) gets the public view of the cluster, which
 * never holds a credential. Returns 0, or -1 with e set (ERR_INVALID,
 * ERR_CONFLICT when the name is taken, ...). */
int api_cluster_register(struct store *st, const struct seal *seal, const struct config *cfg,
    const json_t *body, json_t **out, struct err *e);

/* Checks a DNS-1123 label (cluster and namespace names); `what` names it in the
 * error. Returns 0, or -1 with ERR_INVALID. */
int api_dns_label_check(const char *s, const char *what, struct err *e);

/* Targets (api/targets.c). */
int api_targets_list(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET /api/v1/targets */
int api_targets_get(struct api_req *rq, struct api_resp *rs, struct err *e);      /* GET /api/v1/targets/{cluster}/{namespace}/{kind}/{name} */
int api_targets_collect(struct api_req *rq, struct api_resp *rs, struct err *e);  /* POST .../{name}/collect */

/* Snapshots (api/snapshots.c). */
int api_snapshots_list(struct api_req *rq, struct api_resp *rs, struct err *e);   /* GET .../{name}/snapshots */
int api_snapshots_get(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET /api/v1/snapshots/{id} */

/* Figures over time and attached nvidia-smi output (api/metrics.c, docs/metrics.md). */
int api_metrics_get(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET .../{name}/metrics */
int api_metrics_nvsmi(struct api_req *rq, struct api_resp *rs, struct err *e);   /* POST .../{name}/nvidia-smi */

/* Shared by the target and snapshot handlers (api/targets.c). */

/* The decoded value of query parameter `name` into out. Returns 1 when present,
 * 0 when absent, -1 with ERR_INVALID for a malformed escape or a too long value. */
int api_query_get(const struct api_req *rq, const char *name, char *out, size_t outsz, struct err *e);
/* A number query parameter in [min, max]: 1 and *out when present, 0 when
 * absent (*out untouched), -1 with ERR_INVALID otherwise. */
int api_query_int(const struct api_req *rq, const char *name, long long min, long long max,
    long long *out, struct err *e);
/* "deployment", "statefulset" or "leaderworkerset"; else -1 with ERR_NOT_FOUND. */
int api_kind_check(const char *kind, struct err *e);
/* The target named by the {cluster}/{namespace}/{kind}/{name} path parameters. */
int api_target_from_path(struct api_req *rq, struct store_target *t, struct err *e);
/* The public view of a target (new reference, NULL when out of memory). */
json_t *api_target_json(const struct store_target *t);

/* Evidence bundles (api/bundles.c). Creating needs an editor, deleting an
 * admin; GET /b/{id} is public (the id is 128 random bits; docs/bundles.md). */
int api_bundles_create(struct api_req *rq, struct api_resp *rs, struct err *e);   /* POST .../{name}/bundles */
int api_bundles_list(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET /api/v1/bundles */
int api_bundles_get(struct api_req *rq, struct api_resp *rs, struct err *e);      /* GET /api/v1/bundles/{id} */
int api_bundles_download(struct api_req *rq, struct api_resp *rs, struct err *e); /* GET /api/v1/bundles/{id}/download */
int api_bundles_delete(struct api_req *rq, struct api_resp *rs, struct err *e);   /* DELETE /api/v1/bundles/{id} */
int api_bundles_short(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET /b/{id} */
/* Removes bundles older than cfg->bundle_retention_days (row first, then the
 * file); *removed (may be NULL) gets how many. Returns 0, or -1 with e set. */
int api_bundles_prune(struct store *st, const struct config *cfg, int64_t now, size_t *removed,
    struct err *e);
/* Removes what a crash can leave in data_dir/bundles: temporary files of
 * bundle_write() that were never renamed, and bundle files whose row was never
 * recorded (so their creation was never acknowledged). Other files are left
 * alone. For start-up only, before any bundle can be created. *removed (may be
 * NULL) gets how many. Returns 0, or -1 with e set. */
int api_bundles_sweep(struct store *st, const struct config *cfg, size_t *removed, struct err *e);
/* Sets a file body: opens `path` (a regular file, no symlink) for the HTTP layer
 * to stream with `content_type` (static) and, when `filename` is not NULL, a
 * Content-Disposition attachment. ERR_NOT_FOUND when the file is missing. */
int api_resp_file(struct api_resp *rs, int status, const char *path, const char *content_type,
    const char *filename, struct err *e);

/* Webhooks (api/webhooks.c): admin only. The URL is write-only. */
int api_webhooks_list(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET /api/v1/webhooks */
int api_webhooks_create(struct api_req *rq, struct api_resp *rs, struct err *e);  /* POST /api/v1/webhooks */
int api_webhooks_get(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET /api/v1/webhooks/{name} */
int api_webhooks_delete(struct api_req *rq, struct api_resp *rs, struct err *e);  /* DELETE /api/v1/webhooks/{name} */

/*
 * Baselines, diffs and reports (api/baselines.c, api/diffs.c, api/reports.c).
 * Setting and importing a baseline needs the editor role; reading, viewer.
 */
int api_baselines_put(struct api_req *rq, struct api_resp *rs, struct err *e);    /* PUT .../{name}/baseline */
int api_baselines_get(struct api_req *rq, struct api_resp *rs, struct err *e);    /* GET .../{name}/baseline */
int api_baselines_list(struct api_req *rq, struct api_resp *rs, struct err *e);   /* GET .../{name}/baselines */
int api_baselines_import(struct api_req *rq, struct api_resp *rs, struct err *e); /* POST .../{name}/baseline/import */
int api_diffs_target(struct api_req *rq, struct api_resp *rs, struct err *e);     /* GET .../{name}/diff */
int api_diffs_get(struct api_req *rq, struct api_resp *rs, struct err *e);        /* GET /api/v1/diff */
int api_reports_get(struct api_req *rq, struct api_resp *rs, struct err *e);      /* GET .../{name}/report */

/* GET /api/v1/targets?drift=true (called by api_targets_list): the targets of
 * `cluster` (NULL = all) whose latest snapshot differs from their baseline,
 * with counts by category and severity. */
int api_targets_drift(struct api_req *rq, const char *cluster, struct api_resp *rs, struct err *e);

/* Two snapshots compared: the skewd.diff/v1 document, the verdict and, when
 * asked, the normalised sides (for the patch format). All owned. */
struct api_diff_sides {
	json_t *diff;
	json_t *verdict;
	json_t *before, *after;         /* NULL unless asked for */
	struct store_snapshot from, to;
};
/* Installs the rules every diff and verdict of the service uses: the built-in diff
 * rules plus `diff_rules_file` (NULL = none), and the verdict rules of
 * `verdict_rules_file` (NULL = built-in). Call once at start-up, before any
 * request; without it the built-in rules load on first use. Returns 0, or -1
 * with e set naming the file, line or key at fault. */
int api_rules_configure(const char *diff_rules_file, const char *verdict_rules_file, struct err *e);
/* Compares snapshots from_id and to_id (labels name the sides). Returns 0, or
 * -1 with e set (ERR_NOT_FOUND for an unknown snapshot). */
int api_diff_snapshots(struct store *st, int64_t from_id, int64_t to_id, const char *from_label,
    const char *to_label, int want_sides, struct api_diff_sides *out, struct err *e);
/* Releases the members; NULL-safe. */
void api_diff_sides_release(struct api_diff_sides *d);
/* Reads the `from` (baseline | ID, default baseline) and `to` (latest | ID,
 * default latest) query parameters of a target's route into snapshot ids of
 * that target, with labels for people. */
int api_diff_resolve(struct api_req *rq, const struct store_target *t, int64_t *from_id, int64_t *to_id,
    char *from_label, char *to_label, size_t labelsz, struct err *e);
/* The dashboard page of a target ("/#/targets/..."; absolute under the
 * configured public_url). Returns 0, or -1 when out is too small. */
int api_target_link(const struct api_req *rq, const struct store_target *t, char *out, size_t outsz);

#endif
