/*
 * test_http_errors.c - the one table from err_code to HTTP status, the JSON
 * error body (also for messages that quote broken UTF-8), and the metrics
 * exposition format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "http/http_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static void
test_status_table(void **state)
{
	(void)state;
	assert_int_equal(http_status_of(ERR_OK), 200);
	assert_int_equal(http_status_of(ERR_INVALID), 400);
	assert_int_equal(http_status_of(ERR_UNAUTHORIZED), 401);
	assert_int_equal(http_status_of(ERR_FORBIDDEN), 403);
	assert_int_equal(http_status_of(ERR_NOT_FOUND), 404);
	assert_int_equal(http_status_of(ERR_CONFLICT), 409);
	assert_int_equal(http_status_of(ERR_TOO_LARGE), 413);
	assert_int_equal(http_status_of(ERR_UNSUPPORTED), 415);
	assert_int_equal(http_status_of(ERR_UPSTREAM), 502);
	assert_int_equal(http_status_of(ERR_UNAVAILABLE), 503);
	assert_int_equal(http_status_of(ERR_TIMEOUT), 504);
	assert_int_equal(http_status_of(ERR_IO), 500);
	assert_int_equal(http_status_of(ERR_NOMEM), 500);
	assert_int_equal(http_status_of(ERR_INTERNAL), 500);
	assert_int_equal(http_status_of((enum err_code)999), 500);
	assert_string_equal(http_status_code_name(405), "method_not_allowed");
	assert_string_equal(http_status_code_name(413), "too_large");
	assert_string_equal(http_status_code_name(400), "invalid_argument");
	assert_string_equal(http_status_code_name(431), "headers_too_large");
	assert_string_equal(http_status_code_name(418), "invalid_argument");
	assert_string_equal(http_status_code_name(599), "internal");
}

static void
test_error_body_shape(void **state)
{
	size_t len = 0;
	char *s = http_error_body("not_found", "no token named 'x\"y'", &len);
	json_t *v, *err;

	(void)state;
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	v = json_loads(s, 0, NULL);
	assert_non_null(v);
	err = json_object_get(v, "error");
	assert_int_equal(json_object_size(v), 1);
	assert_int_equal(json_object_size(err), 2);
	assert_string_equal(json_string_value(json_object_get(err, "code")), "not_found");
	assert_string_equal(json_string_value(json_object_get(err, "message")), "no token named 'x\"y'");
	json_decref(v);
	free(s);
}

static void
test_error_body_bad_utf8(void **state)
{
	/* A message cut in the middle of a UTF-8 sequence, and stray bytes. */
	static const char msg[] = "unknown role '\xc3' and \xff\xfe and caf\xc3\xa9 and \xed\xa0\x80";
	char *s = http_error_body("invalid_argument", msg, NULL);
	json_t *v;

	(void)state;
	assert_non_null(s);
	v = json_loads(s, 0, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "message")),
	    "unknown role '?' and ?? and caf\xc3\xa9 and ???");
	json_decref(v);
	free(s);
}

static void
test_metrics_exposition(void **state)
{
	struct buf out = BUF_INIT(HTTP_MAX_RESPONSE_BYTES);
	struct err e = ERR_INIT;
	const char *p;

	(void)state;
	http_metrics_record(0, "GET", 200, 0.003);
	http_metrics_record(0, "GET", 200, 0.2);
	http_metrics_record(0, "BREW", 400, 20.0);
	http_metrics_record(HTTP_ROUTE_UNMATCHED + 1000, "GET", 404, 0.001);
	assert_int_equal(http_metrics_render(&out, &e), 0);
	p = buf_str(&out);
	assert_non_null(strstr(p, "skewd_build_info{version=\"" SKEWD_VERSION "\"} 1\n"));
	assert_non_null(strstr(p, "skewd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n"));
	/* Unknown methods fold into OTHER; out-of-range slots into unmatched. */
	assert_non_null(strstr(p, "skewd_http_requests_total{route=\"/healthz\",method=\"OTHER\",status=\"400\"} 1\n"));
	assert_non_null(strstr(p, "skewd_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"));
	/* Buckets are cumulative; +Inf equals the count. */
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"10\"} 2\n"));
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_count{route=\"/healthz\"} 3\n"));
	assert_non_null(strstr(p, "skewd_http_request_duration_seconds_sum{route=\"/healthz\"} 20.203000\n"));
	assert_non_null(strstr(p, "# TYPE skewd_http_request_duration_seconds histogram\n"));
	buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_error_body_shape),
		cmocka_unit_test(test_error_body_bad_utf8),
		cmocka_unit_test(test_metrics_exposition),
	};

	return cmocka_run_group_tests_name("http_errors", tests, NULL, NULL);
}
