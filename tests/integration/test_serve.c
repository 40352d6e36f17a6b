/*
 * test_serve.c - `skewd serve` as a process: a bad config exits 2 naming the
 * file and line, a usage error exits 2, a store that cannot open exits 3,
 * a taken port exits 3, SIGTERM stops it with 0, and /readyz turns 503 when
 * the database files are destroyed under it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "testkit.h"
#include "util/banned.h"

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void
test_bad_config_exits_2_with_file_line(void **state)
{
	struct tk_server s;
	char path[400], *err = NULL, want[420];
	const char *argv[] = { "serve", "--config", path, NULL };

	(void)state;
	assert_int_equal(tk_prepare(&s, NULL), 0);
	snprintf(path, sizeof(path), "%s/bad.yaml", s.dir);
	assert_int_equal(write_file(path, "listen: \"127.0.0.1:0\"\n# a comment\nno_such_key: 1\n"), 0);
	assert_int_equal(tk_run(argv, NULL, &err), 2);
	assert_non_null(err);
	snprintf(want, sizeof(want), "%s:3", path);
	if (strstr(err, want) == NULL)
		fprintf(stderr, "stderr was: %s\n", err);
	assert_non_null(strstr(err, want));
	free(err);

	/* Malformed YAML, and a missing file. */
	assert_int_equal(write_file(path, "listen: [unclosed\n"), 0);
	assert_int_equal(tk_run(argv, NULL, &err), 2);
	assert_non_null(strstr(err, path));
	free(err);
	snprintf(path, sizeof(path), "%s/missing.yaml", s.dir);
	assert_int_equal(tk_run(argv, NULL, &err), 2);
	assert_non_null(strstr(err, path));
	free(err);
	tk_cleanup(&s);
}

static void
test_usage_errors_exit_2(void **state)
{
	const char *unknown[] = { "serve", "--bogus", NULL };
	const char *dangling[] = { "serve", "--config", NULL };
	char *err = NULL;

	(void)state;
	assert_int_equal(tk_run(unknown, NULL, &err), 2);
	assert_non_null(strstr(err, "usage: skewd serve"));
	free(err);
	assert_int_equal(tk_run(dangling, NULL, &err), 2);
	free(err);
}

static void
test_store_refusal_exits_3(void **state)
{
	struct tk_server s;
	char path[400], yaml[800], *err = NULL;
	const char *argv[] = { "serve", "--config", path, NULL };

	(void)state;
	assert_int_equal(tk_prepare(&s, NULL), 0);
	/* data_dir is a regular file: the database cannot be created under it. */
	snprintf(path, sizeof(path), "%s/not-a-dir", s.dir);
	assert_int_equal(write_file(path, "x"), 0);
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/not-a-dir\"\n", s.dir);
	snprintf(path, sizeof(path), "%s/store.yaml", s.dir);
	assert_int_equal(write_file(path, yaml), 0);
	assert_int_equal(tk_run(argv, NULL, &err), 3);
	assert_non_null(strstr(err, "database"));
	free(err);
	tk_cleanup(&s);
}

static void
test_port_taken_exits_3(void **state)
{
	struct tk_server a, b;
	char yaml[512], *err = NULL;
	const char *port;
	const char *argv[] = { "serve", "--config", b.config, NULL };

	(void)state;
	assert_int_equal(tk_start(&a, NULL), 0);
	port = strrchr(a.url, ':');
	assert_non_null(port);
	assert_int_equal(tk_prepare(&b, NULL), 0);
	snprintf(yaml, sizeof(yaml), "listen: \"127.0.0.1:%s\"\ndata_dir: \"%s/data\"\n", port + 1, b.dir);
	assert_int_equal(write_file(b.config, yaml), 0);
	assert_int_equal(tk_run(argv, NULL, &err), 3);
	assert_non_null(strstr(err, "cannot listen"));
	free(err);
	assert_int_equal(tk_stop(&a), 0);
	tk_cleanup(&a);
	tk_cleanup(&b);
}

static void
test_sigterm_stops_cleanly(void **state)
{
	struct tk_server s;

	(void)state;
	assert_int_equal(tk_start(&s, NULL), 0);
	assert_int_equal(tk_stop(&s), 0);
	assert_int_equal(s.exit_status, 0);
	tk_cleanup(&s);
}

static void
test_sigint_stops_cleanly(void **state)
{
	struct tk_server s;
	int status = 0, waited;

	(void)state;
	assert_int_equal(tk_start(&s, NULL), 0);
	assert_int_equal(kill(s.pid, SIGINT), 0);
	for (waited = 0; waited < 10000; waited += 20) {
		if (waitpid(s.pid, &status, WNOHANG) == s.pid)
			break;
		usleep(20000);
	}
	assert_true(waited < 10000);
	s.pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	tk_cleanup(&s);
}

/*
 * Removing the database file, or chmod 000 on it, does not make a running
 * server unready: every worker keeps its open connection to the (unlinked)
 * inode, and tests run as root, which ignores file modes. What does is the
 * database being destroyed in place, as a failing disk or a careless copy
 * would: the main file, the WAL and the shared-memory index overwritten.
 */
static void
test_readyz_503_when_database_destroyed(void **state)
{
	static const char *const files[] = { "skewd.db", "skewd.db-wal", "skewd.db-shm" };
	struct tk_server s;
	struct tk_resp r;
	char path[400], junk[8192];
	size_t i;
	int k;

	(void)state;
	assert_int_equal(tk_start(&s, NULL), 0);
	assert_int_equal(tk_request(&s, "GET", "/readyz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);

	memset(junk, 'j', sizeof(junk));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/data/%s", s.dir, files[i]);
		f = fopen(path, "r+b");
		assert_non_null(f);
		assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
		fclose(f);
	}
	/* Every worker thread must see it, whichever serves the probe. */
	for (k = 0; k < 8; k++) {
		assert_int_equal(tk_request(&s, "GET", "/readyz", NULL, NULL, NULL, 0, 0, &r), 0);
		assert_int_equal(r.status, 503);
		assert_string_equal(tk_error_code(&r), "unavailable");
		assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")),
		    "database"));
		tk_resp_free(&r);
	}
	/* Liveness is unaffected. */
	assert_int_equal(tk_request(&s, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	assert_int_equal(tk_stop(&s), 0);
	tk_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config_exits_2_with_file_line),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_store_refusal_exits_3),
		cmocka_unit_test(test_port_taken_exits_3),
		cmocka_unit_test(test_sigterm_stops_cleanly),
		cmocka_unit_test(test_sigint_stops_cleanly),
		cmocka_unit_test(test_readyz_503_when_database_destroyed),
	};

	return cmocka_run_group_tests_name("serve", tests, NULL, NULL);
}
