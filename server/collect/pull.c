/*
 * pull.c - reading one cluster through kube.h into raw pulls.
 *
 * Discovery lists the workloads of the watched namespaces in one batch. A
 * target's pull is two batches: first what only needs the workload (its
 * pods, ReplicaSets, the namespace's HPAs, Services, Ingresses, routes,
 * PDBs, the referenced ConfigMaps and Secrets by name, its events), then
 * what needs the pods (their nodes by name, their events, logs, and the
 * engine's /metrics and /v1/models through the pod proxy). Lists omit
 * `kind` and `apiVersion` on their items, as the API server does; they are
 * put back here so the documents are whole objects.
 *
 * A request that fails for an optional kind (403, 404, ...) leaves a
 * sentence in the raw pull's `unreadable` list; only the workload and its
 * pods are required.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "collect/collect_pull.h"
#include "kube/kube.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static const struct collect_kind kinds[] = {
	{ "deployment", "Deployment", "apps/v1", "/apis/apps/v1", "deployments", NULL },
	{ "statefulset", "StatefulSet", "apps/v1", "/apis/apps/v1", "statefulsets", NULL },
	{ "leaderworkerset", "LeaderWorkerSet", "leaderworkerset.x-k8s.io/v1",
		"/apis/leaderworkerset.x-k8s.io/v1", "leaderworkersets", "leaderworkerset.x-k8s.io" },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

const struct collect_kind *
collect_kind_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && kinds[i].lower != NULL; i++)
		if (strcasecmp(kinds[i].lower, name) == 0)
			return &kinds[i];
	return NULL;
}

const struct collect_kind *
collect_kind_at(size_t i)
{
	return kinds[i].lower != NULL ? &kinds[i] : NULL;
}

/* Items of a list answer, each with kind and apiVersion set; new reference. */
static json_t *
list_items(const json_t *list, const char *kind, const char *api_version)
{
	json_t *out = json_array(), *it;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, it) {
		json_t *c = json_deep_copy(it);

		if (c == NULL)
			continue;
		if (json_object_get(c, "kind") == NULL)
			json_object_set_new(c, "kind", json_string(kind));
		if (json_object_get(c, "apiVersion") == NULL)
			json_object_set_new(c, "apiVersion", json_string(api_version));
		json_array_append_new(out, c);
	}
	return out;
}

static void
unreadable(json_t *raw, const char *what, const struct err *ie)
{
	char line[ERR_MSG_MAX + 256];

	snprintf(line, sizeof(line), "could not read %.200s: %.*s", what, ERR_MSG_MAX - 1, ie->msg);
	json_array_append_new(json_object_get(raw, "unreadable"), json_string(line));
}

/* Which optional API groups the server serves, from /apis. */
int
collect_discover_apis(struct kube_client *k, struct collect_apis *apis, struct err *e)
{
	json_t *doc = NULL, *g;
	size_t i;

	memset(apis, 0, sizeof(*apis));
	if (kube_get_json(k, "/apis", &doc, e) != 0)
		return -1;
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		const char *name = collect_str(g, "name");
		const char *pv = collect_str(json_object_get(g, "preferredVersion"), "groupVersion");

		if (name == NULL || pv == NULL)
			continue;
		if (strcmp(name, "leaderworkerset.x-k8s.io") == 0)
			apis->lws = 1;
		else if (strcmp(name, "gateway.networking.k8s.io") == 0)
			snprintf(apis->gateway, sizeof(apis->gateway), "%s", pv);
		else if (strcmp(name, "networking.istio.io") == 0)
			snprintf(apis->istio, sizeof(apis->istio), "%s", pv);
	}
	json_decref(doc);
	return 0;
}

