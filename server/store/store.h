/*
 * store.h - everything skewd keeps, in skewd's terms.
 *
 * This header never mentions SQLite: a PostgreSQL backend must be addable
 * beside the SQLite one (store_sqlite.c) without touching callers. All SQL
 * lives in this module, with bound parameters only.
 *
 * Threading rule: one `struct store` is shared by all threads. Each thread
 * that calls into it gets its own database connection (created on first
 * use, closed at store_close()), so calls never share a connection and
 * never hold a lock across threads. SQLite runs in WAL mode with
 * busy_timeout, so readers do not block the writer. Threads must stop calling
 * into a store before store_close(); a thread that exits earlier has its
 * connection closed then.
 *
 * Migrations (migrations/NNNN_name.sql, compiled into the binary, or read
 * from a folder given at open) are applied in order at store_open() inside
 * transactions and recorded with their SHA-256. A changed already-applied
 * migration, or a database that has migrations this binary does not know,
 * makes store_open() fail with ERR_CONFLICT and a clear message.
 */
#ifndef SKEWD_STORE_STORE_H
#define SKEWD_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/limits.h"

struct err;
struct store;

/* Opens (creating the file and parent folder when missing) and migrates.
 * `migrations_dir` NULL = compiled-in migrations. Returns 0 and *out, or -1 with e set. */
int store_open(const char *db_path, const char *migrations_dir, struct store **out, struct err *e);
/* Closes every connection; NULL-safe. */
void store_close(struct store *s);

/* A cheap query that proves the database is usable (for /readyz). */
int store_ping(struct store *s, struct err *e);

/* Migration status, for `skewd migrate --status`. */
struct store_migration {
	int version;
	char name[128];
	int applied;          /* 1 when recorded in the database */
	int64_t applied_at;   /* unix seconds; 0 when not applied */
	char sha256[65];      /* of the file; of the database record when unknown */
	int modified;         /* applied, but the file's checksum differs from the record */
	int unknown;          /* applied in the database, not known to this skewd */
};
/* Fills a malloc'd array (caller frees) of every known migration. Opens without migrating. */
int store_migration_status(const char *db_path, const char *migrations_dir,
    struct store_migration **items, size_t *n, struct err *e);

/* API tokens. The plain token is shown once at creation; only a hash is kept. */
enum store_role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_EDITOR = 2, ROLE_ADMIN = 3 };

const char *store_role_name(enum store_role r);           /* "viewer" ... */
enum store_role store_role_parse(const char *name);       /* ROLE_NONE when unknown */

struct store_token {
	int64_t id;
	char name[TOKEN_MAX_NAME + 1];
	enum store_role role;
	int64_t created_at;     /* unix seconds */
	int64_t last_used_at;   /* 0 = never */
	int revoked;
};

/* Checks a token name: DNS-label-like ([a-z0-9] and inner '-'), at most
 * TOKEN_MAX_NAME. Returns 0, or -1 with e set (ERR_INVALID). */
int store_token_name_check(const char *name, struct err *e);
/* Creates a token; *plain receives the token text (caller frees, show it once).
 * ERR_CONFLICT when an active token has that name; ERR_INVALID for a bad name. */
int store_token_create(struct store *s, const char *name, enum store_role role,
    char **plain, struct store_token *out, struct err *e);
/* Checks a presented token in constant time; fills *out. ERR_UNAUTHORIZED when
 * unknown or revoked (the message never echoes the token). */
int store_token_verify(struct store *s, const char *plain, struct store_token *out, struct err *e);
/* Every token (revoked too), newest first; caller frees *items. */
int store_token_list(struct store *s, struct store_token **items, size_t *n, struct err *e);
/* Revokes by name; ERR_NOT_FOUND when no active token has it. */
int store_token_revoke(struct store *s, const char *name, struct err *e);

/*
 * Clusters (migration 0002). Credentials arrive here already sealed (seal.h):
 * the store never sees a token, key or password in clear, and never returns
 * the sealed blob through anything but store_cluster_get().
 */
