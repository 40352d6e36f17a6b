/*
 * runner.c - runs request work on threads with a real stack.
 *
 * Debian's CivetWeb starts its workers with 100 KiB stacks (USE_STACK_SIZE),
 * too small for a diff of deep documents, the YAML loader or SQLite under a
 * complex query. Each CivetWeb worker therefore gets one companion thread
 * with an HTTP_HANDLER_STACK_BYTES stack, created on first use; the worker
 * hands it a call and waits. The pairing is fixed (one companion per worker),
 * so there is no queue to contend on, and the companion keeps its own store
 * connection across requests. When the worker thread exits (mg_stop), a
 * thread-key destructor stops and joins its companion.
 */
#include <pthread.h>
#include <stdlib.h>

#include "http/http_int.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

struct runner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	void (*fn)(void *);
	void *arg;
	int busy;       /* a call is posted and not finished */
	int quit;
};

static pthread_key_t runner_key;
static pthread_once_t runner_once = PTHREAD_ONCE_INIT;
static int runner_key_ok;

static void *
runner_main(void *p)
{
	struct runner *r = p;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->busy && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->busy) {
			pthread_mutex_unlock(&r->mu);
			r->fn(r->arg);
			pthread_mutex_lock(&r->mu);
			r->busy = 0;
			pthread_cond_broadcast(&r->cv);
			continue;
		}
		break;  /* quit, nothing posted */
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Thread-key destructor: the worker that owned r is exiting. */
static void
runner_destroy(void *p)
{
	struct runner *r = p;

	pthread_mutex_lock(&r->mu);
	r->quit = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void
runner_key_init(void)
{
	runner_key_ok = pthread_key_create(&runner_key, runner_destroy) == 0;
}

static struct runner *
runner_get(void)
{
	struct runner *r;
	pthread_attr_t attr;
	int rc;

	pthread_once(&runner_once, runner_key_init);
	if (!runner_key_ok)
		return NULL;
	r = pthread_getspecific(runner_key);
	if (r != NULL)
		return r;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, HTTP_HANDLER_STACK_BYTES);
	rc = pthread_create(&r->thread, &attr, runner_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	if (pthread_setspecific(runner_key, r) != 0) {
		runner_destroy(r);
		return NULL;
	}
	return r;
}

int
http_runner_call(void (*fn)(void *), void *arg)
{
	struct runner *r = runner_get();

	if (r == NULL) {
		log_error("cannot start a request thread; the request is refused");
		return -1;
	}
	pthread_mutex_lock(&r->mu);
	r->fn = fn;
	r->arg = arg;
	r->busy = 1;
	pthread_cond_broadcast(&r->cv);
	while (r->busy)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	return 0;
}
