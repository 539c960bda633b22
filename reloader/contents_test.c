/* contents_test.c — the per-file content table: what counts as changed against the commit, as tables of steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contents.h"

/* One step: set path to val (0: delete), then the expected "changed" answer. */
struct step {
	const char *path;
	uint32_t val;
	int want_changed;
};

static void run(struct contents *c, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ct_set(c, ct_key(s[i].path), s[i].val, 1, 1);
		if (ct_changed(c) != s[i].want_changed)
			fail_msg("step %zu (%s = %u): changed %d, want %d", i, s[i].path, s[i].val, ct_changed(c),
				 s[i].want_changed);
	}
}

static void test_changes_against_commit(void **state)
{
	struct contents c = {0};
	static const struct step touch[] = {{"a.c", 10, 0}};
	static const struct step revert[] = {{"a.c", 11, 1}, {"a.c", 10, 0}};
	/* sed -i / JetBrains: a temp file appears, is renamed over the original (same content) */
	static const struct step tmpfile[] = {{"sedX1", 5, 1}, {"sedX1", 0, 0}, {"a.c", 10, 0}};
	static const struct step newfile[] = {{"b.c", 7, 1}, {"c.c", 8, 1}, {"b.c", 0, 1}, {"c.c", 0, 0}};
	static const struct step del[] = {{"a.c", 0, 1}, {"a.c", 10, 0}};

	(void)state;
	ct_set(&c, ct_key("a.c"), 10, 1, 0); /* the first walk: the state itself, not a change */
	assert_false(ct_changed(&c));
	run(&c, touch, 1);
	run(&c, revert, 2);
	run(&c, tmpfile, 3);
	run(&c, newfile, 4);
	run(&c, del, 2);
	assert_int_equal(c.n, 1);
	/* a real change, then the commit of a cycle start: clean again */
	ct_set(&c, ct_key("a.c"), 12, 1, 1);
	assert_true(ct_changed(&c));
	ct_commit(&c);
	assert_false(ct_changed(&c));
	assert_int_equal(ct_get(&c, ct_key("a.c")), 12);
	ct_free(&c);
}

static void test_absorb_forget_and_unsure(void **state)
{
	struct contents c = {0};
	ct_key_t lock = ct_key("Cargo.lock");
	int dirs[] = {3};

	(void)state;
	/* the build's own write */
	ct_set(&c, lock, 1, 1, 0);
	ct_set(&c, lock, 2, 1, 1);
	assert_true(ct_changed(&c));
	ct_absorb(&c, lock);
	assert_false(ct_changed(&c));
	/* a directory moved away takes its files along */
	ct_set(&c, ct_key("d/x.c"), 5, 3, 0);
	ct_set(&c, ct_key("d/y.c"), 6, 3, 0);
	ct_forget_dirs(&c, dirs, 1);
	assert_true(ct_changed(&c));
	assert_int_equal(c.n, 1);
	ct_commit(&c);
	/* unsure values: the next event is a change even with the same content */
	ct_set(&c, ct_key("u.c"), 9 | CT_UNSURE, 1, 0);
	ct_set(&c, ct_key("u.c"), 9, 1, 1);
	assert_true(ct_changed(&c));
	ct_commit(&c);
	ct_set(&c, ct_key("v.c"), 4 | CT_UNSURE, 1, 0);
	ct_set(&c, ct_key("gone.c"), CT_UNSURE | 1, 1, 0);
	ct_clear_unsure(&c);
	assert_int_equal(ct_get(&c, ct_key("v.c")), 4);
	assert_int_equal(ct_get(&c, ct_key("gone.c")), CT_ABSENT);
	ct_free(&c);
}

static void test_many_files(void **state)
{
	struct contents c = {0};
	char path[32];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		snprintf(path, sizeof path, "d%d/f%d.c", i / 10, i % 10);
		ct_set(&c, ct_key(path), (uint32_t)i + 1, i / 10, 0);
	}
	assert_in_range(c.n, 99990, 100000); /* colliding 32-bit keys share a slot */
	assert_int_equal(c.cap, 131072); /* 12 bytes a file: 1.5 MB */
	/* delete every other one (backward-shift deletion keeps the rest findable) */
	for (int i = 0; i < 100000; i += 2) {
		snprintf(path, sizeof path, "d%d/f%d.c", i / 10, i % 10);
		ct_set(&c, ct_key(path), CT_ABSENT, 0, 1);
	}
	assert_in_range(c.n, 49990, 50000);
	assert_in_range(c.dirty, 49990, 50000);
	size_t lost = 0;

	for (int i = 1; i < 100000; i += 2) {
		snprintf(path, sizeof path, "d%d/f%d.c", i / 10, i % 10);
		lost += ct_get(&c, ct_key(path)) != (uint32_t)i + 1;
	}
	/* 32-bit keys: a colliding pair shares its slot (harmless: an extra restart at worst) */
	if (lost > 3)
		fail_msg("%zu of 50000 files lost", lost);
	ct_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_changes_against_commit),
		cmocka_unit_test(test_absorb_forget_and_unsure),
		cmocka_unit_test(test_many_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
