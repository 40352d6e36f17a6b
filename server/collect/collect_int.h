/*
 * collect_int.h - what the files of the collector share.
 *
 * build.c turns a raw pull into the configuration and evidence documents
 * (pure); pull.c reads a cluster through kube.h into a raw pull; collect.c
 * owns the collector, the store calls and the scheduler.
 */
#ifndef SKEWD_COLLECT_COLLECT_INT_H
#define SKEWD_COLLECT_COLLECT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct err;

/* Member string of an object, or NULL. */
const char *collect_str(const json_t *o, const char *key);

/* 1 when the labels match a LabelSelector ({matchLabels, matchExpressions}).
 * An empty or missing selector matches nothing when `empty_matches` is 0. */
int collect_selector_match(const json_t *selector, const json_t *labels, int empty_matches);

/* The selector as a labelSelector query value ("app=x,tier in (a,b)") into out.
 * Returns 0, or -1 with e set when it does not fit or cannot be expressed. */
int collect_selector_string(const json_t *selector, char *out, size_t outsz, struct err *e);

/* The names of the ConfigMaps and Secrets a pod spec references, added as keys of
 * the two objects (values null). */
void collect_pod_refs(const json_t *podspec, json_t *configmaps, json_t *secrets);

struct store;

/* Auto-promotion after a pull of target `target_id` recorded snapshot
 * `snapshot_id` at `now` (promote.c; the rules are in docs/api.md). Never
 * fails a pull: problems are logged. `verdict` may be NULL (see
 * collect_options.promote_verdict). */
void collect_promote_maybe(struct store *st, int after_s,
    int (*verdict)(void *, int64_t, int64_t, char *, size_t, struct err *), void *verdict_arg,
    int64_t target_id, int64_t snapshot_id, int64_t now);

/* 1 when a log line is worth keeping (model, tokenizer, revision, commit, sha, hf). */
int collect_log_line_wanted(const char *line, size_t len);

#endif
