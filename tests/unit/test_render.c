/*
 * test_render.c - the renderings of a skewd.diff/v1 document (text, Markdown,
 * JSON), the line diff behind the patch format, and the patch format itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "render/render.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

#define TEST_BUF_MAX (64 * 1024 * 1024)

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);

	if (v == NULL)
		fail_msg("bad test JSON at line %d: %s", jerr.line, jerr.text);
	return v;
}

/* Renders with f and compares with want exactly. */
static void
expect_render(enum render_format f, const char *doc, const struct render_opts *o,
    const char *want)
{
	struct buf b = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	json_t *d = load(doc);

	if (render_diff(f, d, o, &b, &e) < 0)
		fail_msg("render failed: %s", e.msg);
	if (strcmp(buf_str(&b), want) != 0) {
		print_message("--- want\n%s--- got\n%s---\n", want, buf_str(&b));
		fail();
	}
	buf_release(&b);
	json_decref(d);
}

static char *
render_str(enum render_format f, const char *doc, const struct render_opts *o)
{
	struct buf b = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	json_t *d = load(doc);

	if (render_diff(f, d, o, &b, &e) < 0)
		fail_msg("render failed: %s", e.msg);
	json_decref(d);
	return buf_take(&b, NULL);
}

static const char two_changes[] =
	"{\"schema\": \"skewd.diff/v1\","
	" \"summary\": {\"changes\": 3, \"suppressed\": {\"count\": 41,"
	"   \"by_rule\": {\"uid\": 12, \"managedFields\": 29, \"status\": 0}}},"
	" \"changes\": ["
	"  {\"object\": \"v1/ConfigMap/llm/tmpl\", \"path\": \"/data/x\", \"setting\": null,"
	"   \"kind\": \"added\", \"after\": \"y\", \"category\": \"other\", \"severity\": \"info\","
	"   \"summary\": \"new key\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\","
	"   \"path\": \"/spec/template/spec/containers/vllm/args/dtype\", \"setting\": \"dtype\","
	"   \"kind\": \"modified\", \"before\": \"bfloat16\", \"after\": \"float16\","
	"   \"category\": \"runtime\", \"severity\": \"medium\", \"summary\": \"different numerics\"},"
	"  {\"object\": \"apps/Deployment/llm/vllm\","
	"   \"path\": \"/spec/template/spec/containers/vllm/args/max_model_len\","
	"   \"setting\": \"max_model_len\", \"kind\": \"modified\", \"before\": 8192, \"after\": 4096,"
	"   \"category\": \"runtime\", \"severity\": \"high\", \"summary\": \"shorter context\"},"
	"  {\"object\": \"autoscaling/HorizontalPodAutoscaler/llm/vllm\", \"path\": \"/spec/metrics\","
	"   \"setting\": null, \"kind\": \"removed\", \"before\": [{\"type\": \"Pods\"}],"
	"   \"category\": \"orchestration\", \"severity\": \"medium\", \"summary\": \"\"}"
	" ]}";

static void
test_format_parse(void **state)
{
	enum render_format f;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(render_format_parse("markdown", &f, &e), 0);
	assert_int_equal(f, RENDER_MARKDOWN);
	assert_int_equal(render_format_parse("patch", &f, &e), 0);
	assert_int_equal(f, RENDER_PATCH);
	assert_int_equal(render_format_parse("yaml", &f, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "'yaml'"));
	assert_string_equal(render_format_name(RENDER_TEXT), "text");
}

static void
test_text_plain(void **state)
{
	struct render_opts o = { "a.yaml", "b.yaml", 0 };

	(void)state;
	expect_render(RENDER_TEXT, two_changes, &o,
	    "a.yaml -> b.yaml: 4 changes (1 high, 2 medium, 1 info); 41 fields suppressed as noise"
	    " (managedFields 29, uid 12)\n"
	    "\n"
	    "runtime (2)\n"
	    "  high      apps/Deployment/llm/vllm  max_model_len\n"
	    "            - 8192\n"
	    "            + 4096\n"
	    "            shorter context\n"
	    "  medium    apps/Deployment/llm/vllm  dtype\n"
	    "            - bfloat16\n"
	    "            + float16\n"
	    "            different numerics\n"
	    "\n"
	    "orchestration (1)\n"
	    "  medium    autoscaling/HorizontalPodAutoscaler/llm/vllm  /spec/metrics (removed)\n"
	    "            - [{\"type\":\"Pods\"}]\n"
	    "\n"
	    "other (1)\n"
	    "  info      v1/ConfigMap/llm/tmpl  /data/x (added)\n"
	    "            + y\n"
	    "            new key\n");
}

