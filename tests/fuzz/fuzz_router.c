/*
 * fuzz_router.c - libFuzzer target for what the HTTP layer does to a request
 * before a handler runs: the path decoder (http_path_decode), the route
 * table of server/http/routes.c (http_routes_find), the dashboard file name
 * (http_static_path), query-string parameters (api_query_get, api_query_int),
 * the X-Request-Id check and the JSON body depth check. No server runs: these
 * are the pure functions server.c calls (server/http/request.c, api/query.c).
 *
 * Input lines: 1st the method (its first byte picks GET, HEAD, POST, PUT,
 * PATCH, DELETE, OPTIONS, or the rest of the line), 2nd the request target
 * ("/path?query"), 3rd an X-Request-Id, the rest a JSON body. Properties: a
 * decoded path has no "." or ".." segment; a route found matches its pattern,
 * takes the method, and its parameters are its {names} with non-empty values
 * free of "/"; a refused method lists the allowed ones; a dashboard file name
 * is relative, with no "." or ".." segment nor backslash; a query value is
 * at most its buffer; a body passing the depth check parses (if it does) to a
 * value no deeper than the limit.
 *
 * The handlers are never called, so the build points every handler symbol
 * routes.o needs at one function that aborts (a link shim, found with nm):
 *
 *   CF="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver -Iapi -I."
 *   clang $CF -c server/http/routes.c -o routes.o
 *   shim=$(nm -u routes.o | awk '$2 ~ /^(api_|http_metrics_get$|store_)/ \
 *       { printf " -Wl,--defsym=%s=fuzz_router_no_handler", $2 }')
 *   clang $CF tests/fuzz/fuzz_router.c routes.o server/http/request.c api/query.c api/api.c \
 *       server/util/buf.c server/util/err.c $shim -ljansson -o fuzz_router
 *   ./fuzz_router -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fuzz/seeds/fuzz_router
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "http/http.h"
#include "http/http_int.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_router_no_handler(void);

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

/* Query parameters the handlers read. */
static const char *const qnames[] = { "from", "to", "format", "limit", "offset", "since", "until",
	"cluster", "namespace", "kind", "target", "window", "before", "after", "q", "selector" };

void
fuzz_router_no_handler(void)
{
	fprintf(stderr, "fuzz_router: a handler was called\n");
	abort();
}

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_router: %s\n", what);
		abort();
	}
}

