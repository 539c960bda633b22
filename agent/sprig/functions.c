/* functions.c — the sprig and Helm template functions charts use (default, toYaml, include, tpl, semverCompare, ...). */
#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <wctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "base64.h"
#include "sprig.h"
#include "tmpl_node.h"
#include "yamlemit.h"
#include "yamlval.h"

/* Outputs larger than this are refused (repeat, indent), so hostile templates cannot exhaust memory. */
#define MAX_STRING_RESULT (64u << 20)

static int ret_sbuf(struct fcall *c, struct sbuf *b)
{
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

static const char *S(json_t *j) { return json_string_value(j); }
static size_t SL(json_t *j) { return json_string_length(j); }

/* sprig's strval: strings as they are, everything else through fmt's %v. */
static void strval(struct sbuf *b, json_t *j)
{
	if (j && json_is_string(j))
		sb_add(b, S(j), SL(j));
	else
		go_print_value(b, j);
}

/* sprig's empty(): nil, zero numbers, false, and empty strings, lists and maps. */
static int is_empty(json_t *j)
{
	if (!j || json_is_null(j))
		return 1;
	return !tv_truth(j);
}

/* ---- cast.ToInt64 / ToFloat64 ---- */

static int parse_go_int(const char *s, long long *out)
{
	/* strconv.ParseInt(s, 0, 64) */
	const char *p = s;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	int base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return -1;
	unsigned long long v = 0;
	for (; *p; p++) {
		if (*p == '_')
			continue;
		int d = isdigit((unsigned char)*p) ? *p - '0' : isalpha((unsigned char)*p) ? tolower(*p) - 'a' + 10 : 99;
		if (d >= base)
			return -1;
		if (v > (~0ULL) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (v > (neg ? (1ULL << 63) : (1ULL << 63) - 1))
		return -1;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

static long long to_int64(json_t *j)
{
	if (!j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_INTEGER: return (long long)json_integer_value(j);
	case JSON_REAL: {
		double f = json_real_value(j);
		if (isnan(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18)
			return (long long)0x8000000000000000ULL;
		return (long long)f;
	}
	case JSON_TRUE: return 1;
	case JSON_STRING: {
		/* cast trims a zero decimal part ("12.0") before strconv.ParseInt(s, 0, 0) */
		char *s = strdup(S(j));
		if (!s)
			abort();
		char *dot = strchr(s, '.');
		if (dot) {
			char *q = dot + 1;
			while (*q == '0')
				q++;
			if (!*q && dot > s)
				*dot = 0;
		}
		long long v = 0;
		if (parse_go_int(s, &v))
			v = 0;
		free(s);
		return v;
	}
	default: return 0;
	}
}

static double to_float64(json_t *j)
{
	if (!j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_INTEGER: return (double)json_integer_value(j);
	case JSON_REAL: return json_real_value(j);
	case JSON_TRUE: return 1;
	case JSON_STRING: {
		char *end;
		const char *s = S(j);
		if (!*s || isspace((unsigned char)*s))
			return 0;
		double f = strtod(s, &end);
		return *end ? 0 : f;
	}
	default: return 0;
	}
}

/* ---- defaults and flow ---- */

static int fn_default(struct fcall *c, json_t **a, size_t n)
{
	if (n < 2 || is_empty(a[1]))
		return tf_ret(c, json_incref(a[0]));
	return tf_ret(c, json_incref(a[1]));
}

static int fn_empty(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, is_empty(a[0]));
}

static int fn_coalesce(struct fcall *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_empty(a[i]))
			return tf_ret(c, json_incref(a[i]));
	return tf_ret(c, json_null());
}

static int fn_ternary(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret(c, json_incref(json_is_true(a[2]) ? a[0] : a[1]));
}

static int fn_required(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[1] || json_is_null(a[1]) || (json_is_string(a[1]) && SL(a[1]) == 0))
		return tf_fail(c, "%s", S(a[0]));
	return tf_ret(c, json_incref(a[1]));
}

static int fn_fail(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_fail(c, "%s", S(a[0]));
}

/* ---- strings ---- */

static int fn_quote(struct fcall *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || json_is_null(a[i]))
			continue;
		if (!first)
			sb_putc(&b, ' ');
		first = 0;
		struct sbuf v = {0};
		strval(&v, a[i]);
		go_quote(&b, v.s ? v.s : "", v.len, 0);
		free(v.s);
	}
	return ret_sbuf(c, &b);
}

static int fn_squote(struct fcall *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || json_is_null(a[i]))
			continue;
		if (!first)
			sb_putc(&b, ' ');
		first = 0;
		sb_putc(&b, '\'');
		strval(&b, a[i]);
		sb_putc(&b, '\'');
	}
	return ret_sbuf(c, &b);
}

/* Unicode case mapping through the C.UTF-8 locale's tables (ASCII only if that locale is missing). */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_free(void) { freelocale(utf8_locale); }

/* Loaded once per process; freed at exit so leak checkers (valgrind, LSan) see nothing outstanding. */
static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8_locale)
		atexit(utf8_locale_free);
}

static int map_case(struct fcall *c, json_t *s, int upper)
{
	pthread_once(&utf8_once, utf8_locale_init);
	const unsigned char *p = (const unsigned char *)S(s), *end = p + SL(s);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	while (p < end) {
		/* decode one UTF-8 sequence; invalid bytes pass through untouched */
		unsigned long r = *p;
		size_t len = r < 0x80 ? 1 : r >= 0xF0 ? 4 : r >= 0xE0 ? 3 : r >= 0xC0 ? 2 : 0;
		if (!len || len > (size_t)(end - p)) {
			sb_putc(&b, (char)*p++);
			continue;
		}
		if (len > 1) {
			r &= 0x3Fu >> (len - 1);
			for (size_t k = 1; k < len; k++) {
				if ((p[k] & 0xC0) != 0x80) {
					len = 0;
					break;
				}
				r = (r << 6) | (p[k] & 0x3Fu);
			}
			if (!len) {
				sb_putc(&b, (char)*p++);
				continue;
			}
		}
		unsigned long m = r;
		if (r < 0x80)
			m = (unsigned long)(upper ? toupper((int)r) : tolower((int)r));
		else if (utf8_locale)
			m = (unsigned long)(upper ? towupper_l((wint_t)r, utf8_locale) : towlower_l((wint_t)r, utf8_locale));
		if (m == r || m > 0x10FFFF) {
			sb_add(&b, (const char *)p, len);
		} else if (m < 0x80) {
			sb_putc(&b, (char)m);
		} else if (m < 0x800) {
			sb_putc(&b, (char)(0xC0 | (m >> 6)));
			sb_putc(&b, (char)(0x80 | (m & 0x3F)));
		} else if (m < 0x10000) {
			sb_putc(&b, (char)(0xE0 | (m >> 12)));
			sb_putc(&b, (char)(0x80 | ((m >> 6) & 0x3F)));
			sb_putc(&b, (char)(0x80 | (m & 0x3F)));
		} else {
			sb_putc(&b, (char)(0xF0 | (m >> 18)));
			sb_putc(&b, (char)(0x80 | ((m >> 12) & 0x3F)));
			sb_putc(&b, (char)(0x80 | ((m >> 6) & 0x3F)));
			sb_putc(&b, (char)(0x80 | (m & 0x3F)));
		}
		p += len;
	}
	return ret_sbuf(c, &b);
}

