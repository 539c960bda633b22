/* fuzz_ignore.c — libFuzzer target for reloader's ignore rules: gitignore/exclude text, glob matching, and git config's core.excludesFile. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "ignoredefs.h"

/* Input: one mode byte, then text. Mode even: the text is a .gitignore/exclude file, matched
 * against paths cut from its own lines. Mode odd: the text is a git config file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"a", "a/b", ".git", "x/.#y.go", "deep/er/f.c", "4913", "#a#", ""};
	char out[4096] = "";

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1) {
		ignore_git_config_excludes((const char *)data + 1, size - 1, out, sizeof out);
		return 0;
	}
	struct patlist pl = {0};
	char *text = strndup((const char *)data + 1, size - 1);

	if (!text)
		return 0;
	if (patlist_parse(&pl, text, strlen(text)) == 0) {
		for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
			patlist_match(&pl, paths[i], 0);
			patlist_match(&pl, paths[i], 1);
		}
		/* every line as a glob against every other line as a path */
		for (size_t i = 0; i < pl.n && i < 16; i++)
			for (size_t j = 0; j < pl.n && j < 16; j++)
				glob_match(pl.v[i].glob, pl.v[j].glob);
	}
	patlist_free(&pl);
	free(text);
	return 0;
}
