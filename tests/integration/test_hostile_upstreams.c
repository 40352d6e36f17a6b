/*
 * test_hostile_upstreams.c - T12-T16 through the running service: "clusters"
 * that hang, trickle a byte a second, send 100 MB with and without a
 * Content-Length or as a gzip bomb, send malformed or 3000-deep JSON, present
 * a certificate from the wrong CA, or redirect to another host
 * (tests/integration/hostile_upstream.py, and a second kubesim for the CA),
 * each registered beside a good kubesim cluster.
 *
 * Each hostile cluster is pulled on its own (POST .../collect): the answer is
 * an error, the sentence recorded in the cluster's health names what went
 * wrong, the pull ends within the configured deadline (collect_timeout_ms),
 * the server's peak RSS (VmHWM, reset before each case through
 * /proc/PID/clear_refs) is printed and stays below the 100 MB the upstream
 * sends, and the good cluster still pulls. Then the server restarts with the
 * scheduler on and pulls all of them in one round: the good cluster succeeds,
 * every hostile one has its error. The redirect target (a capture server
 * under another host name) never gets a request, so never the token;
 * registering file:, gopher:, dict:, ftp:, ldap: and telnet: URLs is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define DEADLINE_MS 2000
/* Allowed beyond the deadline: a pull is one request that fails, plus the
 * server's own work on a loaded (or sanitized) machine. Generous: it only
 * has to tell a bounded pull from one that hangs. A 100 MB answer ends at
 * the size cap, or, when a slow (sanitized) build reads slower than the
 * upstream sends, at the deadline: both are errors within the deadline. */
#define SLACK_MS    8000
#define UPSTREAM_MB 100

static struct tk_server srv;
static struct ck_sim good, other;
static char *viewer, *editor, *admin;
static pid_t py_pid = -1;
static int py_stdin = -1;
static json_t *ports;
static char capture_path[300];

struct hostile {
	const char *name;       /* the cluster's name */
	const char *mode;       /* hostile_upstream.py's mode, or NULL for the wrong CA */
	const char *what;       /* for the report */
	const char *const expect[3]; /* the error sentence holds one of these */
};

