/*
 * api.c - the API paths kubesim answers: discovery, list/get (JSON or
 * Table), pod logs, the pod proxy and access reviews, each checked against
 * RBAC first and failing with a Status object shaped like the real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kubesim/kubesim_int.h"
#include "util/err.h"
#include "util/banned.h"

#define MAX_SEGS 12

/* Built-in groups: the real server leaves kind/apiVersion out of list items. */
static int
is_builtin_group(const char *g)
{
	return g[0] == '\0' || strcmp(g, "apps") == 0 || strcmp(g, "autoscaling") == 0 ||
	    strcmp(g, "networking.k8s.io") == 0 || strcmp(g, "policy") == 0 ||
	    strcmp(g, "events.k8s.io") == 0 || strcmp(g, "rbac.authorization.k8s.io") == 0 ||
	    strcmp(g, "authorization.k8s.io") == 0;
}

/* Appends v as compact JSON and a newline; steals the reference. */
/* Takes v. Answers never hold a reference to the state's objects: the state
 * is shared by every worker, and taking references from several threads at
 * once races on jansson's reference counts (TSan): they get copies. */
static int
put_json(struct ks_resp *r, json_t *v)
{
	char *s;
	int ret;

	if (v == NULL)
		return -1;
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (s == NULL)
		return -1;
	ret = buf_addstr(&r->body, s, NULL) < 0 || buf_addch(&r->body, '\n', NULL) < 0 ? -1 : 0;
	free(s);
	return ret;
}

int
ks_status(struct ks_resp *r, int code, const char *reason, const char *message,
    const char *name, const char *group, const char *kind)
{
	json_t *st, *details = NULL;

	buf_reset(&r->body);
	r->status = code;
	r->ctype = "application/json";
	if (name != NULL || kind != NULL) {
		details = json_object();
		if (details == NULL)
			return -1;
		if (name != NULL)
			json_object_set_new(details, "name", json_string(name));
		if (group != NULL && group[0] != '\0')
			json_object_set_new(details, "group", json_string(group));
		if (kind != NULL)
			json_object_set_new(details, "kind", json_string(kind));
	}
	st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
	    "metadata", "status", "Failure", "message", message, "reason", reason, "code", code);
	if (st == NULL) {
		json_decref(details);
		return -1;
	}
	if (details != NULL)
		json_object_set_new(st, "details", details);
	return put_json(r, st);
}

/* "pods" or "deployments.apps", as the API server names a resource in messages. */
static void
qualified(const struct ks_resource *res, char *out, size_t n)
{
	if (res->group[0] == '\0')
		snprintf(out, n, "%s", res->name);
	else
		snprintf(out, n, "%s.%s", res->name, res->group);
}

static int
forbidden(struct ks_resp *r, const char *user, const char *verb, const struct ks_resource *res,
    const char *sub, const char *ns, const char *name)
{
	char msg[1024], q[256], where[300], resource[128];

	qualified(res, q, sizeof(q));
	snprintf(resource, sizeof(resource), "%s%s%s", res->name, sub != NULL ? "/" : "", sub != NULL ? sub : "");
	if (ns != NULL)
		snprintf(where, sizeof(where), "in the namespace \"%s\"", ns);
	else
		snprintf(where, sizeof(where), "at the cluster scope");
	if (name != NULL)
		snprintf(msg, sizeof(msg), "%s \"%s\" is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
		    q, name, user, verb, resource, res->group, where);
	else
		snprintf(msg, sizeof(msg), "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
		    q, user, verb, resource, res->group, where);
	return ks_status(r, 403, "Forbidden", msg, name, res->group, res->name);
}

static int
not_found(struct ks_resp *r, const struct ks_resource *res, const char *name)
{
	char msg[512], q[256];

	qualified(res, q, sizeof(q));
	snprintf(msg, sizeof(msg), "%s \"%s\" not found", q, name);
	return ks_status(r, 404, "NotFound", msg, name, res->group, res->name);
}

static int
bad_request(struct ks_resp *r, const char *msg)
{
	return ks_status(r, 400, "BadRequest", msg, NULL, NULL, NULL);
}

static int
page_not_found(struct ks_resp *r)
{
	return ks_status(r, 404, "NotFound", "the server could not find the requested resource", NULL, NULL, NULL);
}

static json_t *
split_words(const char *s)
{
	json_t *a = json_array();

	while (a != NULL && *s != '\0') {
		size_t n;

		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n > 0 && json_array_append_new(a, json_stringn(s, n)) < 0) {
			json_decref(a);
			return NULL;
		}
		s += n;
	}
	return a;
}

/* ---- discovery ---- */

static int
serve_version(struct ks_resp *r)
{
	return put_json(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "major", "1", "minor", "30", "gitVersion", "v1.30.5",
	    "gitCommit", "74e84a90c725047b1328ff3d589fedb1cb7a120e", "gitTreeState", "clean",
	    "buildDate", "2024-09-12T00:11:55Z", "goVersion", "go1.22.6", "compiler", "gc",
	    "platform", "linux/amd64"));
}

