/* regex.c — Go's regexp (RE2 syntax, leftmost-first) on PCRE2: the syntax translator and sprig's regex functions. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

/*
 * Go's regexp/syntax parser (Perl flags, as regexp.Compile uses) is re-implemented here far enough
 * to accept and reject exactly what Go does and to emit a PCRE2 pattern with Go's meaning:
 * - character classes are rebuilt from their parts as explicit \x{..} ranges, so RE2-only
 *   spellings (an unescaped '-' after a range, POSIX [:classes:] with [:^neg:]) mean what they mean in Go;
 * - \d \w \s are ASCII (Go's \s has no \v), \Q..\E is literal, \pN and \p{Name} pass through;
 * - named groups (?P<n>..) and (?<n>..) become plain groups with the names kept here (for ${n});
 * - backreferences, lookaround, atomic groups, possessive and stacked repetition are errors worded as Go's;
 * - $ matches only at the very end (DOLLAR_ENDONLY) and (?m)^ also after a final newline (ALT_CIRCUMFLEX).
 * Known gap: a byte of invalid UTF-8 in the subject is never matched (Go reads it as U+FFFD).
 */

struct tre {
	pcre2_code *code;
	pcre2_match_data *md;
	char **names; /* names[i]: name of group i ("" if unnamed), i in 0..ngroups */
	int ngroups;
};

struct rx_parse {
	const char *src; /* the whole expression (for errors) */
	const char *p, *end;
	struct sbuf out;
	char **names;
	int ngroups;
	int depth;
	char err[512];
};

static int rx_err(struct rx_parse *x, const char *code, const char *arg, size_t arglen)
{
	snprintf(x->err, sizeof x->err, "error parsing regexp: %s: `%.*s`", code, (int)arglen, arg);
	return -1;
}

/* One UTF-8 rune at s (Go's DecodeRuneInString: an invalid byte is U+FFFD of width 1). */
static int rune_at(const char *s, const char *end, unsigned *r)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = (size_t)(end - s);
	if (!n)
		return 0;
	if (u[0] < 0x80) {
		*r = u[0];
		return 1;
	}
	int w = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 0;
	if (!w || (size_t)w > n || u[0] > 0xF4)
		goto bad;
	unsigned v = u[0] & (0x7F >> w);
	for (int i = 1; i < w; i++) {
		if ((u[i] & 0xC0) != 0x80)
			goto bad;
		v = v << 6 | (u[i] & 0x3F);
	}
	if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		goto bad;
	*r = v;
	return w;
bad:
	*r = 0xFFFD;
	return -1; /* invalid: the caller decides (the pattern must be valid UTF-8, as in Go) */
}

size_t tmpl_rune_width(const char *s, size_t n)
{
	unsigned r;
	int w = rune_at(s, s + n, &r);
	return w < 0 ? 1 : (size_t)w;
}

static void emit_rune(struct sbuf *b, unsigned r) { sb_printf(b, "\\x{%x}", r); }

static int is_alnum(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A rune range list (a character class under construction). */
struct ranges {
	unsigned (*r)[2];
	size_t n, cap;
};

static void rg_add(struct ranges *g, unsigned lo, unsigned hi)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->r = realloc(g->r, g->cap * sizeof *g->r);
		if (!g->r)
			abort();
	}
	g->r[g->n][0] = lo;
	g->r[g->n][1] = hi;
	g->n++;
}

/* Adds the ranges in spec (pairs of runes), or their complement over 0..0x10FFFF when neg. */
static void rg_add_spec(struct ranges *g, const unsigned *spec, size_t npairs, int neg)
{
	if (!neg) {
		for (size_t i = 0; i < npairs; i++)
			rg_add(g, spec[2 * i], spec[2 * i + 1]);
		return;
	}
	unsigned next = 0;
	for (size_t i = 0; i < npairs; i++) {
		if (spec[2 * i] > next)
			rg_add(g, next, spec[2 * i] - 1);
		next = spec[2 * i + 1] + 1;
	}
	if (next <= 0x10FFFF)
		rg_add(g, next, 0x10FFFF);
}

static const unsigned R_DIGIT[] = {'0', '9'};
static const unsigned R_WORD[] = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
static const unsigned R_SPACE[] = {'\t', '\n', '\f', '\r', ' ', ' '};

