/*
 * store_int.h - the inside of the store module, shared by its files only.
 *
 * store.c, store_token.c and store_migrations.c are backend-neutral: they
 * hold the logic (token generation and checks, migration files and their
 * checksums) and call a backend through `struct store_backend`. Each backend
 * (today store_sqlite*.c; a PostgreSQL one is planned) owns its connections
 * and all of its SQL. Nothing outside server/store/ includes this header.
 */
#ifndef SKEWD_STORE_STORE_INT_H
#define SKEWD_STORE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One migration file compiled into the binary (generated table, see CMakeLists.txt). */
struct store_embedded_migration {
	const char *file;                 /* "0001_init.sql" */
	const unsigned char *sql;         /* NUL-terminated */
	const size_t *len;
};
extern const struct store_embedded_migration store_embedded_migrations[];
extern const size_t store_embedded_migrations_count;

/* One migration ready to apply: parsed name, text and checksum. */
struct store_mig {
	int version;
	char name[128];                   /* "0001_init" (file name without .sql) */
	char file[160];                   /* where it came from, for messages */
	char *sql;                        /* owned, NUL-terminated */
	size_t len;
	char sha256[65];                  /* hex of the file bytes */
};

/* Loads the migrations in version order: from `dir` when not NULL, else the
 * compiled-in ones. Caller frees with store_migs_free(). Returns 0 or -1 with e set. */
int store_migs_load(const char *dir, struct store_mig **out, size_t *n, struct err *e);
void store_migs_free(struct store_mig *m, size_t n);

/* A token row as the backends keep it. */
struct store_token_row {
	struct store_token tok;
	char public_id[2 * TOKEN_ID_BYTES + 1];   /* hex; appears in the token text */
	char secret_hash[65];                     /* hex SHA-256 of the secret part */
};

/*
 * The backend interface. Every function returns 0, or -1 with e set in
 * skewd's terms (never a backend's own code). `s->impl` is the backend's state.
 */
struct store_backend {
	const char *name;
	/* Opens the database and applies `migs` (already sorted). */
	int (*open)(struct store *s, const char *db_path, const struct store_mig *migs, size_t n,
	    struct err *e);
	void (*close)(struct store *s);
	int (*ping)(struct store *s, struct err *e);
	/* Fills `items` (n_migs entries, prefilled from the files) with what the database
	 * records, and appends database-only versions; may grow *items (realloc). */
	int (*migration_status)(const char *db_path, struct store_migration **items, size_t *n,
	    struct err *e);
	/* Inserts a token; fills row->tok.id. ERR_CONFLICT when an active token has the name
	 * or the public id is taken. */
	int (*token_insert)(struct store *s, struct store_token_row *row, struct err *e);
	/* Finds a token (revoked too) by its public id; ERR_NOT_FOUND when none. */
	int (*token_find)(struct store *s, const char *public_id, struct store_token_row *row,
	    struct err *e);
	/* Sets last_used_at = now unless it was set less than TOKEN_TOUCH_INTERVAL_S ago. */
	int (*token_touch)(struct store *s, int64_t id, int64_t now, struct err *e);
	int (*token_list)(struct store *s, struct store_token **items, size_t *n, struct err *e);
	/* Revokes the active token called `name`; ERR_NOT_FOUND when none. */
	int (*token_revoke)(struct store *s, const char *name, int64_t now, struct err *e);

	/* Clusters (store_cluster.c checks the fields first). cluster_insert sets
	 * c->id; ERR_CONFLICT when the name exists. cluster_update replaces the
	 * non-health fields and sets updated_at = now. cluster_delete removes the
	 * cluster, everything collected from it and documents left unreferenced. */
	int (*cluster_insert)(struct store *s, struct store_cluster *c, struct err *e);
	int (*cluster_update)(struct store *s, const struct store_cluster *c, int64_t now, struct err *e);
	int (*cluster_get)(struct store *s, const char *name, struct store_cluster *out, struct err *e);
	int (*cluster_list)(struct store *s, struct store_cluster **items, size_t *n, struct err *e);
	int (*cluster_delete)(struct store *s, const char *name, struct err *e);
	int (*cluster_health)(struct store *s, const char *name, int64_t pull_at, int ok, const char *error,
	    int64_t duration_ms, const char *server_version, struct err *e);

