/*
 * notify.c - the webhook worker: a bounded queue of changed snapshots, the
 * drift check against the baseline, and deliveries with retries (notify.h).
 */
#include "notify/notify.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bundle/bundle.h"
#include "diff/diff.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

struct notify_item {
	int64_t target_id;
	int64_t snapshot_id;
};

struct notify {
	struct store *st;
	const struct seal *seal;
	struct notify_options o;
	char *public_url;
	struct diff_rules *rules;

	pthread_mutex_t mu;
	pthread_cond_t cv;           /* the queue changed, or stop */
	pthread_cond_t idle_cv;      /* the worker went idle */
	pthread_t thread;
	int started;
	int stop;
	int busy;
	struct notify_item q[NOTIFY_QUEUE_MAX];
	size_t head, count;
};

static const char *const severities[] = { "info", "low", "medium", "high", "critical" };

int
notify_severity_rank(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(severities) / sizeof(severities[0]); i++) {
		if (strcmp(s, severities[i]) == 0)
			return (int)i;
	}
	return -1;
}

int
notify_url_check(const char *url, int allow_http, char *display, size_t displaysz, struct err *e)
{
	const char *host, *end, *at;
	size_t slen, hlen;

	if (url == NULL || url[0] == '\0')
		return err_set(e, ERR_INVALID, "a webhook needs a url");
	if (strlen(url) > WEBHOOK_MAX_URL)
		return err_set(e, ERR_INVALID, "the webhook url is longer than %d characters", WEBHOOK_MAX_URL);
	if (strncasecmp(url, "https://", 8) == 0) {
		slen = 5;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		if (!allow_http)
			return err_set(e, ERR_INVALID,
			    "the webhook url must use https (http is allowed only when the config allows it)");
		slen = 4;
	} else {
		return err_set(e, ERR_INVALID, "the webhook url must start with https://");
	}
	for (host = url; *host != '\0'; host++) {
		if ((unsigned char)*host <= 0x20 || (unsigned char)*host == 0x7f)
			return err_set(e, ERR_INVALID, "the webhook url holds a space or a control character");
	}
	host = url + slen + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at != NULL)
		return err_set(e, ERR_INVALID,
		    "the webhook url may not hold a user name or password; put a token in the path or use a secret");
	hlen = (size_t)(end - host);
	if (hlen == 0 || host[0] == ':')
		return err_set(e, ERR_INVALID, "the webhook url has no host");
	if (hlen > STORE_MAX_URL_DISPLAY - 16)
		return err_set(e, ERR_INVALID, "the webhook url's host is too long");
	if (display != NULL)
		snprintf(display, displaysz, "%.*s://%.*s", (int)slen, url, (int)hlen, host);
	if (display != NULL) {
		char *p;

		for (p = display; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
	}
	return 0;
}

/* The longest prefix of s (len bytes) of at most max bytes that does not cut
 * a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Appends one change line of the Slack text, within Slack's section limit. */
static void
slack_line(struct buf *b, const json_t *c)
{
	const char *cat = json_string_value(json_object_get(c, "category"));
	const char *sev = json_string_value(json_object_get(c, "severity"));
	const char *sum = json_string_value(json_object_get(c, "summary"));
	struct err e = ERR_INIT;

	if (sum == NULL)
		sum = "changed";
	buf_addf(b, &e, "\xe2\x80\xa2 *%s* (%s): %.*s\n", cat != NULL ? cat : "other",
	    sev != NULL ? sev : "info", (int)utf8_cut(sum, strlen(sum), 300), sum);
}

