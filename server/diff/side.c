/*
 * side.c - one side of a diff: documents in, normalised objects out.
 *
 * Kubernetes objects are identified by group/Kind/namespace/name, noise is
 * dropped and counted by rule, known lists are put in key order, quantities,
 * ports and typed scalars are normalised, Secret values are replaced by a
 * salted hash, Pods become facts of their owner workload's group and Nodes
 * become hardware fingerprints.
 */
#include "diff/diff_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

/* Noise rule names, as counted in suppressed.by_rule (docs/diff.md lists them). */
#define RULE_MANAGED_FIELDS      "managedFields"
#define RULE_RESOURCE_VERSION    "resourceVersion"
#define RULE_UID                 "uid"
#define RULE_GENERATION          "generation"
#define RULE_CREATION_TIMESTAMP  "creationTimestamp"
#define RULE_SELF_LINK           "selfLink"
#define RULE_REVISION            "deployment.kubernetes.io/revision"
#define RULE_LAST_APPLIED        "kubectl.kubernetes.io/last-applied-configuration"
#define RULE_POD_TEMPLATE_HASH   "pod-template-hash"
#define RULE_STATUS              "status"
#define RULE_EXCLUDED_KIND       "excluded-kind"
#define RULE_REPLICASET          "replicaset-of-deployment"
#define RULE_POD                 "pod-compared-as-group"
#define RULE_NODE                "node-compared-by-fingerprint"
#define RULE_SECRET_HASHED       "secret-value-hashed"
#define RULE_GFD_TIMESTAMP       "nvidia.com/gfd.timestamp"

size_t
diff_path_push(struct diff_path *p, const char *seg)
{
	size_t old = p->len, n = p->len;
	const char *c;

	if (n + 1 >= sizeof(p->s))
		return (size_t)-1;
	p->s[n++] = '/';
	for (c = seg; *c != '\0'; c++) {
		const char *rep = NULL;
		size_t rl = 1;

		if (*c == '~')
			rep = "~0", rl = 2;
		else if (*c == '/')
			rep = "~1", rl = 2;
		if (n + rl >= sizeof(p->s)) {
			p->len = old;
			p->s[old] = '\0';
			return (size_t)-1;
		}
		if (rep != NULL) {
			memcpy(p->s + n, rep, rl);
			n += rl;
		} else {
			p->s[n++] = *c;
		}
	}
	p->s[n] = '\0';
	p->len = n;
	return old;
}

void
diff_path_pop(struct diff_path *p, size_t oldlen)
{
	if (oldlen == (size_t)-1)
		return;
	p->len = oldlen;
	p->s[oldlen] = '\0';
}

void
diff_side_count(struct diff_side *s, const char *rule, long long n)
{
	json_t *v = json_object_get(s->suppressed, rule);

	/* The counters belong to the side alone: bump in place, no allocation. */
	if (v != NULL)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(s->suppressed, rule, json_integer(n));
}

int
diff_value_equal(const json_t *a, const json_t *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b) &&
		    (!json_is_integer(a) || !json_is_integer(b) ||
		    json_integer_value(a) == json_integer_value(b));
	return json_equal(a, b);
}

/* ---- secrets ---- */

int
diff_is_secret_name(const char *name)
{
	static const char *const words[] = { "password", "passwd", "token", "secret", "apikey",
		"api_key", "api-key", "access_key", "accesskey", "credential", "private_key",
		"privatekey" };
	static const char *const not_ends[] = { "name", "ref", "path", "file", "seconds", "refs" };
	char low[128];
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof(low))
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	for (i = 0; i < sizeof(not_ends) / sizeof(not_ends[0]); i++) {
		size_t m = strlen(not_ends[i]);

		if (n >= m && strcmp(low + n - m, not_ends[i]) == 0)
			return 0;
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

json_t *
diff_redact_value(const char *value, size_t len)
{
	/* One scheme with the engine's settings, so a secret flag and a secret
	 * field holding the same value show the same token. */
	return engine_redact_value(value, len);
}

/* ---- quantities ---- */

static int
qty_parse(const char *s, __int128 *out)
{
	__int128 mant = 0, mult = 1000000000, div = 1;
	int neg = 0, digits = 0, fracd = 0;
	const char *p = s;

	if (*p == '+' || *p == '-')
		neg = (*p++ == '-');
	while (isdigit((unsigned char)*p)) {
		if (++digits > 30)
			return -1;
		mant = mant * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 30 || ++fracd > 18)
				return -1;
			mant = mant * 10 + (*p++ - '0');
			div *= 10;
		}
	}
	if (digits == 0)
		return -1;
	if (*p == '\0') {
		/* plain number */
	} else if (p[1] == 'i' && p[2] == '\0' && strchr("KMGTPE", *p) != NULL) {
		int k = (int)(strchr("KMGTPE", *p) - "KMGTPE") + 1;

		while (k-- > 0)
			mult *= 1024;
	} else if (p[1] == '\0' && strchr("numkMGTPE", *p) != NULL) {
		switch (*p) {
		case 'n': mult = 1; break;
		case 'u': mult = 1000; break;
		case 'm': mult = 1000000; break;
		case 'k': mult *= 1000; break;
		case 'M': mult *= 1000000; break;
		case 'G': mult *= 1000000000; break;
		case 'T': mult *= (__int128)1000000000 * 1000; break;
		case 'P': mult *= (__int128)1000000000 * 1000000; break;
		case 'E': mult *= (__int128)1000000000 * 1000000000; break;
		default: return -1;
		}
	} else if (*p == 'e' || *p == 'E') {
		int eneg = 0, ex = 0;

		p++;
		if (*p == '+' || *p == '-')
			eneg = (*p++ == '-');
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			ex = ex * 10 + (*p++ - '0');
			if (ex > 18)
				return -1;
		}
		if (*p != '\0')
			return -1;
		while (ex-- > 0) {
			if (eneg)
				div *= 10;
			else
				mult *= 10;
		}
	} else {
		return -1;
	}
	mant *= mult;
	if (mant % div != 0)
		return -1;
	*out = (neg ? -1 : 1) * (mant / div);
	return 0;
}

static void
i128_text(__int128 v, char *out, size_t cap)
{
	char tmp[64];
	size_t n = 0, i;
	int neg = v < 0;

	if (neg)
		v = -v;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v > 0 && n < sizeof(tmp) - 1);
	i = 0;
	if (neg && i + 1 < cap)
		out[i++] = '-';
	while (n > 0 && i + 1 < cap)
		out[i++] = tmp[--n];
	out[i] = '\0';
}

