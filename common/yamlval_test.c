/* yamlval_test.c — YAML loading: kubectl's scalar rules, positions, errors (a table of cases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "yamlval.h"

static const struct {
	const char *yaml;
	const char *json; /* compact JSON of the first document */
} scalar_cases[] = {
	{"a: yes", "{\"a\": true}"},
	{"a: No", "{\"a\": false}"},
	{"a: on", "{\"a\": true}"},
	{"a: OFF", "{\"a\": false}"},
	{"a: \"yes\"", "{\"a\": \"yes\"}"},
	{"a: 1234567", "{\"a\": 1234567}"},
	{"a: 9223372036854775807", "{\"a\": 9223372036854775807}"},
	{"a: -42", "{\"a\": -42}"},
	{"a: 0x1F", "{\"a\": 31}"},
	{"a: 0o17", "{\"a\": 15}"},
	{"a: 017", "{\"a\": 15}"},
	{"a: 1_000", "{\"a\": 1000}"},
	{"a: 1.5", "{\"a\": 1.5}"},
	{"a: 1e3", "{\"a\": 1000.0}"},
	{"a: ~", "{\"a\": null}"},
	{"a:", "{\"a\": null}"},
	{"a: null", "{\"a\": null}"},
	{"a: !!str 123", "{\"a\": \"123\"}"},
	{"a: '0x10'", "{\"a\": \"0x10\"}"},
	{"a: 1.2.3", "{\"a\": \"1.2.3\"}"},
	{"a: .inf", "{\"a\": \".inf\"}"},
	{"a: v1", "{\"a\": \"v1\"}"},
	{"a: [1, two, 3.0]", "{\"a\": [1, \"two\", 3.0]}"},
	{"b: &x {k: 1}\nc: *x", "{\"b\": {\"k\": 1}, \"c\": {\"k\": 1}}"},
	{"b: &x {k: 1, j: 2}\nc:\n  <<: *x\n  k: 3", "{\"b\": {\"k\": 1, \"j\": 2}, \"c\": {\"k\": 3, \"j\": 2}}"},
	{"a: |\n  line1\n  line2\n", "{\"a\": \"line1\\nline2\\n\"}"},
};

static void test_scalars(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof scalar_cases / sizeof scalar_cases[0]; i++) {
		struct sm_error err;
		json_t *docs = yv_load(scalar_cases[i].yaml, strlen(scalar_cases[i].yaml), "t.yaml", 1, NULL, &err);
		json_t *want = json_loads(scalar_cases[i].json, 0, NULL);

		assert_non_null(docs);
		assert_non_null(want);
		if (!json_equal(json_array_get(docs, 0), want)) {
			char *got = json_dumps(json_array_get(docs, 0), JSON_ENCODE_ANY);

			fail_msg("case %zu (%s): got %s, want %s", i, scalar_cases[i].yaml, got, scalar_cases[i].json);
			free(got);
		}
		json_decref(docs);
		json_decref(want);
	}
}

static void test_integers_stay_integers(void **state)
{
	struct sm_error err;
	json_t *docs = yv_load("replicas: 1234567\n", 18, "t", 1, NULL, &err);

	(void)state;
	assert_true(json_is_integer(json_object_get(json_array_get(docs, 0), "replicas")));
	json_decref(docs);
}

static void test_multi_document_and_positions(void **state)
{
	const char *text = "a: 1\n---\n---\nkind: Service\nspec:\n  port: 80\n";
	struct sm_error err;
	json_t *pos = NULL;
	json_t *docs = yv_load(text, strlen(text), "m.yaml", 1, &pos, &err);
	int line, col;

	(void)state;
	assert_non_null(docs);
	assert_int_equal(json_array_size(docs), 2);
	assert_int_equal(yv_position(pos, "1/spec/port", 0, &line, &col), 0);
	assert_int_equal(line, 6);
	assert_int_equal(col, 9);
	assert_int_equal(yv_position(pos, "1/spec/port", 1, &line, &col), 0);
	assert_int_equal(col, 3);
	/* A missing node falls back to its nearest ancestor. */
	assert_int_equal(yv_position(pos, "1/spec/missing", 0, &line, &col), 0);
	assert_int_equal(line, 6); /* where the spec mapping's content starts */
	json_decref(docs);
	json_decref(pos);
}

static const struct {
	const char *yaml;
	int line, col;
	const char *msg;
} error_cases[] = {
	{"a: [1,\nb", 3, 1, "flow sequence"},
	{"a: 1\na: 2\n", 2, 1, "already set"},
	{"? [a]\n: 1\n", 1, 3, "keys must be scalars"},
	{"a: *nope\n", 1, 4, "unknown anchor"},
	{"a: !!int abc\n", 1, 4, "cannot decode"},
	{"a:\n\tb: 1\n", 2, 1, "cannot start any token"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		struct sm_error err;
		json_t *docs = yv_load(error_cases[i].yaml, strlen(error_cases[i].yaml), "e.yaml", 1, NULL, &err);

		assert_null(docs);
		if (err.line != error_cases[i].line || !strstr(err.msg, error_cases[i].msg))
			fail_msg("case %zu: got %d:%d %s", i, err.line, err.col, err.msg);
		assert_string_equal(err.file, "e.yaml");
	}
}

static void test_alias_bomb_is_refused(void **state)
{
	const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
	struct sm_error err;

	(void)state;
	assert_null(yv_load(bomb, strlen(bomb), "bomb", 1, NULL, &err));
	assert_non_null(strstr(err.msg, "aliases"));
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		double secs;
	} ok[] = {{"50ms", 0.05}, {"2s", 2}, {"1m30s", 90}, {"1.5h", 5400}, {"250us", 0.00025}, {"0", 0}};
	static const char *const bad[] = {"10", "", "fast", "5 s", "-1s", "1x"};
	const char *why;
	double secs;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(duration_parse(ok[i].text, &secs, &why), 0);
		assert_true(secs > ok[i].secs - 1e-9 && secs < ok[i].secs + 1e-9);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(duration_parse(bad[i], &secs, &why), -1);
		assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_integers_stay_integers),
		cmocka_unit_test(test_multi_document_and_positions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alias_bomb_is_refused),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
