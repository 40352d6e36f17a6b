/*
 * test_webhooks.c - notifications through the real server: an admin adds a
 * webhook whose URL carries a token, pointing at a receiver on loopback (a
 * thread in this test) that fails twice (HTTP 500) and then accepts. The
 * fixture cluster is pulled ("lastgood"), that snapshot becomes the baseline,
 * the fixture switches to "current" and is pulled again: the collector tells
 * the notifier, which diffs against the baseline and delivers. Exactly one
 * message is accepted, three tries are recorded on the webhook, an unchanged
 * pull sends nothing more, and the URL's token appears in no API answer and
 * no log line. Roles, bad bodies and deletion are checked on the way.
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
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"
#define URL_TOKEN "xoxb-T0KEN-in-the-webhook-path-4c1e"
#define MAX_REQS 16

static struct tk_server srv;
static struct ck_sim good;
static char *viewer, *editor, *admin;

/* The receiver: 500 to the first two requests, 200 after. */
static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	size_t nreqs, n200;
	char *bodies[MAX_REQS];
	char *heads[MAX_REQS];
} rcv;

static void *
receiver_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(rcv.fd, NULL, NULL), status;
		char *buf, *end = NULL, reply[128];
		size_t len = 0, cap = 262144, clen = 0;
		const char *cl;
		ssize_t got;

		if (c < 0)
			return NULL;
		buf = calloc(1, cap + 1);
		while (len < cap && (got = read(c, buf + len, cap - len)) > 0) {
			len += (size_t)got;
			buf[len] = '\0';
			if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
				cl = strcasestr(buf, "Content-Length:");
				clen = cl != NULL ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
			}
			if (end != NULL && len >= (size_t)(end - buf) + 4 + clen)
				break;
		}
		if (end != NULL) {
			pthread_mutex_lock(&rcv.mu);
			status = rcv.nreqs < 2 ? 500 : 200;
			if (rcv.nreqs < MAX_REQS) {
				rcv.heads[rcv.nreqs] = strndup(buf, (size_t)(end - buf));
				rcv.bodies[rcv.nreqs] = strdup(end + 4);
			}
			rcv.nreqs++;
			rcv.n200 += status == 200;
			pthread_mutex_unlock(&rcv.mu);
			snprintf(reply, sizeof(reply),
			    "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
			if (write(c, reply, strlen(reply)) < 0)
				status = 0;
		}
		free(buf);
		close(c);
	}
}

static int
receiver_start(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	pthread_mutex_init(&rcv.mu, NULL);
	rcv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (rcv.fd < 0)
		return -1;
	setsockopt(rcv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(rcv.fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(rcv.fd, 16) != 0 ||
	    getsockname(rcv.fd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	rcv.port = ntohs(a.sin_port);
	return pthread_create(&rcv.thread, NULL, receiver_main, NULL) == 0 ? 0 : -1;
}

static size_t
received(void)
{
	size_t n;

	pthread_mutex_lock(&rcv.mu);
	n = rcv.nreqs;
	pthread_mutex_unlock(&rcv.mu);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	if (receiver_start() < 0 || ck_sim_start(&good) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 5000\nallow_http_webhooks: true\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL)
		return -1;
	if (ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN) != 201)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	size_t i;
	int ret = 0;

	(void)state;
	/* A sanitizer report or an unclean exit of the server fails the group. */
	if (tk_stop(&srv) != 0) {
		fprintf(stderr, "skewd did not stop cleanly; see %s\n", srv.stderr_path);
		ret = -1;
	}
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&good);
	free(ck_seen);
	shutdown(rcv.fd, SHUT_RDWR);
	close(rcv.fd);
	pthread_join(rcv.thread, NULL);
	for (i = 0; i < MAX_REQS; i++) {
		free(rcv.bodies[i]);
		free(rcv.heads[i]);
	}
	return ret;
}

static long
post_hook(const char *token, json_t *body)
{
	struct tk_resp r;
	long status;

	assert_int_equal(ck_req(&srv, "POST", "/api/v1/webhooks", token, body, &r), 0);
	status = r.status;
	tk_resp_free(&r);
	json_decref(body);
	return status;
}

static void
test_webhook_crud(void **state)
{
	struct tk_resp r;
	json_t *body;
	char url[256], shown[64];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/" URL_TOKEN, rcv.port);
	snprintf(shown, sizeof(shown), "http://127.0.0.1:%d", rcv.port);
	/* Only an admin. */
	assert_int_equal(post_hook(viewer, json_pack("{s:s, s:s}", "name", "ops", "url", url)), 403);
	assert_int_equal(post_hook(editor, json_pack("{s:s, s:s}", "name", "ops", "url", url)), 403);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/webhooks", editor, NULL, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	/* Bad bodies. */
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s}", "name", "ops", "url", "ftp://x/")), 400);
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s, s:s}", "name", "ops", "url", url,
	    "format", "xml")), 400);
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s, s:s}", "name", "ops", "url", url,
	    "min_severity", "urgent")), 400);
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s, s:s}", "name", "ops", "url", url,
	    "colour", "red")), 400);
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s}", "name", "Ops!", "url", url)), 400);
	assert_int_equal(post_hook(admin, json_pack("{s:s}", "name", "ops")), 400);

	body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "ops", "url", url, "format", "json",
	    "min_severity", "medium", "secret", "sig-key-1");
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/webhooks", admin, body, &r), 0);
	json_decref(body);
	if (r.status != 201)
		fail_msg("POST webhook: %ld %s", r.status, r.body);
	assert_string_equal(json_string_value(json_object_get(r.json, "url")), shown);
	assert_true(json_is_true(json_object_get(r.json, "has_secret")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "delivery"), "attempts")), 0);
	assert_null(json_object_get(r.json, "secret"));
	tk_resp_free(&r);
	assert_int_equal(post_hook(admin, json_pack("{s:s, s:s}", "name", "ops", "url", url)), 409);

	assert_int_equal(ck_req(&srv, "GET", "/api/v1/webhooks", admin, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "webhooks")), 1);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/webhooks/nope", admin, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
}

