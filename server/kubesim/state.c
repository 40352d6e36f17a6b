/*
 * state.c - the resources kubesim serves and the objects of one state.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubesim/kubesim_int.h"
#include "doc/doc.h"
#include "util/err.h"
#include "util/banned.h"

#define RO "get list watch"
#define RW "create delete deletecollection get list patch update watch"

/* The resources of a 1.30 cluster that skewd reads, plus a few it must not
 * touch (RBAC objects) so that a test can see a 403 for them. */
const struct ks_resource ks_resources[] = {
	{ "", "v1", "namespaces", "namespace", "Namespace", 0, "create delete get list patch update watch", "ns", "status.phase" },
	{ "", "v1", "nodes", "node", "Node", 0, RW, "no", "spec.unschedulable" },
	{ "", "v1", "pods", "pod", "Pod", 1, RW, "po", "spec.nodeName status.phase spec.restartPolicy spec.schedulerName spec.serviceAccountName status.podIP" },
	{ "", "v1", "configmaps", "configmap", "ConfigMap", 1, RW, "cm", "" },
	{ "", "v1", "secrets", "secret", "Secret", 1, RW, "", "type" },
	{ "", "v1", "services", "service", "Service", 1, "create delete deletecollection get list patch update watch", "svc", "" },
	{ "", "v1", "events", "event", "Event", 1, RW, "ev", "involvedObject.kind involvedObject.namespace involvedObject.name involvedObject.uid involvedObject.apiVersion involvedObject.resourceVersion involvedObject.fieldPath reason reportingComponent source type" },
	{ "apps", "v1", "deployments", "deployment", "Deployment", 1, RW, "deploy", "" },
	{ "apps", "v1", "replicasets", "replicaset", "ReplicaSet", 1, RW, "rs", "status.replicas" },
	{ "apps", "v1", "statefulsets", "statefulset", "StatefulSet", 1, RW, "sts", "" },
	{ "autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", 1, RW, "hpa", "" },
	{ "networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", 1, RW, "ing", "" },
	{ "policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", 1, RW, "pdb", "" },
	{ "events.k8s.io", "v1", "events", "event", "Event", 1, RW, "", "regarding.kind regarding.namespace regarding.name reason type" },
	{ "gateway.networking.k8s.io", "v1", "httproutes", "httproute", "HTTPRoute", 1, RW, "", "" },
	{ "networking.istio.io", "v1beta1", "virtualservices", "virtualservice", "VirtualService", 1, RW, "vs", "" },
	{ "leaderworkerset.x-k8s.io", "v1", "leaderworkersets", "leaderworkerset", "LeaderWorkerSet", 1, RW, "lws", "" },
	{ "rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", 0, RW, "", "" },
	{ "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", 0, RW, "", "" },
	{ "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", 0, "create", "", "" },
};
const size_t ks_nresources = sizeof(ks_resources) / sizeof(ks_resources[0]);

const struct ks_resource *
ks_resource_find(const char *group, const char *version, const char *name)
{
	size_t i;

	for (i = 0; i < ks_nresources; i++) {
		if (strcmp(ks_resources[i].group, group) == 0 &&
		    strcmp(ks_resources[i].version, version) == 0 &&
		    strcmp(ks_resources[i].name, name) == 0)
			return &ks_resources[i];
	}
	return NULL;
}

