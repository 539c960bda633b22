/* strings.c — sprig's string functions missing from tmpl_sprig.c: hello, plural, untitle, initials, swapcase, wrap, b32enc/b32dec, case styles. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

static const char *S(json_t *j) { return json_string_value(j); }
static size_t SL(json_t *j) { return json_string_length(j); }

static int ret_sb(struct fcall *c, struct sbuf *b)
{
	sb_add(b, "", 0);
	int rc = tf_ret_str(c, b->s, b->len);
	free(b->s);
	return rc;
}

int tfx_hello(struct fcall *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret_str(c, "Hello!", 6); }

int tfx_plural(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	json_t *pick = json_integer_value(a[2]) == 1 ? a[0] : a[1];
	return tf_ret_str(c, S(pick), SL(pick));
}

static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* goutils.Uncapitalize: the first letter of each space-separated word lowered. */
int tfx_untitle(struct fcall *c, json_t **a, size_t n)
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
int tfx_initials(struct fcall *c, json_t **a, size_t n)
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
int tfx_swapcase(struct fcall *c, json_t **a, size_t n)
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

int tfx_wrap(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	wrap_custom(&b, S(a[1]), SL(a[1]), (long long)json_integer_value(a[0]), "\n", 1);
	return ret_sb(c, &b);
}

int tfx_wrap_with(struct fcall *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	wrap_custom(&b, S(a[2]), SL(a[2]), (long long)json_integer_value(a[0]), S(a[1]), SL(a[1]));
	return ret_sb(c, &b);
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int tfx_b32enc(struct fcall *c, json_t **a, size_t n)
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

int tfx_b32dec(struct fcall *c, json_t **a, size_t n)
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

static int join_case(struct fcall *c, json_t *s, char sep)
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

int tfx_snakecase(struct fcall *c, json_t **a, size_t n) { (void)n; return join_case(c, a[0], '_'); }
int tfx_kebabcase(struct fcall *c, json_t **a, size_t n) { (void)n; return join_case(c, a[0], '-'); }

/* xstrings.ToCamelCase: underscores join words, each after the first capitalised. */
int tfx_camelcase(struct fcall *c, json_t **a, size_t n)
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

int tfx_abbrevboth(struct fcall *c, json_t **a, size_t n)
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
