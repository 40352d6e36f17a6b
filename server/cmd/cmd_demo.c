/*
 * cmd_demo.c - `skewd demo [--listen ADDR] [--data-dir DIR]`: the service
 * with a simulated cluster, so a newcomer sees real data in the API and the
 * dashboard within seconds and with no cluster of their own.
 *
 * It starts kubesim (server/kubesim/) in this process on a free loopback port
 * with a CA it generates in DATA_DIR/demo-tls, serving the fixture cluster
 * (tests/fixtures/cluster: a "last good" and a "current" state of one vLLM
 * service that regressed); registers it as cluster `demo` with a bearer
 * token through api_cluster_register(), the path POST /api/v1/clusters
 * takes; pulls the last-good state and marks it as each target's baseline
 * (set by "skewd demo"), switches kubesim to the current one and
 * pulls again (each state DEMO_PULLS_PER_STATE times, with kubesim's counters
 * growing with time, so the metric charts have a history on both sides of
 * the change); then serves the API and dashboard (anonymous reads on, the
 * cluster polled every DEMO_COLLECT_INTERVAL_S) until SIGINT or SIGTERM.
 *
 * DATA_DIR defaults to a new temporary folder that is removed at the end,
 * so the demo never touches ./data.
 *
 * Exit codes: 0 after a clean stop, 2 for a usage error, 3 when something
 * cannot start (the fixture folder missing, a port taken, ...).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "collect/collect.h"
#include "config/config.h"
#include "http/http.h"
#include "kubesim/kubesim.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

#define DEMO_CLUSTER "demo"
#define DEMO_FIXTURES "tests/fixtures/cluster"
#define DEMO_ROLE "deploy/kubernetes/clusterrole-collector.yaml"
#define DEMO_TARGET "demo/llm/deployment/vllm-llama"

static void
demo_usage(FILE *out)
{
	fputs("usage: skewd demo [--listen ADDR] [--data-dir DIR]\n"
	    "\n"
	    "Runs skewd with a simulated Kubernetes cluster registered as 'demo': one vLLM\n"
	    "service pulled in its last-good state and again after a rollout that regressed.\n"
	    "Open the printed URL, or try the curl commands it prints. Reads need no token.\n"
	    "\n"
	    "  --listen ADDR     where the API and dashboard listen (default 127.0.0.1:8080)\n"
	    "  --data-dir DIR    keep the database here (default: a temporary folder,\n"
	    "                    removed at the end; ./data is never touched)\n", out);
}

/* Is DIR/tests/fixtures/cluster/lastgood a folder? */
static int
has_fixtures(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/" DEMO_FIXTURES "/lastgood", dir) >= (int)sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Finds the source tree that holds the fixture cluster: the folders above the
 * binary (a build folder inside the tree), then the tree the binary was
 * compiled from. Writes it into root.
 */
static int
find_root(char *root, size_t rootsz)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int up;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* An installed skewd (cmake --install, the container image) keeps the
		 * simulated cluster in PREFIX/share/skewd, beside PREFIX/bin. */
		slash = strrchr(exe, '/');
		if (slash != NULL && (size_t)(slash - exe) + sizeof("/../share/skewd") <= rootsz) {
			snprintf(root, rootsz, "%.*s/../share/skewd", (int)(slash - exe), exe);
			if (has_fixtures(root))
				return 0;
		}
		for (up = 0; up < 4; up++) {
			slash = strrchr(exe, '/');
			if (slash == NULL || slash == exe)
				break;
			*slash = '\0';
			if (has_fixtures(exe)) {
				snprintf(root, rootsz, "%s", exe);
				return 0;
			}
		}
	}
#ifdef SKEWD_SOURCE_DIR
	if (has_fixtures(SKEWD_SOURCE_DIR)) {
		snprintf(root, rootsz, "%s", SKEWD_SOURCE_DIR);
		return 0;
	}
#endif
	return -1;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
