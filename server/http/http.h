/*
 * http.h - the HTTP server of skewd: CivetWeb glue, the route table, auth,
 * the JSON error shape, metrics, the access log and the static dashboard.
 *
 * This is the only module that includes civetweb.h. It calls the handlers
 * in api/ and nothing calls back into it. One CivetWeb request handler
 * dispatches over the route table (routes.c); handlers never write to the
 * socket, this module sends each response once. Every 4xx/5xx answer has
 * the body {"error":{"code":"...","message":"..."}}.
 *
 * Threading: CivetWeb runs requests on cfg->http_threads worker threads.
 * The store is shared (see store.h for its rule); the metrics counters
 * are guarded by one mutex.
 */
#ifndef SKEWD_HTTP_HTTP_H
#define SKEWD_HTTP_HTTP_H

#include <stddef.h>

struct api_services;
struct err;
struct http_server;

/* Starts listening on svc->cfg->listen ("127.0.0.1:8080"; port 0 picks a free
 * port). `svc` and what it points to are borrowed and must outlive the server
 * (svc->cfg and svc->store are required). Returns 0 and *out, or -1 with e set
 * (ERR_INVALID for a bad option, ERR_IO when the port cannot be bound or the
 * dashboard folder is missing). */
int http_start(const struct api_services *svc, struct http_server **out, struct err *e);

/* Stops accepting, waits for running requests, frees the server. NULL-safe. */
void http_stop(struct http_server *h);

/* The base URL the server listens on, e.g. "http://127.0.0.1:41234". Borrowed. */
const char *http_url(const struct http_server *h);

/* The route table, for tests and docs: the number of routes, and the method
 * and path pattern ("/api/v1/tokens/{name}") of route i (static strings).
 * Returns 0, or -1 when i is out of range. */
size_t http_route_count(void);
int http_route_get(size_t i, const char **method, const char **pattern);

/* The least role route i needs: "none" (no token), "viewer", "editor" or
 * "admin" (static strings; "none" also when i is out of range). */
const char *http_route_role(size_t i);

/* Matches a decoded request path against the pattern of route i. Returns 1
 * on a match, 0 otherwise. Exposed for the unit tests. */
int http_route_matches(size_t i, const char *path);

/* Percent-decodes a request path into out (at least strlen(raw) + 1 bytes).
 * An encoded NUL, '/' or '\\' is refused, as is any "." or ".." segment, so
 * neither a route parameter nor a dashboard file name can climb out.
 * Returns 0, -1 for a malformed escape or a too small out (400), -2 for a
 * refused path (404). Exposed for the unit tests. */
int http_path_decode(const char *raw, char *out, size_t outsz);

/* Checks a URL-decoded path for the static dashboard and turns it into a
 * path relative to the web folder ("index.html" for "/"). Returns 0, or -1
 * when the path could escape the folder or is not a plain file name
 * (".." or "." segments, backslashes, '%', control bytes, empty segments).
 * Exposed for the unit tests. */
int http_static_path(const char *path, char *out, size_t outsz);

#endif
