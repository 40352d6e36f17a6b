/*
 * collect.h - pulling clusters into snapshots.
 *
 * The collector discovers targets (Deployments, StatefulSets and
 * LeaderWorkerSets in a cluster's watched namespaces that match its label
 * selector), pulls each target's objects over kube.h, builds the snapshot
 * document (docs/snapshot.md: the configuration, content-addressed) and the
 * volatile evidence (pods, restarts, events, log excerpts, metric samples),
 * and stores both through store.h. A scheduler thread pulls every cluster at
 * the configured interval. A cluster that is down, slow, refuses the
 * credentials or answers garbage records an error on that cluster and does
 * not delay or break the others; nothing stored before is touched.
 *
 * Thread-safety: collect_cluster() and collect_target() may be called from
 * any thread (API handlers) while the scheduler runs; pulls of one cluster
 * are serialised.
 */
#ifndef SKEWD_COLLECT_COLLECT_H
#define SKEWD_COLLECT_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct err;
struct seal;
struct store;
struct collect;

struct collect_options {
	int interval_s;            /* scheduler period; 0 = no scheduler (on demand only) */
	int allow_http;            /* http:// API servers accepted */
	long request_timeout_ms;   /* per request; 0 = default */
	int history_days;          /* retention of snapshots and evidence; 0 = keep */
	/* Called on the pulling thread after a pull recorded a snapshot whose
	 * content changed, with the target and the new snapshot; must not block
	 * (server/notify/ queues it). NULL: nobody is told. */
	void (*on_change)(void *arg, int64_t target_id, int64_t snapshot_id);
	void *on_change_arg;
	/* Label selector of the DCGM exporter pods, looked for in every namespace on each
	 * workload pod's node (copied). NULL: COLLECT_DEFAULT_DCGM_SELECTOR; "": none. */
	const char *dcgm_selector;
	/* Auto-promotion (docs/api.md): after each pull of a target, its latest
	 * snapshot becomes the baseline once it has been unchanged and healthy for
	 * this many seconds. 0 = off. */
	int auto_promote_after_s;
	/* The verdict of baseline snapshot `from` against snapshot `to` (e.g.
	 * "no_regression"), written into verdict; 0, or -1 with e set. Called on
	 * the pulling thread before a promotion over an existing baseline; a
	 * "skew_likely" or "capacity_likely" verdict stops it. NULL: no verdict
	 * is asked (health and age alone decide). */
	int (*promote_verdict)(void *arg, int64_t from, int64_t to, char *verdict, size_t verdictsz,
	    struct err *e);
	void *promote_verdict_arg;
};

/* The name auto-promoted baselines are recorded under (set_by). */
#define COLLECT_AUTO_PROMOTION "auto-promotion"

/* The GPU Operator's dcgm-exporter DaemonSet labels its pods so. */
#define COLLECT_DEFAULT_DCGM_SELECTOR "app=nvidia-dcgm-exporter"

/* `st` and `seal` are borrowed and must outlive the collector. */
int collect_new(struct store *st, const struct seal *seal, const struct collect_options *o,
    struct collect **out, struct err *e);
/* Starts the scheduler thread (no-op when interval_s is 0). */
int collect_start(struct collect *c, struct err *e);
/* Stops the scheduler, waits for running pulls, frees. NULL-safe. */
void collect_free(struct collect *c);

/* Pulls every target of a registered cluster now, discovering new ones.
 * *out (new reference): {"snapshots": [{"id": N, "target": "cluster/ns/kind/name",
 * "changed": true|false}], "errors": [{"target": "...", "message": "..."}]}.
 * Returns -1 with e set only when the cluster itself cannot be reached or is unknown;
 * the error is also recorded on the cluster's health. */
int collect_cluster(struct collect *c, const char *cluster, json_t **out, struct err *e);
/* Pulls one target now; `kind` is lowercase ("deployment", "statefulset", "leaderworkerset"). */
int collect_target(struct collect *c, const char *cluster, const char *ns, const char *kind,
    const char *name, json_t **out, struct err *e);

/* The pure part, for tests, `skewd demo` and baseline imports: from the objects
 * pulled for one target (see docs/snapshot.md, "raw pull"), builds the
 * configuration document (`skewd.snapshot/v1`, the part that is hashed) and the
 * evidence document. Secret values are replaced by seal_hmac() of them. New
 * references in *config and *evidence. */
int collect_build(const json_t *raw, const struct seal *seal, json_t **config, json_t **evidence,
    struct err *e);

/*
 * The health part of the auto-promotion, pure: `rows` are the evidence
 * documents (skewd.evidence/v1, docs/snapshot.md) of one snapshot, oldest
 * first, from the anchor (the newest row at or before the window's start) to
 * the latest pull. Healthy when every row shows at least one replica and all
 * of them ready (status.readyReplicas = status.replicas), every pod Running
 * with every container ready, and no pod restarted or replaced since the
 * anchor (a pod's restarts above the anchor's, or a pod the anchor does not
 * have). Returns 1 (healthy; `why` says what was seen, e.g. "2/2 replicas
 * ready, no container restarts"), 0 (not; `why` says why), or -1 with e set
 * (a row that is not an evidence document).
 */
int collect_promote_healthy(const json_t *const *rows, size_t n, char *why, size_t whysz,
    struct err *e);

#define COLLECT_SNAPSHOT_SCHEMA "skewd.snapshot/v1"
#define COLLECT_SNAPSHOT_VERSION 1

/* The content hash of a configuration document: lower-case hex SHA-256 of its
 * canonical JSON (doc_canonical_json). Returns 0, or -1 with e set. */
int collect_hash(const json_t *config, char out[65], struct err *e);

/* A raw pull from a flat array of Kubernetes objects (a state folder, a saved
 * `kubectl get -o json` List's items, a GitOps file): the workload `kind`/`name`
 * (kind as written, any case) in `ns`, every other object binned by kind. The
 * filtering (which Pods, Services, ... belong to the workload) is collect_build's.
 * *raw is a new reference. ERR_NOT_FOUND when the workload is not among them. */
int collect_raw_from_objects(const json_t *objects, const char *cluster, const char *ns,
    const char *kind, const char *name, json_t **raw, struct err *e);

#endif
