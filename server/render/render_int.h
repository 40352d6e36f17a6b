/*
 * render_int.h - what the renderers of server/render/ share; not a public header.
 *
 * A `struct render_view` is a checked, ordered view of a skewd.diff/v1 document:
 * every pointer in it is borrowed from the document, which must outlive it.
 */
#ifndef SKEWD_RENDER_RENDER_INT_H
#define SKEWD_RENDER_RENDER_INT_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct buf;

#define RENDER_SCHEMA "skewd.diff/v1"

enum render_kind { RKIND_ADDED = 0, RKIND_REMOVED, RKIND_MODIFIED };

/* Fixed orders: categories as in docs/diff.md, severities most severe first. */
#define RENDER_NCAT 6
#define RENDER_NSEV 5

extern const char *const render_categories[RENDER_NCAT];
extern const char *const render_severities[RENDER_NSEV];

struct render_change {
	const char *object;   /* "apps/Deployment/llm/vllm-llama" */
	const char *path;     /* may be "" */
	const char *setting;  /* NULL when the change is not an engine setting */
	const char *summary;  /* may be "" */
	const json_t *before; /* NULL for an added value */
	const json_t *after;  /* NULL for a removed value */
	enum render_kind kind;
	int category;         /* index in render_categories */
	int severity;         /* index in render_severities, 0 = critical */
	size_t index;         /* position in the document */
	int rank;             /* position of the category in the output */
};

struct render_view {
	struct render_change *changes; /* sorted: category rank, severity, index */
	size_t n;
	size_t by_cat_sev[RENDER_NCAT][RENDER_NSEV];
	size_t by_cat[RENDER_NCAT];
	size_t by_sev[RENDER_NSEV];
	int cat_order[RENDER_NCAT]; /* categories, the one with the most severe change first */
	long long suppressed;       /* summary.suppressed.count, 0 when absent */
	const json_t *by_rule;      /* summary.suppressed.by_rule object, or NULL */
};

/* Checks the document and builds the view. Returns 0, or -1 with e set. */
int render_view_build(const json_t *diff, struct render_view *v, struct err *e);
void render_view_release(struct render_view *v);

/* What changed, for people: the setting when there is one, else the path. */
const char *render_change_what(const struct render_change *c);

/*
 * A value for people: a string as itself, anything else as compact JSON with
 * sorted keys. At most `max` bytes are kept (cut at a UTF-8 boundary); *cut is
 * set when some were dropped. Caller frees the result. Returns NULL when out of
 * memory.
 */
char *render_value_string(const json_t *v, size_t max, int *cut);

/* Appends "rule N, rule N" for the suppressed-by-rule object, in key order,
 * with each rule name passed through `esc` (appending to out). */
int render_by_rule(const json_t *by_rule, struct buf *out,
    int (*esc)(struct buf *, const char *, struct err *), struct err *e);

#endif
