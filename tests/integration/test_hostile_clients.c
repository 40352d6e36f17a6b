/*
 * test_hostile_clients.c - T9-T11 and the upload half of T14 against the
 * running server (http_threads: 4, request_timeout_ms: 1500, a web_dir with
 * a canary file beside it):
 *
 * - slow-loris: twice as many connections as workers, sending a header byte
 *   every 300 ms, and a slow body (a byte every 300 ms) while /healthz is
 *   probed: every probe answers; the slow connections are closed within the
 *   request timeout (the body one with 408);
 * - oversized header blocks and too many headers; conflicting and malformed
 *   Content-Length / Transfer-Encoding, with a request smuggled behind them
 *   that must never run;
 * - path traversal against the dashboard files in every encoding (%2e%2e,
 *   %252e, ..%2f, ..%5c, overlong UTF-8 %c0%ae, NUL, double slashes,
 *   absolute paths and absolute URIs, a long run of slashes);
 * - a billion-laughs YAML and an `&a [*a]` cycle as an imported baseline:
 *   a 4xx, with the time and the server's peak RSS printed.
 * Request bodies over the cap and deep JSON are in test_http_limits.c.
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

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define THREADS    4
#define TIMEOUT_MS 1500
#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"

static struct tk_server srv;
static struct ck_sim good;
static char *editor, *admin;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long
vm_kb(const char *field)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
	s = tk_read_file(path, NULL);
	if (s != NULL && (p = strstr(s, field)) != NULL)
		kb = strtol(p + strlen(field) + 1, NULL, 10);
	free(s);
	return kb;
}

static void
reset_peak(void)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)srv.pid);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	char yaml[1200], web[400];

	(void)state;
	if (ck_sim_start(&good) < 0 || tk_prepare(&srv, NULL) < 0)
		return -1;
	snprintf(web, sizeof(web), "%s/web", srv.dir);
	if (mkdir(web, 0755) < 0)
		return -1;
	put(web, "index.html", "<!doctype html><title>dash</title>\n");
	/* Beside web/ and above it: what traversal would reach. */
	put(srv.dir, "outside.txt", "OUTSIDE-CANARY-7d1e\n");
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/data\"\nweb_dir: \"%s\"\n"
	    "http_threads: %d\nrequest_timeout_ms: %d\ncollect_interval_s: 0\ncollect_timeout_ms: 5000\n",
	    srv.dir, web, THREADS, TIMEOUT_MS);
	put(srv.dir, "config.yaml", yaml);
	if (tk_launch(&srv) < 0)
		return -1;
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	return editor != NULL && admin != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&good);
	free(ck_seen);
	return 0;
}

static int
connect_srv(void)
{
	struct sockaddr_in sa;
	const char *port = strrchr(srv.url, ':');
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)strtoul(port + 1, NULL, 10));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- slow-loris ----------------------------------------------------------- */

#define NSLOW (2 * THREADS)
/* Without a deadline a slow body holds its worker for 1000 x 300 ms: the
 * bound only has to tell "closed by the timeout" from "never". */
#define SLOW_GIVE_UP_MS 20000

struct slow {
	int fd;
	int body;               /* 1: a complete header block, then the body byte by byte */
	double t0, closed_ms;   /* when the server closed it, from t0; -1 while open */
	char answer[64];
};

static struct slow slows[NSLOW + 1];
/* The feeder gives up then: a connection the server never closes fails the test. */
static double slow_stop_at;

