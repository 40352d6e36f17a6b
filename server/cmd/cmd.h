/*
 * cmd.h - the subcommands of the skewd binary (one file each, like git's builtin/).
 * Each takes the arguments after its own name (argv[0] is the subcommand name) and
 * returns the process exit code: 0 ok, 1 a meaningful result (e.g. diff found
 * changes), 2 usage or input error, 3 runtime failure.
 */
#ifndef SKEWD_CMD_CMD_H
#define SKEWD_CMD_CMD_H

#include <signal.h>
#include <stdio.h>

#include "api/api.h"

#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* The running service, shared by `skewd serve` and `skewd demo`
 * (cmd_serve.c). Everything is owned by the struct except cfg (borrowed). */
struct notify;

struct serve {
	const struct config *cfg;
	char *db_path;
	struct store *store;
	struct seal *seal;
	struct collect *collect;
	struct notify *notify;      /* webhooks: told by the collector about changed snapshots */
	struct http_server *http;
	struct api_services svc;
};

/* Blocks SIGINT and SIGTERM in this thread (and every thread started later)
 * and ignores SIGPIPE; call before any thread starts, then sigwait(stop). */
void serve_block_signals(sigset_t *stop);
/* Opens the store and the seal key, sets up the collector (not started) and,
 * with in_cluster, registers the pod's own cluster. Prints why it failed
 * (prefixed with `prog`) and returns an exit code (0 = ok); on failure
 * everything opened is closed again. */
int serve_open(struct serve *sv, const struct config *cfg, const char *prog);
/* Starts the collector's scheduler and the HTTP server. Returns an exit code. */
int serve_start(struct serve *sv, const char *prog);
/* Stops the HTTP server, then the collector, closes the seal and the store. Idempotent. */
void serve_close(struct serve *sv);

/* Prints the top-level usage to `out`. */
void cmd_usage(FILE *out);

#endif