	/* Targets, snapshots, evidence (store_snapshot.c checks the arguments and
	 * lowercases kinds first); the contracts are those of store.h. */
	int (*target_upsert)(struct store *s, const char *cluster, const char *ns, const char *kind,
	    const char *name, int64_t seen_at, int64_t *id, struct err *e);
	int (*target_get)(struct store *s, const char *cluster, const char *ns, const char *kind,
	    const char *name, struct store_target *out, struct err *e);
	int (*target_get_by_id)(struct store *s, int64_t id, struct store_target *out, struct err *e);
	int (*target_list)(struct store *s, const char *cluster, struct store_target **items, size_t *n,
	    struct err *e);
	int (*target_mark_gone)(struct store *s, const char *cluster, int64_t discovered_at, struct err *e);
	int (*snapshot_record)(struct store *s, int64_t target_id, const char *hash, const char *config_json,
	    size_t config_len, const char *evidence_json, size_t evidence_len, int64_t taken_at,
	    int64_t *snapshot_id, int *changed, struct err *e);
	int (*snapshot_get)(struct store *s, int64_t id, struct store_snapshot *meta, char **config_json,
	    struct err *e);
	int (*snapshot_list)(struct store *s, int64_t target_id, int64_t before_id, size_t limit,
	    struct store_snapshot **items, size_t *n, struct err *e);
	int (*evidence_latest)(struct store *s, int64_t target_id, char **evidence_json, int64_t *taken_at,
	    struct err *e);
	int (*evidence_range)(struct store *s, int64_t target_id, int64_t since, int64_t until, size_t limit,
	    struct store_evidence **items, size_t *n, struct err *e);
	int (*evidence_figures)(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t since,
	    int64_t until, size_t limit, struct store_evidence **items, size_t *n, struct err *e);
	int (*evidence_before)(struct store *s, int64_t target_id, int64_t snapshot_id, int64_t at,
	    struct store_evidence *out, struct err *e);
	int (*prune)(struct store *s, int64_t older_than, int64_t *removed, struct err *e);

	/* Baselines (store_baseline.c checks the arguments first); contracts of store.h. */
	int (*baseline_insert)(struct store *s, struct store_baseline *b, struct err *e);
	int (*baseline_get)(struct store *s, int64_t target_id, struct store_baseline *out, struct err *e);
	int (*baseline_list)(struct store *s, int64_t target_id, size_t limit, struct store_baseline **items,
	    size_t *n, struct err *e);
	int (*snapshot_import)(struct store *s, int64_t target_id, const char *hash, const char *config_json,
	    size_t config_len, int64_t at, int64_t *snapshot_id, struct err *e);
	int (*snapshot_is_imported)(struct store *s, int64_t id, int *imported, struct err *e);

	/* Bundles and webhooks (store_bundle.c and store_webhook.c check the
	 * arguments first); contracts of store.h. webhook_claim and
	 * webhook_attempt take the time from the caller. */
	int (*bundle_insert)(struct store *s, struct store_bundle *b, struct err *e);
	int (*bundle_get)(struct store *s, const char *id, struct store_bundle *out, struct err *e);
	int (*bundle_list)(struct store *s, int64_t before, size_t limit, struct store_bundle **items,
	    size_t *n, struct err *e);
	int (*bundle_expired)(struct store *s, int64_t older_than, size_t limit,
	    struct store_bundle **items, size_t *n, struct err *e);
	int (*bundle_delete)(struct store *s, const char *id, struct err *e);
	int (*webhook_insert)(struct store *s, struct store_webhook *w, struct err *e);
	int (*webhook_get)(struct store *s, const char *name, struct store_webhook *out, struct err *e);
	int (*webhook_list)(struct store *s, struct store_webhook **items, size_t *n, struct err *e);
	int (*webhook_delete)(struct store *s, const char *name, struct err *e);
	int (*webhook_claim)(struct store *s, int64_t id, const char *drift_key, int64_t now, int *claimed,
	    struct err *e);
	int (*webhook_attempt)(struct store *s, int64_t id, const char *drift_key, int ok, int status,
	    const char *error, int final, int64_t now, struct err *e);
};

struct store {
	const struct store_backend *be;
	void *impl;
};

extern const struct store_backend store_sqlite_backend;

/* Hex of SHA-256 over (p, n) into out[65]. Returns 0, or -1 with e set. */
int store_sha256_hex(const void *p, size_t n, char out[65], struct err *e);

/* Now in unix seconds. */
int64_t store_now(void);

#endif
