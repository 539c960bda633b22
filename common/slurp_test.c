/* slurp_test.c — slurp: whole files of several sizes, NUL-terminated; missing files, folders and the size limit fail with errno. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slurp.h"

static void test_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 100000};
	char path[] = "/tmp/slurpXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *want = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			want[k] = (char)('a' + k % 26);
		FILE *f = fopen(path, "wb");
		assert_int_equal(fwrite(want, 1, sizes[i], f), sizes[i]);
		fclose(f);
		size_t len = 99;
		char *got = slurp(path, 0, &len);
		assert_non_null(got);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(got, want, sizes[i]);
		assert_int_equal(got[len], 0);
		free(got);
		/* the limit: exactly max bytes are fine, one more is EFBIG */
		if (sizes[i] > 1) { /* max 0 means no limit */
			got = slurp(path, sizes[i], NULL);
			assert_non_null(got);
			free(got);
			errno = 0;
			assert_null(slurp(path, sizes[i] - 1, &len));
			assert_int_equal(errno, EFBIG);
		}
		free(want);
	}
	unlink(path);
}

struct fail_case {
	const char *path;
	int want_errno;
};

static void test_failures(void **state)
{
	(void)state;
	static const struct fail_case cases[] = {
		{"/nonexistent/slurp", ENOENT},
		{"/", EISDIR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = 7;
		errno = 0;
		assert_null(slurp(cases[i].path, 0, &len));
		if (errno != cases[i].want_errno)
			fail_msg("%s: errno %d (%s), want %d", cases[i].path, errno, strerror(errno),
				 cases[i].want_errno);
		assert_int_equal(len, 7); /* untouched on failure */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
