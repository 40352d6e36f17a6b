/*
 * clusterkit.h - what test_clusters.c and test_collect_api.c share: a kubesim
 * (server/kubesim/) started in the test process over the fixture cluster, a
 * skewd server (testkit.h) to register it with, and a log of every response
 * body the tests received (for the canary checks). Functions are static
 * inline so each test file takes only what it uses.
 */
#ifndef SKEWD_CLUSTERKIT_H
#define SKEWD_CLUSTERKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "kubesim/kubesim.h"
#include "testkit.h"
#include "util/err.h"

/* The canary bearer token the tests register, and the Secret value the fixture serves. */
#define CK_CANARY_TOKEN "skewd-canary-token-5e1d8b3f09"
#define CK_CANARY_SECRET "skewd-canary-secret-7f3a9c"
#define CK_CERT_USER "certuser"

struct ck_sim {
	struct kubesim *k;
	char dir[256];
	char *ca_pem;           /* the generated CA, PEM */
	char *cert_pem;         /* CK_CERT_USER's client certificate and key */
	char *key_pem;
};

/* Every response body a test received, for the canary checks. */
static char *ck_seen;
static size_t ck_seen_len;

static inline void
ck_remember(const char *s, size_t n)
{
	char *p = realloc(ck_seen, ck_seen_len + n + 2);

	if (p == NULL)
		return;
	ck_seen = p;
	memcpy(ck_seen + ck_seen_len, s, n);
	ck_seen_len += n;
	ck_seen[ck_seen_len++] = '\n';
	ck_seen[ck_seen_len] = '\0';
}

/* Starts kubesim on a fresh TLS folder with a collector token user
 * (CK_CANARY_TOKEN) and a client-certificate user (CK_CERT_USER), with
 * `threads` CivetWeb workers. CivetWeb keeps a worker on a keep-alive
 * connection until it idles for 5 s, and each pull keeps up to
 * KUBE_MAX_PARALLEL connections open: with fewer workers than the pulls in
 * flight need, a pull waits those 5 s for one. */