static int fn_upper(struct fcall *c, json_t **a, size_t n) { (void)n; return map_case(c, a[0], 1); }
static int fn_lower(struct fcall *c, json_t **a, size_t n) { (void)n; return map_case(c, a[0], 0); }

static int fn_title(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, S(a[0]), SL(a[0]));
	int prev_sep = 1;
	for (size_t i = 0; i < b.len; i++) {
		unsigned char ch = (unsigned char)b.s[i];
		if (prev_sep && ch < 0x80)
			b.s[i] = (char)toupper(ch);
		/* strings.Title: ASCII letters, digits and '_' are word characters; other ASCII separates */
		prev_sep = ch < 0x80 && !isalnum(ch) && ch != '_';
	}
	return ret_sbuf(c, &b);
}

static int is_go_space(unsigned char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* unicode.IsSpace at s (n bytes left): returns the width of the space rune there, or 0. */
static size_t space_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (is_go_space(p[0]))
		return 1;
	if (n >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0)) /* NEL, NBSP */
		return 2;
	if (n >= 3 && p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) /* U+1680 */
		return 3;
	if (n >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
	    (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF)) /* U+2000-200A, 2028, 2029, 202F */
		return 3;
	if (n >= 3 && p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) /* U+205F */
		return 3;
	if (n >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

/* The width of a space rune ending at s[n-1], or 0. */
static size_t space_width_before(const char *s, size_t n)
{
	for (size_t w = 1; w <= 3 && w <= n; w++)
		if (space_width(s + n - w, w) == w)
			return w;
	return 0;
}

static int fn_trim(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	size_t len = SL(a[0]), i = 0, w;
	while (i < len && (w = space_width(s + i, len - i)))
		i += w;
	while (len > i && (w = space_width_before(s + i, len - i)))
		len -= w;
	return tf_ret_str(c, s + i, len - i);
}

static int fn_trim_prefix(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	size_t pl = SL(a[0]), sl = SL(a[1]);
	if (sl >= pl && !memcmp(S(a[1]), S(a[0]), pl))
		return tf_ret_str(c, S(a[1]) + pl, sl - pl);
	return tf_ret(c, json_incref(a[1]));
}

static int fn_trim_suffix(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	size_t pl = SL(a[0]), sl = SL(a[1]);
	if (sl >= pl && !memcmp(S(a[1]) + sl - pl, S(a[0]), pl))
		return tf_ret_str(c, S(a[1]), sl - pl);
	return tf_ret(c, json_incref(a[1]));
}

static int fn_trunc(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long k = (long long)json_integer_value(a[0]);
	long long len = (long long)SL(a[1]);
	if (k < 0 && len + k > 0)
		return tf_ret_str(c, S(a[1]) + len + k, (size_t)-k);
	if (k >= 0 && len > k)
		return tf_ret_str(c, S(a[1]), (size_t)k);
	return tf_ret(c, json_incref(a[1]));
}

static void replace_all(struct sbuf *b, const char *s, size_t n, const char *old, size_t ol, const char *nw, size_t nl)
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

static int fn_replace(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	replace_all(&b, S(a[2]), SL(a[2]), S(a[0]), SL(a[0]), S(a[1]), SL(a[1]));
	return ret_sbuf(c, &b);
}

static int fn_contains(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[0]) == 0 || (SL(a[1]) >= SL(a[0]) && memmem(S(a[1]), SL(a[1]), S(a[0]), SL(a[0]))));
}

static int fn_has_prefix(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[1]) >= SL(a[0]) && !memcmp(S(a[1]), S(a[0]), SL(a[0])));
}

static int fn_has_suffix(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[1]) >= SL(a[0]) && !memcmp(S(a[1]) + SL(a[1]) - SL(a[0]), S(a[0]), SL(a[0])));
}

static int fn_split_list(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	const char *sep = S(a[0]), *s = S(a[1]);
	size_t sl = SL(a[0]), len = SL(a[1]);
	json_t *out = json_array();
	if (sl == 0) {
		for (size_t i = 0; i < len;) {
			size_t w = 1;
			while (i + w < len && ((unsigned char)s[i + w] & 0xC0) == 0x80)
				w++;
			json_array_append_new(out, json_stringn_nocheck(s + i, w));
			i += w;
		}
		return tf_ret(c, out);
	}
	size_t i = 0;
	for (;;) {
		const char *m = len - i >= sl ? memmem(s + i, len - i, sep, sl) : NULL;
		if (!m) {
			json_array_append_new(out, json_stringn_nocheck(s + i, len - i));
			break;
		}
		json_array_append_new(out, json_stringn_nocheck(s + i, (size_t)(m - (s + i))));
		i = (size_t)(m - s) + sl;
	}
	return tf_ret(c, out);
}

static int fn_join(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	json_t *v = a[1];
	if (v && json_is_array(v)) {
		int first = 1;
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);
			if (json_is_null(e))
				continue;
			if (!first)
				sb_add(&b, S(a[0]), SL(a[0]));
			first = 0;
			strval(&b, e);
		}
	} else if (v && !json_is_null(v)) {
		strval(&b, v);
	}
	return ret_sbuf(c, &b);
}

static int fn_repeat(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long k = (long long)json_integer_value(a[0]);
	if (k < 0)
		return tf_fail(c, "strings: negative Repeat count");
	if (SL(a[1]) && (unsigned long long)k > MAX_STRING_RESULT / SL(a[1]))
		return tf_fail(c, "strings: Repeat output too large");
	struct sbuf b = {0};
	for (long long i = 0; i < k; i++)
		sb_add(&b, S(a[1]), SL(a[1]));
	return ret_sbuf(c, &b);
}

static int indent_into(struct fcall *c, struct sbuf *b, long long spaces, json_t *s)
{
	if (spaces < 0)
		return tf_fail(c, "strings: negative Repeat count");
	size_t lines = 1;
	for (size_t i = 0; i < SL(s); i++)
		lines += S(s)[i] == '\n';
	if ((unsigned long long)spaces > MAX_STRING_RESULT / lines)
		return tf_fail(c, "strings: Repeat output too large");
	for (long long i = 0; i < spaces; i++)
		sb_putc(b, ' ');
	for (size_t i = 0; i < SL(s); i++) {
		sb_putc(b, S(s)[i]);
		if (S(s)[i] == '\n')
			for (long long k = 0; k < spaces; k++)
				sb_putc(b, ' ');
	}
	return 0;
}

