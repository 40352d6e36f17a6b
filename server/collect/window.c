/*
 * window.c - the previous scrape of each pod, so that one poll's figures
 * cover the window since the poll before.
 *
 * Rates and quantiles need two scrapes (docs/metrics.md). The collector keeps
 * the parsed set of the last scrape of every scraped pod and port, in memory,
 * keyed by "cluster/namespace/pod:port"; the next scrape of the same key is
 * extracted against it and replaces it. At most COLLECT_WINDOW_MAX_SCRAPES
 * sets are kept (the oldest is dropped first), and a previous scrape older
 * than COLLECT_WINDOW_MAX_AGE_S is not used: a window that long says little
 * about "now". Nothing is stored on disk, so after skewd starts the first
 * poll of each pod has gauges only, and its figures say so.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "collect/collect_pull.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

struct window_entry {
	char *key;
	struct metrics_set *set;
	double at;
};

struct collect_window {
	pthread_mutex_t mu;
	struct window_entry *v;
	size_t n;
};

int
collect_window_new(struct collect_window **out, struct err *e)
{
	struct collect_window *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		return err_set(e, ERR_NOMEM, "out of memory creating the scrape window");
	w->v = calloc(COLLECT_WINDOW_MAX_SCRAPES, sizeof(*w->v));
	if (w->v == NULL) {
		free(w);
		return err_set(e, ERR_NOMEM, "out of memory creating the scrape window");
	}
	pthread_mutex_init(&w->mu, NULL);
	*out = w;
	return 0;
}

void
collect_window_free(struct collect_window *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		free(w->v[i].key);
		metrics_set_free(w->v[i].set);
	}
	free(w->v);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

size_t
collect_window_count(struct collect_window *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* Takes the entry of key out of the window (the caller owns *set), or sets NULL. */
static void
window_take(struct collect_window *w, const char *key, struct metrics_set **set, double *at)
{
	size_t i;

	*set = NULL;
	*at = 0;
	for (i = 0; i < w->n; i++) {
		if (strcmp(w->v[i].key, key) == 0) {
			*set = w->v[i].set;
			*at = w->v[i].at;
			free(w->v[i].key);
			w->v[i] = w->v[--w->n];
			return;
		}
	}
}

/* Keeps set as the last scrape of key; takes ownership of set (freed when it cannot be kept). */
static void
window_put(struct collect_window *w, const char *key, struct metrics_set *set, double at)
{
	char *k = strdup(key);
	size_t i, oldest = 0;

	if (k == NULL) {
		metrics_set_free(set);
		return;
	}
	if (w->n == COLLECT_WINDOW_MAX_SCRAPES) {
		for (i = 1; i < w->n; i++)
			if (w->v[i].at < w->v[oldest].at)
				oldest = i;
		free(w->v[oldest].key);
		metrics_set_free(w->v[oldest].set);
		w->v[oldest] = w->v[--w->n];
	}
	w->v[w->n].key = k;
	w->v[w->n].set = set;
	w->v[w->n].at = at;
	w->n++;
}

/* Rewrites "needs two scrapes" into why there is only one. */
static void
explain_first(json_t *figures, const char *why)
{
	const char *k;
	json_t *f;
	char msg[256];

	snprintf(msg, sizeof(msg), "needs two scrapes: %s", why);
	json_object_foreach(figures, k, f) {
		const char *a = json_string_value(json_object_get(f, "absent"));

		if (a != NULL && strcmp(a, "needs two scrapes") == 0)
			json_object_set_new(f, "absent", json_string(msg));
	}
}

void
collect_window_figures(struct collect_window *w, const char *key, json_t *rec, const char *text,
    size_t len, double at, const char *no_window)
{
	struct metrics_set *cur = NULL, *prev = NULL;
	struct err me = ERR_INIT;
	json_t *ex = NULL;
	double prev_at = 0;
	const char *why = NULL;

	if (metrics_parse(text, len, METRICS_FORMAT_AUTO, &cur, &me) != 0) {
		json_object_set_new(rec, "parse_error", json_string(me.msg));
		return;
	}
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		window_take(w, key, &prev, &prev_at);
		pthread_mutex_unlock(&w->mu);
	}
	if (w == NULL) {
		why = no_window != NULL ? no_window : "this pull keeps no earlier scrape";
	} else if (prev == NULL) {
		why = "the first scrape of this pod since skewd started; the next poll has rates "
		    "and quantiles";
	} else if (!(at - prev_at > 0)) {
		why = "the earlier scrape of this pod is not older than this one";
	} else if (at - prev_at > COLLECT_WINDOW_MAX_AGE_S) {
		why = "the earlier scrape of this pod is too old to make a window";
	}
	if (why != NULL) {
		metrics_set_free(prev);
		prev = NULL;
	}
	if (metrics_extract(prev, prev_at, cur, at, &ex, &me) != 0) {
		json_object_set_new(rec, "parse_error", json_string(me.msg));
		goto out;
	}
	json_object_set(rec, "engine", json_object_get(ex, "engine") ? json_object_get(ex,
	    "engine") : json_null());
	json_object_set_new(rec, "window_seconds", prev != NULL ? json_real(at - prev_at) :
	    json_null());
	if (prev != NULL)
		json_object_set_new(rec, "window_from", json_real(prev_at));
	if (json_object_get(ex, "figures") != NULL) {
		if (why != NULL)
			explain_first(json_object_get(ex, "figures"), why);
		json_object_set(rec, "figures", json_object_get(ex, "figures"));
	}
	if (json_object_get(ex, "facts") != NULL)
		json_object_set(rec, "facts", json_object_get(ex, "facts"));
	if (json_object_get(ex, "gpus") != NULL)
		json_object_set(rec, "gpus", json_object_get(ex, "gpus"));
out:
	json_decref(ex);
	metrics_set_free(prev);
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		window_put(w, key, cur, at);
		pthread_mutex_unlock(&w->mu);
	} else {
		metrics_set_free(cur);
	}
}