/* Go's Perl classes \d \D \s \S \w \W: returns 1 and adds them when p starts with one. */
static int perl_class(const char *p, const char *end, struct ranges *g)
{
	if (end - p < 2 || p[0] != '\\')
		return 0;
	int neg = p[1] >= 'A' && p[1] <= 'Z';
	switch (p[1] | 0x20) {
	case 'd': rg_add_spec(g, R_DIGIT, 1, neg); return 1;
	case 'w': rg_add_spec(g, R_WORD, 4, neg); return 1;
	case 's': rg_add_spec(g, R_SPACE, 3, neg); return 1;
	default: return 0;
	}
}

static const struct posix_class {
	const char *name;
	unsigned spec[10];
	size_t n;
} POSIX[] = {
	{"alnum", {'0', '9', 'A', 'Z', 'a', 'z'}, 3},
	{"alpha", {'A', 'Z', 'a', 'z'}, 2},
	{"ascii", {0, 0x7F}, 1},
	{"blank", {'\t', '\t', ' ', ' '}, 2},
	{"cntrl", {0, 0x1F, 0x7F, 0x7F}, 2},
	{"digit", {'0', '9'}, 1},
	{"graph", {'!', '~'}, 1},
	{"lower", {'a', 'z'}, 1},
	{"print", {' ', '~'}, 1},
	{"punct", {'!', '/', ':', '@', '[', '`', '{', '~'}, 4},
	{"space", {'\t', '\r', ' ', ' '}, 2},
	{"upper", {'A', 'Z'}, 1},
	{"word", {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}, 4},
	{"xdigit", {'0', '9', 'A', 'F', 'a', 'f'}, 3},
};

/* Go's parseEscape (after the backslash at x->p): one rune, or -1 with the error set. */
static int parse_escape(struct rx_parse *x, unsigned *out)
{
	const char *start = x->p;
	x->p++; /* the backslash */
	if (x->p >= x->end)
		return rx_err(x, "trailing backslash at end of expression", "", 0);
	unsigned c;
	int w = rune_at(x->p, x->end, &c);
	if (w < 0)
		return rx_err(x, "invalid UTF-8", x->p, (size_t)(x->end - x->p));
	x->p += w;
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		/* a single non-zero digit would be a backreference: not supported */
		if (x->p >= x->end || *x->p < '0' || *x->p > '7')
			break;
		/* fallthrough */
	case '0': {
		unsigned r = c - '0';
		for (int i = 1; i < 3 && x->p < x->end && *x->p >= '0' && *x->p <= '7'; i++)
			r = r * 8 + (unsigned)(*x->p++ - '0');
		*out = r;
		return 0;
	}
	case 'x': {
		if (x->p >= x->end)
			break;
		if (*x->p == '{') {
			x->p++;
			unsigned r = 0;
			int nd = 0;
			while (x->p < x->end && hexval(*x->p) >= 0) {
				r = r * 16 + (unsigned)hexval(*x->p++);
				if (r > 0x10FFFF)
					break;
				nd++;
			}
			if (r > 0x10FFFF || !nd || x->p >= x->end || *x->p != '}')
				break;
			x->p++;
			*out = r;
			return 0;
		}
		if (x->end - x->p < 2 || hexval(x->p[0]) < 0 || hexval(x->p[1]) < 0) {
			if (x->p < x->end && hexval(x->p[0]) >= 0)
				x->p++;
			if (x->p < x->end)
				x->p++;
			break;
		}
		*out = (unsigned)(hexval(x->p[0]) * 16 + hexval(x->p[1]));
		x->p += 2;
		return 0;
	}
	case 'a': *out = 7; return 0;
	case 'f': *out = '\f'; return 0;
	case 'n': *out = '\n'; return 0;
	case 'r': *out = '\r'; return 0;
	case 't': *out = '\t'; return 0;
	case 'v': *out = '\v'; return 0;
	default:
		if (c < 0x80 && !is_alnum((int)c)) {
			*out = c;
			return 0;
		}
		break;
	}
	return rx_err(x, "invalid escape sequence", start, (size_t)(x->p - start));
}

