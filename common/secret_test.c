/* secret_test.c — secret_equal: equal strings only, NULL never equal, prefixes and longer strings differ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "secret.h"

struct eq_case {
	const char *a, *b;
	int want;
};

static const struct eq_case eq_cases[] = {
	{"s3cret", "s3cret", 1},
	{"", "", 1},
	{"s3cret", "s3creT", 0},
	{"s3cret", "s3cre", 0},
	{"s3cre", "s3cret", 0},
	{"", "x", 0},
	{"x", "", 0},
	{NULL, "x", 0},
	{"x", NULL, 0},
	{NULL, NULL, 0},
	{"abab", "ab", 0},
};

static void test_secret_equal(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof eq_cases / sizeof eq_cases[0]; i++)
		if (secret_equal(eq_cases[i].a, eq_cases[i].b) != eq_cases[i].want)
			fail_msg("secret_equal(%s, %s) != %d", eq_cases[i].a ? eq_cases[i].a : "NULL",
				 eq_cases[i].b ? eq_cases[i].b : "NULL", eq_cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
