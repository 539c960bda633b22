/* fuzz_regex.c — libFuzzer target for the Go-regexp-on-PCRE2 translator (agent/sprig/regex.c): pattern NUL subject, never a crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nul = memchr(s, 0, size);
	size_t plen = nul ? (size_t)(nul - s) : size;
	const char *subj = nul ? nul + 1 : "";
	size_t slen = nul ? size - plen - 1 : 0;
	struct sm_error err;
	char *pat;
	if (tre_translate(s, plen, &pat, &err) == 0)
		free(pat);
	struct tre *t = tre_compile(s, plen, &err);
	if (!t)
		return 0;
	long *m;
	size_t n = tre_all_matches(t, subj, slen, -1, &m);
	(void)n;
	free(m);
	size_t outlen;
	free(tre_replace_all(t, subj, slen, "<$1${name}$$>", 13, 0, &outlen));
	tre_free(t);
	return 0;
}
