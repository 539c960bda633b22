/* strings.c — sprig's strings.go: trim*, split*, substr, trunc, abbrev*, quote, indent/nindent, replace, repeat, case functions, hello, plural, initials, wrap, b32enc/b32dec. */
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
#include "tmpl_node.h"


static int ret_sb(struct tmpl_call *c, struct sbuf *b)
{
	sb_add(b, "", 0);
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

int tfx_hello(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret_str(c, "Hello!", 6); }

int tfx_plural(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *pick = json_integer_value(a[2]) == 1 ? a[0] : a[1];
	return tf_ret_str(c, S(pick), SL(pick));
}

static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* goutils.Uncapitalize: the first letter of each space-separated word lowered. */
int tfx_untitle(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	int start = 1;
	for (size_t i = 0; i < SL(a[0]); i++) {
		char ch = S(a[0])[i];
		sb_putc(&b, start ? (char)tolower((unsigned char)ch) : ch);
		start = is_space(ch);
	}
	return ret_sb(c, &b);
}

/* goutils.Initials: the first letter of each space-separated word. */
int tfx_initials(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	int start = 1;
	for (size_t i = 0; i < SL(a[0]); i++) {
		char ch = S(a[0])[i];
		if (start && !is_space(ch))
			sb_putc(&b, ch);
		start = is_space(ch);
	}
	return ret_sb(c, &b);
}

/* goutils.SwapCase: upper <-> lower, and a letter after a space is title-cased when it was lower. */
int tfx_swapcase(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	int ws = 1;
	for (size_t i = 0; i < SL(a[0]); i++) {
		char ch = S(a[0])[i];
		if (isupper((unsigned char)ch))
			ch = (char)tolower((unsigned char)ch);
		else if (islower((unsigned char)ch))
			ch = (char)toupper((unsigned char)ch);
		ws = is_space(ch);
		sb_putc(&b, ch);
	}
	(void)ws;
	return ret_sb(c, &b);
}

/* goutils.WrapCustom(str, width, sep, wrapLongWords=true) */
static void wrap_custom(struct sbuf *b, const char *s, size_t len, long long width, const char *nl, size_t nll)
{
	if (width < 1)
		width = 1;
	size_t off = 0;
	while (len - off > (size_t)width) {
		if (s[off] == ' ') {
			off++;
			continue;
		}
		size_t space = (size_t)-1;
		for (size_t i = off + (size_t)width; i > off; i--)
			if (s[i] == ' ') {
				space = i;
				break;
			}
		if (space != (size_t)-1 && space >= off) {
			sb_add(b, s + off, space - off);
			sb_add(b, nl, nll);
			off = space + 1;
		} else {
			sb_add(b, s + off, (size_t)width);
			sb_add(b, nl, nll);
			off += (size_t)width;
		}
	}
	sb_add(b, s + off, len - off);
}

int tfx_wrap(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	wrap_custom(&b, S(a[1]), SL(a[1]), (long long)json_integer_value(a[0]), "\n", 1);
	return ret_sb(c, &b);
}

int tfx_wrap_with(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	wrap_custom(&b, S(a[2]), SL(a[2]), (long long)json_integer_value(a[0]), S(a[1]), SL(a[1]));
	return ret_sb(c, &b);
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int tfx_b32enc(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const unsigned char *s = (const unsigned char *)S(a[0]);
	size_t len = SL(a[0]);
	struct sbuf b = {0};
	for (size_t i = 0; i < len; i += 5) {
		unsigned char blk[5] = {0};
		size_t k = len - i < 5 ? len - i : 5;
		memcpy(blk, s + i, k);
		unsigned long long v = 0;
		for (int j = 0; j < 5; j++)
			v = v << 8 | blk[j];
		size_t chars = (k * 8 + 4) / 5;
		for (int j = 0; j < 8; j++)
			sb_putc(&b, (size_t)j < chars ? B32[(v >> (35 - 5 * j)) & 31] : '=');
	}
	return ret_sb(c, &b);
}

int tfx_b32dec(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	const char *s = S(a[0]);
	size_t len = SL(a[0]);
	struct sbuf b = {0};
	unsigned long long v = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=')
			break;
		const char *p = s[i] ? strchr(B32, s[i]) : NULL;
		if (!p) {
			free(b.s);
			struct sbuf e = {0};
			sb_printf(&e, "illegal base32 data at input byte %zu", i);
			return ret_sb(c, &e);
		}
		v = v << 5 | (unsigned long long)(p - B32);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			sb_putc(&b, (char)(v >> bits));
		}
	}
	return ret_sb(c, &b);
}