static void
test_text_color(void **state)
{
	struct render_opts plain = { NULL, NULL, 0 }, color = { NULL, NULL, 1 };
	char *p, *c;

	(void)state;
	p = render_str(RENDER_TEXT, two_changes, &plain);
	c = render_str(RENDER_TEXT, two_changes, &color);
	assert_null(strchr(p, '\033'));
	assert_non_null(strstr(c, "\033[31mhigh    \033[0m"));
	assert_non_null(strstr(c, "\033[1mruntime (2)\033[0m"));
	assert_non_null(strstr(c, "\033[31m- 8192\033[0m"));
	assert_non_null(strstr(c, "\033[32m+ 4096\033[0m"));
	/* Without labels the headline starts with the count. */
	assert_true(strncmp(p, "4 changes (", 11) == 0);
	free(p);
	free(c);
}

static void
test_text_escapes_terminal_controls(void **state)
{
	const char doc[] =
		"{\"schema\": \"skewd.diff/v1\", \"changes\": ["
		" {\"object\": \"v1/ConfigMap/x/\\u001b]0;pwned\\u0007\", \"path\": \"/data/k\","
		"  \"kind\": \"modified\", \"before\": \"a\\nb\", \"after\": \"\\u009b2J\\tz\","
		"  \"category\": \"other\", \"severity\": \"low\", \"summary\": \"s\\r\"}]}";
	char *t;

	(void)state;
	t = render_str(RENDER_TEXT, doc, NULL);
	assert_null(strchr(t, '\033'));
	assert_null(strchr(t, '\007'));
	assert_null(strchr(t, '\r'));
	assert_null(strstr(t, "\xc2\x9b"));
	assert_non_null(strstr(t, "v1/ConfigMap/x/\\x1b]0;pwned\\x07"));
	assert_non_null(strstr(t, "- a\\nb\n"));
	assert_non_null(strstr(t, "+ \\u009b2J\\tz\n"));
	assert_non_null(strstr(t, "s\\x0d\n"));
	free(t);
}

static void
test_text_no_changes(void **state)
{
	struct render_opts o = { "x", "x", 0 };

	(void)state;
	expect_render(RENDER_TEXT,
	    "{\"schema\": \"skewd.diff/v1\", \"summary\": {\"suppressed\": {\"count\": 1,"
	    " \"by_rule\": {\"resourceVersion\": 1}}}, \"changes\": []}", &o,
	    "x -> x: no meaningful changes; 1 field suppressed as noise (resourceVersion 1)\n");
	expect_render(RENDER_TEXT, "{\"schema\": \"skewd.diff/v1\", \"changes\": []}", NULL,
	    "no meaningful changes\n");
}

static void
test_text_long_value_cut(void **state)
{
	struct buf doc = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	char *t;
	int i;

	(void)state;
	assert_int_equal(buf_addstr(&doc, "{\"schema\": \"skewd.diff/v1\", \"changes\": [{\"object\":"
	    " \"o\", \"kind\": \"added\", \"category\": \"model\", \"severity\": \"low\", \"after\": \"",
	    &e), 0);
	/* A multi-byte character straddles the cut: it must not be split. */
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_addstr(&doc, "\xc3\xa9", &e), 0);
	assert_int_equal(buf_addstr(&doc, "\"}]}", &e), 0);
	t = render_str(RENDER_TEXT, buf_str(&doc), NULL);
	assert_non_null(strstr(t, "\xc3\xa9 ... (cut; see --format json or patch)\n"));
	assert_true(strlen(t) < 600);
	free(t);
	buf_release(&doc);
}

