/*
 * test_slack.c - reports and their Slack and Markdown forms: a 200-change diff
 * stays within Slack's limits (blocks, characters per text, header) and counts
 * what it leaves out; values cannot form links or mentions (mrkdwn escaping);
 * long texts are cut at a character boundary; links only when absolute; the
 * Markdown report holds the verdict and the changes and escapes values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render/render.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static const char *const sevs[] = { "critical", "high", "medium", "low", "info" };
static const char *const cats[] = { "model", "runtime", "hardware", "serving", "orchestration", "other" };

/* A skewd.diff/v1 document with n changes, sorted by severity as the engine sorts them.
 * Change i's summary is `summary` when not NULL, else "setting_i changed". */
static json_t *
make_diff(size_t n, const char *summary)
{
	json_t *changes = json_array(), *by_cat, *by_sev, *d;
	size_t i, per = n / 5 + 1;
	char buf[64];

	by_cat = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "model", 0, "runtime", 0, "hardware", 0,
	    "serving", 0, "orchestration", 0, "other", 0);
	by_sev = json_pack("{s:i, s:i, s:i, s:i, s:i}", "critical", 0, "high", 0, "medium", 0, "low", 0,
	    "info", 0);
	for (i = 0; i < n; i++) {
		const char *sev = sevs[i / per], *cat = cats[i % 6];

		snprintf(buf, sizeof(buf), "setting_%zu changed", i);
		json_array_append_new(changes, json_pack("{s:s, s:s, s:n, s:s, s:i, s:i, s:s, s:s, s:s}",
		    "object", "apps/Deployment/llm/vllm-llama", "path", "/spec/x", "setting", "kind", "modified",
		    "before", (int)i, "after", (int)i + 1, "category", cat, "severity", sev,
		    "summary", summary != NULL ? summary : buf));
		json_object_set_new(by_cat, cat, json_integer(json_integer_value(json_object_get(by_cat, cat)) + 1));
		json_object_set_new(by_sev, sev, json_integer(json_integer_value(json_object_get(by_sev, sev)) + 1));
	}
	d = json_pack("{s:s, s:{s:I, s:o, s:o, s:{s:i, s:{}}}, s:o}", "schema", "skewd.diff/v1",
	    "summary", "changes", (json_int_t)n, "by_category", by_cat, "by_severity", by_sev,
	    "suppressed", "count", 0, "by_rule", "changes", changes);
	assert_non_null(d);
	return d;
}

static json_t *
make_verdict(void)
{
	json_t *v = json_pack("{s:s, s:[s, s], s:{s:{s:f, s:f, s:i, s:s}}, s:{s:i}}",
	    "verdict", "skew_likely",
	    "reasons", "p99 latency +85% <while> load is flat", "3 runtime changes",
	    "figures", "e2e_latency_p99", "before", 1.0, "after", 1.85, "change_pct", 85, "unit", "s",
	    "changes", "relevant", 3);

	assert_non_null(v);
	return v;
}

static json_t *
report_of(json_t *diff, json_t *verdict, size_t max, const char *dash)
{
	struct render_report_info info = { "good/llm/deployment/vllm-llama", "good/llm/deployment/vllm-llama",
	    3, 9, "baseline", "latest", dash, NULL };
	struct err e = ERR_INIT;
	json_t *rep = NULL;

	if (render_report_build(diff, verdict, &info, max, &rep, &e) < 0)
		fail_msg("report: %s", e.msg);
	return rep;
}

static json_t *
slack_of(json_t *rep)
{
	struct err e = ERR_INIT;
	json_t *msg = NULL;
	char *text;

	if (render_slack(rep, &msg, &e) < 0)
		fail_msg("slack: %s", e.msg);
	/* What is sent is JSON that parses back. */
	text = json_dumps(msg, JSON_COMPACT);
	assert_non_null(text);
	json_decref(json_loads(text, 0, NULL));
	assert_non_null(strstr(text, "\"blocks\""));
	free(text);
	return msg;
}