#define STORE_MAX_NAME 63               /* DNS-1123 label: cluster names */

struct store_cluster {
	int64_t id;
	char name[STORE_MAX_NAME + 1];
	char *server;                   /* API server URL */
	int insecure_skip_tls_verify;
	char *ca_pem;                   /* public; NULL = system CAs */
	char *namespaces_json;          /* JSON array of namespace names; "[]" = all */
	char *label_selector;           /* "" = all workloads */
	char *auth_kind;                /* "token" | "token_file" | "client_cert" | "in_cluster" */
	unsigned char *sealed_auth;     /* seal_lock() of the auth JSON; NULL for none */
	size_t sealed_auth_len;
	char *prometheus_url;           /* NULL when none */
	unsigned char *sealed_prometheus_token; /* NULL when none */
	size_t sealed_prometheus_token_len;
	int64_t created_at, updated_at;  /* unix seconds */
	/* Health, written by the collector through store_cluster_health(). */
	int64_t last_pull_at;           /* 0 = never */
	int64_t last_success_at;        /* 0 = never */
	int64_t last_duration_ms;
	char *last_error;               /* a sentence, or NULL after a success */
	char *server_version;           /* "v1.30.2", or NULL */
};

/* Frees the strings and wipes and frees the sealed blobs; NULL-safe. */
void store_cluster_release(struct store_cluster *c);
/* Creates (ERR_CONFLICT when the name exists) and sets c->id. */
int store_cluster_create(struct store *s, struct store_cluster *c, struct err *e);
/* Replaces every non-health field of the cluster with that name (ERR_NOT_FOUND). */
int store_cluster_update(struct store *s, const struct store_cluster *c, struct err *e);
int store_cluster_get(struct store *s, const char *name, struct store_cluster *out, struct err *e);
/* Every cluster, by name; caller releases each and frees *items. */
int store_cluster_list(struct store *s, struct store_cluster **items, size_t *n, struct err *e);
/* Deletes the cluster and everything collected from it (targets, snapshots, evidence). */
int store_cluster_delete(struct store *s, const char *name, struct err *e);
/* Records the outcome of a pull: ok=1 clears last_error; error may be NULL. */
int store_cluster_health(struct store *s, const char *name, int64_t pull_at, int ok,
    const char *error, int64_t duration_ms, const char *server_version, struct err *e);

/*
 * Targets, snapshots and evidence (migration 0003).
 *
 * A target is one workload of a cluster, found by discovery. Each pull of a
 * target is recorded by store_snapshot_record(): the configuration document is
 * content-addressed (kept once per hash, shared by every target and pull that
 * has it), and the pull's volatile evidence is kept beside it, one row per
 * pull. Times are unix seconds. Kinds are kept lowercase ("deployment"): the
 * store lowercases what it is given, so "Deployment" finds the same target.
 */
struct store_target {
	int64_t id;
	char cluster[STORE_MAX_NAME + 1];
	char ns[STORE_MAX_NAMESPACE + 1];
	char kind[STORE_MAX_KIND + 1];
	char name[STORE_MAX_OBJECT_NAME + 1];
	int64_t first_seen, last_seen;
	int64_t latest_snapshot_id;     /* 0 = none */
	int gone;                       /* absent at the last discovery */
};

/* Creates the target or moves its last_seen forward (and clears gone); *id
 * (may be NULL) gets its id. ERR_NOT_FOUND when the cluster is unknown,
 * ERR_INVALID for an empty or over-long namespace, kind or name. */
int store_target_upsert(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, int64_t seen_at, int64_t *id, struct err *e);
/* ERR_NOT_FOUND when there is no such target. */
int store_target_get(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, struct store_target *out, struct err *e);
int store_target_get_by_id(struct store *s, int64_t id, struct store_target *out, struct err *e);
/* Targets of one cluster (NULL = all), ordered by cluster, ns, kind, name;
 * caller frees *items. ERR_NOT_FOUND when the named cluster is unknown. */
