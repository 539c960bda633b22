/* fmt.c — Go's fmt printing of template values: Sprint/Sprintln/Sprintf verbs, strconv float and quote forms. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"

/* ---- sbuf ---- */

static void sb_grow(struct sbuf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + extra + 1)
		ncap *= 2;
	char *ns = realloc(b->s, ncap);
	if (!ns)
		abort();
	b->s = ns;
	b->cap = ncap;
}

void sb_add(struct sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	if (n)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void sb_puts(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

void sb_putc(struct sbuf *b, char c) { sb_add(b, &c, 1); }

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *sb_take(struct sbuf *b)
{
	if (!b->s)
		sb_grow(b, 0), b->s[0] = 0;
	char *s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* ---- strconv ---- */

/* Decodes one UTF-8 rune at s (n bytes left); returns its length, *r = 0xFFFD and length 1 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, long *r)
{
	unsigned char c = s[0];
	size_t l;
	long v;
	if (c < 0x80) {
		*r = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		l = 2, v = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		l = 3, v = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		l = 4, v = c & 0x07;
	} else {
		*r = 0xFFFD;
		return 1;
	}
	if (l > n) {
		*r = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*r = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((l == 2 && v < 0x80) || (l == 3 && v < 0x800) || (l == 4 && v < 0x10000) || v > 0x10FFFF ||
	    (v >= 0xD800 && v <= 0xDFFF)) {
		*r = 0xFFFD;
		return 1;
	}
	*r = v;
	return l;
}

static void put_rune(struct sbuf *b, long r)
{
	char u[4];
	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	if (r < 0x80) {
		sb_putc(b, (char)r);
	} else if (r < 0x800) {
		u[0] = (char)(0xC0 | (r >> 6)), u[1] = (char)(0x80 | (r & 0x3F));
		sb_add(b, u, 2);
	} else if (r < 0x10000) {
		u[0] = (char)(0xE0 | (r >> 12)), u[1] = (char)(0x80 | ((r >> 6) & 0x3F)), u[2] = (char)(0x80 | (r & 0x3F));
		sb_add(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (r >> 18)), u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((r >> 6) & 0x3F)), u[3] = (char)(0x80 | (r & 0x3F));
		sb_add(b, u, 4);
	}
}

/* Printable as strconv.IsPrint sees it: approximated as non-control for runes >= 0xA0. */
static int rune_printable(long r)
{
	if (r < 0x20 || r == 0x7f)
		return 0;
	if (r >= 0x80 && r < 0xA0)
		return 0;
	if (r == 0xAD || r == 0xFFFD + 1 || r == 0xFEFF)
		return 0;
	return 1;
}

static void quote_rune_into(struct sbuf *b, long r, int width, char q, int ascii_only)
{
	if (width == 1 && r == 0xFFFD) {
		sb_puts(b, "\\x");
		return; /* caller appends the byte */
	}
	if (r == q || r == '\\') {
		sb_putc(b, '\\');
		sb_putc(b, (char)r);
		return;
	}
	if (ascii_only ? (r < 0x80 && rune_printable(r)) : rune_printable(r)) {
		put_rune(b, r);
		return;
	}
	switch (r) {
	case 7: sb_puts(b, "\\a"); return;
	case 8: sb_puts(b, "\\b"); return;
	case 12: sb_puts(b, "\\f"); return;
	case 10: sb_puts(b, "\\n"); return;
	case 13: sb_puts(b, "\\r"); return;
	case 9: sb_puts(b, "\\t"); return;
	case 11: sb_puts(b, "\\v"); return;
	}
	if (r < ' ' || r == 0x7f)
		sb_printf(b, "\\x%02x", (unsigned)r);
	else if (r < 0x10000)
		sb_printf(b, "\\u%04x", (unsigned)r);
	else
		sb_printf(b, "\\U%08x", (unsigned)r);
}

void go_quote(struct sbuf *b, const char *s, size_t n, int ascii_only)
{
	sb_putc(b, '"');
	for (size_t i = 0; i < n;) {
		long r;
		size_t w = utf8_decode((const unsigned char *)s + i, n - i, &r);
		if (w == 1 && r == 0xFFFD && (unsigned char)s[i] >= 0x80) {
			sb_printf(b, "\\x%02x", (unsigned char)s[i]);
		} else {
			quote_rune_into(b, r, (int)w, '"', ascii_only);
		}
		i += w;
	}
	sb_putc(b, '"');
}

static void quote_rune(struct sbuf *b, long r, int ascii_only)
{
	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	sb_putc(b, '\'');
	quote_rune_into(b, r, 0, '\'', ascii_only);
	sb_putc(b, '\'');
}

/* Shortest decimal digits that round-trip: digits in d (NUL-terminated), decimal exponent so value = 0.d * 10^dp. */
static void shortest_digits(double f, char *d, int *dp)
{
	char buf[64];
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*e", p - 1, f);
		if (strtod(buf, NULL) == f || p == 17)
			break;
	}
	/* buf: [-]D.DDDDe[+-]XX */
	const char *s = buf;
	if (*s == '-')
		s++;
	size_t k = 0;
	while (*s && *s != 'e') {
		if (*s != '.')
			d[k++] = *s;
		s++;
	}
	while (k > 1 && d[k - 1] == '0')
		k--;
	d[k] = 0;
	int e = atoi(s + 1);
	*dp = e + 1;
	if (k == 1 && d[0] == '0')
		*dp = 1;
}

static void fmt_e_digits(struct sbuf *b, const char *d, int dp, int prec, char ech)
{
	size_t nd = strlen(d);
	sb_putc(b, d[0]);
	if (prec < 0)
		prec = (int)nd - 1;
	if (prec > 0) {
		sb_putc(b, '.');
		for (int i = 1; i <= prec; i++)
			sb_putc(b, (size_t)i < nd ? d[i] : '0');
	}
	int e = (d[0] == '0') ? 0 : dp - 1;
	sb_printf(b, "%c%c%02d", ech, e < 0 ? '-' : '+', e < 0 ? -e : e);
}

static void fmt_f_digits(struct sbuf *b, const char *d, int dp, int prec)
{
	size_t nd = strlen(d);
	if (dp > 0) {
		for (int i = 0; i < dp; i++)
			sb_putc(b, (size_t)i < nd ? d[i] : '0');
	} else {
		sb_putc(b, '0');
	}
	if (prec < 0)
		prec = (int)nd - dp > 0 ? (int)nd - dp : 0;
	if (prec > 0) {
		sb_putc(b, '.');
		for (int i = 0; i < prec; i++) {
			int j = dp + i;
			sb_putc(b, j >= 0 && (size_t)j < nd ? d[j] : '0');
		}
	}
}

void go_format_float(struct sbuf *b, double f, char fmt, int prec)
{
	if (isnan(f)) {
		sb_puts(b, "NaN");
		return;
	}
	if (isinf(f)) {
		sb_puts(b, f > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (prec >= 0) {
		char spec[16], buf[512];
		if (prec > 1000)
			prec = 1000;
		snprintf(spec, sizeof spec, "%%.%d%c", prec, fmt);
		if (fmt == 'g' || fmt == 'G') {
			/* Go's %g keeps the shortest digits when they are fewer than the precision */
			char d[32];
			int dp;
			shortest_digits(f, d, &dp);
			int eprec = prec == 0 ? 1 : prec;
			int nd = (int)strlen(d);
			if (nd > eprec) {
				snprintf(buf, sizeof buf, "%.*e", eprec - 1, f);
				double r = strtod(buf, NULL);
				shortest_digits(r, d, &dp);
				nd = (int)strlen(d);
			}
			if (signbit(f))
				sb_putc(b, '-');
			int ep = eprec;
			if (ep > nd && nd >= dp)
				ep = nd;
			int exp = dp - 1;
			if (d[0] == '0')
				exp = 0;
			if (exp < -4 || exp >= ep)
				fmt_e_digits(b, d, dp, nd - 1, fmt == 'G' ? 'E' : 'e');
			else
				fmt_f_digits(b, d, dp, nd - dp > 0 ? nd - dp : 0);
			return;
		}
		int need = snprintf(NULL, 0, spec, f);
		if (need > 0) {
			char *big = malloc((size_t)need + 1);
			if (!big)
				abort();
			snprintf(big, (size_t)need + 1, spec, f);
			sb_add(b, big, (size_t)need);
			free(big);
		}
		return;
	}
	char d[32];
	int dp;
	shortest_digits(f, d, &dp);
	if (signbit(f))
		sb_putc(b, '-');
	switch (fmt) {
	case 'e':
	case 'E':
		fmt_e_digits(b, d, dp, -1, fmt);
		break;
	case 'f':
	case 'F':
		fmt_f_digits(b, d, dp, -1);
		break;
	default: {
		int exp = d[0] == '0' ? 0 : dp - 1;
		if (exp < -4 || exp >= 6)
			fmt_e_digits(b, d, dp, -1, fmt == 'G' ? 'E' : 'e');
		else
			fmt_f_digits(b, d, dp, -1);
	}
	}
}

/* %v's float form: shortest digits, %e when the exponent is < -4 or >= 6 (strconv's shortest %g rule). */
static void print_float_v(struct sbuf *b, double f)
{
	go_format_float(b, f, 'g', -1);
}

/* ---- printing values ---- */

static int cmp_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Sorted keys of an object; caller frees the array (keys borrowed). */
static const char **sorted_keys(json_t *o, size_t *n)
{
	*n = json_object_size(o);
	const char **keys = malloc((*n ? *n : 1) * sizeof *keys);
	if (!keys)
		abort();
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) keys[i++] = k;
	qsort(keys, *n, sizeof *keys, cmp_keys);
	return keys;
}

void go_print_value(struct sbuf *b, json_t *j)
{
	if (!j || json_is_null(j)) {
		sb_puts(b, "<nil>");
		return;
	}
	switch (json_typeof(j)) {
	case JSON_STRING:
		sb_add(b, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		sb_printf(b, "%lld", (long long)json_integer_value(j));
		break;
	case JSON_REAL:
		print_float_v(b, json_real_value(j));
		break;
	case JSON_TRUE:
		sb_puts(b, "true");
		break;
	case JSON_FALSE:
		sb_puts(b, "false");
		break;
	case JSON_ARRAY:
		sb_putc(b, '[');
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				sb_putc(b, ' ');
			go_print_value(b, json_array_get(j, i));
		}
		sb_putc(b, ']');
		break;
	case JSON_OBJECT: {
		size_t n;
		const char **keys = sorted_keys(j, &n);
		sb_puts(b, "map[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(b, ' ');
			sb_puts(b, keys[i]);
			sb_putc(b, ':');
			go_print_value(b, json_object_get(j, keys[i]));
		}
		sb_putc(b, ']');
		free(keys);
		break;
	}
	default:
		break;
	}
}

static int is_str(json_t *j) { return j && json_is_string(j); }

void go_sprint(struct sbuf *b, json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && !is_str(args[i]) && !is_str(args[i - 1]))
			sb_putc(b, ' ');
		go_print_value(b, args[i]);
	}
}

void go_sprintln(struct sbuf *b, json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(b, ' ');
		go_print_value(b, args[i]);
	}
	sb_putc(b, '\n');
}

