/* toml_test.c — the TOML parser and encoder (agent/chart/toml*.c): documents to JSON, errors at line:column, encoder layout and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "toml.h"

struct parse_case {
	const char *toml;
	const char *want; /* compact sorted JSON, or "LINE:COL: message" of the error */
};

static const struct parse_case parse_cases[] = {
	{"", "{}"},
	{"# only a comment\n\n", "{}"},
	{"a = 1\nb = 'x'\n[t]\nc = 2.5\n", "{\"a\": 1, \"b\": \"x\", \"t\": {\"c\": 2.5}}"},
	{"a.b.c = 1\na.d = true", "{\"a\": {\"b\": {\"c\": 1}, \"d\": true}}"},
	{"\"q k\".'l k' = 0x1F", "{\"q k\": {\"l k\": 31}}"},
	{"n = [0o17, 0b101, 1_000, -5, +6]", "{\"n\": [15, 5, 1000, -5, 6]}"},
	{"s = \"\\u00e9\\t\\\\\"", "{\"s\": \"é\\t\\\\\"}"},
	{"s = \"\"\"\nab \\\n   cd\"\"\"", "{\"s\": \"ab cd\"}"},
	{"s = '''\nraw\\n'''", "{\"s\": \"raw\\\\n\"}"},
	{"s = \"\"\"a\"\"\"\"\"", "{\"s\": \"a\\\"\\\"\"}"},
	{"d = 1979-05-27T07:32:00.500+00:00", "{\"d\": \"1979-05-27T07:32:00.5Z\"}"},
	{"d = 1979-05-27 07:32:00-07:00", "{\"d\": \"1979-05-27T07:32:00-07:00\"}"},
	{"d = 1979-05-27\nt = 07:32:00", "{\"d\": \"1979-05-27T00:00:00Z\", \"t\": \"0000-01-01T07:32:00Z\"}"},
	{"f = [inf, -inf, nan]", "{\"f\": [\"+Inf\", \"-Inf\", \"NaN\"]}"},
	{"p = {x = 1, y.z = [1, {w = 2}]}", "{\"p\": {\"x\": 1, \"y\": {\"z\": [1, {\"w\": 2}]}}}"},
	{"[[a]]\nn = 1\n[[a]]\n[a.b]\nc = 2", "{\"a\": [{\"n\": 1}, {\"b\": {\"c\": 2}}]}"},
	{"a = 1\r\nb = 2\r\n", "{\"a\": 1, \"b\": 2}"},
	{"a = 1\na = 2", "2:1: Key 'a' has already been defined."},
	{"x = 1\n\n  y = tru", "3:7: expected value but found \"tru\" instead"},
	{"a = \"abc", "1:9: unexpected EOF; expected '\"'"},
	{"[t]\n[t]", "2:1: Key 't' has already been defined."},
	{"a = 1 b = 2", "1:7: expected a top-level item to end with a newline, comment, or EOF, but got 'b' instead"},
	{"a = 01", "1:7: Invalid integer \"01\": cannot have leading zeroes"},
	{"a = 1979-13-01", "1:15: invalid datetime: \"1979-13-01\""},
	{"p = {a = 1,}", "1:12: trailing comma not allowed in inline tables"},
	{"p = {a = 1}\n[p]", "2:1: Key 'p' has already been defined."},
	{"a = [1]\n[[a]]", "2:1: Key 'a' has already been defined."},
	{"p = {x = 1, x = 2}", "1:13: Key 'p.x' has already been defined."},
	{"a.b = 1\na.b.c = 2", "2:1: Key 'a.b' has already been defined."},
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct toml_error e;
		json_t *v = toml_parse(c->toml, strlen(c->toml), &e);
		char got[1024];
		if (v) {
			char *j = json_dumps(v, JSON_SORT_KEYS);
			snprintf(got, sizeof got, "%s", j);
			free(j);
			json_decref(v);
		} else {
			toml_error_str(&e, got, sizeof got);
		}
		if (strcmp(got, c->want))
			fail_msg("case %zu %s: got %s, want %s", i, c->toml, got, c->want);
	}
}

struct enc_case {
	const char *json;
	const char *want; /* the TOML text, or the encoder's error */
};

static const struct enc_case enc_cases[] = {
	{"{\"b\": 1, \"a\": {\"x\": \"y\"}, \"c\": [1.0, true]}", "b = 1\nc = [1.0, true]\n\n[a]\n  x = \"y\"\n"},
	{"{\"t\": [{\"n\": 1}, {}], \"e\": {}}", "[e]\n\n[[t]]\n  n = 1\n\n[[t]]\n"},
	{"{\"a b\": \"q\\\"\\u0001\", \"\": 1}", "\"\" = 1\n\"a b\" = \"q\\\"\\u0001\"\n"},
	{"{\"m\": [{\"a\": 1}, 2], \"n\": null}", "m = [{a = 1}, 2]\n"},
	{"{\"a\": [1, null]}", "toml: cannot encode array with nil element"},
	{"[{\"a\": 1}]", "toml: top-level values must be Go maps or structs"},
	{"5", "5"},
};

static void test_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof enc_cases / sizeof enc_cases[0]; i++) {
		json_t *v = json_loads(enc_cases[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		struct sm_error se = {.msg = ""};
		const char *err = se.msg;
		char *t = toml_encode(v, &se);
		if (strcmp(t ? t : err, enc_cases[i].want))
			fail_msg("case %zu: got [%s], want [%s]", i, t ? t : err, enc_cases[i].want);
		if (t) { /* what the encoder writes parses back to the same value */
			struct toml_error e;
			json_t *back = json_is_object(v) ? toml_parse(t, strlen(t), &e) : NULL;
			if (json_is_object(v)) {
				json_t *clean = json_deep_copy(v);
				json_object_del(clean, "n"); /* nulls are left out */
				assert_non_null(back);
				assert_true(json_equal(clean, back));
				json_decref(clean);
			}
			json_decref(back);
		}
		free(t);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