static int
ns_path(char *out, size_t outsz, const char *base, const char *ns, const char *resource,
    const char *query)
{
	char ens[512];
	int n;

	if (kube_escape(ns, ens, sizeof(ens)) != 0)
		return -1;
	n = snprintf(out, outsz, "%s/namespaces/%s/%s%s%s", base, ens, resource,
	    query && *query ? "?" : "", query ? query : "");
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
collect_discover(struct kube_client *k, const struct collect_apis *apis, const json_t *namespaces,
    const char *label_selector, json_t **targets, struct err *e)
{
	struct kube_batch *b = NULL;
	char path[COLLECT_MAX_PATH], q[COLLECT_MAX_SELECTOR + 32], esel[COLLECT_MAX_SELECTOR];
	json_t *out = json_array(), *idx = json_array();
	size_t nns = json_array_size(namespaces), i, j, ok = 0, nreq = 0;
	struct err first = ERR_INIT;
	int ret = -1;

	*targets = NULL;
	q[0] = '\0';
	if (label_selector != NULL && *label_selector != '\0') {
		if (kube_escape(label_selector, esel, sizeof(esel)) != 0) {
			err_set(e, ERR_INVALID, "the cluster's label selector is too long");
			goto out;
		}
		snprintf(q, sizeof(q), "labelSelector=%s", esel);
	}
	if (kube_batch_new(k, &b, e) != 0)
		goto out;
	for (j = 0; kinds[j].lower != NULL; j++) {
		if (kinds[j].group != NULL && !apis->lws)
			continue;
		for (i = 0; i < (nns ? nns : 1); i++) {
			int at;

			if (nns == 0) {
				if (snprintf(path, sizeof(path), "%s/%s%s%s", kinds[j].base,
				    kinds[j].resource, *q ? "?" : "", q) >= (int)sizeof(path)) {
					err_set(e, ERR_TOO_LARGE, "a discovery path is too long");
					goto out;
				}
			} else if (ns_path(path, sizeof(path), kinds[j].base,
			    json_string_value(json_array_get(namespaces, i)), kinds[j].resource, q) != 0) {
				err_set(e, ERR_TOO_LARGE, "a discovery path is too long");
				goto out;
			}
			if ((at = kube_batch_add(b, path, 1, COLLECT_LIST_MAX_BYTES, e)) < 0)
				goto out;
			json_array_append_new(idx, json_integer((json_int_t)j));
			nreq++;
		}
	}
	if (kube_batch_run(b, e) != 0)
		goto out;
	for (i = 0; i < nreq; i++) {
		const struct collect_kind *kd = &kinds[json_integer_value(json_array_get(idx, i))];
		struct err ie = ERR_INIT;
		json_t *doc = NULL, *items, *it;
		size_t x;

		if (kube_batch_result(b, i, &doc, NULL, NULL, &ie) != 0) {
			if (first.code == ERR_OK)
				first = ie;
			continue;
		}
		ok++;
		items = list_items(doc, kd->kind, kd->api_version);
		json_array_foreach(items, x, it) {
			if (json_array_size(out) >= COLLECT_MAX_TARGETS)
				break;
			json_array_append(out, it);
		}
		json_decref(items);
	}
	if (ok == 0 && nreq > 0) {
		if (e != NULL)
			*e = first;
		goto out;
	}
	if (first.code != ERR_OK && ok < nreq) {
		/* Some namespaces or kinds could not be listed: a partial discovery is an
		 * error of the cluster, but what was found is still pulled. */
		if (e != NULL) {
			*e = first;
			err_prefix(e, "discovery was partial");
		}
		*targets = out;
		out = NULL;
		ret = 1;
		goto out;
	}
	*targets = out;
	out = NULL;
	ret = 0;
out:
	kube_batch_free(b);
	json_decref(out);
	json_decref(idx);
	return ret;
}

/* ---- one target -------------------------------------------------------- */

enum slot { S_PODS, S_RS, S_HPA, S_SVC, S_ING, S_ROUTE, S_VS, S_PDB, S_EVENTS, S__COUNT };

struct reqmap {
	json_t *what;    /* per request index: {"bin": ..., "kind": ..., "api": ..., "what": ...} */
};

static int
add_req(struct kube_batch *b, json_t *map, const char *path, int want_json, size_t max,
    json_t *info, struct err *e)
{
	if (kube_batch_add(b, path, want_json, max, e) < 0) {
		json_decref(info);
		return -1;
	}
	json_array_append_new(map, info);
	return 0;
}

static int
add_list(struct kube_batch *b, json_t *map, const char *base, const char *ns, const char *res,
    const char *query, const char *bin, const char *kind, const char *api, int required,
    struct err *e)
{
	char path[COLLECT_MAX_PATH];

	if (ns_path(path, sizeof(path), base, ns, res, query) != 0)
		return err_set(e, ERR_TOO_LARGE, "an API path for %s is too long", res);
	return add_req(b, map, path, 1, COLLECT_LIST_MAX_BYTES, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}",
	    "bin", bin, "kind", kind, "api", api, "what", res, "list", 1, "required", required), e);
}