/* ---- Sprintf ---- */

struct spec {
	int minus, plus, sharp, space, zero;
	int wid, prec; /* -1 when absent */
	char verb;
};

static const char *type_name(json_t *j)
{
	if (!j || json_is_null(j))
		return "<nil>";
	switch (json_typeof(j)) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_OBJECT: return "map[string]interface {}";
	default: return "?";
	}
}

/* Pads s (already formatted) to the width; zero padding goes after a sign. */
static void pad(struct sbuf *b, const struct spec *sp, const char *s, size_t n, int numeric_zero)
{
	size_t runes = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			runes++;
	int fill = sp->wid > 0 && (size_t)sp->wid > runes ? sp->wid - (int)runes : 0;
	if (sp->minus) {
		sb_add(b, s, n);
		for (int i = 0; i < fill; i++)
			sb_putc(b, ' ');
		return;
	}
	if (sp->zero && numeric_zero) {
		size_t at = 0;
		if (n && (s[0] == '-' || s[0] == '+' || s[0] == ' '))
			sb_putc(b, s[0]), at = 1;
		for (int i = 0; i < fill; i++)
			sb_putc(b, '0');
		sb_add(b, s + at, n - at);
		return;
	}
	for (int i = 0; i < fill; i++)
		sb_putc(b, sp->zero ? '0' : ' ');
	sb_add(b, s, n);
}

