/*
 * fuzz_diff.c - libFuzzer target for the semantic diff of two arbitrary
 * documents and every renderer of its result.
 *
 * The input is split at the first line "====" into the "before" and "after"
 * sides (no such line: at the middle). Each side is loaded (doc_load_mem, any
 * format) and made a diff side; the two are compared with the built-in rules,
 * and the skewd.diff/v1 result is rendered as text (plain and coloured),
 * Markdown, JSON and a patch, and built into a report rendered as Markdown and
 * as a Slack message. Properties: a side compared with itself has no change;
 * the JSON rendering parses back to the same document. Built by hand, not by
 * CMake's default build (tests/lint/fuzz_smoke.sh does the same):
 *
 *   cmake -DIN=server/diff/rules.yaml -DOUT=diff_rules.c -DNAME=diff_rules_yaml \
 *       -P server/util/embed.cmake
 *   cmake -DIN=server/engine/knowledge.yaml -DOUT=knowledge.c -DNAME=engine_knowledge_yaml \
 *       -P server/util/embed.cmake
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_diff.c diff_rules.c knowledge.c server/diff/[a-z]*.c \
 *       server/render/[a-z]*.c server/engine/[a-z]*.c server/doc/[a-z]*.c \
 *       server/util/buf.c server/util/err.c -lyaml -ljansson -lcrypto -lm -o fuzz_diff
 *   ./fuzz_diff -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fuzz/seeds/fuzz_diff
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff/diff.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "render/render.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define FUZZ_MAX_OUT (64 * 1024 * 1024)
#define SEPARATOR "\n====\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct diff_rules *rules;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_diff: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e = ERR_INIT;

	(void)argc;
	(void)argv;
	if (engine_init(&e) < 0 || diff_rules_load(NULL, &rules, &e) < 0) {
		fprintf(stderr, "fuzz_diff: %s\n", e.msg);
		abort();
	}
	return 0;
}

static struct diff_side *
side(const char *label, const uint8_t *p, size_t n)
{
	struct doc_set *ds = NULL;
	struct diff_side *s = NULL;
	struct err e = ERR_INIT;

	if (doc_load_mem(label, (const char *)p, n, DOC_AUTO, &ds, &e) < 0)
		return NULL;
	if (diff_side_from_docs(ds, label, &s, &e) < 0) {
		check(s == NULL && e.msg[0] != '\0', "a failed side has a message");
		return NULL;
	}
	check(strcmp(diff_side_label(s), label) == 0, "the side keeps its label");
	return s;
}

static void
render_all(const json_t *diff, const struct diff_side *a, const struct diff_side *b)
{
	struct render_opts o = RENDER_OPTS_INIT;
	struct render_report_info info = { "fuzz/llm/deployment/x", "fuzz/llm/deployment/x", 1, 2,
		"baseline", "latest", "http://skewd.example/ui", NULL };
	struct buf out = BUF_INIT(FUZZ_MAX_OUT);
	struct err e = ERR_INIT;
	json_t *na, *nb, *report = NULL, *slack = NULL, *back;
	int color;

	o.label_before = "before.yaml";
	o.label_after = "after.yaml";
	for (color = 0; color < 2; color++) {
		o.color = color;
		if (render_text(diff, &o, &out, &e) < 0)
			check(e.msg[0] != '\0', "render_text failed without a message");
		buf_release(&out);
	}
	if (render_markdown(diff, &o, &out, &e) < 0)
		check(e.msg[0] != '\0', "render_markdown failed without a message");
	buf_release(&out);
	if (render_json(diff, &out, &e) == 0) {
		back = json_loadb(buf_str(&out), buf_len(&out), 0, NULL);
		check(back != NULL && json_equal(back, (json_t *)diff), "the JSON rendering parses back");
		json_decref(back);
	}
	buf_release(&out);
	check(render_diff(RENDER_PATCH, diff, &o, &out, &e) < 0, "render_diff refuses the patch format");
	buf_release(&out);
	na = diff_side_normalised(a);
	nb = diff_side_normalised(b);
	if (na != NULL && nb != NULL && render_patch(na, nb, "before.yaml", "after.yaml", &out, &e) < 0)
		check(e.msg[0] != '\0', "render_patch failed without a message");
	buf_release(&out);
	json_decref(na);
	json_decref(nb);
	if (render_report_build(diff, NULL, &info, RENDER_REPORT_MAX_CHANGES, &report, &e) == 0) {
		if (render_report_markdown(report, &out, &e) < 0)
			check(e.msg[0] != '\0', "render_report_markdown failed without a message");
		buf_release(&out);
		if (render_slack(report, &slack, &e) == 0) {
			check(json_array_size(json_object_get(slack, "blocks")) <= RENDER_SLACK_MAX_BLOCKS,
			    "Slack block limit");
			json_decref(slack);
		}
		json_decref(report);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memmem(data, size, SEPARATOR, strlen(SEPARATOR));
	size_t alen = sep != NULL ? (size_t)(sep - data) + 1 : size / 2;
	size_t boff = sep != NULL ? alen + strlen(SEPARATOR) - 1 : alen;
	struct diff_side *a = side("before.yaml", data, alen), *b = NULL;
	struct diff_result *res = NULL;
	struct err e = ERR_INIT;
	json_t *diff;

	if (a == NULL)
		return 0;
	/* A side against itself: nothing changed. */
	if (diff_run(rules, a, a, &res, &e) == 0) {
		check(diff_result_count(res) == 0, "a side compared with itself has changes");
		diff_result_free(res);
		res = NULL;
	}
	b = side("after.yaml", data + boff, size - boff);
	if (b == NULL)
		goto out;
	if (diff_run(rules, a, b, &res, &e) < 0) {
		check(e.msg[0] != '\0', "diff_run failed without a message");
		goto out;
	}
	diff = diff_result_to_json(res);
	check(diff != NULL, "diff_result_to_json");
	render_all(diff, a, b);
	json_decref(diff);
out:
	diff_result_free(res);
	diff_side_free(a);
	diff_side_free(b);
	return 0;
}
