/* placeholder until the owner of this command replaces it */
#include <stdio.h>
#include "cmd/cmd.h"
#include "util/banned.h"
int
cmd_diff(int argc, char **argv)
{
	(void)argc; (void)argv;
	fputs("skewd: 'diff' is not built yet\n", stderr);
	return EXIT_RUNTIME;
}
