/* dirmap_test.c — wd <-> path of the watched directories: lookups, reused wds and paths, deletions in clusters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dirmap.h"

static void test_put_get_reuse(void **state)
{
	struct dirmap m = {0};

	(void)state;
	assert_int_equal(dm_put(&m, 1, ""), 0);
	assert_int_equal(dm_put(&m, 2, "src"), 0);
	assert_string_equal(dm_rel(&m, 2), "src");
	assert_int_equal(dm_wd(&m, ""), 1);
	assert_int_equal(dm_wd(&m, "src"), 2);
	assert_null(dm_rel(&m, 3));
	assert_int_equal(dm_wd(&m, "nope"), 0);
	/* the kernel hands wd 2 out again for another directory: the old path is gone */
	assert_int_equal(dm_put(&m, 2, "lib"), 0);
	assert_int_equal(dm_wd(&m, "src"), 0);
	assert_string_equal(dm_rel(&m, 2), "lib");
	/* a directory re-created under the same path gets a new wd */
	assert_int_equal(dm_put(&m, 5, "lib"), 0);
	assert_null(dm_rel(&m, 2));
	assert_int_equal(dm_wd(&m, "lib"), 5);
	assert_int_equal(m.n, 2);
	dm_free(&m);
}

static void test_many_and_deletes(void **state)
{
	struct dirmap m = {0};
	char rel[32];

	(void)state;
	for (int wd = 1; wd <= 20000; wd++) {
		snprintf(rel, sizeof rel, "p%d/d%d", wd / 100, wd % 100);
		assert_int_equal(dm_put(&m, wd, rel), 0);
	}
	for (int wd = 1; wd <= 20000; wd += 3)
		dm_del(&m, wd);
	for (int wd = 1; wd <= 20000; wd++) {
		snprintf(rel, sizeof rel, "p%d/d%d", wd / 100, wd % 100);
		if (wd % 3 == 1) {
			if (dm_rel(&m, wd) || dm_wd(&m, rel))
				fail_msg("wd %d still there", wd);
		} else if (dm_wd(&m, rel) != wd || strcmp(dm_rel(&m, wd), rel) != 0) {
			fail_msg("wd %d (%s) lost", wd, rel);
		}
	}
	assert_int_equal(m.n, 20000 - 6667);
	dm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_reuse),
		cmocka_unit_test(test_many_and_deletes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
