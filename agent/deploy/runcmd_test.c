/* runcmd_test.c — which line of a helper's stderr an error quotes (runcmd_reason), as a table, and a real run of sh. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runcmd.h"

static void test_reason(void **state)
{
	(void)state;
	static const struct {
		const char *err, *want;
	} cases[] = {
		/* git's advice after the fatal line is not the reason */
		{"fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\n"
		 "and the repository exists.\n",
		 "Could not read from remote repository"},
		{"error: pathspec 'x' did not match\nfatal: unable to checkout\nhint: try again\n", "unable to checkout"},
		/* a missing repository: the first fatal line names it, the second is the consequence */
		{"fatal: '/srv/none.git' does not appear to be a git repository\nfatal: Could not read from remote "
		 "repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
		 "'/srv/none.git' does not appear to be a git repository"},
		{"error: later\nfatal: first\n", "first"}, /* fatal says more than an error */
		{"error: one\r\nerror: two\n", "one"},     /* the first of its kind, CR dropped */
		{"warning: a\ntar: Exiting with failure status\n\n", "tar: Exiting with failure status"},
		{"", ""},
		{"\n\n", ""},
		{"fatal: \n", ""}, /* the prefix alone: nothing to quote */
	};
	char out[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		runcmd_reason(cases[i].err, out, sizeof out);
		if (strcmp(out, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out, cases[i].want);
	}
	runcmd_reason(NULL, out, sizeof out);
	assert_string_equal(out, "");
	runcmd_reason("fatal: a long reason\n", out, 7); /* cut to the buffer */
	assert_string_equal(out, "a long");
}

static void test_run(void **state)
{
	(void)state;
	const char *argv[] = {"sh", "-c", "echo out; echo \"fatal: $WHY\" >&2; echo advice >&2; exit 3", NULL};
	const char *env[] = {"WHY=no such ref", NULL};
	struct runcmd r;
	char why[64];
	assert_int_equal(runcmd(argv, env, 1024, &r), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "out\n");
	runcmd_reason(r.err, why, sizeof why);
	assert_string_equal(why, "no such ref");
	runcmd_free(&r);
	const char *missing[] = {"/nonexistent/helper", NULL};
	assert_int_equal(runcmd(missing, NULL, 1024, &r), -1);
	assert_int_equal(r.status, 127);
	runcmd_free(&r);
}

/* A child someone else reaped (here: SIGCHLD ignored, so the kernel reaps it) did not succeed: its outcome is unknown. */
static void test_reaped_elsewhere(void **state)
{
	(void)state;
	const char *argv[] = {"sh", "-c", "exit 0", NULL};
	struct runcmd r;
	char why[128];
	signal(SIGCHLD, SIG_IGN);
	assert_int_equal(runcmd(argv, NULL, 1024, &r), 0);
	signal(SIGCHLD, SIG_DFL);
	assert_int_equal(r.status, 1);
	runcmd_reason(r.err, why, sizeof why);
	assert_string_equal(why, "cannot wait for sh: No child processes");
	runcmd_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_reason), cmocka_unit_test(test_run),
					   cmocka_unit_test(test_reaped_elsewhere)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
