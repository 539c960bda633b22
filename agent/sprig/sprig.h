/* sprig.h — sprig's template functions, one file per sprig source file (strings.c, list.c, crypto.c, ...),
 * and Go's regexp on PCRE2 (regex.c) that its regex functions need.
 *
 * Layer agent/sprig: the function library installed into template sets (the engine itself knows only
 * Go's builtins). May call: agent/template, common/. */
#ifndef SM_TMPL_EXT_H
#define SM_TMPL_EXT_H

#include <jansson.h>
#include <stddef.h>

struct fcall;

/* ---- regex.c: Go's regexp on PCRE2 ---- */
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
/* crypto.c, random.c, path.c, list.c, strings.c, numeric.c, semver.c, date.c, url.c */
double tfx_to_float64(json_t *j);
TFX(tfx_duration_round);
TFX(tfx_url_parse);
TFX(tfx_url_join);
TFX(tfx_get_host_by_name);
TFX(tfx_must_slice);
TFX(tfx_from_json_array);
TFX(tfx_must_from_json);
TFX(tfx_abbrevboth);
TFX(tfx_now);
TFX(tfx_date);
TFX(tfx_date_in_zone);
TFX(tfx_html_date);
TFX(tfx_html_date_in_zone);
TFX(tfx_unix_epoch);
TFX(tfx_to_date);
TFX(tfx_must_to_date);
TFX(tfx_date_modify);
TFX(tfx_duration);
TFX(tfx_ago);
TFX(tfx_gen_private_key);
TFX(tfx_gen_ca);
TFX(tfx_gen_ca_with_key);
TFX(tfx_gen_self_signed_cert);
TFX(tfx_gen_self_signed_cert_with_key);
TFX(tfx_gen_signed_cert);
TFX(tfx_gen_signed_cert_with_key);
TFX(tfx_build_custom_cert);
TFX(tfx_encrypt_aes);
TFX(tfx_decrypt_aes);
TFX(tfx_derive_password);
TFX(tfx_bcrypt);
TFX(tfx_htpasswd);
TFX(tfx_sha1sum);
TFX(tfx_adler32sum);
TFX(tfx_rand_bytes);
TFX(tfx_rand_alpha_num);
TFX(tfx_rand_alpha);
TFX(tfx_rand_numeric);
TFX(tfx_rand_ascii);
TFX(tfx_rand_int);
TFX(tfx_shuffle);
TFX(tfx_uuidv4);
TFX(tfx_semver);
TFX(tfx_path_base);
TFX(tfx_path_dir);
TFX(tfx_path_clean);
TFX(tfx_path_ext);
TFX(tfx_path_is_abs);
TFX(tfx_deep_copy);
TFX(tfx_chunk);
TFX(tfx_pluck);
TFX(tfx_type_is_like);
TFX(tfx_seq);
TFX(tfx_hello);
TFX(tfx_plural);
TFX(tfx_untitle);
TFX(tfx_initials);
TFX(tfx_swapcase);
TFX(tfx_wrap);
TFX(tfx_wrap_with);
TFX(tfx_b32enc);
TFX(tfx_b32dec);
TFX(tfx_snakecase);
TFX(tfx_kebabcase);
TFX(tfx_camelcase);
TFX(tfx_addf);
TFX(tfx_add1f);
TFX(tfx_subf);
TFX(tfx_mulf);
TFX(tfx_divf);
TFX(tfx_maxf);
TFX(tfx_minf);
TFX(tfx_round);
TFX(tfx_to_decimal);


#endif
