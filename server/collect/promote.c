/*
 * promote.c - auto-promotion: after a pull, a target's latest snapshot that
 * has stayed unchanged and healthy for `auto_promote_after_s` becomes its
 * baseline ("last good"), recorded as set by COLLECT_AUTO_PROMOTION with a
 * note saying why. The rules (docs/api.md, "Auto-promotion"):
 *
 *   1. the snapshot is not the baseline already, nor the same content;
 *   2. it was first seen at least the window ago (a pull that finds other
 *      content records a new snapshot, which restarts the clock);
 *   3. its evidence from the anchor (the newest row at or before the window's
 *      start) to this pull is healthy (collect_promote_healthy());
 *   4. the verdict of the baseline against it is no regression (not
 *      skew_likely, not capacity_likely), when there is a baseline;
 *   5. no newer human decision: the baseline's snapshot is not newer than
 *      this one, and a baseline a person set (or imported) at or after this
 *      snapshot was first seen stays.
 */
#include "collect/collect.h"
#include "collect/collect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

static const json_t *
member(const json_t *o, const char *k)
{
	return json_object_get(o, k);
}

static long long
int_or_zero(const json_t *v)
{
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The pod of `row` named `name`, or NULL. */
static const json_t *
pod_named(const json_t *row, const char *name)
{
	const json_t *p;
	size_t i;

	json_array_foreach(member(row, "pods"), i, p) {
		const char *pn = json_string_value(member(p, "name"));

		if (pn != NULL && strcmp(pn, name) == 0)
			return p;
	}
	return NULL;
}

int
collect_promote_healthy(const json_t *const *rows, size_t n, char *why, size_t whysz, struct err *e)
{
	const json_t *anchor, *row, *p, *c;
	long long replicas = 0, ready = 0;
	size_t i, j, k;

	if (n == 0) {
		snprintf(why, whysz, "no evidence in the window");
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!json_is_object(rows[i]) ||
		    json_string_value(member(rows[i], "schema")) == NULL ||
		    strcmp(json_string_value(member(rows[i], "schema")), "skewd.evidence/v1") != 0)
			return err_set(e, ERR_INVALID, "evidence row %zu is not a skewd.evidence/v1 document", i);
	}
	anchor = rows[0];
	for (i = 0; i < n; i++) {
		const json_t *ws = member(rows[i], "workload_status");

		row = rows[i];
		replicas = int_or_zero(member(ws, "replicas"));
		ready = int_or_zero(member(ws, "readyReplicas"));
		if (replicas < 1) {
			snprintf(why, whysz, "the workload had no replicas");
			return 0;
		}
		if (ready != replicas) {
			snprintf(why, whysz, "%lld of %lld replicas were ready", ready, replicas);
			return 0;
		}
		json_array_foreach(member(row, "pods"), j, p) {
			const char *name = json_string_value(member(p, "name"));
			const char *phase = json_string_value(member(p, "phase"));
			const json_t *was;

			if (name == NULL)
				continue;
			if (phase == NULL || strcmp(phase, "Running") != 0) {
				snprintf(why, whysz, "pod %.200s was %.40s", name, phase != NULL ? phase : "in no phase");
				return 0;
			}
			json_array_foreach(member(p, "containers"), k, c) {
				if (!json_is_true(member(c, "ready"))) {
					snprintf(why, whysz, "container %.100s of pod %.200s was not ready",
					    json_string_value(member(c, "container")) != NULL ?
					    json_string_value(member(c, "container")) : "?", name);
					return 0;
				}
			}
			was = pod_named(anchor, name);
			if (was == NULL) {
				snprintf(why, whysz, "pod %.200s is new in the window (a pod was replaced)", name);
				return 0;
			}
			if (int_or_zero(member(p, "restarts")) > int_or_zero(member(was, "restarts"))) {
				snprintf(why, whysz, "pod %.200s restarted (%lld restarts, %lld at the window's start)",
				    name, int_or_zero(member(p, "restarts")), int_or_zero(member(was, "restarts")));
				return 0;
			}
		}
	}
	snprintf(why, whysz, "%lld/%lld replicas ready, no container restarts", ready, replicas);
	return 1;
}

static void
rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

/* "30m", "2h", "45s", "1d" for a window of seconds. */
static void
duration(int s, char out[24])
{
	if (s % 86400 == 0)
		snprintf(out, 24, "%dd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, 24, "%dh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, 24, "%dm", s / 60);
	else
		snprintf(out, 24, "%ds", s);
}

/*
 * Rule 3, streamed: reads the snapshot's evidence rows from the anchor (the
 * newest at or before `start`) to `now` a page at a time and checks each
 * against the anchor. Returns 1 (healthy; `why` from the last row), 0 (not;
 * `why` says why; also when there is no anchor yet), or -1 with e set.
 */