json_t *
notify_message(const char *format, const char *target, int64_t baseline_id, int64_t snapshot_id,
    const char *severity, const json_t *diff, const char *public_url, struct err *e)
{
	const json_t *changes = json_object_get(diff, "changes");
	json_t *top = NULL, *out = NULL, *counts;
	char link[512] = "";
	size_t i, n = json_array_size(changes), shown;
	struct buf text = BUF_INIT(4096);

	shown = n < NOTIFY_MAX_CHANGES ? n : NOTIFY_MAX_CHANGES;
	if (public_url != NULL && public_url[0] != '\0')
		snprintf(link, sizeof(link), "%s/api/v1/targets/%s", public_url, target);
	if ((top = json_array()) == NULL)
		goto oom;
	for (i = 0; i < shown; i++) {
		const json_t *c = json_array_get(changes, i);
		json_t *o = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}",
		    "category", json_object_get(c, "category"),
		    "severity", json_object_get(c, "severity"),
		    "object", json_object_get(c, "object"),
		    "path", json_object_get(c, "path"),
		    "summary", json_object_get(c, "summary"));

		if (json_array_append_new(top, o) < 0)
			goto oom;
	}
	if (strcmp(format, "slack") == 0) {
		char head[160];

		snprintf(head, sizeof(head), "Drift on %.100s (%s)", target, severity);
		for (i = 0; i < shown; i++)
			slack_line(&text, json_array_get(changes, i));
		if (n > shown)
			buf_addf(&text, e, "_and %zu more_\n", n - shown);
		if (link[0] != '\0')
			buf_addf(&text, e, "<%.400s|details>\n", link);
		if (buf_len(&text) == 0)
			buf_addstr(&text, "no changes listed", e);
		/* Slack: a header's text is at most 150 characters, a section's 3000. */
		out = json_pack("{s:s, s:[{s:s, s:{s:s, s:s%}}, {s:s, s:{s:s, s:s%}}]}",
		    "text", head,
		    "blocks",
		    "type", "header", "text", "type", "plain_text", "text", head,
		    utf8_cut(head, strlen(head), 150),
		    "type", "section", "text", "type", "mrkdwn", "text", buf_str(&text),
		    utf8_cut(buf_str(&text), buf_len(&text), 2900));
		json_decref(top);
		top = NULL;
	} else {
		counts = json_object_get(json_object_get(diff, "summary"), "by_severity");
		out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:O?, s:o, s:I, s:s?}",
		    "schema", "skewd.notify/v1",
		    "event", "drift",
		    "target", target,
		    "baseline_snapshot", (json_int_t)baseline_id,
		    "snapshot", (json_int_t)snapshot_id,
		    "severity", severity,
		    "changes_total", (json_int_t)n,
		    "by_severity", counts,
		    "changes", top,
		    "more", (json_int_t)(n - shown),
		    "link", link[0] != '\0' ? link : NULL);
		top = NULL;
	}
	buf_release(&text);
	if (out == NULL)
		err_set(e, ERR_NOMEM, "out of memory building a webhook message");
	return out;
oom:
	json_decref(top);
	buf_release(&text);
	err_set(e, ERR_NOMEM, "out of memory building a webhook message");
	return NULL;
}

struct answer {
	size_t bytes;
};

static size_t
answer_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;

	(void)p;
	if (a->bytes + n > NOTIFY_MAX_ANSWER_BYTES)
		return 0;
	a->bytes += n;
	return n;
}

/* One POST. Returns the HTTP status (0 without an answer); err gets a sentence on failure. */
static int
post_once(const struct notify *n, const char *url, const char *body, size_t len, const char *secret,
    const char *delivery, char *err, size_t errsz)
{
	struct curl_slist *hdrs = NULL;
	struct answer a = { 0 };
	char line[STORE_MAX_DRIFT_KEY + 64];
	long code = 0;
	CURLcode rc;
	CURL *h;

	err[0] = '\0';
	if ((h = curl_easy_init()) == NULL) {
		snprintf(err, errsz, "the HTTP client could not start");
		return 0;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "User-Agent: skewd-notify/1");
	hdrs = curl_slist_append(hdrs, "Expect:");
	snprintf(line, sizeof(line), "X-Skewd-Delivery: %s", delivery);
	hdrs = curl_slist_append(hdrs, line);
	if (secret != NULL && secret[0] != '\0') {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;
		size_t i, o;

		if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
		    &maclen) != NULL) {
			o = (size_t)snprintf(line, sizeof(line), "X-Skewd-Signature: sha256=");
			for (i = 0; i < maclen && o + 3 < sizeof(line); i++)
				o += (size_t)snprintf(line + o, sizeof(line) - o, "%02x", mac[i]);
			hdrs = curl_slist_append(hdrs, line);
		}
		OPENSSL_cleanse(mac, sizeof(mac));
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, n->o.allow_http ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, n->o.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    n->o.timeout_ms < NOTIFY_CONNECT_TIMEOUT_MS ? n->o.timeout_ms : (long)NOTIFY_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code > 0)) {
		/* curl_easy_strerror() names the kind of failure, never the URL. */
		snprintf(err, errsz, "no answer from the receiver: %s", curl_easy_strerror(rc));
		code = 0;
	} else if (code < 200 || code > 299) {
		snprintf(err, errsz, "the receiver answered HTTP %ld", code);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return (int)code;
}