static void
test_markdown_exact(void **state)
{
	struct render_opts o = { "a.yaml", "b.yaml", 1 };

	(void)state;
	expect_render(RENDER_MARKDOWN, two_changes, &o,
	    "### skewd diff: `a.yaml` \xe2\x86\x92 `b.yaml`\n"
	    "\n"
	    "**4 changes** (1 high, 2 medium, 1 info); 41 fields suppressed as noise"
	    " (`managedFields` 29, `uid` 12).\n"
	    "\n"
	    "| category | critical | high | medium | low | info | total |\n"
	    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
	    "| runtime | 0 | 1 | 1 | 0 | 0 | 2 |\n"
	    "| orchestration | 0 | 0 | 1 | 0 | 0 | 1 |\n"
	    "| other | 0 | 0 | 0 | 0 | 1 | 1 |\n"
	    "| **total** | 0 | 1 | 2 | 0 | 1 | **4** |\n"
	    "\n"
	    "#### runtime (2)\n"
	    "\n"
	    "| severity | object | what | before | after | why |\n"
	    "| --- | --- | --- | --- | --- | --- |\n"
	    "| **high** | `apps/Deployment/llm/vllm` | `max_model_len` | `8192` | `4096` |"
	    " shorter context |\n"
	    "| **medium** | `apps/Deployment/llm/vllm` | `dtype` | `bfloat16` | `float16` |"
	    " different numerics |\n"
	    "\n"
	    "#### orchestration (1)\n"
	    "\n"
	    "| severity | object | what | before | after | why |\n"
	    "| --- | --- | --- | --- | --- | --- |\n"
	    "| **medium** | `autoscaling/HorizontalPodAutoscaler/llm/vllm` | `/spec/metrics` (removed) |"
	    " `[{\"type\":\"Pods\"}]` | \xe2\x80\x94 |  |\n"
	    "\n"
	    "#### other (1)\n"
	    "\n"
	    "| severity | object | what | before | after | why |\n"
	    "| --- | --- | --- | --- | --- | --- |\n"
	    "| **info** | `v1/ConfigMap/llm/tmpl` | `/data/x` (added) | \xe2\x80\x94 | `y` |"
	    " new key |\n");
}

/* Splits a GFM table row into cells the way cmark-gfm does: `\` escapes the next byte. */
static int
count_cells(const char *row)
{
	int n = 0;
	const char *p;

	for (p = row; *p != '\0' && *p != '\n'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '|')
			n++;
	}
	return n - 1;
}

static void
test_markdown_escaping(void **state)
{
	const char doc[] =
		"{\"schema\": \"skewd.diff/v1\", \"changes\": ["
		" {\"object\": \"v1/ConfigMap/ns/a|b\", \"path\": \"/data/``k`\", \"kind\": \"modified\","
		"  \"before\": \"<script>alert(1)</script>\", \"after\": \"x\\\\|y\\nz\","
		"  \"category\": \"other\", \"severity\": \"low\","
		"  \"summary\": \"<img src=x onerror=alert(1)> | *bold* [l](http://e) @team & `c`\"}]}";
	struct render_opts o = { "a|`b`.yaml", "<b>.yaml", 0 };
	char *m, *row, *line_end;

	(void)state;
	m = render_str(RENDER_MARKDOWN, doc, &o);
	/* Labels in code spans: a fence longer than the backtick run inside, padded. */
	assert_non_null(strstr(m, "### skewd diff: ``a|`b`.yaml`` \xe2\x86\x92 `<b>.yaml`\n"));
	row = strstr(m, "| **low** |");
	assert_non_null(row);
	line_end = strchr(row, '\n');
	assert_non_null(line_end);
	/* Exactly six cells: no value broke out of its cell. */
	assert_int_equal(count_cells(row), 6);
	assert_non_null(strstr(row, "`v1/ConfigMap/ns/a\\|b`"));
	assert_non_null(strstr(row, "``` /data/``k` ```"));
	/* HTML in a code span is shown, not run. */
	assert_non_null(strstr(row, "`<script>alert(1)</script>`"));
	/* A backslash before a pipe is doubled so the pipe stays escaped; newlines are marks. */
	assert_non_null(strstr(row, "`x\\\\\\|y\xe2\x86\xb5z`"));
	/* Prose: no raw HTML, Markdown punctuation escaped. */
	assert_non_null(strstr(row, "&lt;img src=x onerror=alert(1)&gt; \\| \\*bold\\* "
	    "\\[l\\](http://e) \\@team &amp; \\`c\\` |"));
	assert_null(strstr(row, "<img"));
	free(m);
}

