/*
 * skewd - find what changed between the last good and the current state of an
 * LLM inference service on Kubernetes. This file only dispatches subcommands;
 * each lives in server/cmd/.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/banned.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "serve", cmd_serve },
	{ "demo", cmd_demo },
	{ "diff", cmd_diff },
	{ "migrate", cmd_migrate },
	{ "token", cmd_token },
	{ "version", cmd_version },
	{ "help", cmd_help },
};

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		cmd_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(argc - 1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "skewd: '%s' is not a skewd command; see 'skewd help'\n", argv[1]);
	return EXIT_USAGE;
}