static int fn_indent(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	if (indent_into(c, &b, (long long)json_integer_value(a[0]), a[1])) {
		free(b.s);
		return -1;
	}
	return ret_sbuf(c, &b);
}

static int fn_nindent(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_putc(&b, '\n');
	if (indent_into(c, &b, (long long)json_integer_value(a[0]), a[1])) {
		free(b.s);
		return -1;
	}
	return ret_sbuf(c, &b);
}

static int fn_to_string(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	strval(&b, a[0]);
	return ret_sbuf(c, &b);
}

/* ---- encodings ---- */

/* encoding/json's string form: HTML-safe escapes, \u00XX for other control bytes. */
static void json_quote(struct sbuf *b, const char *s, size_t n)
{
	sb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		switch (ch) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		case '<': case '>': case '&': sb_printf(b, "\\u%04x", ch); break;
		default:
			if (ch < 0x20) {
				sb_printf(b, "\\u%04x", ch);
			} else if (ch == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
				sb_printf(b, "\\u202%c", (unsigned char)s[i + 2] == 0xA8 ? '8' : '9');
				i += 2;
			} else {
				sb_putc(b, (char)ch);
			}
		}
	}
	sb_putc(b, '"');
}

static void json_float(struct sbuf *b, double f)
{
	double af = fabs(f);
	if (af != 0 && (af < 1e-6 || af >= 1e21)) {
		struct sbuf t = {0};
		go_format_float(&t, f, 'e', -1);
		/* Go trims the exponent's leading zero: e-07 -> e-7 */
		char *e = t.s ? strchr(t.s, 'e') : NULL;
		if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3]) {
			memmove(e + 2, e + 3, strlen(e + 3) + 1);
			t.len--;
		}
		sb_add(b, t.s, t.len);
		free(t.s);
	} else {
		go_format_float(b, f, 'f', -1);
	}
}

static int cmp_keys(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

static void json_encode(struct sbuf *b, json_t *j, const char *indent, int level)
{
	if (!j || json_is_null(j)) {
		sb_puts(b, "null");
		return;
	}
	switch (json_typeof(j)) {
	case JSON_STRING: json_quote(b, S(j), SL(j)); return;
	case JSON_INTEGER: sb_printf(b, "%lld", (long long)json_integer_value(j)); return;
	case JSON_REAL: json_float(b, json_real_value(j)); return;
	case JSON_TRUE: sb_puts(b, "true"); return;
	case JSON_FALSE: sb_puts(b, "false"); return;
	case JSON_ARRAY:
		if (!json_array_size(j)) {
			sb_puts(b, "[]");
			return;
		}
		sb_putc(b, '[');
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				sb_putc(b, ',');
			if (indent) {
				sb_putc(b, '\n');
				for (int k = 0; k <= level; k++)
					sb_puts(b, indent);
			}
			json_encode(b, json_array_get(j, i), indent, level + 1);
		}
		if (indent) {
			sb_putc(b, '\n');
			for (int k = 0; k < level; k++)
				sb_puts(b, indent);
		}
		sb_putc(b, ']');
		return;
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		if (!n) {
			sb_puts(b, "{}");
			return;
		}
		const char **keys = malloc(n * sizeof *keys);
		if (!keys)
			abort();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) keys[i++] = k;
		qsort(keys, n, sizeof *keys, cmp_keys);
		sb_putc(b, '{');
		for (i = 0; i < n; i++) {
			if (i)
				sb_putc(b, ',');
			if (indent) {
				sb_putc(b, '\n');
				for (int l = 0; l <= level; l++)
					sb_puts(b, indent);
			}
			json_quote(b, keys[i], strlen(keys[i]));
			sb_puts(b, indent ? ": " : ":");
			json_encode(b, json_object_get(j, keys[i]), indent, level + 1);
		}
		if (indent) {
			sb_putc(b, '\n');
			for (int l = 0; l < level; l++)
				sb_puts(b, indent);
		}
		sb_putc(b, '}');
		free(keys);
		return;
	}
	default:
		return;
	}
}

static int fn_to_json(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	json_encode(&b, a[0], NULL, 0);
	return ret_sbuf(c, &b);
}

static int fn_to_pretty_json(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	json_encode(&b, a[0], "  ", 0);
	return ret_sbuf(c, &b);
}

static int fn_to_yaml(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	size_t len;
	char *y = yaml_emit(a[0], &len);
	if (len && y[len - 1] == '\n') /* Helm trims the final newline */
		len--;
	int rc = tf_ret_str(c, y, len);
	free(y);
	return rc;
}

/* encoding/json's name for the JSON kind that cannot go into a map. */
static const char *json_kind(json_t *j)
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
static json_t *error_map(const char *fmt, const char *a)
{
	char msg[800];
	snprintf(msg, sizeof msg, fmt, a);
	json_t *m = json_object();
	json_object_set_new(m, "Error", json_string_nocheck(msg));
	return m;
}

/* A load error as yaml.v2 words it: libyaml's problem without its context ("while parsing ..."). */
static void yaml_v2_error(char *buf, size_t n, struct yv_error *e)
{
	char *w = strstr(e->msg, " while ");
	if (w)
		*w = 0;
	if (e->go_line)
		snprintf(buf, n, "yaml: line %d: %s", e->go_line, e->msg);
	else
		snprintf(buf, n, "yaml: %s", e->msg);
}

static int fn_from_yaml(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct yv_error e;
	memset(&e, 0, sizeof e);
	json_t *docs = yv_load(S(a[0]), SL(a[0]), "fromYaml", 1, NULL, &e);
	if (!docs) {
		char where[600];
		yaml_v2_error(where, sizeof where, &e);
		return tf_ret(c, error_map("error converting YAML to JSON: %s", where));
	}
	json_t *first = json_array_get(docs, 0);
	json_t *m;
	if (first && json_is_object(first))
		m = json_incref(first);
	else if (first && !json_is_null(first))
		m = error_map("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type "
			      "map[string]interface {}",
			      json_kind(first));
	else
		m = json_object();
	json_decref(docs);
	return tf_ret(c, m);
}