static int
add_get(struct kube_batch *b, json_t *map, const char *base, const char *ns, const char *res,
    const char *name, const char *bin, const char *kind, const char *api, struct err *e)
{
	char path[COLLECT_MAX_PATH], en[512], what[600];
	int n;

	if (kube_escape(name, en, sizeof(en)) != 0)
		return err_set(e, ERR_TOO_LARGE, "an object name is too long");
	if (ns != NULL) {
		char rs[600];

		snprintf(rs, sizeof(rs), "%s/%s", res, en);
		if (ns_path(path, sizeof(path), base, ns, rs, NULL) != 0)
			return err_set(e, ERR_TOO_LARGE, "an API path for %s is too long", res);
	} else {
		n = snprintf(path, sizeof(path), "%s/%s/%s", base, res, en);
		if (n < 0 || (size_t)n >= sizeof(path))
			return err_set(e, ERR_TOO_LARGE, "an API path for %s is too long", res);
	}
	snprintf(what, sizeof(what), "%s '%s'", kind, name);
	return add_req(b, map, path, 1, COLLECT_LIST_MAX_BYTES, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}",
	    "bin", bin, "kind", kind, "api", api, "what", what, "list", 0, "required", 0), e);
}

static int
add_events(struct kube_batch *b, json_t *map, const char *ns, const char *name, struct err *e)
{
	char q[600], en[512];

	if (kube_escape(name, en, sizeof(en)) != 0)
		return err_set(e, ERR_TOO_LARGE, "an object name is too long");
	snprintf(q, sizeof(q), "fieldSelector=involvedObject.name%%3D%s", en);
	return add_list(b, map, "/api/v1", ns, "events", q, "events", "Event", "v1", 0, e);
}

/* Seconds since the epoch, fractional: the window between two polls may be short. */
static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps, of a DCGM exporter's GPUs, those its pod mapping gives to one of the workload's
 * pods (`pods`: an object whose keys are the pod names, in namespace ns). */
static void
dcgm_attribute(json_t *rec, const json_t *pods, const char *ns)
{
	json_t *kept = json_array(), *g;
	size_t i;

	json_array_foreach(json_object_get(rec, "gpus"), i, g) {
		const char *gp = collect_str(g, "pod"), *gn = collect_str(g, "namespace");

		if (gp != NULL && gn != NULL && strcmp(gn, ns) == 0 && json_object_get(pods, gp) != NULL)
			json_array_append(kept, g);
	}
	json_object_set_new(rec, "gpus", kept);
	json_object_set_new(rec, "gpus_on_node", json_integer((json_int_t)i));
	/* An exporter reports no serving figures: leave them out rather than list every one absent. */
	json_object_del(rec, "figures");
	json_object_del(rec, "facts");
	json_object_del(rec, "engine");
	json_object_del(rec, "window_seconds");
}

/* Files the results of a batch into raw. Returns -1 with e set when a required
 * request failed. */