/* UTF-8 characters of s. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Checks every block against Slack's limits; returns the number of change sections. */
static size_t
check_limits(const json_t *msg)
{
	const json_t *blocks = json_object_get(msg, "blocks"), *b, *el;
	size_t i, j, sections = 0;

	assert_true(json_is_array(blocks));
	assert_true(json_array_size(blocks) <= RENDER_SLACK_MAX_BLOCKS);
	assert_true(chars(json_string_value(json_object_get(msg, "text"))) <= RENDER_SLACK_MAX_FALLBACK);
	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		const char *text = json_string_value(json_object_get(json_object_get(b, "text"), "text"));

		assert_non_null(type);
		if (strcmp(type, "header") == 0) {
			assert_int_equal(i, 0);
			assert_string_equal(json_string_value(json_object_get(json_object_get(b, "text"), "type")),
			    "plain_text");
			assert_true(chars(text) <= RENDER_SLACK_MAX_HEADER);
		} else if (strcmp(type, "section") == 0) {
			assert_string_equal(json_string_value(json_object_get(json_object_get(b, "text"), "type")),
			    "mrkdwn");
			assert_true(chars(text) <= RENDER_SLACK_MAX_TEXT);
			assert_true(text[0] != '\0');
			sections += strncmp(text, "*CRITICAL*", 10) == 0 || strncmp(text, "*HIGH*", 6) == 0 ||
			    strncmp(text, "*MEDIUM*", 8) == 0 || strncmp(text, "*LOW*", 5) == 0 ||
			    strncmp(text, "*INFO*", 6) == 0;
		} else if (strcmp(type, "context") == 0) {
			assert_true(json_array_size(json_object_get(b, "elements")) <= 10);
			json_array_foreach(json_object_get(b, "elements"), j, el)
				assert_true(chars(json_string_value(json_object_get(el, "text"))) <= RENDER_SLACK_MAX_TEXT);
		} else {
			assert_string_equal(type, "divider");
		}
	}
	return sections;
}

/* The text of the last context block, or "". */
static const char *
last_context(const json_t *msg)
{
	const json_t *blocks = json_object_get(msg, "blocks"), *b;
	const char *found = "";
	size_t i;

	json_array_foreach(blocks, i, b) {
		if (strcmp(json_string_value(json_object_get(b, "type")), "context") == 0)
			found = json_string_value(json_object_get(json_array_get(json_object_get(b, "elements"), 0),
			    "text"));
	}
	return found;
}

static void
test_200_changes(void **state)
{
	json_t *diff = make_diff(200, NULL), *verdict = make_verdict(), *rep, *msg;
	char want[64];
	size_t shown;

	(void)state;
	/* The whole diff (format=slack): as many changes as fit, the rest counted. */
	rep = report_of(diff, verdict, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(rep, "changes")), 200);
	msg = slack_of(rep);
	shown = check_limits(msg);
	assert_true(shown > 30);
	assert_true(shown < 200);
	snprintf(want, sizeof(want), "and %zu more changes", 200 - shown);
	assert_non_null(strstr(last_context(msg), want));
	/* Most severe first. */
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(json_array_get(
	    json_object_get(msg, "blocks"), 5), "text"), "text")), "*CRITICAL*"));
	json_decref(msg);
	json_decref(rep);

	/* The report: ten changes, 190 counted. */
	rep = report_of(diff, verdict, RENDER_REPORT_MAX_CHANGES, NULL);
	assert_int_equal(json_array_size(json_object_get(rep, "changes")), 10);
	assert_int_equal(json_integer_value(json_object_get(rep, "more")), 190);
	msg = slack_of(rep);
	assert_int_equal(check_limits(msg), 10);
	assert_non_null(strstr(last_context(msg), "and 190 more changes"));
	json_decref(msg);
	json_decref(rep);
	json_decref(diff);
	json_decref(verdict);
}