static int fn_from_json(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_error_t e;
	json_t *v = json_loadb(S(a[0]), SL(a[0]), JSON_DECODE_ANY, &e);
	if (!v) /* jansson's wording, not encoding/json's */
		return tf_ret(c, error_map("%s", e.text));
	if (!json_is_object(v)) {
		json_t *m = error_map("json: cannot unmarshal %s into Go value of type map[string]interface {}",
				      json_kind(v));
		json_decref(v);
		return tf_ret(c, m);
	}
	return tf_ret(c, v);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int fn_b64enc(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	char *e = base64_encode(S(a[0]), SL(a[0]));
	if (!e)
		return tf_fail(c, "out of memory");
	int rc = tf_ret_str(c, e, strlen(e));
	free(e);
	return rc;
}

/* base64.StdEncoding.DecodeString, quantum by quantum, so errors name the same offset Go's decoder does:
 * CR/LF are skipped, a short final quantum is corrupt at its start, padding must complete it exactly. */
static int fn_b64dec(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	size_t len = SL(a[0]), si = 0, bad = (size_t)-1;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	while (si < len && bad == (size_t)-1) {
		unsigned q[4] = {0};
		int j, dlen = 4;
		for (j = 0; j < 4; j++) {
			if (si == len) {
				if (j > 0)
					bad = si - (size_t)j;
				dlen = j;
				break;
			}
			char in = s[si++];
			const char *p = in ? strchr(B64, in) : NULL;
			if (p) {
				q[j] = (unsigned)(p - B64);
				continue;
			}
			if (in == '\n' || in == '\r') {
				j--;
				continue;
			}
			if (in != '=' || j < 2) {
				bad = si - 1;
				break;
			}
			if (j == 2) { /* a second '=' must follow, newlines aside */
				while (si < len && (s[si] == '\n' || s[si] == '\r'))
					si++;
				if (si == len || s[si] != '=') {
					bad = si == len ? len : si - 1;
					break;
				}
				si++;
			}
			while (si < len && (s[si] == '\n' || s[si] == '\r'))
				si++;
			if (si < len)
				bad = si; /* trailing garbage */
			dlen = j;
			break;
		}
		if (bad != (size_t)-1)
			break;
		unsigned v = q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3];
		for (int k = 0; k + 1 < dlen; k++)
			sb_putc(&b, (char)((v >> (16 - 8 * k)) & 0xFF));
	}
	if (bad == (size_t)-1)
		return ret_sbuf(c, &b);
	/* sprig returns the decoder's error text as the result */
	free(b.s);
	char msg[64];
	snprintf(msg, sizeof msg, "illegal base64 data at input byte %zu", bad);
	return tf_ret_str(c, msg, strlen(msg));
}

static int fn_sha256sum(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	char hex[65];
	sha256_hex(S(a[0]), SL(a[0]), hex);
	return tf_ret_str(c, hex, 64);
}

/* ---- dicts and lists ---- */

static int fn_dict(struct fcall *c, json_t **a, size_t n)
{
	json_t *d = json_object();
	for (size_t i = 0; i < n; i += 2) {
		struct sbuf k = {0};
		sb_add(&k, "", 0);
		strval(&k, a[i]);
		json_object_setn_nocheck(d, k.s, k.len, i + 1 < n ? a[i + 1] : json_string_nocheck(""));
		if (i + 1 >= n) {
			/* json_object_setn took a new reference to the "" string above; drop ours */
			json_decref(json_object_getn(d, k.s, k.len));
		}
		free(k.s);
	}
	return tf_ret(c, d);
}

static int fn_list(struct fcall *c, json_t **a, size_t n)
{
	json_t *l = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(l, a[i] ? a[i] : json_null());
	return tf_ret(c, l);
}

static int need_map(struct fcall *c, json_t *m)
{
	if (!m || json_is_null(m))
		return tf_fail(c, "assignment to entry in nil map");
	return 0;
}

static int fn_get(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *v = a[0] && json_is_object(a[0]) ? json_object_getn(a[0], S(a[1]), SL(a[1])) : NULL;
	return tf_ret(c, v ? json_incref(v) : json_string_nocheck(""));
}

static int fn_set(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_map(c, a[0]))
		return -1;
	json_object_setn_nocheck(a[0], S(a[1]), SL(a[1]), a[2] ? a[2] : json_null());
	return tf_ret(c, json_incref(a[0]));
}

static int fn_unset(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (a[0] && json_is_object(a[0]))
		json_object_deln(a[0], S(a[1]), SL(a[1]));
	return tf_ret(c, json_incref(a[0]));
}

static int fn_has_key(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, a[0] && json_is_object(a[0]) && json_object_getn(a[0], S(a[1]), SL(a[1])));
}

static int fn_keys(struct fcall *c, json_t **a, size_t n)
{
	/* Go's map order is random; sorted keys are one of its possible outcomes */
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || !json_is_object(a[i]))
			continue;
		const char *k;
		json_t *v;
		json_object_foreach(a[i], k, v) json_array_append_new(out, json_string_nocheck(k));
	}
	size_t m = json_array_size(out);
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && strcmp(S(json_array_get(out, j - 1)), S(json_array_get(out, j))) > 0; j--) {
			json_t *x = json_incref(json_array_get(out, j));
			json_array_set(out, j, json_array_get(out, j - 1));
			json_array_set_new(out, j - 1, x);
		}
	return tf_ret(c, out);
}

static int fn_values(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_array();
	if (a[0] && json_is_object(a[0])) {
		size_t m = json_object_size(a[0]), i = 0;
		const char **keys = malloc((m ? m : 1) * sizeof *keys);
		if (!keys)
			abort();
		const char *k;
		json_t *v;
		json_object_foreach(a[0], k, v) keys[i++] = k;
		qsort(keys, m, sizeof *keys, cmp_keys);
		for (i = 0; i < m; i++)
			json_array_append(out, json_object_get(a[0], keys[i]));
		free(keys);
	}
	return tf_ret(c, out);
}

/* mergo 0.3's map merge as sprig calls it: merge (overwrite 0) fills keys that dst lacks or holds empty;
 * mergeOverwrite (1) replaces with every non-nil src value, empty ones included, and copies nils. In both,
 * maps merge deeply and a non-empty dst value is kept when src brings a map. */
static void merge_into(json_t *dst, json_t *src, int overwrite, int depth)
{
	const char *k;
	json_t *sv;
	json_object_foreach(src, k, sv)
	{
		json_t *dv = json_object_get(dst, k);
		if (json_is_null(sv)) {
			if (overwrite)
				json_object_set(dst, k, sv);
			continue;
		}
		if (json_is_object(sv)) {
			if (dv && json_is_object(dv) && depth < 100)
				merge_into(dv, sv, overwrite, depth + 1);
			if (dv && !is_empty(dv))
				continue;
		}
		if (overwrite || !dv || is_empty(dv))
			json_object_set(dst, k, sv);
	}
}

static int fn_merge(struct fcall *c, json_t **a, size_t n)
{
	if (need_map(c, a[0]))
		return -1;
	for (size_t i = 1; i < n; i++)
		if (a[i] && json_is_object(a[i]) && a[i] != a[0])
			merge_into(a[0], a[i], 0, 0);
	return tf_ret(c, json_incref(a[0]));
}

/* sprig's list functions switch on reflect.TypeOf(list).Kind(), which dereferences nil for a nil list:
 * text/template reports that panic. */