static json_t *
get_hook(void)
{
	struct tk_resp r;
	json_t *d;

	assert_int_equal(ck_req(&srv, "GET", "/api/v1/webhooks/ops", admin, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	d = json_incref(json_object_get(r.json, "delivery"));
	tk_resp_free(&r);
	return d;
}

static void
test_drift_is_delivered_once(void **state)
{
	struct tk_resp r;
	struct err e = ERR_INIT;
	json_t *d = NULL, *msg, *body;
	int i;

	(void)state;
	assert_int_equal(ck_req(&srv, "POST", VLLM "/collect", editor, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	/* The first pull of a target has no baseline: nothing is sent. */
	body = json_pack("{s:s, s:s}", "snapshot", "latest", "note", "known good");
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", editor, body, &r), 0);
	json_decref(body);
	if (r.status != 200 && r.status != 201)
		fail_msg("PUT baseline: %ld %s", r.status, r.body);
	tk_resp_free(&r);
	assert_int_equal(received(), 0);

	assert_int_equal(kubesim_set_state(good.k, "current", &e), 0);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/collect", editor, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	/* Two failures with backoff, then the success: wait for it. */
	for (i = 0; i < 300; i++) {
		json_decref(d);
		d = get_hook();
		if (json_integer_value(json_object_get(d, "deliveries")) >= 1)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(json_integer_value(json_object_get(d, "deliveries")), 1);
	assert_int_equal(json_integer_value(json_object_get(d, "attempts")), 3);
	assert_int_equal(json_integer_value(json_object_get(d, "failures")), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "last_status")), 200);
	assert_true(json_is_null(json_object_get(d, "last_error")));
	assert_true(json_is_string(json_object_get(d, "last_success_at")));
	json_decref(d);
	assert_int_equal(received(), 3);
	assert_int_equal(rcv.n200, 1);
	msg = json_loads(rcv.bodies[2], 0, NULL);
	assert_non_null(msg);
	assert_string_equal(json_string_value(json_object_get(msg, "schema")), "skewd.notify/v1");
	assert_string_equal(json_string_value(json_object_get(msg, "target")), "good/llm/deployment/vllm-llama");
	assert_true(json_array_size(json_object_get(msg, "changes")) > 0);
	json_decref(msg);
	assert_non_null(strstr(rcv.heads[0], "POST /hooks/" URL_TOKEN " "));
	assert_non_null(strcasestr(rcv.heads[0], "X-Skewd-Signature: sha256="));

	/* The same state again: no new drift, nothing sent. */
	assert_int_equal(ck_req(&srv, "POST", VLLM "/collect", editor, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	usleep(1000 * 1000);
	assert_int_equal(received(), 3);
}

static void
test_delete_and_no_leaks(void **state)
{
	struct tk_resp r;
	char *log;
	size_t i;

	(void)state;
	assert_int_equal(ck_req(&srv, "DELETE", "/api/v1/webhooks/ops", editor, NULL, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "DELETE", "/api/v1/webhooks/ops", admin, NULL, &r), 0);
	assert_int_equal(r.status, 204);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/webhooks/ops", admin, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);

	/* The URL's token and the secret in no answer, no log line, no message. */
	assert_null(memmem(ck_seen, ck_seen_len, URL_TOKEN, strlen(URL_TOKEN)));
	assert_null(memmem(ck_seen, ck_seen_len, "sig-key-1", 9));
	assert_null(ck_leak(ck_seen, ck_seen_len, CK_CANARY_SECRET));
	assert_null(ck_leak(ck_seen, ck_seen_len, CK_CANARY_TOKEN));
	log = tk_read_file(srv.stderr_path, NULL);
	assert_non_null(log);
	assert_null(strstr(log, URL_TOKEN));
	assert_null(strstr(log, "/hooks/"));
	assert_null(ck_leak(log, strlen(log), CK_CANARY_SECRET));
	assert_null(ck_leak(log, strlen(log), CK_CANARY_TOKEN));
	free(log);
	for (i = 0; i < MAX_REQS && rcv.bodies[i] != NULL; i++) {
		assert_null(strstr(rcv.bodies[i], URL_TOKEN));
		assert_null(ck_leak(rcv.bodies[i], strlen(rcv.bodies[i]), CK_CANARY_SECRET));
		assert_null(ck_leak(rcv.bodies[i], strlen(rcv.bodies[i]), CK_CANARY_TOKEN));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webhook_crud),
		cmocka_unit_test(test_drift_is_delivered_once),
		cmocka_unit_test(test_delete_and_no_leaks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
