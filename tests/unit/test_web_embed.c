/*
 * test_web_embed.c - the dashboard compiled into the binary: every file of
 * web/ the page loads is in the table with the same bytes as in the source
 * tree, with its content type and a stable ETag that follows the bytes; a
 * name outside the list is not found.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"
#include "http/http_int.h"
#include "util/banned.h"

/* Reads SKEWD_SOURCE_DIR/web/rel into a malloc'd buffer. */
static unsigned char *
read_source(const char *rel, size_t *len)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	char path[1024];
	unsigned char *data = NULL;
	long n;
	FILE *f;

	assert_non_null(src);
	assert_true((size_t)snprintf(path, sizeof(path), "%s/web/%s", src, rel) < sizeof(path));
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void
check_file(const char *rel, const char *want_type)
{
	const unsigned char *data = NULL;
	const char *ctype = NULL;
	unsigned char *src;
	size_t len = 0, slen;
	char etag[48], etag2[48];

	if (http_static_embedded(rel, &data, &len, &ctype, etag, sizeof(etag)) < 0)
		fail_msg("%s is not compiled into the binary", rel);
	src = read_source(rel, &slen);
	assert_int_equal(len, slen);
	assert_memory_equal(data, src, len);
	assert_string_equal(ctype, want_type);
	assert_true(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
	assert_int_equal(http_static_embedded(rel, &data, &len, &ctype, etag2, sizeof(etag2)), 0);
	assert_string_equal(etag, etag2);
	free(src);
}

static void
test_files_embedded(void **state)
{
	(void)state;
	check_file("index.html", "text/html; charset=utf-8");
	check_file("style.css", "text/css; charset=utf-8");
	check_file("app.js", "text/javascript; charset=utf-8");
	check_file("target.js", "text/javascript; charset=utf-8");
	check_file("api.js", "text/javascript; charset=utf-8");
	check_file("dom.js", "text/javascript; charset=utf-8");
	check_file("favicon.svg", "image/svg+xml");
	check_file("node_modules/uplot/dist/uPlot.iife.min.js", "text/javascript; charset=utf-8");
	check_file("node_modules/uplot/dist/uPlot.min.css", "text/css; charset=utf-8");
	check_file("node_modules/diff2html/bundles/js/diff2html.min.js", "text/javascript; charset=utf-8");
}

static void
test_etags_differ(void **state)
{
	const unsigned char *data;
	const char *ctype;
	size_t len;
	char a[48], b[48];

	(void)state;
	assert_int_equal(http_static_embedded("app.js", &data, &len, &ctype, a, sizeof(a)), 0);
	assert_int_equal(http_static_embedded("dom.js", &data, &len, &ctype, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
}

static void
test_unknown_names(void **state)
{
	static const char *const names[] = {
		"package.json", "node_modules/uplot/package.json", "web/index.html", "", "index.htm",
		"node_modules/diff2html/bundles/js/diff2html-ui.min.js",
	};
	const unsigned char *data;
	const char *ctype;
	size_t len, i;
	char etag[48];

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(http_static_embedded(names[i], &data, &len, &ctype, etag, sizeof(etag)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_embedded),
		cmocka_unit_test(test_etags_differ),
		cmocka_unit_test(test_unknown_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
