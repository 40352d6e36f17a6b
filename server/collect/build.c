/*
 * build.c - from a raw pull to the snapshot document and the evidence.
 *
 * The snapshot document (docs/snapshot.md) is what is hashed: it must be the
 * same bytes for two polls of an unchanged workload. So every object is
 * stripped of what the API server or the kubelet changes on its own
 * (resourceVersion, uid, timestamps, status, managedFields), pods and nodes
 * get stable synthetic names (their real names churn with every rollout and
 * reschedule) and everything is sorted. What was dropped and still matters
 * to a person (real names, phases, restarts, events, log lines) goes into
 * the evidence document, which is stored beside it and not hashed.
 *
 * No Secret value ever leaves this file: Secret data, secret-named env
 * values and secret-named flag values become seal_hmac() of the value.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "seal/seal.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* ---- small helpers ----------------------------------------------------- */

const char *
collect_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *
md_str(const json_t *obj, const char *key)
{
	return collect_str(json_object_get(obj, "metadata"), key);
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Sets obj[key] = a copy of src[key] when present. */
static void
copy_member(json_t *obj, const json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v != NULL)
		json_object_set_new(obj, key, json_deep_copy(v));
}

static int
expr_match(const json_t *req, const json_t *labels)
{
	const char *key = collect_str(req, "key"), *op = collect_str(req, "operator");
	const json_t *vals = json_object_get(req, "values");
	const char *have;
	size_t i;
	int in = 0;

	if (key == NULL || op == NULL)
		return 0;
	have = collect_str(labels, key);
	for (i = 0; have != NULL && i < json_array_size(vals); i++)
		if (streq(json_string_value(json_array_get(vals, i)), have))
			in = 1;
	if (strcmp(op, "In") == 0)
		return in;
	if (strcmp(op, "NotIn") == 0)
		return !in;
	if (strcmp(op, "Exists") == 0)
		return have != NULL;
	if (strcmp(op, "DoesNotExist") == 0)
		return have == NULL;
	return 0;
}

int
collect_selector_match(const json_t *selector, const json_t *labels, int empty_matches)
{
	const json_t *ml = json_object_get(selector, "matchLabels");
	const json_t *me = json_object_get(selector, "matchExpressions");
	const char *k;
	json_t *v;
	size_t i;

	if (json_object_size(ml) == 0 && json_array_size(me) == 0)
		return empty_matches;
	json_object_foreach((json_t *)ml, k, v)
		if (!streq(collect_str(labels, k), json_string_value(v)))
			return 0;
	for (i = 0; i < json_array_size(me); i++)
		if (!expr_match(json_array_get(me, i), labels))
			return 0;
	return 1;
}

/* Service-style selector: a flat map of labels, every one must match; empty matches nothing. */
static int
map_selector_match(const json_t *sel, const json_t *labels)
{
	const char *k;
	json_t *v;

	if (json_object_size(sel) == 0)
		return 0;
	json_object_foreach((json_t *)sel, k, v)
		if (!streq(collect_str(labels, k), json_string_value(v)))
			return 0;
	return 1;
}

int
collect_selector_string(const json_t *selector, char *out, size_t outsz, struct err *e)
{
	struct buf b = BUF_INIT(outsz > 0 ? outsz - 1 : 0);
	const json_t *ml = json_object_get(selector, "matchLabels");
	const json_t *me = json_object_get(selector, "matchExpressions");
	const char *k;
	json_t *v;
	size_t i, j;
	int ret = -1;

	json_object_foreach((json_t *)ml, k, v) {
		if (!json_is_string(v))
			continue;
		if (buf_addf(&b, e, "%s%s=%s", buf_len(&b) ? "," : "", k, json_string_value(v)) != 0)
			goto out;
	}
	for (i = 0; i < json_array_size(me); i++) {
		const json_t *r = json_array_get(me, i);
		const char *key = collect_str(r, "key"), *op = collect_str(r, "operator");
		const json_t *vals = json_object_get(r, "values");
		const char *word;

		if (key == NULL || op == NULL) {
			err_set(e, ERR_INVALID, "a matchExpressions entry has no key or operator");
			goto out;
		}
		if (buf_len(&b) && buf_addch(&b, ',', e) != 0)
			goto out;
		if (strcmp(op, "Exists") == 0) {
			if (buf_addstr(&b, key, e) != 0)
				goto out;
			continue;
		}
		if (strcmp(op, "DoesNotExist") == 0) {
			if (buf_addf(&b, e, "!%s", key) != 0)
				goto out;
			continue;
		}
		if (strcmp(op, "In") == 0)
			word = "in";
		else if (strcmp(op, "NotIn") == 0)
			word = "notin";
		else {
			err_set(e, ERR_INVALID, "unknown selector operator '%s'", op);
			goto out;
		}
		if (buf_addf(&b, e, "%s %s (", key, word) != 0)
			goto out;
		for (j = 0; j < json_array_size(vals); j++)
			if (buf_addf(&b, e, "%s%s", j ? "," : "",
			    json_string_value(json_array_get(vals, j)) ?
			    json_string_value(json_array_get(vals, j)) : "") != 0)
				goto out;
		if (buf_addch(&b, ')', e) != 0)
			goto out;
	}
	if (outsz == 0) {
		err_set(e, ERR_TOO_LARGE, "no room for a label selector");
		goto out;
	}
	memcpy(out, buf_str(&b), buf_len(&b) + 1);
	ret = 0;
out:
	if (ret != 0 && e != NULL && e->code == ERR_TOO_LARGE)
		err_set(e, ERR_TOO_LARGE, "the workload's label selector is longer than %zu bytes",
		    outsz);
	buf_release(&b);
	return ret;
}

static void
add_name(json_t *set, const char *name)
{
	if (name != NULL && *name != '\0')
		json_object_set_new(set, name, json_null());
}

static void
container_refs(const json_t *cts, json_t *configmaps, json_t *secrets)
{
	size_t i, j;

	for (i = 0; i < json_array_size(cts); i++) {
		const json_t *c = json_array_get(cts, i);
		const json_t *env = json_object_get(c, "env"), *ef = json_object_get(c, "envFrom");

		for (j = 0; j < json_array_size(env); j++) {
			const json_t *vf = json_object_get(json_array_get(env, j), "valueFrom");

			add_name(configmaps, collect_str(json_object_get(vf, "configMapKeyRef"), "name"));
			add_name(secrets, collect_str(json_object_get(vf, "secretKeyRef"), "name"));
		}
		for (j = 0; j < json_array_size(ef); j++) {
			const json_t *one = json_array_get(ef, j);

			add_name(configmaps, collect_str(json_object_get(one, "configMapRef"), "name"));
			add_name(secrets, collect_str(json_object_get(one, "secretRef"), "name"));
		}
	}
}

void
collect_pod_refs(const json_t *podspec, json_t *configmaps, json_t *secrets)
{
	const json_t *vols = json_object_get(podspec, "volumes");
	const json_t *ips = json_object_get(podspec, "imagePullSecrets");
	size_t i, j;

	container_refs(json_object_get(podspec, "containers"), configmaps, secrets);
	container_refs(json_object_get(podspec, "initContainers"), configmaps, secrets);
	for (i = 0; i < json_array_size(vols); i++) {
		const json_t *v = json_array_get(vols, i);
		const json_t *srcs = json_object_get(json_object_get(v, "projected"), "sources");

		add_name(configmaps, collect_str(json_object_get(v, "configMap"), "name"));
		add_name(secrets, collect_str(json_object_get(v, "secret"), "secretName"));
		for (j = 0; j < json_array_size(srcs); j++) {
			const json_t *s = json_array_get(srcs, j);

			add_name(configmaps, collect_str(json_object_get(s, "configMap"), "name"));
			add_name(secrets, collect_str(json_object_get(s, "secret"), "name"));
		}
	}
	for (i = 0; i < json_array_size(ips); i++)
		add_name(secrets, collect_str(json_array_get(ips, i), "name"));
}

int
collect_log_line_wanted(const char *line, size_t len)
{
	static const char *const words[] = {
		"model", "tokenizer", "revision", "commit", "sha", "hf", NULL
	};
	size_t i, w, n;

	for (i = 0; i < len; i++)
		for (w = 0; words[w] != NULL; w++) {
			n = strlen(words[w]);
			if (i + n <= len && strncasecmp(line + i, words[w], n) == 0)
				return 1;
		}
	return 0;
}

/* Standard or URL-safe base64, padding optional. NULL when it is not base64. */
static unsigned char *
b64_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	size_t i, o = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=')
			break;
		else {
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
	out[o] = '\0';
	*outlen = o;
	return out;
}

static json_t *
hmac_json(const struct seal *seal, const void *p, size_t n)
{
	char h[SEAL_HMAC_TEXT_LEN + 1];

	seal_hmac(seal, p, n, h);
	return json_string(h);
}

/* ---- stripping --------------------------------------------------------- */

