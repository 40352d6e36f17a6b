/*
 * test_prometheus.c - the Prometheus path against the real Prometheus server
 * (Debian package `prometheus`, /usr/bin/prometheus).
 *
 * kubesim serves the fixture cluster over plain HTTP with advance_metrics, so
 * every scrape of a vLLM pod's /metrics (through the pod proxy) serves the
 * corpus capture with its counters and histograms multiplied by the number of
 * scrapes so far. Prometheus runs on loopback with scrape_interval 1s and
 * scrapes both vLLM pods through that proxy, labelling the series
 * namespace="llm", pod="<pod>" as Kubernetes service discovery would. A real
 * skewd server (allow_http_clusters) registers the cluster with that
 * Prometheus URL, collects, and the stored figures must come from Prometheus:
 * the rate is positive, and p99 is the fixture's own p99 (every window holds
 * whole multiples of the fixture's histogram, so its quantiles are the
 * fixture's). Skipped, saying so, only when /usr/bin/prometheus is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "kube/kube.h"
#include "kubesim/kubesim.h"
#include "metrics/metrics.h"
#include "prom/prom.h"
#include "testkit.h"
#include "util/err.h"
#include "util/banned.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define TOKEN "prom-test-collector-token-3c9e"
#define POD0 "vllm-llama-7c9d8b6f5d-4xkqp"
#define POD1 "vllm-llama-7c9d8b6f5d-9rtmz"
#define VLLM "/api/v1/targets/promc/llm/deployment/vllm-llama"

static char dir[256];
static struct kubesim *sim;
static pid_t prom_pid = -1;
static char prom_url[64];
static struct tk_server srv;
static int have_prometheus;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A kube client for the Prometheus server (plain HTTP on loopback). */
static struct kube_client *
prom_client(void)
{
	struct kube_creds kc;
	struct kube_options ko;
	struct kube_client *k = NULL;
	struct err e = ERR_INIT;

	memset(&kc, 0, sizeof(kc));
	memset(&ko, 0, sizeof(ko));
	kc.server = prom_url;
	ko.allow_http = 1;
	ko.request_timeout_ms = 5000;
	if (kube_client_new(&kc, &ko, &k, &e) != 0)
		fprintf(stderr, "kube_client_new: %s\n", e.msg);
	return k;
}

/* Waits until Prometheus holds at least three scrapes of both pods. */
static int
wait_scrapes(void)
{
	struct kube_client *k = prom_client();
	time_t until = time(NULL) + 60;
	int ret = -1;

	while (k != NULL && time(NULL) < until) {
		json_t *res = NULL;
		struct err e = ERR_INIT;

		if (prom_query(k, "min(count_over_time(vllm:request_success_total{namespace=\"llm\"}[5m]))",
		    &res, &e) == 0 && json_array_size(res) == 1 &&
		    strtod(json_string_value(json_array_get(json_object_get(json_array_get(res, 0),
		    "value"), 1)), NULL) >= 3) {
			json_decref(res);
			ret = 0;
			break;
		}
		json_decref(res);
		usleep(500 * 1000);
	}
	kube_client_free(k);
	return ret;
}