/* xstrings' case styles, for ASCII words: split at non-alphanumerics and lower->upper changes. */
static size_t words(const char *s, size_t len, char out[][128], size_t max)
{
	size_t n = 0, w = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		char ch = i < len ? s[i] : 0;
		int boundary = !isalnum((unsigned char)ch) ||
			       (w && isupper((unsigned char)ch) && islower((unsigned char)out[n][w - 1]));
		if (boundary && w) {
			out[n][w] = 0;
			n++;
			w = 0;
		}
		if (isalnum((unsigned char)ch) && w < 127 && n < max)
			out[n][w++] = ch;
	}
	return n;
}

static int join_case(struct tmpl_call *c, json_t *s, char sep)
{
	char (*w)[128] = malloc(256 * sizeof *w);
	if (!w)
		abort();
	size_t n = words(S(s), SL(s), w, 256);
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(&b, sep);
		for (char *p = w[i]; *p; p++)
			sb_putc(&b, (char)tolower((unsigned char)*p));
	}
	free(w);
	return ret_sb(c, &b);
}

int tfx_snakecase(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return join_case(c, a[0], '_'); }
int tfx_kebabcase(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return join_case(c, a[0], '-'); }

/* xstrings.ToCamelCase: underscores join words, each after the first capitalised. */
int tfx_camelcase(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	int up = 1;
	for (size_t i = 0; i < SL(a[0]); i++) {
		char ch = S(a[0])[i];
		if (ch == '_') {
			up = 1;
			continue;
		}
		sb_putc(&b, up ? (char)toupper((unsigned char)ch) : ch);
		up = 0;
	}
	return ret_sb(c, &b);
}

/* goutils.AbbreviateFull */
static int abbreviate_full(struct sbuf *b, const char *s, long long len, long long off, long long width)
{
	if (!len)
		return 0;
	if (width < 4)
		return -1;
	if (len <= width) {
		sb_add(b, s, (size_t)len);
		return 0;
	}
	if (off > len)
		off = len;
	if (len - off < width - 3)
		off = len - (width - 3);
	if (off <= 4) {
		sb_add(b, s, (size_t)(width - 3));
		sb_puts(b, "...");
		return 0;
	}
	if (width < 7)
		return -1;
	sb_puts(b, "...");
	if (off + width - 3 < len)
		return abbreviate_full(b, s + off, len - off, 0, width - 3);
	sb_add(b, s + len - (width - 3), (size_t)(width - 3));
	return 0;
}

int tfx_abbrevboth(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long left = (long long)json_integer_value(a[0]), right = (long long)json_integer_value(a[1]);
	if (right < 4 || (left > 0 && right < 7))
		return tf_ret_str(c, S(a[2]), SL(a[2]));
	struct sbuf b = {0};
	if (abbreviate_full(&b, S(a[2]), (long long)SL(a[2]), left, right))
		b.len = 0;
	return ret_sb(c, &b);
}

/* Outputs larger than this are refused (repeat, indent), so hostile templates cannot exhaust memory. */
#define MAX_STRING_RESULT (64u << 20)

int tfx_quote(struct tmpl_call *c, json_t **a, size_t n)
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
		sprig_strval(&v, a[i]);
		go_quote(&b, v.s ? v.s : "", v.len, 0);
		free(v.s);
	}
	return sprig_ret_sbuf(c, &b);
}

int tfx_squote(struct tmpl_call *c, json_t **a, size_t n)
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
		sprig_strval(&b, a[i]);
		sb_putc(&b, '\'');
	}
	return sprig_ret_sbuf(c, &b);
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

static int map_case(struct tmpl_call *c, json_t *s, int upper)
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
	return sprig_ret_sbuf(c, &b);
}

int tfx_upper(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return map_case(c, a[0], 1); }

int tfx_lower(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return map_case(c, a[0], 0); }

int tfx_title(struct tmpl_call *c, json_t **a, size_t n)
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
	return sprig_ret_sbuf(c, &b);
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

int tfx_trim(struct tmpl_call *c, json_t **a, size_t n)
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

int tfx_trim_prefix(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	size_t pl = SL(a[0]), sl = SL(a[1]);
	if (sl >= pl && !memcmp(S(a[1]), S(a[0]), pl))
		return tf_ret_str(c, S(a[1]) + pl, sl - pl);
	return tf_ret(c, json_incref(a[1]));
}