/* Canonical text of a quantity: "64Gi" and "65536Mi" both give "64Gi", "8000m" gives "8". */
static json_t *
qty_normalise(const json_t *v)
{
	char in[64], num[64], out[80];
	__int128 nano, whole;
	static const char *const bin[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };

	if (json_is_integer(v))
		snprintf(in, sizeof(in), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(in, sizeof(in), "%.9f", json_real_value(v));
	else if (json_is_string(v) && json_string_length(v) < sizeof(in))
		snprintf(in, sizeof(in), "%s", json_string_value(v));
	else
		return json_deep_copy(v);
	if (qty_parse(in, &nano) != 0)
		return json_deep_copy(v);
	if (nano % 1000000000 == 0) {
		int k = 0;

		whole = nano / 1000000000;
		while (whole != 0 && k < 6 && whole % 1024 == 0) {
			whole /= 1024;
			k++;
		}
		i128_text(whole, num, sizeof(num));
		snprintf(out, sizeof(out), "%s%s", num, bin[k]);
	} else if (nano % 1000000 == 0) {
		i128_text(nano / 1000000, num, sizeof(num));
		snprintf(out, sizeof(out), "%sm", num);
	} else {
		i128_text(nano, num, sizeof(num));
		snprintf(out, sizeof(out), "%sn", num);
	}
	return json_string(out);
}

/* ---- field knowledge ---- */

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* What a field name means to normalisation. A string leaf looks its key up once
 * in one sorted table (bsearch) instead of scanning several lists in turn. */
enum {
	FIELD_PORT = 1 << 0,       /* a port: "8080" is 8080 */
	FIELD_INT = 1 << 1,        /* an integer Kubernetes also accepts as a string */
	FIELD_BOOL = 1 << 2,       /* a boolean: "true" is true */
	FIELD_QTY = 1 << 3,        /* a quantity: "64Gi" is "65536Mi" */
	FIELD_QTY_PARENT = 1 << 4, /* every member is a quantity (limits, requests, hard) */
	FIELD_SET = 1 << 5         /* a list compared as a set */
};

struct field_kind {
	const char *name;
	unsigned int flags;
};

/* Sorted by strcmp() order of name; the unit test checks it with
 * diff_field_table_check(). */
static const struct field_kind field_table[] = {
	{ "activeDeadlineSeconds", FIELD_INT },
	{ "allowPrivilegeEscalation", FIELD_BOOL },
	{ "automountServiceAccountToken", FIELD_BOOL },
	{ "averageUtilization", FIELD_INT },
	{ "averageValue", FIELD_QTY },
	{ "backoffLimit", FIELD_INT },
	{ "completions", FIELD_INT },
	{ "containerPort", FIELD_PORT },
	{ "defaultMode", FIELD_INT },
	{ "enableServiceLinks", FIELD_BOOL },
	{ "envFrom", FIELD_SET },
	{ "failureThreshold", FIELD_INT },
	{ "fsGroup", FIELD_INT },
	{ "hard", FIELD_QTY_PARENT },
	{ "hostIPC", FIELD_BOOL },
	{ "hostNetwork", FIELD_BOOL },
	{ "hostPID", FIELD_BOOL },
	{ "hostPort", FIELD_PORT },
	{ "hostUsers", FIELD_BOOL },
	{ "immutable", FIELD_BOOL },
	{ "initialDelaySeconds", FIELD_INT },
	{ "limits", FIELD_QTY_PARENT },
	{ "maxReplicas", FIELD_INT },
	{ "metrics", FIELD_SET },
	{ "minReadySeconds", FIELD_INT },
	{ "minReplicas", FIELD_INT },
	{ "nodePort", FIELD_PORT },
	{ "number", FIELD_PORT },
	{ "optional", FIELD_BOOL },
	{ "parallelism", FIELD_INT },
	{ "paused", FIELD_BOOL },
	{ "periodSeconds", FIELD_INT },
	{ "port", FIELD_PORT },
	{ "priority", FIELD_INT },
	{ "privileged", FIELD_BOOL },
	{ "progressDeadlineSeconds", FIELD_INT },
	{ "readOnly", FIELD_BOOL },
	{ "readOnlyRootFilesystem", FIELD_BOOL },
	{ "replicas", FIELD_INT },
	{ "requests", FIELD_QTY_PARENT },
	{ "revisionHistoryLimit", FIELD_INT },
	{ "runAsGroup", FIELD_INT },
	{ "runAsNonRoot", FIELD_BOOL },
	{ "runAsUser", FIELD_INT },
	{ "setHostnameAsFQDN", FIELD_BOOL },
	{ "shareProcessNamespace", FIELD_BOOL },
	{ "size", FIELD_INT },
	{ "sizeLimit", FIELD_QTY },
	{ "stabilizationWindowSeconds", FIELD_INT },
	{ "stdin", FIELD_BOOL },
	{ "stdinOnce", FIELD_BOOL },
	{ "storage", FIELD_QTY },
	{ "successThreshold", FIELD_INT },
	{ "suspend", FIELD_BOOL },
	{ "targetPort", FIELD_PORT },
	{ "terminationGracePeriodSeconds", FIELD_INT },
	{ "timeoutSeconds", FIELD_INT },
	{ "tty", FIELD_BOOL },
};

static int
field_cmp(const void *key, const void *elem)
{
	const struct field_kind *f = elem;

	return strcmp(key, f->name);
}

static unsigned int
field_flags(const char *name)
{
	const struct field_kind *f;

	if (name == NULL)
		return 0;
	f = bsearch(name, field_table, sizeof(field_table) / sizeof(field_table[0]),
	    sizeof(field_table[0]), field_cmp);
	return f != NULL ? f->flags : 0;
}

int
diff_field_table_check(void)
{
	size_t i;

	for (i = 1; i < sizeof(field_table) / sizeof(field_table[0]); i++)
		if (strcmp(field_table[i - 1].name, field_table[i].name) >= 0)
			return -1;
	return 0;
}

static const char *const cluster_kinds[] = { "Node", "Namespace", "PersistentVolume",
	"ClusterRole", "ClusterRoleBinding", "StorageClass", "CustomResourceDefinition",
	"PriorityClass", "RuntimeClass", "IngressClass", "GatewayClass", "ClusterServingRuntime",
	"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
	"CSIDriver", "CSINode", "VolumeAttachment", "ClusterIssuer", "ComponentStatus", NULL };
static const char *const excluded_kinds[] = { "Event", "Lease", "Endpoints", "EndpointSlice",
	"TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview", "LocalSubjectAccessReview",
	"CertificateSigningRequest", "ControllerRevision", NULL };
static const char *const workload_kinds[] = { "Deployment", "StatefulSet", "DaemonSet",
	"LeaderWorkerSet", "Job", "ReplicaSet", "InferenceService", "RayService", NULL };

static int
is_set_field(const char *field)
{
	return (field_flags(field) & FIELD_SET) != 0;
}

char *
diff_list_key(const char *field, const json_t *item)
{
	const json_t *n;
	char tmp[512];

	if (field == NULL || !json_is_object(item))
		return NULL;
	if (is_set_field(field))
		return json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
	if (strcmp(field, "containers") == 0 || strcmp(field, "initContainers") == 0 ||
	    strcmp(field, "ephemeralContainers") == 0 || strcmp(field, "env") == 0 ||
	    strcmp(field, "volumes") == 0 || strcmp(field, "imagePullSecrets") == 0 ||
	    strcmp(field, "containerStatuses") == 0) {
		n = json_object_get(item, "name");
		return json_is_string(n) ? strdup(json_string_value(n)) : NULL;
	}
	if (strcmp(field, "volumeMounts") == 0) {
		n = json_object_get(item, "mountPath");
		return json_is_string(n) ? strdup(json_string_value(n)) : NULL;
	}
	if (strcmp(field, "volumeDevices") == 0) {
		n = json_object_get(item, "devicePath");
		return json_is_string(n) ? strdup(json_string_value(n)) : NULL;
	}
	if (strcmp(field, "hostAliases") == 0) {
		n = json_object_get(item, "ip");
		return json_is_string(n) ? strdup(json_string_value(n)) : NULL;
	}
	if (strcmp(field, "conditions") == 0) {
		n = json_object_get(item, "type");
		return json_is_string(n) ? strdup(json_string_value(n)) : NULL;
	}
	if (strcmp(field, "tolerations") == 0) {
		const json_t *k = json_object_get(item, "key"), *ef = json_object_get(item, "effect");

		snprintf(tmp, sizeof(tmp), "%s:%s", json_is_string(k) ? json_string_value(k) : "*",
		    json_is_string(ef) ? json_string_value(ef) : "*");
		return strdup(tmp);
	}
	if (strcmp(field, "ports") == 0) {
		const json_t *proto = json_object_get(item, "protocol");
		const char *pr = json_is_string(proto) && strcmp(json_string_value(proto), "TCP") != 0 ?
		    json_string_value(proto) : NULL;

		n = json_object_get(item, "name");
		if (json_is_string(n))
			return strdup(json_string_value(n));
		n = json_object_get(item, "containerPort");
		if (n == NULL)
			n = json_object_get(item, "port");
		if (json_is_integer(n)) {
			snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT "%s%s", json_integer_value(n),
			    pr != NULL ? "/" : "", pr != NULL ? pr : "");
			return strdup(tmp);
		}
		return NULL;
	}
	return NULL;
}

