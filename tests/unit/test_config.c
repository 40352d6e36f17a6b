/*
 * test_config.c - the config loader: defaults, a full file, each environment
 * override, and every kind of bad file with its line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static char fixture_path[1024];

static const char *
fixture(const char *name)
{
	const char *dir = getenv("SKEWD_FIXTURES");

	assert_non_null(dir);
	snprintf(fixture_path, sizeof(fixture_path), "%s/config/%s", dir, name);
	return fixture_path;
}

/* No SKEWD_* variable may leak in from the environment running the tests. */
static int
clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; config_key_env(i) != NULL; i++)
		unsetenv(config_key_env(i));
	return 0;
}

static void
test_defaults(void **state)
{
	struct config c;
	struct err e = ERR_INIT;
	char *db;

	(void)state;
	assert_int_equal(config_load(NULL, &c, &e), 0);
	assert_null(c.path);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.data_dir, "./data");
	assert_int_equal(c.http_threads, HTTP_DEFAULT_THREADS);
	assert_int_equal(c.max_body_bytes, HTTP_MAX_BODY_BYTES);
	assert_int_equal(c.request_timeout_ms, HTTP_REQUEST_TIMEOUT_MS);
	assert_null(c.web_dir);
	assert_null(c.public_url);
	assert_null(c.migrations_dir);
	assert_int_equal(c.anonymous_read, 0);
	assert_string_equal(c.log_level, "info");
	assert_int_equal(c.log_json, 0);
	db = config_db_path(&c);
	assert_string_equal(db, "./data/skewd.db");
	free(db);
	assert_int_equal(c.collect_interval_s, CONFIG_DEFAULT_COLLECT_INTERVAL_S);
	assert_int_equal(c.allow_http_clusters, 0);
	assert_null(c.seal_key_file);
	assert_int_equal(c.in_cluster, 0);
	assert_int_equal(c.history_days, CONFIG_DEFAULT_HISTORY_DAYS);
	assert_int_equal(c.collect_timeout_ms, KUBE_REQUEST_TIMEOUT_MS);
	db = config_seal_key_path(&c);
	assert_string_equal(db, "./data/seal.key");
	free(db);
	config_release(&c);
	config_release(&c);
	config_release(NULL);

	/* An empty file (comments only) keeps the defaults too. */
	assert_int_equal(config_load(fixture("comments_only.yaml"), &c, &e), 0);
	assert_non_null(c.path);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	config_release(&c);
}

static void
test_full_file(void **state)
{
	struct config c;
	struct err e = ERR_INIT;
	char *db;

	(void)state;
	assert_int_equal(config_load(fixture("full.yaml"), &c, &e), 0);
	assert_string_equal(c.path, fixture_path);
	assert_string_equal(c.listen, "0.0.0.0:9090");
	assert_int_equal(c.http_threads, 8);
	assert_int_equal(c.max_body_bytes, 1048576);
	assert_int_equal(c.request_timeout_ms, 15000);
	assert_string_equal(c.web_dir, "/srv/skewd/web");
	assert_string_equal(c.public_url, "https://skewd.example.com");
	assert_string_equal(c.data_dir, "/var/lib/skewd");
	assert_string_equal(c.migrations_dir, "/usr/share/skewd/migrations");
	assert_int_equal(c.anonymous_read, 1);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.log_json, 1);
	assert_int_equal(c.auto_promote_after_s, 3600);
	db = config_db_path(&c);
	assert_string_equal(db, "/var/lib/skewd/skewd.db");
	free(db);
	config_release(&c);

	assert_int_equal(config_load(fixture("nulls.yaml"), &c, &e), 0);
	assert_null(c.web_dir);
	assert_null(c.public_url);
	config_release(&c);
}

struct env_case {
	const char *var;
	const char *value;
};

