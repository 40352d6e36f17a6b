/*
 * test_http_auth.c - bearer tokens and roles against the real server: the
 * 401/403 matrix (none, malformed, unknown, revoked, viewer, editor, admin
 * x read, admin-read and admin-write routes), tokens created with the CLI
 * and through the API, revocation, and anonymous_read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testkit.h"
#include "util/banned.h"

static struct tk_server srv;
static char *viewer, *editor, *admin, *revoked;
static const char *const json_ct[] = { "Content-Type: application/json", NULL };

static int
setup(void **state)
{
	const char *argv[7] = { "token", "revoke", "--name", "gone-bot", "--config", NULL, NULL };

	(void)state;
	if (tk_start(&srv, NULL) < 0)
		return -1;
	/* Created with the CLI against the same data dir while the server runs. */
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	revoked = tk_token(&srv, "gone-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL || revoked == NULL)
		return -1;
	argv[5] = srv.config;
	return tk_run(argv, NULL, NULL) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(viewer);
	free(editor);
	free(admin);
	free(revoked);
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

enum who { NONE, MALFORMED, UNKNOWN, REVOKED, VIEWER, EDITOR, ADMIN, NWHO };

static const char *
who_header(enum who w, char *buf, size_t n)
{
	switch (w) {
	case NONE:
		return NULL;
	case MALFORMED:
		return "Authorization: Basic dXNlcjpwYXNz";
	case UNKNOWN:
		return "Authorization: Bearer skewd_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000";
	case REVOKED:
		snprintf(buf, n, "Authorization: Bearer %s", revoked);
		return buf;
	case VIEWER:
		snprintf(buf, n, "Authorization: Bearer %s", viewer);
		return buf;
	case EDITOR:
		snprintf(buf, n, "Authorization: Bearer %s", editor);
		return buf;
	case ADMIN:
		snprintf(buf, n, "Authorization: Bearer %s", admin);
		return buf;
	default:
		return NULL;
	}
}

static const char *const who_name[NWHO] = {
	"none", "malformed", "unknown", "revoked", "viewer", "editor", "admin",
};

static void
test_matrix(void **state)
{
	static const struct {
		const char *method, *path, *body;   /* body: the role of a token to create */
		int expect[NWHO];
	} cases[] = {
		/*                                             none malf unkn revk view edit admin */
		{ "GET", "/api/v1/whoami", NULL,              { 401, 401, 401, 401, 200, 200, 200 } },
		{ "GET", "/api/v1/version", NULL,             { 401, 401, 401, 401, 200, 200, 200 } },
		{ "GET", "/api/v1/tokens", NULL,              { 401, 401, 401, 401, 403, 403, 200 } },
		{ "POST", "/api/v1/tokens", "viewer",
		                                              { 401, 401, 401, 401, 403, 403, 201 } },
		{ "DELETE", "/api/v1/tokens/nobody", NULL,    { 401, 401, 401, 401, 403, 403, 404 } },
		{ "GET", "/healthz", NULL,                    { 200, 200, 200, 200, 200, 200, 200 } },
	};
	char hbuf[512], body[128], wa[256];
	size_t c;
	int w, k = 0;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (w = 0; w < NWHO; w++) {
			const char *h = who_header((enum who)w, hbuf, sizeof(hbuf));
			const char *hdrs[3] = { "Content-Type: application/json", h, NULL };
			struct tk_resp r;
			size_t blen = 0;

			if (cases[c].body != NULL)
				blen = (size_t)snprintf(body, sizeof(body),
				    "{\"name\":\"m-%d\",\"role\":\"%s\"}", k++, cases[c].body);
			assert_int_equal(tk_request(&srv, cases[c].method, cases[c].path, NULL, hdrs,
			    cases[c].body != NULL ? body : NULL, blen, 0, &r), 0);
			if (r.status != cases[c].expect[w])
				fprintf(stderr, "%s %s as %s: got %ld, want %d: %s\n", cases[c].method,
				    cases[c].path, who_name[w], r.status, cases[c].expect[w], r.body);
			assert_int_equal(r.status, cases[c].expect[w]);
			if (r.status == 401) {
				assert_string_equal(tk_error_code(&r), "unauthorized");
				assert_non_null(tk_header(&r, "WWW-Authenticate", wa, sizeof(wa)));
				assert_true(strncmp(wa, "Bearer", 6) == 0);
				if (w != NONE)
					assert_non_null(strstr(wa, "invalid_token"));
			}
			if (r.status == 403)
				assert_string_equal(tk_error_code(&r), "forbidden");
			/* No answer ever echoes a token. */
			assert_null(strstr(r.body, admin));
			assert_null(strstr(r.headers, admin));
			tk_resp_free(&r);
		}
	}
}

static void
test_whoami_names_the_cli_token(void **state)
{
	struct tk_resp r;

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/whoami", editor, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "editor-bot");
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "editor");
	assert_false(json_is_true(json_object_get(r.json, "anonymous")));
	tk_resp_free(&r);
}

