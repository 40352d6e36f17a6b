/*
 * text.c - the terminal rendering of a diff.
 *
 *   a.yaml -> b.yaml: 2 changes (1 high, 1 medium); 41 fields suppressed as noise (status 29, uid 12)
 *
 *   runtime (2)
 *     high      apps/Deployment/llm/vllm-llama  max_model_len
 *               - 8192
 *               + 4096
 *               max_model_len 8192 -> 4096: long prompts are now refused
 */
#include "render/render.h"
#include "render/render_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define SGR_RESET "\033[0m"
#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[31m"
#define SGR_GREEN "\033[32m"

static const char *const sev_sgr[RENDER_NSEV] = {
	"\033[1;31m", /* critical: bold red */
	"\033[31m",   /* high: red */
	"\033[33m",   /* medium: yellow */
	"\033[36m",   /* low: cyan */
	"\033[2m",    /* info: dim */
};

/* Indent of the lines under a change: two spaces, the severity column, two spaces. */
#define TEXT_INDENT "            "

/*
 * Appends s so that it cannot move the cursor or change the terminal: C0 and C1
 * control characters and DEL become escapes (\n, \t, \xNN, \u00NN); other bytes,
 * UTF-8 included, pass.
 */
static int
text_esc_n(struct buf *out, const char *s, size_t n, struct err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];
		int bad = c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f);

		if (!bad)
			continue;
		if (buf_add(out, s + run, i - run, e) < 0)
			return -1;
		if (c == '\n') {
			if (buf_addstr(out, "\\n", e) < 0)
				return -1;
		} else if (c == '\t') {
			if (buf_addstr(out, "\\t", e) < 0)
				return -1;
		} else if (c == 0xc2) {
			if (buf_addf(out, e, "\\u%04x", p[i + 1]) < 0)
				return -1;
			i++;
		} else if (buf_addf(out, e, "\\x%02x", c) < 0) {
			return -1;
		}
		run = i + 1;
	}
	return buf_add(out, s + run, n - run, e);
}

static int
text_esc(struct buf *out, const char *s, struct err *e)
{
	return text_esc_n(out, s, strlen(s), e);
}

static int
sgr(struct buf *out, int color, const char *code, struct err *e)
{
	return color ? buf_addstr(out, code, e) : 0;
}

/* One "- value" or "+ value" line. */
static int
value_line(struct buf *out, int color, char sign, const json_t *v, struct err *e)
{
	char *s = NULL;
	int cut, ret = -1;

	s = render_value_string(v, RENDER_MAX_VALUE_CHARS, &cut);
	if (s == NULL) {
		buf_release(out);
		return err_set(e, ERR_NOMEM, "out of memory formatting a value");
	}
	if (buf_addstr(out, TEXT_INDENT, e) < 0 ||
	    sgr(out, color, sign == '-' ? SGR_RED : SGR_GREEN, e) < 0 ||
	    buf_addch(out, sign, e) < 0 || buf_addch(out, ' ', e) < 0 ||
	    text_esc(out, s, e) < 0 ||
	    (cut && buf_addstr(out, " ... (cut; see --format json or patch)", e) < 0) ||
	    sgr(out, color, SGR_RESET, e) < 0 ||
	    buf_addch(out, '\n', e) < 0)
		goto out;
	ret = 0;
out:
	free(s);
	return ret;
}

static int
change_lines(struct buf *out, const struct render_change *c, int color, struct err *e)
{
	const char *sev = render_severities[c->severity];

	if (buf_addstr(out, "  ", e) < 0 ||
	    sgr(out, color, sev_sgr[c->severity], e) < 0 ||
	    buf_addf(out, e, "%-8s", sev) < 0 ||
	    sgr(out, color, SGR_RESET, e) < 0 ||
	    buf_addstr(out, "  ", e) < 0 ||
	    text_esc(out, c->object, e) < 0 ||
	    buf_addstr(out, "  ", e) < 0 ||
	    text_esc(out, render_change_what(c), e) < 0 ||
	    (c->kind == RKIND_ADDED && buf_addstr(out, " (added)", e) < 0) ||
	    (c->kind == RKIND_REMOVED && buf_addstr(out, " (removed)", e) < 0) ||
	    buf_addch(out, '\n', e) < 0)
		return -1;
	if (c->before != NULL && value_line(out, color, '-', c->before, e) < 0)
		return -1;
	if (c->after != NULL && value_line(out, color, '+', c->after, e) < 0)
		return -1;
	if (c->summary[0] != '\0' &&
	    (buf_addstr(out, TEXT_INDENT, e) < 0 || text_esc(out, c->summary, e) < 0 ||
	    buf_addch(out, '\n', e) < 0))
		return -1;
	return 0;
}

static int
headline(struct buf *out, const struct render_view *v, const struct render_opts *o,
    struct err *e)
{
	int k, first = 1;

	if (o->label_before != NULL && o->label_after != NULL &&
	    (text_esc(out, o->label_before, e) < 0 || buf_addstr(out, " -> ", e) < 0 ||
	    text_esc(out, o->label_after, e) < 0 || buf_addstr(out, ": ", e) < 0))
		return -1;
	if (v->n == 0) {
		if (buf_addstr(out, "no meaningful changes", e) < 0)
			return -1;
	} else {
		if (buf_addf(out, e, "%zu change%s (", v->n, v->n == 1 ? "" : "s") < 0)
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
		    render_by_rule(v->by_rule, out, text_esc, e) < 0 ||
		    buf_addch(out, ')', e) < 0))
			return -1;
	}
	return buf_addch(out, '\n', e);
}

int
render_text(const json_t *diff, const struct render_opts *opts, struct buf *out,
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
	for (i = 0; i < v.n; i++) {
		const struct render_change *c = &v.changes[i];

		if (c->category != cat) {
			cat = c->category;
			if (buf_addch(out, '\n', e) < 0 ||
			    sgr(out, opts->color, SGR_BOLD, e) < 0 ||
			    buf_addf(out, e, "%s (%zu)", render_categories[cat], v.by_cat[cat]) < 0 ||
			    sgr(out, opts->color, SGR_RESET, e) < 0 ||
			    buf_addch(out, '\n', e) < 0)
				goto out;
		}
		if (change_lines(out, c, opts->color, e) < 0)
			goto out;
	}
	ret = 0;
out:
	render_view_release(&v);
	return ret;
}