/* ---- normalisation ---- */

struct norm {
	struct diff_side *s;
	int k8s;
	int depth;
	int owned;      /* the value in hand and all above it are the side's alone */
	struct err *e;
};

/* Does v have a single reference (its parent's, or the caller's for a document)? */
static int
sole(const json_t *v)
{
	return v->refcount == 1;
}

/* Is v the side's alone, so that it may be changed in place? The caller took the
 * documents (diff_side_from_docs()) and nothing above v is shared: a value with one
 * reference is held only by its parent. A value shared (a YAML alias, a subtree kept
 * in pod facts) has more and is rebuilt instead. */
static int
exclusive(const struct norm *n, const json_t *v)
{
	return n->owned && sole(v);
}

static json_t *norm_value(struct norm *n, const json_t *v, const char *key, const char *pkey);

static json_t *
scalar_to_string(const json_t *v)
{
	char tmp[64];

	if (json_is_string(v))
		return json_incref((json_t *)v);
	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return json_string(tmp);
	}
	if (json_is_real(v)) {
		snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
		return json_string(tmp);
	}
	if (json_is_true(v))
		return json_string("true");
	if (json_is_false(v))
		return json_string("false");
	return json_deep_copy(v);
}

static int
int_text(const char *s, json_int_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || (!isdigit((unsigned char)*s) && *s != '-'))
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = (json_int_t)v;
	return 0;
}

/* Drops a metadata member that is noise; returns the rule name or NULL. */
static const char *
metadata_noise(const char *k)
{
	if (strcmp(k, "managedFields") == 0)
		return RULE_MANAGED_FIELDS;
	if (strcmp(k, "resourceVersion") == 0)
		return RULE_RESOURCE_VERSION;
	if (strcmp(k, "uid") == 0)
		return RULE_UID;
	if (strcmp(k, "generation") == 0)
		return RULE_GENERATION;
	if (strcmp(k, "creationTimestamp") == 0)
		return RULE_CREATION_TIMESTAMP;
	if (strcmp(k, "selfLink") == 0)
		return RULE_SELF_LINK;
	return NULL;
}

static int
key_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(x[0], y[0]);
}

/* Sorts a normalised known keyed list by key when every item has a unique key. */
static json_t *
sort_keyed(json_t *arr, const char *field)
{
	size_t i, n = json_array_size(arr);
	const char **pairs = NULL; /* key, (const char *)index */
	char **keys = NULL;
	json_t *out = NULL;
	int ok = 1;

	if (n < 2)
		return arr;
	keys = calloc(n, sizeof(*keys));
	pairs = calloc(2 * n, sizeof(*pairs));
	if (keys == NULL || pairs == NULL)
		goto out;
	for (i = 0; i < n && ok; i++) {
		keys[i] = diff_list_key(field, json_array_get(arr, i));
		if (keys[i] == NULL)
			ok = 0;
		pairs[2 * i] = keys[i];
		pairs[2 * i + 1] = (const char *)(uintptr_t)i;
	}
	if (!ok)
		goto out;
	qsort(pairs, n, 2 * sizeof(*pairs), key_cmp);
	for (i = 0; i < n && (size_t)(uintptr_t)pairs[2 * i + 1] == i; i++)
		;
	if (i == n)
		goto out; /* already in key order */
	for (i = 1; i < n; i++)
		if (strcmp(pairs[2 * i - 2], pairs[2 * i]) == 0 && !is_set_field(field))
			goto out; /* duplicate key: keep as written */
	out = json_array();
	if (out == NULL)
		goto out;
	for (i = 0; i < n; i++)
		json_array_append(out, json_array_get(arr, (size_t)(uintptr_t)pairs[2 * i + 1]));
out:
	if (keys != NULL)
		for (i = 0; i < n; i++)
			free(keys[i]);
	free(keys);
	free(pairs);
	if (out != NULL) {
		json_decref(arr);
		return out;
	}
	return arr;
}

/* The noise rule that drops member k of an object, or NULL to keep it. */
static const char *
member_noise(const struct norm *n, const char *k, int is_meta, int is_ann, int is_labels)
{
	if (!n->k8s)
		return NULL;
	if (is_meta)
		return metadata_noise(k);
	if (is_ann && strcmp(k, RULE_REVISION) == 0)
		return RULE_REVISION;
	if (is_ann && strcmp(k, RULE_LAST_APPLIED) == 0)
		return RULE_LAST_APPLIED;
	if (is_labels && strcmp(k, RULE_POD_TEMPLATE_HASH) == 0)
		return RULE_POD_TEMPLATE_HASH;
	if (is_labels && strcmp(k, RULE_GFD_TIMESTAMP) == 0)
		return RULE_GFD_TIMESTAMP;
	if (n->depth == 1 && strcmp(k, "status") == 0)
		return RULE_STATUS;
	return NULL;
}

/* The normalised value of member k (m) of an object whose own key is `key`; new
 * reference, or NULL with n->e set. */
static json_t *
norm_member(struct norm *n, const char *k, const json_t *m, const char *key, int is_ann,
    int is_labels, int is_qty)
{
	if (n->k8s && (is_ann || is_labels) && !json_is_object(m) && !json_is_array(m))
		return scalar_to_string(m);
	if (is_qty)
		return qty_normalise(m);
	/* A field Kubernetes types as a boolean or a number (automountServiceAccountToken)
	 * holds no secret. */
	if (json_is_string(m) && (!n->k8s || field_flags(k) == 0) && diff_is_secret_name(k) &&
	    strncmp(json_string_value(m), "<redacted:", 10) != 0)
		return diff_redact_value(json_string_value(m), json_string_length(m));
	return norm_value(n, m, k, key);
}

/* Empty annotations and labels mean the same as none. */
static int
empty_meta_map(const struct norm *n, const char *k, const json_t *c, int is_meta)
{
	return n->k8s && is_meta && json_is_object(c) && json_object_size(c) == 0 &&
	    (strcmp(k, "annotations") == 0 || strcmp(k, "labels") == 0);
}

/* Is the normalised env item {keys[i]: kids[i]} one that carries a secret value
 * inline? Its value is a string by then (env values are strings to Kubernetes). */
static int
env_secret(const char *const *keys, json_t *const *kids, size_t nk)
{
	const json_t *name = NULL, *val = NULL;
	size_t i;

	for (i = 0; i < nk; i++) {
		if (strcmp(keys[i], "name") == 0)
			name = kids[i];
		else if (strcmp(keys[i], "value") == 0)
			val = kids[i];
	}
	return json_is_string(name) && json_is_string(val) &&
	    diff_is_secret_name(json_string_value(name)) &&
	    strncmp(json_string_value(val), "<redacted:", 10) != 0;
}

/* norm_object() on an object the side owns alone: noise is deleted and changed
 * members replaced where they are, so an object costs no new allocation. */