static int
serve_api_versions(struct ks_resp *r)
{
	return put_json(r, json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
	    "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress", "127.0.0.1:6443"));
}

static json_t *
group_json(const char *group, const char *version)
{
	char gv[256];

	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", group, "versions", "groupVersion", gv,
	    "version", version, "preferredVersion", "groupVersion", gv, "version", version);
}

static int
serve_group_list(struct ks_resp *r)
{
	json_t *groups = json_array();
	size_t i, j;

	if (groups == NULL)
		return -1;
	for (i = 0; i < ks_nresources; i++) {
		const struct ks_resource *res = &ks_resources[i];
		int seen = 0;

		if (res->group[0] == '\0')
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(ks_resources[j].group, res->group) == 0)
				seen = 1;
		if (!seen && json_array_append_new(groups, group_json(res->group, res->version)) < 0) {
			json_decref(groups);
			return -1;
		}
	}
	return put_json(r, json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups));
}

static int
serve_group(struct ks_resp *r, const char *group)
{
	json_t *g;
	size_t i;

	for (i = 0; i < ks_nresources; i++) {
		if (strcmp(ks_resources[i].group, group) != 0)
			continue;
		g = group_json(group, ks_resources[i].version);
		if (g == NULL || json_object_set_new(g, "kind", json_string("APIGroup")) < 0 ||
		    json_object_set_new(g, "apiVersion", json_string("v1")) < 0) {
			json_decref(g);
			return -1;
		}
		return put_json(r, g);
	}
	return page_not_found(r);
}

static json_t *
resource_json(const char *name, const char *singular, int namespaced, const char *kind, const char *verbs,
    const char *short_names)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", singular,
	    "namespaced", namespaced, "kind", kind, "verbs", split_words(verbs));

	if (o != NULL && short_names[0] != '\0')
		json_object_set_new(o, "shortNames", split_words(short_names));
	return o;
}

static int
serve_resource_list(struct ks_resp *r, const char *group, const char *version)
{
	json_t *list = json_array();
	char gv[256];
	size_t i;
	int found = 0;

	if (list == NULL)
		return -1;
	for (i = 0; i < ks_nresources; i++) {
		const struct ks_resource *res = &ks_resources[i];

		if (strcmp(res->group, group) != 0 || strcmp(res->version, version) != 0)
			continue;
		found = 1;
		json_array_append_new(list, resource_json(res->name, res->singular, res->namespaced, res->kind,
		    res->verbs, res->short_names));
		if (strcmp(res->name, "pods") == 0) {
			json_array_append_new(list, resource_json("pods/log", "", 1, "Pod", "get", ""));
			json_array_append_new(list, resource_json("pods/proxy", "", 1, "PodProxyOptions",
			    "create delete get patch update", ""));
			json_array_append_new(list, resource_json("pods/status", "", 1, "Pod", "get patch update", ""));
		}
	}
	if (!found) {
		json_decref(list);
		return page_not_found(r);
	}
	if (group[0] != '\0')
		snprintf(gv, sizeof(gv), "%s/%s", group, version);
	else
		snprintf(gv, sizeof(gv), "%s", version);
	return put_json(r, json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
	    "groupVersion", gv, "resources", list));
}

/* ---- tables ---- */

static time_t
parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

/* kubectl's HumanDuration, roughly. */
static void
human_age(const char *created, char *out, size_t n)
{
	time_t t = parse_time(created);
	long long s = t > 0 ? (long long)(time(NULL) - t) : 0;

	if (t == 0)
		snprintf(out, n, "<unknown>");
	else if (s < 0)
		snprintf(out, n, "0s");
	else if (s < 120)
		snprintf(out, n, "%llds", s);
	else if (s < 600)
		snprintf(out, n, "%lldm%llds", s / 60, s % 60);
	else if (s < 3 * 3600)
		snprintf(out, n, "%lldm", s / 60);
	else if (s < 8 * 3600)
		snprintf(out, n, "%lldh%lldm", s / 3600, (s % 3600) / 60);
	else if (s < 48 * 3600)
		snprintf(out, n, "%lldh", s / 3600);
	else if (s < 8 * 86400)
		snprintf(out, n, "%lldd%lldh", s / 86400, (s % 86400) / 3600);
	else if (s < 2 * 365 * 86400LL)
		snprintf(out, n, "%lldd", s / 86400);
	else
		snprintf(out, n, "%lldy%lldd", s / (365 * 86400LL), (s % (365 * 86400LL)) / 86400);
}

static json_t *
column(const char *name, const char *type, const char *format, int priority, const char *desc)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", type, "format", format,
	    "description", desc, "priority", priority);
}