static void
test_token_lifecycle_over_api(void **state)
{
	static const char body[] = "{\"name\":\"api-made\",\"role\":\"editor\"}";
	struct tk_resp r;
	char *plain, loc[256];
	json_t *t;
	size_t i;
	int seen = 0;

	(void)state;
	assert_int_equal(tk_request(&srv, "POST", "/api/v1/tokens", admin, json_ct, body, sizeof(body) - 1, 0, &r), 0);
	assert_int_equal(r.status, 201);
	assert_non_null(tk_header(&r, "Location", loc, sizeof(loc)));
	assert_string_equal(loc, "/api/v1/tokens/api-made");
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "editor");
	plain = strdup(json_string_value(json_object_get(r.json, "token")));
	assert_non_null(plain);
	tk_resp_free(&r);

	/* The same name again is a conflict. */
	assert_int_equal(tk_request(&srv, "POST", "/api/v1/tokens", admin, json_ct, body, sizeof(body) - 1, 0, &r), 0);
	assert_int_equal(r.status, 409);
	assert_string_equal(tk_error_code(&r), "conflict");
	tk_resp_free(&r);

	/* The new token works, and the listing never shows a secret. */
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/whoami", plain, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "api-made");
	tk_resp_free(&r);
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/tokens", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, plain));
	assert_null(strstr(r.body, "\"token\""));
	json_array_foreach(json_object_get(r.json, "tokens"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")), "gone-bot") == 0) {
			assert_true(json_is_true(json_object_get(t, "revoked")));
			seen++;
		}
		if (strcmp(json_string_value(json_object_get(t, "name")), "api-made") == 0)
			seen++;
	}
	assert_int_equal(seen, 2);
	tk_resp_free(&r);

	/* Revoked over the API: 204, then the token is refused, and a second revoke is 404. */
	assert_int_equal(tk_request(&srv, "DELETE", "/api/v1/tokens/api-made", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	tk_resp_free(&r);
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/whoami", plain, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);
	assert_int_equal(tk_request(&srv, "DELETE", "/api/v1/tokens/api-made", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	free(plain);
}

static void
test_bad_create_bodies(void **state)
{
	static const char *const bodies[] = {
		"{\"name\":\"x1\"}",
		"{\"role\":\"viewer\"}",
		"{\"name\":\"x2\",\"role\":\"root\"}",
		"{\"name\":7,\"role\":\"viewer\"}",
		"{\"name\":\"x3\",\"role\":\"viewer\",\"extra\":1}",
		"{\"name\":\"has space\",\"role\":\"viewer\"}",
	};
	struct tk_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(tk_request(&srv, "POST", "/api/v1/tokens", admin, json_ct, bodies[i],
		    strlen(bodies[i]), 0, &r), 0);
		if (r.status != 400)
			fprintf(stderr, "%s: got %ld %s\n", bodies[i], r.status, r.body);
		assert_int_equal(r.status, 400);
		assert_string_equal(tk_error_code(&r), "invalid_argument");
		tk_resp_free(&r);
	}
}

static void
test_token_not_logged(void **state)
{
	char *log;

	(void)state;
	log = tk_read_file(srv.stderr_path, NULL);
	assert_non_null(log);
	assert_null(strstr(log, viewer));
	assert_null(strstr(log, editor));
	assert_null(strstr(log, admin));
	assert_null(strstr(log, revoked));
	free(log);
}

static void
test_anonymous_read(void **state)
{
	struct tk_server anon;
	struct tk_resp r;
	char *tok;
	static const char body[] = "{\"name\":\"anon-try\",\"role\":\"viewer\"}";

	(void)state;
	assert_int_equal(tk_start(&anon, "anonymous_read: true\n"), 0);
	tok = tk_token(&anon, "anon-viewer", "viewer");
	assert_non_null(tok);

	/* A GET without a token acts as a viewer. */
	assert_int_equal(tk_request(&anon, "GET", "/api/v1/whoami", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "anonymous")));
	assert_string_equal(json_string_value(json_object_get(r.json, "role")), "viewer");
	tk_resp_free(&r);
	assert_int_equal(tk_request(&anon, "GET", "/api/v1/version", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);

	/* But not as more than a viewer, and never for a write. */
	assert_int_equal(tk_request(&anon, "GET", "/api/v1/tokens", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);
	assert_int_equal(tk_request(&anon, "POST", "/api/v1/tokens", NULL, json_ct, body, sizeof(body) - 1, 0, &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(tk_error_code(&r), "unauthorized");
	tk_resp_free(&r);
	assert_int_equal(tk_request(&anon, "DELETE", "/api/v1/tokens/anon-viewer", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);

	/* A wrong token is still refused rather than treated as anonymous. */
	assert_int_equal(tk_request(&anon, "GET", "/api/v1/whoami", "skewd_bogus", NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);

	/* A real token acts as itself. */
	assert_int_equal(tk_request(&anon, "GET", "/api/v1/whoami", tok, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "anon-viewer");
	assert_false(json_is_true(json_object_get(r.json, "anonymous")));
	tk_resp_free(&r);

	free(tok);
	assert_int_equal(tk_stop(&anon), 0);
	tk_cleanup(&anon);
}

static void
test_anonymous_read_off_by_default(void **state)
{
	struct tk_resp r;

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/whoami", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 401);
	tk_resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_whoami_names_the_cli_token),
		cmocka_unit_test(test_token_lifecycle_over_api),
		cmocka_unit_test(test_bad_create_bodies),
		cmocka_unit_test(test_anonymous_read_off_by_default),
		cmocka_unit_test(test_anonymous_read),
		cmocka_unit_test(test_token_not_logged),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("http_auth", tests, setup, teardown);
}
