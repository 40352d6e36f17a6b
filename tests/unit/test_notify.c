/*
 * test_notify.c - webhook deliveries (server/notify/) against a real HTTP
 * receiver on loopback (a thread in this test answering a scripted list of
 * statuses), with a real SQLite store and a real seal key: a receiver that
 * fails twice then succeeds gets exactly one accepted message and three tries
 * recorded; a drift is delivered once; 4xx is not retried; Slack format;
 * severity threshold; the HMAC signature; the queue path through
 * notify_snapshot_changed(); and the URL checks. The URL's token never shows
 * in a message, an error or the webhook's display form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "notify/notify.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

#define URL_TOKEN "T0KEN-5ecret-in-the-path-91b2"
#define CANARY "skewd-canary-secret-7f3a9c"
#define MAX_REQS 16

/* The loopback receiver: answers statuses[i] to the i-th request, 200 after the list. */
struct receiver {
	int fd;
	int port;
	pthread_t thread;
	int statuses[8];
	size_t nstatuses;
	pthread_mutex_t mu;
	size_t nreqs;
	char *bodies[MAX_REQS];
	char *heads[MAX_REQS];
};

static void *
receiver_main(void *arg)
{
	struct receiver *r = arg;

	for (;;) {
		int c = accept(r->fd, NULL, NULL);
		char *buf, *end, reply[128];
		size_t len = 0, cap = 65536, clen = 0, hlen;
		const char *cl;
		int status;
		ssize_t got;

		if (c < 0)
			return NULL;
		buf = calloc(1, cap + 1);
		end = NULL;
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
		if (end == NULL) {
			free(buf);
			close(c);
			continue;
		}
		hlen = (size_t)(end - buf);
		pthread_mutex_lock(&r->mu);
		status = r->nreqs < r->nstatuses ? r->statuses[r->nreqs] : 200;
		if (r->nreqs < MAX_REQS) {
			r->heads[r->nreqs] = strndup(buf, hlen);
			r->bodies[r->nreqs] = strdup(end + 4);
		}
		r->nreqs++;
		pthread_mutex_unlock(&r->mu);
		snprintf(reply, sizeof(reply), "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
		    status);
		if (write(c, reply, strlen(reply)) < 0)
			status = 0;
		free(buf);
		close(c);
	}
}

static void
receiver_start(struct receiver *r, const int *statuses, size_t n)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	memset(r, 0, sizeof(*r));
	if (n > 0)
		memcpy(r->statuses, statuses, n * sizeof(*statuses));
	r->nstatuses = n;
	pthread_mutex_init(&r->mu, NULL);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->fd >= 0);
	setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r->fd, 16), 0);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &al), 0);
	r->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, receiver_main, r), 0);
}

static void
receiver_stop(struct receiver *r)
{
	size_t i;

	shutdown(r->fd, SHUT_RDWR);
	close(r->fd);
	pthread_join(r->thread, NULL);
	for (i = 0; i < MAX_REQS; i++) {
		free(r->bodies[i]);
		free(r->heads[i]);
	}
	pthread_mutex_destroy(&r->mu);
}

struct fx {
	char dir[256];
	struct store *st;
	struct seal *seal;
	int64_t target, snap_a, snap_b;
};

static int
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[1024];

	if (d == NULL)
		return unlink(path);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	closedir(d);
	return rmdir(path);
}

