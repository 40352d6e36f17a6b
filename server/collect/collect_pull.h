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

/* Pulls what belongs to a workload into a raw pull (docs/snapshot.md); *raw_out new
 * reference. -1 with e set when the workload's pods cannot be read. */
int collect_pull_target(struct kube_client *k, const struct collect_apis *apis, const char *cluster,
    const json_t *workload, json_t **raw_out, struct err *e);

#endif
