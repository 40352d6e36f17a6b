/*
 * slack.c - a report (`skewd.report/v1`) as a Slack Block Kit message.
 *
 * Slack refuses a message over its limits (50 blocks, 3000 characters in a
 * section text, 150 in a header), so every text is built with a cap and cut at
 * a character boundary (never inside an escape such as "&amp;"), and the
 * changes that do not fit are counted instead of listed. Lengths are counted
 * in bytes, which is never less than Slack's count of characters. Values are
 * escaped for mrkdwn ('&', '<', '>'), so none can form a link, a mention or
 * "<!channel>".
 */
#include "render/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define SLACK_ELLIPSIS "\xe2\x80\xa6"

/* A text under construction with a cap; once cut, further appends are ignored. */
struct mtext {
	struct buf b;
	size_t cap;
	int cut;
};

static void
mt_init(struct mtext *t, size_t cap)
{
	buf_init(&t->b, cap + 8);
	t->cap = cap;
	t->cut = 0;
}

/* Appends s: escaped for mrkdwn with control characters as spaces when `esc`,
 * as it is otherwise (skewd's own markup). */
static int
mt_add(struct mtext *t, const char *s, int esc, struct err *e)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	const char *piece;
	char one[8];
	size_t plen;

	while (*p != '\0' && !t->cut) {
		piece = one;
		plen = 1;
		one[0] = (char)*p;
		if (esc && *p == '&') {
			piece = "&amp;";
			plen = 5;
		} else if (esc && *p == '<') {
			piece = "&lt;";
			plen = 4;
		} else if (esc && *p == '>') {
			piece = "&gt;";
			plen = 4;
		} else if (esc && (*p < 0x20 || *p == 0x7f)) {
			one[0] = ' ';
		} else if (*p >= 0xc0) {
			/* A whole UTF-8 sequence, so a cut never splits a character. */
			while (plen < 4 && (p[plen] & 0xc0) == 0x80) {
				one[plen] = (char)p[plen];
				plen++;
			}
		}
		if (buf_len(&t->b) + plen + strlen(SLACK_ELLIPSIS) > t->cap) {
			t->cut = 1;
			return buf_addstr(&t->b, SLACK_ELLIPSIS, e);
		}
		if (buf_add(&t->b, piece, plen, e) < 0)
			return -1;
		p += plen == 1 || piece != one ? 1 : plen;
	}
	return 0;
}

static int
mt_addf(struct mtext *t, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
mt_addf(struct mtext *t, struct err *e, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return mt_add(t, tmp, 0, e);
}

/* A block from the text (the text is released). type: "section", "context" or "header". */
static json_t *
mt_block(struct mtext *t, const char *type)
{
	json_t *b;
	const char *s = buf_str(&t->b);

	if (strcmp(type, "header") == 0)
		b = json_pack("{s:s, s:{s:s, s:s, s:b}}", "type", "header", "text", "type", "plain_text",
		    "text", s[0] != '\0' ? s : "skewd", "emoji", 0);
	else if (strcmp(type, "context") == 0)
		b = json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements", "type", "mrkdwn",
		    "text", s);
	else
		b = json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type", "mrkdwn", "text", s);
	buf_release(&t->b);
	return b;
}

static int
push(json_t *blocks, json_t *b, struct err *e)
{
	if (b == NULL || json_array_append_new(blocks, b) < 0)
		return err_set(e, ERR_NOMEM, "out of memory building a Slack message");
	return 0;
}