static void
test_ordering(void **state)
{
	const char doc[] =
		"{\"schema\": \"skewd.diff/v1\", \"changes\": ["
		" {\"object\": \"o1\", \"kind\": \"added\", \"after\": 1, \"category\": \"model\","
		"  \"severity\": \"low\"},"
		" {\"object\": \"o2\", \"kind\": \"added\", \"after\": 1, \"category\": \"hardware\","
		"  \"severity\": \"critical\"},"
		" {\"object\": \"o3\", \"kind\": \"added\", \"after\": 1, \"category\": \"model\","
		"  \"severity\": \"high\"},"
		" {\"object\": \"o4\", \"kind\": \"added\", \"after\": 1, \"category\": \"serving\","
		"  \"severity\": \"high\"},"
		" {\"object\": \"o5\", \"kind\": \"added\", \"after\": 1, \"category\": \"model\","
		"  \"severity\": \"high\"}]}";
	char *t;
	const char *p2, *p3, *p5, *p1, *p4;

	(void)state;
	t = render_str(RENDER_TEXT, doc, NULL);
	p2 = strstr(t, "o2");
	p3 = strstr(t, "o3");
	p5 = strstr(t, "o5");
	p1 = strstr(t, "o1");
	p4 = strstr(t, "o4");
	assert_true(p2 && p3 && p5 && p1 && p4);
	/* hardware (critical) first; model and serving tie on high: fixed order, model first;
	 * within model: high (document order o3, o5) then low. */
	assert_true(p2 < p3 && p3 < p5 && p5 < p1 && p1 < p4);
	free(t);
}

static void
test_json_stable(void **state)
{
	struct buf b = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	json_t *d = load(two_changes), *back;

	(void)state;
	assert_int_equal(render_json(d, &b, &e), 0);
	assert_true(strncmp(buf_str(&b), "{\n  \"schema\": \"skewd.diff/v1\",\n  \"summary\": {", 45) == 0);
	assert_int_equal(buf_str(&b)[buf_len(&b) - 1], '\n');
	back = load(buf_str(&b));
	assert_true(json_equal(back, d));
	json_decref(back);
	buf_release(&b);
	json_decref(d);
}

static void
test_invalid_documents(void **state)
{
	static const struct {
		const char *doc;
		enum err_code code;
		const char *msg;
	} cases[] = {
		{ "[]", ERR_INVALID, "not a JSON object" },
		{ "{\"changes\": []}", ERR_INVALID, "no 'schema'" },
		{ "{\"schema\": \"skewd.diff/v2\", \"changes\": []}", ERR_UNSUPPORTED, "'skewd.diff/v2'" },
		{ "{\"schema\": \"skewd.diff/v1\"}", ERR_INVALID, "no 'changes'" },
		{ "{\"schema\": \"skewd.diff/v1\", \"changes\": [{\"object\": \"o\", \"kind\": \"added\","
		  " \"after\": 1, \"severity\": \"low\"}]}", ERR_INVALID, "change 0 of the diff has no string 'category'" },
		{ "{\"schema\": \"skewd.diff/v1\", \"changes\": [{\"object\": \"o\", \"kind\": \"added\","
		  " \"after\": 1, \"category\": \"gpu\", \"severity\": \"low\"}]}", ERR_INVALID, "unknown category 'gpu'" },
		{ "{\"schema\": \"skewd.diff/v1\", \"changes\": [{\"object\": \"o\", \"kind\": \"modified\","
		  " \"after\": 1, \"category\": \"model\", \"severity\": \"low\"}]}", ERR_INVALID, "no 'before'" },
		{ "{\"schema\": \"skewd.diff/v1\", \"changes\": [{\"object\": \"o\", \"kind\": \"moved\","
		  " \"category\": \"model\", \"severity\": \"low\"}]}", ERR_INVALID, "unknown kind 'moved'" },
	};
	enum render_format fmts[] = { RENDER_TEXT, RENDER_MARKDOWN, RENDER_JSON };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < 3; k++) {
			struct buf b = BUF_INIT(TEST_BUF_MAX);
			struct err e = ERR_INIT;
			json_t *d = load(cases[i].doc);

			assert_int_equal(render_diff(fmts[k], d, NULL, &b, &e), -1);
			assert_int_equal(e.code, cases[i].code);
			if (strstr(e.msg, cases[i].msg) == NULL)
				fail_msg("case %zu: message '%s' lacks '%s'", i, e.msg, cases[i].msg);
			/* Nothing was written before the check failed. */
			assert_int_equal(buf_len(&b), 0);
			buf_release(&b);
			json_decref(d);
		}
	}
	{
		struct buf b = BUF_INIT(TEST_BUF_MAX);
		struct err e = ERR_INIT;
		json_t *d = load(two_changes);

		assert_int_equal(render_diff(RENDER_PATCH, d, NULL, &b, &e), -1);
		assert_int_equal(e.code, ERR_INVALID);
		json_decref(d);
	}
}