static int
annotation_dropped(const char *k)
{
	return strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") == 0 ||
	    strcmp(k, "deployment.kubernetes.io/desired-replicas") == 0 ||
	    strcmp(k, "deployment.kubernetes.io/max-replicas") == 0 ||
	    strncmp(k, "autoscaling.alpha.kubernetes.io/", 32) == 0;
}

/* name, namespace, labels, annotations (minus volatile ones; a value that
 * carries a credential, e.g. an auth URL with a password, as an HMAC);
 * owners without uid. */
static json_t *
strip_meta(const json_t *md, int keep_owners, const struct seal *seal)
{
	json_t *out = json_object(), *ann = json_object(), *own, *v;
	const json_t *src;
	const char *k;
	size_t i;

	copy_member(out, md, "name");
	copy_member(out, md, "namespace");
	if (json_object_size(json_object_get(md, "labels")) > 0)
		copy_member(out, md, "labels");
	src = json_object_get(md, "annotations");
	json_object_foreach((json_t *)src, k, v) {
		if (annotation_dropped(k))
			continue;
		if (json_is_string(v) && engine_value_has_credential(json_string_value(v), json_string_length(v)))
			json_object_set_new(ann, k, hmac_json(seal, json_string_value(v), json_string_length(v)));
		else
			json_object_set_new(ann, k, json_deep_copy(v));
	}
	if (json_object_size(ann) > 0)
		json_object_set_new(out, "annotations", ann);
	else
		json_decref(ann);
	src = json_object_get(md, "ownerReferences");
	if (keep_owners && json_array_size(src) > 0) {
		own = json_array();
		for (i = 0; i < json_array_size(src); i++) {
			json_t *o = json_deep_copy(json_array_get(src, i));

			json_object_del(o, "uid");
			json_array_append_new(own, o);
		}
		json_object_set_new(out, "ownerReferences", own);
	}
	return out;
}

static json_t *
strip_object(const json_t *obj, const struct seal *seal)
{
	json_t *out = json_object();

	copy_member(out, obj, "apiVersion");
	copy_member(out, obj, "kind");
	json_object_set_new(out, "metadata", strip_meta(json_object_get(obj, "metadata"), 1, seal));
	copy_member(out, obj, "spec");
	return out;
}

/* The word that ends at `end` in s, lower-cased, without a trailing ':' or '='. */
static void
prev_word(const char *s, size_t end, char *out, size_t outsz)
{
	size_t b = end, n, i;

	while (b > 0 && !isspace((unsigned char)s[b - 1]))
		b--;
	n = end - b;
	while (n > 0 && (s[b + n - 1] == ':' || s[b + n - 1] == '='))
		n--;
	if (n >= outsz)
		n = 0;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[b + i]);
	out[n] = '\0';
}

/*
 * A shell string (sh -c "..."): the words that carry a credential are
 * replaced, one by one, so the engine can still read the command: a word
 * after a secret-named flag (--api-key X), after "Bearer" or "Basic", a
 * URL with user info, NAME=value with a secret-looking NAME. A reference
 * ($VAR, $(cmd)) is no value and stays. Returns the new string (caller
 * frees), or NULL when nothing changed or out of memory.
 */
static char *
redact_words(const char *s, const struct seal *seal)
{
	struct buf out = BUF_INIT(ENGINE_MAX_ARG_BYTES * 2);
	char prev[64] = "", h[SEAL_HMAC_TEXT_LEN + 1];
	size_t i = 0, n = strlen(s);
	int changed = 0, after_flag = 0;

	while (i < n) {
		size_t ws = i, ww, we, b, e, eq;
		int redact_all = 0;

		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i > ws && buf_add(&out, s + ws, i - ws, NULL) < 0)
			goto fail;
		if (i >= n)
			break;
		/* The word [ww, we); quotes around it stay, [b, e) is what they enclose. */
		ww = i;
		we = i;
		while (we < n && !isspace((unsigned char)s[we]))
			we++;
		b = ww;
		while (b < we && (s[b] == '\'' || s[b] == '"'))
			b++;
		e = we;
		while (e > b && (s[e - 1] == '\'' || s[e - 1] == '"'))
			e--;
		if (buf_add(&out, s + ww, b - ww, NULL) < 0)
			goto fail;
		eq = b;
		while (eq < e && s[eq] != '=')
			eq++;
		if (e > b && s[b] != '$' && (after_flag || strcmp(prev, "bearer") == 0 || strcmp(prev, "basic") == 0))
			redact_all = 1;
		if (!redact_all && eq + 1 < e && s[eq + 1] != '$' && engine_value_has_credential(s + b, e - b)) {
			/* NAME=value: keep the name. */
			seal_hmac(seal, s + eq + 1, e - eq - 1, h);
			if (buf_add(&out, s + b, eq + 1 - b, NULL) < 0 || buf_add(&out, h, strlen(h), NULL) < 0)
				goto fail;
			changed = 1;
		} else if (redact_all || (e > b && s[b] != '$' && eq == e && strncasecmp(s + b, "authorization", 13) != 0 &&
		    engine_value_has_credential(s + b, e - b))) {
			seal_hmac(seal, s + b, e - b, h);
			if (buf_add(&out, h, strlen(h), NULL) < 0)
				goto fail;
			changed = 1;
		} else if (buf_add(&out, s + b, e - b, NULL) < 0) {
			goto fail;
		}
		if (buf_add(&out, s + e, we - e, NULL) < 0)
			goto fail;
		/* A flag without '=' whose name is secret: its value is the next word. */
		after_flag = 0;
		if (s[b] == '-' && eq == e && e - b < 64) {
			char flag[64];

			memcpy(flag, s + b, e - b);
			flag[e - b] = '\0';
			after_flag = engine_name_is_secret(flag + strspn(flag, "-"));
		}
		prev_word(s, e, prev, sizeof(prev));
		i = we;
	}
	if (!changed)
		goto fail;
	{
		char *r = buf_memdup0(buf_str(&out), buf_len(&out));

		buf_release(&out);
		return r;
	}
fail:
	buf_release(&out);
	return NULL;
}

/* Secret-named flag values (--api-key=X, --hf-token X) in a command or args list. */
static void
redact_argv(json_t *list, const struct seal *seal)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		const char *a = json_string_value(json_array_get(list, i)), *eq;
		char name[128];
		size_t n;

		if (a == NULL)
			continue;
		/* A shell string: word by word, so the command stays readable. */
		if (strpbrk(a, " \t\n") != NULL) {
			char *nv = redact_words(a, seal);

			if (nv != NULL) {
				json_array_set_new(list, i, json_string(nv));
				free(nv);
			}
			continue;
		}
		/* A credential in one word (a URL with a password, a header). */
		if (engine_value_has_credential(a, strlen(a))) {
			eq = a[0] == '-' ? strchr(a, '=') : NULL;
			if (eq != NULL && (size_t)(eq - a) < sizeof(name) &&
			    !engine_value_has_credential(a, (size_t)(eq - a))) {
				char h[SEAL_HMAC_TEXT_LEN + 1], *nv = NULL;

				seal_hmac(seal, eq + 1, strlen(eq + 1), h);
				if (asprintf(&nv, "%.*s=%s", (int)(eq - a), a, h) >= 0) {
					json_array_set_new(list, i, json_string(nv));
					free(nv);
					continue;
				}
			}
			json_array_set_new(list, i, hmac_json(seal, a, strlen(a)));
			continue;
		}
		if (a[0] != '-')
			continue;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name))
			continue;
		memcpy(name, a, n);
		name[n] = '\0';
		if (!engine_name_is_secret(name + strspn(name, "-")))
			continue;
		if (eq != NULL) {
			char h[SEAL_HMAC_TEXT_LEN + 1], *nv = NULL;

			seal_hmac(seal, eq + 1, strlen(eq + 1), h);
			if (asprintf(&nv, "%s=%s", name, h) >= 0) {
				json_array_set_new(list, i, json_string(nv));
				free(nv);
			}
		} else if (i + 1 < json_array_size(list)) {
			const char *val = json_string_value(json_array_get(list, i + 1));

			if (val != NULL && val[0] != '-') {
				json_array_set_new(list, i + 1, hmac_json(seal, val, strlen(val)));
				i++;
			}
		}
	}
}

/* Containers: secret-named env values and flag values become HMACs; the service
 * account token volume's random suffix is dropped. */
static void
redact_containers(json_t *cts, const struct seal *seal)
{
	size_t i, j;

	for (i = 0; i < json_array_size(cts); i++) {
		json_t *c = json_array_get(cts, i), *env = json_object_get(c, "env");
		json_t *mounts = json_object_get(c, "volumeMounts");

		for (j = 0; j < json_array_size(env); j++) {
			json_t *ev = json_array_get(env, j);
			const char *name = collect_str(ev, "name"), *val = collect_str(ev, "value");

			if (name != NULL && val != NULL && *val != '\0' && (engine_name_is_secret(name) ||
			    engine_value_has_credential(val, strlen(val))))
				json_object_set_new(ev, "value", hmac_json(seal, val, strlen(val)));
		}
		redact_argv(json_object_get(c, "command"), seal);
		redact_argv(json_object_get(c, "args"), seal);
		for (j = 0; j < json_array_size(mounts); j++) {
			json_t *m = json_array_get(mounts, j);

			if (strncmp(collect_str(m, "name") ? collect_str(m, "name") : "",
			    "kube-api-access-", 16) == 0)
				json_object_set_new(m, "name", json_string("kube-api-access"));
		}
	}
}