static void fmt_value(struct sbuf *b, const struct spec *sp, json_t *j);

/* A verb that does not fit the value: %!verb(type=value), the value printed with %v and the same flags. */
static void bad_verb(struct sbuf *b, const struct spec *sp, json_t *j)
{
	sb_printf(b, "%%!%c(", sp->verb);
	if (!j || json_is_null(j)) {
		sb_puts(b, "<nil>");
	} else {
		sb_puts(b, type_name(j));
		sb_putc(b, '=');
		struct spec v = *sp;
		v.verb = 'v';
		fmt_value(b, &v, j);
	}
	sb_putc(b, ')');
}

static void fmt_integer(struct sbuf *b, const struct spec *sp, long long v)
{
	struct sbuf t = {0};
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char digits[80];
	int base = 10, upper = 0;
	const char *prefix = "";
	switch (sp->verb) {
	case 'b': base = 2; if (sp->sharp) prefix = "0b"; break;
	case 'o': base = 8; if (sp->sharp) prefix = "0"; break;
	case 'O': base = 8; prefix = "0o"; break;
	case 'x': base = 16; if (sp->sharp) prefix = "0x"; break;
	case 'X': base = 16; upper = 1; if (sp->sharp) prefix = "0X"; break;
	default: break;
	}
	int k = 0;
	do {
		int d = (int)(u % (unsigned)base);
		digits[k++] = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
		u /= (unsigned)base;
	} while (u);
	if (v < 0)
		sb_putc(&t, '-');
	else if (sp->plus)
		sb_putc(&t, '+');
	else if (sp->space)
		sb_putc(&t, ' ');
	sb_puts(&t, prefix);
	if (sp->prec >= 0) {
		for (int i = k; i < sp->prec; i++)
			sb_putc(&t, '0');
		if (sp->prec == 0 && v == 0)
			k = 0;
	}
	while (k > 0)
		sb_putc(&t, digits[--k]);
	struct spec s2 = *sp;
	if (sp->prec >= 0)
		s2.zero = 0;
	pad(b, &s2, t.s ? t.s : "", t.len, 1);
	free(t.s);
}

