/* cmd_common.h — the flag parsing render, diff and apply share (cmd_render.c); the options and the render step are loadset.h's. */
#ifndef SM_CMD_COMMON_H
#define SM_CMD_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "loadset.h"

/* Parses argv (argv[0] is the subcommand). sync_flags allows the apply/diff flags. Returns 0, or 2
 * after printing a usage error. */
int cmd_opts_parse(int argc, char **argv, int sync_flags, struct cmd_opts *c);
void cmd_opts_free(struct cmd_opts *c);

#endif