static void
strip_podspec(json_t *spec, const struct seal *seal)
{
	json_t *vols = json_object_get(spec, "volumes");
	size_t i;

	json_object_del(spec, "nodeName");
	json_object_del(spec, "hostname");
	redact_containers(json_object_get(spec, "containers"), seal);
	redact_containers(json_object_get(spec, "initContainers"), seal);
	json_object_del(spec, "ephemeralContainers");
	for (i = 0; i < json_array_size(vols); i++) {
		json_t *v = json_array_get(vols, i);

		if (strncmp(collect_str(v, "name") ? collect_str(v, "name") : "",
		    "kube-api-access-", 16) == 0)
			json_object_set_new(v, "name", json_string("kube-api-access"));
	}
}

static json_t *
strip_workload(const json_t *obj, const struct seal *seal)
{
	json_t *out = strip_object(obj, seal);
	json_t *tspec = json_object_get(json_object_get(json_object_get(out, "spec"), "template"),
	    "spec");
	json_t *lws = json_object_get(json_object_get(out, "spec"), "leaderWorkerTemplate");

	if (tspec != NULL)
		strip_podspec(tspec, seal);
	if (lws != NULL) {
		strip_podspec(json_object_get(json_object_get(lws, "leaderTemplate"), "spec"), seal);
		strip_podspec(json_object_get(json_object_get(lws, "workerTemplate"), "spec"), seal);
	}
	return out;
}

static json_t *
strip_secret(const json_t *obj, const struct seal *seal)
{
	json_t *out = json_object(), *data = json_object(), *v;
	const json_t *src;
	const char *k;

	copy_member(out, obj, "apiVersion");
	copy_member(out, obj, "kind");
	json_object_set_new(out, "metadata", strip_meta(json_object_get(obj, "metadata"), 1, seal));
	copy_member(out, obj, "type");
	src = json_object_get(obj, "data");
	json_object_foreach((json_t *)src, k, v) {
		size_t dl = 0;
		unsigned char *dec;

		if (!json_is_string(v))
			continue;
		dec = b64_decode(json_string_value(v), json_string_length(v), &dl);
		if (dec != NULL) {
			json_object_set_new(data, k, hmac_json(seal, dec, dl));
			explicit_bzero(dec, dl);
			free(dec);
		} else {
			json_object_set_new(data, k, hmac_json(seal, json_string_value(v),
			    json_string_length(v)));
		}
	}
	src = json_object_get(obj, "stringData");
	json_object_foreach((json_t *)src, k, v)
		if (json_is_string(v))
			json_object_set_new(data, k, hmac_json(seal, json_string_value(v),
			    json_string_length(v)));
	json_object_set_new(out, "data", data);
	return out;
}

/* A ConfigMap is not meant for secrets, but people put them there: values
 * under a secret-looking key, or holding a credential, become HMACs. */
static json_t *
strip_configmap(const json_t *obj, const struct seal *seal)
{
	json_t *out = json_object(), *bin = json_object(), *data = json_object(), *v;
	const char *k;

	copy_member(out, obj, "apiVersion");
	copy_member(out, obj, "kind");
	json_object_set_new(out, "metadata", strip_meta(json_object_get(obj, "metadata"), 1, seal));
	json_object_foreach(json_object_get(obj, "data"), k, v) {
		const char *s = json_string_value(v);

		if (s != NULL && (engine_name_is_secret(k) || engine_value_has_credential(s, json_string_length(v))))
			json_object_set_new(data, k, hmac_json(seal, s, json_string_length(v)));
		else
			json_object_set(data, k, v);
	}
	if (json_is_object(json_object_get(obj, "data")))
		json_object_set_new(out, "data", data);
	else
		json_decref(data);
	json_object_foreach(json_object_get(obj, "binaryData"), k, v) {
		char hex[65], txt[72];

		if (!json_is_string(v))
			continue;
		doc_sha256_hex(json_string_value(v), json_string_length(v), hex);
		snprintf(txt, sizeof(txt), "sha256:%s", hex);
		json_object_set_new(bin, k, json_string(txt));
	}
	if (json_object_size(bin) > 0)
		json_object_set_new(out, "binaryData", bin);
	else
		json_decref(bin);
	return out;
}

static json_t *
strip_service(const json_t *obj, const struct seal *seal)
{
	json_t *out = strip_object(obj, seal), *spec = json_object_get(out, "spec");

	json_object_del(spec, "clusterIP");
	json_object_del(spec, "clusterIPs");
	json_object_del(spec, "healthCheckNodePort");
	return out;
}

static json_t *
strip_node(const json_t *obj, const char *synthetic)
{
	json_t *out = json_object(), *md = json_object(), *labels, *spec = json_object();
	json_t *st = json_object(), *info;
	const json_t *src = json_object_get(obj, "status");

	copy_member(out, obj, "apiVersion");
	copy_member(out, obj, "kind");
	json_object_set_new(md, "name", json_string(synthetic));
	labels = json_deep_copy(json_object_get(json_object_get(obj, "metadata"), "labels"));
	if (labels != NULL) {
		json_object_del(labels, "kubernetes.io/hostname");
		json_object_del(labels, "nvidia.com/gfd.timestamp");
		json_object_set_new(md, "labels", labels);
	}
	json_object_set_new(out, "metadata", md);
	copy_member(spec, json_object_get(obj, "spec"), "taints");
	copy_member(spec, json_object_get(obj, "spec"), "unschedulable");
	json_object_set_new(out, "spec", spec);
	copy_member(st, src, "capacity");
	copy_member(st, src, "allocatable");
	info = json_deep_copy(json_object_get(src, "nodeInfo"));
	if (info != NULL) {
		json_object_del(info, "machineID");
		json_object_del(info, "systemUUID");
		json_object_del(info, "bootID");
		json_object_set_new(st, "nodeInfo", info);
	}
	json_object_set_new(out, "status", st);
	return out;
}

/* ---- GPU facts from node labels ---------------------------------------- */

static const char *
label(const json_t *node, const char *k)
{
	return collect_str(json_object_get(json_object_get(node, "metadata"), "labels"), k);
}

/* Joins up to three labels with dots ("535.104.05"); NULL when the first is missing. */
static json_t *
dotted(const json_t *node, const char *a, const char *b, const char *c)
{
	char out[128];
	const char *x = label(node, a), *y = label(node, b), *z = c ? label(node, c) : NULL;

	if (x == NULL)
		return json_null();
	snprintf(out, sizeof(out), "%s%s%s%s%s", x, y ? "." : "", y ? y : "", z ? "." : "",
	    z ? z : "");
	return json_string(out);
}