int store_target_list(struct store *s, const char *cluster, struct store_target **items, size_t *n,
    struct err *e);
/* After a discovery at `discovered_at`: the cluster's targets whose last_seen
 * is older get gone = 1, the others gone = 0. ERR_NOT_FOUND for an unknown cluster. */
int store_target_mark_gone(struct store *s, const char *cluster, int64_t discovered_at, struct err *e);

struct store_snapshot {
	int64_t id;
	int64_t target_id;
	char hash[65];                  /* hex SHA-256 of the canonical configuration JSON */
	int64_t first_seen, last_seen;  /* first and last pull that found this content */
	int64_t size;                   /* bytes of the configuration document */
	int imported;                   /* 1: made by store_snapshot_import(), not a pull */
};

/* Records one pull of a target, in one transaction. When the target's latest
 * snapshot has `hash` (64 lowercase hex), its last_seen moves to taken_at and
 * *changed = 0 with the same *snapshot_id; else the document is stored once
 * per hash (as given, not re-hashed) and a new snapshot row is added,
 * *changed = 1. Either way one evidence row (target, snapshot, taken_at,
 * evidence_json) is added; evidence_json NULL is stored as "{}". The config is
 * at most DOC_MAX_BYTES, the evidence STORE_MAX_EVIDENCE_BYTES (ERR_TOO_LARGE).
 * ERR_NOT_FOUND when the target is unknown. snapshot_id and changed may be NULL. */
int store_snapshot_record(struct store *s, int64_t target_id, const char *hash, const char *config_json,
    size_t config_len, const char *evidence_json, size_t evidence_len, int64_t taken_at,
    int64_t *snapshot_id, int *changed, struct err *e);
/* One snapshot's metadata (when meta is not NULL) and, when config_json is not NULL, its document
 * (NUL-terminated, caller frees). ERR_NOT_FOUND when there is no such snapshot. */
int store_snapshot_get(struct store *s, int64_t id, struct store_snapshot *meta, char **config_json,
    struct err *e);
/* A target's history, newest first: snapshots with id < before_id (0 = from the
 * newest), at most `limit` (0 or above STORE_MAX_PAGE means STORE_MAX_PAGE).
 * Caller frees *items. An unknown target has an empty history. */
int store_snapshot_list(struct store *s, int64_t target_id, int64_t before_id, size_t limit,
    struct store_snapshot **items, size_t *n, struct err *e);

/* The evidence of the target's most recent pull: *evidence_json (caller frees)
 * and *taken_at (may be NULL). ERR_NOT_FOUND when the target has none. */
int store_evidence_latest(struct store *s, int64_t target_id, char **evidence_json, int64_t *taken_at,
    struct err *e);

struct store_evidence {
	int64_t id;
	int64_t snapshot_id;
	int64_t taken_at;
	char *json;                     /* owned by the array's owner */
};
/* Evidence rows of a target with since <= taken_at <= until (until 0 = no end),
 * oldest first, at most `limit` (0 or above STORE_MAX_PAGE means STORE_MAX_PAGE).
 * Caller frees with store_evidence_free(). */
int store_evidence_range(struct store *s, int64_t target_id, int64_t since, int64_t until, size_t limit,
    struct store_evidence **items, size_t *n, struct err *e);
/* The metric figures of snapshot `snapshot_id`'s pulls (of target `target_id`)
 * with since <= taken_at <= until (until 0 = no end), oldest first, at most
 * `limit` (as above): each item's json is a JSON array of the "figures" object
 * of each scrape of that pull, picked out by the database, so the rest of the
 * evidence (logs, events, samples) is never read. For the verdict.
 * Caller frees with store_evidence_free(). */
int store_evidence_figures(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t since,
    int64_t until, size_t limit, struct store_evidence **items, size_t *n, struct err *e);
/* Frees each json and the array; NULL-safe. */
void store_evidence_free(struct store_evidence *items, size_t n);
/* The newest evidence row of snapshot `snapshot_id` (of target `target_id`)
 * taken at or before `at` (out->json owned by the caller: free() it).
 * ERR_NOT_FOUND when there is none. For the auto-promotion's window. */