int tfx_trim_suffix(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	size_t pl = SL(a[0]), sl = SL(a[1]);
	if (sl >= pl && !memcmp(S(a[1]) + sl - pl, S(a[0]), pl))
		return tf_ret_str(c, S(a[1]), sl - pl);
	return tf_ret(c, json_incref(a[1]));
}

int tfx_trunc(struct tmpl_call *c, json_t **a, size_t n)
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

int tfx_replace(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sprig_replace_all(&b, S(a[2]), SL(a[2]), S(a[0]), SL(a[0]), S(a[1]), SL(a[1]));
	return sprig_ret_sbuf(c, &b);
}

int tfx_contains(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[0]) == 0 || (SL(a[1]) >= SL(a[0]) && memmem(S(a[1]), SL(a[1]), S(a[0]), SL(a[0]))));
}

int tfx_has_prefix(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[1]) >= SL(a[0]) && !memcmp(S(a[1]), S(a[0]), SL(a[0])));
}

int tfx_has_suffix(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return tf_ret_bool(c, SL(a[1]) >= SL(a[0]) && !memcmp(S(a[1]) + SL(a[1]) - SL(a[0]), S(a[0]), SL(a[0])));
}

int tfx_split_list(struct tmpl_call *c, json_t **a, size_t n)
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

int tfx_join(struct tmpl_call *c, json_t **a, size_t n)
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
			sprig_strval(&b, e);
		}
	} else if (v && !json_is_null(v)) {
		sprig_strval(&b, v);
	}
	return sprig_ret_sbuf(c, &b);
}

int tfx_repeat(struct tmpl_call *c, json_t **a, size_t n)
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
	return sprig_ret_sbuf(c, &b);
}

static int indent_into(struct tmpl_call *c, struct sbuf *b, long long spaces, json_t *s)
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

int tfx_indent(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	if (indent_into(c, &b, (long long)json_integer_value(a[0]), a[1])) {
		free(b.s);
		return -1;
	}
	return sprig_ret_sbuf(c, &b);
}

int tfx_nindent(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_putc(&b, '\n');
	if (indent_into(c, &b, (long long)json_integer_value(a[0]), a[1])) {
		free(b.s);
		return -1;
	}
	return sprig_ret_sbuf(c, &b);
}

int tfx_to_string(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	sprig_strval(&b, a[0]);
	return sprig_ret_sbuf(c, &b);
}

int tfx_sort_alpha(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	json_t *out = json_array();
	if (a[0] && json_is_array(a[0])) {
		for (size_t i = 0; i < json_array_size(a[0]); i++) {
			if (json_is_null(json_array_get(a[0], i)))
				continue; /* sprig's strslice drops nils */
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			sprig_strval(&b, json_array_get(a[0], i));
			json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
			free(b.s);
		}
	} else { /* anything else is one string: sprig_strval(nil) is "<nil>" */
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		sprig_strval(&b, a[0]);
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

int tfx_substr(struct tmpl_call *c, json_t **a, size_t n)
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

int tfx_cat(struct tmpl_call *c, json_t **a, size_t n)
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
	return sprig_ret_sbuf(c, &b);
}

int tfx_nospace(struct tmpl_call *c, json_t **a, size_t n)
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
	return sprig_ret_sbuf(c, &b);
}

int tfx_trim_all(struct tmpl_call *c, json_t **a, size_t n)
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
static int split_map(struct tmpl_call *c, json_t *sep, long long limit, json_t *str)
{
	json_t *list;
	json_t *args[2] = {sep, str};
	struct tmpl_call tmp = {.st = c->st};
	if (tfx_split_list(&tmp, args, 2))
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

int tfx_split(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return split_map(c, a[0], -1, a[1]);
}

int tfx_splitn(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return split_map(c, a[0], (long long)json_integer_value(a[1]), a[2]);
}

int tfx_to_strings(struct tmpl_call *c, json_t **a, size_t n)
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
			sprig_strval(&b, e);
			json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
			free(b.s);
		}
	} else if (v && !json_is_null(v)) {
		struct sbuf b = {0};
		sb_add(&b, "", 0);
		sprig_strval(&b, v);
		json_array_append_new(out, json_stringn_nocheck(b.s, b.len));
		free(b.s);
	}
	return tf_ret(c, out);
}

int tfx_abbrev(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long w = (long long)json_integer_value(a[0]);
	if (w < 4 || (long long)SL(a[1]) <= w)
		return tf_ret(c, json_incref(a[1]));
	struct sbuf b = {0};
	sb_add(&b, S(a[1]), (size_t)(w - 3));
	sb_puts(&b, "...");
	return sprig_ret_sbuf(c, &b);
}
