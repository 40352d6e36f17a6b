/*
 * http_int.h - what the files of server/http/ share. Not for other modules.
 */
#ifndef SKEWD_HTTP_HTTP_INT_H
#define SKEWD_HTTP_HTTP_INT_H

#include <stddef.h>

#include "api/api.h"
#include "store/store.h"
#include "util/err.h"

/* Route flags. */
#define ROUTE_JSON_BODY 0x1u    /* the handler takes a JSON body (rq->body) */
#define ROUTE_JSON_BODY_OPTIONAL 0x2u /* a JSON body may be sent; rq->body is NULL when it is empty */

typedef int (*http_handler_fn)(struct api_req *rq, struct api_resp *rs, struct err *e);

struct route {
	const char *method;
	const char *pattern;        /* literal segments and {param} segments */
	http_handler_fn fn;
	enum store_role min_role;   /* ROLE_NONE: no authentication */
	unsigned flags;
};

/* routes.c */
extern const struct route http_routes[];
extern const size_t http_nroutes;

/* Pseudo-routes for metrics and the access log, numbered after the table. */
#define HTTP_ROUTE_STATIC    (http_nroutes)
#define HTTP_ROUTE_UNMATCHED (http_nroutes + 1)
#define HTTP_ROUTE_SLOTS     (http_nroutes + 2)

#define HTTP_ROUTE_SCRATCH_EXTRA 256

enum route_result { ROUTE_FOUND = 0, ROUTE_NONE, ROUTE_BAD_METHOD };

/* Finds the route for method + decoded path. On ROUTE_FOUND sets *idx and the
 * path parameters in rq (names and values are copied into `scratch`, which
 * should hold 2 * strlen(path) + HTTP_ROUTE_SCRATCH_EXTRA bytes). On ROUTE_BAD_METHOD fills `allow` with the
 * methods the path accepts ("GET, POST"). HEAD matches GET routes. */
enum route_result http_routes_find(const char *method, const char *path, size_t *idx,
    struct api_req *rq, char *scratch, size_t scratchsz, char *allow, size_t allowsz);

/* The label of a route slot: its pattern, "static" or "unmatched". */
const char *http_route_label(size_t slot);

/* request.c: 1 when a client's X-Request-Id is kept as it is: 1 to
 * HTTP_MAX_REQUEST_ID bytes of letters, digits and "-_.:". */
int http_request_id_sane(const char *s);
/* request.c: 1 when JSON text nests at most `max` levels: brackets outside
 * strings, counted without parsing. jansson parses recursively (up to 2048
 * levels) and a handler's stack is bounded, so a deeper body is refused first. */
int http_json_depth_ok(const char *p, size_t n, int max);

/* metrics.c: the metrics handler has the handler shape (GET /metrics). */
int http_metrics_get(struct api_req *rq, struct api_resp *rs, struct err *e);

/* errors.c: the one table from err_code to HTTP status. */
int http_status_of(enum err_code code);
/* Machine name for a status CivetWeb produced itself (405, 408, 431 ...). */
const char *http_status_code_name(int status);
/* The JSON error body {"error":{"code","message"}}; caller frees with free(). */
char *http_error_body(const char *code, const char *message, size_t *len);

/* metrics.c: process-wide, thread-safe. */
void http_metrics_record(size_t slot, const char *method, int status, double seconds);
/* Appends the Prometheus text exposition to out. */
int http_metrics_render(struct buf *out, struct err *e);

/* auth.c: decides who is asking. `authz` is the Authorization header or
 * NULL. Returns 0 with *who set, or -1 with e set: ERR_UNAUTHORIZED (no,
 * malformed or unknown token; *invalid_token says whether one was given),
 * ERR_FORBIDDEN (the role is too low), or a store failure. */
int http_auth(struct store *st, int anonymous_read, const char *method, const char *authz,
    enum store_role need, struct api_principal *who, int *invalid_token, struct err *e);

/* static.c: reads web_dir/rel into out (at most HTTP_MAX_STATIC_BYTES).
 * `web_dir` is a canonical absolute path. Returns 0 with *ctype set, or -1
 * with ERR_NOT_FOUND / ERR_TOO_LARGE / ERR_IO. */
int http_static_read(const char *web_dir, const char *rel, struct buf *out,
    const char **ctype, struct err *e);
/* static.c: the dashboard file `rel` compiled into the binary. Returns 0 with
 * *data (static, not to be freed), *len, *ctype and a quoted ETag in etag, or
 * -1 when there is no such file. */
int http_static_embedded(const char *rel, const unsigned char **data, size_t *len,
    const char **ctype, char *etag, size_t etagsz);

/* runner.c: runs fn(arg) on this worker's companion thread, which has an
 * HTTP_HANDLER_STACK_BYTES stack (CivetWeb's own workers have 100 KiB), and
 * waits for it. Returns 0, or -1 when no thread could be started (fn not run). */
int http_runner_call(void (*fn)(void *), void *arg);

#endif