static int need_list(struct fcall *c, json_t *l, const char *what)
{
	if (!l || json_is_null(l))
		return tf_fail(c, "runtime error: invalid memory address or nil pointer dereference");
	if (!json_is_array(l)) {
		struct tval v = {l, 0};
		return tf_fail(c, "Cannot %s on type %s", what, tv_type_name(&v));
	}
	return 0;
}

static int fn_append(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "push"))
		return -1;
	json_t *out = json_copy(a[0]);
	json_array_append(out, a[1]);
	return tf_ret(c, out);
}

static int fn_prepend(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "prepend"))
		return -1;
	json_t *out = json_copy(a[0]);
	json_array_insert(out, 0, a[1]);
	return tf_ret(c, out);
}

static int fn_first(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find first"))
		return -1;
	json_t *v = json_array_get(a[0], 0);
	return tf_ret(c, v ? json_incref(v) : json_null());
}

static int fn_last(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find last"))
		return -1;
	size_t m = json_array_size(a[0]);
	return tf_ret(c, m ? json_incref(json_array_get(a[0], m - 1)) : json_null());
}

static int fn_uniq(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find uniq"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		json_t *e = json_array_get(a[0], i);
		int seen = 0;
		for (size_t k = 0; k < json_array_size(out) && !seen; k++)
			seen = json_equal(json_array_get(out, k), e);
		if (!seen)
			json_array_append(out, e);
	}
	return tf_ret(c, out);
}

static int fn_has(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (!a[1] || json_is_null(a[1]))
		return tf_ret_bool(c, 0);
	if (need_list(c, a[1], "find has"))
		return -1;
	for (size_t i = 0; i < json_array_size(a[1]); i++)
		if (json_equal(json_array_get(a[1], i), a[0]))
			return tf_ret_bool(c, 1);
	return tf_ret_bool(c, 0);
}

static int fn_sort_alpha(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_array();
	if (a[0] && json_is_array(a[0])) {
		for (size_t i = 0; i < json_array_size(a[0]); i++) {
			if (json_is_null(json_array_get(a[0], i)))
				continue; /* sprig's strslice drops nils */
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			strval(&b, json_array_get(a[0], i));
			json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
			free(b.s);
		}
	} else { /* anything else is one string: strval(nil) is "<nil>" */
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		strval(&b, a[0]);
		json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
		free(b.s);
	}
	size_t m = json_array_size(out);
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && strcmp(S(json_array_get(out, j - 1)), S(json_array_get(out, j))) > 0; j--) {
			json_t *x = json_incref(json_array_get(out, j));
			json_array_set(out, j, json_array_get(out, j - 1));
			json_array_set_new(out, j - 1, x);
		}
	return tf_ret(c, out);
}

/* ---- arithmetic (sprig converts every operand with cast.ToInt64) ---- */

static int fn_add(struct fcall *c, json_t **a, size_t n)
{
	unsigned long long s = 0;
	for (size_t i = 0; i < n; i++)
		s += (unsigned long long)to_int64(a[i]);
	return tf_ret_int(c, (long long)s);
}

static int fn_sub(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, (long long)((unsigned long long)to_int64(a[0]) - (unsigned long long)to_int64(a[1])));
}

static int fn_mul(struct fcall *c, json_t **a, size_t n)
{
	unsigned long long p = (unsigned long long)to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		p *= (unsigned long long)to_int64(a[i]);
	return tf_ret_int(c, (long long)p);
}

static int fn_div(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long x = to_int64(a[0]), y = to_int64(a[1]);
	if (y == 0)
		return tf_fail(c, "runtime error: integer divide by zero");
	if (y == -1)
		return tf_ret_int(c, (long long)(0 - (unsigned long long)x));
	return tf_ret_int(c, x / y);
}

static int fn_mod(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long x = to_int64(a[0]), y = to_int64(a[1]);
	if (y == 0)
		return tf_fail(c, "runtime error: integer divide by zero");
	if (y == -1)
		return tf_ret_int(c, 0);
	return tf_ret_int(c, x % y);
}

static int fn_max(struct fcall *c, json_t **a, size_t n)
{
	long long m = to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		if (to_int64(a[i]) > m)
			m = to_int64(a[i]);
	return tf_ret_int(c, m);
}

static int fn_min(struct fcall *c, json_t **a, size_t n)
{
	long long m = to_int64(a[0]);
	for (size_t i = 1; i < n; i++)
		if (to_int64(a[i]) < m)
			m = to_int64(a[i]);
	return tf_ret_int(c, m);
}

static int fn_int(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, to_int64(a[0]));
}

static int fn_float64(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret(c, json_real(to_float64(a[0])));
}

static int fn_atoi(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return tf_ret_int(c, 0);
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return tf_ret_int(c, 0);
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	return tf_ret_int(c, errno ? 0 : v);
}

static int fn_semver_compare(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	char err[256];
	int r = tmpl_semver_compare(S(a[0]), S(a[1]), SL(a[1]), err, sizeof err);
	if (r < 0)
		return tf_fail(c, "%s", err);
	return tf_ret_bool(c, r);
}

/* ---- more sprig functions charts reach for ---- */

/* Lists longer than this are refused (until, untilStep), so hostile templates cannot exhaust memory. */
#define MAX_LIST_RESULT 10000000

static int fn_add1(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_int(c, (long long)((unsigned long long)to_int64(a[0]) + 1));
}

static int until_step(struct fcall *c, long long start, long long stop, long long step)
{
	json_t *v = json_array();
	long long count = 0;
	if (stop < start) {
		if (step < 0)
			for (long long i = start; i > stop; i += step) {
				if (++count > MAX_LIST_RESULT) {
					json_decref(v);
					return tf_fail(c, "list too long");
				}
				json_array_append_new(v, json_integer(i));
			}
		return tf_ret(c, v);
	}
	if (step > 0)
		for (long long i = start; i < stop; i += step) {
			if (++count > MAX_LIST_RESULT) {
				json_decref(v);
				return tf_fail(c, "list too long");
			}
			json_array_append_new(v, json_integer(i));
		}
	return tf_ret(c, v);
}

static int fn_until(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long k = (long long)json_integer_value(a[0]);
	return until_step(c, 0, k, k < 0 ? -1 : 1);
}

static int fn_until_step(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return until_step(c, (long long)json_integer_value(a[0]), (long long)json_integer_value(a[1]),
			  (long long)json_integer_value(a[2]));
}

