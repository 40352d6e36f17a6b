#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/banned.h"

void
cmd_usage(FILE *out)
{
	fputs("usage: skewd <command> [options]\n"
	    "\n"
	    "  serve [--config FILE]            run the service (REST API and dashboard)\n"
	    "  demo [--listen ADDR] [--data-dir DIR]\n"
	    "                                   run the service with a simulated cluster\n"
	    "  diff [--format F] [--ignore FILE] A B\n"
	    "                                   compare two saved states offline\n"
	    "  migrate [--config FILE] [--status]\n"
	    "                                   apply or list database migrations\n"
	    "  token create --name N --role viewer|editor|admin\n"
	    "  token list | token revoke --name N\n"
	    "                                   manage API tokens\n"
	    "  version                          print the version\n"
	    "  help                             print this help\n"
	    "\n"
	    "See README.md and docs/ for configuration and the API.\n", out);
}

int
cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fputs("usage: skewd version\n", stderr);
		return EXIT_USAGE;
	}
	printf("skewd %s\n", SKEWD_VERSION);
	return 0;
}

int
cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cmd_usage(stdout);
	return 0;
}