static int
window_healthy(struct store *st, int64_t target_id, int64_t snapshot_id, int64_t start, int64_t now,
    char *why, size_t whysz, struct err *e)
{
	struct store_evidence anchor, *rows = NULL;
	const json_t *pair[2];
	json_t *a = NULL, *doc;
	int64_t since, last_id = 0;
	size_t n = 0, i;
	int ret = -1, verdict = 1;

	memset(&anchor, 0, sizeof(anchor));
	if (store_evidence_before(st, target_id, snapshot_id, start, &anchor, e) < 0) {
		if (e->code != ERR_NOT_FOUND)
			return -1;
		snprintf(why, whysz, "no evidence at the window's start");
		return 0;
	}
	a = json_loads(anchor.json, 0, NULL);
	pair[0] = a;
	pair[1] = a;
	/* The anchor alone is judged too (a window with one pull). */
	if ((verdict = collect_promote_healthy(pair, 1, why, whysz, e)) != 1)
		goto done;
	since = anchor.taken_at;
	last_id = anchor.id;
	for (;;) {
		int64_t page_last_at = since;

		if (store_evidence_range(st, target_id, since, now, STORE_MAX_PAGE, &rows, &n, e) < 0) {
			verdict = -1;
			goto done;
		}
		for (i = 0; i < n; i++) {
			page_last_at = rows[i].taken_at;
			/* Rows of the same second as the page's start were seen already. */
			if (rows[i].snapshot_id != snapshot_id || (rows[i].taken_at == since && rows[i].id <= last_id))
				continue;
			last_id = rows[i].id;
			doc = json_loads(rows[i].json, 0, NULL);
			pair[1] = doc;
			verdict = collect_promote_healthy(pair, 2, why, whysz, e);
			json_decref(doc);
			if (verdict != 1)
				goto done;
		}
		store_evidence_free(rows, n);
		rows = NULL;
		if (n < STORE_MAX_PAGE)
			break;
		n = 0;
		/* Every row of a full page has one time: no progress is possible. */
		if (page_last_at == since) {
			snprintf(why, whysz, "more than %d evidence rows at one time", STORE_MAX_PAGE);
			verdict = 0;
			break;
		}
		since = page_last_at;
	}
done:
	ret = verdict;
	store_evidence_free(rows, n);
	json_decref(a);
	free(anchor.json);
	return ret;
}

void
collect_promote_maybe(struct store *st, int after_s,
    int (*verdict)(void *, int64_t, int64_t, char *, size_t, struct err *), void *verdict_arg,
    int64_t target_id, int64_t snapshot_id, int64_t now)
{
	struct store_snapshot latest, based;
	struct store_baseline bl;
	struct err e = ERR_INIT;
	char why[400], v[64] = "", note[STORE_MAX_BASELINE_NOTE + 1], since[32], win[24];
	int have_baseline = 0, healthy;

	if (after_s <= 0)
		return;
	if (store_snapshot_get(st, snapshot_id, &latest, NULL, &e) < 0)
		goto fail;
	/* 2: unchanged for the window (this pull's time is `now`). */
	if (latest.first_seen > now - after_s)
		return;
	if (store_baseline_get(st, target_id, &bl, &e) == 0) {
		have_baseline = 1;
		/* 1: not the baseline already, nor its content. */
		if (bl.snapshot_id == snapshot_id)
			return;
		if (store_snapshot_get(st, bl.snapshot_id, &based, NULL, &e) < 0)
			goto fail;
		if (strcmp(based.hash, latest.hash) == 0)
			return;
		/* 5: no newer human decision. */
		if (bl.snapshot_id > snapshot_id)
			return;
		if (strcmp(bl.source, "auto") != 0 && bl.set_at >= latest.first_seen)
			return;
	} else if (e.code != ERR_NOT_FOUND) {
		goto fail;
	}
	e = (struct err)ERR_INIT;
	/* 3: healthy through the window. */
	healthy = window_healthy(st, target_id, snapshot_id, now - after_s, now, why, sizeof(why), &e);
	if (healthy < 0)
		goto fail;
	if (!healthy) {
		log_debug("collect: not auto-promoting snapshot %lld: %s", (long long)snapshot_id, why);
		goto out;
	}
	/* 4: the verdict is not a regression. */
	if (have_baseline && verdict != NULL) {
		if (verdict(verdict_arg, bl.snapshot_id, snapshot_id, v, sizeof(v), &e) < 0)
			goto fail;
		if (strcmp(v, "skew_likely") == 0 || strcmp(v, "capacity_likely") == 0) {
			log_debug("collect: not auto-promoting snapshot %lld: the verdict is %s",
			    (long long)snapshot_id, v);
			goto out;
		}
	}
	rfc3339(latest.first_seen, since);
	duration(after_s, win);
	snprintf(note, sizeof(note), "unchanged and healthy for %s since %s: %s%s%s", win, since, why,
	    v[0] != '\0' ? "; verdict " : "", v);
	if (store_baseline_set(st, target_id, snapshot_id, COLLECT_AUTO_PROMOTION, note, "auto", now, NULL,
	    &e) < 0)
		goto fail;
	log_info("collect: snapshot %lld is the baseline of target %lld by auto-promotion: %s",
	    (long long)snapshot_id, (long long)target_id, note);
	goto out;
fail:
	log_warn("collect: auto-promotion of snapshot %lld: %s", (long long)snapshot_id, e.msg);
out:
	return;
}