static json_t *
int_or_string(const char *s)
{
	char *end;
	long long v;

	if (s == NULL)
		return json_null();
	v = strtoll(s, &end, 10);
	if (*s != '\0' && *end == '\0')
		return json_integer(v);
	return json_string(s);
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* hardware facts of one node (from its unstripped labels and capacity). */
static json_t *
gpu_facts(const json_t *node)
{
	json_t *f = json_object(), *v;
	const char *count = label(node, "nvidia.com/gpu.count");

	json_object_set_new(f, "gpu_product", str_or_null(label(node, "nvidia.com/gpu.product")));
	json_object_set_new(f, "gpu_memory_mib", int_or_string(label(node, "nvidia.com/gpu.memory")));
	if (count == NULL)
		count = collect_str(json_object_get(json_object_get(node, "status"), "capacity"),
		    "nvidia.com/gpu");
	json_object_set_new(f, "gpu_count", int_or_string(count));
	if (label(node, "nvidia.com/cuda.driver-version.full") != NULL)
		v = str_or_null(label(node, "nvidia.com/cuda.driver-version.full"));
	else if (label(node, "nvidia.com/cuda.driver-version.major") != NULL)
		v = dotted(node, "nvidia.com/cuda.driver-version.major",
		    "nvidia.com/cuda.driver-version.minor", "nvidia.com/cuda.driver-version.revision");
	else
		v = dotted(node, "nvidia.com/cuda.driver.major", "nvidia.com/cuda.driver.minor",
		    "nvidia.com/cuda.driver.rev");
	json_object_set_new(f, "driver", v);
	if (label(node, "nvidia.com/cuda.runtime-version.full") != NULL)
		v = str_or_null(label(node, "nvidia.com/cuda.runtime-version.full"));
	else if (label(node, "nvidia.com/cuda.runtime-version.major") != NULL)
		v = dotted(node, "nvidia.com/cuda.runtime-version.major",
		    "nvidia.com/cuda.runtime-version.minor", NULL);
	else
		v = dotted(node, "nvidia.com/cuda.runtime.major", "nvidia.com/cuda.runtime.minor", NULL);
	json_object_set_new(f, "cuda", v);
	json_object_set_new(f, "mig_strategy", str_or_null(label(node, "nvidia.com/mig.strategy")));
	json_object_set_new(f, "mig_capable", str_or_null(label(node, "nvidia.com/mig.capable")));
	json_object_set_new(f, "sharing_strategy",
	    str_or_null(label(node, "nvidia.com/gpu.sharing-strategy")));
	json_object_set_new(f, "accelerator",
	    str_or_null(label(node, "cloud.google.com/gke-accelerator")));
	return f;
}

/* ---- target ------------------------------------------------------------ */

struct build {
	const json_t *raw;
	const struct seal *seal;
	const json_t *workload;
	const char *ns, *kind, *name;
	const json_t *template_labels;   /* pod template labels of the workload */
	json_t *objects;                 /* config objects */
	json_t *evidence;
	json_t *facts;
	json_t *pods;                    /* selected raw pods (borrowed items) */
	json_t *node_by_name;            /* real name -> raw node (borrowed) */
	json_t *node_as;                 /* real name -> synthetic name */
	json_t *services;                /* selected Service names */
	json_t *hpa, *pdb;               /* selected (borrowed raw) */
	struct err *e;
};

static const json_t *
raw_list(const json_t *raw, const char *key)
{
	return json_object_get(raw, key);
}

static int
find_workload(struct build *b)
{
	const json_t *w = json_object_get(b->raw, "workload");
	const json_t *tmpl;

	if (!json_is_object(w))
		return err_set(b->e, ERR_INVALID, "the raw pull has no 'workload' object");
	b->workload = w;
	b->kind = collect_str(w, "kind");
	b->name = md_str(w, "name");
	b->ns = md_str(w, "namespace");
	if (b->kind == NULL || b->name == NULL)
		return err_set(b->e, ERR_INVALID, "the workload has no kind or name");
	if (b->ns == NULL)
		b->ns = "default";
	tmpl = json_object_get(json_object_get(w, "spec"), "template");
	if (tmpl == NULL) {
		/* LeaderWorkerSet: the leader template carries the labels of the group. */
		const json_t *lwt = json_object_get(json_object_get(w, "spec"), "leaderWorkerTemplate");

		tmpl = json_object_get(lwt, "workerTemplate");
	}
	b->template_labels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
	return 0;
}

static int
pod_selected(const struct build *b, const json_t *pod)
{
	const json_t *sel = json_object_get(json_object_get(b->workload, "spec"), "selector");
	const json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	const char *phase = collect_str(json_object_get(pod, "status"), "phase");

	if (!streq(md_str(pod, "namespace") ? md_str(pod, "namespace") : "default", b->ns))
		return 0;
	if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL)
		return 0;
	if (streq(phase, "Succeeded") || streq(phase, "Failed"))
		return 0;
	if (sel != NULL)
		return collect_selector_match(sel, labels, 0);
	/* LeaderWorkerSet: pods carry leaderworkerset.sigs.k8s.io/name. */
	return streq(collect_str(labels, "leaderworkerset.sigs.k8s.io/name"), b->name);
}

static char *
canon(const json_t *v, struct err *e)
{
	struct buf out = BUF_INIT(DOC_MAX_BYTES);

	if (doc_canonical_json(v, &out, e) != 0)
		return NULL;
	return buf_take(&out, NULL);
}

struct keyed {
	char *key;
	json_t *item;   /* borrowed */
	json_t *extra;  /* borrowed */
};

static int
keyed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* Nodes: the pods' nodes, indexed by real name. They are named node-0.. by add_pods(),
 * in the order their first pod takes in the sorted pods: two identical nodes are then
 * interchangeable and the names do not depend on the order the API listed them in. */
static void
index_nodes(struct build *b)
{
	const json_t *nodes = raw_list(b->raw, "nodes");
	json_t *wanted = json_object(), *pod;
	size_t i;

	json_array_foreach(b->pods, i, pod)
		add_name(wanted, collect_str(json_object_get(pod, "spec"), "nodeName"));
	for (i = 0; i < json_array_size(nodes); i++) {
		json_t *node = json_array_get(nodes, i);
		const char *name = md_str(node, "name");

		if (name != NULL && json_object_get(wanted, name) != NULL &&
		    json_object_get(b->node_by_name, name) == NULL)
			json_object_set(b->node_by_name, name, node);
	}
	json_decref(wanted);
}

static void
name_node(struct build *b, const char *real, json_t *ev)
{
	char as[32];

	if (real == NULL || json_object_get(b->node_by_name, real) == NULL ||
	    json_object_get(b->node_as, real) != NULL)
		return;
	snprintf(as, sizeof(as), "node-%zu", json_object_size(b->node_as));
	json_object_set_new(b->node_as, real, json_string(as));
	json_array_append_new(b->objects, strip_node(json_object_get(b->node_by_name, real), as));
	json_array_append_new(ev, json_pack("{s:s,s:s}", "name", real, "as", as));
}

static const char *
workload_api_version(const struct build *b)
{
	const char *v = collect_str(b->workload, "apiVersion");

	return v != NULL ? v : "apps/v1";
}

static json_t *
strip_pod(const struct build *b, const json_t *pod)
{
	json_t *out = json_object(), *md = strip_meta(json_object_get(pod, "metadata"), 0, b->seal);
	json_t *spec = json_deep_copy(json_object_get(pod, "spec")), *st = json_object();
	json_t *css = json_array();
	const char *node = collect_str(json_object_get(pod, "spec"), "nodeName");
	const json_t *src = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	size_t i;

	json_object_set_new(out, "apiVersion", json_string("v1"));
	json_object_set_new(out, "kind", json_string("Pod"));
	json_object_set_new(md, "ownerReferences", json_pack("[{s:s,s:s,s:s}]", "apiVersion",
	    workload_api_version(b), "kind", b->kind, "name", b->name));
	json_object_set_new(out, "metadata", md);
	if (spec == NULL)
		spec = json_object();
	strip_podspec(spec, b->seal);
	if (node != NULL && json_object_get(b->node_as, node) != NULL)
		json_object_set(spec, "nodeName", json_object_get(b->node_as, node));
	json_object_set_new(out, "spec", spec);
	for (i = 0; i < json_array_size(src); i++) {
		const json_t *cs = json_array_get(src, i);
		json_t *one = json_object();

		copy_member(one, cs, "name");
		copy_member(one, cs, "image");
		copy_member(one, cs, "imageID");
		json_array_append_new(css, one);
	}
	json_object_set_new(st, "containerStatuses", css);
	json_object_set_new(out, "status", st);
	return out;
}

static long long
pod_restarts(const json_t *pod)
{
	const json_t *css = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	long long n = 0;
	size_t i;

	for (i = 0; i < json_array_size(css); i++)
		n += json_integer_value(json_object_get(json_array_get(css, i), "restartCount"));
	return n;
}

/* Pods under synthetic names WORKLOAD-pod-N, ordered by (node content, digests, rest). */
static int
add_pods(struct build *b)
{
	struct keyed *ks = NULL;
	json_t *ev = json_array(), *pod, *nodes_ev;
	size_t i, n = 0;
	int ret = -1;

	ks = calloc(json_array_size(b->pods) + 1, sizeof(*ks));
	if (ks == NULL || ev == NULL) {
		err_set(b->e, ERR_NOMEM, "out of memory sorting pods");
		goto out;
	}
	json_array_foreach(b->pods, i, pod) {
		json_t *s = strip_pod(b, pod);
		const char *node = collect_str(json_object_get(pod, "spec"), "nodeName");
		json_t *nd = node ? json_object_get(b->node_by_name, node) : NULL;
		json_t *key = json_pack("{s:o,s:O?,s:o}", "node",
		    nd ? strip_node(nd, "") : json_null(),
		    "digests", json_object_get(s, "status"), "pod", s);

		ks[n].key = key ? canon(key, b->e) : NULL;
		json_decref(key);
		if (ks[n].key == NULL) {
			if (b->e != NULL && b->e->code == ERR_OK)
				err_set(b->e, ERR_NOMEM, "out of memory sorting pods");
			goto out;
		}
		ks[n++].item = pod;
	}
	qsort(ks, n, sizeof(*ks), keyed_cmp);
	nodes_ev = json_array();
	for (i = 0; i < n; i++)
		name_node(b, collect_str(json_object_get(ks[i].item, "spec"), "nodeName"), nodes_ev);
	json_object_set_new(b->evidence, "nodes", nodes_ev);
	for (i = 0; i < n; i++) {
		const json_t *p = ks[i].item, *st = json_object_get(p, "status");
		const json_t *css = json_object_get(st, "containerStatuses");
		json_t *s = strip_pod(b, p), *imgs = json_array();
		const char *node = collect_str(json_object_get(p, "spec"), "nodeName");
		char as[COLLECT_MAX_NAME_ROOM];
		size_t j;

		snprintf(as, sizeof(as), "%s-pod-%zu", b->name, i);
		json_object_set_new(json_object_get(s, "metadata"), "name", json_string(as));
		json_array_append_new(b->objects, s);
		for (j = 0; j < json_array_size(css); j++) {
			const json_t *cs = json_array_get(css, j);

			json_array_append_new(imgs, json_pack("{s:O?,s:O?,s:O?,s:O?}", "container",
			    json_object_get(cs, "name"), "image", json_object_get(cs, "image"),
			    "imageID", json_object_get(cs, "imageID"),
			    "ready", json_object_get(cs, "ready")));
		}
		json_array_append_new(ev, json_pack("{s:s?,s:s,s:s?,s:O?,s:O?,s:I,s:O?,s:o}",
		    "name", md_str(p, "name"), "as", as, "node", node,
		    "node_as", node ? json_object_get(b->node_as, node) : NULL,
		    "phase", json_object_get(st, "phase"), "restarts", (json_int_t)pod_restarts(p),
		    "start_time", json_object_get(st, "startTime"), "containers", imgs));
	}
	json_object_set_new(b->evidence, "pods", ev);
	ev = NULL;
	ret = 0;
out:
	for (i = 0; ks != NULL && i < n; i++)
		free(ks[i].key);
	free(ks);
	json_decref(ev);
	return ret;
}