static const char doc_a[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"vllm\",\"namespace\":\"llm\"},"
	"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"vllm\",\"image\":\"vllm/vllm-openai:v0.6.3\","
	"\"args\":[\"--model\",\"meta-llama/Llama-3.1-8B-Instruct\",\"--max-model-len\",\"8192\",\"--dtype\","
	"\"bfloat16\",\"--api-key\",\"" CANARY "\"],\"env\":[{\"name\":\"HF_TOKEN\",\"value\":\"old-" CANARY "\"}]}]}}}}";
static const char doc_b[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"vllm\",\"namespace\":\"llm\"},"
	"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"vllm\",\"image\":\"vllm/vllm-openai:v0.6.3\","
	"\"args\":[\"--model\",\"meta-llama/Llama-3.1-8B-Instruct\",\"--max-model-len\",\"4096\",\"--dtype\","
	"\"float16\",\"--api-key\",\"" CANARY "x\"],\"env\":[{\"name\":\"HF_TOKEN\",\"value\":\"" CANARY "\"}]}]}}}}";

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_cluster c;
	struct err e = ERR_INIT;
	char path[320];
	int changed;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-notify-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/skewd.db", f->dir);
	assert_int_equal(store_open(path, NULL, &f->st, &e), 0);
	snprintf(path, sizeof(path), "%s/seal.key", f->dir);
	unsetenv("SKEWD_SEAL_KEY");
	assert_int_equal(seal_open(path, &f->seal, &e), 0);
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "prod");
	c.server = strdup("https://10.0.0.1:6443");
	c.auth_kind = strdup("in_cluster");
	assert_int_equal(store_cluster_create(f->st, &c, &e), 0);
	store_cluster_release(&c);
	assert_int_equal(store_target_upsert(f->st, "prod", "llm", "deployment", "vllm", 100, &f->target, &e), 0);
	assert_int_equal(store_snapshot_record(f->st, f->target,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", doc_a, strlen(doc_a), NULL, 0,
	    100, &f->snap_a, &changed, &e), 0);
	assert_int_equal(store_snapshot_record(f->st, f->target,
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", doc_b, strlen(doc_b), NULL, 0,
	    200, &f->snap_b, &changed, &e), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	seal_close(f->seal);
	store_close(f->st);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void
add_hook(struct fx *f, const char *name, int port, const char *format, const char *sev, const char *secret)
{
	struct store_webhook w;
	struct err e = ERR_INIT;
	char url[256], aad[96];

	memset(&w, 0, sizeof(w));
	snprintf(w.name, sizeof(w.name), "%s", name);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/" URL_TOKEN, port);
	assert_int_equal(notify_url_check(url, 1, w.url_display, sizeof(w.url_display), &e), 0);
	snprintf(aad, sizeof(aad), "webhook:%s:url", name);
	assert_int_equal(seal_lock(f->seal, aad, url, strlen(url), &w.sealed_url, &w.sealed_url_len, &e), 0);
	if (secret != NULL) {
		snprintf(aad, sizeof(aad), "webhook:%s:secret", name);
		assert_int_equal(seal_lock(f->seal, aad, secret, strlen(secret), &w.sealed_secret,
		    &w.sealed_secret_len, &e), 0);
	}
	snprintf(w.format, sizeof(w.format), "%s", format);
	snprintf(w.min_severity, sizeof(w.min_severity), "%s", sev);
	snprintf(w.created_by, sizeof(w.created_by), "test");
	assert_int_equal(store_webhook_create(f->st, &w, &e), 0);
	store_webhook_release(&w);
}

static struct notify *
new_notify(struct fx *f)
{
	struct notify_options o;
	struct notify *n = NULL;
	struct err e = ERR_INIT;

	memset(&o, 0, sizeof(o));
	o.allow_http = 1;
	o.backoff_base_ms = 20;
	o.max_attempts = 4;
	o.timeout_ms = 3000;
	o.public_url = "https://skewd.example.com";
	assert_int_equal(notify_new(f->st, f->seal, &o, &n, &e), 0);
	return n;
}

/* No secret in any received request, header or body. */
static void
assert_no_secrets(struct receiver *r)
{
	size_t i;

	for (i = 0; i < r->nreqs && i < MAX_REQS; i++) {
		assert_null(strstr(r->bodies[i], CANARY));
		assert_null(strstr(r->bodies[i], URL_TOKEN));
		assert_null(strstr(r->heads[i], CANARY));
	}
}

static void
test_fails_twice_then_succeeds(void **state)
{
	static const int statuses[] = { 500, 500 };
	struct fx *f = *state;
	struct receiver r;
	struct notify *n;
	struct store_webhook w;
	struct err e = ERR_INIT;
	json_t *msg;
	int delivered = -1;
	size_t i;

	receiver_start(&r, statuses, 2);
	add_hook(f, "ops", r.port, "json", "high", NULL);
	n = new_notify(f);
	assert_int_equal(notify_check(n, f->target, f->snap_a, f->snap_b, &delivered, &e), 0);
	assert_int_equal(delivered, 1);
	assert_int_equal(r.nreqs, 3);
	/* The three tries carried the same message, the same delivery key. */
	for (i = 1; i < 3; i++)
		assert_string_equal(r.bodies[i], r.bodies[0]);
	assert_non_null(strstr(r.heads[0], "POST /hooks/" URL_TOKEN " HTTP/1.1"));
	assert_non_null(strcasestr(r.heads[0], "Content-Type: application/json"));
	assert_non_null(strcasestr(r.heads[0], "X-Skewd-Delivery: target:"));
	msg = json_loads(r.bodies[2], 0, NULL);
	assert_non_null(msg);
	assert_string_equal(json_string_value(json_object_get(msg, "schema")), "skewd.notify/v1");
	assert_string_equal(json_string_value(json_object_get(msg, "target")), "prod/llm/deployment/vllm");
	assert_string_equal(json_string_value(json_object_get(msg, "severity")), "high");
	assert_int_equal(json_integer_value(json_object_get(msg, "baseline_snapshot")), f->snap_a);
	assert_int_equal(json_integer_value(json_object_get(msg, "snapshot")), f->snap_b);
	assert_true(json_array_size(json_object_get(msg, "changes")) >= 2);
	assert_string_equal(json_string_value(json_object_get(msg, "link")),
	    "https://skewd.example.com/api/v1/targets/prod/llm/deployment/vllm");
	json_decref(msg);
	assert_no_secrets(&r);

	assert_int_equal(store_webhook_get(f->st, "ops", &w, &e), 0);
	assert_int_equal(w.attempts, 3);
	assert_int_equal(w.deliveries, 1);
	assert_int_equal(w.failures, 0);
	assert_int_equal(w.last_status, 200);
	assert_string_equal(w.last_error, "");
	assert_null(strstr(w.url_display, URL_TOKEN));
	assert_null(strstr(w.url_display, "/hooks"));
	store_webhook_release(&w);

	/* The same drift again: claimed already, nothing is sent. */
	assert_int_equal(notify_check(n, f->target, f->snap_a, f->snap_b, &delivered, &e), 0);
	assert_int_equal(delivered, 0);
	assert_int_equal(r.nreqs, 3);
	notify_free(n);
	receiver_stop(&r);
}

static void
test_gives_up_and_records(void **state)
{
	static const int always500[] = { 500, 500, 500, 500, 500, 500 };
	static const int not_found[] = { 404 };
	struct fx *f = *state;
	struct receiver r1, r2;
	struct notify *n;
	struct store_webhook w;
	struct err e = ERR_INIT;
	int delivered = -1;

	receiver_start(&r1, always500, 6);
	receiver_start(&r2, not_found, 1);
	add_hook(f, "down", r1.port, "json", "high", NULL);
	add_hook(f, "gone", r2.port, "json", "medium", NULL);
	n = new_notify(f);
	assert_int_equal(notify_check(n, f->target, f->snap_a, f->snap_b, &delivered, &e), 0);
	assert_int_equal(delivered, 0);
	/* 5xx: every try is used; 404: no retry. */
	assert_int_equal(r1.nreqs, 4);
	assert_int_equal(r2.nreqs, 1);
	assert_int_equal(store_webhook_get(f->st, "down", &w, &e), 0);
	assert_int_equal(w.attempts, 4);
	assert_int_equal(w.failures, 1);
	assert_int_equal(w.deliveries, 0);
	assert_int_equal(w.last_status, 500);
	assert_string_equal(w.last_error, "the receiver answered HTTP 500");
	store_webhook_release(&w);
	assert_int_equal(store_webhook_get(f->st, "gone", &w, &e), 0);
	assert_int_equal(w.attempts, 1);
	assert_int_equal(w.failures, 1);
	assert_string_equal(w.last_error, "the receiver answered HTTP 404");
	store_webhook_release(&w);
	notify_free(n);
	receiver_stop(&r1);
	receiver_stop(&r2);

	/* Nobody listens: the error says so without the URL. */
	{
		struct receiver r3;
		int port;

		receiver_start(&r3, not_found, 0);
		port = r3.port;
		receiver_stop(&r3);
		add_hook(f, "nobody", port, "json", "high", NULL);
		n = new_notify(f);
		assert_int_equal(notify_check(n, f->target, f->snap_b, f->snap_a, &delivered, &e), 0);
		assert_int_equal(store_webhook_get(f->st, "nobody", &w, &e), 0);
		assert_int_equal(w.last_status, 0);
		assert_int_equal(w.attempts, 4);
		assert_non_null(strstr(w.last_error, "no answer from the receiver"));
		assert_null(strstr(w.last_error, URL_TOKEN));
		assert_null(strstr(w.last_error, "127.0.0.1"));
		store_webhook_release(&w);
		notify_free(n);
	}
}

static void
test_slack_threshold_signature(void **state)
{
	struct fx *f = *state;
	struct receiver r;
	struct notify *n;
	struct err e = ERR_INIT;
	json_t *msg, *blocks;
	int delivered = -1;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1], want[256];

	receiver_start(&r, NULL, 0);
	add_hook(f, "slack", r.port, "slack", "high", "s3cr3t-signing-key");
	add_hook(f, "critical-only", r.port, "json", "critical", NULL);
	n = new_notify(f);
	assert_int_equal(notify_check(n, f->target, f->snap_a, f->snap_b, &delivered, &e), 0);
	/* Only the Slack hook: the highest change is high, not critical. */
	assert_int_equal(delivered, 1);
	assert_int_equal(r.nreqs, 1);
	msg = json_loads(r.bodies[0], 0, NULL);
	assert_non_null(msg);
	assert_non_null(strstr(json_string_value(json_object_get(msg, "text")), "prod/llm/deployment/vllm"));
	blocks = json_object_get(msg, "blocks");
	assert_int_equal(json_array_size(blocks), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")), "header");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"),
	    "type")), "mrkdwn");
	assert_true(strlen(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"),
	    "text"))) <= 3000);
	json_decref(msg);
	/* The signature is HMAC-SHA256 of the exact body under the secret. */
	assert_non_null(HMAC(EVP_sha256(), "s3cr3t-signing-key", 18, (const unsigned char *)r.bodies[0],
	    strlen(r.bodies[0]), mac, &maclen));
	for (i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(want, sizeof(want), "X-Skewd-Signature: sha256=%s", hex);
	assert_non_null(strstr(r.heads[0], want));
	assert_null(strstr(r.heads[0], "s3cr3t-signing-key"));
	assert_no_secrets(&r);
	notify_free(n);
	receiver_stop(&r);
}

