/*
 * test_http_limits.c - request bodies: the cap (413) with Content-Length and
 * with chunked encoding, a huge declared length refused before reading,
 * malformed JSON (400 naming the problem), wrong media type (415), empty body.
 * The server runs with max_body_bytes: 65536 so the edges are cheap to hit.
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

#define CAP 65536

static struct tk_server srv;
static char *admin;
static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static int
setup(void **state)
{
	(void)state;
	if (tk_start(&srv, "max_body_bytes: 65536\n") < 0)
		return -1;
	admin = tk_token(&srv, "limits-admin", "admin");
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

/* A syntactically valid JSON object of exactly n bytes: {"name":"aaa...","role":"viewer"} padded in the name. */
static char *
json_of_size(size_t n)
{
	static const char head[] = "{\"pad\":\"", tail[] = "\"}";
	char *p = malloc(n + 1);

	assert_non_null(p);
	assert_true(n > sizeof(head) + sizeof(tail));
	memcpy(p, head, sizeof(head) - 1);
	memset(p + sizeof(head) - 1, 'a', n - (sizeof(head) - 1) - (sizeof(tail) - 1));
	memcpy(p + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	p[n] = '\0';
	return p;
}

static void
post(const char *body, size_t len, unsigned flags, const char *const hdr[], struct tk_resp *r)
{
	assert_int_equal(tk_request(&srv, "POST", "/api/v1/tokens", admin, hdr, body, len, flags, r), 0);
}

static void
test_over_cap_content_length(void **state)
{
	char *body = json_of_size(CAP + 1);
	struct tk_resp r;

	(void)state;
	post(body, CAP + 1, 0, json_ct, &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(tk_error_code(&r), "too_large");
	tk_resp_free(&r);
	free(body);
}

static void
test_over_cap_chunked(void **state)
{
	char *body = json_of_size(CAP + 1);
	struct tk_resp r;

	(void)state;
	post(body, CAP + 1, TK_CHUNKED, json_ct, &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(tk_error_code(&r), "too_large");
	tk_resp_free(&r);
	free(body);
	/* Far over the cap, chunked: still 413, and the server is fine afterwards. */
	body = json_of_size(4 * 1024 * 1024);
	post(body, 4 * 1024 * 1024, TK_CHUNKED, json_ct, &r);
	assert_int_equal(r.status, 413);
	tk_resp_free(&r);
	free(body);
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
}

static void
test_at_cap_is_read(void **state)
{
	char *body = json_of_size(CAP);
	struct tk_resp r;

	(void)state;
	/* Exactly the cap is accepted and parsed: the handler then rejects the field. */
	post(body, CAP, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(tk_error_code(&r), "invalid_argument");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
	    "unknown field 'pad'"));
	tk_resp_free(&r);
	post(body, CAP, TK_CHUNKED, json_ct, &r);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	free(body);
}

static void
test_huge_declared_length_refused_before_reading(void **state)
{
	static const char req[] =
		"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 100000000000\r\nAuthorization: Bearer %s\r\n\r\n{";
	char buf[1024];
	struct timespec t0, t1;
	char *resp;
	int n;

	(void)state;
	n = snprintf(buf, sizeof(buf), req, admin);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resp = tk_raw(&srv, buf, (size_t)n, 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "HTTP/1.1 413"));
	assert_non_null(strstr(resp, "\"too_large\""));
	/* Answered at once and the connection closed, not after a read timeout. */
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	free(resp);
}

static void
test_malformed_json(void **state)
{
	static const char bad[] = "{\"name\": \"bot\",\n \"role\": }";
	struct tk_resp r;
	const char *msg;

	(void)state;
	post(bad, sizeof(bad) - 1, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(tk_error_code(&r), "invalid_argument");
	msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
	assert_non_null(strstr(msg, "malformed JSON body"));
	assert_non_null(strstr(msg, "line 2"));
	assert_non_null(strstr(msg, "column"));
	tk_resp_free(&r);

	/* Duplicate keys are refused too. */
	post("{\"name\":\"a\",\"name\":\"b\",\"role\":\"viewer\"}", 40, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
	assert_non_null(strstr(msg, "duplicate"));
	tk_resp_free(&r);

	/* Not an object. */
	post("[1,2]", 5, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
}

/* n nested arrays: "[[[...]]]". */
static char *
nested(size_t n)
{
	char *p = malloc(2 * n + 1);

	assert_non_null(p);
	memset(p, '[', n);
	memset(p + n, ']', n);
	p[2 * n] = '\0';
	return p;
}

static void
test_deep_json_is_refused_not_fatal(void **state)
{
	struct tk_resp r;
	const char *msg;
	char *body;

	(void)state;
	/* Far deeper than a 100 KiB worker stack could parse recursively, and
	 * within the 64 KiB body cap of this server. */
	body = nested(30000);
	post(body, 60000, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
	assert_non_null(strstr(msg, "nested deeper than 64 levels"));
	tk_resp_free(&r);
	free(body);

	/* 65 levels is refused, 64 is parsed (and then is not an object). */
	body = nested(65);
	post(body, 130, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "nested deeper"));
	tk_resp_free(&r);
	free(body);
	body = nested(64);
	post(body, 128, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_null(strstr(r.body, "nested deeper"));
	assert_non_null(strstr(r.body, "must be a JSON object"));
	tk_resp_free(&r);
	free(body);

	/* Brackets inside strings are text, not nesting. */
	body = malloc(300);
	assert_non_null(body);
	memcpy(body, "{\"name\":\"", 9);
	memset(body + 9, '[', 200);
	memcpy(body + 209, "\\\"\",\"role\":\"viewer\"}", 21);
	post(body, 230, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_null(strstr(r.body, "nested deeper"));
	tk_resp_free(&r);
	free(body);

	/* The server lived through all of it. */
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
}

static void
test_empty_body(void **state)
{
	struct tk_resp r;

	(void)state;
	post("", 0, 0, json_ct, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
	    "empty"));
	tk_resp_free(&r);
}

static void
test_wrong_media_type(void **state)
{
	static const char *const form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	static const char *const charset[] = { "Content-Type: application/json; charset=utf-8", NULL };
	static const char body[] = "{\"name\":\"media-ok\",\"role\":\"viewer\"}";
	struct tk_resp r;

	(void)state;
	post(body, sizeof(body) - 1, 0, form, &r);
	assert_int_equal(r.status, 415);
	assert_string_equal(tk_error_code(&r), "unsupported");
	tk_resp_free(&r);
	post(body, sizeof(body) - 1, 0, charset, &r);
	assert_int_equal(r.status, 201);
	tk_resp_free(&r);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_slow_client_is_dropped(void **state)
{
	static const char partial[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	struct tk_server slow;
	struct timespec t0;
	struct tk_resp r;
	char *resp;

	(void)state;
	assert_int_equal(tk_start(&slow, "request_timeout_ms: 500\n"), 0);
	/* Headers that never finish: the server gives up after the timeout
	 * instead of holding a worker, and keeps answering others. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resp = tk_raw(&slow, partial, sizeof(partial) - 1, 10000);
	assert_non_null(resp);
	assert_true(seconds_since(&t0) < 5.0);
	fprintf(stderr, "slow client dropped after %.2f s\n", seconds_since(&t0));
	assert_null(strstr(resp, "200 OK"));
	free(resp);
	assert_int_equal(tk_request(&slow, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	assert_int_equal(tk_stop(&slow), 0);
	tk_cleanup(&slow);
}

static void
test_keep_alive_serves_several_requests(void **state)
{
	static const char two[] =
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
		"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\nConnection: close\r\n\r\n";
	char *resp, *first, *second;

	(void)state;
	resp = tk_raw(&srv, two, sizeof(two) - 1, 5000);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "X-Request-Id: first"));
	second = strstr(resp, "X-Request-Id: second");
	assert_non_null(second);
	assert_non_null(strstr(resp, "Connection: keep-alive"));
	/* Two answers, the second after the first. */
	first = strstr(resp, "HTTP/1.1 200");
	assert_non_null(first);
	first = strstr(first + 1, "HTTP/1.1 200");
	assert_non_null(first);
	assert_true(first < second);
	free(resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_over_cap_content_length),
		cmocka_unit_test(test_over_cap_chunked),
		cmocka_unit_test(test_at_cap_is_read),
		cmocka_unit_test(test_huge_declared_length_refused_before_reading),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_deep_json_is_refused_not_fatal),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_wrong_media_type),
		cmocka_unit_test(test_slow_client_is_dropped),
		cmocka_unit_test(test_keep_alive_serves_several_requests),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("http_limits", tests, setup, teardown);
}