/* Waits ms milliseconds unless stop is asked; returns 1 when stopping. */
static int
wait_ms(struct notify *n, long ms)
{
	struct timespec ts;
	int stopping;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
			break;
	}
	stopping = n->stop;
	pthread_mutex_unlock(&n->mu);
	return stopping;
}

/* The delay before try `attempt` (2, 3, ...): base * 2^(attempt-2), capped,
 * plus up to half of it as jitter. */
static long
backoff_ms(const struct notify *n, int attempt)
{
	long d = n->o.backoff_base_ms;
	uint32_t r = 0;
	int i;

	for (i = 2; i < attempt && d < NOTIFY_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > NOTIFY_BACKOFF_MAX_MS)
		d = NOTIFY_BACKOFF_MAX_MS;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)time(NULL);
	return d + (d > 1 ? (long)(r % (uint32_t)(d / 2 + 1)) : 0);
}

/* Delivers one message to one webhook with retries; every try is recorded.
 * Returns 1 when delivered. */
static int
deliver(struct notify *n, const struct store_webhook *w, const char *key, const char *body, size_t len)
{
	char aad[STORE_MAX_NAME + 32], errmsg[STORE_MAX_WEBHOOK_ERROR];
	char *url = NULL, *secret = NULL;
	size_t ulen = 0, slen = 0;
	struct err e = ERR_INIT;
	int attempt, status, ok = 0, final;

	snprintf(aad, sizeof(aad), "webhook:%s:url", w->name);
	if (seal_unlock(n->seal, aad, w->sealed_url, w->sealed_url_len, &url, &ulen, &e) < 0) {
		log_warn("notify: webhook '%s': its url does not open with this install's key", w->name);
		store_webhook_attempt(n->st, w->id, key, 0, 0,
		    "the stored url does not open with this install's seal key", 1, &e);
		return 0;
	}
	if (w->sealed_secret != NULL) {
		snprintf(aad, sizeof(aad), "webhook:%s:secret", w->name);
		if (seal_unlock(n->seal, aad, w->sealed_secret, w->sealed_secret_len, &secret, &slen, &e) < 0)
			secret = NULL;
	}
	for (attempt = 1; attempt <= n->o.max_attempts; attempt++) {
		if (attempt > 1 && wait_ms(n, backoff_ms(n, attempt)))
			break;
		status = post_once(n, url, body, len, secret, key, errmsg, sizeof(errmsg));
		ok = status >= 200 && status <= 299;
		/* A 4xx other than 408 and 429 will not get better by trying again. */
		final = ok || attempt == n->o.max_attempts ||
		    (status >= 400 && status <= 499 && status != 408 && status != 429);
		if (store_webhook_attempt(n->st, w->id, key, ok, status, ok ? NULL : errmsg, final, &e) < 0)
			log_warn("notify: webhook '%s': %s", w->name, e.msg);
		if (ok) {
			log_info("notify: webhook '%s' delivered %s (try %d)", w->name, key, attempt);
			break;
		}
		log_warn("notify: webhook '%s' try %d of %d: %s", w->name, attempt, n->o.max_attempts, errmsg);
		if (final)
			break;
	}
	if (url != NULL) {
		OPENSSL_cleanse(url, ulen);
		free(url);
	}
	if (secret != NULL) {
		OPENSSL_cleanse(secret, slen);
		free(secret);
	}
	return ok;
}

