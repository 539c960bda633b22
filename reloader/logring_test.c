/* logring_test.c — the output ring: wrap-around, tails, readers that fall behind, clearing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logring.h"

static void test_tail_lines(void **state)
{
	struct logring r;
	char *t;

	(void)state;
	logring_init(&r, 64);
	logring_append(&r, "one\ntwo\nthree\n", 14);
	t = logring_tail(&r, 2, 1000);
	assert_string_equal(t, "two\nthree\n");
	free(t);
	logring_append(&r, "partial", 7);
	t = logring_tail(&r, 1, 1000);
	assert_string_equal(t, "partial");
	free(t);
	logring_free(&r);
}

static void test_wraps_and_readers_skip_lost_bytes(void **state)
{
	struct logring r;
	char buf[128];
	uint64_t pos = 0;
	size_t n;

	(void)state;
	logring_init(&r, 16);
	logring_append(&r, "0123456789", 10);
	logring_append(&r, "abcdefghij", 10); /* 20 bytes in a 16-byte ring: 4 lost */
	n = logring_read(&r, &pos, buf, sizeof buf);
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "456789abcdefghij", 16);
	assert_int_equal(pos, 20);
	assert_int_equal(logring_read(&r, &pos, buf, sizeof buf), 0);
	logring_append(&r, "XYZ", 3);
	assert_int_equal(logring_read(&r, &pos, buf, 2), 2);
	assert_memory_equal(buf, "XY", 2);
	logring_free(&r);
}

static void test_clear_hides_old_content(void **state)
{
	struct logring r;
	char *t;

	(void)state;
	logring_init(&r, 32);
	logring_append(&r, "old build output\n", 17);
	logring_clear(&r);
	t = logring_tail(&r, 10, 1000);
	assert_string_equal(t, "");
	free(t);
	logring_append(&r, "new\n", 4);
	t = logring_tail(&r, 10, 1000);
	assert_string_equal(t, "new\n");
	free(t);
	logring_free(&r);
}

static void test_huge_append_keeps_newest(void **state)
{
	struct logring r;
	char big[100];
	char *t;

	(void)state;
	memset(big, 'a', sizeof big);
	big[99] = 'z';
	logring_init(&r, 8);
	logring_append(&r, big, sizeof big);
	t = logring_tail(&r, 1, 1000);
	assert_int_equal(strlen(t), 8);
	assert_int_equal(t[7], 'z');
	free(t);
	logring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_lines),
		cmocka_unit_test(test_wraps_and_readers_skip_lost_bytes),
		cmocka_unit_test(test_clear_hides_old_content),
		cmocka_unit_test(test_huge_append_keeps_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
