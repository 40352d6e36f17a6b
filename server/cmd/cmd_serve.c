/*
 * cmd_serve.c - `skewd serve [--config FILE]`: load the config, open the
 * store, start the HTTP server, print where it listens, and stop cleanly on
 * SIGINT or SIGTERM.
 *
 * Exit codes: 0 after a clean stop, 2 for a usage error or a bad config
 * (the message names the file and line), 3 when the store or the server
 * cannot start.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "http/http.h"
#include "store/store.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

static void
serve_usage(FILE *out)
{
	fputs("usage: skewd serve [--config FILE]\n"
	    "\n"
	    "Runs the skewd service: the REST API (openapi.yaml) and the dashboard.\n"
	    "Without --config, defaults and SKEWD_* environment variables apply\n"
	    "(docs/configuration.md). Stops cleanly on SIGINT or SIGTERM.\n", out);
}

int
cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct err e = ERR_INIT;
	struct store *st = NULL;
	struct http_server *h = NULL;
	struct api_services svc = { 0 };
	const char *config_path = NULL;
	char *db_path = NULL;
	enum log_level level;
	sigset_t stop;
	int i, sig = 0, loaded = 0, ret = EXIT_RUNTIME;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0 && argv[i][9] != '\0') {
			config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			serve_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "skewd serve: unknown or incomplete argument '%s'\n", argv[i]);
			serve_usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (config_load(config_path, &cfg, &e) < 0) {
		fprintf(stderr, "skewd serve: %s\n", e.msg);
		return EXIT_USAGE;
	}
	loaded = 1;
	if (cfg.log_level != NULL && log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level);
	log_set_json(cfg.log_json);

	db_path = config_db_path(&cfg);
	if (db_path == NULL) {
		fprintf(stderr, "skewd serve: out of memory\n");
		goto out;
	}
	if (store_open(db_path, cfg.migrations_dir, &st, &e) < 0) {
		fprintf(stderr, "skewd serve: cannot open the database '%s': %s\n", db_path, e.msg);
		goto out;
	}

	/* Block the stop signals before any thread starts, so every CivetWeb
	 * thread inherits the mask and only sigwait() below receives them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	svc.cfg = &cfg;
	svc.store = st;
	if (http_start(&svc, &h, &e) < 0) {
		fprintf(stderr, "skewd serve: %s\n", e.msg);
		goto out;
	}
	log_info("skewd %s listening on %s (database %s)", SKEWD_VERSION, http_url(h), db_path);
	printf("listening on %s\n", http_url(h));
	fflush(stdout);

	while (sigwait(&stop, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	ret = 0;
out:
	http_stop(h);
	store_close(st);
	free(db_path);
	if (loaded)
		config_release(&cfg);
	return ret;
}