/* The skewd.diff/v1 document of baseline -> snapshot, redacted. */
static int
drift_diff(struct notify *n, int64_t baseline_id, int64_t snapshot_id, json_t **out, struct err *e)
{
	char *a = NULL, *b = NULL, label_a[32], label_b[32];
	json_t *ja = NULL, *jb = NULL, *raw = NULL;
	struct diff_side *sa = NULL, *sb = NULL;
	struct diff_result *res = NULL;
	struct redact *r = NULL;
	json_error_t jerr;
	int ret = -1;

	if (store_snapshot_get(n->st, baseline_id, NULL, &a, e) < 0 ||
	    store_snapshot_get(n->st, snapshot_id, NULL, &b, e) < 0)
		goto out;
	ja = json_loads(a, 0, &jerr);
	jb = json_loads(b, 0, &jerr);
	if (ja == NULL || jb == NULL) {
		err_set(e, ERR_INTERNAL, "a stored snapshot is not valid JSON");
		goto out;
	}
	snprintf(label_a, sizeof(label_a), "%" PRId64, baseline_id);
	snprintf(label_b, sizeof(label_b), "%" PRId64, snapshot_id);
	if (diff_side_from_values(&ja, 1, label_a, &sa, e) < 0 ||
	    diff_side_from_values(&jb, 1, label_b, &sb, e) < 0 ||
	    diff_run(n->rules, sa, sb, &res, e) < 0)
		goto out;
	if ((raw = diff_result_to_json(res)) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory diffing for a webhook");
		goto out;
	}
	if (redact_new(&r, e) < 0 || redact_json(r, raw, "diff.json", out, e) < 0)
		goto out;
	ret = 0;
out:
	redact_free(r);
	json_decref(raw);
	diff_result_free(res);
	diff_side_free(sa);
	diff_side_free(sb);
	json_decref(ja);
	json_decref(jb);
	free(a);
	free(b);
	return ret;
}

int
notify_check(struct notify *n, int64_t target_id, int64_t baseline_id, int64_t snapshot_id,
    int *delivered, struct err *e)
{
	struct store_webhook *hooks = NULL;
	struct store_target t;
	json_t *diff = NULL, *msgs[2] = { NULL, NULL };
	char target[STORE_MAX_TARGET_REF + 1], key[STORE_MAX_DRIFT_KEY + 1];
	const char *top = NULL;
	size_t nh = 0, i;
	int rank = -1, ret = -1, count = 0;

	if (delivered != NULL)
		*delivered = 0;
	if (baseline_id == snapshot_id)
		return 0;
	if (store_webhook_list(n->st, &hooks, &nh, e) < 0)
		goto out;
	if (nh == 0) {
		ret = 0;
		goto out;
	}
	if (store_target_get_by_id(n->st, target_id, &t, e) < 0)
		goto out;
	snprintf(target, sizeof(target), "%s/%s/%s/%s", t.cluster, t.ns, t.kind, t.name);
	if (drift_diff(n, baseline_id, snapshot_id, &diff, e) < 0)
		goto out;
	for (i = 0; i < json_array_size(json_object_get(diff, "changes")); i++) {
		const char *s = json_string_value(json_object_get(json_array_get(json_object_get(diff,
		    "changes"), i), "severity"));
		int r = notify_severity_rank(s);

		if (r > rank) {
			rank = r;
			top = s;
		}
	}
	if (rank < 0) {
		ret = 0;
		goto out;
	}
	snprintf(key, sizeof(key), "target:%" PRId64 ":baseline:%" PRId64 ":snapshot:%" PRId64 ":%s",
	    target_id, baseline_id, snapshot_id, top);
	for (i = 0; i < nh; i++) {
		int claimed = 0, fi = strcmp(hooks[i].format, "slack") == 0;
		char *body;

		if (rank < notify_severity_rank(hooks[i].min_severity))
			continue;
		if (store_webhook_claim(n->st, hooks[i].id, key, &claimed, e) < 0)
			goto out;
		if (!claimed)
			continue;
		if (msgs[fi] == NULL && (msgs[fi] = notify_message(hooks[i].format, target, baseline_id,
		    snapshot_id, top, diff, n->public_url, e)) == NULL)
			goto out;
		if ((body = json_dumps(msgs[fi], JSON_COMPACT)) == NULL) {
			err_set(e, ERR_NOMEM, "out of memory encoding a webhook message");
			goto out;
		}
		count += deliver(n, &hooks[i], key, body, strlen(body));
		free(body);
	}
	if (delivered != NULL)
		*delivered = count;
	ret = 0;
out:
	json_decref(msgs[0]);
	json_decref(msgs[1]);
	json_decref(diff);
	store_webhooks_free(hooks, nh);
	return ret;
}