static inline int
ck_sim_start_threads(struct ck_sim *s, int threads)
{
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	char cluster[512], role[512], path[512];
	struct kubesim_user users[] = {
		{ "collector", CK_CANARY_TOKEN, KUBESIM_ROLE_COLLECTOR, 0 },
		{ CK_CERT_USER, NULL, KUBESIM_ROLE_COLLECTOR, 1 },
	};
	struct kubesim_options o;
	struct err e = ERR_INIT;

	memset(s, 0, sizeof(*s));
	if (fixtures == NULL || src == NULL) {
		fprintf(stderr, "SKEWD_FIXTURES and SKEWD_SOURCE_DIR must be set\n");
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/skewd-test-sim-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(cluster, sizeof(cluster), "%s/cluster", fixtures);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = s->dir;
	o.users = users;
	o.nusers = sizeof(users) / sizeof(users[0]);
	o.threads = threads;
	if (kubesim_start(&o, &s->k, &e) < 0) {
		fprintf(stderr, "kubesim_start: %s\n", e.msg);
		return -1;
	}
	s->ca_pem = tk_read_file(kubesim_ca_path(s->k), NULL);
	snprintf(path, sizeof(path), "%s/client-%s.crt", s->dir, CK_CERT_USER);
	s->cert_pem = tk_read_file(path, NULL);
	snprintf(path, sizeof(path), "%s/client-%s.key", s->dir, CK_CERT_USER);
	s->key_pem = tk_read_file(path, NULL);
	if (s->ca_pem == NULL || s->cert_pem == NULL || s->key_pem == NULL) {
		fprintf(stderr, "kubesim wrote no CA or client certificate in %s\n", s->dir);
		return -1;
	}
	return 0;
}

static inline int
ck_sim_start(struct ck_sim *s)
{
	return ck_sim_start_threads(s, 16);
}

static inline void
ck_sim_stop(struct ck_sim *s)
{
	char cmd[300];

	kubesim_stop(s->k);
	s->k = NULL;
	free(s->ca_pem);
	free(s->cert_pem);
	free(s->key_pem);
	s->ca_pem = s->cert_pem = s->key_pem = NULL;
	if (s->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}

/* A request whose body is a JSON value (may be NULL); the answer's body is
 * remembered for the canary checks. */
static inline int
ck_req(const struct tk_server *srv, const char *method, const char *path, const char *token,
    json_t *body, struct tk_resp *r)
{
	static const char *const json_ct[] = { "Content-Type: application/json", NULL };
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	int ret;

	ret = tk_request(srv, method, path, token, body != NULL ? json_ct : NULL, text,
	    text != NULL ? strlen(text) : 0, 0, r);
	free(text);
	if (ret == 0 && r->body != NULL)
		ck_remember(r->body, r->len);
	if (ret == 0 && r->headers != NULL)
		ck_remember(r->headers, strlen(r->headers));
	return ret;
}

/* The body POST /api/v1/clusters takes, with a bearer token. New reference. */
static inline json_t *
ck_cluster_body(const char *name, const char *server, const char *ca_pem, const char *token)
{
	return json_pack("{s:s, s:s, s:s?, s:{s:s}, s:[s]}",
	    "name", name, "server", server, "ca_pem", ca_pem,
	    "auth", "token", token, "namespaces", "llm");
}

/* Registers a cluster with a token; returns the HTTP status (-1 on a transport failure). */
static inline long
ck_register(const struct tk_server *srv, const char *admin, const char *name, const char *server,
    const char *ca_pem, const char *token)
{
	json_t *body = ck_cluster_body(name, server, ca_pem, token);
	struct tk_resp r;
	long status = -1;

	if (body != NULL && ck_req(srv, "POST", "/api/v1/clusters", admin, body, &r) == 0) {
		status = r.status;
		if (status != 201)
			fprintf(stderr, "registering %s: %ld %s\n", name, status, r.body);
		tk_resp_free(&r);
	}
	json_decref(body);
	return status;
}

/* POST /api/v1/clusters/NAME/collect; fills r (caller frees). */
static inline int
ck_collect(const struct tk_server *srv, const char *token, const char *name, struct tk_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/clusters/%s/collect", name);
	return ck_req(srv, "POST", path, token, NULL, r);
}

/* GET /api/v1/clusters/NAME's health member (new reference), or NULL. */
static inline json_t *
ck_health(const struct tk_server *srv, const char *token, const char *name)
{
	struct tk_resp r;
	char path[256];
	json_t *h = NULL;

	snprintf(path, sizeof(path), "/api/v1/clusters/%s", name);
	if (ck_req(srv, "GET", path, token, NULL, &r) == 0) {
		h = json_incref(json_object_get(r.json, "health"));
		tk_resp_free(&r);
	}
	return h;
}

static inline int
ck_b64(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (outsz < (n + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = tbl[in[i] >> 2];
		out[o++] = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = tbl[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = tbl[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[o++] = tbl[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = tbl[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

/*
 * Does `hay` hold `canary` in any form a leak would take: raw, JSON-escaped
 * or URL-encoded (the same for these canaries: only unreserved characters),
 * or base64 at each of the three alignments it can have inside a longer
 * encoded value? Returns the form found, or NULL.
 */
static inline const char *
ck_leak(const char *hay, size_t len, const char *canary)
{
	unsigned char padded[128];
	char enc[256];
	size_t n = strlen(canary), shift;

	if (hay == NULL || n + 2 > sizeof(padded) - 2)
		return NULL;
	if (memmem(hay, len, canary, n) != NULL)
		return "raw";
	for (shift = 0; shift < 3; shift++) {
		size_t groups, start, end;

		memset(padded, 0, shift);
		memcpy(padded + shift, canary, n);
		if (ck_b64(padded, shift + n, enc, sizeof(enc)) < 0)
			return NULL;
		/* Skip the group that mixes in bytes before the value and the
		 * last group that mixes in bytes after it. */
		groups = strlen(enc) / 4;
		start = shift > 0 ? 4 : 0;
		end = (groups - 1) * 4;
		if (end > start + 8 && memmem(hay, len, enc + start, end - start) != NULL)
			return "base64";
	}
	return NULL;
}

#endif