static void
test_escaping_and_cuts(void **state)
{
	const char *evil = "<!channel> & <https://evil.example|click> \x01 caf\xc3\xa9";
	json_t *diff, *verdict = make_verdict(), *rep, *msg, *b;
	char *long_sum, *text;
	size_t i, k;

	(void)state;
	diff = make_diff(3, evil);
	rep = report_of(diff, verdict, 0, "https://skewd.example/#/targets/good/llm/deployment/vllm-llama");
	msg = slack_of(rep);
	check_limits(msg);
	text = json_dumps(json_object_get(msg, "blocks"), JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, "<!channel>"));
	assert_null(strstr(text, "<https://evil"));
	assert_non_null(strstr(text, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;   caf\xc3\xa9"));
	/* The verdict's reasons are escaped too; the dashboard is a link. */
	assert_non_null(strstr(text, "&lt;while&gt;"));
	assert_non_null(strstr(text, "<https://skewd.example/#/targets/good/llm/deployment/vllm-llama|Dashboard>"));
	free(text);
	json_decref(msg);
	json_decref(rep);
	json_decref(diff);

	/* A relative link is text, not a link. */
	diff = make_diff(1, NULL);
	rep = report_of(diff, NULL, 0, "/#/targets/good/llm/deployment/vllm-llama");
	msg = slack_of(rep);
	check_limits(msg);
	assert_string_equal(last_context(msg), "Dashboard: /#/targets/good/llm/deployment/vllm-llama");
	text = json_dumps(msg, JSON_COMPACT);
	assert_non_null(strstr(text, "not known"));
	free(text);
	json_decref(msg);
	json_decref(rep);
	json_decref(diff);

	/* A summary of 5000 '&' and 'é': cut under the limit, never inside "&amp;" or a character. */
	long_sum = malloc(10001);
	assert_non_null(long_sum);
	for (i = 0, k = 0; i < 2500; i++) {
		long_sum[k++] = '&';
		long_sum[k++] = (char)0xc3;
		long_sum[k++] = (char)0xa9;
	}
	long_sum[k] = '\0';
	diff = make_diff(1, long_sum);
	rep = report_of(diff, verdict, 0, NULL);
	msg = slack_of(rep);
	check_limits(msg);
	json_array_foreach(json_object_get(msg, "blocks"), i, b) {
		const char *t = json_string_value(json_object_get(json_object_get(b, "text"), "text"));
		size_t len;

		if (t == NULL || strncmp(t, "*CRITICAL*", 10) != 0)
			continue;
		len = strlen(t);
		/* Ends with the ellipsis, right after a whole "&amp;" or "é". */
		assert_true(len > 2000);
		assert_memory_equal(t + len - 3, "\xe2\x80\xa6", 3);
		assert_true(memcmp(t + len - 8, "&amp;", 5) == 0 || memcmp(t + len - 5, "\xc3\xa9", 2) == 0);
		k = 1;
	}
	assert_int_equal(k, 1);
	free(long_sum);
	json_decref(msg);
	json_decref(rep);
	json_decref(diff);
	json_decref(verdict);
}

static void
test_markdown_report(void **state)
{
	json_t *diff = make_diff(14, NULL), *verdict = make_verdict(), *rep;
	struct buf out = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;
	const char *md;

	(void)state;
	rep = report_of(diff, verdict, RENDER_REPORT_MAX_CHANGES, "/#/targets/good/llm/deployment/vllm-llama");
	assert_int_equal(render_report_markdown(rep, &out, &e), 0);
	md = buf_str(&out);
	assert_non_null(strstr(md, "# skewd report: good/llm/deployment/vllm\\-llama") != NULL ? md :
	    strstr(md, "# skewd report: good/llm/deployment/vllm-llama"));
	assert_non_null(strstr(md, "**Verdict:** skew\\_likely"));
	assert_non_null(strstr(md, "&lt;while&gt;"));
	assert_non_null(strstr(md, "## Changes (14)"));
	assert_non_null(strstr(md, "setting\\_0 changed"));
	assert_null(strstr(md, "setting\\_10 changed"));
	assert_non_null(strstr(md, "and 4 more"));
	assert_non_null(strstr(md, "e2e\\_latency\\_p99 | 1 s | 1.85 s | +85% |"));
	assert_non_null(strstr(md, "[Dashboard](/#/targets/good/llm/deployment/vllm-llama)"));
	buf_release(&out);

	/* Not a report. */
	assert_int_equal(render_report_markdown(diff, &out, &e), -1);
	assert_int_equal(e.code, ERR_UNSUPPORTED);
	json_decref(rep);

	/* A bad diff is refused when building. */
	json_object_set_new(diff, "schema", json_string("skewd.diff/v9"));
	{
		struct render_report_info info = { "t", NULL, 1, 2, NULL, NULL, NULL, NULL };

		rep = NULL;
		assert_int_equal(render_report_build(diff, NULL, &info, 0, &rep, &e), -1);
		assert_null(rep);
	}
	json_decref(diff);
	json_decref(verdict);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_200_changes),
		cmocka_unit_test(test_escaping_and_cuts),
		cmocka_unit_test(test_markdown_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
