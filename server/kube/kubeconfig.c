/*
 * kubeconfig.c - credentials from a kubeconfig file (kubectl's format).
 *
 * Only inline data is taken: a kubeconfig upload comes from another
 * machine, so a file path in it means nothing here (and reading it would
 * let an upload read skewd's own files). Users that run a program (exec,
 * auth-provider) are refused: skewd never runs programs.
 */
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "doc/doc.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define KUBECONFIG_ADVICE "create a ServiceAccount token with deploy/kubernetes/remote-access and register it " \
	"with 'token'"

static int
b64_value(unsigned char c)
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

/* Decodes standard base64 (whitespace skipped, padding optional). Caller frees *out (NUL-terminated). */
static int
b64_decode(const char *s, const char *what, char **out, struct err *e)
{
	size_t len = strlen(s), o = 0;
	unsigned int acc = 0;
	int bits = 0, pad = 0, v;
	char *p;

	*out = NULL;
	if (len / 4 * 3 > KUBE_MAX_PEM_BYTES)
		return err_set(e, ERR_TOO_LARGE, "%s is larger than %d bytes", what, KUBE_MAX_PEM_BYTES);
	p = malloc(len / 4 * 3 + 4);
	if (p == NULL)
		return err_set(e, ERR_NOMEM, "out of memory decoding %s", what);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad > 0) {
			free(p);
			return err_set(e, ERR_INVALID, "%s is not valid base64", what);
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2) {
		free(p);
		return err_set(e, ERR_INVALID, "%s is not valid base64", what);
	}
	p[o] = '\0';
	if (memchr(p, '\0', o) != NULL) {
		free(p);
		return err_set(e, ERR_INVALID, "%s is not PEM text", what);
	}
	*out = p;
	return 0;
}

/* The entry named `name` of a kubeconfig list (clusters, users, contexts): its inner object. */
static json_t *
named(json_t *list, const char *name, const char *inner)
{
	size_t i;
	json_t *it;

	json_array_foreach(list, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return json_object_get(it, inner);
	}
	return NULL;
}

/* A string field, or NULL; ERR_INVALID when present with another type. */
static int
str_field(json_t *obj, const char *key, const char *where, const char **out, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "kubeconfig: %s: '%s' must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* A name as shown in an error: printable and short. */
static void
shown(const char *s, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 1 < outsz && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
	}
	out[o] = '\0';
}

/* Refuses users that would run a program, use a file, or send a password. */
static int
user_refused(json_t *user, const char *uname, struct err *e)
{
	static const struct {
		const char *key;
		const char *what;
	} files[] = {
		{ "tokenFile", "a token file" },
		{ "client-certificate", "a client certificate file" },
		{ "client-key", "a client key file" },
	};
	json_t *x;
	char name[80], prog[80];
	size_t i;

	shown(uname, name, sizeof(name));
	x = json_object_get(user, "exec");
	if (x != NULL && !json_is_null(x)) {
		const char *cmd = json_string_value(json_object_get(x, "command"));
		const char *base;

		if (cmd == NULL)
			cmd = "?";
		base = strrchr(cmd, '/');
		shown(base != NULL ? base + 1 : cmd, prog, sizeof(prog));
		return err_set(e, ERR_UNSUPPORTED, "this kubeconfig user '%s' runs a program (exec: %s) to get a "
		    "token; skewd never runs programs: " KUBECONFIG_ADVICE, name, prog);
	}
	x = json_object_get(user, "auth-provider");
	if (x != NULL && !json_is_null(x)) {
		const char *p = json_string_value(json_object_get(x, "name"));

		shown(p != NULL ? p : "?", prog, sizeof(prog));
		return err_set(e, ERR_UNSUPPORTED, "this kubeconfig user '%s' gets its token from an auth provider "
		    "(auth-provider: %s), which runs a program or a login flow; skewd never runs programs: "
		    KUBECONFIG_ADVICE, name, prog);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		x = json_object_get(user, files[i].key);
		if (x != NULL && !json_is_null(x))
			return err_set(e, ERR_UNSUPPORTED, "the kubeconfig user '%s' refers to %s ('%s'); an upload "
			    "must carry its data inline (%s-data, or token)", name, files[i].what, files[i].key,
			    strcmp(files[i].key, "tokenFile") == 0 ? "token" : files[i].key);
	}
	if (json_object_get(user, "username") != NULL || json_object_get(user, "password") != NULL)
		return err_set(e, ERR_UNSUPPORTED, "the kubeconfig user '%s' uses a user name and password (basic "
		    "auth), which Kubernetes no longer supports; " KUBECONFIG_ADVICE, name);
	return 0;
}