int store_evidence_before(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t at,
    struct store_evidence *out, struct err *e);

/* Retention, in one transaction: removes evidence taken before older_than,
 * snapshots last seen before it except each target's latest, and documents no
 * snapshot references any more. *removed (may be NULL) gets the number of
 * rows removed in all three. */
int store_prune(struct store *s, int64_t older_than, int64_t *removed, struct err *e);

/*
 * Baselines (migration 0004): the snapshot a person (or the auto-promotion)
 * marked "last good" for a target. Setting one adds a row; the newest row is
 * the target's baseline and the rows are its history. A snapshot a baseline
 * points at survives store_prune().
 */
#define STORE_BASELINE_SOURCE_MAX 15

struct store_baseline {
	int64_t id;
	int64_t target_id;
	int64_t snapshot_id;
	char set_by[TOKEN_MAX_NAME + 1];        /* token name, or "auto-promotion" */
	char note[STORE_MAX_BASELINE_NOTE + 1]; /* why; "" when none */
	char source[STORE_BASELINE_SOURCE_MAX + 1]; /* "snapshot" | "import" | "auto" */
	int64_t set_at;                         /* unix seconds */
};

/* Makes snapshot_id the target's baseline; fills *out (may be NULL). `note` may
 * be NULL. ERR_NOT_FOUND when the snapshot is unknown, ERR_INVALID when it is
 * another target's, when set_by is empty or too long, when the note is longer
 * than STORE_MAX_BASELINE_NOTE or source is not one of the three. */
int store_baseline_set(struct store *s, int64_t target_id, int64_t snapshot_id, const char *set_by,
    const char *note, const char *source, int64_t set_at, struct store_baseline *out, struct err *e);
/* The target's baseline (its newest row). ERR_NOT_FOUND when it has none. */
int store_baseline_get(struct store *s, int64_t target_id, struct store_baseline *out, struct err *e);
/* The target's baselines, newest first, at most `limit` (0 or above
 * STORE_MAX_PAGE means STORE_MAX_PAGE). Caller frees *items. */
int store_baseline_list(struct store *s, int64_t target_id, size_t limit, struct store_baseline **items,
    size_t *n, struct err *e);
/* Stores an imported configuration document (a file, not a pull) as a
 * snapshot of the target marked imported, with no evidence: it is in the
 * target's history but never its latest snapshot, and a pull that finds the
 * same content still records a snapshot of its own. Same checks and caps as
 * store_snapshot_record(). *snapshot_id gets the new snapshot's id. */
int store_snapshot_import(struct store *s, int64_t target_id, const char *hash, const char *config_json,
    size_t config_len, int64_t at, int64_t *snapshot_id, struct err *e);
/* *imported = 1 when the snapshot was made by store_snapshot_import().
 * ERR_NOT_FOUND when there is no such snapshot. */
int store_snapshot_is_imported(struct store *s, int64_t id, int *imported, struct err *e);

/*
 * Bundles (migration 0005). The archive itself is a file under
 * data_dir/bundles/ written by server/bundle/; a row is inserted only after
 * that file is in place. `target` keeps "cluster/ns/kind/name" so a bundle
 * outlives its target (target_id then reads 0).
 */
struct store_bundle {
	int64_t seq;                            /* insertion order; the paging cursor */
	char id[STORE_MAX_BUNDLE_ID + 1];
	int64_t target_id;                      /* 0 when the target is gone */
	char target[STORE_MAX_TARGET_REF + 1];
	int64_t from_snapshot_id;               /* 0 = no baseline side */
	int64_t to_snapshot_id;
	char file[STORE_MAX_BUNDLE_FILE + 1];   /* a plain name under data_dir/bundles/ */
	int64_t size;                           /* bytes of the archive */
	char sha256[65];                        /* hex SHA-256 of the archive */
	int64_t created_at;
	char created_by[TOKEN_MAX_NAME + 1];
	char *meta_json;                        /* owned: bundle_write()'s metadata; may be NULL in lists */
};

