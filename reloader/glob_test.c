/* glob_test.c — glob matching with `**` and gitignore semantics, as tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "glob.h"
#include "ignoredefs.h"

static const struct {
	const char *pat, *str;
	int want;
} glob_cases[] = {
	/* many stars: each retried in turn, not every split of the string tried (that took minutes) */
	{"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	{"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 1},
	{"*x*y", "axbxcy", 1},
	{"a*/b*c", "aq/bzzc", 1},
	{"a*/b*c", "aq/bzzc/d", 0},
	{"*/b", "a/c", 0},
	{"**/**/**/**/**/**/**/**/z", "a/b/c/d/e/f/g/h/i/j/k/z", 1}, /* a run of `**` + `/` is one */
	{"**/**/**/**/**/**/**/**/z", "a/b/c/d/e/f/g/h/i/j/k/y", 0},
	{"a/**/**/z", "a/z", 1},
	{"a/**/**", "a/b/c", 1},
	{"*.c", "main.c", 1},
	{"*.c", "dir/main.c", 0},
	{"*.c", ".c", 1},
	{"ma?n.c", "main.c", 1},
	{"ma?n.c", "ma/n.c", 0},
	{"[a-c]x", "bx", 1},
	{"[a-c]x", "dx", 0},
	{"[!a-c]x", "dx", 1},
	{"[^a-c]x", "ax", 0},
	{"\\*x", "*x", 1},
	{"\\*x", "ax", 0},
	{"**", "a/b/c", 1},
	{"**/foo", "foo", 1},
	{"**/foo", "a/b/foo", 1},
	{"**/foo", "a/b/xfoo", 0},
	{"a/**", "a/b", 1},
	{"a/**", "a/b/c", 1},
	{"a/**", "a", 0},
	{"a/**/b", "a/b", 1},
	{"a/**/b", "a/x/y/b", 1},
	{"a/**/b", "a/x/y/c", 0},
	{"src/**/*.go", "src/x/y/m.go", 1},
	{"src/**/*.go", "src/m.go", 1},
	{"src/**/*.go", "lib/m.go", 0},
	{"a**b", "axxb", 1},
	{"a**b", "ax/xb", 0},
	{"[unterminated", "[unterminated", 1},
	{"", "", 1},
	{"x", "", 0},
};

static void test_glob_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof glob_cases / sizeof glob_cases[0]; i++) {
		int got = glob_match(glob_cases[i].pat, glob_cases[i].str);

		if (got != glob_cases[i].want)
			fail_msg("glob_match(\"%s\", \"%s\") = %d, want %d", glob_cases[i].pat, glob_cases[i].str, got,
				 glob_cases[i].want);
	}
}

/* gitignore text, a path (relative to the file's directory), is_dir, and the verdict. */
static const struct {
	const char *rules, *path;
	int is_dir, want;
} gi_cases[] = {
	{"*.log\n", "a.log", 0, 1},
	{"*.log\n", "deep/er/a.log", 0, 1},
	{"*.log\n!keep.log\n", "keep.log", 0, -1},
	{"*.log\n!keep.log\n", "other.log", 0, 1},
	{"!keep.log\n*.log\n", "keep.log", 0, 1}, /* the last matching line wins */
	{"build/\n", "build", 1, 1},
	{"build/\n", "build", 0, 0}, /* dir-only */
	{"build/\n", "x/build", 1, 1},
	{"/build\n", "build", 1, 1},
	{"/build\n", "x/build", 1, 0}, /* anchored */
	{"doc/*.txt\n", "doc/a.txt", 0, 1},
	{"doc/*.txt\n", "x/doc/a.txt", 0, 0}, /* a middle slash anchors too */
	{"**/node_modules\n", "a/b/node_modules", 1, 1},
	{"# comment\n\n  \n", "# comment", 0, 0},
	{"\\#hash\n", "#hash", 0, 1},
	{"\\!bang\n", "!bang", 0, 1},
	{"trailing   \n", "trailing", 0, 1},
	{"a/**/z\n", "a/z", 0, 1},
};

static void test_patlist(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof gi_cases / sizeof gi_cases[0]; i++) {
		struct patlist pl = {0};
		int got;

		assert_int_equal(patlist_parse(&pl, gi_cases[i].rules, strlen(gi_cases[i].rules)), 0);
		got = patlist_match(&pl, gi_cases[i].path, gi_cases[i].is_dir);
		if (got != gi_cases[i].want)
			fail_msg("rules %s path %s dir %d: %d, want %d", gi_cases[i].rules, gi_cases[i].path,
				 gi_cases[i].is_dir, got, gi_cases[i].want);
		patlist_free(&pl);
	}
}

static void put(const char *root, const char *rel, const char *text)
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