static void
test_buffer_cap(void **state)
{
	struct buf b = BUF_INIT(64);
	struct err e = ERR_INIT;
	json_t *d = load(two_changes);

	(void)state;
	assert_int_equal(render_text(d, NULL, &b, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_int_equal(buf_len(&b), 0);
	json_decref(d);
}

/* --- unified diff --- */

static char *
udiff(const char *a, const char *b, unsigned ctx)
{
	struct buf out = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;

	if (render_unified(a, strlen(a), b, strlen(b), "a", "b", ctx, &out, &e) < 0)
		fail_msg("unified diff failed: %s", e.msg);
	return buf_take(&out, NULL);
}

static void
expect_udiff(const char *a, const char *b, unsigned ctx, const char *want)
{
	char *got = udiff(a, b, ctx);

	if (strcmp(got, want) != 0) {
		print_message("--- want\n%s--- got\n%s---\n", want, got);
		fail();
	}
	free(got);
}

static void
test_unified_trivial(void **state)
{
	(void)state;
	expect_udiff("", "", 3, "");
	expect_udiff("a\nb\nc\n", "a\nb\nc\n", 3, "");
	expect_udiff("", "x\ny\n", 3, "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	expect_udiff("x\ny\n", "", 3, "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	expect_udiff("a\nb\n", "c\nd\ne\n", 3,
	    "--- a\n+++ b\n@@ -1,2 +1,3 @@\n-a\n-b\n+c\n+d\n+e\n");
	expect_udiff("a\n", "b\n", 3, "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n");
}

static void
test_unified_start_end(void **state)
{
	(void)state;
	expect_udiff("1\n2\n3\n4\n5\n6\n", "0\n1\n2\n3\n4\n5\n6\n", 3,
	    "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n");
	expect_udiff("1\n2\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\n6\n7\n", 3,
	    "--- a\n+++ b\n@@ -4,3 +4,4 @@\n 4\n 5\n 6\n+7\n");
	expect_udiff("1\n2\n3\n4\n5\n6\n", "2\n3\n4\n5\n", 1,
	    "--- a\n+++ b\n@@ -1,2 +1 @@\n-1\n 2\n@@ -5,2 +4 @@\n 5\n-6\n");
}

static void
test_unified_hunk_merging(void **state)
{
	const char a[] = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n";

	(void)state;
	/* Changes at 2 and 9: 6 equal lines between, 2 x 3 context: one hunk. */
	expect_udiff(a, "1\nB\n3\n4\n5\n6\n7\n8\nI\n10\n11\n12\n13\n14\n15\n16\n", 3,
	    "--- a\n+++ b\n@@ -1,12 +1,12 @@\n 1\n-2\n+B\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+I\n"
	    " 10\n 11\n 12\n");
	/* Changes at 2 and 10: 7 equal lines between: two hunks. */
	expect_udiff(a, "1\nB\n3\n4\n5\n6\n7\n8\n9\nJ\n11\n12\n13\n14\n15\n16\n", 3,
	    "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+B\n 3\n 4\n 5\n"
	    "@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+J\n 11\n 12\n 13\n");
	/* Context 0. */
	expect_udiff("a\nb\nc\n", "a\nX\nc\n", 0, "--- a\n+++ b\n@@ -2 +2 @@\n-b\n+X\n");
}

static void
test_unified_no_newline(void **state)
{
	(void)state;
	expect_udiff("a\nb", "a\nb\n", 3,
	    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	expect_udiff("a\nb", "a\nc", 3,
	    "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
	    "\\ No newline at end of file\n");
}

/*
 * The newline ending the line at p. Not strchr(): under ASan's strict_string_checks
 * each strchr() reads the rest of the string, which makes these walks over a
 * 200,000-line patch quadratic (minutes instead of milliseconds).
 */
static const char *
eol(const char *p)
{
	while (*p != '\n')
		p++;
	return p;
}

/* Applies a unified diff to `a` (strict: every context and removed line must match). */
static char *
apply(const char *a, const char *patch)
{
	struct buf out = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	const char *p = patch, *ap = a, *nl;
	long aline = 1, start;

	if (*p == '\0')
		return strdup(a);
	p = eol(p) + 1;
	p = eol(p) + 1;
	while (*p != '\0') {
		char *end;
		long count = 1;

		assert_true(strncmp(p, "@@ -", 4) == 0);
		start = strtol(p + 4, &end, 10);
		if (*end == ',')
			count = strtol(end + 1, NULL, 10);
		/* An empty old range names the line before it. */
		if (count == 0)
			start++;
		for (; aline < start; aline++) {
			nl = eol(ap);
			assert_int_equal(buf_add(&out, ap, (size_t)(nl - ap) + 1, &e), 0);
			ap = nl + 1;
		}
		p = eol(p) + 1;
		while (*p == ' ' || *p == '-' || *p == '+') {
			nl = eol(p);
			if (*p != '+') {
				size_t len = (size_t)(nl - p);

				assert_true(strncmp(ap, p + 1, len) == 0);
				ap += len;
				aline++;
			}
			if (*p != '-')
				assert_int_equal(buf_add(&out, p + 1, (size_t)(nl - p), &e), 0);
			p = nl + 1;
		}
	}
	assert_int_equal(buf_addstr(&out, ap, &e), 0);
	return buf_take(&out, NULL);
}

static size_t
count_changed(const char *patch)
{
	size_t n = 0;
	const char *p;

	for (p = patch; *p != '\0'; p = eol(p) + 1) {
		if ((*p == '-' && strncmp(p, "--- ", 4) != 0) ||
		    (*p == '+' && strncmp(p, "+++ ", 4) != 0))
			n++;
	}
	return n;
}

/* Length of a longest common subsequence of two line arrays (dynamic programming). */
static size_t
lcs(const int *a, size_t n, const int *b, size_t m)
{
	size_t *row = calloc((m + 1) * (n + 1), sizeof(size_t)), i, j, r;

	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			if (a[i - 1] == b[j - 1])
				row[i * (m + 1) + j] = row[(i - 1) * (m + 1) + j - 1] + 1;
			else
				row[i * (m + 1) + j] = row[(i - 1) * (m + 1) + j] > row[i * (m + 1) + j - 1] ?
				    row[(i - 1) * (m + 1) + j] : row[i * (m + 1) + j - 1];
		}
	}
	r = row[n * (m + 1) + m];
	free(row);
	return r;
}

static void
lines_of(const int *v, size_t n, struct buf *out)
{
	struct err e = ERR_INIT;
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_addf(out, &e, "%d\n", v[i]), 0);
}

/* Random pairs over a small alphabet: the patch applies and is minimal. */
static void
test_unified_random_minimal(void **state)
{
	struct buf ba = BUF_INIT(TEST_BUF_MAX), bb = BUF_INIT(TEST_BUF_MAX);
	int a[80], b[80];
	unsigned seed = 12345;
	int round;

	(void)state;
	for (round = 0; round < 400; round++) {
		size_t n, m, i;
		unsigned ctx;
		char *patch, *applied;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 8) % 60;
		seed = seed * 1103515245u + 12345u;
		m = (seed >> 8) % 60;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			a[i] = (int)((seed >> 16) % 5);
		}
		for (i = 0; i < m; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Half the rounds: b is a mutation of a. */
			b[i] = (round & 1) && i < n && (seed >> 16) % 4 != 0 ? a[i] : (int)((seed >> 20) % 5);
		}
		ctx = (unsigned)(round % 4);
		lines_of(a, n, &ba);
		lines_of(b, m, &bb);
		patch = udiff(buf_str(&ba), buf_str(&bb), ctx);
		applied = apply(buf_str(&ba), patch);
		assert_string_equal(applied, buf_str(&bb));
		assert_int_equal(count_changed(patch), n + m - 2 * lcs(a, n, b, m));
		free(applied);
		free(patch);
	}
	buf_release(&ba);
	buf_release(&bb);
}