/* The path the collector takes: a changed snapshot is queued, the worker finds
 * the baseline and delivers. Without a baseline nothing is sent. */
static void
test_queue_and_baseline(void **state)
{
	struct fx *f = *state;
	struct receiver r;
	struct notify *n;
	struct err e = ERR_INIT;

	receiver_start(&r, NULL, 0);
	add_hook(f, "ops", r.port, "json", "info", NULL);
	n = new_notify(f);
	assert_int_equal(notify_start(n, &e), 0);
	notify_snapshot_changed(n, f->target, f->snap_b);
	assert_int_equal(notify_drain(n, 10000), 0);
	assert_int_equal(r.nreqs, 0);
	assert_int_equal(store_baseline_set(f->st, f->target, f->snap_a, "test", "known good", "snapshot", 150,
	    NULL, &e), 0);
	notify_snapshot_changed(n, f->target, f->snap_b);
	assert_int_equal(notify_drain(n, 10000), 0);
	assert_int_equal(r.nreqs, 1);
	/* The same change reported twice is one message. */
	notify_snapshot_changed(n, f->target, f->snap_b);
	assert_int_equal(notify_drain(n, 10000), 0);
	assert_int_equal(r.nreqs, 1);
	notify_free(n);
	notify_snapshot_changed(NULL, 1, 2);
	receiver_stop(&r);
}

