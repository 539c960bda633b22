/* funcs_test.c — the function table (Go's Funcs): only builtins by default, installed functions looked up at parse time, argument kinds, refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tmpl.h"

static int fn_twice(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	char buf[256];
	int len = snprintf(buf, sizeof buf, "%s%s", json_string_value(a[0]), json_string_value(a[0]));
	return tf_ret_str(c, buf, (size_t)len);
}

static int fn_sum(struct tmpl_call *c, json_t **a, size_t n)
{
	long long s = 0;
	for (size_t i = 0; i < n; i++)
		s += json_integer_value(a[i]);
	return tf_ret_int(c, s);
}

static int fn_refuse(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	return tf_fail(c, "refused: %d", 7);
}

static int fn_mylen(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	return tf_ret_str(c, "mine", 4);
}

static const struct tmpl_func user_funcs[] = {
	{"twice", "s", fn_twice},
	{"sum", "i*", fn_sum},
	{"refuse", "", fn_refuse},
};
static const struct tmpl_func override_len[] = {{"len", "a", fn_mylen}};

struct func_case {
	const char *name;
	int install; /* 0: no functions, 1: user_funcs, 2: user_funcs then override_len */
	const char *input;
	const char *want; /* output, or the whole error when it starts with "template:" */
};

static const struct func_case func_cases[] = {
	{"builtin", 0, "{{len \"abc\"}} {{printf \"%03d\" 7}}", "3 007"},
	{"unknown is a parse error", 0, "{{twice \"a\"}}", "template: t:1: function \"twice\" not defined"},
	{"sprig is not built in", 0, "{{upper \"a\"}}", "template: t:1: function \"upper\" not defined"},
	{"installed", 1, "{{twice \"ab\"}}", "abab"},
	{"variadic", 1, "{{sum 1 2 3}} {{sum}}", "6 0"},
	{"in a pipeline", 1, "{{\"x\" | twice | twice}}", "xxxx"},
	{"arity", 1, "{{twice}}",
	 "template: t:1:2: executing \"t\" at <twice>: wrong number of args for twice: want 1 got 0"},
	{"kinds", 1, "{{twice 3}}", "template: t:1:8: executing \"t\" at <3>: expected string; found 3"},
	{"error", 1, "{{refuse}}", "template: t:1:2: executing \"t\" at <refuse>: error calling refuse: refused: 7"},
	{"builtins still there", 1, "{{len \"abcd\"}}", "4"},
	{"overrides a builtin", 2, "{{len \"abcd\"}}", "mine"},
};

static void test_funcs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof func_cases / sizeof func_cases[0]; i++) {
		const struct func_case *c = &func_cases[i];
		struct tmpl_set *set = tmpl_set_new();
		if (c->install >= 1)
			assert_int_equal(tmpl_set_funcs(set, user_funcs, sizeof user_funcs / sizeof user_funcs[0]), 0);
		if (c->install >= 2)
			assert_int_equal(tmpl_set_funcs(set, override_len, 1), 0);
		struct sm_error err;
		char *out = NULL;
		size_t len = 0;
		int rc = tmpl_parse(set, "t", c->input, strlen(c->input), &err);
		if (!rc)
			rc = tmpl_execute(set, "t", NULL, &out, &len, &err);
		if (!strncmp(c->want, "template:", 9)) {
			if (rc == 0)
				fail_msg("%s: got \"%s\", want the error %s", c->name, out, c->want);
			if (strcmp(err.msg, c->want))
				fail_msg("%s: got error \"%s\" want \"%s\"", c->name, err.msg, c->want);
		} else {
			if (rc)
				fail_msg("%s: unexpected error %s", c->name, err.msg);
			if (strcmp(out, c->want))
				fail_msg("%s: got \"%s\" want \"%s\"", c->name, out, c->want);
		}
		free(out);
		tmpl_set_free(set);
	}
}

/* Go's Funcs panics on a bad name; here the call fails and adds nothing. */
static void test_refused(void **state)
{
	(void)state;
	static const struct tmpl_func bad[][2] = {
		{{"ok", "s", fn_twice}, {"9lives", "s", fn_twice}}, {{"ok", "s", fn_twice}, {"a-b", "s", fn_twice}},
		{{"ok", "s", fn_twice}, {"", "s", fn_twice}},       {{"ok", "s", fn_twice}, {"kind", "x", fn_twice}},
		{{"ok", "s", fn_twice}, {"star", "*s", fn_twice}},  {{"ok", "s", fn_twice}, {"nofn", "s", NULL}},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tmpl_set *set = tmpl_set_new();
		errno = 0;
		assert_int_equal(tmpl_set_funcs(set, bad[i], 2), -1);
		assert_int_equal(errno, EINVAL);
		struct sm_error err;
		assert_int_equal(tmpl_parse(set, "t", "{{ok \"a\"}}", 10, &err), -1);
		assert_string_equal(err.msg, "template: t:1: function \"ok\" not defined");
		tmpl_set_free(set);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_funcs),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