static void
test_env_overrides(void **state)
{
	static const struct env_case cases[] = {
		{ "SKEWD_LISTEN", "127.0.0.1:7000" },
		{ "SKEWD_HTTP_THREADS", "3" },
		{ "SKEWD_MAX_BODY_BYTES", "4096" },
		{ "SKEWD_REQUEST_TIMEOUT_MS", "2500" },
		{ "SKEWD_WEB_DIR", "/tmp/web" },
		{ "SKEWD_PUBLIC_URL", "http://skewd.local:8080" },
		{ "SKEWD_DATA_DIR", "/tmp/skewd-data/" },
		{ "SKEWD_MIGRATIONS_DIR", "/tmp/migrations" },
		{ "SKEWD_ANONYMOUS_READ", "1" },
		{ "SKEWD_LOG_LEVEL", "warn" },
		{ "SKEWD_LOG_JSON", "true" },
		{ "SKEWD_COLLECT_INTERVAL_S", "0" },
		{ "SKEWD_ALLOW_HTTP_CLUSTERS", "true" },
		{ "SKEWD_SEAL_KEY_FILE", "/tmp/k/seal.key" },
		{ "SKEWD_IN_CLUSTER", "1" },
		{ "SKEWD_COLLECT_TIMEOUT_MS", "1500" },
		{ "SKEWD_HISTORY_DAYS", "7" },
		{ "SKEWD_BUNDLE_RETENTION_DAYS", "14" },
		{ "SKEWD_ALLOW_HTTP_WEBHOOKS", "true" },
		{ "SKEWD_DCGM_SELECTOR", "app.kubernetes.io/name=dcgm-exporter" },
		{ "SKEWD_DIFF_RULES_FILE", "/etc/skewd/ignore.yaml" },
		{ "SKEWD_VERDICT_RULES_FILE", "/etc/skewd/verdict.yaml" },
		{ "SKEWD_AUTO_PROMOTE_AFTER_S", "1800" },
	};
	struct config c;
	struct err e = ERR_INIT;
	size_t i, nkeys;
	char *db;

	(void)state;
	for (nkeys = 0; config_key_name(nkeys) != NULL; nkeys++)
		;
	/* One case per key: a new key needs a new case here. */
	assert_int_equal(nkeys, sizeof(cases) / sizeof(cases[0]));
	for (i = 0; i < nkeys; i++)
		assert_string_equal(config_key_env(i), cases[i].var);

	for (i = 0; i < nkeys; i++) {
		/* Each variable alone, over the full file: the environment wins. */
		clear_env(NULL);
		setenv(cases[i].var, cases[i].value, 1);
		assert_int_equal(config_load(fixture("full.yaml"), &c, &e), 0);
		switch (i) {
		case 0: assert_string_equal(c.listen, "127.0.0.1:7000"); break;
		case 1: assert_int_equal(c.http_threads, 3); break;
		case 2: assert_int_equal(c.max_body_bytes, 4096); break;
		case 3: assert_int_equal(c.request_timeout_ms, 2500); break;
		case 4: assert_string_equal(c.web_dir, "/tmp/web"); break;
		case 5: assert_string_equal(c.public_url, "http://skewd.local:8080"); break;
		case 6:
			db = config_db_path(&c);
			assert_string_equal(db, "/tmp/skewd-data/skewd.db");
			free(db);
			break;
		case 7: assert_string_equal(c.migrations_dir, "/tmp/migrations"); break;
		case 8: assert_int_equal(c.anonymous_read, 1); break;
		case 9: assert_string_equal(c.log_level, "warn"); break;
		case 10: assert_int_equal(c.log_json, 1); break;
		case 11: assert_int_equal(c.collect_interval_s, 0); break;
		case 12: assert_int_equal(c.allow_http_clusters, 1); break;
		case 13:
			db = config_seal_key_path(&c);
			assert_string_equal(db, "/tmp/k/seal.key");
			free(db);
			break;
		case 14: assert_int_equal(c.in_cluster, 1); break;
		case 15: assert_int_equal(c.collect_timeout_ms, 1500); break;
		case 16: assert_int_equal(c.history_days, 7); break;
		case 17: assert_int_equal(c.bundle_retention_days, 14); break;
		case 18: assert_int_equal(c.allow_http_webhooks, 1); break;
		case 19: assert_string_equal(c.dcgm_selector, "app.kubernetes.io/name=dcgm-exporter"); break;
		case 20: assert_string_equal(c.diff_rules_file, "/etc/skewd/ignore.yaml"); break;
		case 21: assert_string_equal(c.verdict_rules_file, "/etc/skewd/verdict.yaml"); break;
		case 22: assert_int_equal(c.auto_promote_after_s, 1800); break;
		default: fail();
		}
		config_release(&c);
	}
	/* Switches turn off from the environment too. */
	clear_env(NULL);
	setenv("SKEWD_ANONYMOUS_READ", "false", 1);
	setenv("SKEWD_LOG_JSON", "0", 1);
	assert_int_equal(config_load(fixture("full.yaml"), &c, &e), 0);
	assert_int_equal(c.anonymous_read, 0);
	assert_int_equal(c.log_json, 0);
	config_release(&c);

	/* A bad value in the environment names the variable. */
	clear_env(NULL);
	setenv("SKEWD_HTTP_THREADS", "0", 1);
	assert_int_equal(config_load(NULL, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.msg,
	    "environment variable SKEWD_HTTP_THREADS: 'http_threads' must be between 1 and 256");
	clear_env(NULL);
	setenv("SKEWD_LOG_LEVEL", "loud", 1);
	assert_int_equal(config_load(NULL, &c, &e), -1);
	assert_non_null(strstr(e.msg, "SKEWD_LOG_LEVEL"));
	clear_env(NULL);
}

struct bad_case {
	const char *file;
	enum err_code code;
	const char *msg;   /* after "<path>:" */
};

static void
test_bad_files(void **state)
{
	static const struct bad_case cases[] = {
		{ "unknown_key.yaml", ERR_INVALID, "4: unknown key 'lisen'" },
		{ "wrong_type.yaml", ERR_INVALID, "2: 'http_threads' must be a number" },
		{ "quoted_number.yaml", ERR_INVALID, "1: 'http_threads' must be a number" },
		{ "nested.yaml", ERR_INVALID, "3: 'data_dir' must be a single value, not a mapping" },
		{ "out_of_range.yaml", ERR_INVALID, "2: 'http_threads' must be between 1 and 256" },
		{ "bad_bool.yaml", ERR_INVALID, "1: 'anonymous_read' must be true or false" },
		{ "bad_enum.yaml", ERR_INVALID, "1: 'log_level' must be one of error, warn, info, debug" },
		{ "malformed.yaml", ERR_INVALID, "3: malformed YAML: mapping values are not allowed" },
		{ "duplicate.yaml", ERR_INVALID, "2: 'data_dir' is set twice" },
		{ "two_docs.yaml", ERR_INVALID, "2: the config file must hold one YAML document" },
		{ "list_top.yaml", ERR_INVALID, "1: the config file must be a mapping of keys to values" },
		{ "alias.yaml", ERR_INVALID, "2: 'web_dir' must be a single value, not an alias" },
		{ "does_not_exist.yaml", ERR_IO, "0: cannot read the config file: No such file or directory" },
	};
	struct config c;
	struct err e = ERR_INIT;
	char want[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&e);
		assert_int_equal(config_load(fixture(cases[i].file), &c, &e), -1);
		snprintf(want, sizeof(want), "%s:%s", fixture_path, cases[i].msg);
		if (strncmp(e.msg, want, strlen(want)) != 0)
			fail_msg("%s: got '%s', want a message starting '%s'", cases[i].file, e.msg, want);
		assert_int_equal(e.code, cases[i].code);
		/* On failure the struct is released: nothing to free, no dangling strings. */
		assert_null(c.listen);
		assert_null(c.path);
	}
}