/* The current ReplicaSet of a Deployment: owned by it, same revision annotation. */
static void
add_replicaset(struct build *b)
{
	const json_t *rss = raw_list(b->raw, "replicasets"), *rs;
	const char *rev = collect_str(json_object_get(json_object_get(b->workload, "metadata"),
	    "annotations"), "deployment.kubernetes.io/revision");
	size_t i, j;

	if (strcmp(b->kind, "Deployment") != 0)
		return;
	json_array_foreach(rss, i, rs) {
		const json_t *own = json_object_get(json_object_get(rs, "metadata"), "ownerReferences");
		int owned = 0;

		for (j = 0; j < json_array_size(own); j++)
			if (streq(collect_str(json_array_get(own, j), "kind"), "Deployment") &&
			    streq(collect_str(json_array_get(own, j), "name"), b->name))
				owned = 1;
		if (!owned || !streq(md_str(rs, "namespace") ? md_str(rs, "namespace") : "default",
		    b->ns))
			continue;
		if (rev != NULL && streq(collect_str(json_object_get(json_object_get(rs, "metadata"),
		    "annotations"), "deployment.kubernetes.io/revision"), rev)) {
			json_t *s = strip_workload(rs, b->seal);

			json_object_del(json_object_get(s, "spec"), "replicas");
			json_array_append_new(b->objects, s);
			json_object_set_new(b->evidence, "replicaset", json_string(md_str(rs, "name")));
			return;
		}
	}
}

static int
in_ns(const struct build *b, const json_t *obj)
{
	const char *ns = md_str(obj, "namespace");

	return streq(ns ? ns : "default", b->ns);
}

static void
add_refs(struct build *b)
{
	json_t *cms = json_object(), *secs = json_object(), *pod, *o;
	const json_t *tspec = json_object_get(json_object_get(json_object_get(b->workload, "spec"),
	    "template"), "spec");
	const json_t *lwt = json_object_get(json_object_get(b->workload, "spec"),
	    "leaderWorkerTemplate");
	size_t i;

	collect_pod_refs(tspec, cms, secs);
	collect_pod_refs(json_object_get(json_object_get(lwt, "leaderTemplate"), "spec"), cms, secs);
	collect_pod_refs(json_object_get(json_object_get(lwt, "workerTemplate"), "spec"), cms, secs);
	json_array_foreach(b->pods, i, pod)
		collect_pod_refs(json_object_get(pod, "spec"), cms, secs);
	json_array_foreach(raw_list(b->raw, "configmaps"), i, o)
		if (in_ns(b, o) && md_str(o, "name") && json_object_get(cms, md_str(o, "name"))) {
			json_array_append_new(b->objects, strip_configmap(o, b->seal));
			json_object_del(cms, md_str(o, "name"));
		}
	json_array_foreach(raw_list(b->raw, "secrets"), i, o)
		if (in_ns(b, o) && md_str(o, "name") && json_object_get(secs, md_str(o, "name"))) {
			json_array_append_new(b->objects, strip_secret(o, b->seal));
			json_object_del(secs, md_str(o, "name"));
		}
	json_decref(cms);
	json_decref(secs);
}

/* An Ingress backend (networking/v1 service.name, or extensions/v1beta1 serviceName)
 * naming one of the selected Services. */
static int
backend_hits(const struct build *b, const json_t *be)
{
	const char *svc = collect_str(json_object_get(be, "service"), "name");

	if (svc == NULL)
		svc = collect_str(be, "serviceName");
	return svc != NULL && json_object_get(b->services, svc) != NULL;
}

static void
add_policy(struct build *b)
{
	json_t *o;
	size_t i, j, k;

	json_array_foreach(raw_list(b->raw, "hpas"), i, o) {
		const json_t *ref = json_object_get(json_object_get(o, "spec"), "scaleTargetRef");

		if (in_ns(b, o) && streq(collect_str(ref, "kind"), b->kind) &&
		    streq(collect_str(ref, "name"), b->name)) {
			json_array_append_new(b->objects, strip_object(o, b->seal));
			if (b->hpa == NULL) {
				b->hpa = o;
				copy_member(b->evidence, o, "status");
				if (json_object_get(b->evidence, "status") != NULL) {
					json_object_set(b->evidence, "hpa_status",
					    json_object_get(b->evidence, "status"));
					json_object_del(b->evidence, "status");
				}
			}
		}
	}
	json_array_foreach(raw_list(b->raw, "pdbs"), i, o) {
		const json_t *sel = json_object_get(json_object_get(o, "spec"), "selector");

		if (in_ns(b, o) && collect_selector_match(sel, b->template_labels, 0)) {
			json_array_append_new(b->objects, strip_object(o, b->seal));
			if (b->pdb == NULL)
				b->pdb = o;
		}
	}
	json_array_foreach(raw_list(b->raw, "services"), i, o) {
		const json_t *sel = json_object_get(json_object_get(o, "spec"), "selector");

		if (in_ns(b, o) && md_str(o, "name") && map_selector_match(sel, b->template_labels)) {
			json_array_append_new(b->objects, strip_service(o, b->seal));
			json_object_set_new(b->services, md_str(o, "name"), json_null());
		}
	}
	json_array_foreach(raw_list(b->raw, "ingresses"), i, o) {
		const json_t *spec = json_object_get(o, "spec"), *rules = json_object_get(spec, "rules");
		int hit = 0;

		if (!in_ns(b, o))
			continue;
		if (backend_hits(b, json_object_get(spec, "defaultBackend")) ||
		    backend_hits(b, json_object_get(spec, "backend")))
			hit = 1;
		for (j = 0; j < json_array_size(rules); j++) {
			const json_t *paths = json_object_get(json_object_get(json_array_get(rules, j),
			    "http"), "paths");

			for (k = 0; k < json_array_size(paths); k++) {
				if (backend_hits(b, json_object_get(json_array_get(paths, k),
				    "backend")))
					hit = 1;
			}
		}
		if (hit)
			json_array_append_new(b->objects, strip_object(o, b->seal));
	}
	json_array_foreach(raw_list(b->raw, "httproutes"), i, o) {
		const json_t *rules = json_object_get(json_object_get(o, "spec"), "rules");
		int hit = 0;

		for (j = 0; j < json_array_size(rules); j++) {
			const json_t *refs = json_object_get(json_array_get(rules, j), "backendRefs");

			for (k = 0; k < json_array_size(refs); k++) {
				const json_t *r = json_array_get(refs, k);
				const char *kind = collect_str(r, "kind"), *rns = collect_str(r, "namespace");

				if ((kind == NULL || strcmp(kind, "Service") == 0) &&
				    (rns != NULL ? streq(rns, b->ns) : in_ns(b, o)) &&
				    collect_str(r, "name") != NULL &&
				    json_object_get(b->services, collect_str(r, "name")) != NULL)
					hit = 1;
			}
		}
		if (hit)
			json_array_append_new(b->objects, strip_object(o, b->seal));
	}
	json_array_foreach(raw_list(b->raw, "virtualservices"), i, o) {
		static const char *const sections[] = { "http", "tcp", "tls", NULL };
		const json_t *spec = json_object_get(o, "spec");
		size_t s;
		int hit = 0;

		for (s = 0; sections[s] != NULL; s++) {
			const json_t *routes = json_object_get(spec, sections[s]);

			for (j = 0; j < json_array_size(routes); j++) {
				const json_t *dests = json_object_get(json_array_get(routes, j), "route");

				for (k = 0; k < json_array_size(dests); k++) {
					const char *host = collect_str(json_object_get(
					    json_array_get(dests, k), "destination"), "host");
					char svc[256], rest[256];

					if (host == NULL)
						continue;
					rest[0] = '\0';
					if (sscanf(host, "%255[^.].%255s", svc, rest) < 1)
						continue;
					if (json_object_get(b->services, svc) == NULL)
						continue;
					if (rest[0] != '\0' && strncmp(rest, b->ns, strlen(b->ns)) != 0)
						continue;
					if (rest[0] == '\0' && !in_ns(b, o))
						continue;
					hit = 1;
				}
			}
		}
		if (hit)
			json_array_append_new(b->objects, strip_object(o, b->seal));
	}
}