/* \pN, \p{Name}, \PN, \P{^Name} at x->p: copies it (PCRE2 spells these as Go does); 0 if not one. */
static int unicode_class(struct rx_parse *x, struct sbuf *b)
{
	const char *p = x->p;
	if (x->end - p < 2 || p[0] != '\\' || (p[1] != 'p' && p[1] != 'P'))
		return 0;
	const char *q = p + 2;
	if (q >= x->end)
		return rx_err(x, "invalid character class range", p, (size_t)(q - p));
	if (*q == '{') {
		const char *close = memchr(q, '}', (size_t)(x->end - q));
		if (!close)
			return rx_err(x, "invalid character class range", p, (size_t)(x->end - p));
		const char *name = q + 1;
		if (*name == '^')
			name++;
		if (name == close)
			return rx_err(x, "invalid character class range", p, (size_t)(close + 1 - p));
		for (const char *n = name; n < close; n++)
			if (!is_alnum(*n) && *n != '_')
				return rx_err(x, "invalid character class range", p, (size_t)(close + 1 - p));
		q = close + 1;
	} else {
		unsigned r;
		int w = rune_at(q, x->end, &r);
		if (w < 0 || !is_alnum((int)r))
			return rx_err(x, "invalid character class range", p, (size_t)(q + (w < 0 ? 1 : w) - p));
		q += w;
	}
	sb_add(b, p, (size_t)(q - p));
	x->p = q;
	return 1;
}

/* [class] at x->p, Go's parseClass, emitted as an explicit PCRE2 class. */
static int parse_class(struct rx_parse *x)
{
	const char *whole = x->p;
	size_t wlen = (size_t)(x->end - whole);
	x->p++;
	struct ranges g = {0};
	struct sbuf extra = {0}; /* \p{..} items, copied verbatim */
	sb_add(&extra, "", 0);
	int neg = 0, first = 1, rc = -1;
	if (x->p < x->end && *x->p == '^') {
		neg = 1;
		x->p++;
	}
	while (x->p >= x->end || *x->p != ']' || first) {
		first = 0;
		if (x->p >= x->end) {
			rx_err(x, "missing closing ]", whole, wlen);
			goto out;
		}
		if (x->end - x->p > 2 && x->p[0] == '[' && x->p[1] == ':') {
			const char *close = NULL;
			for (const char *q = x->p + 2; q + 1 < x->end; q++)
				if (q[0] == ':' && q[1] == ']') {
					close = q;
					break;
				}
			if (close) {
				const char *name = x->p + 2;
				int pneg = *name == '^';
				name += pneg;
				size_t i, nl = (size_t)(close - name);
				for (i = 0; i < sizeof POSIX / sizeof POSIX[0]; i++)
					if (strlen(POSIX[i].name) == nl && !memcmp(POSIX[i].name, name, nl))
						break;
				if (i == sizeof POSIX / sizeof POSIX[0]) {
					rx_err(x, "invalid character class range", x->p, (size_t)(close + 2 - x->p));
					goto out;
				}
				rg_add_spec(&g, POSIX[i].spec, POSIX[i].n, pneg);
				x->p = close + 2;
				continue;
			}
		}
		int u = unicode_class(x, &extra);
		if (u < 0)
			goto out;
		if (u)
			continue;
		if (perl_class(x->p, x->end, &g)) {
			x->p += 2;
			continue;
		}
		const char *rng = x->p;
		unsigned lo, hi;
		if (*x->p == '\\') {
			if (parse_escape(x, &lo))
				goto out;
		} else {
			int w = rune_at(x->p, x->end, &lo);
			if (w < 0) {
				rx_err(x, "invalid UTF-8", x->p, (size_t)(x->end - x->p));
				goto out;
			}
			x->p += w;
		}
		hi = lo;
		if (x->end - x->p >= 2 && x->p[0] == '-' && x->p[1] != ']') {
			x->p++;
			if (*x->p == '\\') {
				if (parse_escape(x, &hi))
					goto out;
			} else {
				int w = rune_at(x->p, x->end, &hi);
				if (w < 0) {
					rx_err(x, "invalid UTF-8", x->p, (size_t)(x->end - x->p));
					goto out;
				}
				x->p += w;
			}
			if (hi < lo) {
				rx_err(x, "invalid character class range", rng, (size_t)(x->p - rng));
				goto out;
			}
		}
		rg_add(&g, lo, hi);
	}
	x->p++; /* ] */
	if (!g.n && !extra.len) {
		/* Go accepts an empty class only as the complement of everything; match nothing / anything */
		sb_puts(&x->out, neg ? "[\\x{0}-\\x{10ffff}]" : "(?!)");
	} else {
		sb_puts(&x->out, neg ? "[^" : "[");
		for (size_t i = 0; i < g.n; i++) {
			/* PCRE2 refuses a lone surrogate code point; Go's strings cannot hold one anyway */
			unsigned lo = g.r[i][0], hi = g.r[i][1];
			if (lo >= 0xD800 && lo <= 0xDFFF)
				lo = 0xE000;
			if (hi >= 0xD800 && hi <= 0xDFFF)
				hi = 0xD7FF;
			if (lo > hi)
				continue;
			emit_rune(&x->out, lo);
			if (hi != lo) {
				sb_putc(&x->out, '-');
				emit_rune(&x->out, hi);
			}
		}
		sb_add(&x->out, extra.s, extra.len);
		sb_putc(&x->out, ']');
	}
	rc = 0;
out:
	free(g.r);
	free(extra.s);
	return rc;
}