static void
test_unreadable_file(void **state)
{
	char dir[] = "/tmp/skewd-test-config-XXXXXX", path[128];
	struct config c;
	struct err e = ERR_INIT;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/skewd.yaml", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("listen: 127.0.0.1:8080\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0), 0);
	if (access(path, R_OK) == 0) {
		/* Root reads anything; a folder cannot be read as a file by anyone. */
		assert_int_equal(config_load(dir, &c, &e), -1);
	} else {
		assert_int_equal(config_load(path, &c, &e), -1);
		assert_non_null(strstr(e.msg, "Permission denied"));
	}
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, ":0: cannot read the config file"));
	unlink(path);
	rmdir(dir);
}

static void
test_too_large(void **state)
{
	char path[] = "/tmp/skewd-test-config-big-XXXXXX";
	struct config c;
	struct err e = ERR_INIT;
	size_t i;
	FILE *fp;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	for (i = 0; i <= CONFIG_MAX_BYTES / 16; i++)
		fputs("# padding line\n\n", fp);
	fclose(fp);
	assert_int_equal(config_load(path, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "larger than"));
	unlink(path);
}

/* docs/configuration.md names every key and its environment variable. */
static void
test_documented(void **state)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	static char doc[256 * 1024];
	char path[1024], needle[128];
	size_t n, i;
	FILE *fp;

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/docs/configuration.md", src);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(doc, 1, sizeof(doc) - 1, fp);
	fclose(fp);
	doc[n] = '\0';
	for (i = 0; config_key_name(i) != NULL; i++) {
		snprintf(needle, sizeof(needle), "`%s`", config_key_name(i));
		if (strstr(doc, needle) == NULL)
			fail_msg("docs/configuration.md does not document key %s", needle);
		snprintf(needle, sizeof(needle), "`%s`", config_key_env(i));
		if (strstr(doc, needle) == NULL)
			fail_msg("docs/configuration.md does not document %s", needle);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, clear_env),
		cmocka_unit_test_setup(test_full_file, clear_env),
		cmocka_unit_test_setup(test_env_overrides, clear_env),
		cmocka_unit_test_setup(test_bad_files, clear_env),
		cmocka_unit_test_setup(test_unreadable_file, clear_env),
		cmocka_unit_test_setup(test_too_large, clear_env),
		cmocka_unit_test_setup(test_documented, clear_env),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
