/*
 * kubesim.h - a simulated Kubernetes API server for tests and `skewd demo`.
 *
 * kubesim serves a cluster whose objects are YAML files on disk (one folder
 * per state, e.g. tests/fixtures/cluster/lastgood and .../current) over
 * HTTPS with a CA it generates at start, the way a real kube-apiserver
 * does: discovery (/version, /api, /apis, resource lists), list and get of
 * namespaced and cluster-scoped resources with label and field selectors,
 * Table output for `kubectl get`, pod logs, the pod proxy, Status objects
 * for every error, bearer-token and client-certificate authentication, and
 * RBAC from a file of ClusterRoles (deploy/kubernetes/clusterrole-collector.yaml).
 * The real kubectl works against it (tests/lint/kubesim_kubectl.sh).
 *
 * A state folder holds:
 *   *.yaml                     Kubernetes objects (multi-document files)
 *   logs/POD/CONTAINER.log     a container's log; line i of n is dated
 *                              n - i seconds before the request
 *   proxy/POD/PORT/PATH        what the pod proxy answers for
 *                              /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH
 *
 * Faults (kubesim_set_fault) apply to every request whose path starts with
 * a prefix ("" or "/" for all), and let tests see how a client copes with a
 * failing or hostile API server. The admin endpoint /_kubesim/ (no auth)
 * switches state and faults from a shell:
 *   /_kubesim/state?name=current
 *   /_kubesim/fault?kind=429&prefix=/api/v1/pods&param=2
 *   /_kubesim/fault?kind=none&prefix=/api/v1/pods   (clears one)
 *   /_kubesim/fault?kind=clear                      (clears all)
 *
 * Threads: kubesim runs its own CivetWeb worker threads; every function here
 * may be called from any thread while it runs.
 */
#ifndef SKEWD_KUBESIM_KUBESIM_H
#define SKEWD_KUBESIM_KUBESIM_H

#include <stddef.h>

struct err;
struct kubesim;

/* What a user may do: the collector ClusterRole, or everything (cluster-admin). */
enum kubesim_role { KUBESIM_ROLE_COLLECTOR = 0, KUBESIM_ROLE_ADMIN };

struct kubesim_user {
	const char *name;  /* the user name; the CN of its client certificate */
	const char *token; /* bearer token, or NULL for a certificate-only user */
	enum kubesim_role role;
	int client_cert;   /* 1: write TLS_DIR/client-NAME.crt and .key signed by the CA */
};

enum kubesim_advance {
	KUBESIM_ADVANCE_OFF = 0,
	KUBESIM_ADVANCE_PER_SCRAPE = 1,
	KUBESIM_ADVANCE_PER_SECOND = 2
};

struct kubesim_options {
	const char *fixtures_dir; /* holds one folder per state */
	const char *state;        /* the first state, e.g. "lastgood" */
	const char *role_file;    /* YAML of ClusterRoles whose union KUBESIM_ROLE_COLLECTOR gets */
	const char *tls_dir;      /* an existing folder: ca.crt, ca.key, server.pem, client-*.{crt,key} */
	int plain_http;           /* 1: serve http:// without TLS (tls_dir still gets the CA) */
	const char *listen;       /* "127.0.0.1:0" when NULL; port 0 picks a free port */
	const struct kubesim_user *users; /* borrowed during kubesim_start() only */
	size_t nusers;
	int threads;              /* worker threads; 0 = KUBESIM_DEFAULT_THREADS */
	int advance_metrics;      /* KUBESIM_ADVANCE_PER_SCRAPE: the n-th answer of one pod-proxy
	                           * path ending in "metrics" has its counter, histogram and
	                           * summary counts multiplied by n, so counters advance between
	                           * scrapes; KUBESIM_ADVANCE_PER_SECOND: multiplied by 1 + the
	                           * seconds since kubesim_start(), so a rate is the file's
	                           * counts per second however often it is scraped (advance.c) */
};

enum kubesim_fault_kind {
	KUBESIM_FAULT_NONE = 0,  /* clears the fault of that prefix */
	KUBESIM_FAULT_401,
	KUBESIM_FAULT_403,
	KUBESIM_FAULT_404,
	KUBESIM_FAULT_410,       /* Gone: "too old resource version" */
	KUBESIM_FAULT_429,       /* param = Retry-After seconds (1 when 0) */
	KUBESIM_FAULT_500,
	KUBESIM_FAULT_HANG,      /* accepts and never answers until kubesim_stop() (or the client leaves) */
	KUBESIM_FAULT_SLOW,      /* sends the real answer 1 byte per param ms (10 when 0) */
	KUBESIM_FAULT_TRUNCATED, /* Content-Length larger than what is sent, then close */
	KUBESIM_FAULT_HUGE,      /* a valid-looking JSON list of param MiB (1 when 0), streamed */
	KUBESIM_FAULT__COUNT
};

/* Parses "401", "hang", "slow", "truncated", "huge", "none", ...; -1 when unknown. */
int kubesim_fault_parse(const char *name, enum kubesim_fault_kind *out);

/* Generates the CA and server certificate, loads the state and the role,
 * and starts listening. On success *out owns the server: kubesim_stop() it. */
int kubesim_start(const struct kubesim_options *o, struct kubesim **out, struct err *e);

/* "https://127.0.0.1:PORT" (no trailing slash); borrowed. */
const char *kubesim_url(const struct kubesim *k);
/* The PEM file of the generated CA; borrowed. */
const char *kubesim_ca_path(const struct kubesim *k);

/* Loads FIXTURES_DIR/NAME and serves it from the next request on; the old
 * state is kept when loading fails. NAME is a plain folder name. */
int kubesim_set_state(struct kubesim *k, const char *name, struct err *e);

/* Sets (or with KUBESIM_FAULT_NONE clears) the fault of requests whose path
 * starts with `prefix` ("" = all). At most KUBESIM_MAX_FAULTS at once. */
int kubesim_set_fault(struct kubesim *k, const char *prefix, enum kubesim_fault_kind kind,
    int param, struct err *e);
/* Clears every fault. */
void kubesim_clear_faults(struct kubesim *k);

/* Requests served so far (admin requests excluded). */
unsigned long kubesim_requests(struct kubesim *k);

/* Stops the server (hung requests are released first) and frees it. NULL-safe. */
void kubesim_stop(struct kubesim *k);

#endif