static int valid_capture_name(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static void add_group(struct rx_parse *x, const char *name, size_t n)
{
	x->ngroups++;
	x->names = realloc(x->names, (size_t)(x->ngroups + 1) * sizeof *x->names);
	if (!x->names)
		abort();
	if (x->ngroups == 1)
		x->names[0] = strdup("");
	x->names[x->ngroups] = strndup(name, n);
	if (!x->names[0] || !x->names[x->ngroups])
		abort();
}

/* (? at x->p: Go's parsePerlFlags. Emits the group opening or the flag change. */
static int parse_perl_flags(struct rx_parse *x)
{
	const char *s = x->p;
	size_t rest = (size_t)(x->end - s);
	if ((rest > 4 && s[2] == 'P' && s[3] == '<') || (rest > 3 && s[2] == '<')) {
		size_t begin = s[2] == 'P' ? 4 : 3;
		const char *gt = memchr(s, '>', rest);
		if (!gt)
			return rx_err(x, "invalid named capture", s, rest);
		const char *name = s + begin;
		if (!valid_capture_name(name, (size_t)(gt - name)))
			return rx_err(x, "invalid named capture", s, (size_t)(gt + 1 - s));
		for (int i = 1; i <= x->ngroups; i++)
			if (strlen(x->names[i]) == (size_t)(gt - name) && !memcmp(x->names[i], name, (size_t)(gt - name)))
				return rx_err(x, "duplicate capture group name", name, (size_t)(gt - name));
		add_group(x, name, (size_t)(gt - name));
		sb_putc(&x->out, '(');
		x->p = gt + 1;
		x->depth++;
		return 1; /* a group opened */
	}
	const char *t = s + 2;
	int sign = 1, saw = 0;
	while (t < x->end) {
		char c = *t++;
		switch (c) {
		case 'i': case 'm': case 's': case 'U': saw = 1; continue;
		case '-':
			if (sign < 0)
				goto bad;
			sign = -1;
			saw = 0;
			continue;
		case ':': case ')':
			if (sign < 0 && !saw)
				goto bad;
			sb_add(&x->out, s, (size_t)(t - s)); /* (?flags: or (?flags) mean the same in PCRE2 */
			x->p = t;
			if (c == ':') {
				x->depth++;
				return 1;
			}
			return 0;
		default: goto bad;
		}
	}
bad:;
	/* Go's error shows what was read, including the offending rune */
	const char *e = t;
	while (e < x->end && ((unsigned char)*e & 0xC0) == 0x80)
		e++;
	return rx_err(x, "invalid or unsupported Perl syntax", s, (size_t)(e - s));
}

/* {n}, {n,}, {n,m} at x->p: 1 (and sets min/max, max -1 = none) when it is a repeat, else 0. */
static int parse_repeat(const char *p, const char *end, int *min, int *max, const char **after)
{
	if (p >= end || *p != '{')
		return 0;
	p++;
	if (p >= end || *p < '0' || *p > '9')
		return 0;
	long v = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v < 100000)
			v = v * 10 + (*p - '0');
		p++;
	}
	*min = (int)v;
	if (p >= end)
		return 0;
	if (*p == ',') {
		p++;
		if (p < end && *p == '}') {
			*max = -1;
		} else {
			if (p >= end || *p < '0' || *p > '9')
				return 0;
			v = 0;
			while (p < end && *p >= '0' && *p <= '9') {
				if (v < 100000)
					v = v * 10 + (*p - '0');
				p++;
			}
			*max = (int)v;
		}
	} else {
		*max = *min;
	}
	if (p >= end || *p != '}')
		return 0;
	*after = p + 1;
	return 1;
}

static void emit_literal(struct sbuf *b, unsigned r)
{
	if (r < 0x80 && is_alnum((int)r))
		sb_putc(b, (char)r);
	else
		emit_rune(b, r);
}