/* ---- facts ------------------------------------------------------------- */

/* The first setting present among names. Borrowed, or NULL. */
static const json_t *
setting(const struct engine_parse *p, const char *const *names)
{
	size_t i;

	for (i = 0; p != NULL && names[i] != NULL; i++) {
		const struct engine_setting *s = engine_parse_get(p, names[i]);

		if (s != NULL)
			return s->value;
	}
	return NULL;
}

static void
set_fact(json_t *cat, const char *name, const json_t *v)
{
	json_object_set_new(cat, name, v != NULL ? json_deep_copy(v) : json_null());
}

/* The serving container: the first whose engine is known, else the first. */
static const json_t *
serving_container(const json_t *workload_obj, struct engine_parse **parsed, struct err *e)
{
	const json_t *spec = json_object_get(workload_obj, "spec");
	const json_t *tspec = json_object_get(json_object_get(spec, "template"), "spec");
	const json_t *cts, *c, *first = NULL;
	size_t i;

	if (tspec == NULL)
		tspec = json_object_get(json_object_get(json_object_get(spec,
		    "leaderWorkerTemplate"), "workerTemplate"), "spec");
	cts = json_object_get(tspec, "containers");
	*parsed = NULL;
	json_array_foreach(cts, i, c) {
		struct engine_parse *p = NULL;

		if (engine_parse(c, &p, e) != 0)
			return NULL;
		if (engine_parse_kind(p) != ENGINE_UNKNOWN) {
			engine_parse_free(*parsed);
			*parsed = p;
			return c;
		}
		if (first == NULL) {
			first = c;
			*parsed = p;
		} else {
			engine_parse_free(p);
		}
	}
	return first;
}

static int
add_facts(struct build *b, const json_t *cfg_workload)
{
	static const char *const f_model[] = { "model", "model_id", "model_path", "model_repo",
		"model_repository", NULL };
	static const char *const f_rev[] = { "revision", NULL };
	static const char *const f_tok[] = { "tokenizer", "tokenizer_path", "tokenizer_dir", NULL };
	static const char *const f_tokrev[] = { "tokenizer_revision", NULL };
	static const char *const f_served[] = { "served_model_name", NULL };
	static const char *const f_dtype[] = { "dtype", NULL };
	static const char *const f_quant[] = { "quantization", "quantize", NULL };
	static const char *const f_kv[] = { "kv_cache_dtype", NULL };
	static const char *const f_len[] = { "max_model_len", "max_total_tokens", "context_length",
		"max_seq_len", NULL };
	static const char *const f_tp[] = { "tensor_parallel_size", "num_shard", NULL };
	static const char *const f_pp[] = { "pipeline_parallel_size", NULL };
	static const char *const f_mem[] = { "gpu_memory_utilization", "cuda_memory_fraction",
		"mem_fraction_static", "kv_cache_free_gpu_mem_fraction", NULL };
	static const char *const f_seqs[] = { "max_num_seqs", "max_running_requests",
		"max_concurrent_requests", "max_batch_size", NULL };
	struct engine_parse *p = NULL;
	const json_t *c, *o, *spec = json_object_get(cfg_workload, "spec");
	const json_t *tspec = json_object_get(json_object_get(spec, "template"), "spec");
	json_t *model = json_object(), *rt = json_object(), *hw = json_object();
	json_t *serving = json_object(), *orch = json_object(), *digests = json_object();
	json_t *hwpods = json_array(), *products = json_object(), *arr, *res;
	const char *k;
	json_t *v;
	size_t i, j;
	struct err pe = ERR_INIT;

	c = serving_container(cfg_workload, &p, &pe);
	if (c == NULL && pe.code != ERR_OK) {
		json_decref(model);
		json_decref(rt);
		json_decref(hw);
		json_decref(serving);
		json_decref(orch);
		json_decref(digests);
		json_decref(hwpods);
		json_decref(products);
		return err_set(b->e, pe.code, "reading the serving container: %s", pe.msg);
	}
	set_fact(model, "model", setting(p, f_model));
	set_fact(model, "revision", setting(p, f_rev));
	set_fact(model, "tokenizer", setting(p, f_tok));
	set_fact(model, "tokenizer_revision", setting(p, f_tokrev));
	set_fact(model, "served_model_name", setting(p, f_served));
	json_object_set_new(rt, "container", json_string(collect_str(c, "name")));
	if (json_object_get(rt, "container") == NULL)
		json_object_set_new(rt, "container", json_null());
	json_object_set_new(rt, "engine", json_string(engine_kind_name(p ? engine_parse_kind(p) :
	    ENGINE_UNKNOWN)));
	json_object_set_new(rt, "version", p && engine_parse_version(p) ?
	    json_string(engine_parse_version(p)) : json_null());
	set_fact(rt, "image", json_object_get(c, "image"));
	set_fact(rt, "dtype", setting(p, f_dtype));
	set_fact(rt, "quantization", setting(p, f_quant));
	set_fact(rt, "kv_cache_dtype", setting(p, f_kv));
	set_fact(rt, "max_model_len", setting(p, f_len));
	set_fact(rt, "tensor_parallel_size", setting(p, f_tp));
	set_fact(rt, "pipeline_parallel_size", setting(p, f_pp));
	set_fact(rt, "gpu_memory_utilization", setting(p, f_mem));
	set_fact(rt, "max_num_seqs", setting(p, f_seqs));
	if (p != NULL) {
		json_t *pj = engine_parse_to_json(p);

		set_fact(rt, "settings", json_object_get(pj, "settings"));
		json_decref(pj);
	} else {
		json_object_set_new(rt, "settings", json_object());
	}
	set_fact(rt, "command", json_object_get(c, "command"));
	set_fact(rt, "args", json_object_get(c, "args"));

	/* Hardware and digests, per pod (config objects carry synthetic names). */
	json_array_foreach(b->objects, i, o) {
		const char *node;
		json_t *raw_node = NULL, *one;
		const json_t *css;
		const char *real;

		if (!streq(collect_str(o, "kind"), "Pod"))
			continue;
		node = collect_str(json_object_get(o, "spec"), "nodeName");
		json_object_foreach(b->node_as, real, v)
			if (streq(json_string_value(v), node))
				raw_node = json_object_get(b->node_by_name, real);
		one = raw_node ? gpu_facts(raw_node) : json_object();
		json_object_set_new(one, "pod", json_string(md_str(o, "name")));
		json_object_set_new(one, "node", node ? json_string(node) : json_null());
		if (json_string_value(json_object_get(one, "gpu_product")) != NULL)
			json_object_set_new(products, json_string_value(json_object_get(one,
			    "gpu_product")), json_null());
		json_array_append_new(hwpods, one);
		css = json_object_get(json_object_get(o, "status"), "containerStatuses");
		for (j = 0; j < json_array_size(css); j++) {
			const json_t *cs = json_array_get(css, j);
			const char *iid = collect_str(cs, "imageID");

			if (c != NULL && streq(collect_str(cs, "name"), collect_str(c, "name")) &&
			    iid != NULL && *iid != '\0')
				json_object_set_new(digests, strstr(iid, "sha256:") ? strstr(iid,
				    "sha256:") : iid, json_null());
		}
	}
	arr = json_array();
	json_object_foreach(digests, k, v)
		json_array_append_new(arr, json_string(k));
	json_object_set_new(rt, "image_digests", arr);
	json_object_set_new(hw, "pods", hwpods);
	arr = json_array();
	json_object_foreach(products, k, v)
		json_array_append_new(arr, json_string(k));
	json_object_set_new(hw, "gpu_products", arr);
	json_object_set_new(hw, "mixed", json_boolean(json_object_size(products) > 1));

	/* Serving. */
	arr = json_array();
	json_array_foreach(b->objects, i, o) {
		const json_t *ports = json_object_get(json_object_get(o, "spec"), "ports");
		json_t *ps, *pt;

		if (!streq(collect_str(o, "kind"), "Service"))
			continue;
		ps = json_array();
		json_array_foreach(ports, j, pt)
			json_array_append_new(ps, json_pack("{s:O?,s:O?,s:O?,s:O?}", "name",
			    json_object_get(pt, "name"), "port", json_object_get(pt, "port"),
			    "targetPort", json_object_get(pt, "targetPort"), "protocol",
			    json_object_get(pt, "protocol")));
		json_array_append_new(arr, json_pack("{s:s?,s:O?,s:o}", "name", md_str(o, "name"),
		    "type", json_object_get(json_object_get(o, "spec"), "type"), "ports", ps));
	}
	json_object_set_new(serving, "services", arr);
	arr = json_array();
	json_array_foreach(b->objects, i, o) {
		static const char *const keys[] = { "proxy-read-timeout", "proxy-send-timeout",
			"proxy-connect-timeout", "proxy-body-size", "proxy-buffering",
			"proxy-next-upstream-tries", NULL };
		const json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
		const json_t *rules = json_object_get(json_object_get(o, "spec"), "rules");
		json_t *one, *hosts;
		size_t a;

		if (!streq(collect_str(o, "kind"), "Ingress"))
			continue;
		hosts = json_array();
		one = json_pack("{s:s?,s:O?}", "name", md_str(o, "name"), "class",
		    json_object_get(json_object_get(o, "spec"), "ingressClassName"));
		for (j = 0; j < json_array_size(rules); j++)
			if (collect_str(json_array_get(rules, j), "host") != NULL)
				json_array_append_new(hosts, json_string(collect_str(json_array_get(rules,
				    j), "host")));
		json_object_set_new(one, "hosts", hosts);
		for (a = 0; keys[a] != NULL; a++) {
			char full[96], fact[64];
			size_t x;

			snprintf(full, sizeof(full), "nginx.ingress.kubernetes.io/%s", keys[a]);
			snprintf(fact, sizeof(fact), "%s", keys[a]);
			for (x = 0; fact[x] != '\0'; x++)
				if (fact[x] == '-')
					fact[x] = '_';
			set_fact(one, fact, json_object_get(ann, full));
		}
		json_array_append_new(arr, one);
	}
	json_object_set_new(serving, "ingresses", arr);
	arr = json_array();
	json_array_foreach(b->objects, i, o) {
		const char *kind = collect_str(o, "kind");
		const json_t *spec2 = json_object_get(o, "spec");
		json_t *t = json_array();

		if (streq(kind, "HTTPRoute")) {
			for (j = 0; j < json_array_size(json_object_get(spec2, "rules")); j++) {
				const json_t *r = json_array_get(json_object_get(spec2, "rules"), j);

				if (json_object_get(r, "timeouts") != NULL)
					json_array_append_new(t, json_deep_copy(json_object_get(r,
					    "timeouts")));
			}
		} else if (streq(kind, "VirtualService")) {
			for (j = 0; j < json_array_size(json_object_get(spec2, "http")); j++) {
				const json_t *r = json_array_get(json_object_get(spec2, "http"), j);

				json_array_append_new(t, json_pack("{s:O?,s:O?}", "timeout",
				    json_object_get(r, "timeout"), "retries",
				    json_object_get(r, "retries")));
			}
		} else {
			json_decref(t);
			continue;
		}
		json_array_append_new(arr, json_pack("{s:s,s:s?,s:o}", "kind", kind, "name",
		    md_str(o, "name"), "timeouts", t));
	}
	json_object_set_new(serving, "routes", arr);

	/* Orchestration. */
	json_object_set_new(orch, "kind", json_string(b->kind));
	set_fact(orch, "replicas", json_object_get(spec, "replicas"));
	set_fact(orch, "strategy", json_object_get(spec, "strategy") ? json_object_get(spec,
	    "strategy") : json_object_get(spec, "updateStrategy"));
	res = json_object();
	for (i = 0; i < json_array_size(json_object_get(tspec, "containers")); i++) {
		const json_t *ct = json_array_get(json_object_get(tspec, "containers"), i);

		if (collect_str(ct, "name") != NULL)
			json_object_set_new(res, collect_str(ct, "name"),
			    json_object_get(ct, "resources") ? json_deep_copy(json_object_get(ct,
			    "resources")) : json_object());
	}
	json_object_set_new(orch, "resources", res);
	set_fact(orch, "node_selector", json_object_get(tspec, "nodeSelector"));
	set_fact(orch, "affinity", json_object_get(tspec, "affinity"));
	set_fact(orch, "tolerations", json_object_get(tspec, "tolerations"));
	set_fact(orch, "priority_class", json_object_get(tspec, "priorityClassName"));
	if (b->hpa != NULL) {
		const json_t *hs = json_object_get(b->hpa, "spec");

		json_object_set_new(orch, "hpa", json_pack("{s:s?,s:O?,s:O?,s:O?,s:O?}", "name",
		    md_str(b->hpa, "name"), "min_replicas", json_object_get(hs, "minReplicas"),
		    "max_replicas", json_object_get(hs, "maxReplicas"), "metrics",
		    json_object_get(hs, "metrics"), "behavior", json_object_get(hs, "behavior")));
	} else {
		json_object_set_new(orch, "hpa", json_null());
	}
	if (b->pdb != NULL) {
		const json_t *ps = json_object_get(b->pdb, "spec");

		json_object_set_new(orch, "pdb", json_pack("{s:s?,s:O?,s:O?}", "name",
		    md_str(b->pdb, "name"), "min_available", json_object_get(ps, "minAvailable"),
		    "max_unavailable", json_object_get(ps, "maxUnavailable")));
	} else {
		json_object_set_new(orch, "pdb", json_null());
	}
	engine_parse_free(p);
	json_decref(digests);
	json_decref(products);
	json_object_set_new(b->facts, "model", model);
	json_object_set_new(b->facts, "runtime", rt);
	json_object_set_new(b->facts, "hardware", hw);
	json_object_set_new(b->facts, "serving", serving);
	json_object_set_new(b->facts, "orchestration", orch);
	return 0;
}