static void fmt_float(struct sbuf *b, const struct spec *sp, double f)
{
	struct sbuf t = {0};
	char verb = sp->verb == 'v' ? 'g' : sp->verb;
	if (verb == 'F')
		verb = 'f';
	int prec = sp->prec;
	if (prec < 0 && (verb == 'e' || verb == 'E' || verb == 'f'))
		prec = 6;
	struct sbuf num = {0};
	if (prec < 0 && (verb == 'g' || verb == 'G')) {
		char d[32];
		int dp;
		shortest_digits(f, d, &dp);
		if (!isnan(f) && !isinf(f)) {
			if (signbit(f))
				sb_putc(&num, '-');
			int exp = d[0] == '0' ? 0 : dp - 1;
			int eprec = 6; /* strconv's rule when the precision is the shortest */
			if (exp < -4 || exp >= eprec)
				fmt_e_digits(&num, d, dp, -1, verb == 'G' ? 'E' : 'e');
			else
				fmt_f_digits(&num, d, dp, -1);
		} else {
			go_format_float(&num, f, verb, -1);
		}
	} else {
		go_format_float(&num, f, verb, prec);
	}
	const char *s = num.s ? num.s : "";
	if (s[0] != '-' && (sp->plus || sp->space) && !isnan(f))
		sb_putc(&t, sp->plus ? '+' : ' ');
	else if (isinf(f) && !sp->plus && s[0] == '+')
		s++;
	sb_puts(&t, s);
	pad(b, sp, t.s ? t.s : "", t.len, !isinf(f) && !isnan(f));
	free(t.s);
	free(num.s);
}

