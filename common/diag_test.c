/* test_diag.c — the pipeline's diagnostics sink: messages reach the sink's function, progress FILEs split into lines, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"

/* What a sink received: "KIND:text|" per message. */
struct seen {
	char buf[1024];
};

static void record(void *arg, enum diag_kind kind, const char *text)
{
	struct seen *s = arg;
	static const char *const names[] = {"E", "W", "R", "P"};
	size_t n = strlen(s->buf);
	snprintf(s->buf + n, sizeof s->buf - n, "%s:%s|", names[kind], text);
}

static const struct {
	const char *writes[4]; /* written to the progress FILE in turn (NULL ends) */
	int flush_each;        /* fflush after every write: pieces reach the cookie one by one */
	const char *want;
} progress_cases[] = {
	{{"a created\n", NULL}, 0, "P:a created|"},
	{{"a\nb\n", NULL}, 0, "P:a|P:b|"},
	{{"par", "tial li", "ne\nnext\n", NULL}, 1, "P:partial line|P:next|"},
	{{"no newline at the end", NULL}, 1, "P:no newline at the end|"},
	{{"\n\n", NULL}, 0, "P:|P:|"},
	{{"x\n", "", "y", NULL}, 1, "P:x|P:y|"},
	{{NULL}, 0, ""},
};

static void test_progress_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof progress_cases / sizeof progress_cases[0]; i++) {
		struct seen s = {""};
		const struct diag d = {record, &s};
		FILE *f = diag_progress_open(&d);
		assert_non_null(f);
		for (size_t j = 0; progress_cases[i].writes[j]; j++) {
			fputs(progress_cases[i].writes[j], f);
			if (progress_cases[i].flush_each)
				fflush(f);
		}
		fclose(f);
		assert_string_equal(s.buf, progress_cases[i].want);
	}
}

/* Progress is live: a line reaches the sink when its newline is written, not at fclose. */
static void test_progress_is_live(void **state)
{
	(void)state;
	struct seen s = {""};
	const struct diag d = {record, &s};
	FILE *f = diag_progress_open(&d);
	assert_non_null(f);
	fputs("deployment.apps/web: 1 of 2 updated\n", f);
	assert_string_equal(s.buf, "P:deployment.apps/web: 1 of 2 updated|");
	fputs("half", f);
	assert_string_equal(s.buf, "P:deployment.apps/web: 1 of 2 updated|");
	fputs(" done\n", f);
	assert_string_equal(s.buf, "P:deployment.apps/web: 1 of 2 updated|P:half done|");
	fclose(f);
}

static void test_say_kinds(void **state)
{
	(void)state;
	struct seen s = {""};
	const struct diag d = {record, &s};
	diag_error(&d, "web.yaml:%d: %s", 3, "refused");
	diag_warn(&d, "discovery %s", "stale");
	diag_say(&d, DIAG_RENDER, "template: a.yaml:1: x");
	diag_say(&d, DIAG_PROGRESS, "line");
	assert_string_equal(s.buf, "E:web.yaml:3: refused|W:discovery stale|R:template: a.yaml:1: x|P:line|");
	/* no sink: progress is dropped (errors go to log.c's stderr) */
	diag_say(NULL, DIAG_PROGRESS, "dropped");
	FILE *f = diag_progress_open(NULL);
	assert_non_null(f);
	fputs("dropped too\n", f);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress_lines),
		cmocka_unit_test(test_progress_is_live),
		cmocka_unit_test(test_say_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
