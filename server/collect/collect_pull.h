/*
 * collect_pull.h - pull.c's functions, for collect.c (needs kube.h).
 */
#ifndef SKEWD_COLLECT_COLLECT_PULL_H
#define SKEWD_COLLECT_COLLECT_PULL_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct kube_client;

/* A workload kind the collector reads. */
struct collect_kind {
	const char *lower;        /* "deployment": in target addresses and the store */
	const char *kind;         /* "Deployment" */
	const char *api_version;  /* "apps/v1" */
	const char *base;         /* "/apis/apps/v1" */
	const char *resource;     /* "deployments" */
	const char *group;        /* an optional API group that must be served, or NULL */
};

/* By lowercase or API name ("deployment", "Deployment"); NULL when unknown. */
const struct collect_kind *collect_kind_find(const char *name);
/* The i-th kind, NULL past the end. */
const struct collect_kind *collect_kind_at(size_t i);

/* Optional API groups the server serves (from /apis), with their preferred versions. */
struct collect_apis {
	int lws;                  /* leaderworkerset.x-k8s.io */
	char gateway[96];         /* "gateway.networking.k8s.io/v1", or "" */
	char istio[96];           /* "networking.istio.io/v1", or "" */
};

int collect_discover_apis(struct kube_client *k, struct collect_apis *apis, struct err *e);

/* Lists the workloads (every kind served) of `namespaces` (a JSON array; empty = all)
 * matching `label_selector`. *targets: the workload objects, kind and apiVersion set.
 * Returns 0; 1 when some lists failed (e says which, *targets has the rest); -1 when
 * none could be read. */
int collect_discover(struct kube_client *k, const struct collect_apis *apis, const json_t *namespaces,
    const char *label_selector, json_t **targets, struct err *e);

/* GETs one workload by namespace, kind (any case) and name; *out new reference. */
int collect_get_workload(struct kube_client *k, const char *ns, const char *kind, const char *name,
    json_t **out, struct err *e);

/*
 * The previous scrape of each pod (window.c): a bounded in-memory map from
 * "cluster/namespace/pod:port" to the last parsed scrape and its time. Safe to
 * share between threads.
 */
struct collect_window;

int collect_window_new(struct collect_window **out, struct err *e);
void collect_window_free(struct collect_window *w);  /* NULL-safe */
size_t collect_window_count(struct collect_window *w);
/* Parses a scrape taken at `at` (seconds since the epoch, fractional), extracts its figures
 * over the window since the previous scrape of `key` (or gauges only, with the reason in each
 * absent figure), sets engine, figures, facts, gpus, window_seconds (or parse_error) on rec,
 * and keeps the scrape as key's previous one. `w` NULL: one scrape, nothing kept, and
 * `no_window` (NULL: a default) is the reason the window figures give. */
void collect_window_figures(struct collect_window *w, const char *key, json_t *rec, const char *text,
    size_t len, double at, const char *no_window);

/* What a pull needs beyond the cluster connection; borrowed. */
struct collect_pull_ctx {
	struct collect_window *window;  /* NULL: one-scrape figures */
	const char *no_window;          /* why there is no window when `window` is NULL, or NULL */
	const char *dcgm_selector;      /* label selector of DCGM exporter pods; NULL or "": none */
};

/* Pulls what belongs to a workload into a raw pull (docs/snapshot.md); *raw_out new
 * reference. -1 with e set when the workload's pods cannot be read. */
int collect_pull_target(struct kube_client *k, const struct collect_apis *apis, const char *cluster,
    const json_t *workload, const struct collect_pull_ctx *ctx, json_t **raw_out, struct err *e);

#endif
