/* functions.c — sprig's function table (its functions.go: every name and the file its function lives in) and the helpers its section files share. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "sprig.h"
#include "sha256.h"
#include "tmpl_node.h"

int sprig_ret_sbuf(struct tmpl_call *c, struct sbuf *b)
{
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

/* sprig's strval: strings as they are, everything else through fmt's %v. */
void sprig_strval(struct sbuf *b, json_t *j)
{
	if (j && json_is_string(j))
		sb_add(b, S(j), SL(j));
	else
		go_print_value(b, j);
}

/* sprig's empty(): nil, zero numbers, false, and empty strings, lists and maps. */
int sprig_is_empty(json_t *j)
{
	if (!j || json_is_null(j))
		return 1;
	return !tv_truth(j);
}

void sprig_replace_all(struct sbuf *b, const char *s, size_t n, const char *old, size_t ol, const char *nw, size_t nl)
{
	if (ol == 0) {
		/* Go inserts the replacement before every rune and at the end */
		for (size_t i = 0; i < n;) {
			sb_add(b, nw, nl);
			size_t w = 1;
			while (i + w < n && ((unsigned char)s[i + w] & 0xC0) == 0x80)
				w++;
			sb_add(b, s + i, w);
			i += w;
		}
		sb_add(b, nw, nl);
		return;
	}
	size_t i = 0;
	while (i < n) {
		const char *m = n - i >= ol ? memmem(s + i, n - i, old, ol) : NULL;
		if (!m) {
			sb_add(b, s + i, n - i);
			return;
		}
		sb_add(b, s + i, (size_t)(m - (s + i)));
		sb_add(b, nw, nl);
		i = (size_t)(m - s) + ol;
	}
}

int sprig_cmp_keys(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* encoding/json's name for the JSON kind that cannot go into a map. */
const char *sprig_json_kind(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_OBJECT: return "object";
	default: return "value";
	}
}

/* Helm's fromYaml/fromJson: a map, or a map holding the error under "Error". */
json_t *sprig_error_map(const char *fmt, const char *a)
{
	char msg[800];
	snprintf(msg, sizeof msg, fmt, a);
	json_t *m = json_object();
	json_object_set_new(m, "Error", json_string_nocheck(msg));
	return m;
}