/* The whole expression: Go's parse loop. */
static int translate(struct rx_parse *x)
{
	/* can_repeat: the last item can take a repetition; last_rep: where the last repetition operator began */
	int can_repeat = 0;
	const char *last_rep = NULL;
	const char *before;
	while (x->p < x->end) {
		const char *rep = NULL;
		before = x->p;
		char c = *x->p;
		switch (c) {
		case '(':
			if (x->end - x->p >= 2 && x->p[1] == '?') {
				int r = parse_perl_flags(x);
				if (r < 0)
					return -1;
				can_repeat = 0;
				break;
			}
			add_group(x, "", 0);
			sb_putc(&x->out, '(');
			x->p++;
			x->depth++;
			can_repeat = 0;
			break;
		case '|':
			sb_putc(&x->out, '|');
			x->p++;
			can_repeat = 0;
			break;
		case ')':
			if (!x->depth)
				return rx_err(x, "unexpected )", x->src, (size_t)(x->end - x->src));
			x->depth--;
			sb_putc(&x->out, ')');
			x->p++;
			can_repeat = 1;
			break;
		case '^':
		case '$':
		case '.':
			sb_putc(&x->out, c);
			x->p++;
			can_repeat = 1;
			break;
		case '[':
			if (parse_class(x))
				return -1;
			can_repeat = 1;
			break;
		case '*':
		case '+':
		case '?':
		case '{': {
			int min = 0, max = 0;
			const char *after = x->p + 1;
			if (c == '{' && !parse_repeat(x->p, x->end, &min, &max, &after)) {
				/* not a repeat: a literal { */
				emit_literal(&x->out, '{');
				x->p++;
				can_repeat = 1;
				break;
			}
			if (after < x->end && *after == '?')
				after++;
			if (last_rep)
				return rx_err(x, "invalid nested repetition operator", last_rep, (size_t)(after - last_rep));
			if (!can_repeat)
				return rx_err(x, "missing argument to repetition operator", before, (size_t)(after - before));
			if (c == '{' && (min > 1000 || max > 1000 || (max >= 0 && max < min)))
				return rx_err(x, "invalid repeat count", before, (size_t)(after - before));
			sb_add(&x->out, x->p, (size_t)(after - x->p));
			x->p = after;
			rep = before;
			break;
		}
		case '\\': {
			if (x->end - x->p >= 2) {
				char e = x->p[1];
				if (e == 'A' || e == 'z' || e == 'b' || e == 'B') {
					sb_add(&x->out, x->p, 2);
					x->p += 2;
					can_repeat = 1;
					break;
				}
				if (e == 'Q') {
					const char *lit = x->p + 2, *stop = x->end;
					for (const char *q = lit; q + 1 < x->end; q++)
						if (q[0] == '\\' && q[1] == 'E') {
							stop = q;
							break;
						}
					for (const char *q = lit; q < stop;) {
						unsigned r;
						int w = rune_at(q, stop, &r);
						if (w < 0)
							return rx_err(x, "invalid UTF-8", q, (size_t)(x->end - q));
						emit_literal(&x->out, r);
						q += w;
					}
					x->p = stop < x->end ? stop + 2 : stop;
					can_repeat = stop > lit;
					break;
				}
				if (e == 'p' || e == 'P') {
					struct sbuf tmp = {0};
					int u = unicode_class(x, &tmp);
					if (u < 0) {
						free(tmp.s);
						return -1;
					}
					sb_add(&x->out, tmp.s, tmp.len);
					free(tmp.s);
					can_repeat = 1;
					break;
				}
				struct ranges g = {0};
				if (perl_class(x->p, x->end, &g)) {
					sb_putc(&x->out, '[');
					for (size_t i = 0; i < g.n; i++) {
						unsigned lo = g.r[i][0], hi = g.r[i][1];
						if (hi >= 0xD800 && lo <= 0xDFFF && hi > 0xDFFF && lo < 0xD800) {
							emit_rune(&x->out, lo);
							sb_putc(&x->out, '-');
							emit_rune(&x->out, 0xD7FF);
							lo = 0xE000;
						}
						emit_rune(&x->out, lo);
						if (hi != lo) {
							sb_putc(&x->out, '-');
							emit_rune(&x->out, hi);
						}
					}
					sb_putc(&x->out, ']');
					free(g.r);
					x->p += 2;
					can_repeat = 1;
					break;
				}
			}
			unsigned r;
			if (parse_escape(x, &r))
				return -1;
			emit_literal(&x->out, r);
			can_repeat = 1;
			break;
		}
		default: {
			unsigned r;
			int w = rune_at(x->p, x->end, &r);
			if (w < 0)
				return rx_err(x, "invalid UTF-8", x->p, (size_t)(x->end - x->p));
			emit_literal(&x->out, r);
			x->p += w;
			can_repeat = 1;
			break;
		}
		}
		last_rep = rep;
		if (x->depth > 1000)
			return rx_err(x, "expression nests too deeply", x->src, (size_t)(x->end - x->src));
	}
	if (x->depth)
		return rx_err(x, "missing closing )", x->src, (size_t)(x->end - x->src));
	return 0;
}