static void fmt_string(struct sbuf *b, const struct spec *sp, const char *s, size_t n)
{
	struct sbuf t = {0};
	switch (sp->verb) {
	case 'v':
	case 's':
		if (sp->prec >= 0) {
			size_t i = 0;
			int r = 0;
			while (i < n && r < sp->prec) {
				long rr;
				i += utf8_decode((const unsigned char *)s + i, n - i, &rr);
				r++;
			}
			n = i;
		}
		pad(b, sp, s, n, 0);
		return;
	case 'q':
		if (sp->sharp && !memchr(s, '`', n)) {
			sb_putc(&t, '`');
			sb_add(&t, s, n);
			sb_putc(&t, '`');
		} else {
			go_quote(&t, s, n, sp->plus);
		}
		break;
	case 'x':
	case 'X': {
		size_t lim = sp->prec >= 0 && (size_t)sp->prec < n ? (size_t)sp->prec : n;
		for (size_t i = 0; i < lim; i++) {
			if (i && sp->space)
				sb_putc(&t, ' ');
			if (sp->sharp && (i == 0 || sp->space))
				sb_puts(&t, sp->verb == 'x' ? "0x" : "0X");
			sb_printf(&t, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
		}
		break;
	}
	default:
		return;
	}
	pad(b, sp, t.s ? t.s : "", t.len, 0);
	free(t.s);
}

/* An element of a container: a nil one prints <nil> whatever the verb (padded like a string). */
static void fmt_elem(struct sbuf *b, const struct spec *sp, json_t *j)
{
	if (!j || json_is_null(j))
		pad(b, sp, "<nil>", 5, 0);
	else
		fmt_value(b, sp, j);
}

/* Containers apply the verb to each element (Go's printValue for maps and slices). */
static void fmt_container(struct sbuf *b, const struct spec *sp, json_t *j)
{
	struct spec inner = *sp;
	if (json_is_array(j)) {
		sb_putc(b, '[');
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i)
				sb_putc(b, ' ');
			fmt_elem(b, &inner, json_array_get(j, i));
		}
		sb_putc(b, ']');
		return;
	}
	size_t n;
	const char **keys = sorted_keys(j, &n);
	sb_puts(b, "map[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(b, ' ');
		json_t *k = json_string_nocheck(keys[i]);
		fmt_value(b, &inner, k);
		json_decref(k);
		sb_putc(b, ':');
		fmt_elem(b, &inner, json_object_get(j, keys[i]));
	}
	sb_putc(b, ']');
	free(keys);
}