static int
file_results(struct kube_batch *b, const json_t *map, json_t *raw, const char *ns,
    const struct collect_pull_ctx *ctx, struct err *e)
{
	const json_t *target = json_object_get(raw, "target");
	double at = now_real();

	size_t i;

	for (i = 0; i < json_array_size(map); i++) {
		const json_t *info = json_array_get(map, i);
		const char *bin = collect_str(info, "bin");
		struct err ie = ERR_INIT;
		json_t *doc = NULL;
		const char *text = NULL;
		size_t len = 0;
		char what[700];

		snprintf(what, sizeof(what), "%s in namespace '%s'", collect_str(info, "what"), ns);
		if (strcmp(bin, "logs") == 0 || strcmp(bin, "scrapes") == 0) {
			json_t *rec = json_deep_copy(json_object_get(info, "rec"));

			if (kube_batch_result(b, i, NULL, &text, &len, &ie) != 0) {
				json_object_set_new(rec, "error", json_string(ie.msg));
			} else if (strcmp(bin, "logs") == 0) {
				json_object_set_new(rec, "text", json_stringn(text, len));
				if (json_object_get(rec, "text") == NULL)
					json_object_set_new(rec, "text", json_string(""));
			} else {
				char key[COLLECT_MAX_PATH];
				int dcgm = collect_str(rec, "source") != NULL &&
				    strcmp(collect_str(rec, "source"), "dcgm") == 0;

				snprintf(key, sizeof(key), "%s/%s/%s:%lld", collect_str(target, "cluster"),
				    dcgm ? collect_str(rec, "namespace") : ns, collect_str(rec, "pod"),
				    (long long)json_integer_value(json_object_get(rec, "port")));
				json_object_set_new(rec, "bytes", json_integer((json_int_t)len));
				json_object_set_new(rec, "at", json_integer((json_int_t)at));
				/* An exporter's GPU figures are gauges: no window is kept for it. */
				collect_window_figures(dcgm || ctx == NULL ? NULL : ctx->window, key, rec,
				    text, len, at, ctx != NULL ? ctx->no_window : NULL);
				if (dcgm)
					dcgm_attribute(rec, json_object_get(raw, "pod_names"), ns);
			}
			json_array_append_new(json_object_get(raw, bin), rec);
			continue;
		}
		if (strcmp(bin, "models") == 0) {
			json_t *rec = json_deep_copy(json_object_get(info, "rec")), *ids = json_array(), *m;
			size_t x;

			if (kube_batch_result(b, i, &doc, NULL, NULL, &ie) != 0) {
				json_object_set_new(rec, "error", json_string(ie.msg));
				json_decref(ids);
			} else {
				json_array_foreach(json_object_get(doc, "data"), x, m) {
					json_array_append_new(ids, json_pack("{s:O?,s:O?,s:O?}", "id",
					    json_object_get(m, "id"), "root", json_object_get(m, "root"),
					    "max_model_len", json_object_get(m, "max_model_len")));
				}
				json_object_set_new(rec, "models", ids);
			}
			json_array_append_new(json_object_get(raw, "models"), rec);
			continue;
		}
		if (kube_batch_result(b, i, &doc, NULL, NULL, &ie) != 0) {
			if (json_is_true(json_object_get(info, "required"))) {
				if (e != NULL)
					*e = ie;
				return err_prefix(e, "reading %s", what);
			}
			unreadable(raw, what, &ie);
			continue;
		}
		if (json_is_true(json_object_get(info, "list"))) {
			json_t *items = list_items(doc, collect_str(info, "kind"),
			    collect_str(info, "api"));

			json_array_extend(json_object_get(raw, bin), items);
			json_decref(items);
		} else {
			json_t *c = json_deep_copy(doc);

			if (json_object_get(c, "kind") == NULL)
				json_object_set_new(c, "kind", json_string(collect_str(info, "kind")));
			if (json_object_get(c, "apiVersion") == NULL)
				json_object_set_new(c, "apiVersion", json_string(collect_str(info, "api")));
			json_array_append_new(json_object_get(raw, bin), c);
		}
	}
	return 0;
}

/* The first declared containerPort of the pod's containers, 0 when none. */
static long
pod_port(const json_t *pod)
{
	const json_t *cts = json_object_get(json_object_get(pod, "spec"), "containers"), *c;
	size_t i, j;

	json_array_foreach(cts, i, c) {
		const json_t *ports = json_object_get(c, "ports");

		for (j = 0; j < json_array_size(ports); j++) {
			const json_t *p = json_array_get(ports, j);
			const char *proto = collect_str(p, "protocol");

			if ((proto == NULL || strcmp(proto, "TCP") == 0) &&
			    json_integer_value(json_object_get(p, "containerPort")) > 0)
				return (long)json_integer_value(json_object_get(p, "containerPort"));
		}
	}
	return 0;
}

