/*
 * config.h - skewd's configuration: a YAML file (libyaml) plus SKEWD_*
 * environment overrides, with defaults that work with no file at all
 * (SQLite under ./data/, listening on 127.0.0.1:8080).
 *
 * Every key is documented in docs/configuration.md. An unknown key, a value
 * of the wrong type, an unreadable file or malformed YAML is an error that
 * names the file, the line and the reason.
 *
 * struct config is a plain value: fill with config_load(), free with
 * config_release(). Strings are owned by the struct.
 */
#ifndef SKEWD_CONFIG_CONFIG_H
#define SKEWD_CONFIG_CONFIG_H

#include <stddef.h>

struct err;

struct config {
	char *path;              /* the file loaded, or NULL when none */

	/* server */
	char *listen;            /* "127.0.0.1:8080"; CivetWeb listening_ports syntax */
	int http_threads;        /* worker threads */
	size_t max_body_bytes;   /* request body cap (413 above it) */
	int request_timeout_ms;  /* per network read/write */
	char *web_dir;           /* serve the dashboard from this folder; NULL = compiled-in web/ */
	char *public_url;        /* base URL used in links we hand out; NULL = from the request */

	/* storage */
	char *data_dir;          /* "./data"; the SQLite file is data_dir/skewd.db */
	char *migrations_dir;    /* NULL = the migrations compiled into the binary */

	/* auth */
	int anonymous_read;      /* 1: requests without a token act as a viewer */

	/* logging */
	char *log_level;         /* "error" | "warn" | "info" | "debug" */
	int log_json;            /* 1: log lines are JSON objects */

	/* clusters and collection */
	int collect_interval_s;  /* scheduler period; 0 = pull only on demand */
	int allow_http_clusters; /* 1: http:// API servers may be registered */
	char *seal_key_file;     /* NULL = data_dir/seal.key */
	int collect_timeout_ms;  /* one request to a cluster's API server, first byte to last */
	int in_cluster;          /* 1: register cluster "in-cluster" from the pod's service account */
	int history_days;        /* retention of snapshots and evidence; 0 = keep all */
	int bundle_retention_days; /* evidence bundles older than this are deleted; 0 = keep all */
	int allow_http_webhooks; /* 1: http:// webhook URLs may be registered (tests on loopback) */
	char *dcgm_selector;     /* DCGM exporter pods' label selector; NULL = the GPU Operator's */
	char *diff_rules_file;   /* extra diff rules (ignores, severity overrides; docs/diff.md); NULL = none */
	char *verdict_rules_file; /* verdict rules replacing the built-in ones (docs/metrics.md); NULL = built-in */
	int auto_promote_after_s; /* a snapshot unchanged and healthy this long becomes the baseline; 0 = off */
};

/* Loads defaults, then `path` when not NULL, then the environment (SKEWD_LISTEN,
 * SKEWD_DATA_DIR, ...: docs/configuration.md). Returns 0, or -1 with e set to a
 * message "FILE:LINE: reason" (ERR_INVALID / ERR_IO). On failure *c is released. */
int config_load(const char *path, struct config *c, struct err *e);

/* Frees the strings; NULL-safe. */
void config_release(struct config *c);

/* Full path of the SQLite file (data_dir/skewd.db); caller frees. NULL when out of memory. */
char *config_db_path(const struct config *c);

/* Full path of the seal key file (seal_key_file, else data_dir/seal.key); caller
 * frees. NULL when out of memory. */
char *config_seal_key_path(const struct config *c);

/* The i-th config key's name and environment variable (borrowed, static), or
 * NULL past the last key; lets tests and docs walk every key. */
const char *config_key_name(size_t i);
const char *config_key_env(size_t i);

#endif