/* Two large texts: few scattered edits are found quickly and exactly; completely
 * different texts still give a correct patch (the cost bound). */
static void
test_unified_large(void **state)
{
	struct buf ba = BUF_INIT(TEST_BUF_MAX), bb = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;
	char *patch, *applied;
	long i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		assert_int_equal(buf_addf(&ba, &e, "line %ld: value\n", i), 0);
		if (i % 5000 == 17)
			assert_int_equal(buf_addf(&bb, &e, "line %ld: changed\n", i), 0);
		else if (i % 7000 != 3)
			assert_int_equal(buf_addf(&bb, &e, "line %ld: value\n", i), 0);
	}
	patch = udiff(buf_str(&ba), buf_str(&bb), 3);
	/* 40 replaced lines (2 each) + 29 deleted. */
	assert_int_equal(count_changed(patch), 40 * 2 + 29);
	applied = apply(buf_str(&ba), patch);
	assert_string_equal(applied, buf_str(&bb));
	free(applied);
	free(patch);

	buf_reset(&bb);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_addf(&bb, &e, "other %ld\n", (i * 7919) % 20000), 0);
	buf_reset(&ba);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_addf(&ba, &e, "other %ld\n", (i * 104729) % 20000), 0);
	patch = udiff(buf_str(&ba), buf_str(&bb), 3);
	applied = apply(buf_str(&ba), patch);
	assert_string_equal(applied, buf_str(&bb));
	free(applied);
	free(patch);
	buf_release(&ba);
	buf_release(&bb);
}

