/* cmd_common.h — the flags render, diff, apply, serve and dev share, and the CLI's diagnostics sink (cmd_opts.c). */
#ifndef SM_CMD_COMMON_H
#define SM_CMD_COMMON_H

#include <stddef.h>

#include "diag.h"
#include "pipeline.h"

/* Parsed command line; strings point into argv, arrays are malloc'd (cmd_opts_free). */
struct cmd_opts {
	struct pipeline_opts pl; /* what the pipeline is given; its arrays are the ones below */
	const char *out;         /* render -o DIR|- */
	const char **var_files, **vars, **pull_secrets, **sources; /* owned, in flag order */
	size_t n_var_files, n_vars, n_pull_secrets, n_sources;
};

/* Parses argv (argv[0] is the subcommand). sync_flags allows the apply/diff flags. Returns 0, or 2
 * after printing a usage error. */
int cmd_opts_parse(int argc, char **argv, int sync_flags, struct cmd_opts *c);
void cmd_opts_free(struct cmd_opts *c);

/* Takes the n flags names[] that each take a value ("--name VALUE" or "--name=VALUE") out of argv
 * (argv[0] is the subcommand, for messages), storing each value in vals[i] (the last one given wins);
 * the other arguments stay, in order. Returns 0, or 2 after "NAME needs a value". */
int cmd_take_valued(int *argc, char **argv, const char *const *names, size_t n, const char **vals);

/* The CLI's sink: render failures as "appdeploy: MSG" and errors/warnings through log.c on
 * stderr, progress lines on stdout. */
extern const struct diag cmd_diag;

#endif