static void fmt_value(struct sbuf *b, const struct spec *sp, json_t *j)
{
	char verb = sp->verb;
	if (verb == 'T') {
		pad(b, sp, type_name(j), strlen(type_name(j)), 0);
		return;
	}
	if (!j || json_is_null(j)) {
		if (verb == 'v')
			pad(b, sp, "<nil>", 5, 0);
		else
			bad_verb(b, sp, NULL);
		return;
	}
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		if (verb == 'v' || verb == 't')
			pad(b, sp, json_is_true(j) ? "true" : "false", json_is_true(j) ? 4 : 5, 0);
		else
			bad_verb(b, sp, j);
		return;
	case JSON_INTEGER: {
		long long v = (long long)json_integer_value(j);
		switch (verb) {
		case 'v': {
			struct spec s2 = *sp;
			s2.verb = 'd';
			fmt_integer(b, &s2, v);
			return;
		}
		case 'd': case 'b': case 'o': case 'O': case 'x': case 'X':
			fmt_integer(b, sp, v);
			return;
		case 'c': {
			struct sbuf t = {0};
			put_rune(&t, (long)v);
			pad(b, sp, t.s, t.len, 0);
			free(t.s);
			return;
		}
		case 'q': {
			struct sbuf t = {0};
			quote_rune(&t, (long)v, sp->plus);
			pad(b, sp, t.s, t.len, 0);
			free(t.s);
			return;
		}
		case 'U': {
			char u[64];
			if (v < 0)
				snprintf(u, sizeof u, "U+%llX", (unsigned long long)v);
			else
				snprintf(u, sizeof u, "U+%04llX", v);
			pad(b, sp, u, strlen(u), 0);
			return;
		}
		case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
		default:
			bad_verb(b, sp, j);
			return;
		}
	}
	case JSON_REAL:
		switch (verb) {
		case 'v': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
			fmt_float(b, sp, json_real_value(j));
			return;
		case 'b': {
			/* decimal mantissa and binary exponent: m p e with m an integer below 2^53 */
			double f = json_real_value(j);
			int e2;
			double m = frexp(f, &e2);
			long long mi = (long long)ldexp(m, 53);
			char bb[64];
			snprintf(bb, sizeof bb, "%s%lldp%+d", sp->plus && f >= 0 ? "+" : "", mi, f == 0 ? -1074 : e2 - 53);
			pad(b, sp, bb, strlen(bb), 1);
			return;
		}
		case 'x':
		case 'X': {
			/* hexadecimal mantissa and binary exponent, Go pads the exponent to two digits */
			char hb[64], fx[16];
			double f = json_real_value(j);
			if (sp->prec >= 0)
				snprintf(fx, sizeof fx, "%%%s.%d%c", sp->plus ? "+" : "", sp->prec > 30 ? 30 : sp->prec, verb == 'x' ? 'a' : 'A');
			else
				snprintf(fx, sizeof fx, "%%%s%c", sp->plus ? "+" : "", verb == 'x' ? 'a' : 'A');
			snprintf(hb, sizeof hb, fx, f);
			char *pp = strpbrk(hb, "pP");
			struct sbuf t = {0};
			if (pp) {
				sb_add(&t, hb, (size_t)(pp - hb));
				if (sp->sharp) {
					/* Go's '#' pads to 6 significant characters, counting the 'x' of the prefix */
					int digits = sp->prec >= 0 ? sp->prec : 6, seen = 0, dot = 0;
					for (size_t k = 0; k < t.len; k++) {
						char ch = t.s[k];
						if (ch == '.')
							dot = 1;
						else if (ch != '+' && ch != '-' && (seen || ch != '0'))
							seen = 1, digits--;
					}
					if (!dot)
						sb_putc(&t, '.');
					while (digits-- > 0)
						sb_putc(&t, '0');
				}
				sb_add(&t, pp, 2);
				if (pp[2] && !pp[3])
					sb_putc(&t, '0');
				sb_puts(&t, pp + 2);
			} else {
				sb_puts(&t, hb);
			}
			pad(b, sp, t.s, t.len, 1);
			free(t.s);
			return;
		}
		default:
			bad_verb(b, sp, j);
			return;
		}
	case JSON_STRING:
		switch (verb) {
		case 'v': case 's': case 'q': case 'x': case 'X':
			fmt_string(b, sp, json_string_value(j), json_string_length(j));
			return;
		default:
			bad_verb(b, sp, j);
			return;
		}
	case JSON_ARRAY:
	case JSON_OBJECT:
		fmt_container(b, sp, j);
		return;
	default:
		return;
	}
}