static void
test_unified_labels(void **state)
{
	struct buf out = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(render_unified("a\n", 2, "b\n", 2, "x\ny", NULL, 3, &out, &e), 0);
	assert_string_equal(buf_str(&out), "--- x?y\n+++ b\n@@ -1 +1 @@\n-a\n+b\n");
	buf_release(&out);
}

/* The patch format on two normalised sides: YAML documents from doc_emit_yaml(). */
static void
test_patch_format(void **state)
{
	json_t *a = load("[{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"x\"},"
	    " \"spec\": {\"image\": \"v1\", \"args\": [\"--a\", \"8192\"], \"n\": 3}},"
	    " {\"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}}]");
	json_t *b = load("[{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"x\"},"
	    " \"spec\": {\"image\": \"v2\", \"args\": [\"--a\", \"8192\"], \"n\": 3}},"
	    " {\"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}}]");
	json_t *notarray = load("{\"kind\": \"Service\"}");
	struct buf out = BUF_INIT(TEST_BUF_MAX);
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(render_patch(a, b, "a.yaml", "b.yaml", &out, &e), 0);
	assert_string_equal(buf_str(&out),
	    "--- a.yaml\n+++ b.yaml\n@@ -6,7 +6,7 @@\n   args:\n   - --a\n   - '8192'\n"
	    "-  image: v1\n+  image: v2\n   'n': 3\n ---\n kind: Service\n");
	buf_reset(&out);
	assert_int_equal(render_patch(a, a, NULL, NULL, &out, &e), 0);
	assert_int_equal(buf_len(&out), 0);
	assert_int_equal(render_patch(a, notarray, NULL, NULL, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "after side"));
	buf_release(&out);
	json_decref(notarray);
	json_decref(b);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_text_plain),
		cmocka_unit_test(test_text_color),
		cmocka_unit_test(test_text_escapes_terminal_controls),
		cmocka_unit_test(test_text_no_changes),
		cmocka_unit_test(test_text_long_value_cut),
		cmocka_unit_test(test_markdown_exact),
		cmocka_unit_test(test_markdown_escaping),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_json_stable),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_buffer_cap),
		cmocka_unit_test(test_unified_trivial),
		cmocka_unit_test(test_unified_start_end),
		cmocka_unit_test(test_unified_hunk_merging),
		cmocka_unit_test(test_unified_no_newline),
		cmocka_unit_test(test_unified_random_minimal),
		cmocka_unit_test(test_unified_large),
		cmocka_unit_test(test_unified_labels),
		cmocka_unit_test(test_patch_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
