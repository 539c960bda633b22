/* test_sourcemode.c — the three service modes: names, state values, and what sourcemode.dev/source-modes allows, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sourcemode.h"

static void test_allowed(void **state)
{
	(void)state;
	static const struct {
		const char *runner, *modes, *want; /* want: the JSON list */
	} cases[] = {
		{NULL, NULL, "[]"},                                 /* no runner annotation: no source mode */
		{NULL, "hostpath,sync", "[]"},                      /* the list alone allows nothing */
		{"go", NULL, "[\"ci\", \"hostpath\"]"},             /* runner only: the one source mode of old */
		{"go", "hostpath,sync", "[\"ci\", \"hostpath\", \"sync\"]"},
		{"go", "sync", "[\"ci\", \"sync\"]"},               /* a remote-cluster-only template */
		{"go", " sync , hostpath ", "[\"ci\", \"hostpath\", \"sync\"]"}, /* spaces, any order */
		{"go", "sync,sync,", "[\"ci\", \"sync\"]"},
		{"go", "rsync,host", "[\"ci\", \"hostpath\"]"},     /* no known name: as if absent */
		{"go", "", "[\"ci\", \"hostpath\"]"},
		{"go", "syncx,hostpathy,sync", "[\"ci\", \"sync\"]"}, /* whole names only */
		{"go", "ci", "[\"ci\", \"hostpath\"]"},             /* ci is always there, not a source mode */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *got = sourcemode_allowed_json(sourcemode_allowed(cases[i].runner, cases[i].modes));
		char *text = json_dumps(got, 0);
		if (strcmp(text, cases[i].want))
			fail_msg("case %zu (%s, %s): got %s, want %s", i, cases[i].runner ?: "NULL", cases[i].modes ?: "NULL",
				 text, cases[i].want);
		free(text);
		json_decref(got);
	}
}

static void test_names_and_state(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int mode;
		const char *kind;
	} cases[] = {
		{"ci", SOURCEMODE_CI, "source-off"},
		{"hostpath", SOURCEMODE_HOSTPATH, "source-on"},
		{"sync", SOURCEMODE_SYNC, "source-sync"},
	};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(sourcemode_parse(cases[i].name), cases[i].mode);
		assert_string_equal(sourcemode_name(cases[i].mode), cases[i].name);
		assert_string_equal(sourcemode_job_kind(cases[i].mode), cases[i].kind);
	}
	assert_int_equal(sourcemode_parse("on"), -1);
	assert_int_equal(sourcemode_parse(NULL), -1);
	assert_int_equal(sourcemode_parse("Sync"), -1);
	assert_string_equal(sourcemode_name(7), "ci");
	/* state values: true is a hostPath, "sync" synced, anything else the CI image */
	json_t *vals[] = {json_true(), json_string("sync"), json_false(), json_string("true"), json_null(), NULL};
	int want[] = {SOURCEMODE_HOSTPATH, SOURCEMODE_SYNC, SOURCEMODE_CI, SOURCEMODE_CI, SOURCEMODE_CI, SOURCEMODE_CI};
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(sourcemode_of_state(vals[i]), want[i]);
		json_decref(vals[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_names_and_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