int tre_translate(const char *re, size_t len, char **pattern, struct sm_error *err)
{
	struct rx_parse x = {.src = re, .p = re, .end = re + len};
	sb_add(&x.out, "", 0);
	int rc = translate(&x);
	for (int i = 0; x.names && i <= x.ngroups; i++)
		free(x.names[i]);
	free(x.names);
	if (rc) {
		sm_error_set(err, NULL, 0, 0, "%s", x.err);
		free(x.out.s);
		return -1;
	}
	*pattern = sb_take(&x.out);
	return 0;
}

struct tre *tre_compile(const char *re, size_t len, struct sm_error *err)
{
	struct rx_parse x = {.src = re, .p = re, .end = re + len};
	sb_add(&x.out, "", 0);
	if (translate(&x)) {
		sm_error_set(err, NULL, 0, 0, "%s", x.err);
		for (int i = 0; x.names && i <= x.ngroups; i++)
			free(x.names[i]);
		free(x.names);
		free(x.out.s);
		return NULL;
	}
	int ecode;
	PCRE2_SIZE eoff;
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)x.out.s, x.out.len,
					 PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_CIRCUMFLEX |
						 PCRE2_NEVER_BACKSLASH_C,
					 &ecode, &eoff, cc);
	pcre2_compile_context_free(cc);
	free(x.out.s);
	if (!code) {
		/* what Go accepts and PCRE2 does not: worded as Go would word a rejected expression */
		char m[256];
		pcre2_get_error_message(ecode, (PCRE2_UCHAR *)m, sizeof m);
		sm_error_set(err, NULL, 0, 0, "error parsing regexp: %s: `%.*s`", m, (int)len, re);
		for (int i = 0; x.names && i <= x.ngroups; i++)
			free(x.names[i]);
		free(x.names);
		return NULL;
	}
	struct tre *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->code = code;
	t->md = pcre2_match_data_create_from_pattern(code, NULL);
	t->names = x.names;
	t->ngroups = x.ngroups;
	return t;
}

void tre_free(struct tre *t)
{
	if (!t)
		return;
	for (int i = 0; t->names && i <= t->ngroups; i++)
		free(t->names[i]);
	free(t->names);
	pcre2_match_data_free(t->md);
	pcre2_code_free(t->code);
	free(t);
}

int tre_ngroups(const struct tre *t) { return t->ngroups; }

int tre_exec(struct tre *t, const char *s, size_t len, size_t start, long *m)
{
	int rc = pcre2_match(t->code, (PCRE2_SPTR)s, len, start, 0, t->md, NULL);
	if (rc < 0)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
	uint32_t n = pcre2_get_ovector_count(t->md);
	for (int g = 0; g <= t->ngroups; g++) {
		if ((uint32_t)g < n && g < rc && ov[2 * g] != PCRE2_UNSET) {
			m[2 * g] = (long)ov[2 * g];
			m[2 * g + 1] = (long)ov[2 * g + 1];
		} else {
			m[2 * g] = m[2 * g + 1] = -1;
		}
	}
	return 1;
}

/* ---- Go's Regexp methods on top ---- */

/* allMatches: each non-overlapping match (up to limit; < 0 all) in m (2*(ngroups+1) longs each). */
size_t tre_all_matches(struct tre *t, const char *s, size_t len, long long limit, long **out)
{
	size_t stride = 2 * (size_t)(t->ngroups + 1), n = 0, cap = 0;
	long *res = NULL;
	long *m = malloc(stride * sizeof *m);
	if (!m)
		abort();
	long prev_end = -1;
	for (size_t pos = 0; (limit < 0 || (long long)n < limit) && pos <= len;) {
		if (!tre_exec(t, s, len, pos, m))
			break;
		int accept = 1;
		if ((size_t)m[1] == pos) {
			if (m[0] == prev_end)
				accept = 0;
			pos += pos < len ? tmpl_rune_width(s + pos, len - pos) : 1;
		} else {
			pos = (size_t)m[1];
		}
		prev_end = m[1];
		if (accept) {
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				res = realloc(res, cap * stride * sizeof *res);
				if (!res)
					abort();
			}
			memcpy(res + n * stride, m, stride * sizeof *m);
			n++;
		}
	}
	free(m);
	*out = res;
	return n;
}