int
kube_creds_from_kubeconfig(const char *yaml, size_t len, const char *context, struct kube_creds *out,
    char **name_hint, struct err *e)
{
	struct doc_set *ds = NULL;
	struct kube_creds c;
	json_t *root, *ctx, *cluster, *user, *v;
	const char *ctxname = NULL, *cname = NULL, *uname = NULL, *s;
	char n1[80];
	int ret = -1;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	if (name_hint != NULL)
		*name_hint = NULL;
	if (len > KUBE_MAX_KUBECONFIG_BYTES)
		return err_set(e, ERR_TOO_LARGE, "the kubeconfig is larger than %d bytes", KUBE_MAX_KUBECONFIG_BYTES);
	if (doc_load_mem("kubeconfig", yaml, len, DOC_AUTO, &ds, e) < 0)
		return -1;
	if (doc_set_count(ds) != 1) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: expected one YAML document, found %zu", doc_set_count(ds));
		goto out;
	}
	root = doc_set_get(ds, 0);
	if (!json_is_object(root)) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the document is not a mapping");
		goto out;
	}
	s = json_string_value(json_object_get(root, "kind"));
	if (s != NULL && strcmp(s, "Config") != 0) {
		shown(s, n1, sizeof(n1));
		ret = err_set(e, ERR_INVALID, "kubeconfig: kind is '%s', not Config", n1);
		goto out;
	}
	ctxname = context;
	if (ctxname == NULL || *ctxname == '\0') {
		if (str_field(root, "current-context", "the top level", &ctxname, e) < 0)
			goto out;
		if (ctxname == NULL || *ctxname == '\0') {
			ret = err_set(e, ERR_INVALID, "kubeconfig: no context given and no current-context set");
			goto out;
		}
	}
	shown(ctxname, n1, sizeof(n1));
	ctx = named(json_object_get(root, "contexts"), ctxname, "context");
	if (!json_is_object(ctx)) {
		ret = err_set(e, ERR_NOT_FOUND, "kubeconfig: no context '%s'", n1);
		goto out;
	}
	if (str_field(ctx, "cluster", "the context", &cname, e) < 0 ||
	    str_field(ctx, "user", "the context", &uname, e) < 0)
		goto out;
	if (cname == NULL || *cname == '\0') {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the context '%s' names no cluster", n1);
		goto out;
	}
	cluster = named(json_object_get(root, "clusters"), cname, "cluster");
	if (!json_is_object(cluster)) {
		shown(cname, n1, sizeof(n1));
		ret = err_set(e, ERR_NOT_FOUND, "kubeconfig: no cluster '%s'", n1);
		goto out;
	}
	shown(cname, n1, sizeof(n1));

	/* The cluster. */
	if (str_field(cluster, "server", "the cluster", &s, e) < 0)
		goto out;
	if (s == NULL) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the cluster '%s' has no server", n1);
		goto out;
	}
	if (kube_server_check(s, 1, e) < 0) {
		err_prefix(e, "kubeconfig: cluster '%s'", n1);
		goto out;
	}
	c.server = strdup(s);
	if (c.server == NULL)
		goto nomem;
	v = json_object_get(cluster, "certificate-authority");
	if (v != NULL && !json_is_null(v)) {
		ret = err_set(e, ERR_UNSUPPORTED, "kubeconfig: the cluster '%s' refers to a CA file "
		    "(certificate-authority); an upload must carry it inline as certificate-authority-data", n1);
		goto out;
	}
	v = json_object_get(cluster, "insecure-skip-tls-verify");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the cluster '%s': insecure-skip-tls-verify must be true "
		    "or false", n1);
		goto out;
	}
	c.insecure_skip_tls_verify = json_is_true(v);
	if (str_field(cluster, "certificate-authority-data", "the cluster", &s, e) < 0)
		goto out;
	if (s != NULL && !c.insecure_skip_tls_verify) {
		if (b64_decode(s, "certificate-authority-data", &c.ca_pem, e) < 0)
			goto prefix;
		if (strstr(c.ca_pem, "-----BEGIN CERTIFICATE-----") == NULL) {
			ret = err_set(e, ERR_INVALID, "kubeconfig: the cluster '%s': certificate-authority-data holds "
			    "no PEM certificate", n1);
			goto out;
		}
	}

	/* The user. */
	if (uname == NULL || *uname == '\0') {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the context names no user; skewd needs credentials");
		goto out;
	}
	user = named(json_object_get(root, "users"), uname, "user");
	if (!json_is_object(user)) {
		shown(uname, n1, sizeof(n1));
		ret = err_set(e, ERR_NOT_FOUND, "kubeconfig: no user '%s'", n1);
		goto out;
	}
	if (user_refused(user, uname, e) < 0)
		goto out;
	shown(uname, n1, sizeof(n1));
	if (str_field(user, "token", "the user", &s, e) < 0)
		goto out;
	if (s != NULL && *s != '\0') {
		c.token = strdup(s);
		if (c.token == NULL)
			goto nomem;
	}
	if (str_field(user, "client-certificate-data", "the user", &s, e) < 0)
		goto out;
	if (s != NULL && b64_decode(s, "client-certificate-data", &c.client_cert_pem, e) < 0)
		goto prefix;
	if (str_field(user, "client-key-data", "the user", &s, e) < 0)
		goto out;
	if (s != NULL && b64_decode(s, "client-key-data", &c.client_key_pem, e) < 0)
		goto prefix;
	if ((c.client_cert_pem == NULL) != (c.client_key_pem == NULL)) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the user '%s' has a client certificate without its key, "
		    "or a key without its certificate", n1);
		goto out;
	}
	if (c.token == NULL && c.client_cert_pem == NULL) {
		ret = err_set(e, ERR_INVALID, "kubeconfig: the user '%s' has no token and no client certificate; "
		    KUBECONFIG_ADVICE, n1);
		goto out;
	}
	if (name_hint != NULL) {
		*name_hint = strdup(cname);
		if (*name_hint == NULL)
			goto nomem;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	ret = 0;
	goto out;
prefix:
	ret = err_prefix(e, "kubeconfig");
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory reading a kubeconfig");
out:
	kube_creds_release(&c);
	doc_set_free(ds);
	return ret;
}
