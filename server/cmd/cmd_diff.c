/*
 * cmd_diff.c - `skewd diff`: compare two saved states offline.
 *
 * Loads both files with the document loader, diffs them with the built-in rules
 * (plus --ignore FILE), and prints one rendering. Exit status as diff(1) and
 * dyff: 0 no meaningful change, 1 changes, 2 any error (usage, a file that
 * cannot be read or parsed, a failed diff or write).
 */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "diff/diff.h"
#include "doc/doc.h"
#include "render/render.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define DIFF_EXIT_SAME 0
#define DIFF_EXIT_CHANGED 1
#define DIFF_EXIT_ERROR EXIT_USAGE

enum color_mode { COLOR_AUTO = 0, COLOR_ALWAYS, COLOR_NEVER };

static void
diff_usage(FILE *out)
{
	fputs("usage: skewd diff [--format text|json|markdown|patch] [--ignore FILE]\n"
	    "                  [--color auto|always|never] A B\n"
	    "\n"
	    "Compares two saved states of a service and prints what changed, classified\n"
	    "by category and severity. A and B are files: YAML (one or many documents,\n"
	    "as kubectl get -o yaml writes), JSON (an object or a List), or skewd\n"
	    "snapshot documents; '-' reads one of them from standard input.\n"
	    "\n"
	    "  -f, --format F    text (default), json (the skewd.diff/v1 document),\n"
	    "                    markdown (for a ticket), patch (unified diff of the\n"
	    "                    normalised sides as YAML)\n"
	    "  -i, --ignore FILE ignore rules and severity overrides (docs/diff.md)\n"
	    "      --color WHEN  colour the text format: auto (a terminal, and NO_COLOR\n"
	    "                    unset), always, never\n"
	    "  -h, --help        print this help\n"
	    "\n"
	    "Exit status: 0 no meaningful change, 1 changes found, 2 error.\n", out);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says what is wrong with the command line, then the usage; returns exit status 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("skewd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	diff_usage(stderr);
	return DIFF_EXIT_ERROR;
}

/* Colour for the text format: --color, else a terminal with NO_COLOR unset or empty. */
static int
want_color(enum color_mode mode)
{
	const char *no_color;

	if (mode != COLOR_AUTO)
		return mode == COLOR_ALWAYS;
	no_color = getenv("NO_COLOR");
	if (no_color != NULL && no_color[0] != '\0')
		return 0;
	return isatty(STDOUT_FILENO);
}

static int
load_side(const char *path, struct diff_side **out, struct err *e)
{
	struct doc_set *d = NULL;

	if (doc_load_file(path, DOC_AUTO, &d, e) < 0)
		return -1;
	/* The side takes the documents (and frees d). */
	if (diff_side_from_docs(d, path, out, e) < 0) {
		err_prefix(e, "%s", strcmp(path, "-") == 0 ? "standard input" : path);
		return -1;
	}
	return 0;
}

static int
write_all(const struct buf *b, struct err *e)
{
	if (fwrite(buf_str(b), 1, buf_len(b), stdout) != buf_len(b) || fflush(stdout) != 0)
		return err_set(e, ERR_IO, "cannot write the output");
	return 0;
}

int
cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "color", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum render_format fmt = RENDER_TEXT;
	enum color_mode color = COLOR_AUTO;
	const char *ignore = NULL, *pa, *pb;
	struct render_opts ro = RENDER_OPTS_INIT;
	struct diff_rules *rules = NULL;
	struct diff_side *sa = NULL, *sb = NULL;
	struct diff_result *res = NULL;
	struct err e = ERR_INIT;
	struct buf out = BUF_INIT(RENDER_MAX_BYTES);
	json_t *doc = NULL, *na = NULL, *nb = NULL;
	int c, ret = DIFF_EXIT_ERROR;

#ifdef __GLIBC__
	/* The diff frees millions of small JSON nodes it does not keep (whole Pods,
	 * status, noise) while it still allocates; with glibc's fast bins on, every large
	 * allocation after such frees runs malloc_consolidate(). Normalising in place
	 * removed the copies but not these frees: measured again after it, the
	 * 2000-workload YAML diff (tests/bench/) still takes about 25% more CPU with
	 * fast bins (1.84 s against 1.38 s). Without them freed chunks coalesce at once.
	 * This helps only this short-lived command; `skewd serve` keeps the default. */
	mallopt(M_MXFAST, 0);
#endif
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (render_format_parse(optarg, &fmt, &e) < 0)
				return usage_error("%s", e.msg);
			break;
		case 'i':
			ignore = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "auto") == 0)
				color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				color = COLOR_NEVER;
			else
				return usage_error("unknown --color '%.64s' (expected auto, always or never)",
				    optarg);
			break;
		case 'h':
			diff_usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("%s", argc - optind < 2 ? "diff needs two files, A and B" :
		    "diff takes exactly two files, A and B");
	pa = argv[optind];
	pb = argv[optind + 1];
	if (strcmp(pa, "-") == 0 && strcmp(pb, "-") == 0)
		return usage_error("%s", "only one of A and B can be '-' (standard input)");

	if (diff_rules_load(ignore, &rules, &e) < 0 ||
	    load_side(pa, &sa, &e) < 0 || load_side(pb, &sb, &e) < 0 ||
	    diff_run(rules, sa, sb, &res, &e) < 0)
		goto out;

	ro.label_before = pa;
	ro.label_after = pb;
	ro.color = fmt == RENDER_TEXT && want_color(color);
	if (fmt == RENDER_PATCH) {
		na = diff_side_normalised(sa);
		nb = diff_side_normalised(sb);
		if (na == NULL || nb == NULL) {
			err_set(&e, ERR_NOMEM, "out of memory normalising the sides for a patch");
			goto out;
		}
		if (render_patch(na, nb, pa, pb, &out, &e) < 0)
			goto out;
	} else {
		doc = diff_result_to_json(res);
		if (doc == NULL) {
			err_set(&e, ERR_NOMEM, "out of memory writing the diff document");
			goto out;
		}
		if (render_diff(fmt, doc, &ro, &out, &e) < 0)
			goto out;
	}
	if (write_all(&out, &e) < 0)
		goto out;
	ret = diff_result_count(res) > 0 ? DIFF_EXIT_CHANGED : DIFF_EXIT_SAME;
out:
	if (ret == DIFF_EXIT_ERROR)
		fprintf(stderr, "skewd: %s\n", e.msg[0] != '\0' ? e.msg : "diff failed");
	buf_release(&out);
	json_decref(nb);
	json_decref(na);
	json_decref(doc);
	diff_result_free(res);
	diff_side_free(sb);
	diff_side_free(sa);
	diff_rules_free(rules);
	return ret;
}
