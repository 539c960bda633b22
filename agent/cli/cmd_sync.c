/* cmd_sync.c — `appdeploy diff` and `appdeploy apply`: flags, then the pipeline (pipeline.h); prints what it reports. */
#include <stdio.h>

#include "cmd_common.h"
#include "commands.h"
#include "pipeline.h"

int cmd_apply(int argc, char **argv)
{
	struct cmd_opts c;
	int rc = cmd_opts_parse(argc, argv, 1, &c);
	if (rc)
		return rc;
	struct sm_error err;
	rc = pipeline_run(&c.pl, PIPELINE_APPLY, &cmd_diag, NULL, &err) ? 1 : 0;
	fflush(stdout);
	if (rc) /* cut at 1023 bytes, as the error always was */
		fprintf(stderr, "appdeploy apply: %.1023s\n", err.msg);
	cmd_opts_free(&c);
	return rc;
}

int cmd_diff(int argc, char **argv)
{
	struct cmd_opts c;
	/* kubectl diff's convention: 0 no change, 1 changes, >1 an error */
	int rc = cmd_opts_parse(argc, argv, 1, &c);
	if (rc)
		return rc;
	struct sm_error err;
	int changes = 0;
	if (pipeline_run(&c.pl, PIPELINE_DIFF, &cmd_diag, &changes, &err)) {
		fflush(stdout);
		fprintf(stderr, "appdeploy diff: %.1023s\n", err.msg);
		rc = 2;
	} else {
		fflush(stdout);
		fprintf(stderr, "appdeploy diff: %d object%s would change\n", changes, changes == 1 ? "" : "s");
		rc = changes ? 1 : 0;
	}
	cmd_opts_free(&c);
	return rc;
}