static void
handle(struct notify *n, const struct notify_item *it)
{
	struct store_baseline b;
	struct err e = ERR_INIT;

	if (store_baseline_get(n->st, it->target_id, &b, &e) < 0) {
		if (e.code != ERR_NOT_FOUND)
			log_warn("notify: target %" PRId64 ": %s", it->target_id, e.msg);
		return;
	}
	if (notify_check(n, it->target_id, b.snapshot_id, it->snapshot_id, NULL, &e) < 0)
		log_warn("notify: target %" PRId64 ": %s", it->target_id, e.msg);
}

static void *
worker(void *arg)
{
	struct notify *n = arg;
	struct notify_item it;

	pthread_mutex_lock(&n->mu);
	for (;;) {
		while (!n->stop && n->count == 0) {
			n->busy = 0;
			pthread_cond_broadcast(&n->idle_cv);
			pthread_cond_wait(&n->cv, &n->mu);
		}
		if (n->stop)
			break;
		it = n->q[n->head];
		n->head = (n->head + 1) % NOTIFY_QUEUE_MAX;
		n->count--;
		n->busy = 1;
		pthread_mutex_unlock(&n->mu);
		handle(n, &it);
		pthread_mutex_lock(&n->mu);
	}
	n->busy = 0;
	pthread_cond_broadcast(&n->idle_cv);
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

int
notify_new(struct store *st, const struct seal *seal, const struct notify_options *o,
    struct notify **out, struct err *e)
{
	struct notify *n;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory starting notifications");
	n->st = st;
	n->seal = seal;
	if (o != NULL)
		n->o = *o;
	if (n->o.timeout_ms <= 0)
		n->o.timeout_ms = NOTIFY_TIMEOUT_MS;
	if (n->o.max_attempts <= 0)
		n->o.max_attempts = NOTIFY_MAX_ATTEMPTS;
	if (n->o.backoff_base_ms <= 0)
		n->o.backoff_base_ms = NOTIFY_BACKOFF_BASE_MS;
	n->o.public_url = NULL;
	if (o != NULL && o->public_url != NULL && (n->public_url = strdup(o->public_url)) == NULL) {
		free(n);
		return err_set(e, ERR_NOMEM, "out of memory starting notifications");
	}
	if (diff_rules_load(NULL, &n->rules, e) < 0) {
		free(n->public_url);
		free(n);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		diff_rules_free(n->rules);
		free(n->public_url);
		free(n);
		return err_set(e, ERR_INTERNAL, "the HTTP client library could not start");
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_cond_init(&n->cv, NULL);
	pthread_cond_init(&n->idle_cv, NULL);
	*out = n;
	return 0;
}

int
notify_start(struct notify *n, struct err *e)
{
	int rc;

	if (n->started)
		return 0;
	rc = pthread_create(&n->thread, NULL, worker, n);
	if (rc != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the notification thread: %s", strerror(rc));
	n->started = 1;
	return 0;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->mu);
		n->stop = 1;
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
		pthread_join(n->thread, NULL);
	}
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
	pthread_cond_destroy(&n->idle_cv);
	diff_rules_free(n->rules);
	curl_global_cleanup();
	free(n->public_url);
	free(n);
}

void
notify_snapshot_changed(struct notify *n, int64_t target_id, int64_t snapshot_id)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	if (n->count == NOTIFY_QUEUE_MAX) {
		pthread_mutex_unlock(&n->mu);
		log_warn("notify: the queue is full; snapshot %" PRId64 " is not checked for drift", snapshot_id);
		return;
	}
	n->q[(n->head + n->count) % NOTIFY_QUEUE_MAX] = (struct notify_item){ target_id, snapshot_id };
	n->count++;
	n->busy = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

int
notify_drain(struct notify *n, long timeout_ms)
{
	struct timespec ts;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while ((n->count > 0 || n->busy) && n->started && !n->stop) {
		if (pthread_cond_timedwait(&n->idle_cv, &n->mu, &ts) == ETIMEDOUT) {
			ret = -1;
			break;
		}
	}
	pthread_mutex_unlock(&n->mu);
	return ret;
}