static json_t *
norm_object_in_place(struct norm *n, json_t *v, const char *key, const char *pkey,
    int is_meta, int is_ann, int is_labels, int is_qty)
{
	const char *k;
	json_t *m, *c;
	void *tmp;

	json_object_foreach_safe(v, tmp, k, m) {
		const char *rule = member_noise(n, k, is_meta, is_ann, is_labels);

		if (rule != NULL) {
			diff_side_count(n->s, rule, 1);
			json_object_del(v, k);
			continue;
		}
		c = norm_member(n, k, m, key, is_ann, is_labels, is_qty);
		if (c == NULL)
			return NULL;
		if (empty_meta_map(n, k, c, is_meta)) {
			json_decref(c);
			json_object_del(v, k);
			continue;
		}
		if (c == m)
			json_decref(c);
		else if (json_object_set_new(v, k, c) != 0)
			return NULL;
	}
	if (n->k8s && pkey != NULL && strcmp(pkey, "env") == 0) {
		const char *keys[2] = { "name", "value" };
		json_t *kids[2];

		kids[0] = json_object_get(v, "name");
		kids[1] = json_object_get(v, "value");
		if (env_secret(keys, kids, 2)) {
			c = diff_redact_value(json_string_value(kids[1]),
			    json_string_length(kids[1]));
			if (c == NULL || json_object_set_new(v, "value", c) != 0)
				return NULL;
			diff_side_count(n->s, RULE_SECRET_HASHED, 1);
		}
	}
	return json_incref(v);
}

/* A normalised object shares the input's value when nothing in it changed, so an
 * unchanged subtree costs no allocation (values are reference counted and never
 * modified once built). */
