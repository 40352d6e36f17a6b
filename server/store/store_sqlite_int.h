/*
 * store_sqlite_int.h - shared by the SQLite backend's files (store_sqlite*.c)
 * and nothing else.
 */
#ifndef SKEWD_STORE_STORE_SQLITE_INT_H
#define SKEWD_STORE_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

struct err;

/* The calling thread's connection to the store's database, opened on first
 * use (see the threading rule in store.h). Borrowed: closed at store_close()
 * or when the thread exits. Returns NULL with e set on failure. */
sqlite3 *store_sqlite_db(struct store *s, struct err *e);

/* Copies SQLite's message for `rc` into e at once (it is overwritten by the
 * next call on `db`), mapped to a skewd code, prefixed with `what`. Returns -1. */
int store_sqlite_err(sqlite3 *db, int rc, struct err *e, const char *what);

/* The token functions of the backend (store_sqlite_token.c). */
int store_sqlite_token_insert(struct store *s, struct store_token_row *row, struct err *e);
int store_sqlite_token_find(struct store *s, const char *public_id, struct store_token_row *row,
    struct err *e);
int store_sqlite_token_touch(struct store *s, int64_t id, int64_t now, struct err *e);
int store_sqlite_token_list(struct store *s, struct store_token **items, size_t *n, struct err *e);
int store_sqlite_token_revoke(struct store *s, const char *name, int64_t now, struct err *e);

/* The cluster functions of the backend (store_sqlite_cluster.c). */
int store_sqlite_cluster_insert(struct store *s, struct store_cluster *c, struct err *e);
int store_sqlite_cluster_update(struct store *s, const struct store_cluster *c, int64_t now,
    struct err *e);
int store_sqlite_cluster_get(struct store *s, const char *name, struct store_cluster *out,
    struct err *e);
int store_sqlite_cluster_list(struct store *s, struct store_cluster **items, size_t *n, struct err *e);
int store_sqlite_cluster_delete(struct store *s, const char *name, struct err *e);
int store_sqlite_cluster_health(struct store *s, const char *name, int64_t pull_at, int ok,
    const char *error, int64_t duration_ms, const char *server_version, struct err *e);

/* Targets, snapshots and evidence (store_sqlite_snapshot.c). */
int store_sqlite_target_upsert(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, int64_t seen_at, int64_t *id, struct err *e);
int store_sqlite_target_get(struct store *s, const char *cluster, const char *ns, const char *kind,
    const char *name, struct store_target *out, struct err *e);
int store_sqlite_target_get_by_id(struct store *s, int64_t id, struct store_target *out, struct err *e);
int store_sqlite_target_list(struct store *s, const char *cluster, struct store_target **items,
    size_t *n, struct err *e);
int store_sqlite_target_mark_gone(struct store *s, const char *cluster, int64_t discovered_at,
    struct err *e);
int store_sqlite_snapshot_record(struct store *s, int64_t target_id, const char *hash,
    const char *config_json, size_t config_len, const char *evidence_json, size_t evidence_len,
    int64_t taken_at, int64_t *snapshot_id, int *changed, struct err *e);
int store_sqlite_snapshot_get(struct store *s, int64_t id, struct store_snapshot *meta,
    char **config_json, struct err *e);
int store_sqlite_snapshot_list(struct store *s, int64_t target_id, int64_t before_id, size_t limit,
    struct store_snapshot **items, size_t *n, struct err *e);
int store_sqlite_evidence_latest(struct store *s, int64_t target_id, char **evidence_json,
    int64_t *taken_at, struct err *e);
int store_sqlite_evidence_range(struct store *s, int64_t target_id, int64_t since, int64_t until,
    size_t limit, struct store_evidence **items, size_t *n, struct err *e);
int store_sqlite_evidence_figures(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t since,
    int64_t until, size_t limit, struct store_evidence **items, size_t *n, struct err *e);
int store_sqlite_evidence_before(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t at,
    struct store_evidence *out, struct err *e);
int store_sqlite_prune(struct store *s, int64_t older_than, int64_t *removed, struct err *e);

/* store_sqlite_baseline.c */
int store_sqlite_baseline_insert(struct store *s, struct store_baseline *b, struct err *e);
int store_sqlite_baseline_get(struct store *s, int64_t target_id, struct store_baseline *out,
    struct err *e);
int store_sqlite_baseline_list(struct store *s, int64_t target_id, size_t limit,
    struct store_baseline **items, size_t *n, struct err *e);
int store_sqlite_snapshot_import(struct store *s, int64_t target_id, const char *hash,
    const char *config_json, size_t config_len, int64_t at, int64_t *snapshot_id, struct err *e);
int store_sqlite_snapshot_is_imported(struct store *s, int64_t id, int *imported, struct err *e);

/* Bundles (store_sqlite_bundle.c) and webhooks (store_sqlite_webhook.c). */
int store_sqlite_bundle_insert(struct store *s, struct store_bundle *b, struct err *e);
int store_sqlite_bundle_get(struct store *s, const char *id, struct store_bundle *out, struct err *e);
int store_sqlite_bundle_list(struct store *s, int64_t before, size_t limit, struct store_bundle **items,
    size_t *n, struct err *e);
int store_sqlite_bundle_expired(struct store *s, int64_t older_than, size_t limit,
    struct store_bundle **items, size_t *n, struct err *e);
int store_sqlite_bundle_delete(struct store *s, const char *id, struct err *e);
int store_sqlite_webhook_insert(struct store *s, struct store_webhook *w, struct err *e);
int store_sqlite_webhook_get(struct store *s, const char *name, struct store_webhook *out,
    struct err *e);
int store_sqlite_webhook_list(struct store *s, struct store_webhook **items, size_t *n, struct err *e);
int store_sqlite_webhook_delete(struct store *s, const char *name, struct err *e);
int store_sqlite_webhook_claim(struct store *s, int64_t id, const char *drift_key, int64_t now,
    int *claimed, struct err *e);
int store_sqlite_webhook_attempt(struct store *s, int64_t id, const char *drift_key, int ok, int status,
    const char *error, int final, int64_t now, struct err *e);

/* Runs a statement without parameters or rows (BEGIN, COMMIT, ...). Returns 0
 * or -1 with e set, prefixed with `what`. */
int store_sqlite_exec(sqlite3 *db, const char *sql, const char *what, struct err *e);

#endif