static int fn_substr(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long start = (long long)json_integer_value(a[0]), end = (long long)json_integer_value(a[1]);
	long long len = (long long)SL(a[2]);
	if (start < 0) {
		if (end < 0 || end > len)
			return tf_fail(c, "runtime error: slice bounds out of range [:%lld] with length %lld", end, len);
		return tf_ret_str(c, S(a[2]), (size_t)end);
	}
	if (end < 0 || end > len) {
		if (start > len)
			return tf_fail(c, "runtime error: slice bounds out of range [%lld:%lld]", start, len);
		return tf_ret_str(c, S(a[2]) + start, (size_t)(len - start));
	}
	if (start > end)
		return tf_fail(c, "runtime error: slice bounds out of range [%lld:%lld]", start, end);
	return tf_ret_str(c, S(a[2]) + start, (size_t)(end - start));
}

static int fn_cat(struct fcall *c, json_t **a, size_t n)
{
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || json_is_null(a[i]))
			continue;
		if (!first)
			sb_putc(&b, ' ');
		first = 0;
		go_print_value(&b, a[i]);
	}
	return ret_sbuf(c, &b);
}

static int fn_nospace(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	for (size_t i = 0; i < SL(a[0]);) {
		size_t w = space_width(S(a[0]) + i, SL(a[0]) - i);
		if (w) {
			i += w;
			continue;
		}
		sb_putc(&b, S(a[0])[i++]);
	}
	return ret_sbuf(c, &b);
}

static int fn_trim_all(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	const char *cut = S(a[0]), *s = S(a[1]);
	size_t len = SL(a[1]), i = 0;
	while (i < len && memchr(cut, s[i], SL(a[0])))
		i++;
	while (len > i && memchr(cut, s[len - 1], SL(a[0])))
		len--;
	return tf_ret_str(c, s + i, len - i);
}

/* split / splitn: a map of "_0", "_1", ... to the pieces. */
static int split_map(struct fcall *c, json_t *sep, long long limit, json_t *str)
{
	json_t *list;
	json_t *args[2] = {sep, str};
	struct fcall tmp = {.st = c->st};
	if (fn_split_list(&tmp, args, 2))
		return tf_fail(c, "%s", tmp.err);
	list = tmp.result;
	json_t *m = json_object();
	size_t count = json_array_size(list);
	if (limit > 0 && (size_t)limit < count) {
		/* join the tail back: SplitN keeps the rest in the last piece */
		struct sbuf tail = {0};
		for (size_t i = (size_t)limit - 1; i < count; i++) {
			if (i > (size_t)limit - 1)
				sb_add(&tail, S(sep), SL(sep));
			sb_add(&tail, S(json_array_get(list, i)), SL(json_array_get(list, i)));
		}
		while (json_array_size(list) > (size_t)limit - 1)
			json_array_remove(list, json_array_size(list) - 1);
		json_array_append_new(list, json_stringn_nocheck(tail.s ? tail.s : "", tail.len));
		free(tail.s);
		count = (size_t)limit;
	}
	if (limit == 0)
		count = 0;
	for (size_t i = 0; i < count; i++) {
		char key[32];
		snprintf(key, sizeof key, "_%zu", i);
		json_object_set(m, key, json_array_get(list, i));
	}
	json_decref(list);
	return tf_ret(c, m);
}

static int fn_split(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return split_map(c, a[0], -1, a[1]);
}

static int fn_splitn(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	return split_map(c, a[0], (long long)json_integer_value(a[1]), a[2]);
}

/* The panic of a failed x.(map[string]interface{}) assertion. */
static int not_a_map(struct fcall *c, json_t *j)
{
	struct tval v = {j, 0};
	return tf_fail(c, "interface conversion: interface {} is %s, not map[string]interface {}",
		       j && !json_is_null(j) ? tv_type_name(&v) : "nil");
}

/* sprig's dig: type assertions panic on non-string keys and non-map steps; text/template reports the panic. */
static int fn_dig(struct fcall *c, json_t **a, size_t n)
{
	if (n < 3)
		return tf_fail(c, "dig needs at least three arguments");
	json_t *cur = a[n - 1];
	if (!cur || !json_is_object(cur))
		return not_a_map(c, cur);
	for (size_t i = 0; i + 2 < n; i++)
		if (!a[i] || !json_is_string(a[i])) {
			struct tval v = {a[i], 0};
			return tf_fail(c, "interface conversion: interface {} is %s, not string",
				       a[i] && !json_is_null(a[i]) ? tv_type_name(&v) : "nil");
		}
	for (size_t i = 0; i + 2 < n; i++) {
		json_t *next = json_object_getn(cur, S(a[i]), SL(a[i]));
		if (!next)
			return tf_ret(c, json_incref(a[n - 2]));
		if (i + 3 < n && !json_is_object(next))
			return not_a_map(c, next);
		cur = next;
	}
	return tf_ret(c, json_incref(cur));
}

static int pick_omit(struct fcall *c, json_t **a, size_t n, int pick)
{
	json_t *out = json_object();
	if (a[0] && json_is_object(a[0])) {
		const char *k;
		json_t *v;
		json_object_foreach(a[0], k, v)
		{
			int listed = 0;
			for (size_t i = 1; i < n && !listed; i++)
				listed = !strcmp(S(a[i]), k);
			if (listed == pick)
				json_object_set(out, k, v);
		}
	}
	return tf_ret(c, out);
}

static int fn_pick(struct fcall *c, json_t **a, size_t n) { return pick_omit(c, a, n, 1); }
static int fn_omit(struct fcall *c, json_t **a, size_t n) { return pick_omit(c, a, n, 0); }

static int fn_merge_overwrite(struct fcall *c, json_t **a, size_t n)
{
	if (need_map(c, a[0]))
		return -1;
	for (size_t i = 1; i < n; i++)
		if (a[i] && json_is_object(a[i]) && a[i] != a[0])
			merge_into(a[0], a[i], 1, 0);
	return tf_ret(c, json_incref(a[0]));
}

static int fn_to_strings(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_array();
	json_t *v = a[0];
	if (v && json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);
			if (json_is_null(e))
				continue;
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			strval(&b, e);
			json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
			free(b.s);
		}
	} else if (v && !json_is_null(v)) {
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		strval(&b, v);
		json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
		free(b.s);
	}
	return tf_ret(c, out);
}

static int fn_compact(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "compact"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++)
		if (!is_empty(json_array_get(a[0], i)))
			json_array_append(out, json_array_get(a[0], i));
	return tf_ret(c, out);
}

static int fn_without(struct fcall *c, json_t **a, size_t n)
{
	if (need_list(c, a[0], "find without"))
		return -1;
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		json_t *e = json_array_get(a[0], i);
		int drop = 0;
		for (size_t k = 1; k < n && !drop; k++)
			drop = json_equal(e, a[k]);
		if (!drop)
			json_array_append(out, e);
	}
	return tf_ret(c, out);
}

static int slice_list(struct fcall *c, json_t *l, const char *what, size_t from, size_t drop_end)
{
	if (need_list(c, l, what))
		return -1;
	json_t *out = json_array();
	size_t len = json_array_size(l);
	for (size_t i = from; i + drop_end < len; i++)
		json_array_append(out, json_array_get(l, i));
	return tf_ret(c, out);
}

