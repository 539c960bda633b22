/* regex_test.c — Go's regexp on PCRE2 (agent/sprig/regex.c): syntax accepted and rejected as Go does, leftmost-first matches, Go's Expand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sprig.h"

struct re_case {
	const char *re, *subject;
	const char *want; /* the first match, or Go's error text when it starts with "error parsing" */
};

static const struct re_case cases[] = {
	{"[^a-zA-Z0-9-_.]+", "ab c", " "},
	{"a|ab", "ab", "a"},
	{"ab|a", "ab", "ab"},
	{"a+?", "aaa", "a"},
	{"(?U)a+", "aaa", "a"},
	{"\\d+", "x42y", "42"},
	{"\\s+", "a\v \tb", " \t"},
	{"[[:^alpha:]]+", "ab12cd", "12"},
	{"(?i)HELLO", "say hello", "hello"},
	{"a.b", "a\nb axb", "axb"},
	{"(?s)a.b", "a\nb", "a\nb"},
	{"a$", "a\n", NULL},
	{"(?m)^b", "a\nb", "b"},
	{"\\bfoo\\b", "foobar foo", "foo"},
	{"\\Q.*\\E", "a.*b", ".*"},
	{"\\x41\\x{42}\\101", "ABA", "ABA"},
	{"a{,2}", "a{,2}", "a{,2}"},
	{"[]a]+", "]a]b", "]a]"},
	{"\\p{Greek}+", "abc αβγ", "αβγ"},
	{"(?P<n>x)(?<m>y)", "xy", "xy"},
	{"[", "", "error parsing regexp: missing closing ]: `[`"},
	{"(a", "", "error parsing regexp: missing closing ): `(a`"},
	{"a)", "", "error parsing regexp: unexpected ): `a)`"},
	{"(a)\\1", "", "error parsing regexp: invalid escape sequence: `\\1`"},
	{"a(?=b)", "", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"},
	{"(?<=a)b", "", "error parsing regexp: invalid named capture: `(?<=a)b`"},
	{"a**", "", "error parsing regexp: invalid nested repetition operator: `**`"},
	{"a*+", "", "error parsing regexp: invalid nested repetition operator: `*+`"},
	{"*a", "", "error parsing regexp: missing argument to repetition operator: `*`"},
	{"a{1001}", "", "error parsing regexp: invalid repeat count: `{1001}`"},
	{"[z-a]", "", "error parsing regexp: invalid character class range: `z-a`"},
	{"[[:foo:]]", "", "error parsing regexp: invalid character class range: `[:foo:]`"},
	{"\\q", "", "error parsing regexp: invalid escape sequence: `\\q`"},
	{"a\\", "", "error parsing regexp: trailing backslash at end of expression: ``"},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct re_case *c = &cases[i];
		struct sm_error e = {.msg = ""};
		const char *err = e.msg;
		struct tre *t = tre_compile(c->re, strlen(c->re), &e);
		if (c->want && !strncmp(c->want, "error parsing", 13)) {
			if (t)
				fail_msg("case %zu: %s compiled, want %s", i, c->re, c->want);
			assert_string_equal(err, c->want);
			continue;
		}
		if (!t)
			fail_msg("case %zu: %s: %s", i, c->re, err);
		long m[2 * 8];
		int found = tre_ngroups(t) < 8 && tre_exec(t, c->subject, strlen(c->subject), 0, m);
		if (!c->want) {
			assert_false(found);
		} else {
			if (!found)
				fail_msg("case %zu: %s found nothing in %s", i, c->re, c->subject);
			char got[256];
			snprintf(got, sizeof got, "%.*s", (int)(m[1] - m[0]), c->subject + m[0]);
			assert_string_equal(got, c->want);
		}
		tre_free(t);
	}
}

static void test_replace(void **state)
{
	(void)state;
	static const struct {
		const char *re, *src, *repl;
		int literal;
		const char *want;
	} r[] = {
		{"(?P<first>\\w+) (?P<last>\\w+)", "John Smith", "${last}, ${first}", 0, "Smith, John"},
		{"(a)(b)", "ab", "[$1|${2}|$$|$3|$x|$1x|$]", 0, "[a|b|$||||$]"},
		{"a(b)", "abab", "[$1]", 1, "[$1][$1]"},
		{"a*", "baaac", "-", 0, "-b-c-"},
		{"", "abc", "-", 0, "-a-b-c-"},
		{"é", "héé", "e", 0, "hee"},
	};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		struct sm_error err;
		struct tre *t = tre_compile(r[i].re, strlen(r[i].re), &err);
		assert_non_null(t);
		size_t len;
		char *out = tre_replace_all(t, r[i].src, strlen(r[i].src), r[i].repl, strlen(r[i].repl), r[i].literal, &len);
		assert_string_equal(out, r[i].want);
		free(out);
		tre_free(t);
	}
}

static void test_all_matches_skip_empty_after_match(void **state)
{
	(void)state;
	struct sm_error err;
	struct tre *t = tre_compile("a*", 2, &err);
	long *m;
	size_t n = tre_all_matches(t, "baaac", 5, -1, &m);
	/* Go: "" at 0, "aaa" at 1..4, "" at 5 (the empty match right after "aaa" at 4 is dropped) */
	assert_int_equal(n, 3);
	assert_int_equal(m[2], 1);
	assert_int_equal(m[3], 4);
	assert_int_equal(m[4], 5);
	free(m);
	tre_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_all_matches_skip_empty_after_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