static json_t *
table_columns(const struct ks_resource *res)
{
	json_t *c = json_array();

	if (c == NULL)
		return NULL;
	json_array_append_new(c, column("Name", "string", "name", 0,
	    "Name must be unique within a namespace."));
	if (strcmp(res->name, "pods") == 0) {
		json_array_append_new(c, column("Ready", "string", "", 0, "The aggregate readiness state of this pod for accepting traffic."));
		json_array_append_new(c, column("Status", "string", "", 0, "The aggregate status of the containers in this pod."));
		json_array_append_new(c, column("Restarts", "string", "", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."));
	} else if (strcmp(res->name, "deployments") == 0) {
		json_array_append_new(c, column("Ready", "string", "", 0, "Number of the pod with ready state"));
		json_array_append_new(c, column("Up-to-date", "string", "", 0, "Total number of non-terminated pods targeted by this deployment that have the desired template spec."));
		json_array_append_new(c, column("Available", "string", "", 0, "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."));
	} else if (strcmp(res->name, "nodes") == 0) {
		json_array_append_new(c, column("Status", "string", "", 0, "The status of the node"));
		json_array_append_new(c, column("Roles", "string", "", 0, "The roles of the node"));
	}
	json_array_append_new(c, column("Age", "string", "", 0,
	    "CreationTimestamp is a timestamp representing the server time when this object was created."));
	if (strcmp(res->name, "pods") == 0) {
		json_array_append_new(c, column("IP", "string", "", 1, "IP address allocated to the pod."));
		json_array_append_new(c, column("Node", "string", "", 1, "Name of the node this pod is assigned to."));
	} else if (strcmp(res->name, "nodes") == 0) {
		json_array_append_new(c, column("Version", "string", "", 0, "Kubelet Version reported by the node."));
	}
	return c;
}

static json_t *
table_cells(const struct ks_object *o)
{
	const json_t *obj = o->obj, *status = json_object_get(obj, "status");
	json_t *cells = json_array();
	char age[32], tmp[64];
	size_t i;
	json_t *v;

	if (cells == NULL)
		return NULL;
	human_age(json_string_value(json_object_get(json_object_get(obj, "metadata"), "creationTimestamp")),
	    age, sizeof(age));
	json_array_append_new(cells, json_string(o->name));
	if (strcmp(o->res->name, "pods") == 0) {
		const json_t *cs = json_object_get(status, "containerStatuses");
		const json_t *ctrs = json_object_get(json_object_get(obj, "spec"), "containers");
		long long restarts = 0, ready = 0;
		const char *phase = json_string_value(json_object_get(status, "phase"));

		json_array_foreach(cs, i, v) {
			restarts += json_integer_value(json_object_get(v, "restartCount"));
			ready += json_is_true(json_object_get(v, "ready"));
		}
		snprintf(tmp, sizeof(tmp), "%lld/%zu", ready, json_array_size(ctrs));
		json_array_append_new(cells, json_string(tmp));
		json_array_append_new(cells, json_string(phase != NULL ? phase : "Unknown"));
		json_array_append_new(cells, json_integer(restarts));
	} else if (strcmp(o->res->name, "deployments") == 0) {
		snprintf(tmp, sizeof(tmp), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(status, "readyReplicas")),
		    (long long)json_integer_value(json_object_get(json_object_get(obj, "spec"), "replicas")));
		json_array_append_new(cells, json_string(tmp));
		json_array_append_new(cells, json_integer(json_integer_value(json_object_get(status, "updatedReplicas"))));
		json_array_append_new(cells, json_integer(json_integer_value(json_object_get(status, "availableReplicas"))));
	} else if (strcmp(o->res->name, "nodes") == 0) {
		const char *ready = "Unknown";

		json_array_foreach(json_object_get(status, "conditions"), i, v) {
			const char *t = json_string_value(json_object_get(v, "type"));
			const char *s = json_string_value(json_object_get(v, "status"));

			if (t != NULL && s != NULL && strcmp(t, "Ready") == 0)
				ready = strcmp(s, "True") == 0 ? "Ready" : "NotReady";
		}
		json_array_append_new(cells, json_string(ready));
		json_array_append_new(cells, json_string("<none>"));
	}
	json_array_append_new(cells, json_string(age));
	if (strcmp(o->res->name, "pods") == 0) {
		const char *ip = json_string_value(json_object_get(status, "podIP"));
		const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));

		json_array_append_new(cells, json_string(ip != NULL ? ip : "<none>"));
		json_array_append_new(cells, json_string(node != NULL ? node : "<none>"));
	} else if (strcmp(o->res->name, "nodes") == 0) {
		const char *kv = json_string_value(json_object_get(json_object_get(status, "nodeInfo"), "kubeletVersion"));

		json_array_append_new(cells, json_string(kv != NULL ? kv : ""));
	}
	return cells;
}

/* The object of a table row: include=Object, Metadata (default) or None. */
static json_t *
row_object(const struct ks_object *o, const char *include)
{
	if (strcmp(include, "None") == 0)
		return NULL;
	if (strcmp(include, "Object") == 0)
		return json_deep_copy(o->obj);
	return json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
	    "metadata", json_deep_copy(json_object_get(o->obj, "metadata")));
}

