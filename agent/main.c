/* main.c — appdeploy's entry point: picks the subcommand and hands it the rest of argv. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{"template", cmd_template, "template FILE... [-f VARS.yaml]... [-v key=value]... [-n NS]"},
	{"render", cmd_render, "render DIR [-f variables.yaml] [-v key=value]... [-n NS] [-o OUTDIR|-]"},
	{"diff", cmd_diff, "diff DIR [render flags] [--context C] [--kubeconfig F]"},
	{"apply", cmd_apply, "apply DIR [-n NS] [--context C] [--kubeconfig F] [--dry-run] [--no-prune] [--wait]"},
	{"serve", cmd_serve, "serve DIR [--listen ADDR] [--interval DUR]"},
	{"dev", cmd_dev, "dev SERVICE DIR [--local SRC] [--once] [apply flags]   # push local source into the pod"},
};

static int usage(FILE *out)
{
	fprintf(out, "usage:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  appdeploy %s\n", commands[i].usage);
	return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	log_init("appdeploy");
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	/* kube-appdeploy's form: flags and a folder, no subcommand, meant apply. */
	if (argv[1][0] == '-' && argv[1][1]) {
		static char apply[] = "apply";

		argv[0] = apply;
		return cmd_apply(argc, argv);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "appdeploy: unknown command \"%s\"\n", argv[1]);
	return usage(stderr);
}
