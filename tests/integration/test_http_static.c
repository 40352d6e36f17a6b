/*
 * test_http_static.c - the dashboard folder under attack: a configured
 * web_dir holding symlinks that point outside it, a symlinked folder, CGI
 * and SSI files (served as bytes, never run), hidden files; and a web_dir
 * that does not exist refuses to start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testkit.h"
#include "util/banned.h"

static struct tk_server srv;
static char web[400], outside[400];

static void
put(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	char yaml[1200], link[600], target[600];

	(void)state;
	if (tk_prepare(&srv, NULL) < 0)
		return -1;
	snprintf(web, sizeof(web), "%s/web", srv.dir);
	snprintf(outside, sizeof(outside), "%s/outside", srv.dir);
	if (mkdir(web, 0700) < 0 || mkdir(outside, 0700) < 0)
		return -1;
	put(web, "index.html", "<!doctype html><title>test dashboard</title>\n");
	put(web, "run.cgi", "#!/bin/sh\necho CGI-RAN\n");
	put(web, "page.shtml", "<!--#exec cmd=\"echo SSI-RAN\" -->\n");
	put(web, ".secret", "hidden\n");
	put(outside, "canary.txt", "OUTSIDE-CANARY\n");
	chmod(web, 0755);
	{
		char cgi[600];

		snprintf(cgi, sizeof(cgi), "%s/run.cgi", web);
		chmod(cgi, 0755);
	}
	/* A file symlink and a folder symlink, both leading out of web/. */
	snprintf(link, sizeof(link), "%s/leak.txt", web);
	snprintf(target, sizeof(target), "%s/canary.txt", outside);
	if (symlink(target, link) < 0)
		return -1;
	snprintf(link, sizeof(link), "%s/out", web);
	if (symlink(outside, link) < 0)
		return -1;
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/data\"\nweb_dir: \"%s\"\n", srv.dir, web);
	put(srv.dir, "config.yaml", yaml);
	return tk_launch(&srv);
}

static int
teardown(void **state)
{
	(void)state;
	tk_cleanup(&srv);
	return 0;
}

static void
test_configured_web_dir_is_served(void **state)
{
	struct tk_resp r;

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "test dashboard"));
	tk_resp_free(&r);
}

static void
test_symlinks_out_are_404(void **state)
{
	static const char *const paths[] = { "/leak.txt", "/out/canary.txt", "/out/", "/out" };
	struct tk_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(tk_request(&srv, "GET", paths[i], NULL, NULL, NULL, 0, 0, &r), 0);
		if (r.status != 404)
			fprintf(stderr, "%s answered %ld\n", paths[i], r.status);
		assert_int_equal(r.status, 404);
		assert_null(strstr(r.body, "OUTSIDE-CANARY"));
		tk_resp_free(&r);
	}
}

static void
test_cgi_and_ssi_never_run(void **state)
{
	struct tk_resp r;
	char ct[128];

	(void)state;
	assert_int_equal(tk_request(&srv, "GET", "/run.cgi", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	/* The script's text, byte for byte: not its output. */
	assert_string_equal(r.body, "#!/bin/sh\necho CGI-RAN\n");
	assert_non_null(tk_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/octet-stream");
	tk_resp_free(&r);

	assert_int_equal(tk_request(&srv, "GET", "/page.shtml", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<!--#exec cmd=\"echo SSI-RAN\" -->\n");
	tk_resp_free(&r);

	/* And no folder listing, no hidden files. */
	assert_int_equal(tk_request(&srv, "GET", "/.secret", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(tk_request(&srv, "PROPFIND", "/", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_true(r.status == 405 || r.status == 400);
	tk_resp_free(&r);
}

static void
test_missing_web_dir_refuses_to_start(void **state)
{
	struct tk_server s;
	char path[600], yaml[800], *err = NULL;
	const char *argv[] = { "serve", "--config", path, NULL };

	(void)state;
	assert_int_equal(tk_prepare(&s, NULL), 0);
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/data\"\nweb_dir: \"%s/nope\"\n",
	    s.dir, s.dir);
	snprintf(path, sizeof(path), "%s/config.yaml", s.dir);
	put(s.dir, "config.yaml", yaml);
	assert_int_equal(tk_run(argv, NULL, &err), 3);
	assert_non_null(strstr(err, "web_dir"));
	free(err);
	tk_cleanup(&s);
}

static void
test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configured_web_dir_is_served),
		cmocka_unit_test(test_symlinks_out_are_404),
		cmocka_unit_test(test_cgi_and_ssi_never_run),
		cmocka_unit_test(test_missing_web_dir_refuses_to_start),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("http_static", tests, setup, teardown);
}