hex_token(char *out, size_t bytes)
{
	unsigned char raw[32];
	size_t i;

	if (bytes > sizeof(raw) || getrandom(raw, bytes, 0) != (ssize_t)bytes)
		return -1;
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* Registers cluster `demo` pointing at kubesim, replacing one left by an
 * earlier run in the same data dir (its URL and CA are from that run). */
static int
register_demo(struct serve *sv, struct kubesim *ks, const char *token, struct err *e)
{
	struct store_cluster old;
	struct err ge = ERR_INIT;
	char *ca = NULL;
	size_t calen = 0;
	json_t *body = NULL, *out = NULL;
	FILE *f;
	int ret = -1;

	memset(&old, 0, sizeof(old));
	if (store_cluster_get(sv->store, DEMO_CLUSTER, &old, &ge) == 0) {
		store_cluster_release(&old);
		if (store_cluster_delete(sv->store, DEMO_CLUSTER, e) < 0)
			return -1;
	}
	f = fopen(kubesim_ca_path(ks), "rb");
	if (f != NULL) {
		ca = malloc(KUBE_MAX_PEM_BYTES + 1);
		if (ca != NULL) {
			calen = fread(ca, 1, KUBE_MAX_PEM_BYTES, f);
			ca[calen] = '\0';
		}
		fclose(f);
	}
	if (ca == NULL || calen == 0) {
		err_set(e, ERR_IO, "cannot read the simulated cluster's CA '%s'", kubesim_ca_path(ks));
		goto out;
	}
	body = json_pack("{s:s, s:s, s:s, s:{s:s}, s:[s]}",
	    "name", DEMO_CLUSTER,
	    "server", kubesim_url(ks),
	    "ca_pem", ca,
	    "auth", "token", token,
	    "namespaces", "llm");
	if (body == NULL) {
		err_set(e, ERR_NOMEM, "out of memory registering the demo cluster");
		goto out;
	}
	if (api_cluster_register(sv->store, sv->seal, sv->cfg, body, &out, e) < 0)
		goto out;
	ret = 0;
out:
	json_decref(out);
	if (body != NULL) {
		explicit_bzero((char *)json_string_value(json_object_get(json_object_get(body, "auth"), "token")),
		    strlen(token));
		json_decref(body);
	}
	free(ca);
	return ret;
}

/* Marks each snapshot of a pull's answer as its target's baseline, as an
 * editor would with PUT .../baseline after a pull of a state known to be good. */
static int
mark_baselines(struct serve *sv, json_t *snaps, struct err *e)
{
	struct store_snapshot meta;
	json_t *s;
	size_t i;

	json_array_foreach(snaps, i, s) {
		int64_t id = (int64_t)json_integer_value(json_object_get(s, "id"));

		if (store_snapshot_get(sv->store, id, &meta, NULL, e) < 0 ||
		    store_baseline_set(sv->store, meta.target_id, id, "skewd demo",
		    "the last-good state, pulled before the rollout", "snapshot", (int64_t)time(NULL), NULL, e) < 0)
			return -1;
	}
	return 0;
}

/* Pulls the demo cluster DEMO_PULLS_PER_STATE times, DEMO_PULL_SPACING_MS
 * apart (kubesim's counters grow with time, so every pull of a pod after its
 * first has rates and latencies over the window since the one before), and
 * prints one line about the first pull. With `baseline`, what the first pull
 * found becomes each target's last good. */
static int
pull(struct serve *sv, const char *state, int baseline, struct err *e)
{
	json_t *out = NULL, *snaps, *s;
	size_t i, changed = 0;
	const struct timespec gap = { DEMO_PULL_SPACING_MS / 1000, (DEMO_PULL_SPACING_MS % 1000) * 1000000L };
	int n;

	if (collect_cluster(sv->collect, DEMO_CLUSTER, &out, e) < 0)
		return -1;
	snaps = json_object_get(out, "snapshots");
	json_array_foreach(snaps, i, s) {
		if (json_is_true(json_object_get(s, "changed")))
			changed++;
	}
	printf("pulled the %s state: %zu targets, %zu changed, %zu errors\n", state,
	    json_array_size(snaps), changed, json_array_size(json_object_get(out, "errors")));
	json_array_foreach(json_object_get(out, "errors"), i, s) {
		printf("  %s: %s\n", json_string_value(json_object_get(s, "target")),
		    json_string_value(json_object_get(s, "message")));
	}
	if (baseline) {
		if (mark_baselines(sv, snaps, e) < 0) {
			json_decref(out);
			return -1;
		}
		printf("  marked as last good: %zu targets\n", json_array_size(snaps));
	}
	json_decref(out);
	for (n = 1; n < DEMO_PULLS_PER_STATE; n++) {
		out = NULL;
		nanosleep(&gap, NULL);
		if (collect_cluster(sv->collect, DEMO_CLUSTER, &out, e) < 0)
			return -1;
		json_decref(out);
	}
	if (DEMO_PULLS_PER_STATE > 1)
		printf("  and %d more times, %d ms apart, for the metric charts\n", DEMO_PULLS_PER_STATE - 1,
		    DEMO_PULL_SPACING_MS);
	fflush(stdout);
	return 0;
}

int
cmd_demo(int argc, char **argv)
{
	struct config cfg;
	struct err e = ERR_INIT;
	struct serve sv;
	struct kubesim *ks = NULL;
	struct kubesim_options ko;
	struct kubesim_user user;
	const char *listen_addr = "127.0.0.1:8080", *data_dir = NULL;
	char root[PATH_MAX], fixtures[PATH_MAX], role[PATH_MAX], tls[PATH_MAX];
	char tmp[] = "/tmp/skewd-demo-XXXXXX", token[65];
	enum log_level level;
	sigset_t stop;
	int i, sig = 0, made_tmp = 0, ret = EXIT_RUNTIME;

	memset(&cfg, 0, sizeof(cfg));
	memset(&sv, 0, sizeof(sv));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_addr = argv[++i];
		} else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
			data_dir = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			demo_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "skewd demo: unknown or incomplete argument '%s'\n", argv[i]);
			demo_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (find_root(root, sizeof(root)) < 0) {
		fprintf(stderr, "skewd demo: cannot find the simulated cluster's files (" DEMO_FIXTURES
		    "/lastgood) in PREFIX/share/skewd beside the installed binary, near the skewd binary, or "
		    "in the source tree it was built from; reinstall skewd or run it from its build tree\n");
		return EXIT_RUNTIME;
	}
	if (snprintf(fixtures, sizeof(fixtures), "%s/" DEMO_FIXTURES, root) >= (int)sizeof(fixtures) ||
	    snprintf(role, sizeof(role), "%s/" DEMO_ROLE, root) >= (int)sizeof(role)) {
		fprintf(stderr, "skewd demo: the path of the source tree is too long\n");
		return EXIT_RUNTIME;
	}

	/* Defaults and SKEWD_* apply, then the demo's own settings win. */
	if (config_load(NULL, &cfg, &e) < 0) {
		fprintf(stderr, "skewd demo: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (data_dir == NULL) {
		if (mkdtemp(tmp) == NULL) {
			fprintf(stderr, "skewd demo: cannot create a temporary folder: %s\n", strerror(errno));
			goto out;
		}
		made_tmp = 1;
		data_dir = tmp;
	}
	free(cfg.data_dir);
	free(cfg.listen);
	free(cfg.seal_key_file);
	cfg.seal_key_file = NULL;
	cfg.data_dir = strdup(data_dir);
	cfg.listen = strdup(listen_addr);
	cfg.anonymous_read = 1;
	cfg.in_cluster = 0;
	/* The simulated cluster is polled often so the metric charts grow while the demo runs. */
	cfg.collect_interval_s = DEMO_COLLECT_INTERVAL_S;
	if (cfg.data_dir == NULL || cfg.listen == NULL) {
		fprintf(stderr, "skewd demo: out of memory\n");
		goto out;
	}
	if (cfg.log_level != NULL && log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);
	log_set_json(cfg.log_json);

	serve_block_signals(&stop);
	/* serve_open creates data_dir (0700); the TLS folder goes inside it. */
	ret = serve_open(&sv, &cfg, "skewd demo");
	if (ret != 0)
		goto out;
	ret = EXIT_RUNTIME;
	if (snprintf(tls, sizeof(tls), "%s/demo-tls", data_dir) >= (int)sizeof(tls)) {
		fprintf(stderr, "skewd demo: the data folder's path is too long\n");
		goto out;
	}
	if (mkdir(tls, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "skewd demo: cannot create '%s': %s\n", tls, strerror(errno));
		goto out;
	}
	if (hex_token(token, 32) < 0) {
		fprintf(stderr, "skewd demo: cannot get random bytes for the demo token\n");
		goto out;
	}
	memset(&user, 0, sizeof(user));
	user.name = "skewd-demo";
	user.token = token;
	user.role = KUBESIM_ROLE_COLLECTOR;
	memset(&ko, 0, sizeof(ko));
	ko.fixtures_dir = fixtures;
	ko.state = "lastgood";
	ko.role_file = role;
	ko.tls_dir = tls;
	ko.listen = "127.0.0.1:0";
	ko.users = &user;
	ko.nusers = 1;
	ko.advance_metrics = KUBESIM_ADVANCE_PER_SECOND;
	if (kubesim_start(&ko, &ks, &e) < 0) {
		fprintf(stderr, "skewd demo: cannot start the simulated cluster: %s\n", e.msg);
		goto out;
	}
	printf("simulated cluster at %s\n", kubesim_url(ks));
	if (register_demo(&sv, ks, token, &e) < 0) {
		fprintf(stderr, "skewd demo: cannot register the demo cluster: %s\n", e.msg);
		goto out;
	}
	explicit_bzero(token, sizeof(token));
	if (pull(&sv, "last-good", 1, &e) < 0) {
		fprintf(stderr, "skewd demo: pulling the last-good state failed: %s\n", e.msg);
		goto out;
	}
	if (kubesim_set_state(ks, "current", &e) < 0) {
		fprintf(stderr, "skewd demo: cannot switch the simulated cluster: %s\n", e.msg);
		goto out;
	}
	if (pull(&sv, "current", 0, &e) < 0) {
		fprintf(stderr, "skewd demo: pulling the current state failed: %s\n", e.msg);
		goto out;
	}
	ret = serve_start(&sv, "skewd demo");
	if (ret != 0)
		goto out;
	ret = EXIT_RUNTIME;
	printf("\nskewd demo is running: open %s/ (data in %s)\n", http_url(sv.http), data_dir);
	printf("what to try:\n");
	printf("  curl -s %s/api/v1/targets\n", http_url(sv.http));
	printf("  curl -s %s/api/v1/targets/" DEMO_TARGET "/snapshots\n", http_url(sv.http));
	printf("stop with Ctrl-C\n");
	printf("listening on %s\n", http_url(sv.http));
	fflush(stdout);

	while (sigwait(&stop, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	ret = 0;
out:
	explicit_bzero(token, sizeof(token));
	http_stop(sv.http);
	sv.http = NULL;
	collect_free(sv.collect);
	sv.collect = NULL;
	kubesim_stop(ks);
	serve_close(&sv);
	if (made_tmp)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	config_release(&cfg);
	return ret;
}