/* Go's Regexp.expand of template into b for one match. */
static void expand(struct sbuf *b, const struct tre *t, const char *tpl, size_t tlen, const char *src, const long *m)
{
	const char *p = tpl, *end = tpl + tlen;
	while (p < end) {
		const char *d = memchr(p, '$', (size_t)(end - p));
		if (!d)
			break;
		sb_add(b, p, (size_t)(d - p));
		p = d + 1;
		if (p < end && *p == '$') {
			sb_putc(b, '$');
			p++;
			continue;
		}
		const char *q = p;
		int brace = 0;
		if (q < end && *q == '{') {
			brace = 1;
			q++;
		}
		const char *name = q;
		while (q < end && (is_alnum(*q) || *q == '_' || (unsigned char)*q >= 0x80))
			q++;
		size_t nl = (size_t)(q - name);
		if (!nl || (brace && (q >= end || *q != '}'))) {
			sb_putc(b, '$'); /* malformed: the $ is literal */
			continue;
		}
		if (brace)
			q++;
		p = q;
		long num = 0;
		for (size_t i = 0; i < nl; i++) {
			if (name[i] < '0' || name[i] > '9' || num >= 100000000) {
				num = -1;
				break;
			}
			num = num * 10 + (name[i] - '0');
		}
		if (name[0] == '0' && nl > 1)
			num = -1;
		if (num >= 0) {
			if (num <= t->ngroups && m[2 * num] >= 0)
				sb_add(b, src + m[2 * num], (size_t)(m[2 * num + 1] - m[2 * num]));
		} else {
			for (int g = 1; g <= t->ngroups; g++)
				if (strlen(t->names[g]) == nl && !memcmp(t->names[g], name, nl)) {
					if (m[2 * g] >= 0)
						sb_add(b, src + m[2 * g], (size_t)(m[2 * g + 1] - m[2 * g]));
					break;
				}
		}
	}
	sb_add(b, p, (size_t)(end - p));
}

char *tre_replace_all(struct tre *t, const char *src, size_t len, const char *repl, size_t rlen, int literal,
		      size_t *outlen)
{
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	size_t stride = 2 * (size_t)(t->ngroups + 1);
	long *m = malloc(stride * sizeof *m);
	if (!m)
		abort();
	size_t last_end = 0, search = 0;
	while (search <= len) {
		if (!tre_exec(t, src, len, search, m))
			break;
		sb_add(&b, src + last_end, (size_t)m[0] - last_end);
		if ((size_t)m[1] > last_end || m[0] == 0) {
			if (literal)
				sb_add(&b, repl, rlen);
			else
				expand(&b, t, repl, rlen, src, m);
		}
		last_end = (size_t)m[1];
		size_t w = search < len ? tmpl_rune_width(src + search, len - search) : 0;
		if (search + w > (size_t)m[1])
			search += w;
		else if (search + 1 > (size_t)m[1])
			search++;
		else
			search = (size_t)m[1];
	}
	sb_add(&b, src + last_end, len - last_end);
	free(m);
	*outlen = b.len;
	return sb_take(&b);
}

/* ---- the sprig functions ---- */


/* must: sprig's mustX returns the error; X panics with regexp.MustCompile's message. */
static struct tre *compile_for(struct tmpl_call *c, json_t *re, int must)
{
	struct sm_error err;
	struct tre *t = tre_compile(S(re), SL(re), &err);
	if (!t) {
		if (must)
			tf_fail(c, "%s", err.msg);
		else
			tf_fail(c, "regexp: Compile(`%s`): %s", S(re), err.msg);
	}
	return t;
}

static json_t *strings_of(const char *s, const long *m, size_t n, size_t stride)
{
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, json_stringn_nocheck(s + m[i * stride], (size_t)(m[i * stride + 1] - m[i * stride])));
	return out;
}

static int match_impl(struct tmpl_call *c, json_t **a, int must)
{
	struct sm_error err;
	struct tre *t = tre_compile(S(a[0]), SL(a[0]), &err);
	if (!t) {
		if (must)
			return tf_fail(c, "%s", err.msg);
		return tf_ret_bool(c, 0); /* sprig drops regexp.MatchString's error */
	}
	long *m = malloc(2 * (size_t)(t->ngroups + 1) * sizeof *m);
	if (!m)
		abort();
	int ok = tre_exec(t, S(a[1]), SL(a[1]), 0, m);
	free(m);
	tre_free(t);
	return tf_ret_bool(c, ok);
}
int tfx_regex_match(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return match_impl(c, a, 0); }
int tfx_must_regex_match(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return match_impl(c, a, 1); }