const struct ks_resource *
ks_resource_by_kind(const char *api_version, const char *kind)
{
	const char *slash = strchr(api_version, '/');
	size_t glen = slash != NULL ? (size_t)(slash - api_version) : 0;
	const char *version = slash != NULL ? slash + 1 : api_version;
	size_t i;

	for (i = 0; i < ks_nresources; i++) {
		const struct ks_resource *r = &ks_resources[i];

		if (strlen(r->group) == glen && strncmp(r->group, api_version, glen) == 0 &&
		    strcmp(r->version, version) == 0 && strcmp(r->kind, kind) == 0)
			return r;
	}
	return NULL;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A uid that stays the same for the same object across loads and states. */
static void
stable_uid(const char *kind, const char *ns, const char *name, char out[37])
{
	char seed[1024], hex[65];

	snprintf(seed, sizeof(seed), "%s/%s/%s", kind, ns, name);
	doc_sha256_hex(seed, strlen(seed), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static int add_tagged(struct ks_state *s, json_t *obj, const struct ks_resource *res);
static json_t *event_v1(const json_t *ev);

static int
add_object(struct ks_state *s, const char *file, json_t *obj, unsigned long *rv, struct err *e)
{
	const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const struct ks_resource *res;
	json_t *meta;
	const char *name, *ns;
	char buf[64], uid[37];

	if (api_version == NULL || kind == NULL)
		return err_set(e, ERR_INVALID, "state file '%s': an object has no apiVersion or kind", file);
	res = ks_resource_by_kind(api_version, kind);
	if (res == NULL)
		return err_set(e, ERR_INVALID, "state file '%s': kubesim does not serve %s '%s'", file, api_version,
		    kind);
	meta = json_object_get(obj, "metadata");
	name = json_string_value(json_object_get(meta, "name"));
	if (!json_is_object(meta) || name == NULL)
		return err_set(e, ERR_INVALID, "state file '%s': a %s has no metadata.name", file, kind);
	ns = json_string_value(json_object_get(meta, "namespace"));
	if (res->namespaced && ns == NULL)
		return err_set(e, ERR_INVALID, "state file '%s': %s '%s' has no metadata.namespace", file, kind, name);
	if (!res->namespaced && ns != NULL)
		return err_set(e, ERR_INVALID, "state file '%s': %s '%s' is cluster-scoped but has a namespace",
		    file, kind, name);
	if (s->nobjs >= KUBESIM_MAX_OBJECTS)
		return err_set(e, ERR_TOO_LARGE, "state '%s' has more than %d objects", s->name, KUBESIM_MAX_OBJECTS);
	if (json_object_get(meta, "resourceVersion") == NULL) {
		snprintf(buf, sizeof(buf), "%lu", ++*rv);
		if (json_object_set_new(meta, "resourceVersion", json_string(buf)) < 0)
			return err_set(e, ERR_NOMEM, "out of memory loading state '%s'", s->name);
	}
	if (json_object_get(meta, "uid") == NULL) {
		stable_uid(kind, ns != NULL ? ns : "", name, uid);
		if (json_object_set_new(meta, "uid", json_string(uid)) < 0)
			return err_set(e, ERR_NOMEM, "out of memory loading state '%s'", s->name);
	}
	if (json_object_get(meta, "creationTimestamp") == NULL &&
	    json_object_set_new(meta, "creationTimestamp", json_string("2026-11-20T09:00:00Z")) < 0)
		return err_set(e, ERR_NOMEM, "out of memory loading state '%s'", s->name);
	if (add_tagged(s, obj, res) < 0)
		return err_set(e, ERR_NOMEM, "out of memory loading state '%s' (or more than %d objects)", s->name,
		    KUBESIM_MAX_OBJECTS);
	if (res->group[0] == '\0' && strcmp(kind, "Event") == 0) {
		json_t *v1 = event_v1(obj);
		int rc;

		if (v1 == NULL)
			return err_set(e, ERR_NOMEM, "out of memory loading state '%s'", s->name);
		rc = add_tagged(s, v1, ks_resource_by_kind("events.k8s.io/v1", "Event"));
		json_decref(v1);
		if (rc < 0)
			return err_set(e, ERR_NOMEM, "out of memory loading state '%s' (or more than %d objects)",
			    s->name, KUBESIM_MAX_OBJECTS);
	}
	return 0;
}

/* Adds obj (taking a new reference) tagged with res; -1 when out of memory or full. */
static int
add_tagged(struct ks_state *s, json_t *obj, const struct ks_resource *res)
{
	json_t *meta = json_object_get(obj, "metadata");
	struct ks_object *grown;

	if (res == NULL || s->nobjs >= KUBESIM_MAX_OBJECTS)
		return -1;
	grown = realloc(s->objs, (s->nobjs + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	s->objs = grown;
	s->objs[s->nobjs].obj = json_incref(obj);
	s->objs[s->nobjs].res = res;
	s->objs[s->nobjs].ns = res->namespaced ? json_string_value(json_object_get(meta, "namespace")) : "";
	s->objs[s->nobjs].name = json_string_value(json_object_get(meta, "name"));
	s->nobjs++;
	return 0;
}

/* The events.k8s.io/v1 form of a core Event, as the API server serves both. */
static json_t *
event_v1(const json_t *ev)
{
	json_t *out = json_pack("{s:s, s:s, s:O, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*, s:O*}",
	    "apiVersion", "events.k8s.io/v1", "kind", "Event",
	    "metadata", json_object_get(ev, "metadata"),
	    "regarding", json_object_get(ev, "involvedObject"),
	    "note", json_object_get(ev, "message"),
	    "reason", json_object_get(ev, "reason"),
	    "type", json_object_get(ev, "type"),
	    "reportingController", json_object_get(ev, "reportingComponent"),
	    "reportingInstance", json_object_get(ev, "reportingInstance"),
	    "deprecatedSource", json_object_get(ev, "source"),
	    "deprecatedFirstTimestamp", json_object_get(ev, "firstTimestamp"),
	    "deprecatedLastTimestamp", json_object_get(ev, "lastTimestamp"));

	if (out != NULL && json_object_get(ev, "count") != NULL)
		json_object_set(out, "deprecatedCount", json_object_get(ev, "count"));
	if (out != NULL && json_object_set_new(out, "eventTime", json_null()) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int
ks_state_load(const char *dir, const char *name, unsigned long rv_base, struct ks_state **out,
    struct err *e)
{
	struct ks_state *s = NULL;
	struct doc_set *d = NULL;
	DIR *dh = NULL;
	struct dirent *de;
	char *files[KUBESIM_MAX_STATE_FILES];
	size_t nfiles = 0, i, j;
	unsigned long rv = rv_base;
	char path[PATH_MAX];
	int ret = -1;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(e, ERR_NOMEM, "out of memory loading state '%s'", name);
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir)) {
		err_set(e, ERR_INVALID, "state folder path '%s' is too long", dir);
		goto out;
	}
	dh = opendir(dir);
	if (dh == NULL) {
		err_set(e, ERR_NOT_FOUND, "cannot open state folder '%s'", dir);
		goto out;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		if (nfiles >= KUBESIM_MAX_STATE_FILES) {
			err_set(e, ERR_TOO_LARGE, "state folder '%s' has more than %d YAML files", dir,
			    KUBESIM_MAX_STATE_FILES);
			goto out;
		}
		files[nfiles] = strdup(de->d_name);
		if (files[nfiles] == NULL) {
			err_set(e, ERR_NOMEM, "out of memory loading state '%s'", name);
			goto out;
		}
		nfiles++;
	}
	qsort(files, nfiles, sizeof(files[0]), cmp_names);
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (doc_load_file(path, DOC_YAML, &d, e) < 0)
			goto out;
		for (j = 0; j < doc_set_count(d); j++) {
			json_t *obj = doc_set_get(d, j);
			json_t *items = json_object_get(obj, "items");
			size_t k;
			json_t *item;

			if (json_is_array(items)) {
				json_array_foreach(items, k, item) {
					if (add_object(s, path, item, &rv, e) < 0)
						goto out;
				}
			} else if (add_object(s, path, obj, &rv, e) < 0) {
				goto out;
			}
		}
		doc_set_free(d);
		d = NULL;
	}
	s->rv_base = rv_base;
	s->rv = rv;
	*out = s;
	s = NULL;
	ret = 0;
out:
	doc_set_free(d);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	if (dh != NULL)
		closedir(dh);
	ks_state_free(s);
	return ret;
}

void
ks_state_free(struct ks_state *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nobjs; i++)
		json_decref(s->objs[i].obj);
	free(s->objs);
	free(s);
}
