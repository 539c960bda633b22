/* sprig.h — sprig's template functions, one file per sprig source file (strings.c, list.c, crypto.c, ...),
 * and Go's regexp on PCRE2 (regex.c) that its regex functions need.
 *
 * Layer agent/sprig: the function library installed into template sets (the engine itself knows only
 * Go's builtins). May call: agent/template, common/. */
#ifndef SM_SPRIG_H
#define SM_SPRIG_H

#include <jansson.h>
#include <stddef.h>

#include "tmpl.h"

struct sbuf;

/* ---- the table (functions.c) ---- */
/* sprig's functions (its TxtFuncMap, as far as appdeploy has them; no env/expandenv), for tmpl_set_funcs. */
const struct tmpl_func *sprig_funcs(size_t *n);
/* tmpl_set_funcs(set, sprig_funcs): 0, or -1. */
int sprig_install(struct tmpl_set *set);

/* Process-wide set-up, once, before any thread starts (main, appdeploy_global_init): lets
 * dateInZone switch TZ while other threads read the environment (date.c). */
void sprig_process_init(void);

/* ---- helpers the section files share (functions.c) ---- */
static inline const char *S(json_t *j) { return json_string_value(j); }
static inline size_t SL(json_t *j) { return json_string_length(j); }
/* tf_ret_str of the buffer, which is freed. */
int sprig_ret_sbuf(struct tmpl_call *c, struct sbuf *b);
/* sprig's strval: strings as they are, everything else through fmt's %v. */
void sprig_strval(struct sbuf *b, json_t *j);
/* sprig's empty(): nil, zero numbers, false, and empty strings, lists and maps. */
int sprig_is_empty(json_t *j);
/* strings.Replace(s, old, nw, -1) appended to b. */
void sprig_replace_all(struct sbuf *b, const char *s, size_t n, const char *old, size_t ol, const char *nw, size_t nl);
/* qsort comparison of two const char * (map keys in Go's sorted order). */
int sprig_cmp_keys(const void *x, const void *y);
/* encoding/json's name for the JSON kind that cannot go into a map. */
const char *sprig_json_kind(json_t *j);
/* Helm's fromYaml/fromJson: a map, or a map holding the error under "Error". */
json_t *sprig_error_map(const char *fmt, const char *a);
/* reflect.Kind's name of a value as sprig's kindOf prints it ("map", "slice", "invalid" for nil; reflect.c). */
const char *sprig_kind_of(json_t *j);

/* ---- regex.c: Go's regexp on PCRE2 ---- */
struct tre;
/* Compiles a Go (RE2 syntax) expression. NULL with err set to Go's text ("error parsing regexp: ..."). */
struct tre *tre_compile(const char *re, size_t len, struct sm_error *err);
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
int tre_translate(const char *re, size_t len, char **pattern, struct sm_error *err);
/* Width of the UTF-8 rune at s (1 for an invalid byte, as Go reads it). */
size_t tmpl_rune_width(const char *s, size_t n);

#define TFX(name) int name(struct tmpl_call *c, json_t **a, size_t n)
/* strings.c, list.c, dict.c, defaults.c, numeric.c, encoding.c, crypto.c, semver.c, reflect.c */
TFX(tfx_abbrev);
TFX(tfx_add);
TFX(tfx_add1);
TFX(tfx_all);
TFX(tfx_any);
TFX(tfx_append);
TFX(tfx_atoi);
TFX(tfx_b64dec);
TFX(tfx_b64enc);
TFX(tfx_cat);
TFX(tfx_ceil);
TFX(tfx_coalesce);
TFX(tfx_compact);
TFX(tfx_concat);
TFX(tfx_contains);
TFX(tfx_deep_equal);
TFX(tfx_default);
TFX(tfx_dict);
TFX(tfx_dig);
TFX(tfx_div);
TFX(tfx_empty);
TFX(tfx_fail);
TFX(tfx_first);
TFX(tfx_float64);
TFX(tfx_floor);
TFX(tfx_from_json);
TFX(tfx_get);
TFX(tfx_has);
TFX(tfx_has_key);
TFX(tfx_has_prefix);
TFX(tfx_has_suffix);
TFX(tfx_indent);
TFX(tfx_initial);
TFX(tfx_int);
TFX(tfx_join);
TFX(tfx_keys);
TFX(tfx_kind_is);
TFX(tfx_kind_of);
TFX(tfx_last);
TFX(tfx_list);
TFX(tfx_lower);
TFX(tfx_max);
TFX(tfx_merge);
TFX(tfx_merge_overwrite);
TFX(tfx_min);
TFX(tfx_mod);
TFX(tfx_mul);
TFX(tfx_nindent);
TFX(tfx_nospace);
TFX(tfx_omit);
TFX(tfx_pick);
TFX(tfx_prepend);
TFX(tfx_quote);
TFX(tfx_repeat);
TFX(tfx_replace);
TFX(tfx_rest);
TFX(tfx_reverse);
TFX(tfx_semver_compare);
TFX(tfx_set);
TFX(tfx_sha256sum);
TFX(tfx_sort_alpha);
TFX(tfx_split);
TFX(tfx_split_list);
TFX(tfx_splitn);
TFX(tfx_squote);
TFX(tfx_sub);
TFX(tfx_substr);
TFX(tfx_ternary);
TFX(tfx_title);
TFX(tfx_to_json);
TFX(tfx_to_pretty_json);
TFX(tfx_to_raw_json);
TFX(tfx_to_string);
TFX(tfx_to_strings);
TFX(tfx_trim);
TFX(tfx_trim_all);
TFX(tfx_trim_prefix);
TFX(tfx_trim_suffix);
TFX(tfx_trunc);
TFX(tfx_type_is);
TFX(tfx_type_of);
TFX(tfx_uniq);
TFX(tfx_unset);
TFX(tfx_until);
TFX(tfx_until_step);
TFX(tfx_upper);
TFX(tfx_values);
TFX(tfx_without);
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