/* ---- evidence ---------------------------------------------------------- */

static long long
parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return 0;
	return (long long)timegm(&tm);
}

static void
add_events(struct build *b, long long pulled_at)
{
	json_t *names = json_object(), *out = json_array(), *ev, *pod;
	size_t i;

	add_name(names, b->name);
	add_name(names, json_string_value(json_object_get(b->evidence, "replicaset")));
	json_array_foreach(b->pods, i, pod)
		add_name(names, md_str(pod, "name"));
	if (b->hpa != NULL)
		add_name(names, md_str(b->hpa, "name"));
	json_array_foreach(raw_list(b->raw, "events"), i, ev) {
		const json_t *io = json_object_get(ev, "involvedObject");
		const char *name = collect_str(io, "name"), *ts = collect_str(ev, "lastTimestamp");

		if (json_array_size(out) >= COLLECT_MAX_EVENTS)
			break;
		if (io == NULL)
			io = json_object_get(ev, "regarding");   /* events.k8s.io/v1 */
		name = collect_str(io, "name");
		if (name == NULL || json_object_get(names, name) == NULL)
			continue;
		if (ts == NULL)
			ts = collect_str(ev, "eventTime");
		if (ts == NULL)
			ts = collect_str(json_object_get(ev, "metadata"), "creationTimestamp");
		if (pulled_at > 0 && parse_time(ts) < pulled_at - COLLECT_EVENT_WINDOW_S)
			continue;
		json_array_append_new(out, json_pack("{s:O?,s:O?,s:O?,s:s?,s:O?,s:s?}", "type",
		    json_object_get(ev, "type"), "reason", json_object_get(ev, "reason"), "message",
		    json_object_get(ev, "message") ? json_object_get(ev, "message") :
		    json_object_get(ev, "note"), "object", name, "count", json_object_get(ev, "count"),
		    "last_seen", ts));
	}
	json_decref(names);
	json_object_set_new(b->evidence, "events", out);
}

/* A log line that holds a Secret value we read, or something shaped like a
 * Hugging Face token, is never kept. */
static int
line_leaks(const struct build *b, const char *line, size_t len)
{
	const json_t *s, *v;
	const char *k, *hit;
	size_t i;
	char *copy = buf_memdup0(line, len);
	int leak = 0;

	if (copy == NULL)
		return 1;
	json_array_foreach(raw_list(b->raw, "secrets"), i, s)
		json_object_foreach(json_object_get((json_t *)s, "data"), k, v) {
			size_t dl = 0;
			unsigned char *dec = b64_decode(json_string_value(v) ? json_string_value(v) :
			    "", json_string_length(v), &dl);

			if (dec != NULL && dl >= 4 && strstr(copy, (const char *)dec) != NULL)
				leak = 1;
			if (dec != NULL) {
				explicit_bzero(dec, dl);
				free(dec);
			}
		}
	if (engine_value_has_credential(copy, len))
		leak = 1;
	for (hit = strstr(copy, "hf_"); hit != NULL && !leak; hit = strstr(hit + 3, "hf_")) {
		size_t n = 0;

		while (isalnum((unsigned char)hit[3 + n]))
			n++;
		if (n >= 20)
			leak = 1;
	}
	free(copy);
	return leak;
}