/* Lists, in every namespace, the DCGM exporter pods on `node` (none when no selector). */
static int
add_dcgm_list(struct kube_batch *b, json_t *map, const struct collect_pull_ctx *ctx, const char *node,
    struct err *e)
{
	char path[COLLECT_MAX_PATH], esel[COLLECT_MAX_SELECTOR * 3], enode[512], what[700];

	if (ctx == NULL || ctx->dcgm_selector == NULL || ctx->dcgm_selector[0] == '\0')
		return 0;
	if (kube_escape(ctx->dcgm_selector, esel, sizeof(esel)) != 0 ||
	    kube_escape(node, enode, sizeof(enode)) != 0)
		return err_set(e, ERR_TOO_LARGE, "the DCGM exporter selector or a node name is too long");
	if (snprintf(path, sizeof(path), "/api/v1/pods?labelSelector=%.2048s&fieldSelector="
	    "spec.nodeName%%3D%.500s", esel, enode) >= (int)sizeof(path) || strlen(esel) > 2048)
		return err_set(e, ERR_TOO_LARGE, "the DCGM exporter selector is too long");
	snprintf(what, sizeof(what), "DCGM exporter pods (%s) on node '%s', all namespaces",
	    ctx->dcgm_selector, node);
	return add_req(b, map, path, 1, COLLECT_LIST_MAX_BYTES, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}",
	    "bin", "dcgm_exporters", "kind", "Pod", "api", "v1", "what", what, "list", 1,
	    "required", 0), e);
}

/* Scrapes each DCGM exporter pod found (running, at most COLLECT_MAX_DCGM_PODS) through
 * the pod proxy, at its first declared TCP port or 9400. */
