/*
 * test_http_concurrency.c - many clients at once: authenticated reads,
 * token writes and metrics scrapes from parallel threads all succeed, and
 * the request counter adds up exactly. Run under TSan (SKEWD_TSAN=ON) this
 * also checks the server's shared state for data races.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "testkit.h"
#include "util/banned.h"

#define THREADS 8
#define PER_THREAD 40

static struct tk_server srv;
static char *admin;

struct worker {
	int id;
	int failures;
};

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct tk_resp r;
	char body[128];
	int i, n;

	for (i = 0; i < PER_THREAD; i++) {
		if (tk_request(&srv, "GET", "/api/v1/whoami", admin, NULL, NULL, 0, 0, &r) < 0 || r.status != 200)
			w->failures++;
		tk_resp_free(&r);
		if (i % 10 == 0) {
			const char *const ct[] = { "Content-Type: application/json", NULL };

			n = snprintf(body, sizeof(body), "{\"name\":\"c-%d-%d\",\"role\":\"viewer\"}", w->id, i);
			if (tk_request(&srv, "POST", "/api/v1/tokens", admin, ct, body, (size_t)n, 0, &r) < 0 ||
			    r.status != 201)
				w->failures++;
			tk_resp_free(&r);
			if (tk_request(&srv, "GET", "/metrics", NULL, NULL, NULL, 0, 0, &r) < 0 || r.status != 200)
				w->failures++;
			tk_resp_free(&r);
		}
	}
	return NULL;
}

static void
test_parallel_clients(void **state)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	struct tk_resp r;
	const char *p;
	int i, failures = 0;

	(void)state;
	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	assert_int_equal(failures, 0);

	/* Every whoami was counted once. */
	assert_int_equal(tk_request(&srv, "GET", "/metrics", NULL, NULL, NULL, 0, 0, &r), 0);
	p = strstr(r.body, "skewd_http_requests_total{route=\"/api/v1/whoami\",method=\"GET\",status=\"200\"} ");
	assert_non_null(p);
	assert_int_equal(strtoul(strchr(p, '}') + 2, NULL, 10), THREADS * PER_THREAD);
	p = strstr(r.body, "skewd_http_requests_total{route=\"/api/v1/tokens\",method=\"POST\",status=\"201\"} ");
	assert_non_null(p);
	assert_int_equal(strtoul(strchr(p, '}') + 2, NULL, 10), THREADS * (PER_THREAD / 10));
	tk_resp_free(&r);

	/* And every token exists. */
	assert_int_equal(tk_request(&srv, "GET", "/api/v1/tokens", admin, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(json_array_size(json_object_get(r.json, "tokens")), 1 + THREADS * (PER_THREAD / 10));
	tk_resp_free(&r);
}

static int
setup(void **state)
{
	(void)state;
	if (tk_start(&srv, NULL) < 0)
		return -1;
	admin = tk_token(&srv, "conc-admin", "admin");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_clients),
		cmocka_unit_test(test_clean_stop),
	};
	int rc;

	/* libcurl's global state must be set up before threads use it. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("http_concurrency", tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