static long query_long(const char *query, const char *name, long dflt);

/* ---- paging: limit and continue ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* An opaque continue token, base64url (no padding) of JSON, as the API server's. */
static void
continue_encode(unsigned long rv, size_t offset, char *out, size_t n)
{
	char plain[128];
	size_t len, i, o = 0;

	len = (size_t)snprintf(plain, sizeof(plain), "{\"v\":\"meta.k8s.io/v1\",\"rv\":%lu,\"start\":\"%zu\"}", rv,
	    offset);
	for (i = 0; i < len && o + 5 < n; i += 3) {
		unsigned v = (unsigned char)plain[i] << 16;

		if (i + 1 < len)
			v |= (unsigned char)plain[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)plain[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

/* Returns 0 with rv and offset, or -1 for a token kubesim did not make. */
static int
continue_decode(const char *tok, unsigned long *rv, size_t *offset)
{
	char plain[128];
	size_t o = 0, n = strlen(tok), i;
	unsigned bits = 0;
	int nbits = 0;

	for (i = 0; i < n && o + 1 < sizeof(plain); i++) {
		const char *at = strchr(b64url, tok[i]);

		if (at == NULL || tok[i] == '\0')
			return -1;
		bits = (bits << 6) | (unsigned)(at - b64url);
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			plain[o++] = (char)((bits >> nbits) & 0xff);
		}
	}
	plain[o] = '\0';
	if (sscanf(plain, "{\"v\":\"meta.k8s.io/v1\",\"rv\":%lu,\"start\":\"%zu\"}", rv, offset) != 2)
		return -1;
	return 0;
}

/* ---- list and get ---- */

struct target {
	const struct ks_resource *res;
	const char *ns;   /* NULL: all namespaces or cluster-scoped */
	const char *name; /* NULL: a collection */
	const char *sub;  /* subresource, e.g. "log" or "proxy" */
	const char *rest; /* after proxy: "/metrics" */
};

static int
wants_table(const char *accept)
{
	return accept != NULL && strstr(accept, "as=Table") != NULL;
}

static int
serve_collection(struct kubesim *k, const struct ks_request *q, const struct target *t, int watch,
    struct ks_resp *r)
{
	struct ks_selector *labels = NULL, *fields = NULL;
	char *sel = NULL;
	char include[32], rv[32], list_kind[128], cont[256];
	struct err e = ERR_INIT;
	json_t *items = NULL, *rows = NULL, *meta = NULL;
	const struct ks_state *s = k->state;
	int table = wants_table(q->accept) && !watch;
	long limit = watch ? -1 : query_long(q->query, "limit", -1);
	size_t i, matched = 0, offset = 0, shown = 0;
	unsigned long cont_rv;
	int ret = -1;

	/* On the heap: CivetWeb's worker stacks are small. */
	labels = calloc(1, sizeof(*labels));
	fields = calloc(1, sizeof(*fields));
	sel = malloc(KUBESIM_MAX_QUERY_VALUE);
	if (labels == NULL || fields == NULL || sel == NULL)
		goto out;
	if (ks_query_get(q->query, "labelSelector", sel, KUBESIM_MAX_QUERY_VALUE) == 0 &&
	    ks_label_selector_parse(sel, labels, &e) < 0) {
		ret = bad_request(r, e.msg);
		goto out;
	}
	if (ks_query_get(q->query, "fieldSelector", sel, KUBESIM_MAX_QUERY_VALUE) == 0 &&
	    ks_field_selector_parse(sel, t->res, fields, &e) < 0) {
		ret = bad_request(r, e.msg);
		goto out;
	}
	/* A watch from a resourceVersion of an earlier state load is too old. */
	if (watch && ks_query_get(q->query, "resourceVersion", cont, sizeof(cont)) == 0 && cont[0] != '\0' &&
	    strcmp(cont, "0") != 0 && strtoul(cont, NULL, 10) <= s->rv_base) {
		char msg[400];

		snprintf(msg, sizeof(msg), "too old resource version: %s (%lu)", cont, s->rv_base + 1);
		ret = ks_status(r, 410, "Expired", msg, NULL, NULL, NULL);
		goto out;
	}
	if (limit < -1) {
		ret = bad_request(r, "limit must be a non-negative integer");
		goto out;
	}
	if (!watch && ks_query_get(q->query, "continue", cont, sizeof(cont)) == 0 && cont[0] != '\0') {
		if (continue_decode(cont, &cont_rv, &offset) < 0) {
			ret = bad_request(r, "continue key is not valid: kubesim did not issue it");
			goto out;
		}
		if (cont_rv != s->rv) {
			ret = ks_status(r, 410, "Expired",
			    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
			    NULL, NULL, NULL);
			goto out;
		}
	}
	if (ks_query_get(q->query, "includeObject", include, sizeof(include)) < 0)
		snprintf(include, sizeof(include), "Metadata");
	items = json_array();
	rows = json_array();
	if (items == NULL || rows == NULL)
		goto out;
	for (i = 0; i < s->nobjs; i++) {
		const struct ks_object *o = &s->objs[i];
		json_t *item;

		if (o->res != t->res || (t->ns != NULL && strcmp(o->ns, t->ns) != 0) ||
		    !ks_label_selector_match(labels, o->obj) || !ks_field_selector_match(fields, o->obj))
			continue;
		matched++;
		if (matched <= offset || (limit > 0 && shown >= (size_t)limit))
			continue;
		shown++;
		if (watch) {
			if (put_json(r, json_pack("{s:s, s:o}", "type", "ADDED", "object", json_deep_copy(o->obj))) < 0)
				goto out;
			continue;
		}
		if (table) {
			json_t *row = json_pack("{s:o}", "cells", table_cells(o));
			json_t *ro = row_object(o, include);

			if (row == NULL || (ro != NULL && json_object_set_new(row, "object", ro) < 0) ||
			    json_array_append_new(rows, row) < 0)
				goto out;
			continue;
		}
		item = json_deep_copy(o->obj);
		if (item == NULL)
			goto out;
		if (is_builtin_group(t->res->group)) {
			json_object_del(item, "kind");
			json_object_del(item, "apiVersion");
		}
		if (json_array_append_new(items, item) < 0)
			goto out;
	}
	snprintf(rv, sizeof(rv), "%lu", s->rv);
	meta = json_pack("{s:s}", "resourceVersion", rv);
	if (meta == NULL)
		goto out;
	if (matched > offset + shown) {
		continue_encode(s->rv, offset + shown, cont, sizeof(cont));
		if (json_object_set_new(meta, "continue", json_string(cont)) < 0 ||
		    json_object_set_new(meta, "remainingItemCount", json_integer((json_int_t)(matched - offset - shown))) < 0)
			goto out;
	}
	if (watch) {
		r->ctype = "application/json;stream=watch";
		ret = 0;
	} else if (table) {
		ret = put_json(r, json_pack("{s:s, s:s, s:O, s:o, s:O}", "kind", "Table",
		    "apiVersion", "meta.k8s.io/v1", "metadata", meta,
		    "columnDefinitions", table_columns(t->res), "rows", rows));
	} else {
		char gv[256];

		snprintf(list_kind, sizeof(list_kind), "%sList", t->res->kind);
		if (t->res->group[0] != '\0')
			snprintf(gv, sizeof(gv), "%s/%s", t->res->group, t->res->version);
		else
			snprintf(gv, sizeof(gv), "%s", t->res->version);
		ret = put_json(r, json_pack("{s:s, s:s, s:O, s:O}", "kind", list_kind, "apiVersion", gv,
		    "metadata", meta, "items", items));
	}
out:
	json_decref(meta);
	json_decref(items);
	json_decref(rows);
	if (labels != NULL)
		ks_selector_release(labels);
	if (fields != NULL)
		ks_selector_release(fields);
	free(labels);
	free(fields);
	free(sel);
	return ret;
}

static const struct ks_object *
find_object(const struct ks_state *s, const struct ks_resource *res, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++) {
		const struct ks_object *o = &s->objs[i];

		if (o->res == res && strcmp(o->name, name) == 0 && strcmp(o->ns, ns != NULL ? ns : "") == 0)
			return o;
	}
	return NULL;
}

static int
serve_get(const struct ks_request *q, const struct ks_object *o, struct ks_resp *r, unsigned long rv)
{
	char include[32], rvs[32];

	if (wants_table(q->accept)) {
		json_t *row;

		if (ks_query_get(q->query, "includeObject", include, sizeof(include)) < 0)
			snprintf(include, sizeof(include), "Metadata");
		row = json_pack("{s:o}", "cells", table_cells(o));
		if (row != NULL) {
			json_t *ro = row_object(o, include);

			if (ro != NULL)
				json_object_set_new(row, "object", ro);
		}
		snprintf(rvs, sizeof(rvs), "%lu", rv);
		return put_json(r, json_pack("{s:s, s:s, s:{s:s}, s:o, s:[o]}", "kind", "Table",
		    "apiVersion", "meta.k8s.io/v1", "metadata", "resourceVersion", rvs,
		    "columnDefinitions", table_columns(o->res), "rows", row));
	}
	return put_json(r, json_deep_copy(o->obj));
}

/* ---- pod logs ---- */

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char chunk[8192];
	size_t n;
	int ret = 0;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(out, chunk, n, NULL) < 0) {
			ret = -2;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || *s == '.' || strlen(s) > 253)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == strlen(s);
}

