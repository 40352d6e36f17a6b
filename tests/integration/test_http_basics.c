/*
 * test_http_basics.c - the real skewd serving HTTP: probes, metrics, the
 * JSON error shape for unknown routes and wrong methods, request ids, the
 * access log, the static dashboard and path traversal attempts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "testkit.h"
#include "util/banned.h"

static struct tk_server srv;
static char *admin;

static int
setup(void **state)
{
	(void)state;
	if (tk_start(&srv, NULL) < 0)
		return -1;
	admin = tk_token(&srv, "it-admin", "admin");
	return admin != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(admin);
	tk_cleanup(&srv);
	return 0;
}

/* Last: SIGTERM stops the server with exit code 0, and a sanitizer build of
 * it reported nothing. (cmocka does not fail a run on a teardown error, so
 * this is a test of its own.) */
static void
test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(tk_stop(&srv), 0);
}

static void
get(const char *path, const char *token, struct tk_resp *r)
{
	assert_int_equal(tk_request(&srv, "GET", path, token, NULL, NULL, 0, 0, r), 0);
}

/* Every 4xx/5xx body is {"error":{"code":"...","message":"..."}}. */
static void
assert_error_shape(const struct tk_resp *r, const char *code)
{
	json_t *err = json_object_get(r->json, "error");

	assert_non_null(err);
	assert_int_equal(json_object_size(r->json), 1);
	assert_int_equal(json_object_size(err), 2);
	assert_string_equal(json_string_value(json_object_get(err, "code")), code);
	assert_true(json_string_length(json_object_get(err, "message")) > 0);
}

static void
test_healthz(void **state)
{
	struct tk_resp r;
	char ct[128];

	(void)state;
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
	assert_non_null(tk_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/json");
	tk_resp_free(&r);
}

static void
test_readyz(void **state)
{
	struct tk_resp r;

	(void)state;
	get("/readyz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ready");
	tk_resp_free(&r);
}

static void
test_version(void **state)
{
	struct tk_resp r;

	(void)state;
	get("/api/v1/version", admin, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "version")), SKEWD_VERSION);
	assert_string_equal(json_string_value(json_object_get(r.json, "api")), "v1");
	tk_resp_free(&r);
}

static void
test_metrics(void **state)
{
	struct tk_resp r;
	char ct[128];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		get("/healthz", NULL, &r);
		tk_resp_free(&r);
	}
	get("/api/v1/does-not-exist", NULL, &r);
	tk_resp_free(&r);
	get("/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(tk_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_non_null(strstr(ct, "text/plain"));
	assert_non_null(strstr(r.body, "# TYPE skewd_http_requests_total counter\n"));
	assert_non_null(strstr(r.body, "skewd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} "));
	assert_non_null(strstr(r.body, "skewd_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} "));
	assert_non_null(strstr(r.body, "# TYPE skewd_http_request_duration_seconds histogram\n"));
	assert_non_null(strstr(r.body, "skewd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} "));
	assert_non_null(strstr(r.body, "skewd_http_request_duration_seconds_count{route=\"/healthz\"} "));
	assert_non_null(strstr(r.body, "skewd_build_info{version=\"" SKEWD_VERSION "\"} 1\n"));
	/* No raw path ever becomes a label. */
	assert_null(strstr(r.body, "does-not-exist"));
	{
		/* The /healthz counter counts every request: at least the 3 above
		 * plus the startup probe. */
		const char *p = strstr(r.body, "skewd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} ");
		unsigned long n = strtoul(strchr(p, '}') + 2, NULL, 10);

		assert_true(n >= 4);
	}
	tk_resp_free(&r);
}

static void
test_unknown_route_404(void **state)
{
	struct tk_resp r;

	(void)state;
	get("/api/v1/nothing-here", admin, &r);
	assert_int_equal(r.status, 404);
	assert_error_shape(&r, "not_found");
	tk_resp_free(&r);
	get("/api/v1/tokens/a/b", admin, &r);
	assert_int_equal(r.status, 404);
	assert_error_shape(&r, "not_found");
	tk_resp_free(&r);
}