static void
add_logs(struct build *b)
{
	json_t *out = json_array(), *lg;
	size_t i;

	json_array_foreach(raw_list(b->raw, "logs"), i, lg) {
		const char *text = collect_str(lg, "text"), *p, *nl;
		json_t *lines = json_array();
		size_t kept = 0, dropped = 0;

		if (text == NULL) {
			json_decref(lines);
			continue;
		}
		for (p = text; *p != '\0'; p = nl ? nl + 1 : p + strlen(p)) {
			size_t len;

			nl = strchr(p, '\n');
			len = nl ? (size_t)(nl - p) : strlen(p);
			if (len == 0 || !collect_log_line_wanted(p, len))
				continue;
			if (line_leaks(b, p, len)) {
				dropped++;
				continue;
			}
			if (kept >= COLLECT_LOG_MAX_LINES) {
				dropped++;
				continue;
			}
			if (len > COLLECT_LOG_LINE_MAX)
				len = COLLECT_LOG_LINE_MAX;
			json_array_append_new(lines, json_stringn_nocheck(p, len));
			if (json_array_get(lines, json_array_size(lines) - 1) == NULL ||
			    !json_is_string(json_array_get(lines, json_array_size(lines) - 1)))
				continue;
			kept++;
		}
		json_array_append_new(out, json_pack("{s:O?,s:O?,s:I,s:o,s:I}", "pod",
		    json_object_get(lg, "pod"), "container", json_object_get(lg, "container"),
		    "bytes", (json_int_t)strlen(text), "lines", lines, "dropped", (json_int_t)dropped));
	}
	json_object_set_new(b->evidence, "logs", out);
}

static int
obj_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* Sorts config objects by kind/namespace/name (pods and nodes are named stably already). */
static int
sort_objects(struct build *b)
{
	size_t n = json_array_size(b->objects), i;
	struct keyed *ks = calloc(n + 1, sizeof(*ks));
	json_t *sorted = json_array();
	int ret = -1;

	if (ks == NULL || sorted == NULL) {
		err_set(b->e, ERR_NOMEM, "out of memory sorting objects");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(b->objects, i);

		if (asprintf(&ks[i].key, "%s\x01%s\x01%s", collect_str(o, "kind") ?
		    collect_str(o, "kind") : "", md_str(o, "namespace") ? md_str(o, "namespace") : "",
		    md_str(o, "name") ? md_str(o, "name") : "") < 0) {
			ks[i].key = NULL;
			err_set(b->e, ERR_NOMEM, "out of memory sorting objects");
			goto out;
		}
		ks[i].item = o;
	}
	qsort(ks, n, sizeof(*ks), obj_cmp);
	for (i = 0; i < n; i++)
		json_array_append(sorted, ks[i].item);
	json_decref(b->objects);
	b->objects = sorted;
	sorted = NULL;
	ret = 0;
out:
	for (i = 0; ks != NULL && i < n; i++)
		free(ks[i].key);
	free(ks);
	json_decref(sorted);
	return ret;
}

int
collect_build(const json_t *raw, const struct seal *seal, json_t **config, json_t **evidence,
    struct err *e)
{
	struct build b;
	json_t *wl = NULL, *target = NULL, *pod;
	const json_t *t = json_object_get(raw, "target");
	long long pulled_at = json_integer_value(json_object_get(raw, "pulled_at"));
	size_t i;
	int ret = -1;

	*config = *evidence = NULL;
	memset(&b, 0, sizeof(b));
	b.raw = raw;
	b.seal = seal;
	b.e = e;
	if (!json_is_object(raw) || seal == NULL)
		return err_set(e, ERR_INVALID, "collect_build needs a raw pull object and a seal");
	if (find_workload(&b) != 0)
		return -1;
	b.objects = json_array();
	b.evidence = json_object();
	b.facts = json_object();
	b.pods = json_array();
	b.node_by_name = json_object();
	b.node_as = json_object();
	b.services = json_object();
	if (b.objects == NULL || b.evidence == NULL || b.facts == NULL || b.pods == NULL ||
	    b.node_by_name == NULL || b.node_as == NULL || b.services == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building a snapshot");
		goto out;
	}
	target = json_pack("{s:s?,s:s,s:s,s:s}", "cluster", collect_str(t, "cluster"),
	    "namespace", b.ns, "kind", b.kind, "name", b.name);
	json_array_foreach(raw_list(raw, "pods"), i, pod)
		if (pod_selected(&b, pod)) {
			if (json_array_size(b.pods) >= COLLECT_MAX_PODS) {
				err_set(e, ERR_TOO_LARGE, "workload '%s' has more than %d pods", b.name,
				    COLLECT_MAX_PODS);
				goto out;
			}
			json_array_append(b.pods, pod);
		}
	json_object_set_new(b.evidence, "schema", json_string("skewd.evidence/v1"));
	json_object_set(b.evidence, "target", target);
	json_object_set_new(b.evidence, "pulled_at", json_integer(pulled_at));
	copy_member(b.evidence, raw, "server_version");
	set_fact(b.evidence, "revision", json_object_get(json_object_get(json_object_get(
	    b.workload, "metadata"), "annotations"), "deployment.kubernetes.io/revision"));
	if (json_object_get(b.workload, "status") != NULL)
		json_object_set_new(b.evidence, "workload_status",
		    json_deep_copy(json_object_get(b.workload, "status")));
	wl = strip_workload(b.workload, seal);
	json_array_append(b.objects, wl);
	add_replicaset(&b);
	index_nodes(&b);
	if (add_pods(&b) != 0)
		goto out;
	add_refs(&b);
	add_policy(&b);
	if (add_facts(&b, wl) != 0)
		goto out;
	add_events(&b, pulled_at);
	add_logs(&b);
	json_object_set_new(b.evidence, "scrapes", json_deep_copy(json_object_get(raw,
	    "scrapes") ? json_object_get(raw, "scrapes") : json_array()));
	if (json_object_get(b.evidence, "scrapes") == NULL)
		json_object_set_new(b.evidence, "scrapes", json_array());
	json_object_set_new(b.evidence, "models", json_deep_copy(json_object_get(raw,
	    "models") ? json_object_get(raw, "models") : json_array()));
	json_object_set_new(b.evidence, "unreadable", json_deep_copy(json_object_get(raw,
	    "unreadable") ? json_object_get(raw, "unreadable") : json_array()));
	if (sort_objects(&b) != 0)
		goto out;
	*config = json_pack("{s:s,s:i,s:O,s:O,s:O}", "schema", COLLECT_SNAPSHOT_SCHEMA,
	    "version", COLLECT_SNAPSHOT_VERSION, "target", target, "objects", b.objects,
	    "facts", b.facts);
	if (*config == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building a snapshot");
		goto out;
	}
	*evidence = b.evidence;
	b.evidence = NULL;
	ret = 0;
out:
	json_decref(wl);
	json_decref(target);
	json_decref(b.objects);
	json_decref(b.evidence);
	json_decref(b.facts);
	json_decref(b.pods);
	json_decref(b.node_by_name);
	json_decref(b.node_as);
	json_decref(b.services);
	return ret;
}

int
collect_hash(const json_t *config, char out[65], struct err *e)
{
	struct buf c = BUF_INIT(DOC_MAX_BYTES);

	if (doc_canonical_json(config, &c, e) != 0)
		return -1;
	doc_sha256_hex(buf_str(&c), buf_len(&c), out);
	buf_release(&c);
	return 0;
}

/* ---- objects to a raw pull (demo, imports, tests) ---------------------- */

static const char *
bin_of(const char *kind)
{
	static const char *const map[][2] = {
		{ "Pod", "pods" }, { "Node", "nodes" }, { "ConfigMap", "configmaps" },
		{ "Secret", "secrets" }, { "HorizontalPodAutoscaler", "hpas" },
		{ "Service", "services" }, { "Ingress", "ingresses" }, { "HTTPRoute", "httproutes" },
		{ "VirtualService", "virtualservices" }, { "PodDisruptionBudget", "pdbs" },
		{ "Event", "events" }, { "ReplicaSet", "replicasets" }, { NULL, NULL }
	};
	size_t i;

	for (i = 0; kind != NULL && map[i][0] != NULL; i++)
		if (strcmp(map[i][0], kind) == 0)
			return map[i][1];
	return NULL;
}

int
collect_raw_from_objects(const json_t *objects, const char *cluster, const char *ns,
    const char *kind, const char *name, json_t **raw, struct err *e)
{
	static const char *const bins[] = { "pods", "nodes", "configmaps", "secrets", "hpas",
		"services", "ingresses", "httproutes", "virtualservices", "pdbs", "events",
		"replicasets", "logs", "scrapes", "models", "unreadable", NULL };
	json_t *r = json_object(), *o;
	size_t i;

	*raw = NULL;
	if (r == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	json_object_set_new(r, "target", json_pack("{s:s?,s:s,s:s,s:s}", "cluster", cluster,
	    "namespace", ns, "kind", kind, "name", name));
	for (i = 0; bins[i] != NULL; i++)
		json_object_set_new(r, bins[i], json_array());
	json_array_foreach(objects, i, o) {
		const char *k = collect_str(o, "kind"), *bin = bin_of(k);
		const char *ons = md_str(o, "namespace") ? md_str(o, "namespace") : "default";

		if (k != NULL && strcasecmp(k, kind) == 0 && streq(md_str(o, "name"), name) &&
		    streq(ons, ns)) {
			json_object_set(r, "workload", o);
			continue;
		}
		if (bin != NULL)
			json_array_append(json_object_get(r, bin), o);
	}
	if (json_object_get(r, "workload") == NULL) {
		json_decref(r);
		return err_set(e, ERR_NOT_FOUND, "no %s '%s' in namespace '%s'", kind, name, ns);
	}
	*raw = r;
	return 0;
}