static int
setup(void **state)
{
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	struct kubesim_user users[] = { { "collector", TOKEN, KUBESIM_ROLE_COLLECTOR, 0 } };
	struct kubesim_options o;
	struct err e = ERR_INIT;
	char cluster[512], role[512], cfg[600], data[600], listen[64], *admin = NULL, *editor = NULL;
	char *btext;
	const char *kurl;
	FILE *f;
	int port, i;
	json_t *body;
	struct tk_resp r;

	(void)state;
	if (access(PROMETHEUS, X_OK) != 0) {
		fprintf(stderr, "SKIPPED: %s is missing (install the Debian package prometheus: "
		    "deploy/install-deps.sh --test)\n", PROMETHEUS);
		return 0;
	}
	have_prometheus = 1;
	if (fixtures == NULL || src == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/skewd-test-prom-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cluster, sizeof(cluster), "%s/cluster", fixtures);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = dir;
	o.users = users;
	o.nusers = 1;
	o.threads = 32;  /* each keep-alive connection (curl's and Prometheus') holds a worker */
	o.plain_http = 1;
	o.advance_metrics = 1;
	if (kubesim_start(&o, &sim, &e) != 0) {
		fprintf(stderr, "kubesim_start: %s\n", e.msg);
		return -1;
	}
	kurl = kubesim_url(sim);
	/* Prometheus: both vLLM pods through the pod proxy, every second. */
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	f = fopen(cfg, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
	for (i = 0; i < 2; i++) {
		const char *pod = i == 0 ? POD0 : POD1;

		fprintf(f, "  - job_name: vllm-%d\n"
		    "    metrics_path: /api/v1/namespaces/llm/pods/%s:8000/proxy/metrics\n"
		    "    authorization:\n      credentials: %s\n"
		    "    static_configs:\n      - targets: ['%s']\n"
		    "        labels: {namespace: llm, pod: %s}\n", i, pod, TOKEN, kurl + 7, pod);
	}
	fclose(f);
	port = free_port();
	if (port <= 0)
		return -1;
	snprintf(prom_url, sizeof(prom_url), "http://127.0.0.1:%d", port);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/tsdb", dir);
	prom_pid = fork();
	if (prom_pid == 0) {
		char cf[700], log[700];

		snprintf(cf, sizeof(cf), "--config.file=%s", cfg);
		snprintf(log, sizeof(log), "%s/prometheus.log", dir);
		if (freopen(log, "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execl(PROMETHEUS, PROMETHEUS, cf, data, listen, "--log.level=warn", (char *)NULL);
		_exit(127);
	}
	if (prom_pid < 0)
		return -1;
	if (wait_scrapes() != 0) {
		fprintf(stderr, "Prometheus did not scrape the pods within 60 s (see %s/prometheus.log)\n",
		    dir);
		return -1;
	}
	/* skewd, with the cluster and its Prometheus registered. */
	if (tk_start(&srv, "collect_interval_s: 0\nallow_http_clusters: true\n") < 0)
		return -1;
	admin = tk_token(&srv, "admin-bot", "admin");
	editor = tk_token(&srv, "editor-bot", "editor");
	if (admin == NULL || editor == NULL)
		return -1;
	body = json_pack("{s:s,s:s,s:{s:s},s:[s],s:{s:s}}", "name", "promc", "server", kurl, "auth",
	    "token", TOKEN, "namespaces", "llm", "prometheus", "url", prom_url);
	btext = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (btext == NULL || tk_request(&srv, "POST", "/api/v1/clusters", admin,
	    (const char *const[]){ "Content-Type: application/json", NULL }, btext, strlen(btext), 0,
	    &r) != 0)
		return -1;
	free(btext);
	if (r.status != 201) {
		fprintf(stderr, "registering: %ld %s\n", r.status, r.body);
		return -1;
	}
	tk_resp_free(&r);
	if (tk_request(&srv, "POST", "/api/v1/clusters/promc/collect", editor, NULL, NULL, 0, 0, &r) != 0 ||
	    r.status != 200) {
		fprintf(stderr, "collect: %ld %s\n", r.status, r.body);
		return -1;
	}
	tk_resp_free(&r);
	free(admin);
	free(editor);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	if (!have_prometheus)
		return 0;
	tk_cleanup(&srv);
	if (prom_pid > 0) {
		kill(prom_pid, SIGTERM);
		waitpid(prom_pid, NULL, 0);
	}
	kubesim_stop(sim);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_figures_from_prometheus(void **state)
{
	char path[600], *text, *viewer;
	size_t len, i;
	struct metrics_set *set = NULL;
	struct metrics_histogram h;
	struct err e = ERR_INIT;
	struct tk_resp r;
	double p99;
	const json_t *pt, *s;
	int seen[2] = { 0, 0 };

	(void)state;
	if (!have_prometheus) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/cluster/metrics/datadog-vllm__vllm_metrics.txt",
	    getenv("SKEWD_FIXTURES"));
	text = tk_read_file(path, &len);
	assert_non_null(text);
	assert_int_equal(metrics_parse(text, len, METRICS_FORMAT_AUTO, &set, &e), 0);
	metrics_histogram_init(&h);
	assert_int_equal(metrics_set_histogram(set, "vllm:e2e_request_latency_seconds", NULL, 0, &h,
	    &e), 0);
	p99 = metrics_histogram_quantile(0.99, &h);
	metrics_histogram_release(&h);
	metrics_set_free(set);
	free(text);

	viewer = tk_token(&srv, "viewer-bot", "viewer");
	assert_non_null(viewer);
	assert_int_equal(tk_request(&srv, "GET", VLLM "/metrics", viewer, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	pt = json_array_get(json_object_get(r.json, "points"), 0);
	assert_non_null(pt);
	json_array_foreach(json_object_get(pt, "scrapes"), i, s) {
		const char *src = json_string_value(json_object_get(s, "source"));
		const char *pod = json_string_value(json_object_get(s, "pod"));
		const json_t *fig = json_object_get(s, "figures");

		if (src == NULL || pod == NULL)
			continue;
		if (strcmp(src, "prometheus") == 0) {
			seen[strcmp(pod, POD0) == 0 ? 0 : 1] = 1;
			assert_int_equal(json_integer_value(json_object_get(s, "window_seconds")), 300);
			assert_true(json_number_value(json_object_get(fig, "request_rate")) > 0);
			assert_true(json_number_value(json_object_get(fig, "generation_tokens_per_s")) > 0);
			assert_true(fabs(json_number_value(json_object_get(fig, "e2e_latency_p99")) - p99) <
			    1e-6 * p99);
			assert_true(json_is_number(json_object_get(fig, "running_requests")));
		} else if (strcmp(src, "pod") == 0) {
			/* The pod's own scrape keeps the gauges and says where the window went. */
			assert_non_null(strstr(json_string_value(json_object_get(json_object_get(s, "absent"),
			    "request_rate")), "come from Prometheus"));
		}
	}
	assert_true(seen[0] && seen[1]);
	tk_resp_free(&r);
	free(viewer);
}

static void
test_prom_query_errors(void **state)
{
	struct kube_client *k;
	json_t *res = NULL;
	struct err e = ERR_INIT;

	(void)state;
	if (!have_prometheus) {
		skip();
		return;
	}
	k = prom_client();
	assert_non_null(k);
	/* A query Prometheus refuses: its error, quoted. */
	assert_int_equal(prom_query(k, "sum(rate(x[5m]", &res, &e), -1);
	assert_null(res);
	assert_non_null(strstr(e.msg, "Prometheus"));
	/* The queries skewd sends are ones Prometheus accepts. */
	assert_int_equal(prom_query(k, "histogram_quantile(0.99, sum by (le, pod) "
	    "(rate(vllm:e2e_request_latency_seconds_bucket{namespace=\"llm\",pod=~\"" POD0 "\"}[5m])))",
	    &res, &e), 0);
	assert_int_equal(json_array_size(res), 1);
	json_decref(res);
	kube_client_free(k);
}

/* Last: SIGTERM stops the server with exit code 0 and a sanitizer build of it
 * reported nothing (cmocka ignores a teardown's failure, so a test of its own). */
static void
test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_from_prometheus),
		cmocka_unit_test(test_prom_query_errors),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
