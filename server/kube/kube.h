/*
 * kube.h - a Kubernetes API client: how skewd reads a cluster.
 *
 * Only this module includes curl/curl.h. It speaks HTTPS to an API server
 * with a CA bundle from memory (or, only when asked, no verification),
 * authenticates with a bearer token, a token file re-read on every batch (a
 * mounted ServiceAccount token rotates), or a client certificate and key
 * from memory; never follows redirects (a token must not reach another
 * host); caps every response (counted in the write callback, gzip accepted
 * and the cap applied to the decoded bytes); and bounds every request in
 * time. Requests of one batch run concurrently on one libcurl multi handle
 * with connections reused.
 *
 * Errors are sentences a person can act on, never containing a credential:
 *   ERR_UNAUTHORIZED "the API server rejected the credentials (401)"
 *   ERR_FORBIDDEN    "not allowed to list pods in namespace 'llm' (403): <Status message>"
 *   ERR_NOT_FOUND, ERR_CONFLICT (410 Gone), ERR_UNAVAILABLE (429, with the Retry-After),
 *   ERR_UPSTREAM (5xx, bad JSON, truncated body, TLS failure: "TLS verification failed: ..."),
 *   ERR_TIMEOUT ("no answer from https://... within 10 s"), ERR_TOO_LARGE (over the cap).
 *
 * kubeconfig: kube_creds_from_kubeconfig() reads a kubeconfig YAML (through
 * doc.h) and picks a context. `exec` and `auth-provider` users are refused
 * with a message saying why (they would run code) and what to use instead;
 * nothing is ever executed. File references (certificate-authority,
 * client-certificate, client-key, tokenFile) are refused too: an upload must
 * carry its data inline (*-data fields).
 *
 * Thread-safety: a kube_client belongs to one thread at a time.
 */
#ifndef SKEWD_KUBE_KUBE_H
#define SKEWD_KUBE_KUBE_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct kube_client;
struct kube_batch;

/* How to reach and authenticate to one cluster. Strings are owned (malloc'd);
 * release with kube_creds_release(), which also wipes the secret ones. */
struct kube_creds {
	char *server;                  /* "https://10.0.0.1:6443" */
	char *ca_pem;                  /* NULL = the system CA store */
	int insecure_skip_tls_verify;  /* only when explicitly asked */
	char *token;                   /* bearer token, or NULL */
	char *token_file;              /* path re-read per batch, or NULL */
	char *client_cert_pem;         /* with client_key_pem, or NULL */
	char *client_key_pem;
};

void kube_creds_release(struct kube_creds *c);

/* Checks a server URL: https (or http when allow_http), a host, no user info,
 * no query or fragment; a path prefix is allowed (a proxy such as Rancher's
 * /k8s/clusters/ID). ERR_INVALID naming the problem; a URL with user info is
 * never quoted in the message (it may hold a password). */
int kube_server_check(const char *url, int allow_http, struct err *e);

/* From kubeconfig text; `context` NULL = current-context. *name_hint gets the
 * cluster's name in the kubeconfig (caller frees; may be NULL). */
int kube_creds_from_kubeconfig(const char *yaml, size_t len, const char *context,
    struct kube_creds *out, char **name_hint, struct err *e);

struct kube_options {
	long connect_timeout_ms;       /* 0 = KUBE_CONNECT_TIMEOUT_MS */
	long request_timeout_ms;       /* whole request; 0 = KUBE_REQUEST_TIMEOUT_MS */
	size_t max_response_bytes;     /* 0 = KUBE_MAX_RESPONSE_BYTES */
	int max_parallel;              /* requests in flight per batch; 0 = KUBE_MAX_PARALLEL */
	int allow_http;                /* 1: http:// servers are accepted */
};

/* Copies what it needs from creds (server checked with kube_server_check(), PEM
 * fields must look like PEM, a certificate needs its key; no credential at all
 * means anonymous requests). Returns 0 and *out, or -1 with e set. */
int kube_client_new(const struct kube_creds *creds, const struct kube_options *opt,
    struct kube_client **out, struct err *e);
void kube_client_free(struct kube_client *k);
/* Connections the client has opened so far (the rest of its requests reused one). */
unsigned long kube_client_connects(const struct kube_client *k);

/* GET path (absolute path + query, e.g. "/api/v1/namespaces/llm/pods?labelSelector=app%3Dx"),
 * expecting JSON. Returns 0 and *out (new reference), or -1 with e set. */
int kube_get_json(struct kube_client *k, const char *path, json_t **out, struct err *e);
/* GET path as bytes (logs, /metrics). *out is NUL-terminated (caller frees). `max` 0 = the
 * client's cap (a larger `max` is lowered to it, here and in kube_batch_add()); content_type (may be NULL) receives the Content-Type header. */
int kube_get_text(struct kube_client *k, const char *path, size_t max, char **out, size_t *len,
    char *content_type, size_t ctsize, struct err *e);
/* GET /version: the gitVersion, e.g. "v1.30.2" (caller frees). */
int kube_server_version(struct kube_client *k, char **out, struct err *e);

/* Many GETs at once. Add requests, run, then read each result by index. A failed
 * request fails only itself; kube_batch_run() fails only when nothing could run. */
int kube_batch_new(struct kube_client *k, struct kube_batch **out, struct err *e);
/* Returns the request's index (>= 0), or -1 with e set. want_json 0 = text. */
int kube_batch_add(struct kube_batch *b, const char *path, int want_json, size_t max, struct err *e);
/* Runs every request, at most max_parallel at a time. Fails (and so fails every
 * request, each item_err saying why) only when nothing could run: the token file
 * cannot be read (ERR_IO), or libcurl fails. A batch runs once. */
int kube_batch_run(struct kube_batch *b, struct err *e);
/* The outcome of request i: 0 with *json (borrowed, valid until kube_batch_free) or *text and *len
 * (borrowed), or -1 with item_err set to that request's error. */
int kube_batch_result(const struct kube_batch *b, size_t i, json_t **json, const char **text,
    size_t *len, struct err *item_err);
void kube_batch_free(struct kube_batch *b);

/* Percent-encodes a path segment or query value (RFC 3986 unreserved kept) into out.
 * Returns 0, or -1 when out is too small. */
int kube_escape(const char *s, char *out, size_t outsz);

#endif