static void
test_url_check(void **state)
{
	struct err e = ERR_INIT;
	char d[256];

	(void)state;
	assert_int_equal(notify_url_check("https://hooks.slack.com/services/T0/B0/" URL_TOKEN, 0, d, sizeof(d), &e), 0);
	assert_string_equal(d, "https://hooks.slack.com");
	assert_int_equal(notify_url_check("HTTPS://Hooks.Example.com:8443/x?token=" URL_TOKEN, 0, d, sizeof(d), &e), 0);
	assert_string_equal(d, "https://hooks.example.com:8443");
	assert_int_equal(notify_url_check("http://127.0.0.1:9/" URL_TOKEN, 0, d, sizeof(d), &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(strstr(e.msg, URL_TOKEN));
	assert_int_equal(notify_url_check("http://127.0.0.1:9/" URL_TOKEN, 1, d, sizeof(d), &e), 0);
	assert_int_equal(notify_url_check("https://user:" URL_TOKEN "@example.com/", 0, d, sizeof(d), &e), -1);
	assert_null(strstr(e.msg, URL_TOKEN));
	assert_int_equal(notify_url_check("ftp://example.com/", 0, d, sizeof(d), &e), -1);
	assert_int_equal(notify_url_check("https:///nohost", 0, d, sizeof(d), &e), -1);
	assert_int_equal(notify_url_check("https://exa mple.com/", 0, d, sizeof(d), &e), -1);
	assert_int_equal(notify_url_check("", 0, d, sizeof(d), &e), -1);
	assert_int_equal(notify_url_check(NULL, 0, d, sizeof(d), &e), -1);
	assert_int_equal(notify_severity_rank("critical"), 4);
	assert_int_equal(notify_severity_rank("info"), 0);
	assert_int_equal(notify_severity_rank("urgent"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fails_twice_then_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gives_up_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slack_threshold_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_baseline, setup, teardown),
		cmocka_unit_test(test_url_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
