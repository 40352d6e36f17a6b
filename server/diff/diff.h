/*
 * diff.h - the semantic diff: last good vs now, every change classified.
 *
 * Input sides are sets of Kubernetes objects (from YAML/JSON documents, a
 * `kind: List`, or a skewd snapshot document). The diff normalises each side
 * (noise dropped and counted by rule, lists keyed by name, quantities and
 * ports normalised, engine args parsed into settings through engine.h), matches
 * objects by group/kind/namespace/name, compares, and classifies every change
 * with the rules in server/diff/rules.yaml (compiled in) plus a user's ignore
 * and severity-override file.
 *
 * The result's JSON form is the contract `skewd.diff/v1` (docs/diff.md), which
 * the renderers (render.h), the API and bundles consume.
 *
 * Thread-safety: rules are read-only after load and may be shared; sides and
 * results belong to one thread.
 */
#ifndef SKEWD_DIFF_DIFF_H
#define SKEWD_DIFF_DIFF_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct doc_set;
struct diff_rules;
struct diff_side;
struct diff_result;

/* Built-in rules plus, when `user_file` is not NULL, a user's ignore rules and
 * severity overrides (same format, docs/diff.md). Returns 0 or -1 with e set
 * ("FILE:LINE:COL: reason" for a bad file). */
int diff_rules_load(const char *user_file, struct diff_rules **out, struct err *e);
void diff_rules_free(struct diff_rules *r);

/* Builds a side from loaded documents. `label` names the side in output (a file
 * name, "baseline", a snapshot id). Takes d: its documents are normalised in place
 * (no copy) and d is freed, on error too; the caller must not use d afterwards. */
int diff_side_from_docs(struct doc_set *d, const char *label, struct diff_side **out,
    struct err *e);
void diff_side_free(struct diff_side *s);
/* Same from values already in memory (e.g. a stored snapshot document): `docs` are
 * borrowed and never modified (unchanged subtrees are shared, so they must stay
 * unmodified while the side lives); each may be an object, a `List`, or a
 * skewd.snapshot/v1 document. */
int diff_side_from_values(json_t *const *docs, size_t n, const char *label,
    struct diff_side **out, struct err *e);
/* The side's label as given; borrowed. */
const char *diff_side_label(const struct diff_side *s);
/* Number of objects compared by identity (pods and nodes are compared as groups). */
size_t diff_side_object_count(const struct diff_side *s);
/* The side after normalisation: an array of objects sorted by identity, noise
 * removed, lists in key order; new reference. For the `patch` rendering. */
json_t *diff_side_normalised(const struct diff_side *s);

/* Compares two sides. Returns 0 and *out, or -1 with e set. */
int diff_run(const struct diff_rules *r, const struct diff_side *before,
    const struct diff_side *after, struct diff_result **out, struct err *e);
void diff_result_free(struct diff_result *res);

/* Number of meaningful (not suppressed, not ignored) changes. */
size_t diff_result_count(const struct diff_result *res);
/* The skewd.diff/v1 document; new reference. */
json_t *diff_result_to_json(const struct diff_result *res);

#endif
