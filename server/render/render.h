/*
 * render.h - renderings of a diff for people and programs.
 *
 * Every renderer reads the `skewd.diff/v1` document (diff_result_to_json(),
 * contract in docs/diff.md) and appends to a caller's `struct buf`, so the CLI,
 * the API (Markdown for chatops, JSON) and bundles (a Markdown summary and a
 * patch in the archive) share one implementation. The document is borrowed and
 * never changed. Renderers check the document first and fail with ERR_INVALID
 * (a bad change) or ERR_UNSUPPORTED (another schema) before writing anything,
 * so an error never leaves half a rendering; on a failed append the buffer is
 * released (see buf.h).
 *
 * Values from the documents (labels, names, file names) are untrusted: the text
 * rendering escapes control characters so a value cannot drive the terminal,
 * and the Markdown rendering escapes so a value cannot break a table or inject
 * HTML.
 *
 * Thread-safety: no shared state; any thread may render its own document.
 */
#ifndef SKEWD_RENDER_RENDER_H
#define SKEWD_RENDER_RENDER_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct buf;

enum render_format {
	RENDER_TEXT = 0, /* for a terminal */
	RENDER_JSON,     /* the contract itself, pretty-printed */
	RENDER_MARKDOWN, /* for a ticket or a chat message */
	RENDER_PATCH     /* unified diff of the normalised sides (render_patch()) */
};

/* Parses "text|json|markdown|patch"; returns 0, or -1 with e set. */
int render_format_parse(const char *name, enum render_format *out, struct err *e);
/* The name of a format, e.g. "markdown". */
const char *render_format_name(enum render_format f);

struct render_opts {
	const char *label_before; /* names of the sides (file names, "baseline"); may be NULL */
	const char *label_after;
	int color;                /* text only: ANSI colour when non-zero */
};

#define RENDER_OPTS_INIT { NULL, NULL, 0 }

/*
 * Text for a terminal: a summary line, then the changes grouped by category,
 * the category with the most severe change first, and within a category most
 * severe first (document order among equals). Colour only when opts->color.
 * `opts` may be NULL. Returns 0, or -1 with e set.
 */
int render_text(const json_t *diff, const struct render_opts *opts, struct buf *out,
    struct err *e);

/*
 * Markdown for a ticket: a heading, a summary table (categories x severities),
 * then one table of changes per category, in the order of render_text().
 * Values and names are in code spans; every value is escaped for GitHub-flavoured
 * Markdown tables and cannot inject HTML. Returns 0, or -1 with e set.
 */
int render_markdown(const json_t *diff, const struct render_opts *opts, struct buf *out,
    struct err *e);

/* The document as JSON, indented by 2, in the producer's (stable) key order, with a
 * final newline. Returns 0, or -1 with e set. */
int render_json(const json_t *diff, struct buf *out, struct err *e);

/* Dispatches text, json or markdown (RENDER_PATCH needs the sides: ERR_INVALID). */
int render_diff(enum render_format f, const json_t *diff, const struct render_opts *opts,
    struct buf *out, struct err *e);

/*
 * A unified diff (`--- label_a`, `+++ label_b`, `@@ -l,n +l,n @@` hunks with
 * `context` lines of context; GNU diff -u conventions, including "\ No newline
 * at end of file") of two texts, line by line. Identical texts give nothing.
 * Myers' O(ND) algorithm in linear space; past a cost bound a box is split at the
 * furthest point reached (as git's xdiff does), so the result is always a correct
 * patch and very different inputs stay fast, though then not always minimal.
 * Texts are borrowed; each is at most RENDER_MAX_LINES lines. Appends to out.
 * Returns 0, or -1 with e set.
 */
int render_unified(const char *a, size_t alen, const char *b, size_t blen,
    const char *label_a, const char *label_b, unsigned context, struct buf *out,
    struct err *e);

/*
 * The `patch` format: each side (an array of objects, as diff_side_normalised()
 * returns) is written as multi-document YAML by doc_emit_yaml(), and the two
 * texts compared with render_unified() and RENDER_PATCH_CONTEXT lines of context.
 * Labels may be NULL ("a", "b"). Returns 0, or -1 with e set.
 */
int render_patch(const json_t *before, const json_t *after, const char *label_a,
    const char *label_b, struct buf *out, struct err *e);

/*
 * Reports (report.c) and Slack messages (slack.c): the answer for a chat
 * message or a ticket, from a diff and a verdict.
 *
 * A report is a JSON document, `skewd.report/v1`:
 *   {"schema": "skewd.report/v1", "title": "...", "target": "c/ns/kind/name" | null,
 *    "from": {"snapshot": ID, "label": "baseline"}, "to": {"snapshot": ID, "label": "latest"},
 *    "verdict": <metrics_verdict() object> | null,
 *    "summary": <the diff's summary>,
 *    "changes": [<the first max_changes changes of the diff, most severe first>],
 *    "more": <how many changes are not listed>,
 *    "links": {"dashboard": "..." | null, "bundle": "..." | null}}
 */
struct render_report_info {
	const char *title;          /* "good/llm/deployment/vllm-llama"; required */
	const char *target;         /* the target's path, or NULL for two arbitrary snapshots */
	long long from_id, to_id;   /* snapshot ids */
	const char *from_label;     /* "baseline", "snapshot 12"; may be NULL */
	const char *to_label;
	const char *dashboard_url;  /* may be NULL */
	const char *bundle_url;     /* may be NULL */
};

/* Builds the report from a skewd.diff/v1 document and a verdict (may be NULL),
 * listing at most max_changes changes (0 = all). Both are borrowed. *out is
 * new. Returns 0, or -1 with e set (ERR_INVALID for a bad diff). */
int render_report_build(const json_t *diff, const json_t *verdict, const struct render_report_info *info,
    size_t max_changes, json_t **out, struct err *e);

/* The report as Markdown: a heading, the verdict and its reasons, the changes
 * as a table, the count of the rest, key metrics before and after, links.
 * Every value is escaped as render_markdown() escapes. Returns 0, or -1 with e set. */
int render_report_markdown(const json_t *report, struct buf *out, struct err *e);

/*
 * The report as a Slack message: {"text": "<fallback>", "blocks": [...]} in
 * Block Kit. It stays within Slack's limits: at most RENDER_SLACK_MAX_BLOCKS
 * blocks (changes that do not fit are counted in a last context block),
 * RENDER_SLACK_MAX_TEXT characters per section text, RENDER_SLACK_MAX_HEADER in
 * the header (texts are cut at a character boundary, never inside an escape).
 * Every value is escaped for mrkdwn (`&`, `<`, `>`), so a value cannot make a
 * link or a mention. Links are written as links only when absolute
 * (http/https), else as text. *out is new. Returns 0, or -1 with e set.
 */
int render_slack(const json_t *report, json_t **out, struct err *e);

#endif
