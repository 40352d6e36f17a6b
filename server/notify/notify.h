/*
 * notify.h - webhooks: telling people about new drift.
 *
 * When the collector records a snapshot whose content changed, it calls
 * notify_snapshot_changed(). A worker thread takes the change from a bounded
 * queue, diffs the target's baseline (last good, store_baseline_get(); a target
 * without one is skipped) against the new snapshot and,
 * when some change is at or above a webhook's min_severity, POSTs a message to
 * that webhook: skewd's JSON (`skewd.notify/v1`) or Slack's format. Each
 * webhook gets a drift at most once: the drift key (target, baseline snapshot,
 * new snapshot, highest severity) is claimed in the store before sending.
 * Failed tries (no answer, 5xx, 429) are retried NOTIFY_MAX_ATTEMPTS times with
 * exponential backoff and jitter; every try is recorded on the webhook (status,
 * a sentence, counts), never the URL. The message text goes through the bundle
 * redaction, so no secret value leaves in it.
 *
 * The sender is a small libcurl client of its own: POST only, no redirects,
 * https only (http only with allow_http, for tests on loopback), connect and
 * total timeouts, the answer capped at NOTIFY_MAX_ANSWER_BYTES, no proxy from
 * the environment.
 *
 * Thread-safety: notify_snapshot_changed() may be called from any thread; the
 * other functions from the owner's thread.
 */
#ifndef SKEWD_NOTIFY_NOTIFY_H
#define SKEWD_NOTIFY_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct err;
struct seal;
struct store;
struct notify;

struct notify_options {
	int allow_http;              /* http:// webhook URLs accepted */
	long timeout_ms;             /* one try; 0 = NOTIFY_TIMEOUT_MS */
	int max_attempts;            /* 0 = NOTIFY_MAX_ATTEMPTS */
	long backoff_base_ms;        /* first retry delay; 0 = NOTIFY_BACKOFF_BASE_MS */
	const char *public_url;      /* base of links in messages; may be NULL (copied) */
};

/* `st` and `seal` are borrowed and must outlive the notifier. */
int notify_new(struct store *st, const struct seal *seal, const struct notify_options *o,
    struct notify **out, struct err *e);
/* Starts the worker thread. */
int notify_start(struct notify *n, struct err *e);
/* Stops the worker (a delivery in its backoff wait ends at once), frees. NULL-safe. */
void notify_free(struct notify *n);

/* Queues a changed snapshot for the drift check; never blocks. A full queue
 * drops the change with a warning. NULL-safe (n NULL: nothing). */
void notify_snapshot_changed(struct notify *n, int64_t target_id, int64_t snapshot_id);
/* Waits until the queue is empty and the worker idle, at most timeout_ms.
 * Returns 0, or -1 on timeout. For tests and an orderly stop. */
int notify_drain(struct notify *n, long timeout_ms);

/*
 * The drift check and the deliveries, on the calling thread: diffs snapshot
 * `baseline_id` against `snapshot_id` of `target_id` and delivers to every
 * webhook whose min_severity the highest change reaches. *delivered (may be
 * NULL) gets the number of webhooks that accepted the message. Returns 0, or
 * -1 with e set when the check itself failed (a delivery failure is recorded
 * on the webhook, not returned).
 */
int notify_check(struct notify *n, int64_t target_id, int64_t baseline_id, int64_t snapshot_id,
    int *delivered, struct err *e);

/* Checks a webhook URL: http(s), a host, no user info, at most WEBHOOK_MAX_URL;
 * http only when allow_http. Writes "scheme://host[:port]" into display. Returns
 * 0, or -1 with ERR_INVALID (the message never quotes the URL). */
int notify_url_check(const char *url, int allow_http, char *display, size_t displaysz, struct err *e);

/* 0..4 for "info".."critical"; -1 when unknown. */
int notify_severity_rank(const char *s);

/* The message for a drift: `diff` is a skewd.diff/v1 document (borrowed);
 * format "json" or "slack". New reference, or NULL with e set. */
json_t *notify_message(const char *format, const char *target, int64_t baseline_id, int64_t snapshot_id,
    const char *severity, const json_t *diff, const char *public_url, struct err *e);

#endif
