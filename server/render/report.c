/*
 * report.c - the report (`skewd.report/v1`, render.h): a diff and a verdict cut
 * to what a chat message or a ticket needs, and its Markdown form.
 */
#include "render/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define REPORT_SCHEMA "skewd.report/v1"

static json_t *
side_json(long long id, const char *label)
{
	return json_pack("{s:I, s:s?}", "snapshot", (json_int_t)id, "label", label);
}

int
render_report_build(const json_t *diff, const json_t *verdict, const struct render_report_info *info,
    size_t max_changes, json_t **out, struct err *e)
{
	struct render_view v = { 0 };
	json_t *rep = NULL, *changes = NULL, *all, *c;
	size_t i, n;
	int ret = -1;

	*out = NULL;
	if (info == NULL || info->title == NULL)
		return err_set(e, ERR_INVALID, "a report needs a title");
	/* Checks the document the same way every renderer does. */
	if (render_view_build(diff, &v, e) < 0)
		return -1;
	all = json_object_get(diff, "changes");
	n = json_array_size(all);
	if ((changes = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n && (max_changes == 0 || i < max_changes); i++) {
		c = json_array_get(all, i);
		if (json_array_append(changes, c) < 0)
			goto nomem;
	}
	rep = json_pack("{s:s, s:s, s:s?, s:o, s:o, s:O?, s:O, s:O, s:I, s:{s:s?, s:s?}}",
	    "schema", REPORT_SCHEMA,
	    "title", info->title,
	    "target", info->target,
	    "from", side_json(info->from_id, info->from_label),
	    "to", side_json(info->to_id, info->to_label),
	    "verdict", verdict,
	    "summary", json_object_get(diff, "summary"),
	    "changes", changes,
	    "more", (json_int_t)(n - i),
	    "links", "dashboard", info->dashboard_url, "bundle", info->bundle_url);
	if (rep == NULL)
		goto nomem;
	if (json_object_get(rep, "verdict") == NULL && json_object_set_new(rep, "verdict", json_null()) < 0)
		goto nomem;
	*out = rep;
	rep = NULL;
	ret = 0;
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory building a report");
out:
	json_decref(changes);
	json_decref(rep);
	render_view_release(&v);
	return ret;
}

/* Prose for Markdown: punctuation escaped, no HTML, one line (as markdown.c does). */
static int
md_text(struct buf *out, const char *s, struct err *e)
{
	static const char punct[] = "\\`*_[]|~#!@()<>&";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
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

/* A URL that can stand in a Markdown link as it is. */
static int
url_plain(const char *u)
{
	const char *p;

	if (u == NULL || u[0] == '\0')
		return 0;
	for (p = u; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/#:._~%?=&+-", *p) != NULL))
			return 0;
	}
	return 1;
}

/* A figure value with its unit, for people. */
static int
md_figure(struct buf *out, const json_t *v, const char *unit, struct err *e)
{
	if (json_is_number(v))
		return buf_addf(out, e, "%.4g%s%s", json_number_value(v), unit != NULL ? " " : "",
		    unit != NULL ? unit : "");
	return buf_addstr(out, "–", e);
}

static int
md_verdict(struct buf *out, const json_t *verdict, struct err *e)
{
	const json_t *r;
	size_t i;

	if (!json_is_object(verdict))
		return buf_addstr(out, "**Verdict:** not known (no metrics were compared)\n\n", e);
	if (buf_addstr(out, "**Verdict:** ", e) < 0 ||
	    md_text(out, json_string_value(json_object_get(verdict, "verdict")), e) < 0 ||
	    buf_addstr(out, "\n\n", e) < 0)
		return -1;
	json_array_foreach(json_object_get(verdict, "reasons"), i, r) {
		if (buf_addstr(out, "- ", e) < 0 || md_text(out, json_string_value(r), e) < 0 ||
		    buf_addch(out, '\n', e) < 0)
			return -1;
	}
	return i > 0 ? buf_addch(out, '\n', e) : 0;
}

static int
md_changes(struct buf *out, const json_t *rep, struct err *e)
{
	const json_t *c, *summary = json_object_get(rep, "summary");
	long long total = json_integer_value(json_object_get(summary, "changes"));
	long long more = json_integer_value(json_object_get(rep, "more"));
	size_t i;

	if (buf_addf(out, e, "## Changes (%lld)\n\n", total) < 0)
		return -1;
	if (json_array_size(json_object_get(rep, "changes")) == 0)
		return buf_addstr(out, "No change since the baseline.\n\n", e);
	if (buf_addstr(out, "| severity | category | object | change |\n| --- | --- | --- | --- |\n", e) < 0)
		return -1;
	json_array_foreach(json_object_get(rep, "changes"), i, c) {
		const char *sum = json_string_value(json_object_get(c, "summary"));
		const char *what = json_string_value(json_object_get(c, "setting"));

		if (what == NULL)
			what = json_string_value(json_object_get(c, "path"));
		if (buf_addstr(out, "| ", e) < 0 ||
		    md_text(out, json_string_value(json_object_get(c, "severity")), e) < 0 ||
		    buf_addstr(out, " | ", e) < 0 ||
		    md_text(out, json_string_value(json_object_get(c, "category")), e) < 0 ||
		    buf_addstr(out, " | ", e) < 0 ||
		    md_text(out, json_string_value(json_object_get(c, "object")), e) < 0 ||
		    buf_addstr(out, " | ", e) < 0 ||
		    md_text(out, sum != NULL && sum[0] != '\0' ? sum : what, e) < 0 ||
		    buf_addstr(out, " |\n", e) < 0)
			return -1;
	}
	if (more > 0 && buf_addf(out, e, "\n…and %lld more.\n", more) < 0)
		return -1;
	return buf_addch(out, '\n', e);
}

static int
md_metrics(struct buf *out, const json_t *verdict, struct err *e)
{
	const json_t *figs = json_object_get(verdict, "figures"), *f, *pct;
	const char *key;
	int first = 1;

	json_object_foreach((json_t *)figs, key, f) {
		const char *unit = json_string_value(json_object_get(f, "unit"));

		if (first && buf_addstr(out, "## Key metrics\n\n| figure | before | after | change |\n"
		    "| --- | --- | --- | --- |\n", e) < 0)
			return -1;
		first = 0;
		pct = json_object_get(f, "change_pct");
		if (buf_addstr(out, "| ", e) < 0 || md_text(out, key, e) < 0 || buf_addstr(out, " | ", e) < 0 ||
		    md_figure(out, json_object_get(f, "before"), unit, e) < 0 || buf_addstr(out, " | ", e) < 0 ||
		    md_figure(out, json_object_get(f, "after"), unit, e) < 0 || buf_addstr(out, " | ", e) < 0)
			return -1;
		if (json_is_number(pct) ? buf_addf(out, e, "%+.0f%% |\n", json_number_value(pct)) :
		    buf_addstr(out, "– |\n", e))
			return -1;
	}
	return first ? 0 : buf_addch(out, '\n', e);
}

int
render_report_markdown(const json_t *report, struct buf *out, struct err *e)
{
	const json_t *links, *from, *to;
	const char *dash, *bundle;

	if (!json_is_object(report) ||
	    strcmp(json_string_value(json_object_get(report, "schema")) != NULL ?
	    json_string_value(json_object_get(report, "schema")) : "", REPORT_SCHEMA) != 0)
		return err_set(e, ERR_UNSUPPORTED, "not a %s document", REPORT_SCHEMA);
	links = json_object_get(report, "links");
	from = json_object_get(report, "from");
	to = json_object_get(report, "to");
	dash = json_string_value(json_object_get(links, "dashboard"));
	bundle = json_string_value(json_object_get(links, "bundle"));
	if (buf_addstr(out, "# skewd report: ", e) < 0 ||
	    md_text(out, json_string_value(json_object_get(report, "title")), e) < 0 ||
	    buf_addstr(out, "\n\n", e) < 0 ||
	    md_verdict(out, json_object_get(report, "verdict"), e) < 0)
		return -1;
	if (buf_addstr(out, "**Compared:** ", e) < 0 ||
	    md_text(out, json_string_value(json_object_get(from, "label")), e) < 0 ||
	    buf_addf(out, e, " (snapshot %lld) → ", (long long)json_integer_value(json_object_get(from,
	    "snapshot"))) < 0 ||
	    md_text(out, json_string_value(json_object_get(to, "label")), e) < 0 ||
	    buf_addf(out, e, " (snapshot %lld)\n\n", (long long)json_integer_value(json_object_get(to,
	    "snapshot"))) < 0)
		return -1;
	if (md_changes(out, report, e) < 0 || md_metrics(out, json_object_get(report, "verdict"), e) < 0)
		return -1;
	if (url_plain(dash) && buf_addf(out, e, "[Dashboard](%s)", dash) < 0)
		return -1;
	if (url_plain(bundle) && buf_addf(out, e, "%s[Newest bundle](%s)", url_plain(dash) ? " · " : "",
	    bundle) < 0)
		return -1;
	if ((url_plain(dash) || url_plain(bundle)) && buf_addch(out, '\n', e) < 0)
		return -1;
	return 0;
}