static const struct tmpl_func sprig[] = {
	{"abbrev", "is", tfx_abbrev},
	{"add1", "a", tfx_add1},
	{"all", "a*", tfx_all},
	{"any", "a*", tfx_any},
	{"cat", "a*", tfx_cat},
	{"ceil", "a", tfx_ceil},
	{"compact", "a", tfx_compact},
	{"concat", "a*", tfx_concat},
	{"deepEqual", "aa", tfx_deep_equal},
	{"dig", "a*", tfx_dig},
	{"floor", "a", tfx_floor},
	{"initial", "a", tfx_initial},
	{"kindIs", "sa", tfx_kind_is},
	{"kindOf", "a", tfx_kind_of},
	{"mergeOverwrite", "mm*", tfx_merge_overwrite},
	{"mustToJson", "a", tfx_to_json},
	{"nospace", "s", tfx_nospace},
	{"omit", "ms*", tfx_omit},
	{"pick", "ms*", tfx_pick},
	{"regexFind", "ss", tfx_regex_find},
	{"regexFindAll", "ssi", tfx_regex_find_all},
	{"regexSplit", "ssi", tfx_regex_split},
	{"mustRegexFind", "ss", tfx_must_regex_find},
	{"mustRegexFindAll", "ssi", tfx_must_regex_find_all},
	{"mustRegexSplit", "ssi", tfx_must_regex_split},
	{"mustRegexMatch", "ss", tfx_must_regex_match},
	{"mustRegexReplaceAll", "sss", tfx_must_regex_replace_all},
	{"regexReplaceAllLiteral", "sss", tfx_regex_replace_all_literal},
	{"mustRegexReplaceAllLiteral", "sss", tfx_must_regex_replace_all_literal},
	{"regexQuoteMeta", "s", tfx_regex_quote_meta},
	{"durationRound", "a", tfx_duration_round},
	{"urlParse", "s", tfx_url_parse},
	{"urlJoin", "m", tfx_url_join},
	{"getHostByName", "s", tfx_get_host_by_name},
	{"mustSlice", "aa*", tfx_must_slice},
	{"fromJsonArray", "s", tfx_from_json_array},
	{"mustFromJson", "s", tfx_must_from_json},
	{"abbrevboth", "iis", tfx_abbrevboth},
	{"must_date_modify", "sa", tfx_date_modify},
	{"now", "", tfx_now},
	{"date", "sa", tfx_date},
	{"dateInZone", "sas", tfx_date_in_zone},
	{"htmlDate", "a", tfx_html_date},
	{"htmlDateInZone", "as", tfx_html_date_in_zone},
	{"unixEpoch", "a", tfx_unix_epoch},
	{"toDate", "ss", tfx_to_date},
	{"mustToDate", "ss", tfx_must_to_date},
	{"dateModify", "sa", tfx_date_modify},
	{"mustDateModify", "sa", tfx_date_modify},
	{"duration", "a", tfx_duration},
	{"ago", "a", tfx_ago},
	{"date_in_zone", "sas", tfx_date_in_zone},
	{"date_modify", "sa", tfx_date_modify},
	{"genPrivateKey", "s", tfx_gen_private_key},
	{"genCA", "si", tfx_gen_ca},
	{"genCAWithKey", "sis", tfx_gen_ca_with_key},
	{"genSelfSignedCert", "sSSi", tfx_gen_self_signed_cert},
	{"genSelfSignedCertWithKey", "sSSis", tfx_gen_self_signed_cert_with_key},
	{"genSignedCert", "sSSia", tfx_gen_signed_cert},
	{"genSignedCertWithKey", "sSSias", tfx_gen_signed_cert_with_key},
	{"buildCustomCert", "ss", tfx_build_custom_cert},
	{"encryptAES", "ss", tfx_encrypt_aes},
	{"decryptAES", "ss", tfx_decrypt_aes},
	{"derivePassword", "issss", tfx_derive_password},
	{"bcrypt", "s", tfx_bcrypt},
	{"htpasswd", "ss", tfx_htpasswd},
	{"sha1sum", "s", tfx_sha1sum},
	{"adler32sum", "s", tfx_adler32sum},
	{"randBytes", "i", tfx_rand_bytes},
	{"randAlphaNum", "i", tfx_rand_alpha_num},
	{"randAlpha", "i", tfx_rand_alpha},
	{"randNumeric", "i", tfx_rand_numeric},
	{"randAscii", "i", tfx_rand_ascii},
	{"randInt", "ii", tfx_rand_int},
	{"shuffle", "s", tfx_shuffle},
	{"uuidv4", "", tfx_uuidv4},
	{"semver", "s", tfx_semver},
	{"base", "s", tfx_path_base},
	{"dir", "s", tfx_path_dir},
	{"clean", "s", tfx_path_clean},
	{"ext", "s", tfx_path_ext},
	{"isAbs", "s", tfx_path_is_abs},
	{"osBase", "s", tfx_path_base},
	{"osDir", "s", tfx_path_dir},
	{"osClean", "s", tfx_path_clean},
	{"osExt", "s", tfx_path_ext},
	{"osIsAbs", "s", tfx_path_is_abs},
	{"deepCopy", "a", tfx_deep_copy},
	{"mustDeepCopy", "a", tfx_deep_copy},
	{"chunk", "ia", tfx_chunk},
	{"mustChunk", "ia", tfx_chunk},
	{"pluck", "sm*", tfx_pluck},
	{"typeIsLike", "sa", tfx_type_is_like},
	{"seq", "i*", tfx_seq},
	{"hello", "", tfx_hello},
	{"plural", "ssi", tfx_plural},
	{"untitle", "s", tfx_untitle},
	{"initials", "s", tfx_initials},
	{"swapcase", "s", tfx_swapcase},
	{"wrap", "is", tfx_wrap},
	{"wrapWith", "iss", tfx_wrap_with},
	{"b32enc", "s", tfx_b32enc},
	{"b32dec", "s", tfx_b32dec},
	{"snakecase", "s", tfx_snakecase},
	{"kebabcase", "s", tfx_kebabcase},
	{"camelcase", "s", tfx_camelcase},
	{"addf", "a*", tfx_addf},
	{"add1f", "a", tfx_add1f},
	{"subf", "aa*", tfx_subf},
	{"mulf", "aa*", tfx_mulf},
	{"divf", "aa*", tfx_divf},
	{"maxf", "aa*", tfx_maxf},
	{"minf", "aa*", tfx_minf},
	{"round", "aif*", tfx_round},
	{"toDecimal", "a", tfx_to_decimal},
	{"mustCompact", "a", tfx_compact},
	{"mustAppend", "aa", tfx_append},
	{"mustPrepend", "aa", tfx_prepend},
	{"mustFirst", "a", tfx_first},
	{"mustRest", "a", tfx_rest},
	{"mustLast", "a", tfx_last},
	{"mustInitial", "a", tfx_initial},
	{"mustReverse", "a", tfx_reverse},
	{"mustUniq", "a", tfx_uniq},
	{"mustWithout", "aa*", tfx_without},
	{"mustHas", "aa", tfx_has},
	{"tuple", "a*", tfx_list},
	{"mustMerge", "mm*", tfx_merge},
	{"mustMergeOverwrite", "mm*", tfx_merge_overwrite},
	{"biggest", "aa*", tfx_max},
	{"trimall", "ss", tfx_trim_all},
	{"mustToPrettyJson", "a", tfx_to_pretty_json},
	{"mustToRawJson", "a", tfx_to_raw_json},
	{"rest", "a", tfx_rest},
	{"reverse", "a", tfx_reverse},
	{"split", "ss", tfx_split},
	{"splitn", "sis", tfx_splitn},
	{"substr", "iis", tfx_substr},
	{"toRawJson", "a", tfx_to_raw_json},
	{"toStrings", "a", tfx_to_strings},
	{"trimAll", "ss", tfx_trim_all},
	{"typeIs", "sa", tfx_type_is},
	{"typeOf", "a", tfx_type_of},
	{"until", "i", tfx_until},
	{"untilStep", "iii", tfx_until_step},
	{"without", "aa*", tfx_without},
	{"add", "a*", tfx_add},
	{"append", "aa", tfx_append},
	{"atoi", "s", tfx_atoi},
	{"b64dec", "s", tfx_b64dec},
	{"b64enc", "s", tfx_b64enc},
	{"coalesce", "a*", tfx_coalesce},
	{"contains", "ss", tfx_contains},
	{"default", "aa*", tfx_default},
	{"dict", "a*", tfx_dict},
	{"div", "aa", tfx_div},
	{"empty", "a", tfx_empty},
	{"fail", "s", tfx_fail},
	{"first", "a", tfx_first},
	{"float64", "a", tfx_float64},
	{"fromJson", "s", tfx_from_json},
	{"get", "ms", tfx_get},
	{"has", "aa", tfx_has},
	{"hasKey", "ms", tfx_has_key},
	{"hasPrefix", "ss", tfx_has_prefix},
	{"hasSuffix", "ss", tfx_has_suffix},
	{"indent", "is", tfx_indent},
	{"int", "a", tfx_int},
	{"int64", "a", tfx_int},
	{"join", "sa", tfx_join},
	{"keys", "m*", tfx_keys},
	{"last", "a", tfx_last},
	{"list", "a*", tfx_list},
	{"lower", "s", tfx_lower},
	{"max", "aa*", tfx_max},
	{"merge", "mm*", tfx_merge},
	{"min", "aa*", tfx_min},
	{"mod", "aa", tfx_mod},
	{"mul", "aa*", tfx_mul},
	{"nindent", "is", tfx_nindent},
	{"prepend", "aa", tfx_prepend},
	{"push", "aa", tfx_append},
	{"quote", "a*", tfx_quote},
	{"regexMatch", "ss", tfx_regex_match},
	{"regexReplaceAll", "sss", tfx_regex_replace_all},
	{"repeat", "is", tfx_repeat},
	{"replace", "sss", tfx_replace},
	{"semverCompare", "ss", tfx_semver_compare},
	{"set", "msa", tfx_set},
	{"sha256sum", "s", tfx_sha256sum},
	{"sortAlpha", "a", tfx_sort_alpha},
	{"splitList", "ss", tfx_split_list},
	{"squote", "a*", tfx_squote},
	{"sub", "aa", tfx_sub},
	{"ternary", "aab", tfx_ternary},
	{"title", "s", tfx_title},
	{"toJson", "a", tfx_to_json},
	{"toPrettyJson", "a", tfx_to_pretty_json},
	{"toString", "a", tfx_to_string},
	{"trim", "s", tfx_trim},
	{"trimPrefix", "ss", tfx_trim_prefix},
	{"trimSuffix", "ss", tfx_trim_suffix},
	{"trunc", "is", tfx_trunc},
	{"uniq", "a", tfx_uniq},
	{"unset", "ms", tfx_unset},
	{"upper", "s", tfx_upper},
	{"values", "m", tfx_values},
};

const struct tmpl_func *sprig_funcs(size_t *n)
{
	*n = sizeof sprig / sizeof sprig[0];
	return sprig;
}

int sprig_install(struct tmpl_set *set)
{
	size_t n;
	const struct tmpl_func *f = sprig_funcs(&n);
	return tmpl_set_funcs(set, f, n);
}
