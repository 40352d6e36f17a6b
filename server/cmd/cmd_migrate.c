/*
 * cmd_migrate.c - `skewd migrate [--config FILE] [--status]`: apply the
 * database migrations, or list them with their state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "config/config.h"
#include "store/store.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

static int
usage(FILE *out)
{
	fputs("usage: skewd migrate [--config FILE] [--status]\n"
	    "  applies the database migrations, or with --status lists each one:\n"
	    "  version, name, state (applied, pending, modified, unknown), applied at, SHA-256\n", out);
	return EXIT_USAGE;
}

/* Formats unix seconds as an ISO 8601 UTC time, or "-" for 0. */
static void
format_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, n, "-");
		return;
	}
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *
state_name(const struct store_migration *m)
{
	if (m->unknown)
		return "unknown";
	if (m->modified)
		return "modified";
	return m->applied ? "applied" : "pending";
}

static int
print_status(const char *db_path, const char *migrations_dir)
{
	struct store_migration *items = NULL;
	struct err e = ERR_INIT;
	char when[32];
	size_t n = 0, i;

	if (store_migration_status(db_path, migrations_dir, &items, &n, &e) < 0) {
		fprintf(stderr, "skewd: %s\n", e.msg);
		return e.code == ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
	}
	printf("database %s\n", db_path);
	printf("%-8s %-32s %-9s %-21s %s\n", "VERSION", "NAME", "STATE", "APPLIED AT", "SHA256");
	for (i = 0; i < n; i++) {
		format_time(items[i].applied_at, when, sizeof(when));
		printf("%04d     %-32s %-9s %-21s %s\n", items[i].version, items[i].name,
		    state_name(&items[i]), when, items[i].sha256);
	}
	free(items);
	return 0;
}

int
cmd_migrate(int argc, char **argv)
{
	struct config cfg;
	struct err e = ERR_INIT;
	struct store *s = NULL;
	const char *config_path = NULL;
	char *db_path = NULL;
	int status = 0, i, rc = EXIT_RUNTIME;
	enum log_level level;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--status") == 0)
			status = 1;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config_path = argv[i] + 9;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "skewd: unexpected argument '%s'\n", argv[i]);
			return usage(stderr);
		}
	}
	if (config_load(config_path, &cfg, &e) < 0) {
		fprintf(stderr, "skewd: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);
	log_set_json(cfg.log_json);
	db_path = config_db_path(&cfg);
	if (db_path == NULL) {
		fputs("skewd: out of memory\n", stderr);
		goto out;
	}
	if (status) {
		rc = print_status(db_path, cfg.migrations_dir);
		goto out;
	}
	if (store_open(db_path, cfg.migrations_dir, &s, &e) < 0) {
		fprintf(stderr, "skewd: %s\n", e.msg);
		rc = e.code == ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	printf("database %s is up to date\n", db_path);
	rc = 0;
out:
	store_close(s);
	free(db_path);
	config_release(&cfg);
	return rc;
}
