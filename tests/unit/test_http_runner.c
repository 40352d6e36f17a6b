/*
 * test_http_runner.c - request work runs on a thread with a real stack.
 *
 * Debian's CivetWeb gives its workers 100 KiB stacks. The test starts such a
 * thread itself and, from it, runs a call that needs 2 MiB of stack through
 * http_runner_call(); run directly on the small thread it would overflow.
 * It also checks that each worker keeps one companion across calls and that
 * companions are stopped when their worker exits (no leak under ASan).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_int.h"
#include "util/banned.h"

#define SMALL_STACK (100 * 1024)
#define DEEP_BYTES  (2 * 1024 * 1024)

struct probe {
	size_t touched;
	pthread_t ran_on[3];
	int calls;
	pthread_barrier_t *all_called;  /* workers wait here so no companion exits early */
};

static void
deep(void *p)
{
	struct probe *pr = p;
	volatile char big[DEEP_BYTES];
	size_t i;

	for (i = 0; i < sizeof(big); i += 4096)
		big[i] = (char)i;
	pr->touched = sizeof(big);
	pr->ran_on[pr->calls++] = pthread_self();
}

static void *
small_worker(void *p)
{
	struct probe *pr = p;
	int i;

	for (i = 0; i < 3; i++)
		if (http_runner_call(deep, pr) < 0)
			return NULL;
	/* A joined thread's id may be reused by a later thread: keep every worker
	 * (and so its companion) alive until all have recorded their ids. */
	if (pr->all_called != NULL)
		pthread_barrier_wait(pr->all_called);
	return p;
}

static void
test_big_stack_from_small_worker(void **state)
{
	struct probe pr;
	pthread_attr_t attr;
	pthread_t t;
	void *ret = NULL;

	(void)state;
	memset(&pr, 0, sizeof(pr));
	pthread_attr_init(&attr);
	assert_int_equal(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
	assert_int_equal(pthread_create(&t, &attr, small_worker, &pr), 0);
	pthread_attr_destroy(&attr);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, &pr);
	assert_int_equal(pr.touched, DEEP_BYTES);
	assert_int_equal(pr.calls, 3);
	/* One companion per worker, reused. */
	assert_true(pthread_equal(pr.ran_on[0], pr.ran_on[1]));
	assert_true(pthread_equal(pr.ran_on[1], pr.ran_on[2]));
}

static void
test_many_workers(void **state)
{
	struct probe pr[8];
	pthread_attr_t attr;
	pthread_barrier_t barrier;
	pthread_t t[8];
	void *ret;
	int i, j;

	(void)state;
	memset(pr, 0, sizeof(pr));
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 8), 0);
	for (i = 0; i < 8; i++)
		pr[i].all_called = &barrier;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SMALL_STACK);
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], &attr, small_worker, &pr[i]), 0);
	pthread_attr_destroy(&attr);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_ptr_equal(ret, &pr[i]);
		assert_int_equal(pr[i].calls, 3);
	}
	/* Companions were all alive together, so their ids are distinct. */
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			assert_false(pthread_equal(pr[i].ran_on[0], pr[j].ran_on[0]));
	pthread_barrier_destroy(&barrier);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_stack_from_small_worker),
		cmocka_unit_test(test_many_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