static void
test_wrong_method_405(void **state)
{
	struct tk_resp r;
	char allow[128];

	(void)state;
	assert_int_equal(tk_request(&srv, "PUT", "/api/v1/tokens", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_error_shape(&r, "method_not_allowed");
	assert_non_null(tk_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD, POST");
	tk_resp_free(&r);

	assert_int_equal(tk_request(&srv, "POST", "/healthz", NULL, NULL, "{}", 2, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_non_null(tk_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD");
	tk_resp_free(&r);

	assert_int_equal(tk_request(&srv, "GET", "/api/v1/tokens/someone", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_non_null(tk_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "DELETE");
	tk_resp_free(&r);

	/* The dashboard is read-only. */
	assert_int_equal(tk_request(&srv, "DELETE", "/index.html", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_error_shape(&r, "method_not_allowed");
	tk_resp_free(&r);
}

static void
test_head(void **state)
{
	struct tk_resp r;
	char len[32];

	(void)state;
	assert_int_equal(tk_request(&srv, "HEAD", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	assert_non_null(tk_header(&r, "Content-Length", len, sizeof(len)));
	assert_string_equal(len, "15");
	tk_resp_free(&r);
}

static void
test_request_id(void **state)
{
	const char *const given[] = { "X-Request-Id: ticket-42.a:b_c", NULL };
	const char *const bad[] = { "X-Request-Id: no spaces <allowed>", NULL };
	const char *const longid[] = {
		"X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
	struct tk_resp r;
	char id[128], id2[128];
	size_t i;

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, given, NULL, 0, 0, &r), 0);
	assert_non_null(tk_header(&r, "X-Request-Id", id, sizeof(id)));
	assert_string_equal(id, "ticket-42.a:b_c");
	tk_resp_free(&r);

	/* An unsafe or overlong id is replaced by a generated one (32 hex). */
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, bad, NULL, 0, 0, &r), 0);
	assert_non_null(tk_header(&r, "X-Request-Id", id, sizeof(id)));
	assert_int_equal(strlen(id), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	tk_resp_free(&r);
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, longid, NULL, 0, 0, &r), 0);
	assert_non_null(tk_header(&r, "X-Request-Id", id2, sizeof(id2)));
	assert_int_equal(strlen(id2), 32);
	assert_string_not_equal(id, id2);
	tk_resp_free(&r);

	/* Errors carry it too. */
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/nope", NULL, given, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 404);
	assert_non_null(tk_header(&r, "X-Request-Id", id, sizeof(id)));
	assert_string_equal(id, "ticket-42.a:b_c");
	tk_resp_free(&r);
}

static void
test_access_log(void **state)
{
	const char *const hdr[] = { "X-Request-Id: access-log-probe-1", NULL };
	struct tk_resp r;
	char *log = NULL, *line, *save = NULL;
	json_t *found = NULL;
	int tries;

	(void)state;
	assert_int_equal(tk_request(&srv, "DELETE", "/api/v1/tokens/secret-looking-id-123", admin, hdr,
	    NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);

	/* The line is written just after the answer is sent: wait for it. */
	for (tries = 0; tries < 200 && found == NULL; tries++) {
		if (tries > 0) {
			struct timespec ts = { 0, 10 * 1000000L };

			nanosleep(&ts, NULL);
		}
		free(log);
		log = tk_read_file(srv.stderr_path, NULL);
		assert_non_null(log);
		/* The raw path with its id is never logged, and neither is the token. */
		assert_null(strstr(log, "secret-looking-id-123"));
		assert_null(strstr(log, admin));
		save = NULL;
		for (line = strtok_r(log, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
			json_t *v;

			if (line[0] != '{')
				continue;
			v = json_loads(line, 0, NULL);
			assert_non_null(v);  /* every JSON-looking line is JSON */
			if (json_is_string(json_object_get(v, "request_id")) &&
			    strcmp(json_string_value(json_object_get(v, "request_id")), "access-log-probe-1") == 0) {
				json_decref(found);
				found = v;
			} else {
				json_decref(v);
			}
		}
	}
	assert_non_null(found);
	assert_string_equal(json_string_value(json_object_get(found, "type")), "access");
	assert_string_equal(json_string_value(json_object_get(found, "method")), "DELETE");
	assert_string_equal(json_string_value(json_object_get(found, "route")), "/api/v1/tokens/{name}");
	assert_int_equal(json_integer_value(json_object_get(found, "status")), 404);
	assert_true(json_is_number(json_object_get(found, "duration_ms")));
	assert_true(json_integer_value(json_object_get(found, "bytes")) > 0);
	assert_true(json_is_string(json_object_get(found, "ts")));
	json_decref(found);
	free(log);
}

static void
test_static_index(void **state)
{
	struct tk_resp r;
	char ct[128], csp[512], nosniff[64];

	(void)state;
	get("/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(tk_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "<title>skewd</title>"));
	assert_non_null(tk_header(&r, "Content-Security-Policy", csp, sizeof(csp)));
	assert_non_null(strstr(csp, "frame-ancestors 'none'"));
	assert_non_null(tk_header(&r, "X-Content-Type-Options", nosniff, sizeof(nosniff)));
	assert_string_equal(nosniff, "nosniff");
	assert_null(tk_header(&r, "Access-Control-Allow-Origin", ct, sizeof(ct)));
	/* One Date header (ours; CivetWeb's own is not thread-safe). */
	{
		const char *d = strstr(r.headers, "\nDate: ");

		assert_non_null(d);
		assert_null(strstr(d + 1, "\nDate: "));
		assert_non_null(strstr(d, " GMT\r\n"));
	}
	tk_resp_free(&r);

	get("/style.css", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(tk_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "text/css; charset=utf-8");
	tk_resp_free(&r);

	get("/index.html", NULL, &r);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
}

static void
test_no_cors_for_evil_origin(void **state)
{
	const char *const hdr[] = { "Origin: https://evil.example", NULL };
	struct tk_resp r;
	char v[128];

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/whoami", admin, hdr, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(tk_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	tk_resp_free(&r);
}

static void
test_traversal_404(void **state)
{
	static const char *const paths[] = {
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/%2E%2E/%2E%2E/etc/passwd",
		"/..%2f..%2f..%2fetc%2fpasswd",
		"/%252e%252e/%252e%252e/etc/passwd",
		"/..%5c..%5cetc%5cpasswd",
		"/%5c..%5c..%5cetc/passwd",
		"/./index.html",
		"/.hidden",
		"/web/../index.html",
		"//etc/passwd",
		"/index.html%00.txt/x",
		"/nonexistent.html",
		"/style.css/",
		"/index.html%00",
		"/index.html%2f",
		"/%2findex.html",
		"/api/v1/tokens/%2e%2e",
	};
	struct tk_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(tk_request(&srv, "GET", paths[i], NULL, NULL, NULL, 0, TK_RAW_PATH, &r), 0);
		if (r.status != 404)
			fprintf(stderr, "path %s answered %ld\n", paths[i], r.status);
		assert_int_equal(r.status, 404);
		assert_error_shape(&r, "not_found");
		assert_null(strstr(r.body, "root:"));
		tk_resp_free(&r);
	}
}

static void
test_raw_requests(void **state)
{
	static const char backslash[] = "GET /..\\..\\etc\\passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const char garbage_cl[] =
		"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 10abc\r\nConnection: close\r\n\r\n";
	static const char te_and_cl[] =
		"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
		"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n";
	static const char bad_te[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n";
	char slashes[4200];
	char *resp;

	(void)state;
	resp = tk_raw(&srv, backslash, sizeof(backslash) - 1, 3000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "HTTP/1.1 404"));
	assert_null(strstr(resp, "root:"));
	free(resp);

	resp = tk_raw(&srv, garbage_cl, sizeof(garbage_cl) - 1, 3000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "HTTP/1.1 400"));
	assert_non_null(strstr(resp, "\"code\":\"invalid_argument\""));
	free(resp);

	resp = tk_raw(&srv, te_and_cl, sizeof(te_and_cl) - 1, 3000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, " 400 "));
	free(resp);

	/* CivetWeb's own refusals come in the same JSON shape. */
	resp = tk_raw(&srv, bad_te, sizeof(bad_te) - 1, 3000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, " 400 "));
	assert_non_null(strstr(resp, "{\"error\":{\"code\":\"invalid_argument\""));
	free(resp);

	/* Headers over max_request_size: CivetWeb refuses them, in our JSON shape. */
	{
		size_t n = 0, cap = 40000;
		char *big = malloc(cap);

		assert_non_null(big);
		n += (size_t)snprintf(big, cap, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
		memset(big + n, 'b', 20000);
		n += 20000;
		memcpy(big + n, "\r\n\r\n", 4);
		n += 4;
		resp = tk_raw(&srv, big, n, 3000);
		free(big);
		assert_non_null(resp);
		assert_true(strncmp(resp, "HTTP/1.", 7) == 0 && resp[9] == '4');
		assert_non_null(strstr(resp, "{\"error\":{\"code\":"));
		free(resp);
	}

	/* The CVE-2025-55763 pattern: a long run of slashes. */
	memcpy(slashes, "GET ", 4);
	memset(slashes + 4, '/', 4000);
	memcpy(slashes + 4004, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 41);
	resp = tk_raw(&srv, slashes, 4004 + 41, 3000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "HTTP/1.1 404"));
	free(resp);

	/* A malformed escape is a bad request, not a file name. */
	{
		struct tk_resp r;

		assert_int_equal(tk_request(&srv, "GET", "/index%zz.html", NULL, NULL, NULL, 0, TK_RAW_PATH, &r), 0);
		assert_int_equal(r.status, 400);
		assert_error_shape(&r, "invalid_argument");
		tk_resp_free(&r);
	}

	/* Still alive. */
	{
		struct tk_resp r;

		get("/healthz", NULL, &r);
		assert_int_equal(r.status, 200);
		tk_resp_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_readyz),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_unknown_route_404),
		cmocka_unit_test(test_wrong_method_405),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_access_log),
		cmocka_unit_test(test_static_index),
		cmocka_unit_test(test_no_cors_for_evil_origin),
		cmocka_unit_test(test_traversal_404),
		cmocka_unit_test(test_raw_requests),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("http_basics", tests, setup, teardown);
}