static int
add_dcgm_scrapes(struct kube_batch *b, json_t *map, json_t *raw, struct err *e)
{
	json_t *seen = json_object(), *pod;
	size_t i, n = 0;
	int ret = -1;

	json_array_foreach(json_object_get(raw, "dcgm_exporters"), i, pod) {
		const char *pn = collect_str(json_object_get(pod, "metadata"), "name");
		const char *pns = collect_str(json_object_get(pod, "metadata"), "namespace");
		const char *node = collect_str(json_object_get(pod, "spec"), "nodeName");
		const char *phase = collect_str(json_object_get(pod, "status"), "phase");
		char path[COLLECT_MAX_PATH], rs[COLLECT_MAX_PATH], epn[512], id[1100];
		long port = pod_port(pod);

		if (pn == NULL || pns == NULL || (phase != NULL && strcmp(phase, "Running") != 0) ||
		    kube_escape(pn, epn, sizeof(epn)) != 0)
			continue;
		snprintf(id, sizeof(id), "%s/%s", pns, pn);
		if (json_object_get(seen, id) != NULL)
			continue;
		json_object_set_new(seen, id, json_true());
		if (n++ >= COLLECT_MAX_DCGM_PODS)
			break;
		if (port <= 0)
			port = COLLECT_DCGM_DEFAULT_PORT;
		snprintf(rs, sizeof(rs), "pods/%s:%ld/proxy/metrics", epn, port);
		if (ns_path(path, sizeof(path), "/api/v1", pns, rs, NULL) != 0)
			continue;
		if (add_req(b, map, path, 0, METRICS_MAX_BYTES, json_pack(
		    "{s:s,s:{s:s,s:s,s:s,s:s?,s:i,s:s,s:I}}", "bin", "scrapes", "rec", "source", "dcgm",
		    "pod", pn, "namespace", pns, "node", node, "port", (int)port, "path", "/metrics",
		    "at", (json_int_t)time(NULL)), e) != 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(seen);
	return ret;
}

int
collect_pull_target(struct kube_client *k, const struct collect_apis *apis, const char *cluster,
    const json_t *workload, const struct collect_pull_ctx *ctx, json_t **raw_out, struct err *e)
{
	static const char *const bins[] = { "pods", "nodes", "configmaps", "secrets", "hpas",
		"services", "ingresses", "httproutes", "virtualservices", "pdbs", "events",
		"replicasets", "logs", "scrapes", "models", "unreadable", "dcgm_exporters", NULL };
	const char *ns = collect_str(json_object_get(workload, "metadata"), "namespace");
	const char *name = collect_str(json_object_get(workload, "metadata"), "name");
	const char *kind = collect_str(workload, "kind");
	const json_t *spec = json_object_get(workload, "spec");
	const json_t *sel = json_object_get(spec, "selector"), *pod;
	struct kube_batch *b1 = NULL, *b2 = NULL, *b3 = NULL;
	json_t *raw = json_object(), *map1 = json_array(), *map2 = json_array(), *map3 = json_array();
	json_t *cms = json_object(), *secs = json_object(), *nodes = json_object(), *v;
	char selstr[COLLECT_MAX_SELECTOR], esel[COLLECT_MAX_SELECTOR * 3], q[COLLECT_MAX_SELECTOR * 3 + 32];
	const char *key;
	size_t i, j;
	int ret = -1;

	*raw_out = NULL;
	if (ns == NULL || name == NULL || kind == NULL) {
		err_set(e, ERR_INVALID, "a discovered workload has no namespace, name or kind");
		goto out;
	}
	for (i = 0; bins[i] != NULL; i++)
		json_object_set_new(raw, bins[i], json_array());
	json_object_set_new(raw, "target", json_pack("{s:s,s:s,s:s,s:s}", "cluster", cluster,
	    "namespace", ns, "kind", kind, "name", name));
	json_object_set_new(raw, "pulled_at", json_integer((json_int_t)time(NULL)));
	json_object_set(raw, "workload", (json_t *)workload);
	if (sel == NULL && strcmp(kind, "LeaderWorkerSet") == 0) {
		snprintf(selstr, sizeof(selstr), "leaderworkerset.sigs.k8s.io/name=%s", name);
	} else if (collect_selector_string(sel, selstr, sizeof(selstr), e) != 0) {
		goto out;
	}
	if (selstr[0] == '\0') {
		err_set(e, ERR_INVALID, "%s '%s' has an empty selector", kind, name);
		goto out;
	}
	if (kube_escape(selstr, esel, sizeof(esel)) != 0) {
		err_set(e, ERR_TOO_LARGE, "the selector of %s '%s' is too long", kind, name);
		goto out;
	}
	snprintf(q, sizeof(q), "labelSelector=%s", esel);

	/* Batch 1: what the workload alone tells us to read. */
	collect_pod_refs(json_object_get(json_object_get(spec, "template"), "spec"), cms, secs);
	if (kube_batch_new(k, &b1, e) != 0 ||
	    add_list(b1, map1, "/api/v1", ns, "pods", q, "pods", "Pod", "v1", 1, e) != 0 ||
	    (strcmp(kind, "Deployment") == 0 && add_list(b1, map1, "/apis/apps/v1", ns,
	    "replicasets", q, "replicasets", "ReplicaSet", "apps/v1", 0, e) != 0) ||
	    add_list(b1, map1, "/apis/autoscaling/v2", ns, "horizontalpodautoscalers", NULL, "hpas",
	    "HorizontalPodAutoscaler", "autoscaling/v2", 0, e) != 0 ||
	    add_list(b1, map1, "/api/v1", ns, "services", NULL, "services", "Service", "v1", 0,
	    e) != 0 ||
	    add_list(b1, map1, "/apis/networking.k8s.io/v1", ns, "ingresses", NULL, "ingresses",
	    "Ingress", "networking.k8s.io/v1", 0, e) != 0 ||
	    add_list(b1, map1, "/apis/policy/v1", ns, "poddisruptionbudgets", NULL, "pdbs",
	    "PodDisruptionBudget", "policy/v1", 0, e) != 0 ||
	    add_events(b1, map1, ns, name, e) != 0)
		goto out;
	if (apis->gateway[0] != '\0') {
		char base[128], api[128];

		snprintf(base, sizeof(base), "/apis/%s", apis->gateway);
		snprintf(api, sizeof(api), "%s", apis->gateway);
		if (add_list(b1, map1, base, ns, "httproutes", NULL, "httproutes", "HTTPRoute", api, 0,
		    e) != 0)
			goto out;
	}
	if (apis->istio[0] != '\0') {
		char base[128], api[128];

		snprintf(base, sizeof(base), "/apis/%s", apis->istio);
		snprintf(api, sizeof(api), "%s", apis->istio);
		if (add_list(b1, map1, base, ns, "virtualservices", NULL, "virtualservices",
		    "VirtualService", api, 0, e) != 0)
			goto out;
	}
	json_object_foreach(cms, key, v)
		if (add_get(b1, map1, "/api/v1", ns, "configmaps", key, "configmaps", "ConfigMap", "v1",
		    e) != 0)
			goto out;
	json_object_foreach(secs, key, v)
		if (add_get(b1, map1, "/api/v1", ns, "secrets", key, "secrets", "Secret", "v1", e) != 0)
			goto out;
	if (kube_batch_run(b1, e) != 0 || file_results(b1, map1, raw, ns, ctx, e) != 0)
		goto out;
	if (json_array_size(json_object_get(raw, "pods")) > COLLECT_MAX_PODS) {
		err_set(e, ERR_TOO_LARGE, "%s '%s' has more than %d pods", kind, name, COLLECT_MAX_PODS);
		goto out;
	}

	/* Batch 2: what the pods tell us to read. */
	if (kube_batch_new(k, &b2, e) != 0)
		goto out;
	json_object_set_new(raw, "pod_names", json_object());
	json_array_foreach(json_object_get(raw, "pods"), i, pod) {
		const char *pn = collect_str(json_object_get(pod, "metadata"), "name");

		if (pn != NULL)
			json_object_set_new(json_object_get(raw, "pod_names"), pn, json_true());
	}
	json_array_foreach(json_object_get(raw, "replicasets"), i, v) {
		const char *rsn = collect_str(json_object_get(v, "metadata"), "name");

		if (rsn != NULL && add_events(b2, map2, ns, rsn, e) != 0)
			goto out;
	}
	json_array_foreach(json_object_get(raw, "pods"), i, pod) {
		const char *pn = collect_str(json_object_get(pod, "metadata"), "name");
		const char *node = collect_str(json_object_get(pod, "spec"), "nodeName");
		const json_t *cts = json_object_get(json_object_get(pod, "spec"), "containers");
		const char *phase = collect_str(json_object_get(pod, "status"), "phase");
		char path[COLLECT_MAX_PATH], epn[512];
		long port = pod_port(pod);

		if (pn == NULL || kube_escape(pn, epn, sizeof(epn)) != 0)
			continue;
		if (node != NULL && json_object_get(nodes, node) == NULL) {
			json_object_set_new(nodes, node, json_null());
			if (add_get(b2, map2, "/api/v1", NULL, "nodes", node, "nodes", "Node", "v1",
			    e) != 0 || add_dcgm_list(b2, map2, ctx, node, e) != 0)
				goto out;
		}
		collect_pod_refs(json_object_get(pod, "spec"), cms, secs);
		if (add_events(b2, map2, ns, pn, e) != 0)
			goto out;
		for (j = 0; j < json_array_size(cts); j++) {
			const char *cn = collect_str(json_array_get(cts, j), "name");
			char ecn[256], rs[COLLECT_MAX_PATH];

			if (cn == NULL || kube_escape(cn, ecn, sizeof(ecn)) != 0)
				continue;
			snprintf(rs, sizeof(rs), "pods/%s/log", epn);
			if (ns_path(path, sizeof(path), "/api/v1", ns, rs, NULL) != 0)
				continue;
			snprintf(path + strlen(path), sizeof(path) - strlen(path),
			    "?container=%s&sinceSeconds=%d&limitBytes=%d", ecn, COLLECT_EVENT_WINDOW_S,
			    COLLECT_LOG_MAX_BYTES);
			if (add_req(b2, map2, path, 0, COLLECT_LOG_MAX_BYTES + 4096,
			    json_pack("{s:s,s:{s:s,s:s}}", "bin", "logs", "rec", "pod", pn,
			    "container", cn), e) != 0)
				goto out;
		}
		if (port > 0 && (phase == NULL || strcmp(phase, "Running") == 0)) {
			char rs[COLLECT_MAX_PATH];

			snprintf(rs, sizeof(rs), "pods/%s:%ld/proxy/metrics", epn, port);
			if (ns_path(path, sizeof(path), "/api/v1", ns, rs, NULL) == 0 &&
			    add_req(b2, map2, path, 0, METRICS_MAX_BYTES, json_pack(
			    "{s:s,s:{s:s,s:s,s:i,s:s,s:I}}", "bin", "scrapes", "rec", "source", "pod",
			    "pod", pn, "port", (int)port, "path", "/metrics", "at", (json_int_t)time(NULL)),
			    e) != 0)
				goto out;
			snprintf(rs, sizeof(rs), "pods/%s:%ld/proxy/v1/models", epn, port);
			if (ns_path(path, sizeof(path), "/api/v1", ns, rs, NULL) == 0 &&
			    add_req(b2, map2, path, 1, COLLECT_MODELS_MAX_BYTES, json_pack(
			    "{s:s,s:{s:s,s:i,s:I}}", "bin", "models", "rec", "pod", pn, "port",
			    (int)port, "at", (json_int_t)time(NULL)), e) != 0)
				goto out;
		}
	}
	/* Pods may reference objects the template does not (a rollout in progress). */
	json_object_foreach(cms, key, v) {
		size_t x;
		json_t *have;
		int found = 0;

		json_array_foreach(json_object_get(raw, "configmaps"), x, have)
			if (collect_str(json_object_get(have, "metadata"), "name") != NULL &&
			    strcmp(collect_str(json_object_get(have, "metadata"), "name"), key) == 0)
				found = 1;
		if (!found && add_get(b2, map2, "/api/v1", ns, "configmaps", key, "configmaps",
		    "ConfigMap", "v1", e) != 0)
			goto out;
	}
	if (json_array_size(map2) > 0 &&
	    (kube_batch_run(b2, e) != 0 || file_results(b2, map2, raw, ns, ctx, e) != 0))
		goto out;

	/* Batch 3: the DCGM exporters on the pods' nodes. */
	if (json_array_size(json_object_get(raw, "dcgm_exporters")) > 0) {
		if (kube_batch_new(k, &b3, e) != 0 || add_dcgm_scrapes(b3, map3, raw, e) != 0)
			goto out;
		if (json_array_size(map3) > 0 &&
		    (kube_batch_run(b3, e) != 0 || file_results(b3, map3, raw, ns, ctx, e) != 0))
			goto out;
	}
	json_object_del(raw, "dcgm_exporters");
	json_object_del(raw, "pod_names");
	*raw_out = raw;
	raw = NULL;
	ret = 0;
out:
	kube_batch_free(b1);
	kube_batch_free(b2);
	kube_batch_free(b3);
	json_decref(raw);
	json_decref(map1);
	json_decref(map2);
	json_decref(map3);
	json_decref(cms);
	json_decref(secs);
	json_decref(nodes);
	return ret;
}

int
collect_get_workload(struct kube_client *k, const char *ns, const char *kind, const char *name,
    json_t **out, struct err *e)
{
	const struct collect_kind *kd = collect_kind_find(kind);
	char path[COLLECT_MAX_PATH], en[512], rs[700];
	json_t *doc = NULL;

	*out = NULL;
	if (kd == NULL)
		return err_set(e, ERR_INVALID, "unknown workload kind '%s' (deployment, statefulset or "
		    "leaderworkerset)", kind);
	if (kube_escape(name, en, sizeof(en)) != 0)
		return err_set(e, ERR_INVALID, "the workload name is too long");
	snprintf(rs, sizeof(rs), "%s/%s", kd->resource, en);
	if (ns_path(path, sizeof(path), kd->base, ns, rs, NULL) != 0)
		return err_set(e, ERR_INVALID, "the workload path is too long");
	if (kube_get_json(k, path, &doc, e) != 0)
		return -1;
	if (json_object_get(doc, "kind") == NULL)
		json_object_set_new(doc, "kind", json_string(kd->kind));
	if (json_object_get(doc, "apiVersion") == NULL)
		json_object_set_new(doc, "apiVersion", json_string(kd->api_version));
	*out = doc;
	return 0;
}