static int fn_rest(struct fcall *c, json_t **a, size_t n) { (void)n; return slice_list(c, a[0], "find rest", 1, 0); }
static int fn_initial(struct fcall *c, json_t **a, size_t n) { (void)n; return slice_list(c, a[0], "find initial", 0, 1); }

static int fn_reverse(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	if (need_list(c, a[0], "find reverse"))
		return -1;
	json_t *out = json_array();
	for (size_t i = json_array_size(a[0]); i-- > 0;)
		json_array_append(out, json_array_get(a[0], i));
	return tf_ret(c, out);
}

static int fn_concat(struct fcall *c, json_t **a, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!a[i] || !json_is_array(a[i])) {
			json_decref(out);
			if (!a[i] || json_is_null(a[i]))
				return need_list(c, a[i], "concat");
			struct tval v = {a[i], 0};
			return tf_fail(c, "Cannot concat type %s as list", tv_type_name(&v));
		}
		json_array_extend(out, a[i]);
	}
	return tf_ret(c, out);
}

/* reflect.Kind names as sprig's kindOf prints them. */
static const char *kind_of(json_t *j)
{
	if (!j || json_is_null(j))
		return "invalid";
	switch (json_typeof(j)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_ARRAY: return "slice";
	case JSON_OBJECT: return "map";
	default: return "invalid";
	}
}

static const char *type_of(json_t *j)
{
	struct tval v = {j, 0};
	return !j || json_is_null(j) ? "<nil>" : tv_type_name(&v);
}

/* Objects with methods (time.Time, *semver.Version ...) have their Go kind and type. */
static const char *bound_kind(struct fcall *c, json_t *j)
{
	const struct tbind *b = tmpl_find_bind(tmpl_exec_set(c->st), j);
	return b && b->type->kind ? b->type->kind : kind_of(j);
}
static const char *bound_type(struct fcall *c, json_t *j)
{
	const struct tbind *b = tmpl_find_bind(tmpl_exec_set(c->st), j);
	return b && b->type->kind ? b->type->name : type_of(j);
}
static int fn_kind_of(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_string(bound_kind(c, a[0]))); }
static int fn_kind_is(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret_bool(c, !strcmp(S(a[0]), bound_kind(c, a[1]))); }
static int fn_type_of(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_string(bound_type(c, a[0]))); }
static int fn_type_is(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret_bool(c, !strcmp(S(a[0]), bound_type(c, a[1]))); }

static int fn_deep_equal(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	int nil0 = !a[0] || json_is_null(a[0]), nil1 = !a[1] || json_is_null(a[1]);
	if (nil0 || nil1)
		return tf_ret_bool(c, nil0 && nil1);
	return tf_ret_bool(c, json_equal(a[0], a[1]));
}

static int fn_all(struct fcall *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_empty(a[i]))
			return tf_ret_bool(c, 0);
	return tf_ret_bool(c, 1);
}

static int fn_any(struct fcall *c, json_t **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_empty(a[i]))
			return tf_ret_bool(c, 1);
	return tf_ret_bool(c, 0);
}

static int fn_ceil(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_real(ceil(to_float64(a[0])))); }
static int fn_floor(struct fcall *c, json_t **a, size_t n) { (void)n; return tf_ret(c, json_real(floor(to_float64(a[0])))); }

static int fn_abbrev(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	long long w = (long long)json_integer_value(a[0]);
	if (w < 4 || (long long)SL(a[1]) <= w)
		return tf_ret(c, json_incref(a[1]));
	struct sbuf b = {0};
	sb_add(&b, S(a[1]), (size_t)(w - 3));
	sb_puts(&b, "...");
	return ret_sbuf(c, &b);
}

static int fn_to_raw_json(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	/* like toJson, without the HTML-safe escapes of <, > and & */
	struct sbuf b = {0};
	json_encode(&b, a[0], NULL, 0);
	struct sbuf r = {0};
	sb_add(&r, "", 0);
	for (size_t i = 0; i < b.len; i++) {
		if (i + 5 < b.len && b.s[i] == '\\' && !strncmp(b.s + i + 1, "u00", 3) &&
		    (!strncmp(b.s + i + 4, "3c", 2) || !strncmp(b.s + i + 4, "3e", 2) || !strncmp(b.s + i + 4, "26", 2))) {
			sb_putc(&r, b.s[i + 5] == 'c' ? '<' : b.s[i + 5] == 'e' ? '>' : '&');
			i += 5;
			continue;
		}
		if (b.s[i] == '\\' && i + 1 < b.len) { /* keep other escapes (and escaped backslashes) whole */
			sb_add(&r, b.s + i, 2);
			i++;
			continue;
		}
		sb_putc(&r, b.s[i]);
	}
	free(b.s);
	return ret_sbuf(c, &r);
}

static int fn_from_yaml_array(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct yv_error e;
	memset(&e, 0, sizeof e);
	json_t *docs = yv_load(S(a[0]), SL(a[0]), "fromYamlArray", 1, NULL, &e);
	json_t *out;
	if (!docs) {
		char where[600], msg[700];
		yaml_v2_error(where, sizeof where, &e);
		snprintf(msg, sizeof msg, "error converting YAML to JSON: %s", where);
		out = json_pack("[s]", msg);
		return tf_ret(c, out);
	}
	json_t *first = json_array_get(docs, 0);
	if (first && json_is_array(first)) {
		out = json_incref(first);
	} else if (first && !json_is_null(first)) {
		char msg[300];
		snprintf(msg, sizeof msg, "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type "
			 "[]interface {}",
			 json_kind(first));
		out = json_pack("[s]", msg);
	} else {
		out = json_array();
	}
	json_decref(docs);
	return tf_ret(c, out);
}

/* ---- Helm: include, tpl ---- */

static int fn_include(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	char *out;
	size_t len;
	if (tmpl_exec_nested(c->st, tmpl_exec_set(c->st), S(a[0]), a[1], &out, &len, c->err, sizeof c->err))
		return -1;
	int rc = tf_ret_str(c, out, len);
	free(out);
	return rc;
}