/* An absolute http(s) URL: only those are written as links. */
static int
url_absolute(const char *u)
{
	return u != NULL && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
upper(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < n; i++)
		out[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	out[i] = '\0';
}

static int
add_verdict(json_t *blocks, const json_t *verdict, struct err *e)
{
	struct mtext t;
	const json_t *r;
	size_t i;

	mt_init(&t, RENDER_SLACK_MAX_TEXT);
	if (!json_is_object(verdict)) {
		if (mt_add(&t, "*Verdict:* not known (no metrics were compared)", 0, e) < 0)
			return -1;
		return push(blocks, mt_block(&t, "section"), e);
	}
	if (mt_add(&t, "*Verdict:* ", 0, e) < 0 || mt_add(&t, str(verdict, "verdict"), 1, e) < 0)
		goto fail;
	json_array_foreach(json_object_get(verdict, "reasons"), i, r) {
		if (mt_add(&t, "\n\xe2\x80\xa2 ", 0, e) < 0 || mt_add(&t, json_string_value(r), 1, e) < 0)
			goto fail;
	}
	return push(blocks, mt_block(&t, "section"), e);
fail:
	buf_release(&t.b);
	return -1;
}

static int
add_summary(json_t *blocks, const json_t *rep, struct err *e)
{
	static const char *const sevs[] = { "critical", "high", "medium", "low", "info" };
	const json_t *sum = json_object_get(rep, "summary"), *by;
	const json_t *from = json_object_get(rep, "from"), *to = json_object_get(rep, "to");
	struct mtext t;
	const char *key;
	json_t *v;
	size_t i;
	int first = 1;

	mt_init(&t, RENDER_SLACK_MAX_TEXT);
	if (mt_addf(&t, e, "*%lld changes*", (long long)json_integer_value(json_object_get(sum,
	    "changes"))) < 0)
		goto fail;
	by = json_object_get(sum, "by_severity");
	for (i = 0; i < sizeof(sevs) / sizeof(sevs[0]); i++) {
		long long n = json_integer_value(json_object_get(by, sevs[i]));

		if (n > 0 && mt_addf(&t, e, "%s %s: %lld", first ? " \xe2\x80\x94" : ",", sevs[i], n) < 0)
			goto fail;
		if (n > 0)
			first = 0;
	}
	first = 1;
	json_object_foreach(json_object_get(sum, "by_category"), key, v) {
		if (json_integer_value(v) <= 0)
			continue;
		if (mt_add(&t, first ? "\nby category: " : ", ", 0, e) < 0 || mt_add(&t, key, 1, e) < 0 ||
		    mt_addf(&t, e, " %lld", (long long)json_integer_value(v)) < 0)
			goto fail;
		first = 0;
	}
	if (mt_add(&t, "\n", 0, e) < 0 || mt_add(&t, str(from, "label"), 1, e) < 0 ||
	    mt_addf(&t, e, " (snapshot %lld) \xe2\x86\x92 ", (long long)json_integer_value(json_object_get(from,
	    "snapshot"))) < 0 ||
	    mt_add(&t, str(to, "label"), 1, e) < 0 ||
	    mt_addf(&t, e, " (snapshot %lld)", (long long)json_integer_value(json_object_get(to, "snapshot"))) < 0)
		goto fail;
	return push(blocks, mt_block(&t, "section"), e);
fail:
	buf_release(&t.b);
	return -1;
}

static int
add_metrics(json_t *blocks, const json_t *verdict, struct err *e)
{
	const json_t *figs = json_object_get(verdict, "figures"), *f, *b, *a, *pct;
	struct mtext t;
	const char *key;

	if (json_object_size(figs) == 0)
		return 0;
	mt_init(&t, RENDER_SLACK_MAX_TEXT);
	if (mt_add(&t, "*Key metrics* (before \xe2\x86\x92 after)", 0, e) < 0)
		goto fail;
	json_object_foreach((json_t *)figs, key, f) {
		const char *unit = str(f, "unit");

		b = json_object_get(f, "before");
		a = json_object_get(f, "after");
		pct = json_object_get(f, "change_pct");
		if (mt_add(&t, "\n\xe2\x80\xa2 ", 0, e) < 0 || mt_add(&t, key, 1, e) < 0 ||
		    mt_addf(&t, e, ": %.4g \xe2\x86\x92 %.4g ", json_number_value(b), json_number_value(a)) < 0 ||
		    mt_add(&t, unit, 1, e) < 0)
			goto fail;
		if (json_is_number(pct) && mt_addf(&t, e, " (%+.0f%%)", json_number_value(pct)) < 0)
			goto fail;
	}
	return push(blocks, mt_block(&t, "section"), e);
fail:
	buf_release(&t.b);
	return -1;
}

static int
add_change(json_t *blocks, const json_t *c, struct err *e)
{
	char sev[16];
	const char *what = str(c, "summary");
	struct mtext t;

	if (what[0] == '\0')
		what = json_string_value(json_object_get(c, "setting")) != NULL ? str(c, "setting") :
		    str(c, "path");
	upper(str(c, "severity"), sev, sizeof(sev));
	mt_init(&t, RENDER_SLACK_MAX_TEXT);
	if (mt_add(&t, "*", 0, e) < 0 || mt_add(&t, sev, 1, e) < 0 || mt_add(&t, "* \xc2\xb7 ", 0, e) < 0 ||
	    mt_add(&t, str(c, "category"), 1, e) < 0 || mt_add(&t, " \xc2\xb7 ", 0, e) < 0 ||
	    mt_add(&t, str(c, "object"), 1, e) < 0 || mt_add(&t, "\n", 0, e) < 0 ||
	    mt_add(&t, what, 1, e) < 0) {
		buf_release(&t.b);
		return -1;
	}
	return push(blocks, mt_block(&t, "section"), e);
}

static int
add_links(json_t *blocks, const json_t *links, struct err *e)
{
	const char *dash = json_string_value(json_object_get(links, "dashboard"));
	const char *bundle = json_string_value(json_object_get(links, "bundle"));
	const char *urls[2] = { dash, bundle }, *names[2] = { "Dashboard", "Newest bundle" };
	struct mtext t;
	size_t i;
	int any = 0;

	mt_init(&t, RENDER_SLACK_MAX_TEXT);
	for (i = 0; i < 2; i++) {
		if (urls[i] == NULL || urls[i][0] == '\0')
			continue;
		if (mt_add(&t, any ? " \xc2\xb7 " : "", 0, e) < 0)
			goto fail;
		any = 1;
		/* A link is <url|name>; the URL is escaped too, so it cannot close the link early. */
		if (url_absolute(urls[i])) {
			if (mt_add(&t, "<", 0, e) < 0 || mt_add(&t, urls[i], 1, e) < 0 ||
			    mt_add(&t, "|", 0, e) < 0 || mt_add(&t, names[i], 0, e) < 0 || mt_add(&t, ">", 0, e) < 0)
				goto fail;
		} else if (mt_add(&t, names[i], 0, e) < 0 || mt_add(&t, ": ", 0, e) < 0 ||
		    mt_add(&t, urls[i], 1, e) < 0) {
			goto fail;
		}
	}
	if (!any) {
		buf_release(&t.b);
		return 0;
	}
	/* A cut link would be broken markup: then the link is left out. */
	if (t.cut) {
		buf_release(&t.b);
		return 0;
	}
	return push(blocks, mt_block(&t, "context"), e);
fail:
	buf_release(&t.b);
	return -1;
}

int
render_slack(const json_t *report, json_t **out, struct err *e)
{
	const json_t *changes, *verdict, *c;
	json_t *blocks = NULL, *msg = NULL;
	struct mtext t;
	size_t i, n, room, shown;
	long long more;
	int ret = -1;

	*out = NULL;
	mt_init(&t, RENDER_SLACK_MAX_HEADER);
	if (!json_is_object(report) || strcmp(str(report, "schema"), "skewd.report/v1") != 0)
		return err_set(e, ERR_UNSUPPORTED, "not a skewd.report/v1 document");
	changes = json_object_get(report, "changes");
	verdict = json_object_get(report, "verdict");
	n = json_array_size(changes);
	more = json_integer_value(json_object_get(report, "more"));
	if ((blocks = json_array()) == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory building a Slack message");
		goto out;
	}
	if (mt_add(&t, "skewd: ", 0, e) < 0 || mt_add(&t, str(report, "title"), 0, e) < 0 ||
	    push(blocks, mt_block(&t, "header"), e) < 0)
		goto out;
	if (add_verdict(blocks, verdict, e) < 0 || add_summary(blocks, report, e) < 0 ||
	    add_metrics(blocks, verdict, e) < 0)
		goto out;
	if (n > 0 && push(blocks, json_pack("{s:s}", "type", "divider"), e) < 0)
		goto out;
	/* Room for the changes: keep two blocks for "and N more" and the links. */
	room = RENDER_SLACK_MAX_BLOCKS - json_array_size(blocks) - 2;
	shown = n < room ? n : room;
	for (i = 0; i < shown; i++) {
		c = json_array_get(changes, i);
		if (add_change(blocks, c, e) < 0)
			goto out;
	}
	more += (long long)(n - shown);
	if (more > 0) {
		mt_init(&t, RENDER_SLACK_MAX_TEXT);
		if (mt_addf(&t, e, "\xe2\x80\xa6" "and %lld more change%s", more, more == 1 ? "" : "s") < 0 ||
		    push(blocks, mt_block(&t, "context"), e) < 0)
			goto out;
	}
	if (add_links(blocks, json_object_get(report, "links"), e) < 0)
		goto out;

	/* The notification text shown where blocks are not (phones, search). */
	mt_init(&t, RENDER_SLACK_MAX_FALLBACK);
	if (mt_add(&t, "skewd: ", 0, e) < 0 || mt_add(&t, str(report, "title"), 1, e) < 0 ||
	    mt_add(&t, ": ", 0, e) < 0 ||
	    mt_add(&t, json_is_object(verdict) ? str(verdict, "verdict") : "no verdict", 1, e) < 0 ||
	    mt_addf(&t, e, ", %lld changes", (long long)json_integer_value(json_object_get(
	    json_object_get(report, "summary"), "changes"))) < 0)
		goto out;
	msg = json_pack("{s:s, s:o}", "text", buf_str(&t.b), "blocks", blocks);
	blocks = NULL;
	buf_release(&t.b);
	if (msg == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory building a Slack message");
		goto out;
	}
	*out = msg;
	ret = 0;
out:
	buf_release(&t.b);
	json_decref(blocks);
	return ret;
}