static void
no_dot_segments(const char *p, const char *what)
{
	const char *seg = p;

	for (;;) {
		size_t n;

		if (*seg == '/')
			seg++;
		n = strcspn(seg, "/");
		check(!((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')), what);
		if (seg[n] == '\0')
			break;
		seg += n;
	}
}

static size_t
count_params(const char *pattern)
{
	size_t n = 0;

	for (; *pattern != '\0'; pattern++)
		if (*pattern == '{')
			n++;
	return n;
}

static void
route(const char *method, const char *path)
{
	size_t plen = strlen(path), idx = 0, i;
	size_t scratchsz = 2 * plen + HTTP_ROUTE_SCRATCH_EXTRA;
	char *scratch = malloc(scratchsz), allow[128];
	struct api_req rq;
	enum route_result r;

	if (scratch == NULL)
		return;
	memset(&rq, 0, sizeof(rq));
	r = http_routes_find(method, path, &idx, &rq, scratch, scratchsz, allow, sizeof(allow));
	if (r == ROUTE_FOUND) {
		const char *m = http_routes[idx].method, *pat = http_routes[idx].pattern;

		check(idx < http_nroutes, "route index in range");
		check(strcmp(m, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(m, "GET") == 0),
		    "the route takes the method");
		check(http_route_matches(idx, path) == 1, "the route matches its path");
		check(rq.nparams == count_params(pat), "one parameter per {name}");
		for (i = 0; i < rq.nparams; i++) {
			char braced[128];

			snprintf(braced, sizeof(braced), "{%s}", rq.params[i].name);
			check(strstr(pat, braced) != NULL, "a parameter is named by the pattern");
			check(rq.params[i].value[0] != '\0' && strchr(rq.params[i].value, '/') == NULL,
			    "a parameter is one non-empty segment");
			check(api_param(&rq, rq.params[i].name) != NULL, "api_param finds it");
		}
		(void)http_route_label(idx);
	} else if (r == ROUTE_BAD_METHOD) {
		check(allow[0] != '\0', "a refused method lists the allowed ones");
	} else {
		check(r == ROUTE_NONE, "a known result");
	}
	free(scratch);
}

static void
query(const char *q)
{
	struct api_req rq;
	char out[256], name[64];
	const char *p;
	size_t i;

	memset(&rq, 0, sizeof(rq));
	rq.query = q;
	for (i = 0; i < sizeof(qnames) / sizeof(qnames[0]); i++) {
		struct err e = ERR_INIT;
		long long v;
		int r = api_query_get(&rq, qnames[i], out, sizeof(out), &e);

		check(r >= -1 && r <= 1, "api_query_get result");
		if (r == 1)
			check(strlen(out) < sizeof(out), "a query value fits");
		else if (r < 0)
			check(e.msg[0] != '\0', "a query error has a message");
		e = (struct err)ERR_INIT;
		r = api_query_int(&rq, qnames[i], -1000, 1000000, &v, &e);
		if (r == 1)
			check(v >= -1000 && v <= 1000000, "a query number in range");
	}
	/* Each name the query itself holds. */
	for (p = q; *p != '\0';) {
		size_t n = strcspn(p, "=&");
		struct err e = ERR_INIT;

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			(void)api_query_get(&rq, name, out, sizeof(out), &e);
		}
		p += strcspn(p, "&");
		if (*p == '&')
			p++;
	}
}

static int
depth(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int d = 0, c;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if ((c = depth(x)) > d)
				d = c;
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if ((c = depth(x)) > d)
				d = c;
		return d + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[3] = { NULL, NULL, NULL }, *p, *body = NULL;
	const char *method, *q;
	char *raw, *path, *rel;
	size_t i, n;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (i = 0; i < 3 && p != NULL; i++) {
		lines[i] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	body = p;
	if (lines[1] == NULL)
		goto out;
	method = lines[0][0] != '\0' && (unsigned char)lines[0][0] < 0x80 ?
	    methods[(unsigned char)lines[0][0] % (sizeof(methods) / sizeof(methods[0]))] : lines[0] + 1;
	if (lines[0][0] == '\0')
		method = "";

	/* As on_request: the target split at '?', the path decoded, then routed. */
	raw = lines[1];
	q = strchr(raw, '?');
	n = q != NULL ? (size_t)(q - raw) : strlen(raw);
	path = malloc(n + 1);
	rel = malloc(n + 16);
	if (path != NULL && rel != NULL) {
		char *rawpath = strndup(raw, n);

		if (rawpath != NULL) {
			int rc = http_path_decode(rawpath, path, n + 1);

			check(rc == 0 || rc == -1 || rc == -2, "http_path_decode result");
			if (rc == 0) {
				check(strlen(path) <= n, "decoding never lengthens");
				no_dot_segments(path, "a decoded path has no . or .. segment");
				route(method, path);
				if (http_static_path(path, rel, n + 16) == 0) {
					check(rel[0] != '/' && strchr(rel, '\\') == NULL, "a relative file name");
					no_dot_segments(rel, "a file name has no . or .. segment");
				}
			}
			free(rawpath);
		}
	}
	free(path);
	free(rel);
	if (q != NULL)
		query(q + 1);
	if (lines[2] != NULL && http_request_id_sane(lines[2]))
		check(strlen(lines[2]) <= HTTP_MAX_REQUEST_ID, "a kept request id is short");
	if (body != NULL && http_json_depth_ok(body, strlen(body), HTTP_MAX_JSON_DEPTH)) {
		json_t *v = json_loads(body, JSON_REJECT_DUPLICATES, NULL);

		if (v != NULL)
			check(depth(v) <= HTTP_MAX_JSON_DEPTH, "a body passing the depth check is that shallow");
		json_decref(v);
	}
out:
	free(text);
	return 0;
}
