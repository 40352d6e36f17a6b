/*
 * cmd_serve.c - `skewd serve [--config FILE]`: load the config, open the
 * store and the seal key, start the collector and the HTTP server, print
 * where it listens, and stop cleanly (in reverse order) on SIGINT or SIGTERM.
 * The start and stop steps are shared with `skewd demo` (cmd.h).
 *
 * Exit codes: 0 after a clean stop, 2 for a usage error or a bad config
 * (the message names the file and line), 3 when the store, the seal key, the
 * collector or the server cannot start.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "collect/collect.h"
#include "config/config.h"
#include "engine/engine.h"
#include "http/http.h"
#include "notify/notify.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Reads a small file into a NUL-terminated string (caller frees), or NULL. */
static char *
slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *data;
	size_t n;

	if (f == NULL)
		return NULL;
	data = malloc(max + 1);
	if (data == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(data, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	return data;
}

/*
 * With `in_cluster: true` in a pod: registers cluster "in-cluster" from the
 * pod's service account (its token file, re-read on each pull, and its CA)
 * through the same path as POST /api/v1/clusters, unless it exists.
 */
static int
register_in_cluster(struct serve *sv, struct err *e)
{
	struct store_cluster c;
	struct err ge = ERR_INIT;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char server[KUBE_MAX_URL_BYTES], *ca = NULL;
	json_t *body = NULL, *out = NULL;
	int ret = -1;

	if (access(SA_DIR "/token", R_OK) != 0) {
		log_info("in_cluster is set but %s/token is not readable; no in-cluster cluster", SA_DIR);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	if (store_cluster_get(sv->store, "in-cluster", &c, &ge) == 0) {
		store_cluster_release(&c);
		return 0;
	}
	if (ge.code != ERR_NOT_FOUND) {
		*e = ge;
		return -1;
	}
	if (host == NULL || host[0] == '\0')
		return err_set(e, ERR_INVALID,
		    "in_cluster is set but KUBERNETES_SERVICE_HOST is not: is this a pod?");
	if (strchr(host, ':') != NULL)
		snprintf(server, sizeof(server), "https://[%s]:%s", host, port != NULL ? port : "443");
	else
		snprintf(server, sizeof(server), "https://%s:%s", host, port != NULL ? port : "443");
	ca = slurp(SA_DIR "/ca.crt", KUBE_MAX_PEM_BYTES);
	body = json_pack("{s:s, s:s, s:s?, s:{s:s}}",
	    "name", "in-cluster",
	    "server", server,
	    "ca_pem", ca,
	    "auth", "token_file", SA_DIR "/token");
	if (body == NULL) {
		err_set(e, ERR_NOMEM, "out of memory registering the in-cluster cluster");
		goto out;
	}
	if (api_cluster_register(sv->store, sv->seal, sv->cfg, body, &out, e) < 0) {
		err_prefix(e, "registering cluster 'in-cluster'");
		goto out;
	}
	log_info("registered cluster 'in-cluster' (%s) from the pod's service account", server);
	ret = 0;
out:
	json_decref(body);
	json_decref(out);
	free(ca);
	return ret;
}

/* The collector's on_change: queue the changed snapshot for the drift check. */
static void
serve_on_change(void *arg, int64_t target_id, int64_t snapshot_id)
{
	notify_snapshot_changed(arg, target_id, snapshot_id);
}

/* The collector's promote_verdict: the verdict of the diff the API would
 * answer for baseline `from` against `to`. */
static int
serve_promote_verdict(void *arg, int64_t from, int64_t to, char *verdict, size_t verdictsz,
    struct err *e)
{
	struct api_diff_sides d;
	const char *v;

	if (api_diff_snapshots(arg, from, to, "baseline", "latest", 0, &d, e) < 0)
		return -1;
	v = json_string_value(json_object_get(d.verdict, "verdict"));
	snprintf(verdict, verdictsz, "%s", v != NULL ? v : "none");
	api_diff_sides_release(&d);
	return 0;
}

int
serve_open(struct serve *sv, const struct config *cfg, const char *prog)
{
	struct notify_options no;
	struct collect_options co;
	struct err e = ERR_INIT;
	char *key_path = NULL;
	int ret = EXIT_RUNTIME;

	memset(sv, 0, sizeof(*sv));
	sv->cfg = cfg;
	sv->db_path = config_db_path(cfg);
	key_path = config_seal_key_path(cfg);
	if (sv->db_path == NULL || key_path == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (store_open(sv->db_path, cfg->migrations_dir, &sv->store, &e) < 0) {
		fprintf(stderr, "%s: cannot open the database '%s': %s\n", prog, sv->db_path, e.msg);
		goto out;
	}
	if (seal_open(key_path, &sv->seal, &e) < 0) {
		fprintf(stderr, "%s: cannot open the seal key: %s\n", prog, e.msg);
		goto out;
	}
	/* The collector reads engine command lines: load the knowledge table
	 * here, once, before any thread could. */
	if (engine_init(&e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		goto out;
	}
	/* Rules files are configuration: a bad one stops start-up like a bad key. */
	if (api_rules_configure(cfg->diff_rules_file, cfg->verdict_rules_file, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		ret = EXIT_USAGE;
		goto out;
	}
	memset(&no, 0, sizeof(no));
	no.allow_http = cfg->allow_http_webhooks;
	no.public_url = cfg->public_url;
	if (notify_new(sv->store, sv->seal, &no, &sv->notify, &e) < 0) {
		fprintf(stderr, "%s: cannot set up notifications: %s\n", prog, e.msg);
		goto out;
	}
	memset(&co, 0, sizeof(co));
	co.on_change = serve_on_change;
	co.on_change_arg = sv->notify;
	co.interval_s = cfg->collect_interval_s;
	co.allow_http = cfg->allow_http_clusters;
	co.history_days = cfg->history_days;
	co.request_timeout_ms = cfg->collect_timeout_ms;
	co.dcgm_selector = cfg->dcgm_selector;
	co.auto_promote_after_s = cfg->auto_promote_after_s;
	co.promote_verdict = serve_promote_verdict;
	co.promote_verdict_arg = sv->store;
	if (collect_new(sv->store, sv->seal, &co, &sv->collect, &e) < 0) {
		fprintf(stderr, "%s: cannot set up the collector: %s\n", prog, e.msg);
		goto out;
	}
	if (cfg->in_cluster && register_in_cluster(sv, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		goto out;
	}
	ret = 0;
out:
	free(key_path);
	if (ret != 0)
		serve_close(sv);
	return ret;
}

int
serve_start(struct serve *sv, const char *prog)
{
	struct err e = ERR_INIT;
	size_t pruned = 0;

	if (api_bundles_sweep(sv->store, sv->cfg, &pruned, &e) < 0)
		log_warn("bundles: %s", e.msg);
	else if (pruned > 0)
		log_info("bundles: removed %zu unfinished bundle files (left by a crash)", pruned);
	e = (struct err)ERR_INIT;
	if (api_bundles_prune(sv->store, sv->cfg, (int64_t)time(NULL), &pruned, &e) < 0)
		log_warn("bundles: retention: %s", e.msg);
	else if (pruned > 0)
		log_info("bundles: removed %zu bundles older than %d days", pruned, sv->cfg->bundle_retention_days);
	if (notify_start(sv->notify, &e) < 0) {
		fprintf(stderr, "%s: cannot start notifications: %s\n", prog, e.msg);
		return EXIT_RUNTIME;
	}
	if (collect_start(sv->collect, &e) < 0) {
		fprintf(stderr, "%s: cannot start the collector: %s\n", prog, e.msg);
		return EXIT_RUNTIME;
	}
	sv->svc.cfg = sv->cfg;
	sv->svc.store = sv->store;
	sv->svc.seal = sv->seal;
	sv->svc.collect = sv->collect;
	if (http_start(&sv->svc, &sv->http, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return EXIT_RUNTIME;
	}
	return 0;
}

void
serve_close(struct serve *sv)
{
	http_stop(sv->http);
	sv->http = NULL;
	collect_free(sv->collect);
	sv->collect = NULL;
	notify_free(sv->notify);
	sv->notify = NULL;
	seal_close(sv->seal);
	sv->seal = NULL;
	store_close(sv->store);
	sv->store = NULL;
	free(sv->db_path);
	sv->db_path = NULL;
}

void
serve_block_signals(sigset_t *stop)
{
	/* Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only sigwait() receives them. */
	sigemptyset(stop);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
serve_usage(FILE *out)
{
	fputs("usage: skewd serve [--config FILE]\n"
	    "\n"
	    "Runs the skewd service: the REST API (openapi.yaml) and the dashboard.\n"
	    "Without --config, defaults and SKEWD_* environment variables apply\n"
	    "(docs/configuration.md). Stops cleanly on SIGINT or SIGTERM.\n", out);
}

int
cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct err e = ERR_INIT;
	struct serve sv;
	const char *config_path = NULL;
	enum log_level level;
	sigset_t stop;
	int i, sig = 0, ret;

	memset(&cfg, 0, sizeof(cfg));
	memset(&sv, 0, sizeof(sv));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9] != '\0') {
			config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			serve_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "skewd serve: unknown or incomplete argument '%s'\n", argv[i]);
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (config_load(config_path, &cfg, &e) < 0) {
		fprintf(stderr, "skewd serve: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (cfg.log_level != NULL && log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);
	log_set_json(cfg.log_json);

	serve_block_signals(&stop);
	ret = serve_open(&sv, &cfg, "skewd serve");
	if (ret != 0)
		goto out;
	ret = serve_start(&sv, "skewd serve");
	if (ret != 0)
		goto out;
	log_info("skewd %s listening on %s (database %s)", SKEWD_VERSION, http_url(sv.http), sv.db_path);
	printf("listening on %s\n", http_url(sv.http));
	fflush(stdout);

	while (sigwait(&stop, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	ret = 0;
out:
	serve_close(&sv);
	config_release(&cfg);
	return ret;
}
