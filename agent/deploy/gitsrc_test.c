/* gitsrc_test.c — which remotes the cluster could reach (a URL or scp-like user@host:path) and which are local paths, as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "gitsrc.h"

static void test_is_url(void **state)
{
	(void)state;
	static const struct {
		const char *remote;
		int url;
	} cases[] = {
		{"https://git.example.com/org/config.git", 1},
		{"http://127.0.0.1:8080/config.git", 1},
		{"ssh://git@git.example.com:2222/org/config.git", 1},
		{"git+ssh://git.example.com/config", 1},
		{"file:///srv/git/config.git", 1},    /* a file:// URL counts (the cluster may mount it) */
		{"git@github.com:org/config.git", 1}, /* scp-like */
		{"deploy@10.0.0.5:/srv/config.git", 1},
		{"/srv/git/config.git", 0}, /* plain paths: bundle instead */
		{"../config.git", 0},
		{"config.git", 0},
		{"./a@b:c", 0},   /* a '/' before the ':' makes it a path, as git reads it */
		{"host:path", 0}, /* no user: not the scp form the contract names */
		{"@host:path", 0},
		{"user@:path", 0},
		{"C:\\\\repo", 0},
		{"://nothing", 0},
		{"a b://x", 0}, /* not a scheme */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (gitsrc_is_url(cases[i].remote) != cases[i].url)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].remote, !cases[i].url, cases[i].url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_is_url)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
