/* tmpl_ext.h — the sprig/Helm functions that live outside tmpl_sprig.c (regex, path, crypto, random, ...), registered in its table. */
#ifndef SM_TMPL_EXT_H
#define SM_TMPL_EXT_H

#include <jansson.h>
#include <stddef.h>

struct fcall;

/* ---- tmpl_regex.c: Go's regexp on PCRE2 ---- */
struct tre;
/* Compiles a Go (RE2 syntax) expression. NULL with err set to Go's text ("error parsing regexp: ..."). */
struct tre *tre_compile(const char *re, size_t len, char *err, size_t errlen);
void tre_free(struct tre *t);
int tre_ngroups(const struct tre *t);
/* One match at or after start: 1 and m[0..2*(ngroups+1)) byte offsets (-1 unset), or 0. */
int tre_exec(struct tre *t, const char *s, size_t len, size_t start, long *m);
/* Go's allMatches: up to limit (< 0: all) matches, each 2*(ngroups+1) offsets in *out (malloc'd, may be NULL). */
size_t tre_all_matches(struct tre *t, const char *s, size_t len, long long limit, long **out);
/* Go's ReplaceAllString (literal: ReplaceAllLiteralString); malloc'd result of *outlen bytes. */
char *tre_replace_all(struct tre *t, const char *src, size_t len, const char *repl, size_t rlen, int literal,
		      size_t *outlen);
/* Translation only (for the fuzzer): 0 and a malloc'd PCRE2 pattern, or -1 with Go's error. */
int tre_translate(const char *re, size_t len, char **pattern, char *err, size_t errlen);
/* Width of the UTF-8 rune at s (1 for an invalid byte, as Go reads it). */
size_t tmpl_rune_width(const char *s, size_t n);

#define TFX(name) int name(struct fcall *c, json_t **a, size_t n)
TFX(tfx_regex_match);
TFX(tfx_must_regex_match);
TFX(tfx_regex_find);
TFX(tfx_must_regex_find);
TFX(tfx_regex_find_all);
TFX(tfx_must_regex_find_all);
TFX(tfx_regex_replace_all);
TFX(tfx_must_regex_replace_all);
TFX(tfx_regex_replace_all_literal);
TFX(tfx_must_regex_replace_all_literal);
TFX(tfx_regex_split);
TFX(tfx_must_regex_split);
TFX(tfx_regex_quote_meta);

#endif
