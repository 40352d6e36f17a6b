/*
 * test_collect_promote.c - the health rule of the auto-promotion
 * (collect_promote_healthy): every replica ready, every pod Running with its
 * containers ready, no pod restarted or replaced since the window's anchor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "collect/collect.h"
#include "util/err.h"
#include "util/banned.h"

/* An evidence row: `ready` of `replicas` ready, pods "a" and "b" (or "a" and
 * `second`) with those restarts, container readiness `cready`. */
static json_t *
row(int replicas, int ready, const char *second, int ra, int rb, int cready, const char *phase)
{
	return json_pack("{s:s, s:{s:i, s:i}, s:[{s:s, s:s, s:i, s:[{s:s, s:b}]}, {s:s, s:s, s:i, s:[{s:s, s:b}]}]}",
	    "schema", "skewd.evidence/v1",
	    "workload_status", "replicas", replicas, "readyReplicas", ready,
	    "pods",
	    "name", "a", "phase", "Running", "restarts", ra, "containers", "container", "vllm", "ready", 1,
	    "name", second, "phase", phase, "restarts", rb, "containers", "container", "vllm", "ready", cready);
}

static int
check(json_t *r0, json_t *r1, json_t *r2, char *why, size_t whysz)
{
	const json_t *rows[3] = { r0, r1, r2 };
	struct err e = ERR_INIT;
	size_t n = r2 != NULL ? 3 : r1 != NULL ? 2 : 1;
	int got = collect_promote_healthy(rows, n, why, whysz, &e);

	json_decref(r0);
	json_decref(r1);
	json_decref(r2);
	return got;
}

static void
test_healthy(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(check(row(2, 2, "b", 1, 0, 1, "Running"), row(2, 2, "b", 1, 0, 1, "Running"),
	    row(2, 2, "b", 1, 0, 1, "Running"), why, sizeof(why)), 1);
	assert_string_equal(why, "2/2 replicas ready, no container restarts");
	/* The anchor alone (one pull in the window) is judged too. */
	assert_int_equal(check(row(2, 2, "b", 0, 0, 1, "Running"), NULL, NULL, why, sizeof(why)), 1);
}

static void
test_unhealthy(void **state)
{
	char why[256];

	(void)state;
	/* A restart after the anchor. */
	assert_int_equal(check(row(2, 2, "b", 0, 0, 1, "Running"), row(2, 2, "b", 0, 3, 1, "Running"),
	    row(2, 2, "b", 0, 3, 1, "Running"), why, sizeof(why)), 0);
	assert_string_equal(why, "pod b restarted (3 restarts, 0 at the window's start)");
	/* A replica not ready, at any row of the window. */
	assert_int_equal(check(row(2, 2, "b", 0, 0, 1, "Running"), row(2, 1, "b", 0, 0, 1, "Running"),
	    row(2, 2, "b", 0, 0, 1, "Running"), why, sizeof(why)), 0);
	assert_string_equal(why, "1 of 2 replicas were ready");
	/* A container not ready; a pod not Running. */
	assert_int_equal(check(row(2, 2, "b", 0, 0, 0, "Running"), NULL, NULL, why, sizeof(why)), 0);
	assert_string_equal(why, "container vllm of pod b was not ready");
	assert_int_equal(check(row(2, 2, "b", 0, 0, 1, "Pending"), NULL, NULL, why, sizeof(why)), 0);
	assert_string_equal(why, "pod b was Pending");
	/* A pod replaced in the window (its restarts start again at 0). */
	assert_int_equal(check(row(2, 2, "b", 0, 5, 1, "Running"), row(2, 2, "c", 0, 0, 1, "Running"),
	    NULL, why, sizeof(why)), 0);
	assert_string_equal(why, "pod c is new in the window (a pod was replaced)");
	/* Scaled to zero: nothing serves. */
	assert_int_equal(check(row(0, 0, "b", 0, 0, 1, "Running"), NULL, NULL, why, sizeof(why)), 0);
	assert_string_equal(why, "the workload had no replicas");
}

static void
test_not_evidence(void **state)
{
	const json_t *rows[1];
	json_t *r = json_pack("{s:s}", "schema", "skewd.snapshot/v1");
	struct err e = ERR_INIT;
	char why[64];

	(void)state;
	rows[0] = r;
	assert_int_equal(collect_promote_healthy(rows, 1, why, sizeof(why), &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	rows[0] = NULL;
	assert_int_equal(collect_promote_healthy(rows, 1, why, sizeof(why), &e), -1);
	assert_int_equal(collect_promote_healthy(rows, 0, why, sizeof(why), &e), 0);
	assert_string_equal(why, "no evidence in the window");
	json_decref(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_unhealthy),
		cmocka_unit_test(test_not_evidence),
	};

	return cmocka_run_group_tests_name("collect_promote", tests, NULL, NULL);
}