/* Feeds every slow connection a byte each 300 ms until the server closes it. */
static void *
slow_main(void *arg)
{
	size_t i, open_n;
	char buf[512];

	(void)arg;
	do {
		open_n = 0;
		for (i = 0; i < NSLOW + 1; i++) {
			struct slow *s = &slows[i];
			struct pollfd p = { s->fd, POLLIN, 0 };
			ssize_t r;

			if (s->closed_ms >= 0)
				continue;
			if (poll(&p, 1, 0) > 0) {
				r = recv(s->fd, buf, sizeof(buf) - 1, 0);
				if (r > 0 && s->answer[0] == '\0') {
					buf[r] = '\0';
					snprintf(s->answer, sizeof(s->answer), "%.*s", (int)strcspn(buf, "\r\n"), buf);
				}
				if (r <= 0) {
					s->closed_ms = now_ms() - s->t0;
					continue;
				}
			}
			if (send(s->fd, s->body ? "a" : "x", 1, MSG_NOSIGNAL) != 1) {
				s->closed_ms = now_ms() - s->t0;
				continue;
			}
			open_n++;
		}
		usleep(300 * 1000);
	} while (open_n > 0 && now_ms() < slow_stop_at);
	return NULL;
}

static void
test_slow_loris_does_not_starve_healthz(void **state)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	char body_head[512];
	pthread_t th;
	double worst = 0, t0, took, probe_end, last_close = 0;
	int probes = 0, ok = 0, n;
	size_t i;

	(void)state;
	n = snprintf(body_head, sizeof(body_head), "POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", admin);
	for (i = 0; i < NSLOW + 1; i++) {
		struct slow *s = &slows[i];

		s->fd = connect_srv();
		assert_true(s->fd >= 0);
		s->body = i == NSLOW;
		s->closed_ms = -1;
		s->t0 = now_ms();
		if (s->body)
			assert_int_equal(send(s->fd, body_head, (size_t)n, MSG_NOSIGNAL), n);
		else
			assert_int_equal(send(s->fd, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(head) - 1);
	}
	slow_stop_at = now_ms() + SLOW_GIVE_UP_MS;
	assert_int_equal(pthread_create(&th, NULL, slow_main, NULL), 0);
	/* Probe /healthz for 4 request timeouts. */
	probe_end = now_ms() + 4 * TIMEOUT_MS;
	while (now_ms() < probe_end) {
		struct tk_resp r;

		t0 = now_ms();
		probes++;
		if (tk_request(&srv, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r) == 0 && r.status == 200)
			ok++;
		took = now_ms() - t0;
		if (took > worst)
			worst = took;
		tk_resp_free(&r);
		usleep(200 * 1000);
	}
	pthread_join(th, NULL);
	printf("slow-loris: %d slow-header connections + 1 slow body against %d workers, request_timeout_ms %d\n",
	    NSLOW, THREADS, TIMEOUT_MS);
	printf("  /healthz probes: %d of %d answered 200, slowest %.0f ms\n", ok, probes, worst);
	for (i = 0; i < NSLOW + 1; i++) {
		printf("  %s connection %zu: closed by the server after %.0f ms (%s)\n",
		    slows[i].body ? "slow-body" : "slow-header", i, slows[i].closed_ms,
		    slows[i].answer[0] != '\0' ? slows[i].answer : "no answer");
		if (slows[i].closed_ms < 0)
			fail_msg("slow connection %zu is still open after %d ms", i, SLOW_GIVE_UP_MS);
		if (slows[i].closed_ms > last_close)
			last_close = slows[i].closed_ms;
		close(slows[i].fd);
	}
	assert_int_equal(ok, probes);
	printf("  the last slow connection went after %.0f ms; expected about %d ms (a timeout per round of "
	    "%d workers)\n", last_close, ((NSLOW + 1 + THREADS - 1) / THREADS) * TIMEOUT_MS, THREADS);
	assert_non_null(strstr(slows[NSLOW].answer, "408"));
}

/* ---- framing -------------------------------------------------------------- */

static char *
raw(const char *req, size_t len)
{
	char *r = tk_raw(&srv, req, len, 3000);

	assert_non_null(r);
	return r;
}