/* Nested .gitignore files, negation, excludes, extras and .git through struct ignore. */
static void test_ignore_tree(void **state)
{
	char root[] = "/tmp/test-glob-XXXXXX", cmd[256];
	char *exclude[] = {"**/tmp", "vendor/", NULL};
	char *include[] = {"*.c", "*.h", "Makefile", NULL};
	struct ignore ig;
	static const struct {
		const char *rel;
		int is_dir, want;
	} cases[] = {
		{".git", 1, 1},
		{"sub/.git", 1, 1},
		{"a.o", 0, 1},
		{"main.c", 0, 0},
		{"sub/keep.o", 0, 0},   /* re-included by sub/.gitignore */
		{"sub/other.o", 0, 1},  /* still ignored by the root file */
		{"sub/secret.c", 0, 1}, /* ignored only in sub */
		{"secret.c", 0, 0},
		{"out", 1, 1},
		{"sub/out", 1, 0}, /* /out is anchored at the root */
		{"x/tmp", 1, 1},
		{"vendor", 1, 1},
		{".cache", 1, 1},
		{"src/gen", 1, 0},
	};

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, ".gitignore", "*.o\n/out\n");
	put(root, "sub/.gitignore", "!keep.o\nsecret.c\n");
	assert_int_equal(ignore_init(&ig, root, exclude, include, 1), 0);
	ignore_add_extra(&ig, ".cache");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = ignore_path(&ig, cases[i].rel, cases[i].is_dir);

		if (got != cases[i].want)
			fail_msg("ignore_path(%s, dir=%d) = %d, want %d", cases[i].rel, cases[i].is_dir, got, cases[i].want);
	}
	assert_true(ignore_included(&ig, "a/b/x.c"));
	assert_true(ignore_included(&ig, "Makefile"));
	assert_false(ignore_included(&ig, "README"));
	/* a changed .gitignore is read again after ignore_forget */
	put(root, "sub/.gitignore", "!keep.o\n");
	assert_true(ignore_path(&ig, "sub/secret.c", 0));
	ignore_forget(&ig, "sub");
	assert_false(ignore_path(&ig, "sub/secret.c", 0));
	ignore_free(&ig);
	/* gitignore off: only .git, excludes and extras prune */
	assert_int_equal(ignore_init(&ig, root, NULL, NULL, 0), 0);
	assert_false(ignore_path(&ig, "a.o", 0));
	assert_true(ignore_path(&ig, ".git", 1));
	assert_true(ignore_included(&ig, "README"));
	ignore_free(&ig);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

/* The default ignore set, the hidden-file rule of include globs, and git's repository-wide excludes. */
static void test_ignore_defaults(void **state)
{
	char root[] = "/tmp/glob-defaults-XXXXXX", cmd[128], env[64];
	static char *include[] = {"**/*.go", "**/.keep.go", NULL};
	static char *exclude[] = {"!4913", NULL};
	static char *data[] = {"state.json", NULL};
	struct config cfg = {0};
	struct ignore ig;
	static const struct {
		const char *rel;
		int is_dir, want;
	} cases[] = {
		{".hg", 1, 1}, {"a/.svn", 1, 1}, {"CVS", 1, 1}, {".x.go.swp", 0, 1}, {"x.swp", 0, 1},
		{"x.go~", 0, 1}, {"#x.go#", 0, 1}, {".#x.go", 0, 1}, {".DS_Store", 0, 1},
		{"x.go___jb_tmp___", 0, 1}, {"__pycache__", 1, 1}, {"4913", 0, 0}, {"state.json", 0, 1},
		{"scratch", 1, 1}, {"gen.tmp", 0, 1}, {"main.go", 0, 0}, {"sub", 1, 0},
	};

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, ".git/info/exclude", "/svc/scratch/\n"); /* the repository holds svc/ */
	put(root, "xdg/git/ignore", "*.tmp\n");
	snprintf(env, sizeof env, "%s/xdg", root);
	setenv("XDG_CONFIG_HOME", env, 1);
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("HOME", root, 1); /* no ~/.gitconfig of this machine's user */
	cfg.watch.default_excludes = 1;
	cfg.watch.gitignore = 1;
	cfg.watch.data = data;
	snprintf(cmd, sizeof cmd, "%s/svc", root);
	assert_int_equal(ignore_init(&ig, cmd, exclude, include, 1), 0);
	assert_int_equal(ignore_defaults(&ig, &cfg), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = ignore_path(&ig, cases[i].rel, cases[i].is_dir);

		if (got != cases[i].want)
			fail_msg("ignore_path(%s, dir=%d) = %d, want %d", cases[i].rel, cases[i].is_dir, got, cases[i].want);
	}
	assert_true(ignore_included(&ig, "a/main.go"));
	assert_false(ignore_included(&ig, "a/.x.go"));
	assert_false(ignore_included(&ig, ".#main.go"));
	assert_true(ignore_included(&ig, "a/.keep.go"));
	ignore_free(&ig);
	unsetenv("XDG_CONFIG_HOME");
	if (home)
		setenv("HOME", home, 1);
	free(home);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_path_rel(void **state)
{
	(void)state;
	assert_string_equal(path_rel("/a/b", "/a/b"), "");
	assert_string_equal(path_rel("/a/b", "/a/b/c/d"), "c/d");
	assert_string_equal(path_rel("/a/b/", "/a/b/c"), "c");
	assert_null(path_rel("/a/b", "/a/bc"));
	assert_null(path_rel("/a/b", "/x"));
	assert_string_equal(path_rel("/", "/x/y"), "x/y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob_match),
		cmocka_unit_test(test_patlist),
		cmocka_unit_test(test_ignore_tree),
		cmocka_unit_test(test_ignore_defaults),
		cmocka_unit_test(test_path_rel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
