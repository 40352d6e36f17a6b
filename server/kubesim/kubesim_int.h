/*
 * kubesim_int.h - shared inside server/kubesim/ only.
 */
#ifndef SKEWD_KUBESIM_KUBESIM_INT_H
#define SKEWD_KUBESIM_KUBESIM_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "kubesim/kubesim.h"
#include "util/buf.h"
#include "util/limits.h"

struct err;

/* One resource the simulated server knows (a row of the discovery documents). */
struct ks_resource {
	const char *group;       /* "" for the core group */
	const char *version;
	const char *name;        /* plural, e.g. "pods" */
	const char *singular;
	const char *kind;
	int namespaced;
	const char *verbs;       /* space separated */
	const char *short_names; /* space separated, may be "" */
	const char *fields;      /* field selector labels beyond metadata.name/namespace */
};

extern const struct ks_resource ks_resources[];
extern const size_t ks_nresources;

/* Finds by group + plural name, or by apiVersion + kind. NULL when unknown. */
const struct ks_resource *ks_resource_find(const char *group, const char *version, const char *name);
const struct ks_resource *ks_resource_by_kind(const char *api_version, const char *kind);

/* One loaded state: its objects (each tagged with its resource) and folder. */
struct ks_object {
	json_t *obj; /* owned */
	const struct ks_resource *res;
	const char *ns;   /* borrowed from obj; "" for cluster-scoped */
	const char *name; /* borrowed from obj */
};

struct ks_state {
	char name[NAME_MAX + 1];
	char dir[PATH_MAX];
	struct ks_object *objs;
	size_t nobjs;
	unsigned long rv_base; /* resourceVersions of this load are above it */
	unsigned long rv;      /* the list resourceVersion: the highest object one */
};

/* Loads DIR/ *.yaml; rv_base makes resourceVersions grow across loads. */
int ks_state_load(const char *dir, const char *name, unsigned long rv_base, struct ks_state **out,
    struct err *e);
void ks_state_free(struct ks_state *s);

/* Label and field selectors, parsed from query strings. */
enum ks_sel_op { KS_SEL_EQ, KS_SEL_NE, KS_SEL_IN, KS_SEL_NOTIN, KS_SEL_EXISTS, KS_SEL_NOTEXISTS };

struct ks_sel_req {
	char *key;
	enum ks_sel_op op;
	char *vals[KUBESIM_MAX_SELECTOR_VALS];
	size_t nvals;
};

struct ks_selector {
	struct ks_sel_req reqs[KUBESIM_MAX_SELECTOR_REQS];
	size_t n;
};

int ks_label_selector_parse(const char *s, struct ks_selector *out, struct err *e);
/* Field selectors accept =, == and != on metadata.name, metadata.namespace and res->fields. */
int ks_field_selector_parse(const char *s, const struct ks_resource *res, struct ks_selector *out,
    struct err *e);
int ks_label_selector_match(const struct ks_selector *sel, const json_t *obj);
int ks_field_selector_match(const struct ks_selector *sel, const json_t *obj);
void ks_selector_release(struct ks_selector *sel);

/* RBAC: the rules of one ClusterRole. */
struct ks_role {
	json_t *rules; /* owned */
};

/* Loads the rules of every ClusterRole in the YAML file at path (their union). */
int ks_role_load(const char *path, struct ks_role *out, struct err *e);
void ks_role_release(struct ks_role *r);
/* 1 when the role allows verb on group/resource (resource may be "pods/log"). */
int ks_role_allows(const struct ks_role *r, const char *verb, const char *group, const char *resource,
    const char *name);

/* TLS material generated at start. */
int ks_tls_generate(const char *dir, char *ca_path, size_t ca_size, char *server_pem, size_t pem_size,
    struct err *e);
int ks_tls_client_cert(const char *dir, const char *user, struct err *e);

/* The TLS listener in front of CivetWeb (tlsfront.c says why). */
struct ks_front;

int ks_front_start(const char *host, int port, int backend_port, const char *cert_pem, const char *ca_path,
    atomic_int *stopping, struct ks_front **out, struct err *e);
int ks_front_port(const struct ks_front *f);
/* The verified client-certificate CN of the relay whose local port is remote_port; 1 if any. */
int ks_front_user(struct ks_front *f, int remote_port, char *user, size_t n);
/* 1 while the client of the relay whose local port is remote_port is connected. */
int ks_front_alive(struct ks_front *f, int remote_port);
/* Unblocks every relay (call with *stopping set, before stopping CivetWeb). */
void ks_front_shutdown(struct ks_front *f);
/* Waits for every thread and frees. NULL-safe. */
void ks_front_stop(struct ks_front *f);

/* A response being built. */
struct ks_resp {
	int status;
	const char *ctype;
	char headers[256]; /* extra header lines, each ending in \r\n */
	struct buf body;
};

struct ks_user {
	char *name;
	char *token;
	enum kubesim_role role;
};

struct ks_fault {
	char prefix[256];
	enum kubesim_fault_kind kind;
	int param;
};

struct kubesim {
	struct mg_context *ctx;
	struct ks_front *front; /* NULL for plain HTTP */
	char url[128];
	char ca_path[PATH_MAX];
	char server_pem[PATH_MAX];
	char fixtures_dir[PATH_MAX];
	struct ks_user users[KUBESIM_MAX_USERS];
	size_t nusers;
	struct ks_role role;

	pthread_rwlock_t lock; /* guards state */
	struct ks_state *state;
	unsigned long rv_next;

	pthread_mutex_t fault_lock; /* guards faults and requests */
	struct ks_fault faults[KUBESIM_MAX_FAULTS];
	size_t nfaults;
	unsigned long requests;
	int advance_metrics;
	json_t *served;             /* pod-proxy metrics path -> answers so far (advance_metrics) */
	struct timespec started;    /* CLOCK_MONOTONIC at start (KUBESIM_ADVANCE_PER_SECOND) */

	atomic_int stopping;
};

/* What a request asks, after authentication. */
struct ks_request {
	const char *method;
	const char *path;  /* raw path, no query */
	const char *query; /* raw query string or NULL */
	const char *accept;
	const char *user;
	enum kubesim_role role;
	const char *body; /* request body or NULL */
	size_t body_len;
};

/* Multiplies the counts of a metrics text by n (advance.c; n <= 1 leaves it).
 * Returns -1 with e set when the result does not fit (body released). */
int ks_metrics_advance(struct buf *body, double n, struct err *e);

/* Answers an authenticated API request (discovery, list, get, logs, proxy,
 * access reviews) into r, with RBAC checked. Returns -1 only when out of memory. */
int ks_api_serve(struct kubesim *k, const struct ks_request *q, struct ks_resp *r);

/* Fills r with a Kubernetes Status object (status "Failure"). */
int ks_status(struct ks_resp *r, int code, const char *reason, const char *message,
    const char *name, const char *group, const char *kind);

/* Reads a query variable, decoded; 0 found, -1 absent. */
int ks_query_get(const char *query, const char *name, char *dst, size_t dstlen);

#endif