/* A 4xx status line (CivetWeb's own answers say HTTP/1.0), or a close. */
static int
refused(const char *resp)
{
	return resp[0] == '\0' || ((strncmp(resp, "HTTP/1.1 4", 10) == 0 || strncmp(resp, "HTTP/1.0 4", 10) == 0));
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void
test_oversized_and_conflicting_framing(void **state)
{
	static const struct {
		const char *what;
		const char *headers;   /* after the request line, before the blank line */
		const char *body;
	} cases[] = {
		{ "Content-Length and Transfer-Encoding",
		  "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nGET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "Transfer-Encoding and Content-Length",
		  "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", "0\r\n\r\nGET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "Content-Length 10abc", "Content-Length: 10abc\r\n", "{}" },
		{ "Content-Length -1", "Content-Length: -1\r\n", "{}" },
		{ "Content-Length 2^63", "Content-Length: 9223372036854775808\r\n", "{}" },
		{ "two Content-Lengths", "Content-Length: 2\r\nContent-Length: 40\r\n",
		  "{}GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ "Transfer-Encoding gzip", "Transfer-Encoding: gzip\r\n", "{}" },
		{ "Transfer-Encoding chunked, chunked", "Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n" },
	};
	char req[4096], *resp, *big;
	size_t i, n;

	(void)state;
	printf("%-40s %s\n", "framing", "answer");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = (size_t)snprintf(req, sizeof(req), "POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\n"
		    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n%s\r\n%s", admin,
		    cases[i].headers, cases[i].body);
		resp = raw(req, n);
		printf("%-40s %.*s\n", cases[i].what, (int)strcspn(resp, "\r\n"), resp[0] ? resp : "(closed)");
		if (!refused(resp))
			fail_msg("%s: answered %.60s", cases[i].what, resp);
		/* The request hidden in the body never ran. */
		if (count(resp, "HTTP/1.1 ") > 1 || strstr(resp, "\"role\"") != NULL)
			fail_msg("%s: a smuggled request was answered:\n%s", cases[i].what, resp);
		free(resp);
	}
	/* A header block over max_request_size (16 KiB). */
	big = malloc(40000);
	assert_non_null(big);
	n = (size_t)snprintf(big, 40000, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'b', 30000);
	n += 30000;
	n += (size_t)snprintf(big + n, 40000 - n, "\r\n\r\n");
	resp = raw(big, n);
	printf("%-40s %.*s\n", "a 30 KB header", (int)strcspn(resp, "\r\n"), resp[0] ? resp : "(closed)");
	assert_true(refused(resp));
	free(resp);
	/* 100 headers (CivetWeb keeps 64). */
	n = (size_t)snprintf(big, 40000, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(big + n, 40000 - n, "X-H%zu: v\r\n", i);
	n += (size_t)snprintf(big + n, 40000 - n, "\r\n");
	resp = raw(big, n);
	printf("%-40s %.*s\n", "100 headers", (int)strcspn(resp, "\r\n"), resp[0] ? resp : "(closed)");
	/* 64 are kept and the rest dropped (CivetWeb), or the request is refused. */
	assert_true(refused(resp) || strncmp(resp, "HTTP/1.1 200", 12) == 0);
	free(resp);
	free(big);
	{
		struct tk_resp r;

		assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
		assert_int_equal(r.status, 200);
		tk_resp_free(&r);
	}
}

/* ---- traversal ------------------------------------------------------------ */

static void
test_traversal_in_every_encoding(void **state)
{
	static const char *const paths[] = {
		"/../outside.txt", "/../../outside.txt", "/..%2foutside.txt", "/..%2Foutside.txt",
		"/%2e%2e/outside.txt", "/%2E%2E/outside.txt", "/%2e%2e%2foutside.txt", "/.%2e/outside.txt",
		"/%252e%252e/outside.txt", "/%252e%252e%252foutside.txt", "/..%5coutside.txt", "/..\\outside.txt",
		"/%5c..%5coutside.txt", "/%c0%ae%c0%ae/outside.txt", "/%c0%ae%c0%ae%c0%afoutside.txt",
		"/%e0%80%ae%e0%80%ae/outside.txt", "/index.html%00.txt", "/%00/../outside.txt",
		"//outside.txt", "//../outside.txt", "/.//..//outside.txt", "/%2f%2e%2e%2foutside.txt",
		"/etc/passwd", "//etc/passwd", "/%2fetc%2fpasswd", "/./../outside.txt", "/..;/outside.txt",
		"/web/../outside.txt", "/index.html/../../outside.txt", "/..%c0%afoutside.txt",
		"/..%u2216outside.txt", "/%uff0e%uff0e/outside.txt", "/..../outside.txt",
	};
	char req[8192], *resp, *slashes;
	size_t i, n, hostile = 0;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		n = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		    paths[i]);
		resp = raw(req, n);
		if (strstr(resp, "OUTSIDE-CANARY") != NULL || strstr(resp, "root:x:0:0") != NULL)
			fail_msg("GET %s served a file outside the web folder:\n%s", paths[i], resp);
		if (strncmp(resp + 8, " 404", 4) != 0 && strncmp(resp + 8, " 400", 4) != 0)
			fail_msg("GET %s answered %.40s", paths[i], resp);
		hostile++;
		free(resp);
	}
	/* Absolute URIs in the request line. */
	n = (size_t)snprintf(req, sizeof(req),
	    "GET http://evil.example/../outside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw(req, n);
	assert_null(strstr(resp, "OUTSIDE-CANARY"));
	assert_true(refused(resp));
	free(resp);
	hostile++;
	n = (size_t)snprintf(req, sizeof(req), "GET file:///etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw(req, n);
	assert_null(strstr(resp, "root:x:0:0"));
	free(resp);
	hostile++;
	/* The CVE-2025-55763 pattern: a long run of slashes. */
	slashes = malloc(9000);
	assert_non_null(slashes);
	n = (size_t)snprintf(slashes, 9000, "GET ");
	memset(slashes + n, '/', 8000);
	n += 8000;
	n += (size_t)snprintf(slashes + n, 9000 - n, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw(slashes, n);
	assert_true(refused(resp));
	free(resp);
	free(slashes);
	hostile++;
	/* The folder itself still serves. */
	n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	resp = raw(req, n);
	assert_non_null(strstr(resp, "HTTP/1.1 200"));
	free(resp);
	printf("traversal: %zu hostile paths, all 400/404, none outside the web folder\n", hostile);
}

/* ---- YAML bombs as an imported baseline ----------------------------------- */

static void
bomb(const char *what, const char *doc)
{
	json_t *body = json_pack("{s:s}", "document", doc);
	struct tk_resp r;
	double t0, took;
	long peak;

	reset_peak();
	t0 = now_ms();
	assert_int_equal(ck_req(&srv, "POST", VLLM "/baseline/import", editor, body, &r), 0);
	took = now_ms() - t0;
	peak = vm_kb("VmHWM:");
	printf("  %-34s %ld in %6.1f ms, peak RSS %ld KiB: %.120s\n", what, r.status, took, peak,
	    json_string_value(json_object_get(json_object_get(r.json, "error"), "message")));
	if (r.status < 400 || r.status > 499)
		fail_msg("%s got %ld", what, r.status);
	tk_resp_free(&r);
	json_decref(body);
}

static void
test_yaml_bombs(void **state)
{
	struct tk_resp r;
	char *deep;
	long base;

	(void)state;
	assert_int_equal(ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN), 201);
	assert_int_equal(ck_collect(&srv, editor, "good", &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	base = vm_kb("VmRSS:");
	printf("YAML uploads (POST .../baseline/import), server RSS before %ld KiB:\n", base);
	bomb("billion laughs (9 levels x 9)",
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n");
	bomb("&a [*a] (an alias in its own anchor)", "&a [*a]\n");
	bomb("&a {x: *a} (the same, a map)", "&a {x: *a}\n");
	deep = malloc(20002);
	assert_non_null(deep);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\n';
	deep[20001] = '\0';
	bomb("10000-deep flow nesting", deep);
	free(deep);
	assert_int_equal(tk_request(&srv, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
}

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
		cmocka_unit_test(test_slow_loris_does_not_starve_healthz),
		cmocka_unit_test(test_oversized_and_conflicting_framing),
		cmocka_unit_test(test_traversal_in_every_encoding),
		cmocka_unit_test(test_yaml_bombs),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("hostile_clients", tests, setup, teardown);
}