static const char *
default_container(const json_t *pod)
{
	const char *ann = json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"),
	    "annotations"), "kubectl.kubernetes.io/default-container"));

	if (ann != NULL)
		return ann;
	return json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(pod, "spec"),
	    "containers"), 0), "name"));
}

static int
has_container(const json_t *pod, const char *name)
{
	const json_t *spec = json_object_get(pod, "spec");
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(spec, "containers"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return 1;
	}
	json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

static long
query_long(const char *query, const char *name, long dflt)
{
	char v[32];
	char *end;
	long n;

	if (ks_query_get(query, name, v, sizeof(v)) < 0 || v[0] == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : -2;
}

static int
serve_log(struct kubesim *k, const struct ks_request *q, const struct ks_object *pod, struct ks_resp *r)
{
	struct buf file = BUF_INIT(KUBESIM_MAX_FILE_BYTES);
	char container[256], path[PATH_MAX], msg[512], prev[8], ts_flag[8];
	long tail = query_long(q->query, "tailLines", -1);
	long since = query_long(q->query, "sinceSeconds", -1);
	long limit = query_long(q->query, "limitBytes", -1);
	int previous = ks_query_get(q->query, "previous", prev, sizeof(prev)) == 0 && strcmp(prev, "true") == 0;
	int stamps = ks_query_get(q->query, "timestamps", ts_flag, sizeof(ts_flag)) == 0 &&
	    strcmp(ts_flag, "true") == 0;
	const char *p, *end, *dflt;
	size_t nlines = 0, i, start_line;
	time_t now = time(NULL);
	int rc, ret = -1;

	if (tail < -1 || since < -1 || limit < -1 || since == 0 || limit == 0)
		return bad_request(r, "tailLines, sinceSeconds and limitBytes must be positive integers");
	if (ks_query_get(q->query, "container", container, sizeof(container)) < 0 || container[0] == '\0') {
		dflt = default_container(pod->obj);
		if (json_array_size(json_object_get(json_object_get(pod->obj, "spec"), "containers")) > 1 &&
		    json_object_get(json_object_get(json_object_get(pod->obj, "metadata"), "annotations"),
		    "kubectl.kubernetes.io/default-container") == NULL) {
			snprintf(msg, sizeof(msg), "a container name must be specified for pod %s", pod->name);
			return bad_request(r, msg);
		}
		snprintf(container, sizeof(container), "%s", dflt != NULL ? dflt : "");
	}
	if (!valid_name(container) || !has_container(pod->obj, container)) {
		snprintf(msg, sizeof(msg), "container %s is not valid for pod %s", container, pod->name);
		return bad_request(r, msg);
	}
	if (snprintf(path, sizeof(path), "%s/logs/%s/%s%s.log", k->state->dir, pod->name, container,
	    previous ? ".previous" : "") >= (int)sizeof(path))
		return bad_request(r, "the log path is too long");
	rc = read_file(path, &file);
	if (rc == -2)
		goto out;
	if (rc == -1 && previous) {
		snprintf(msg, sizeof(msg), "previous terminated container \"%s\" in pod \"%s\" not found", container,
		    pod->name);
		ret = bad_request(r, msg);
		goto out;
	}
	r->ctype = "text/plain";
	for (p = buf_str(&file); *p != '\0'; p = end + 1) {
		end = strchr(p, '\n');
		nlines++;
		if (end == NULL)
			break;
	}
	start_line = tail >= 0 && (size_t)tail < nlines ? nlines - (size_t)tail : 0;
	for (p = buf_str(&file), i = 0; *p != '\0'; i++) {
		size_t len;
		time_t at = now - (time_t)(nlines - 1 - i);

		end = strchr(p, '\n');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (i >= start_line && (since < 0 || now - at <= since)) {
			if (stamps) {
				struct tm tm;
				char when[64];

				gmtime_r(&at, &tm);
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000000000Z ", &tm);
				if (buf_addstr(&r->body, when, NULL) < 0)
					goto out;
			}
			if (buf_add(&r->body, p, len, NULL) < 0 || buf_addch(&r->body, '\n', NULL) < 0)
				goto out;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (limit > 0 && buf_len(&r->body) > (size_t)limit) {
		struct buf cut = BUF_INIT(KUBESIM_MAX_RESPONSE_BYTES);

		if (buf_add(&cut, buf_str(&r->body), (size_t)limit, NULL) < 0)
			goto out;
		buf_release(&r->body);
		r->body = cut;
	}
	ret = 0;
out:
	buf_release(&file);
	return ret;
}

/* ---- pod proxy ---- */

static int
valid_proxy_path(const char *p)
{
	const char *s;

	if (strstr(p, "..") != NULL || strstr(p, "//") != NULL)
		return 0;
	for (s = p; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '/' || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	}
	return 1;
}

static int
serve_proxy(struct kubesim *k, const struct ks_object *pod, const char *port, const char *rest,
    struct ks_resp *r)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], msg[512];
	const char *ip = json_string_value(json_object_get(json_object_get(pod->obj, "status"), "podIP"));
	const char *body;
	int rc;

	if (*rest == '/')
		rest++;
	if (!valid_proxy_path(rest))
		return bad_request(r, "invalid proxy path");
	if (snprintf(dir, sizeof(dir), "%s/proxy/%s/%s", k->state->dir, pod->name, port) >= (int)sizeof(dir) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, rest[0] != '\0' ? rest : "index") >= (int)sizeof(path))
		return bad_request(r, "the proxy path is too long");
	rc = read_file(path, &r->body);
	if (rc == -2)
		return -1;
	if (rc == -1) {
		FILE *f = fopen(dir, "r");

		if (f == NULL) {
			snprintf(msg, sizeof(msg),
			    "error trying to reach service: dial tcp %s:%s: connect: connection refused",
			    ip != NULL ? ip : "10.0.0.1", port);
			return ks_status(r, 503, "ServiceUnavailable", msg, NULL, NULL, NULL);
		}
		fclose(f);
		r->status = 404;
		r->ctype = "text/plain; charset=utf-8";
		return buf_addstr(&r->body, "404 page not found\n", NULL);
	}
	if (k->advance_metrics && strlen(rest) >= 7 && strcmp(rest + strlen(rest) - 7, "metrics") == 0) {
		double n;

		if (k->advance_metrics == KUBESIM_ADVANCE_PER_SECOND) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			n = 1.0 + (double)(now.tv_sec - k->started.tv_sec) +
			    (double)(now.tv_nsec - k->started.tv_nsec) / 1e9;
		} else {
			pthread_mutex_lock(&k->fault_lock);
			n = (double)json_integer_value(json_object_get(k->served, path)) + 1;
			json_object_set_new(k->served, path, json_integer((json_int_t)n));
			pthread_mutex_unlock(&k->fault_lock);
		}
		if (ks_metrics_advance(&r->body, n, NULL) != 0)
			return -1;
	}
	body = buf_str(&r->body);
	while (*body == ' ' || *body == '\n')
		body++;
	if (*body == '{' || *body == '[')
		r->ctype = "application/json";
	else
		r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* ---- access reviews ---- */

static int
serve_access_review(struct kubesim *k, const struct ks_request *q, struct ks_resp *r)
{
	json_error_t jerr;
	json_t *review = json_loadb(q->body, q->body_len, 0, &jerr);
	json_t *attrs;
	const char *verb, *group, *resource, *sub, *name, *ns;
	char res_full[256];
	int allowed;

	if (!json_is_object(review)) {
		json_decref(review);
		return bad_request(r, "the request body is not a SelfSubjectAccessReview");
	}
	attrs = json_object_get(json_object_get(review, "spec"), "resourceAttributes");
	if (json_is_object(attrs)) {
		verb = json_string_value(json_object_get(attrs, "verb"));
		group = json_string_value(json_object_get(attrs, "group"));
		resource = json_string_value(json_object_get(attrs, "resource"));
		sub = json_string_value(json_object_get(attrs, "subresource"));
		name = json_string_value(json_object_get(attrs, "name"));
		ns = json_string_value(json_object_get(attrs, "namespace"));
		(void)ns;
		snprintf(res_full, sizeof(res_full), "%s%s%s", resource != NULL ? resource : "",
		    sub != NULL && sub[0] != '\0' ? "/" : "", sub != NULL ? sub : "");
		allowed = q->role == KUBESIM_ROLE_ADMIN ||
		    ks_role_allows(&k->role, verb != NULL ? verb : "", group != NULL ? group : "", res_full,
		    name != NULL && name[0] != '\0' ? name : NULL);
	} else {
		/* Non-resource URLs: discovery and health are open to every authenticated user. */
		verb = json_string_value(json_object_get(json_object_get(json_object_get(review, "spec"),
		    "nonResourceAttributes"), "verb"));
		allowed = q->role == KUBESIM_ROLE_ADMIN || (verb != NULL && strcmp(verb, "get") == 0);
	}
	json_object_set_new(review, "status", json_pack("{s:b, s:s}", "allowed", allowed, "reason",
	    allowed ? "RBAC: allowed by ClusterRoleBinding \"skewd-collector\"" : ""));
	r->status = 201;
	return put_json(r, review);
}

/* ---- dispatch ---- */

static const char *
verb_of(const char *method, const struct target *t, int watch)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return t->name == NULL ? (watch ? "watch" : "list") : "get";
	if (strcmp(method, "POST") == 0)
		return "create";
	if (strcmp(method, "PUT") == 0)
		return "update";
	if (strcmp(method, "PATCH") == 0)
		return "patch";
	if (strcmp(method, "DELETE") == 0)
		return t->name == NULL ? "deletecollection" : "delete";
	return "unknown";
}