static int fn_tpl(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct tmpl_set *parent = tmpl_exec_set(c->st);
	struct tmpl_set *child = tmpl_set_new();
	child->parent = parent;
	child->missingkey_error = parent->missingkey_error;
	child->missingkey_zero = parent->missingkey_zero;
	child->helm = parent->helm;
	/* Helm parses tpl text as a new template named after its root template, "gotpl" */
	const char *name = "gotpl";
	/* error buffers on the heap: tpl and include nest deeply, keep their frames small */
	struct {
		struct tmpl_error parse;
		char exec[1024];
	} *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	char *out = NULL;
	size_t len = 0;
	int rc = 0;
	if (tmpl_parse(child, name, S(a[0]), SL(a[0]), &e->parse)) {
		struct sbuf q = {0};
		go_quote(&q, S(a[0]), SL(a[0]), 0);
		rc = tf_fail(c, "cannot parse template %s: %s", q.s, e->parse.msg);
		free(q.s);
	} else if (tmpl_exec_nested(c->st, child, name, a[1], &out, &len, e->exec, sizeof e->exec)) {
		struct sbuf q = {0};
		go_quote(&q, S(a[0]), SL(a[0]), 0);
		rc = tf_fail(c, "error during tpl function execution for %s: %s", q.s, e->exec);
		free(q.s);
	}
	free(e);
	tmpl_set_free(child);
	if (rc)
		return rc;
	/* Helm blanks "<no value>" in tpl output */
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	replace_all(&b, out, len, "<no value>", 10, "", 0);
	free(out);
	return ret_sbuf(c, &b);
}

static int fn_lookup(struct fcall *c, json_t **a, size_t n)
{
	(void)a;
	(void)n;
	return tf_ret(c, json_object()); /* no cluster at template time: Helm's template mode answers empty */
}

static const struct tfunc sprig[] = {
	{"abbrev", "is", fn_abbrev},
	{"add1", "a", fn_add1},
	{"all", "a*", fn_all},
	{"any", "a*", fn_any},
	{"cat", "a*", fn_cat},
	{"ceil", "a", fn_ceil},
	{"compact", "a", fn_compact},
	{"concat", "a*", fn_concat},
	{"deepEqual", "aa", fn_deep_equal},
	{"dig", "a*", fn_dig},
	{"floor", "a", fn_floor},
	{"fromYamlArray", "s", fn_from_yaml_array},
	{"initial", "a", fn_initial},
	{"kindIs", "sa", fn_kind_is},
	{"kindOf", "a", fn_kind_of},
	{"mergeOverwrite", "mm*", fn_merge_overwrite},
	{"mustToJson", "a", fn_to_json},
	{"nospace", "s", fn_nospace},
	{"omit", "ms*", fn_omit},
	{"pick", "ms*", fn_pick},
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
	{"mustCompact", "a", fn_compact},
	{"mustAppend", "aa", fn_append},
	{"mustPrepend", "aa", fn_prepend},
	{"mustFirst", "a", fn_first},
	{"mustRest", "a", fn_rest},
	{"mustLast", "a", fn_last},
	{"mustInitial", "a", fn_initial},
	{"mustReverse", "a", fn_reverse},
	{"mustUniq", "a", fn_uniq},
	{"mustWithout", "aa*", fn_without},
	{"mustHas", "aa", fn_has},
	{"tuple", "a*", fn_list},
	{"mustMerge", "mm*", fn_merge},
	{"mustMergeOverwrite", "mm*", fn_merge_overwrite},
	{"biggest", "aa*", fn_max},
	{"trimall", "ss", fn_trim_all},
	{"mustToPrettyJson", "a", fn_to_pretty_json},
	{"mustToRawJson", "a", fn_to_raw_json},
	{"rest", "a", fn_rest},
	{"reverse", "a", fn_reverse},
	{"split", "ss", fn_split},
	{"splitn", "sis", fn_splitn},
	{"substr", "iis", fn_substr},
	{"toRawJson", "a", fn_to_raw_json},
	{"toStrings", "a", fn_to_strings},
	{"trimAll", "ss", fn_trim_all},
	{"typeIs", "sa", fn_type_is},
	{"typeOf", "a", fn_type_of},
	{"until", "i", fn_until},
	{"untilStep", "iii", fn_until_step},
	{"without", "aa*", fn_without},
	{"add", "a*", fn_add},
	{"append", "aa", fn_append},
	{"atoi", "s", fn_atoi},
	{"b64dec", "s", fn_b64dec},
	{"b64enc", "s", fn_b64enc},
	{"coalesce", "a*", fn_coalesce},
	{"contains", "ss", fn_contains},
	{"default", "aa*", fn_default},
	{"dict", "a*", fn_dict},
	{"div", "aa", fn_div},
	{"empty", "a", fn_empty},
	{"fail", "s", fn_fail},
	{"first", "a", fn_first},
	{"float64", "a", fn_float64},
	{"fromJson", "s", fn_from_json},
	{"fromYaml", "s", fn_from_yaml},
	{"get", "ms", fn_get},
	{"has", "aa", fn_has},
	{"hasKey", "ms", fn_has_key},
	{"hasPrefix", "ss", fn_has_prefix},
	{"hasSuffix", "ss", fn_has_suffix},
	{"include", "sa", fn_include},
	{"indent", "is", fn_indent},
	{"int", "a", fn_int},
	{"int64", "a", fn_int},
	{"join", "sa", fn_join},
	{"keys", "m*", fn_keys},
	{"last", "a", fn_last},
	{"list", "a*", fn_list},
	{"lookup", "ssss", fn_lookup},
	{"lower", "s", fn_lower},
	{"max", "aa*", fn_max},
	{"merge", "mm*", fn_merge},
	{"min", "aa*", fn_min},
	{"mod", "aa", fn_mod},
	{"mul", "aa*", fn_mul},
	{"nindent", "is", fn_nindent},
	{"prepend", "aa", fn_prepend},
	{"push", "aa", fn_append},
	{"quote", "a*", fn_quote},
	{"regexMatch", "ss", tfx_regex_match},
	{"regexReplaceAll", "sss", tfx_regex_replace_all},
	{"repeat", "is", fn_repeat},
	{"replace", "sss", fn_replace},
	{"required", "sa", fn_required},
	{"semverCompare", "ss", fn_semver_compare},
	{"set", "msa", fn_set},
	{"sha256sum", "s", fn_sha256sum},
	{"sortAlpha", "a", fn_sort_alpha},
	{"splitList", "ss", fn_split_list},
	{"squote", "a*", fn_squote},
	{"sub", "aa", fn_sub},
	{"ternary", "aab", fn_ternary},
	{"title", "s", fn_title},
	{"toJson", "a", fn_to_json},
	{"toPrettyJson", "a", fn_to_pretty_json},
	{"toString", "a", fn_to_string},
	{"toYaml", "a", fn_to_yaml},
	{"tpl", "sa", fn_tpl},
	{"trim", "s", fn_trim},
	{"trimPrefix", "ss", fn_trim_prefix},
	{"trimSuffix", "ss", fn_trim_suffix},
	{"trunc", "is", fn_trunc},
	{"uniq", "a", fn_uniq},
	{"unset", "ms", fn_unset},
	{"upper", "s", fn_upper},
	{"values", "m", fn_values},
};

const struct tfunc *tmpl_sprig_funcs(size_t *n)
{
	*n = sizeof sprig / sizeof sprig[0];
	return sprig;
}