static json_t *
norm_object(struct norm *n, const json_t *v, const char *key, const char *pkey)
{
	json_t *out = NULL, *c;
	const char *k;
	json_t *m;
	json_t *stack_kids[32];
	const char *stack_keys[32];
	json_t **kids = stack_kids;
	const char **keys = stack_keys;
	size_t nk = 0, i, size = json_object_size(v);
	int changed = 0, failed = 0;
	int is_meta = key != NULL && strcmp(key, "metadata") == 0;
	int is_ann = key != NULL && strcmp(key, "annotations") == 0 && pkey != NULL &&
	    strcmp(pkey, "metadata") == 0;
	int is_labels = key != NULL && (strcmp(key, "labels") == 0 ||
	    strcmp(key, "matchLabels") == 0);
	int is_qty = n->k8s && (field_flags(key) & FIELD_QTY_PARENT) != 0;

	if (exclusive(n, v))
		return norm_object_in_place(n, (json_t *)v, key, pkey, is_meta, is_ann,
		    is_labels, is_qty);
	if (size > 32) {
		kids = malloc(size * sizeof(*kids));
		keys = malloc(size * sizeof(*keys));
		if (kids == NULL || keys == NULL) {
			failed = 1;
			goto out;
		}
	}
	json_object_foreach((json_t *)v, k, m) {
		const char *rule = member_noise(n, k, is_meta, is_ann, is_labels);

		if (rule != NULL) {
			diff_side_count(n->s, rule, 1);
			changed = 1;
			continue;
		}
		c = norm_member(n, k, m, key, is_ann, is_labels, is_qty);
		if (c == NULL) {
			failed = 1;
			goto out;
		}
		if (empty_meta_map(n, k, c, is_meta)) {
			json_decref(c);
			changed = 1;
			continue;
		}
		if (c != m)
			changed = 1;
		kids[nk] = c;
		keys[nk++] = k;
	}
	/* An env item that carries a secret value inline: keep the name, hash the value. */
	if (n->k8s && pkey != NULL && strcmp(pkey, "env") == 0 && env_secret(keys, kids, nk))
		i = 0;
	else
		i = nk;
	for (; i < nk; i++) {
		if (strcmp(keys[i], "value") == 0) {
			json_t *h = diff_redact_value(json_string_value(kids[i]),
			    json_string_length(kids[i]));

			json_decref(kids[i]);
			kids[i] = h;
			if (h == NULL)
				failed = 1;
			diff_side_count(n->s, RULE_SECRET_HASHED, 1);
			changed = 1;
			break;
		}
	}
	if (failed)
		goto out;
	if (!changed) {
		out = json_incref((json_t *)v);
		goto out;
	}
	out = json_object();
	for (i = 0; out != NULL && i < nk; i++) {
		if (json_object_set(out, keys[i], kids[i]) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
out:
	for (i = 0; i < nk; i++)
		json_decref(kids[i]);
	if (kids != stack_kids)
		free(kids);
	if (keys != stack_keys)
		free(keys);
	return out;
}

static json_t *
norm_value(struct norm *n, const json_t *v, const char *key, const char *pkey)
{
	json_t *out = NULL;
	size_t i;
	int owned = n->owned;

	if (++n->depth > DOC_MAX_DEPTH) {
		n->depth--;
		err_set(n->e, ERR_TOO_LARGE, "document nested deeper than %d levels", DOC_MAX_DEPTH);
		return NULL;
	}
	n->owned = exclusive(n, v);
	if (json_is_object(v)) {
		out = norm_object(n, v, key, pkey);
	} else if (json_is_array(v) && n->owned) {
		/* Ours alone: changed items are replaced where they are. */
		for (i = 0; i < json_array_size(v); i++) {
			json_t *m = json_array_get(v, i), *c = norm_value(n, m, NULL, key);

			if (c == NULL)
				break;
			if (c == m)
				json_decref(c);
			else if (json_array_set_new((json_t *)v, i, c) != 0)
				break;
		}
		if (i == json_array_size(v))
			out = json_incref((json_t *)v);
		if (out != NULL && n->k8s && key != NULL)
			out = sort_keyed(out, key);
	} else if (json_is_array(v)) {
		/* Shared: a new array only from the first item that changed. */
		int failed = 0;

		for (i = 0; i < json_array_size(v) && !failed; i++) {
			json_t *m = json_array_get(v, i), *c = norm_value(n, m, NULL, key);
			size_t j;

			if (c == NULL) {
				failed = 1;
				break;
			}
			if (out == NULL && c != m) {
				out = json_array();
				for (j = 0; out != NULL && j < i; j++)
					if (json_array_append(out, json_array_get(v, j)) != 0) {
						json_decref(out);
						out = NULL;
					}
				if (out == NULL) {
					json_decref(c);
					failed = 1;
					break;
				}
			}
			if (out == NULL)
				json_decref(c);
			else if (json_array_append_new(out, c) != 0)
				failed = 1;
		}
		if (failed) {
			json_decref(out);
			out = NULL;
		} else {
			if (out == NULL)
				out = json_incref((json_t *)v);
			if (n->k8s && key != NULL)
				out = sort_keyed(out, key);
		}
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		/* Range first: converting an out-of-range double to an integer is undefined. */
		if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(json_int_t)d)
			out = json_integer((json_int_t)d);
		else
			out = json_deep_copy(v);
	} else if (n->k8s && key != NULL && json_is_string(v)) {
		json_int_t iv;
		const char *s = json_string_value(v);
		unsigned int ff = field_flags(key);

		if ((ff & (FIELD_PORT | FIELD_INT)) != 0 && int_text(s, &iv) == 0)
			out = json_integer(iv);
		else if ((ff & FIELD_BOOL) != 0 && strcmp(s, "true") == 0)
			out = json_true();
		else if ((ff & FIELD_BOOL) != 0 && strcmp(s, "false") == 0)
			out = json_false();
		else if ((ff & FIELD_QTY) != 0)
			out = qty_normalise(v);
		else if (strcmp(key, "value") == 0 && pkey != NULL && strcmp(pkey, "target") == 0)
			out = qty_normalise(v);
		else
			out = json_incref((json_t *)v);
	} else if (n->k8s && key != NULL && strcmp(key, "value") == 0 && pkey == NULL &&
	    !json_is_null(v)) {
		/* env values are strings to Kubernetes: value: 1 and value: "1" are one */
		out = scalar_to_string(v);
	} else if (n->k8s && key != NULL && ((field_flags(key) & FIELD_QTY) != 0 ||
	    (strcmp(key, "value") == 0 && pkey != NULL && strcmp(pkey, "target") == 0))) {
		out = qty_normalise(v);
	} else {
		out = json_incref((json_t *)v);
	}
	if (out == NULL && n->e != NULL && n->e->code == ERR_OK)
		err_set(n->e, ERR_NOMEM, "out of memory normalising a document");
	n->owned = owned;
	n->depth--;
	return out;
}

/* ---- identity ---- */

static const char *
str_at(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
is_k8s_object(const json_t *d)
{
	const json_t *md = json_object_get(d, "metadata");

	return json_is_object(d) && str_at(d, "apiVersion") != NULL && str_at(d, "kind") != NULL &&
	    json_is_object(md) && str_at(md, "name") != NULL;
}

/* "apps/v1" -> "apps", "v1" -> "core". */
static void
api_group(const char *api, char *out, size_t cap)
{
	const char *slash = strchr(api, '/');

	if (slash == NULL)
		snprintf(out, cap, "core");
	else
		snprintf(out, cap, "%.*s", (int)(slash - api), api);
}

static int
make_identity(const json_t *d, char **key, char **display)
{
	char group[256];
	const json_t *md = json_object_get(d, "metadata");
	const char *kind = str_at(d, "kind"), *name = str_at(md, "name");
	const char *ns = str_at(md, "namespace");
	int cluster = in_list(kind, cluster_kinds);
	const char *kns = ns != NULL && *ns != '\0' ? ns : (cluster ? "" : "default");

	api_group(str_at(d, "apiVersion"), group, sizeof(group));
	if (asprintf(key, "%s/%s/%s/%s", group, kind, kns, name) < 0) {
		*key = NULL;
		return -1;
	}
	if (ns != NULL && *ns != '\0' && !cluster) {
		if (asprintf(display, "%s/%s/%s/%s", group, kind, ns, name) < 0)
			*display = NULL;
	} else if (asprintf(display, "%s/%s/%s", group, kind, name) < 0) {
		*display = NULL;
	}
	if (*display == NULL) {
		free(*key);
		*key = NULL;
		return -1;
	}
	return 0;
}

static int
side_add_obj(struct diff_side *s, char *key, char *display, const char *kind, json_t *doc,
    struct err *e)
{
	json_t *at = json_object_get(s->index, key);
	struct diff_obj *o;

	if (at != NULL) {
		/* The same object twice in one side: the later one wins, as with kubectl apply. */
		o = &s->objs[json_integer_value(at)];
		free(o->key);
		free(o->display);
		free(o->kind);
		json_decref(o->doc);
	} else {
		if (s->nobjs == s->capobjs) {
			size_t nc = s->capobjs ? 2 * s->capobjs : 64;
			struct diff_obj *no = realloc(s->objs, nc * sizeof(*no));

			if (no == NULL)
				goto nomem;
			s->objs = no;
			s->capobjs = nc;
		}
		o = &s->objs[s->nobjs];
		if (json_object_set_new(s->index, key, json_integer((json_int_t)s->nobjs)) != 0)
			goto nomem;
		s->nobjs++;
	}
	o->key = key;
	o->display = display;
	o->kind = strdup(kind);
	o->doc = doc;
	if (o->kind == NULL)
		return err_set(e, ERR_NOMEM, "out of memory adding '%s'", display);
	return 0;
nomem:
	free(key);
	free(display);
	json_decref(doc);
	return err_set(e, ERR_NOMEM, "out of memory adding an object");
}

/* ---- Secrets ---- */

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes base64 into a new buffer; returns NULL when it is not base64. */
static unsigned char *
b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len / 4 * 3 + 4);
	size_t i, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int v;

		if (s[i] == '=' || s[i] == '\n' || s[i] == '\r')
			continue;
		v = b64val((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	*outlen = o;
	return out;
}

/* Secret: stringData folded into data (as the API server does), every value replaced by
 * its salted hash. The values never enter the side. */
static int
secret_redact(struct diff_side *s, json_t *obj, struct err *e)
{
	json_t *data = json_object_get(obj, "data"), *sd = json_object_get(obj, "stringData");
	json_t *merged = json_object(), *v;
	const char *k;

	if (merged == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading a Secret");
	if (json_is_object(data)) {
		json_object_foreach(data, k, v) {
			json_t *h = NULL;
			size_t dl;
			unsigned char *dec;

			if (!json_is_string(v))
				continue;
			if (strncmp(json_string_value(v), "hmac-sha256:", 12) == 0 ||
			    strncmp(json_string_value(v), "<redacted:", 10) == 0) {
				/* already a digest (a snapshot): hash it again, never show it */
				h = diff_redact_value(json_string_value(v), json_string_length(v));
			} else if ((dec = b64_decode(json_string_value(v), json_string_length(v),
			    &dl)) != NULL) {
				h = diff_redact_value((const char *)dec, dl);
				free(dec);
			} else {
				h = diff_redact_value(json_string_value(v), json_string_length(v));
			}
			json_object_set_new(merged, k, h);
			diff_side_count(s, RULE_SECRET_HASHED, 1);
		}
	}
	if (json_is_object(sd)) {
		json_object_foreach(sd, k, v) {
			if (!json_is_string(v))
				continue;
			json_object_set_new(merged, k,
			    diff_redact_value(json_string_value(v), json_string_length(v)));
			diff_side_count(s, RULE_SECRET_HASHED, 1);
		}
	}
	json_object_del(obj, "stringData");
	if (json_object_size(merged) > 0 || data != NULL)
		json_object_set_new(obj, "data", merged);
	else
		json_decref(merged);
	return 0;
}

/* ---- Nodes ---- */

static const char *
label(const json_t *labels, const char *k)
{
	return str_at(labels, k);
}

static json_t *
node_fingerprint(const json_t *node)
{
	const json_t *md = json_object_get(node, "metadata");
	const json_t *labels = json_object_get(md, "labels");
	const json_t *cap = json_object_get(json_object_get(node, "status"), "capacity");
	json_t *fp = json_object();
	const char *v, *maj, *min, *rev;
	char tmp[128];

	if (fp == NULL)
		return NULL;
	if ((v = label(labels, "nvidia.com/gpu.product")) != NULL)
		json_object_set_new(fp, "product", json_string(v));
	if ((v = label(labels, "nvidia.com/gpu.memory")) != NULL)
		json_object_set_new(fp, "memory_mib", json_string(v));
	if ((v = label(labels, "nvidia.com/gpu.count")) != NULL)
		json_object_set_new(fp, "count", json_string(v));
	else if (json_is_object(cap) && json_object_get(cap, "nvidia.com/gpu") != NULL)
		json_object_set_new(fp, "count",
		    scalar_to_string(json_object_get(cap, "nvidia.com/gpu")));
	/* Driver: the new label names, then the deprecated ones older GFD writes. */
	if ((v = label(labels, "nvidia.com/cuda.driver-version.full")) != NULL) {
		json_object_set_new(fp, "driver", json_string(v));
	} else {
		maj = label(labels, "nvidia.com/cuda.driver-version.major");
		min = label(labels, "nvidia.com/cuda.driver-version.minor");
		rev = label(labels, "nvidia.com/cuda.driver-version.revision");
		if (maj == NULL) {
			maj = label(labels, "nvidia.com/cuda.driver.major");
			min = label(labels, "nvidia.com/cuda.driver.minor");
			rev = label(labels, "nvidia.com/cuda.driver.rev");
		}
		if (maj != NULL) {
			snprintf(tmp, sizeof(tmp), "%s%s%s%s%s", maj, min ? "." : "", min ? min : "",
			    rev ? "." : "", rev ? rev : "");
			json_object_set_new(fp, "driver", json_string(tmp));
		}
	}
	if ((v = label(labels, "nvidia.com/cuda.runtime-version.full")) != NULL) {
		json_object_set_new(fp, "cuda", json_string(v));
	} else {
		maj = label(labels, "nvidia.com/cuda.runtime-version.major");
		min = label(labels, "nvidia.com/cuda.runtime-version.minor");
		if (maj == NULL) {
			maj = label(labels, "nvidia.com/cuda.runtime.major");
			min = label(labels, "nvidia.com/cuda.runtime.minor");
		}
		if (maj != NULL) {
			snprintf(tmp, sizeof(tmp), "%s%s%s", maj, min ? "." : "", min ? min : "");
			json_object_set_new(fp, "cuda", json_string(tmp));
		}
	}
	if ((v = label(labels, "nvidia.com/mig.strategy")) != NULL)
		json_object_set_new(fp, "mig", json_string(v));
	if ((v = label(labels, "nvidia.com/gpu.sharing-strategy")) != NULL)
		json_object_set_new(fp, "sharing", json_string(v));
	return fp;
}

static char *
fingerprint_text(const json_t *fp)
{
	const char *p = str_at(fp, "product"), *m = str_at(fp, "memory_mib"), *c = str_at(fp, "count");
	const char *d = str_at(fp, "driver"), *cu = str_at(fp, "cuda"), *mig = str_at(fp, "mig");
	const char *sh = str_at(fp, "sharing");
	char *out = NULL;

	if (p == NULL && c == NULL)
		return strdup("no GPU");
	if (asprintf(&out, "%s x%s, %s MiB, driver %s, CUDA %s, MIG %s%s%s",
	    p ? p : "unknown GPU", c ? c : "?", m ? m : "?", d ? d : "?", cu ? cu : "?",
	    mig ? mig : "none", sh != NULL && strcmp(sh, "none") != 0 ? ", sharing " : "",
	    sh != NULL && strcmp(sh, "none") != 0 ? sh : "") < 0)
		return NULL;
	return out;
}

static int
side_add_node(struct diff_side *s, const json_t *node, struct err *e)
{
	json_t *fp = node_fingerprint(node), *cnt;
	char *text = NULL;
	int ret = -1;

	if (fp == NULL || (text = fingerprint_text(fp)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading a Node");
		goto out;
	}
	json_object_set_new(s->nodes, str_at(json_object_get(node, "metadata"), "name"),
	    json_string(text));
	cnt = json_object_get(s->fleet, text);
	json_object_set_new(s->fleet, text, json_integer((cnt ? json_integer_value(cnt) : 0) + 1));
	if (json_object_get(s->fleet_facts, text) == NULL)
		json_object_set(s->fleet_facts, text, fp);
	diff_side_count(s, RULE_NODE, 1);
	ret = 0;
out:
	free(text);
	json_decref(fp);
	return ret;
}

/* ---- Pods ---- */

static char *
digest_of(const char *image_id)
{
	const char *at = strchr(image_id, '@');

	if (at != NULL)
		return strdup(at + 1);
	if (strncmp(image_id, "docker-pullable://", 18) == 0)
		image_id += 18;
	return strdup(image_id);
}

/* Appends one length-prefixed field ("<len>:<bytes>") to a pod's argv text, so that
 * two texts are equal exactly when their fields are. */
static int
argv_add(struct buf *b, const char *p, size_t len, struct err *e)
{
	return buf_addf(b, e, "%zu:", len) < 0 ? -1 : buf_add(b, p, len, e);
}

/* Appends command or args: a tag, the item count, then each item (a string as it is,
 * anything else as canonical JSON). */
static int
argv_add_list(struct buf *b, char tag, const json_t *list, struct err *e)
{
	size_t i;

	if (list == NULL)
		return buf_addch(b, '-', e);
	if (!json_is_array(list)) {
		char *dump = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		int r;

		if (dump == NULL)
			return err_set(e, ERR_NOMEM, "out of memory reading a Pod");
		r = buf_addch(b, 'j', e) < 0 ? -1 : argv_add(b, dump, strlen(dump), e);
		free(dump);
		return r;
	}
	if (buf_addf(b, e, "%c%zu[", tag, json_array_size(list)) < 0)
		return -1;
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *it = json_array_get(list, i);
		char *dump;
		int r;

		if (json_is_string(it)) {
			if (buf_addch(b, 's', e) < 0 ||
			    argv_add(b, json_string_value(it), json_string_length(it), e) < 0)
				return -1;
			continue;
		}
		dump = json_dumps(it, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		if (dump == NULL)
			return err_set(e, ERR_NOMEM, "out of memory reading a Pod");
		r = buf_addch(b, 'j', e) < 0 ? -1 : argv_add(b, dump, strlen(dump), e);
		free(dump);
		if (r < 0)
			return -1;
	}
	return buf_addch(b, ']', e);
}

/* Facts of one pod: {ns, name, labels, owners, node, containers: {c: {image, digest}},
 * restarts, argv}. argv is a canonical text of every container's name, command and
 * args: pods of one group with different texts run different command lines. */
static int
side_keep_pod(struct diff_side *s, const json_t *pod, struct err *e)
{
	const json_t *md = json_object_get(pod, "metadata");
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *st = json_object_get(pod, "status");
	json_t *f = json_object(), *cs = json_object(), *c;
	struct buf argv = BUF_INIT(DOC_MAX_BYTES);
	long long restarts = 0;
	size_t i;
	int ret = -1;

	if (f == NULL || cs == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading a Pod");
		goto out;
	}
	json_object_set_new(f, "ns", json_string(str_at(md, "namespace") ? str_at(md, "namespace") :
	    "default"));
	json_object_set_new(f, "name", json_string(str_at(md, "name")));
	/* Shared with the input, not copied: the facts are only read. */
	if (json_object_get(md, "labels") != NULL)
		json_object_set(f, "labels", json_object_get(md, "labels"));
	if (json_object_get(md, "ownerReferences") != NULL)
		json_object_set(f, "owners", json_object_get(md, "ownerReferences"));
	if (str_at(spec, "nodeName") != NULL)
		json_object_set_new(f, "node", json_string(str_at(spec, "nodeName")));
	for (i = 0; i < json_array_size(json_object_get(spec, "containers")); i++) {
		const json_t *ct = json_array_get(json_object_get(spec, "containers"), i);
		const char *name = str_at(ct, "name");
		json_t *one;

		if (name == NULL)
			continue;
		one = json_object();
		if (str_at(ct, "image") != NULL)
			json_object_set_new(one, "image", json_string(str_at(ct, "image")));
		json_object_set_new(cs, name, one);
		if (buf_addch(&argv, 'c', e) < 0 || argv_add(&argv, name, strlen(name), e) < 0 ||
		    argv_add_list(&argv, 'C', json_object_get(ct, "command"), e) < 0 ||
		    argv_add_list(&argv, 'A', json_object_get(ct, "args"), e) < 0) {
			err_prefix(e, "pod '%s'", str_at(md, "name"));
			goto out;
		}
	}
	for (i = 0; i < json_array_size(json_object_get(st, "containerStatuses")); i++) {
		const json_t *ct = json_array_get(json_object_get(st, "containerStatuses"), i);
		const char *name = str_at(ct, "name"), *iid = str_at(ct, "imageID");
		json_t *one;

		if (name == NULL)
			continue;
		one = json_object_get(cs, name);
		if (one == NULL) {
			one = json_object();
			json_object_set_new(cs, name, one);
		}
		if (iid != NULL && *iid != '\0') {
			char *d = digest_of(iid);

			if (d == NULL) {
				err_set(e, ERR_NOMEM, "out of memory reading a Pod");
				goto out;
			}
			json_object_set_new(one, "digest", json_string(d));
			free(d);
		}
		if (json_is_integer(json_object_get(ct, "restartCount")))
			restarts += json_integer_value(json_object_get(ct, "restartCount"));
	}
	json_object_set_new(f, "restarts", json_integer(restarts));
	c = cs;
	cs = NULL; /* set_new takes it, on failure too */
	if (json_object_set_new(f, "containers", c) != 0 ||
	    json_object_set_new(f, "argv", json_stringn_nocheck(buf_str(&argv),
	    buf_len(&argv))) != 0) {
		err_set(e, ERR_NOMEM, "out of memory reading a Pod");
		goto out;
	}
	c = f;
	f = NULL;
	if (json_array_append_new(s->pods, c) != 0) {
		err_set(e, ERR_NOMEM, "out of memory keeping a pod");
		goto out;
	}
	diff_side_count(s, RULE_POD, 1);
	ret = 0;
out:
	buf_release(&argv);
	json_decref(f);
	json_decref(cs);
	return ret;
}

static struct diff_group *
group_get(struct diff_side *s, const char *key, const char *display)
{
	json_t *at = json_object_get(s->group_index, key);
	struct diff_group *g;

	if (at != NULL)
		return &s->groups[json_integer_value(at)];
	if (s->ngroups == s->capgroups) {
		size_t nc = s->capgroups ? 2 * s->capgroups : 32;
		struct diff_group *ng = realloc(s->groups, nc * sizeof(*ng));

		if (ng == NULL)
			return NULL;
		s->groups = ng;
		s->capgroups = nc;
	}
	g = &s->groups[s->ngroups];
	memset(g, 0, sizeof(*g));
	g->key = strdup(key);
	g->display = strdup(display);
	g->digests = json_object();
	g->images = json_object();
	g->gpus = json_object();
	g->argv = json_object();
	if (g->key == NULL || g->display == NULL || g->digests == NULL || g->images == NULL ||
	    g->gpus == NULL || g->argv == NULL ||
	    json_object_set_new(s->group_index, key, json_integer((json_int_t)s->ngroups)) != 0) {
		free(g->key);
		free(g->display);
		json_decref(g->digests);
		json_decref(g->images);
		json_decref(g->gpus);
		json_decref(g->argv);
		return NULL;
	}
	s->ngroups++;
	return g;
}

static void
bump(json_t *counts, const char *k)
{
	json_t *v = json_object_get(counts, k);

	json_object_set_new(counts, k, json_integer((v ? json_integer_value(v) : 0) + 1));
}

/* Finds the owner workload of a pod: ownerReferences, then the pod-template-hash naming,
 * then the longest name prefix that is a workload of this side. */
static int
pod_owner(struct diff_side *s, const json_t *f, char **key, char **display)
{
	const char *ns = str_at(f, "ns"), *name = str_at(f, "name");
	const json_t *owners = json_object_get(f, "owners");
	const char *hash = str_at(json_object_get(f, "labels"), RULE_POD_TEMPLATE_HASH);
	char base[512], probe[768];
	size_t i, j;

	*key = *display = NULL;
	snprintf(base, sizeof(base), "%s", name);
	for (i = 0; i < json_array_size(owners); i++) {
		const json_t *o = json_array_get(owners, i);
		const char *ok = str_at(o, "kind"), *on = str_at(o, "name");

		if (ok == NULL || on == NULL)
			continue;
		if (strcmp(ok, "ReplicaSet") == 0) {
			const char *dash = strrchr(on, '-');

			snprintf(base, sizeof(base), "%.*s", dash ? (int)(dash - on) : (int)strlen(on),
			    on);
		} else {
			snprintf(base, sizeof(base), "%s", on);
		}
		break;
	}
	if (i == json_array_size(owners) && hash != NULL) {
		char pat[128];
		const char *hit;

		snprintf(pat, sizeof(pat), "-%s-", hash);
		hit = strstr(name, pat);
		if (hit != NULL)
			snprintf(base, sizeof(base), "%.*s", (int)(hit - name), name);
	}
	/* Longest prefix (at a '-') that names a workload here; the base itself first. */
	for (j = strlen(base); j > 0; j--) {
		size_t w;

		if (base[j] != '\0' && base[j] != '-')
			continue;
		for (w = 0; workload_kinds[w] != NULL; w++) {
			static const char *const groups[] = { "apps", "apps", "apps",
				"leaderworkerset.x-k8s.io", "batch", "apps", "serving.kserve.io",
				"ray.io" };
			json_t *at;

			snprintf(probe, sizeof(probe), "%s/%s/%s/%.*s", groups[w], workload_kinds[w],
			    ns, (int)j, base);
			at = json_object_get(s->index, probe);
			if (at != NULL) {
				*key = strdup(probe);
				*display = strdup(s->objs[json_integer_value(at)].display);
				return *key != NULL && *display != NULL ? 0 : -1;
			}
		}
	}
	/* No workload in the input: the pods of one base name form the group. */
	if (asprintf(key, "core/Pod/%s/%s-*", ns, base) < 0 ||
	    asprintf(display, "core/Pod/%s/%s-*", ns, base) < 0)
		return -1;
	return 0;
}

static int
side_build_groups(struct diff_side *s, struct err *e)
{
	size_t i;

	for (i = 0; i < json_array_size(s->pods); i++) {
		const json_t *f = json_array_get(s->pods, i), *cs = json_object_get(f, "containers");
		char *key = NULL, *display = NULL;
		struct diff_group *g;
		const char *cname, *node = str_at(f, "node");
		json_t *c, *m;

		if (pod_owner(s, f, &key, &display) != 0 ||
		    (g = group_get(s, key, display)) == NULL) {
			free(key);
			free(display);
			return err_set(e, ERR_NOMEM, "out of memory grouping pods");
		}
		free(key);
		free(display);
		g->pods++;
		g->restarts += json_integer_value(json_object_get(f, "restarts"));
		json_object_foreach((json_t *)cs, cname, c) {
			const char *img = str_at(c, "image"), *dg = str_at(c, "digest");

			if (img != NULL) {
				if ((m = json_object_get(g->images, cname)) == NULL) {
					m = json_object();
					json_object_set_new(g->images, cname, m);
				}
				bump(m, img);
			}
			if (dg != NULL) {
				if ((m = json_object_get(g->digests, cname)) == NULL) {
					m = json_object();
					json_object_set_new(g->digests, cname, m);
				}
				bump(m, dg);
			}
		}
		if (node != NULL && json_object_get(s->nodes, node) != NULL)
			bump(g->gpus, json_string_value(json_object_get(s->nodes, node)));
		bump(g->argv, str_at(f, "argv"));
	}
	json_array_clear(s->pods);
	return 0;
}

/* ---- documents ---- */

static int side_add_doc(struct diff_side *s, const json_t *d, int depth, int owned,
    struct err *e);

static int
side_add_k8s(struct diff_side *s, const json_t *d, int owned, struct err *e)
{
	const char *kind = str_at(d, "kind");
	char *key = NULL, *display = NULL;
	struct norm n = { s, 1, 0, owned, e };
	json_t *doc, *copy = NULL;
	char group[256];

	if (in_list(kind, excluded_kinds)) {
		diff_side_count(s, RULE_EXCLUDED_KIND, 1);
		return 0;
	}
	api_group(str_at(d, "apiVersion"), group, sizeof(group));
	if (strcmp(kind, "Pod") == 0 && strcmp(group, "core") == 0)
		return side_keep_pod(s, d, e);
	if (strcmp(kind, "Node") == 0 && strcmp(group, "core") == 0)
		return side_add_node(s, d, e);
	if (strcmp(kind, "ReplicaSet") == 0) {
		const json_t *md = json_object_get(d, "metadata");
		const json_t *own = json_object_get(md, "ownerReferences");
		size_t i;

		for (i = 0; i < json_array_size(own); i++)
			if (str_at(json_array_get(own, i), "kind") != NULL &&
			    strcmp(str_at(json_array_get(own, i), "kind"), "Deployment") == 0) {
				diff_side_count(s, RULE_REPLICASET, 1);
				return 0;
			}
	}
	if (strcmp(kind, "Secret") == 0 && strcmp(group, "core") == 0) {
		copy = json_deep_copy(d);
		if (copy == NULL || secret_redact(s, copy, e) != 0) {
			json_decref(copy);
			return err_set(e, ERR_NOMEM, "out of memory reading a Secret");
		}
		d = copy;
	}
	if (make_identity(d, &key, &display) != 0) {
		json_decref(copy);
		return err_set(e, ERR_NOMEM, "out of memory naming an object");
	}
	doc = norm_value(&n, d, NULL, NULL);
	json_decref(copy);
	if (doc == NULL) {
		free(key);
		free(display);
		return -1;
	}
	return side_add_obj(s, key, display, kind, doc, e);
}

static int
side_add_doc(struct diff_side *s, const json_t *d, int depth, int owned, struct err *e)
{
	const char *kind = json_is_object(d) ? str_at(d, "kind") : NULL;
	const char *schema = json_is_object(d) ? str_at(d, "schema") : NULL;
	const json_t *items;
	size_t i, len;

	if (schema != NULL && strncmp(schema, "skewd.snapshot/", 15) == 0) {
		if (strcmp(schema, "skewd.snapshot/v1") != 0)
			return err_set(e, ERR_UNSUPPORTED, "snapshot schema '%s' is not supported "
			    "(this skewd reads skewd.snapshot/v1)", schema);
		items = json_object_get(d, "objects");
		if (!json_is_array(items))
			return err_set(e, ERR_INVALID, "snapshot document has no 'objects' array");
		for (i = 0; i < json_array_size(items); i++)
			if (side_add_doc(s, json_array_get(items, i), depth + 1,
			    owned && sole(d) && sole(items), e) != 0)
				return -1;
		return 0;
	}
	items = json_is_object(d) ? json_object_get(d, "items") : NULL;
	if (kind != NULL && json_is_array(items) && depth < 2 &&
	    (len = strlen(kind)) >= 4 && strcmp(kind + len - 4, "List") == 0) {
		for (i = 0; i < json_array_size(items); i++)
			if (side_add_doc(s, json_array_get(items, i), depth + 1,
			    owned && sole(d) && sole(items), e) != 0)
				return -1;
		return 0;
	}
	if (is_k8s_object(d))
		return side_add_k8s(s, d, owned, e);
	{
		/* Not a Kubernetes object (Helm values, a model config.json): identity is its
		 * position among such documents. */
		struct norm n = { s, 0, 0, owned, e };
		char *key = NULL, *display = NULL;
		json_t *doc = norm_value(&n, d, NULL, NULL);

		if (doc == NULL)
			return -1;
		s->ndocs++;
		if (asprintf(&key, "document/%zu", s->ndocs) < 0 ||
		    (display = strdup(key)) == NULL) {
			free(key);
			json_decref(doc);
			return err_set(e, ERR_NOMEM, "out of memory adding a document");
		}
		return side_add_obj(s, key, display, "Document", doc, e);
	}
}

static struct diff_side *
side_new(const char *label)
{
	struct diff_side *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->label = strdup(label != NULL ? label : "");
	s->index = json_object();
	s->suppressed = json_object();
	s->pods = json_array();
	s->group_index = json_object();
	s->nodes = json_object();
	s->fleet = json_object();
	s->fleet_facts = json_object();
	if (s->label == NULL || s->index == NULL || s->suppressed == NULL || s->pods == NULL ||
	    s->group_index == NULL || s->nodes == NULL || s->fleet == NULL ||
	    s->fleet_facts == NULL) {
		diff_side_free(s);
		return NULL;
	}
	return s;
}

/* Builds a side from n documents. With `taken` (the same array as docs) the documents
 * are the caller's alone: they are normalised in place and each reference in taken[]
 * is dropped (set to NULL) once its document is read, so what the side does not keep
 * is freed early. Without it the documents are borrowed and never modified. */
static int
side_build(json_t *const *docs, json_t **taken, size_t n, const char *label,
    struct diff_side **out, struct err *e)
{
	struct diff_side *s = side_new(label);
	size_t i;
	int ret = -1;

	*out = NULL;
	if (s == NULL) {
		err_set(e, ERR_NOMEM, "out of memory creating side '%s'", label);
		goto out;
	}
	for (i = 0; i < n; i++) {
		int r = side_add_doc(s, docs[i], 0, taken != NULL, e);

		if (taken != NULL) {
			json_decref(taken[i]);
			taken[i] = NULL;
		}
		if (r != 0) {
			err_prefix(e, "%s: document %zu", label, i + 1);
			goto out;
		}
	}
	if (side_build_groups(s, e) != 0)
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	diff_side_free(s);
	return ret;
}

int
diff_side_from_values(json_t *const *docs, size_t n, const char *label, struct diff_side **out,
    struct err *e)
{
	return side_build(docs, NULL, n, label, out, e);
}

int
diff_side_from_docs(struct doc_set *d, const char *label, struct diff_side **out,
    struct err *e)
{
	size_t i, n = doc_set_count(d);
	json_t **docs = calloc(n + 1, sizeof(*docs));
	int ret = -1;

	*out = NULL;
	if (docs == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading '%s'", label);
		goto out;
	}
	for (i = 0; i < n; i++)
		docs[i] = json_incref(doc_set_get(d, i));
	/* Without the set's references each document is held here alone. */
	doc_set_free(d);
	d = NULL;
	ret = side_build(docs, docs, n, label, out, e);
out:
	if (docs != NULL)
		for (i = 0; i < n; i++)
			json_decref(docs[i]);
	free(docs);
	doc_set_free(d);
	return ret;
}

void
diff_side_free(struct diff_side *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nobjs; i++) {
		free(s->objs[i].key);
		free(s->objs[i].display);
		free(s->objs[i].kind);
		json_decref(s->objs[i].doc);
	}
	free(s->objs);
	for (i = 0; i < s->ngroups; i++) {
		free(s->groups[i].key);
		free(s->groups[i].display);
		json_decref(s->groups[i].digests);
		json_decref(s->groups[i].images);
		json_decref(s->groups[i].gpus);
		json_decref(s->groups[i].argv);
	}
	free(s->groups);
	json_decref(s->index);
	json_decref(s->suppressed);
	json_decref(s->pods);
	json_decref(s->group_index);
	json_decref(s->nodes);
	json_decref(s->fleet);
	json_decref(s->fleet_facts);
	free(s->label);
	free(s);
}

static int
obj_cmp(const void *a, const void *b)
{
	const struct diff_obj *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

json_t *
diff_side_normalised(const struct diff_side *s)
{
	const struct diff_obj **order = NULL;
	json_t *out = json_array();
	size_t i;

	if (out == NULL)
		return NULL;
	if (s->nobjs > 0) {
		order = calloc(s->nobjs, sizeof(*order));
		if (order == NULL) {
			json_decref(out);
			return NULL;
		}
		for (i = 0; i < s->nobjs; i++)
			order[i] = &s->objs[i];
		qsort(order, s->nobjs, sizeof(*order), obj_cmp);
		for (i = 0; i < s->nobjs; i++)
			if (json_array_append(out, order[i]->doc) != 0) {
				json_decref(out);
				out = NULL;
				break;
			}
	}
	free(order);
	return out;
}

const char *
diff_side_label(const struct diff_side *s)
{
	return s->label;
}

size_t
diff_side_object_count(const struct diff_side *s)
{
	return s->nobjs;
}
