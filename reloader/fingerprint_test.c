/* fingerprint_test.c — scans with the stat fast path, content comparison, and the stored file's integrity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint.h"
#include "log.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[4096], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (slash = path + strlen(root) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Moves a file's times into the past so its stat is trusted (not "racy"). */
static void age(const char *rel, long secs)
{
	char path[4096];
	struct timeval tv[2];

	snprintf(path, sizeof path, "%s/%s", root, rel);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= secs;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/test-fp-XXXXXX");
	assert_non_null(mkdtemp(root));
	put("a.c", "alpha\n");
	put("dir/b.c", "beta\n");
	put("dir/deep/c.c", "gamma\n");
	put("dir/skip.o", "object\n");
	put(".git/HEAD", "ref\n");
	put(".gitignore", "*.o\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	return system(cmd);
}

static void scan(struct fp_set *out, const struct fp_set *prev)
{
	struct ignore ig;

	assert_int_equal(ignore_init(&ig, root, NULL, NULL, 1), 0);
	assert_int_equal(fp_scan(out, root, NULL, &ig, prev), 0);
	ignore_free(&ig);
}

static void test_scan_and_fast_path(void **state)
{
	struct fp_set a = {0}, b = {0}, c = {0};

	(void)state;
	scan(&a, NULL);
	/* .git and the .gitignore'd object are not inputs; .gitignore itself is */
	assert_int_equal(a.n, 4);
	assert_string_equal(a.v[0].path, ".gitignore");
	assert_string_equal(a.v[1].path, "a.c");
	assert_string_equal(a.v[2].path, "dir/b.c");
	assert_string_equal(a.v[3].path, "dir/deep/c.c");
	assert_int_equal(a.hashed, 4);
	/* fresh files are racy: hashed again until their times are safely in the past */
	scan(&b, &a);
	assert_int_equal(b.hashed, 4);
	age(".gitignore", 10);
	age("a.c", 10);
	age("dir/b.c", 10);
	age("dir/deep/c.c", 10);
	scan(&a, &b);
	scan(&b, &a);
	assert_int_equal(b.hashed, 0); /* nothing read: stat alone proves it */
	assert_true(fp_same_content(&a, &b));
	assert_true(fp_same_stat(&a, &b));
	/* touch: stat changes, contents do not */
	age("a.c", 5);
	scan(&c, &b);
	assert_int_equal(c.hashed, 1);
	assert_true(fp_same_content(&b, &c));
	assert_false(fp_same_stat(&b, &c));
	/* same size, different contents */
	put("a.c", "ALPHA\n");
	age("a.c", 5); /* even with the old mtime restored, ctime gives it away */
	scan(&c, &b);
	assert_false(fp_same_content(&b, &c));
	/* a removed and an added file */
	put("a.c", "alpha\n");
	unlink(strcat(strcpy((char[4096]){0}, root), "/dir/b.c"));
	scan(&c, &b);
	assert_false(fp_same_content(&b, &c));
	put("dir/b.c", "beta\n");
	put("dir/new.c", "new\n");
	scan(&c, &b);
	assert_false(fp_same_content(&b, &c));
	unlink(strcat(strcpy((char[4096]){0}, root), "/dir/new.c"));
	scan(&c, &b);
	assert_true(fp_same_content(&b, &c));
	/* mode matters: an executable bit */
	chmod(strcat(strcpy((char[4096]){0}, root), "/a.c"), 0755);
	scan(&a, &c);
	assert_false(fp_same_content(&a, &c));
	fp_free(&a);
	fp_free(&b);
	fp_free(&c);
}

static void test_roots_and_includes(void **state)
{
	struct fp_set s = {0};
	struct ignore ig;
	char *roots[] = {"dir", "./dir/deep", "a.c", "missing", NULL};
	char *include[] = {"*.c", NULL};

	(void)state;
	assert_int_equal(ignore_init(&ig, root, NULL, include, 1), 0);
	assert_int_equal(fp_scan(&s, root, roots, &ig, NULL), 0);
	assert_int_equal(s.n, 3); /* a.c, dir/b.c, dir/deep/c.c once each */
	assert_string_equal(s.v[0].path, "a.c");
	assert_string_equal(s.v[2].path, "dir/deep/c.c");
	ignore_free(&ig);
	fp_free(&s);
}

static void test_save_load_and_damage(void **state)
{
	struct fp_set s = {0}, t = {0};
	char file[256], cmd[512];
	FILE *f;
	long size;
	unsigned char *buf;

	(void)state;
	scan(&s, NULL);
	snprintf(file, sizeof file, "%s/cache/x/fingerprint", root);
	assert_int_equal(fp_load(file, &t, 42), 1); /* missing */
	assert_int_equal(fp_save(file, &s, 42), 0);
	assert_int_equal(fp_load(file, &t, 42), 0);
	assert_true(fp_same_stat(&s, &t));
	assert_int_equal(fp_load(file, &t, 43), -1); /* another build's entry */
	assert_int_equal(t.n, 0);
	/* every single flipped byte is caught */
	assert_non_null(f = fopen(file, "rb"));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	for (long i = 0; i < size; i += 7) {
		buf[i] ^= 0x5a;
		assert_non_null(f = fopen(file, "wb"));
		fwrite(buf, 1, (size_t)size, f);
		fclose(f);
		assert_int_equal(fp_load(file, &t, 42), -1);
		buf[i] ^= 0x5a;
	}
	/* truncations */
	for (long n = 0; n < size; n += 13) {
		assert_non_null(f = fopen(file, "wb"));
		fwrite(buf, 1, (size_t)n, f);
		fclose(f);
		assert_int_equal(fp_load(file, &t, 42), -1);
	}
	free(buf);
	/* no temp files left behind */
	snprintf(cmd, sizeof cmd, "test $(ls %s/cache/x | wc -l) = 1", root);
	assert_int_equal(system(cmd), 0);
	fp_free(&s);
	fp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_and_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roots_and_includes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_and_damage, setup, teardown),
	};

	log_init("test_fingerprint");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
