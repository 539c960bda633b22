/* cmd_stubs.c — subcommands not built yet; each answers "not implemented" until its file lands. */
#include <stdio.h>

#include "commands.h"

#define NOT_YET(fn, name)                                                                  \
	int fn(int argc, char **argv)                                                      \
	{                                                                                  \
		(void)argc;                                                                \
		(void)argv;                                                                \
		fprintf(stderr, "appdeploy: %s is not implemented in this build yet\n", name); \
		return 1;                                                                  \
	}