static const struct hostile cases[] = {
	{ "hang", "hang", "accepts, never answers", { "within", NULL, NULL } },
	{ "trickle", "trickle", "1 byte a second", { "within", "slow", NULL } },
	{ "huge-cl", "huge_cl", "100 MB, Content-Length", { "larger than", "did not complete within", NULL } },
	{ "huge-chunked", "huge_chunk", "100 MB, chunked", { "larger than", "did not complete within", NULL } },
	{ "gzip-bomb", "gzip_bomb", "100 KB gzip -> 100 MB", { "larger than", "did not complete within", NULL } },
	{ "malformed", "malformed", "truncated JSON", { "JSON", "json", NULL } },
	{ "deep", "deep", "JSON 3000 levels deep", { "deep", "nest", NULL } },
	{ "redirect", "redirect", "302 to another host", { "redirect", NULL, NULL } },
	{ "wrong-ca", NULL, "certificate of another CA", { "certificate", "TLS", "SSL" } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static long
vm_kb(pid_t pid, const char *field)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = tk_read_file(path, NULL);
	if (s != NULL && (p = strstr(s, field)) != NULL)
		kb = strtol(p + strlen(field) + 1, NULL, 10);
	free(s);
	return kb;
}

/* Resets VmHWM to the current RSS (proc(5), clear_refs value 5). */
static void
reset_peak(pid_t pid)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

static int
python_start(void)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	char script[512], line[1024];
	int in[2], out[2];
	size_t n = 0;
	struct pollfd pfd;

	if (src == NULL || pipe(in) != 0 || pipe(out) != 0)
		return -1;
	snprintf(script, sizeof(script), "%s/tests/integration/hostile_upstream.py", src);
	snprintf(capture_path, sizeof(capture_path), "%s/capture.log", srv.dir);
	py_pid = fork();
	if (py_pid < 0)
		return -1;
	if (py_pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, capture_path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	py_stdin = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	/* Building the gzip bomb takes a moment. */
	while (n < sizeof(line) - 1 && poll(&pfd, 1, 30000) > 0) {
		ssize_t r = read(out[0], line + n, sizeof(line) - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		line[n] = '\0';
		if (strchr(line, '\n') != NULL)
			break;
	}
	close(out[0]);
	line[n] = '\0';
	ports = json_loads(line, 0, NULL);
	if (!json_is_object(ports)) {
		fprintf(stderr, "hostile_upstream.py did not start: '%s'\n", line);
		return -1;
	}
	return 0;
}

static void
python_stop(void)
{
	if (py_stdin >= 0)
		close(py_stdin);
	if (py_pid > 0) {
		kill(py_pid, SIGTERM);
		waitpid(py_pid, NULL, 0);
	}
	py_pid = -1;
	py_stdin = -1;
}

static int
setup(void **state)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char opts[1024];

	(void)state;
	/* Under ASan, freed blocks sit in a 256 MB quarantine by default; a
	 * small one keeps the RSS figures about live memory. */
	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=16", asan != NULL ? asan : "",
	    asan != NULL && asan[0] != '\0' ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
	if (ck_sim_start(&good) < 0 || ck_sim_start(&other) < 0)
		return -1;
	if (tk_prepare(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 2000\nallow_http_clusters: true\n") < 0 ||
	    python_start() < 0 || tk_launch(&srv) < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	return viewer != NULL && editor != NULL && admin != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	python_stop();
	json_decref(ports);
	ck_sim_stop(&good);
	ck_sim_stop(&other);
	free(ck_seen);
	return 0;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
test_other_schemes_refused(void **state)
{
	static const char *const urls[] = {
		"file:///etc/passwd", "gopher://127.0.0.1:70/_GET", "dict://127.0.0.1:11211/stats",
		"ftp://127.0.0.1/", "ldap://127.0.0.1/", "telnet://127.0.0.1:23", "file:/etc/passwd",
		"tftp://127.0.0.1/x", "scp://127.0.0.1/x", "javascript:alert(1)",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		json_t *body = ck_cluster_body("scheme", urls[i], NULL, CK_CANARY_TOKEN);
		struct tk_resp r;

		assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters", admin, body, &r), 0);
		json_decref(body);
		if (r.status != 400)
			fail_msg("registering %s answered %ld: %s", urls[i], r.status, r.body);
		tk_resp_free(&r);
	}
	printf("schemes refused at registration: %zu of %zu (400)\n", i, sizeof(urls) / sizeof(urls[0]));
}

static void
register_all(void)
{
	size_t i;
	char url[128];

	assert_int_equal(ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN), 201);
	for (i = 0; i < NCASES; i++) {
		if (cases[i].mode != NULL) {
			snprintf(url, sizeof(url), "http://127.0.0.1:%lld",
			    (long long)json_integer_value(json_object_get(ports, cases[i].mode)));
			assert_int_equal(ck_register(&srv, admin, cases[i].name, url, NULL, CK_CANARY_TOKEN), 201);
		} else {
			/* good's API server, with other's CA: the certificate does not verify. */
			assert_int_equal(ck_register(&srv, admin, cases[i].name, kubesim_url(good.k), other.ca_pem,
			    CK_CANARY_TOKEN), 201);
		}
	}
}

static void
check_sentence(const struct hostile *c, const char *msg)
{
	size_t j;

	if (msg == NULL || msg[0] == '\0')
		fail_msg("%s: no error recorded", c->name);
	for (j = 0; j < 3 && c->expect[j] != NULL; j++) {
		if (strstr(msg, c->expect[j]) != NULL)
			return;
	}
	fail_msg("%s: the recorded error does not say what happened: %s", c->name, msg);
}

static void
test_each_hostile_cluster(void **state)
{
	long base_kb, peak_kb;
	size_t i;

	(void)state;
	register_all();
	{
		struct tk_resp r;

		/* The good cluster once first, so the baseline RSS includes a pull. */
		assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
		assert_int_equal(r.status, 200);
		tk_resp_free(&r);
	}
	base_kb = vm_kb(srv.pid, "VmRSS:");
	printf("deadline (collect_timeout_ms) %d ms; server RSS before %ld KiB\n", DEADLINE_MS, base_kb);
	printf("%-13s %-26s %6s %9s %9s %10s  %s\n", "cluster", "upstream", "status", "took_ms", "health_ms",
	    "peak_KiB", "recorded error");
	for (i = 0; i < NCASES; i++) {
		const struct hostile *c = &cases[i];
		struct tk_resp r;
		double t0, took;
		json_t *h;
		const char *msg;
		json_int_t dur;

		reset_peak(srv.pid);
		t0 = now_ms();
		assert_int_equal(ck_collect(&srv, editor, c->name, &r), 0);
		took = now_ms() - t0;
		peak_kb = vm_kb(srv.pid, "VmHWM:");
		if (r.status < 400)
			fail_msg("%s: pulling answered %ld", c->name, r.status);
		h = ck_health(&srv, viewer, c->name);
		msg = json_string_value(json_object_get(h, "last_error"));
		dur = json_integer_value(json_object_get(h, "last_duration_ms"));
		printf("%-13s %-26s %6ld %9.0f %9lld %10ld  %s\n", c->name, c->what, r.status, took, (long long)dur,
		    peak_kb, msg != NULL ? msg : "(none)");
		check_sentence(c, msg);
		if (ck_leak(msg, strlen(msg), CK_CANARY_TOKEN) != NULL)
			fail_msg("%s: the error quotes the token", c->name);
		/* Within the deadline (plus slack for the server's own work). */
		if (took > DEADLINE_MS + SLACK_MS)
			fail_msg("%s: the pull took %.0f ms, the deadline is %d ms", c->name, took, DEADLINE_MS);
		/* Never the upstream's 100 MB in memory. */
		if (peak_kb > 0 && base_kb > 0 && peak_kb - base_kb >= UPSTREAM_MB * 1024)
			fail_msg("%s: peak RSS grew by %ld KiB", c->name, peak_kb - base_kb);
		json_decref(h);
		tk_resp_free(&r);
		/* The good cluster is unaffected. */
		assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
		if (r.status != 200)
			fail_msg("after %s, pulling 'good' answered %ld: %s", c->name, r.status, r.body);
		tk_resp_free(&r);
	}
	printf("server VmHWM over the whole run: %ld KiB\n", vm_kb(srv.pid, "VmHWM:"));
}

/* The pull times of every cluster, as the scheduler left them. */
static json_t *
pulls(void)
{
	struct tk_resp r;
	json_t *out = json_object(), *c;
	size_t i;

	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	json_array_foreach(json_object_get(r.json, "clusters"), i, c)
		json_object_set(out, json_string_value(json_object_get(c, "name")), json_object_get(c, "health"));
	tk_resp_free(&r);
	return out;
}

static void
test_scheduler_round(void **state)
{
	char yaml[1024];
	json_t *before, *now = NULL, *h;
	const char *k;
	size_t i;
	int waited, all;
	FILE *f;

	(void)state;
	before = pulls();
	assert_int_equal(tk_stop(&srv), 0);
	/* The same server and data, with the scheduler on. */
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/data\"\nhttp_threads: 4\n"
	    "collect_interval_s: 2\ncollect_timeout_ms: %d\nallow_http_clusters: true\n", srv.dir, DEADLINE_MS);
	f = fopen(srv.config, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	/* tk_launch() waits for a new "listening on" line. */
	snprintf(yaml, sizeof(yaml), "%s/stdout.log", srv.dir);
	unlink(yaml);
	srv.url[0] = '\0';
	assert_int_equal(tk_launch(&srv), 0);
	reset_peak(srv.pid);
	/* Until every cluster was pulled again (a round takes a few deadlines). */
	for (waited = 0; waited < 40000; waited += 250) {
		json_decref(now);
		now = pulls();
		all = 1;
		json_object_foreach(before, k, h) {
			const char *a = json_string_value(json_object_get(h, "last_pull_at"));
			const char *b = json_string_value(json_object_get(json_object_get(now, k), "last_pull_at"));

			if (b == NULL || (a != NULL && strcmp(a, b) == 0))
				all = 0;
		}
		if (all)
			break;
		usleep(250 * 1000);
	}
	if (!all)
		fail_msg("the scheduler did not pull every cluster within 40 s");
	printf("scheduler round (collect_interval_s 2): %zu clusters pulled; peak RSS %ld KiB\n",
	    json_object_size(now), vm_kb(srv.pid, "VmHWM:"));
	h = json_object_get(now, "good");
	if (!json_is_null(json_object_get(h, "last_error")))
		fail_msg("'good' failed in the scheduler's round: %s",
		    json_string_value(json_object_get(h, "last_error")));
	for (i = 0; i < NCASES; i++) {
		json_int_t dur;

		h = json_object_get(now, cases[i].name);
		dur = json_integer_value(json_object_get(h, "last_duration_ms"));
		printf("  %-13s %6lld ms  %s\n", cases[i].name, (long long)dur,
		    json_string_value(json_object_get(h, "last_error")));
		check_sentence(&cases[i], json_string_value(json_object_get(h, "last_error")));
		if (dur > DEADLINE_MS + SLACK_MS)
			fail_msg("%s: the scheduled pull took %lld ms", cases[i].name, (long long)dur);
	}
	json_decref(before);
	json_decref(now);
}

static void
test_no_token_elsewhere(void **state)
{
	size_t len = 0;
	char *cap, *log;

	(void)state;
	/* The redirect was not followed: the other host heard nothing. */
	cap = tk_read_file(capture_path, &len);
	if (cap != NULL && len > 0)
		fail_msg("the redirect target received: %.500s", cap);
	free(cap);
	printf("requests that reached the redirect target: 0\n");
	assert_null(ck_leak(ck_seen, ck_seen_len, CK_CANARY_TOKEN));
	log = tk_read_file(srv.stderr_path, &len);
	assert_non_null(log);
	assert_null(ck_leak(log, len, CK_CANARY_TOKEN));
	free(log);
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_schemes_refused),
		cmocka_unit_test(test_each_hostile_cluster),
		cmocka_unit_test(test_scheduler_round),
		cmocka_unit_test(test_no_token_elsewhere),
	};

	return cmocka_run_group_tests_name("hostile_upstreams", tests, setup, teardown);
}
