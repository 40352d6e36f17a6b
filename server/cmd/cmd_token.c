/*
 * cmd_token.c - `skewd token create|list|revoke`: manage API tokens.
 * `create` prints the new token on stdout, once, and nothing else there.
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
	fputs("usage: skewd token create --name NAME --role viewer|editor|admin [--config FILE]\n"
	    "       skewd token list [--config FILE]\n"
	    "       skewd token revoke --name NAME [--config FILE]\n", out);
	return EXIT_USAGE;
}

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

/* Input errors exit 2, anything else 3. */
static int
fail(const struct err *e)
{
	fprintf(stderr, "skewd: %s\n", e->msg);
	return e->code == ERR_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
}

static int
do_list(struct store *s)
{
	struct store_token *items = NULL;
	struct err e = ERR_INIT;
	char created[32], used[32];
	size_t n = 0, i;

	if (store_token_list(s, &items, &n, &e) < 0)
		return fail(&e);
	printf("%-32s %-7s %-21s %-21s %s\n", "NAME", "ROLE", "CREATED", "LAST USED", "STATE");
	for (i = 0; i < n; i++) {
		format_time(items[i].created_at, created, sizeof(created));
		format_time(items[i].last_used_at, used, sizeof(used));
		printf("%-32s %-7s %-21s %-21s %s\n", items[i].name, store_role_name(items[i].role),
		    created, used, items[i].revoked ? "revoked" : "active");
	}
	free(items);
	return 0;
}

int
cmd_token(int argc, char **argv)
{
	struct config cfg;
	struct err e = ERR_INIT;
	struct store *s = NULL;
	struct store_token tok;
	const char *verb, *config_path = NULL, *name = NULL, *role_name = NULL;
	char *db_path = NULL, *plain = NULL;
	enum store_role role = ROLE_NONE;
	enum log_level level;
	int i, rc = EXIT_RUNTIME;

	if (argc < 2)
		return usage(stderr);
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "revoke") != 0) {
		fprintf(stderr, "skewd: 'token %s' is not a token command\n", verb);
		return usage(stderr);
	}
	for (i = 2; i < argc; i++) {
		const char **slot = NULL, *a = argv[i];
		size_t flen = 0;

		if (strncmp(a, "--config", 8) == 0) {
			slot = &config_path;
			flen = 8;
		} else if (strncmp(a, "--name", 6) == 0 && strcmp(verb, "list") != 0) {
			slot = &name;
			flen = 6;
		} else if (strncmp(a, "--role", 6) == 0 && strcmp(verb, "create") == 0) {
			slot = &role_name;
			flen = 6;
		}
		if (slot != NULL && a[flen] == '=')
			*slot = a + flen + 1;
		else if (slot != NULL && a[flen] == '\0' && i + 1 < argc)
			*slot = argv[++i];
		else {
			fprintf(stderr, "skewd: unexpected argument '%s'\n", a);
			return usage(stderr);
		}
	}
	if (strcmp(verb, "list") != 0 && name == NULL) {
		fprintf(stderr, "skewd: 'token %s' needs --name\n", verb);
		return usage(stderr);
	}
	if (name != NULL && store_token_name_check(name, &e) < 0) {
		fprintf(stderr, "skewd: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "create") == 0) {
		role = store_role_parse(role_name);
		if (role == ROLE_NONE) {
			fputs("skewd: 'token create' needs --role viewer, editor or admin\n", stderr);
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
	if (store_open(db_path, cfg.migrations_dir, &s, &e) < 0) {
		rc = fail(&e);
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		rc = do_list(s);
	} else if (strcmp(verb, "revoke") == 0) {
		if (store_token_revoke(s, name, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		fprintf(stderr, "revoked token '%s'\n", name);
		rc = 0;
	} else {
		if (store_token_create(s, name, role, &plain, &tok, &e) < 0) {
			rc = fail(&e);
			goto out;
		}
		printf("%s\n", plain);
		fflush(stdout);
		fprintf(stderr, "created token '%s' (%s); it is shown only this once\n", tok.name,
		    store_role_name(tok.role));
		rc = 0;
	}
out:
	if (plain != NULL) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
	}
	store_close(s);
	free(db_path);
	config_release(&cfg);
	return rc;
}
