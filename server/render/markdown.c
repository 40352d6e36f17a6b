/*
 * markdown.c - the Markdown rendering of a diff (GitHub-flavoured tables), for
 * tickets, chat and the summary of a bundle.
 *
 * Escaping: every name and value goes into a code span whose fence is longer
 * than any backtick run inside it, so nothing in it is Markdown or HTML; in a
 * table a pipe becomes `\|` (and a backslash before a pipe is doubled) so a value
 * cannot end a cell; a newline becomes a visible mark. Prose (summaries, rule
 * names) has Markdown punctuation backslash-escaped and `<`, `>`, `&` written as
 * entities.
 */
#include "render/render.h"
#include "render/render_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define MD_DASH "\xe2\x80\x94"    /* em dash: no value */
#define MD_ARROW "\xe2\x86\x92"   /* right arrow */
#define MD_NEWLINE "\xe2\x86\xb5" /* downwards arrow with corner leftwards: a newline */
#define MD_ELLIPSIS "\xe2\x80\xa6"

/* Prose: Markdown punctuation escaped, HTML impossible, one line. */
static int
md_text(struct buf *out, const char *s, struct err *e)
{
	static const char punct[] = "\\`*_[]|~#!@";
	const unsigned char *p = (const unsigned char *)s;
	int r;

	for (; *p != '\0'; p++) {
		if (*p == '<')
			r = buf_addstr(out, "&lt;", e);
		else if (*p == '>')
			r = buf_addstr(out, "&gt;", e);
		else if (*p == '&')
			r = buf_addstr(out, "&amp;", e);
		else if (*p < 0x20 || *p == 0x7f)
			r = buf_addch(out, ' ', e);
		else if (strchr(punct, *p) != NULL)
			r = buf_addch(out, '\\', e) < 0 ? -1 : buf_addch(out, (char)*p, e);
		else
			r = buf_addch(out, (char)*p, e);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Longest run of backticks in s. */
static size_t
backtick_run(const char *s)
{
	size_t best = 0, cur = 0;

	for (; *s != '\0'; s++) {
		cur = *s == '`' ? cur + 1 : 0;
		if (cur > best)
			best = cur;
	}
	return best;
}

static int
fence(struct buf *out, size_t n, struct err *e)
{
	while (n-- > 0) {
		if (buf_addch(out, '`', e) < 0)
			return -1;
	}
	return 0;
}

/* A code span; `in_table` escapes pipes for a GFM table cell. An empty string is shown
 * as an empty quoted string in a code span. */
static int
md_code(struct buf *out, const char *s, int in_table, struct err *e)
{
	size_t n, len = strlen(s), i;
	int pad;

	if (len == 0)
		return buf_addstr(out, "`\"\"`", e);
	n = backtick_run(s) + 1;
	pad = s[0] == '`' || s[len - 1] == '`' || s[0] == ' ' || s[len - 1] == ' ';
	if (fence(out, n, e) < 0 || (pad && buf_addch(out, ' ', e) < 0))
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (c == '\n')
			r = buf_addstr(out, MD_NEWLINE, e);
		else if (c < 0x20 || c == 0x7f)
			r = buf_addf(out, e, "\\x%02x", c);
		else if (in_table && c == '|')
			r = buf_addstr(out, "\\|", e);
		else if (in_table && c == '\\' && s[i + 1] == '|')
			r = buf_addstr(out, "\\\\", e);
		else
			r = buf_addch(out, (char)c, e);
		if (r < 0)
			return -1;
	}
	if ((pad && buf_addch(out, ' ', e) < 0) || fence(out, n, e) < 0)
		return -1;
	return 0;
}

static int
md_code_table(struct buf *out, const char *s, struct err *e)
{
	return md_code(out, s, 1, e);
}

/* A value cell: a code span, an ellipsis when cut, a dash when absent. */
static int
value_cell(struct buf *out, const json_t *v, struct err *e)
{
	char *s = NULL;
	int cut, ret = -1;

	if (v == NULL)
		return buf_addstr(out, " " MD_DASH " |", e);
	s = render_value_string(v, RENDER_MAX_VALUE_CHARS, &cut);
	if (s == NULL) {
		buf_release(out);
		return err_set(e, ERR_NOMEM, "out of memory formatting a value");
	}
	if (buf_addch(out, ' ', e) < 0 || md_code(out, s, 1, e) < 0 ||
	    (cut && buf_addstr(out, MD_ELLIPSIS, e) < 0) || buf_addstr(out, " |", e) < 0)
		goto out;
	ret = 0;
out:
	free(s);
	return ret;
}

static int
headline(struct buf *out, const struct render_view *v, const struct render_opts *o,
    struct err *e)
{
	int k, first = 1;

	if (buf_addstr(out, "### skewd diff", e) < 0)
		return -1;
	if (o->label_before != NULL && o->label_after != NULL &&
	    (buf_addstr(out, ": ", e) < 0 || md_code(out, o->label_before, 0, e) < 0 ||
	    buf_addstr(out, " " MD_ARROW " ", e) < 0 || md_code(out, o->label_after, 0, e) < 0))
		return -1;
	if (buf_addstr(out, "\n\n", e) < 0)
		return -1;
	if (v->n == 0) {
		if (buf_addstr(out, "**No meaningful changes**", e) < 0)
			return -1;
	} else {
		if (buf_addf(out, e, "**%zu change%s** (", v->n, v->n == 1 ? "" : "s") < 0)
			return -1;
		for (k = 0; k < RENDER_NSEV; k++) {
			if (v->by_sev[k] == 0)
				continue;
			if (buf_addf(out, e, "%s%zu %s", first ? "" : ", ", v->by_sev[k],
			    render_severities[k]) < 0)
				return -1;
			first = 0;
		}
		if (buf_addch(out, ')', e) < 0)
			return -1;
	}
	if (v->suppressed > 0) {
		if (buf_addf(out, e, "; %lld field%s suppressed as noise", v->suppressed,
		    v->suppressed == 1 ? "" : "s") < 0)
			return -1;
		if (v->by_rule != NULL && json_object_size(v->by_rule) > 0 &&
		    (buf_addstr(out, " (", e) < 0 ||
		    render_by_rule(v->by_rule, out, md_code_table, e) < 0 ||
		    buf_addch(out, ')', e) < 0))
			return -1;
	}
	return buf_addstr(out, ".\n", e);
}

static int
summary_table(struct buf *out, const struct render_view *v, struct err *e)
{
	int i, k, cat;

	if (buf_addstr(out, "\n| category |", e) < 0)
		return -1;
	for (k = 0; k < RENDER_NSEV; k++) {
		if (buf_addf(out, e, " %s |", render_severities[k]) < 0)
			return -1;
	}
	if (buf_addstr(out, " total |\n| --- |", e) < 0)
		return -1;
	for (k = 0; k <= RENDER_NSEV; k++) {
		if (buf_addstr(out, " ---: |", e) < 0)
			return -1;
	}
	if (buf_addch(out, '\n', e) < 0)
		return -1;
	for (i = 0; i < RENDER_NCAT; i++) {
		cat = v->cat_order[i];
		if (v->by_cat[cat] == 0)
			continue;
		if (buf_addf(out, e, "| %s |", render_categories[cat]) < 0)
			return -1;
		for (k = 0; k < RENDER_NSEV; k++) {
			if (buf_addf(out, e, " %zu |", v->by_cat_sev[cat][k]) < 0)
				return -1;
		}
		if (buf_addf(out, e, " %zu |\n", v->by_cat[cat]) < 0)
			return -1;
	}
	if (buf_addstr(out, "| **total** |", e) < 0)
		return -1;
	for (k = 0; k < RENDER_NSEV; k++) {
		if (buf_addf(out, e, " %zu |", v->by_sev[k]) < 0)
			return -1;
	}
	return buf_addf(out, e, " **%zu** |\n", v->n);
}

static int
change_row(struct buf *out, const struct render_change *c, struct err *e)
{
	if (buf_addf(out, e, "| **%s** | ", render_severities[c->severity]) < 0 ||
	    md_code(out, c->object, 1, e) < 0 || buf_addstr(out, " | ", e) < 0 ||
	    md_code(out, render_change_what(c), 1, e) < 0 ||
	    (c->kind == RKIND_ADDED && buf_addstr(out, " (added)", e) < 0) ||
	    (c->kind == RKIND_REMOVED && buf_addstr(out, " (removed)", e) < 0) ||
	    buf_addstr(out, " |", e) < 0 ||
	    value_cell(out, c->before, e) < 0 || value_cell(out, c->after, e) < 0 ||
	    buf_addch(out, ' ', e) < 0 || md_text(out, c->summary, e) < 0 ||
	    buf_addstr(out, " |\n", e) < 0)
		return -1;
	return 0;
}

int
render_markdown(const json_t *diff, const struct render_opts *opts, struct buf *out,
    struct err *e)
{
	static const struct render_opts none = RENDER_OPTS_INIT;
	struct render_view v;
	size_t i;
	int ret = -1, cat = -1;

	if (opts == NULL)
		opts = &none;
	if (render_view_build(diff, &v, e) < 0)
		return -1;
	if (headline(out, &v, opts, e) < 0)
		goto out;
	if (v.n > 0 && summary_table(out, &v, e) < 0)
		goto out;
	for (i = 0; i < v.n; i++) {
		const struct render_change *c = &v.changes[i];

		if (c->category != cat) {
			cat = c->category;
			if (buf_addf(out, e, "\n#### %s (%zu)\n\n", render_categories[cat],
			    v.by_cat[cat]) < 0 ||
			    buf_addstr(out, "| severity | object | what | before | after | why |\n"
			    "| --- | --- | --- | --- | --- | --- |\n", e) < 0)
				goto out;
		}
		if (change_row(out, c, e) < 0)
			goto out;
	}
	ret = 0;
out:
	render_view_release(&v);
	return ret;
}
