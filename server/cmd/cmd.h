/*
 * cmd.h - the subcommands of the skewd binary (one file each, like git's builtin/).
 * Each takes the arguments after its own name (argv[0] is the subcommand name) and
 * returns the process exit code: 0 ok, 1 a meaningful result (e.g. diff found
 * changes), 2 usage or input error, 3 runtime failure.
 */
#ifndef SKEWD_CMD_CMD_H
#define SKEWD_CMD_CMD_H

#include <stdio.h>

#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Prints the top-level usage to `out`. */
void cmd_usage(FILE *out);

#endif