static int find_impl(struct tmpl_call *c, json_t **a, int must)
{
	struct tre *t = compile_for(c, a[0], must);
	if (!t)
		return -1;
	long *m = malloc(2 * (size_t)(t->ngroups + 1) * sizeof *m);
	if (!m)
		abort();
	int rc = tre_exec(t, S(a[1]), SL(a[1]), 0, m) ? tf_ret_str(c, S(a[1]) + m[0], (size_t)(m[1] - m[0]))
						      : tf_ret_str(c, "", 0);
	free(m);
	tre_free(t);
	return rc;
}
int tfx_regex_find(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return find_impl(c, a, 0); }
int tfx_must_regex_find(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return find_impl(c, a, 1); }

static int find_all_impl(struct tmpl_call *c, json_t **a, int must)
{
	struct tre *t = compile_for(c, a[0], must);
	if (!t)
		return -1;
	long long limit = (long long)json_integer_value(a[2]);
	long *m;
	size_t cnt = tre_all_matches(t, S(a[1]), SL(a[1]), limit < 0 ? (long long)SL(a[1]) + 1 : limit, &m);
	json_t *out = cnt ? strings_of(S(a[1]), m, cnt, 2 * (size_t)(t->ngroups + 1)) : json_array();
	free(m);
	tre_free(t);
	return tf_ret(c, out);
}
int tfx_regex_find_all(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return find_all_impl(c, a, 0); }
int tfx_must_regex_find_all(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return find_all_impl(c, a, 1); }

static int replace_impl(struct tmpl_call *c, json_t **a, int must, int literal)
{
	struct tre *t = compile_for(c, a[0], must);
	if (!t)
		return -1;
	size_t len;
	char *s = tre_replace_all(t, S(a[1]), SL(a[1]), S(a[2]), SL(a[2]), literal, &len);
	tre_free(t);
	int rc = tf_ret_str(c, s, len);
	free(s);
	return rc;
}
int tfx_regex_replace_all(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return replace_impl(c, a, 0, 0); }
int tfx_must_regex_replace_all(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return replace_impl(c, a, 1, 0); }
int tfx_regex_replace_all_literal(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return replace_impl(c, a, 0, 1); }
int tfx_must_regex_replace_all_literal(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return replace_impl(c, a, 1, 1); }

/* Go's Regexp.Split. */
static int split_impl(struct tmpl_call *c, json_t **a, int must)
{
	struct tre *t = compile_for(c, a[0], must);
	if (!t)
		return -1;
	long long lim = (long long)json_integer_value(a[2]);
	const char *s = S(a[1]);
	size_t len = SL(a[1]);
	json_t *out = json_array();
	if (lim == 0) {
		tre_free(t);
		return tf_ret(c, out); /* Go's nil []string prints as [] */
	}
	if (SL(a[0]) > 0 && len == 0) {
		json_array_append_new(out, json_string(""));
		tre_free(t);
		return tf_ret(c, out);
	}
	long *m;
	size_t cnt = tre_all_matches(t, s, len, lim < 0 ? (long long)len + 1 : lim, &m);
	size_t stride = 2 * (size_t)(t->ngroups + 1);
	size_t beg = 0, end = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (lim > 0 && (long long)json_array_size(out) == lim - 1)
			break;
		end = (size_t)m[i * stride];
		if (m[i * stride + 1] != 0)
			json_array_append_new(out, json_stringn_nocheck(s + beg, end - beg));
		beg = (size_t)m[i * stride + 1];
	}
	if (end != len)
		json_array_append_new(out, json_stringn_nocheck(s + beg, len - beg));
	free(m);
	tre_free(t);
	return tf_ret(c, out);
}
int tfx_regex_split(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return split_impl(c, a, 0); }
int tfx_must_regex_split(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return split_impl(c, a, 1); }

/* regexp.QuoteMeta: a backslash before each of \.+*?()|[]{}^$ */
int tfx_regex_quote_meta(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	for (size_t i = 0; i < SL(a[0]); i++) {
		char ch = S(a[0])[i];
		if (strchr("\\.+*?()|[]{}^$", ch) && ch)
			sb_putc(&b, '\\');
		sb_putc(&b, ch);
	}
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}