int
ks_api_serve(struct kubesim *k, const struct ks_request *q, struct ks_resp *r)
{
	char pathbuf[2048];
	char *segs[MAX_SEGS];
	size_t nsegs = 0, base;
	const char *group, *version;
	struct target t;
	char *p, *colon, *port = NULL;
	char resource[256], wflag[8];
	const struct ks_object *o;
	int watch;

	if (strcmp(q->path, "/version") == 0 || strcmp(q->path, "/version/") == 0)
		return serve_version(r);
	if (strcmp(q->path, "/healthz") == 0 || strcmp(q->path, "/livez") == 0 || strcmp(q->path, "/readyz") == 0) {
		r->ctype = "text/plain; charset=utf-8";
		return buf_addstr(&r->body, "ok", NULL);
	}
	if (snprintf(pathbuf, sizeof(pathbuf), "%s", q->path) >= (int)sizeof(pathbuf))
		return page_not_found(r);
	/* Split into segments; the pod proxy keeps the rest of the path whole. */
	memset(&t, 0, sizeof(t));
	for (p = pathbuf; *p == '/'; p++)
		;
	while (*p != '\0' && nsegs < MAX_SEGS) {
		segs[nsegs++] = p;
		p = strchr(p, '/');
		if (p == NULL)
			break;
		*p++ = '\0';
		if (nsegs >= 2 && strcmp(segs[nsegs - 1], "proxy") == 0) {
			t.rest = q->path + (p - pathbuf) - 1;
			break;
		}
	}
	if (nsegs == 0)
		return page_not_found(r);
	if (strcmp(segs[0], "api") == 0) {
		if (nsegs == 1)
			return serve_api_versions(r);
		group = "";
		version = segs[1];
		base = 2;
	} else if (strcmp(segs[0], "apis") == 0) {
		if (nsegs == 1)
			return serve_group_list(r);
		if (nsegs == 2)
			return serve_group(r, segs[1]);
		group = segs[1];
		version = segs[2];
		base = 3;
	} else {
		return page_not_found(r);
	}
	if (nsegs == base)
		return serve_resource_list(r, group, version);
	/* namespaces/NS/RES[/NAME[/SUB]] or RES[/NAME[/SUB]] */
	if (strcmp(segs[base], "namespaces") == 0 && nsegs >= base + 3) {
		t.ns = segs[base + 1];
		base += 2;
	}
	t.res = ks_resource_find(group, version, segs[base]);
	if (t.res == NULL || nsegs > base + 3 || (t.ns != NULL && !t.res->namespaced))
		return page_not_found(r);
	if (nsegs > base + 1)
		t.name = segs[base + 1];
	if (nsegs > base + 2)
		t.sub = segs[base + 2];
	if (t.sub != NULL && (strcmp(t.res->name, "pods") != 0 ||
	    (strcmp(t.sub, "log") != 0 && strcmp(t.sub, "proxy") != 0)))
		return page_not_found(r);
	if (t.sub != NULL && t.ns == NULL)
		return page_not_found(r);
	watch = ks_query_get(q->query, "watch", wflag, sizeof(wflag)) == 0 &&
	    (strcmp(wflag, "true") == 0 || strcmp(wflag, "1") == 0);

	/* Pod proxy names are [scheme:]POD[:PORT]. */
	if (t.sub != NULL && strcmp(t.sub, "proxy") == 0) {
		p = segs[base + 1];
		colon = strchr(p, ':');
		if (colon != NULL && (strncmp(p, "http:", 5) == 0 || strncmp(p, "https:", 6) == 0)) {
			p = colon + 1;
			colon = strchr(p, ':');
		}
		if (colon != NULL) {
			*colon = '\0';
			port = colon + 1;
		}
		t.name = p;
		if (t.rest == NULL)
			t.rest = "";
	}
	snprintf(resource, sizeof(resource), "%s%s%s", t.res->name, t.sub != NULL ? "/" : "",
	    t.sub != NULL ? t.sub : "");

	/* Authorization before anything else, as the API server does. */
	if (strcmp(t.res->name, "selfsubjectaccessreviews") == 0) {
		if (strcmp(q->method, "POST") != 0 || t.name != NULL)
			return ks_status(r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
			    NULL, NULL, NULL);
		return serve_access_review(k, q, r);
	}
	{
		const char *verb = verb_of(q->method, &t, watch);

		if (q->role != KUBESIM_ROLE_ADMIN && !ks_role_allows(&k->role, verb, t.res->group, resource, t.name))
			return forbidden(r, q->user, verb, t.res, t.sub, t.ns, t.name);
		if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0)
			return ks_status(r, 405, "MethodNotAllowed",
			    "kubesim serves a read-only cluster: the server does not allow this method on the requested resource",
			    NULL, NULL, NULL);
	}
	if (t.name == NULL)
		return serve_collection(k, q, &t, watch, r);
	if (t.res->namespaced && t.ns == NULL)
		return page_not_found(r);
	o = find_object(k->state, t.res, t.ns, t.name);
	if (o == NULL)
		return not_found(r, t.res, t.name);
	if (t.sub == NULL)
		return serve_get(q, o, r, k->state->rv);
	if (strcmp(t.sub, "log") == 0)
		return serve_log(k, q, o, r);
	if (port == NULL || port[0] == '\0' || strspn(port, "0123456789") != strlen(port))
		return bad_request(r, "kubesim's pod proxy needs POD:PORT with a numeric port");
	return serve_proxy(k, o, port, t.rest, r);
}