/* Frees meta_json of each and the array; NULL-safe. */
void store_bundles_free(struct store_bundle *items, size_t n);
/* Inserts a bundle row (b->created_at 0 = now; b->seq is set). ERR_INVALID for an
 * id or file name that is not a plain name, ERR_CONFLICT when the id exists. */
int store_bundle_insert(struct store *s, struct store_bundle *b, struct err *e);
/* One bundle with its meta_json (release with store_bundles_free(out, 0) semantics:
 * free(out->meta_json)). ERR_NOT_FOUND when none. */
int store_bundle_get(struct store *s, const char *id, struct store_bundle *out, struct err *e);
/* Bundles newest first with seq < before (0 = from the newest), at most `limit`
 * (0 or above STORE_MAX_PAGE = STORE_MAX_PAGE), without meta_json. */
int store_bundle_list(struct store *s, int64_t before, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e);
/* Bundles created before `older_than`, oldest first, at most `limit`; for retention. */
int store_bundle_expired(struct store *s, int64_t older_than, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e);
/* Deletes the row (the caller removes the file). ERR_NOT_FOUND when none. */
int store_bundle_delete(struct store *s, const char *id, struct err *e);

/*
 * Webhooks (migration 0005). The URL arrives sealed (AAD "webhook:<name>:url")
 * with a display form holding only scheme and host; the store never sees it
 * in clear. Delivery state is kept per (webhook, drift key) so one drift is
 * delivered at most once per webhook.
 */
struct store_webhook {
	int64_t id;
	char name[STORE_MAX_NAME + 1];
	unsigned char *sealed_url;              /* owned */
	size_t sealed_url_len;
	char url_display[STORE_MAX_URL_DISPLAY + 1];
	char format[8];                         /* "json" | "slack" */
	char min_severity[16];                  /* "critical" ... "info" */
	unsigned char *sealed_secret;           /* owned; NULL when none */
	size_t sealed_secret_len;
	int64_t created_at;
	char created_by[TOKEN_MAX_NAME + 1];
	int64_t last_attempt_at, last_success_at; /* 0 = never */
	int last_status;                        /* HTTP status of the last try; 0 = none or no answer */
	char last_error[STORE_MAX_WEBHOOK_ERROR + 1]; /* a sentence; "" after a success */
	int64_t attempts, deliveries, failures; /* tries, delivered messages, given-up messages */
};

/* Wipes and frees the sealed blobs; NULL-safe. */
void store_webhook_release(struct store_webhook *w);
/* Releases each and frees the array; NULL-safe. */
void store_webhooks_free(struct store_webhook *items, size_t n);
/* Creates a webhook (sets id, created_at). ERR_CONFLICT when the name exists,
 * ERR_INVALID for a bad name, format or severity. */
int store_webhook_create(struct store *s, struct store_webhook *w, struct err *e);
int store_webhook_get(struct store *s, const char *name, struct store_webhook *out, struct err *e);
/* Every webhook by name, with sealed blobs; release with store_webhooks_free(). */
int store_webhook_list(struct store *s, struct store_webhook **items, size_t *n, struct err *e);
/* ERR_NOT_FOUND when none. Its delivery records go with it. */
int store_webhook_delete(struct store *s, const char *name, struct err *e);
/* Claims the delivery of `drift_key` to webhook `id`: *claimed = 1 when this
 * call recorded it (deliver it now), 0 when it was claimed before. */
int store_webhook_claim(struct store *s, int64_t id, const char *drift_key, int *claimed, struct err *e);
/* Records one try: status is the HTTP status (0 without an answer), ok 1 for
 * a success; error (may be NULL) is a sentence. `final` 1 ends the delivery of
 * drift_key (delivered when ok, else failed and counted in failures). */
int store_webhook_attempt(struct store *s, int64_t id, const char *drift_key, int ok, int status,
    const char *error, int final, struct err *e);

#endif