void go_sprintf(struct sbuf *b, const char *fmt, size_t fmtlen, json_t **args, size_t n)
{
	size_t argi = 0;
	for (size_t i = 0; i < fmtlen;) {
		if (fmt[i] != '%') {
			size_t j = i;
			while (j < fmtlen && fmt[j] != '%')
				j++;
			sb_add(b, fmt + i, j - i);
			i = j;
			continue;
		}
		i++;
		struct spec sp = {.wid = -1, .prec = -1};
		for (; i < fmtlen; i++) {
			char c = fmt[i];
			if (c == '-')
				sp.minus = 1, sp.zero = 0;
			else if (c == '+')
				sp.plus = 1;
			else if (c == '#')
				sp.sharp = 1;
			else if (c == ' ')
				sp.space = 1;
			else if (c == '0')
				sp.zero = !sp.minus;
			else
				break;
		}
		if (i < fmtlen && fmt[i] == '*') {
			i++;
			if (argi < n && args[argi] && json_is_integer(args[argi])) {
				long long w = (long long)json_integer_value(args[argi]);
				if (w < 0)
					sp.minus = 1, sp.zero = 0, w = -w;
				sp.wid = w > 1000000 ? 1000000 : (int)w;
			} else {
				sb_puts(b, "%!(BADWIDTH)");
			}
			argi++;
		} else {
			while (i < fmtlen && fmt[i] >= '0' && fmt[i] <= '9') {
				sp.wid = (sp.wid < 0 ? 0 : sp.wid) * 10 + (fmt[i] - '0');
				if (sp.wid > 1000000)
					sp.wid = 1000000;
				i++;
			}
		}
		if (i < fmtlen && fmt[i] == '.') {
			i++;
			if (i < fmtlen && fmt[i] == '*') {
				i++;
				if (argi < n && args[argi] && json_is_integer(args[argi])) {
					long long p = (long long)json_integer_value(args[argi]);
					sp.prec = p < 0 ? -1 : p > 1000000 ? 1000000 : (int)p;
				} else {
					sb_puts(b, "%!(BADPREC)");
				}
				argi++;
			} else {
				sp.prec = 0;
				while (i < fmtlen && fmt[i] >= '0' && fmt[i] <= '9') {
					sp.prec = sp.prec * 10 + (fmt[i] - '0');
					if (sp.prec > 1000000)
						sp.prec = 1000000;
					i++;
				}
			}
		}
		if (i >= fmtlen) {
			sb_puts(b, "%!(NOVERB)");
			break;
		}
		long vr;
		size_t w = utf8_decode((const unsigned char *)fmt + i, fmtlen - i, &vr);
		i += w;
		if (vr == '%') {
			sb_putc(b, '%');
			continue;
		}
		if (argi >= n) {
			sb_puts(b, "%!");
			put_rune(b, vr);
			sb_puts(b, "(MISSING)");
			continue;
		}
		sp.verb = vr < 0x80 ? (char)vr : '?';
		if (vr >= 0x80) {
			sb_puts(b, "%!");
			put_rune(b, vr);
			sb_putc(b, '(');
			if (!args[argi] || json_is_null(args[argi]))
				sb_puts(b, "<nil>");
			else {
				sb_puts(b, type_name(args[argi]));
				sb_putc(b, '=');
				go_print_value(b, args[argi]);
			}
			sb_putc(b, ')');
			argi++;
			continue;
		}
		if (sp.verb == 'v' && sp.sharp) {
			/* %#v: Go syntax; approximated for the plain kinds */
			json_t *a = args[argi];
			if (is_str(a)) {
				go_quote(b, json_string_value(a), json_string_length(a), 0);
				argi++;
				continue;
			}
		}
		fmt_value(b, &sp, args[argi]);
		argi++;
	}
	if (argi < n) {
		sb_puts(b, "%!(EXTRA ");
		for (size_t k = argi; k < n; k++) {
			if (k > argi)
				sb_puts(b, ", ");
			if (!args[k] || json_is_null(args[k])) {
				sb_puts(b, "<nil>");
				continue;
			}
			sb_puts(b, type_name(args[k]));
			sb_putc(b, '=');
			go_print_value(b, args[k]);
		}
		sb_putc(b, ')');
	}
}
