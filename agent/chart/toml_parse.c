/* toml_parse.c — the TOML 1.0 parser behind fromToml: text -> jansson, errors with line:column and BurntSushi/toml's wording. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* What a table or array is, for TOML's redefinition rules. */
enum {
	F_HEADER = 1,   /* defined by a [table] header */
	F_IMPLICIT = 2, /* created as a parent of a header ([a.b] creates a) */
	F_DOTTED = 4,   /* created by a dotted key (a.b = 1 creates a) */
	F_INLINE = 8,   /* an inline table or a static array: closed */
	F_AOT = 16,     /* an array of tables ([[a]]) */
};

struct meta {
	json_t *v;
	int flags;
};

struct p {
	const char *s;
	size_t n, i;
	int line;
	size_t line_start;
	struct toml_error *e;
	struct meta *m;
	size_t nm, capm;
	char table_key[256]; /* the current table's dotted name, for the "last key" */
	size_t key_pos, key_line_start; /* where the key being defined starts: redefinition errors point there */
	int key_line;
	int failed;
};

static int flags_of(struct p *p, json_t *v)
{
	for (size_t i = p->nm; i-- > 0;)
		if (p->m[i].v == v)
			return p->m[i].flags;
	return 0;
}

static void set_flags(struct p *p, json_t *v, int f)
{
	for (size_t i = p->nm; i-- > 0;)
		if (p->m[i].v == v) {
			p->m[i].flags = f;
			return;
		}
	if (p->nm == p->capm) {
		p->capm = p->capm ? p->capm * 2 : 32;
		p->m = realloc(p->m, p->capm * sizeof *p->m);
		if (!p->m)
			abort();
	}
	p->m[p->nm++] = (struct meta){v, f};
}

static int eof(struct p *p) { return p->i >= p->n; }
static int peek(struct p *p) { return p->i < p->n ? (unsigned char)p->s[p->i] : -1; }
static int peek_at(struct p *p, size_t k) { return p->i + k < p->n ? (unsigned char)p->s[p->i + k] : -1; }

static int fail(struct p *p, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct p *p, const char *key, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->e->msg, sizeof p->e->msg, fmt, ap);
	va_end(ap);
	p->e->line = p->line;
	p->e->col = (int)(p->i - p->line_start) + 1;
	/* BurntSushi names line 0 when its lexer ran into the end of input */
	p->e->go_line = eof(p) && (strstr(p->e->msg, "EOF") || strstr(p->e->msg, "'\\x00'")) ? 0 : p->line;
	snprintf(p->e->key, sizeof p->e->key, "%s", key ? key : "");
	return -1;
}

/* Go's %q of a rune: 'a', '\n', '\x00' (the end of input reads as NUL, as BurntSushi's lexer sees it). */
static const char *rq(int c)
{
	static __thread char b[8];
	if (c < 0)
		c = 0;
	if (c == '\n' || c == '\t' || c == '\r')
		snprintf(b, sizeof b, "'\\%c'", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
	else if (c == '\'' || c == '\\')
		snprintf(b, sizeof b, "'\\%c'", c);
	else if (c < 0x20 || c == 0x7f)
		snprintf(b, sizeof b, "'\\x%02x'", c);
	else
		snprintf(b, sizeof b, "'%c'", c);
	return b;
}

static void advance(struct p *p)
{
	if (p->s[p->i] == '\n') {
		p->line++;
		p->line_start = p->i + 1;
	}
	p->i++;
}

static void mark_key(struct p *p)
{
	p->key_pos = p->i;
	p->key_line = p->line;
	p->key_line_start = p->line_start;
}

/* Moves the error position back to the key being defined (the parse ends at this error). */
static void at_key(struct p *p)
{
	p->i = p->key_pos;
	p->line = p->key_line;
	p->line_start = p->key_line_start;
}

static void skip_ws(struct p *p)
{
	while (!eof(p) && (peek(p) == ' ' || peek(p) == '\t'))
		p->i++;
}

/* A comment to the end of the line (the newline is left). */
static int skip_comment(struct p *p)
{
	if (peek(p) != '#')
		return 0;
	while (!eof(p) && peek(p) != '\n') {
		int c = peek(p);
		if ((c < 0x20 && c != '\t' && !(c == '\r' && peek_at(p, 1) == '\n')) || c == 0x7f)
			return fail(p, NULL, "TOML files cannot contain control characters: '0x%02x'", c);
		p->i++;
	}
	return 0;
}

/* Whitespace, newlines and comments (inside arrays). */
static int skip_ws_nl(struct p *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p))
			return -1;
		if (peek(p) == '\r' && peek_at(p, 1) == '\n')
			p->i++;
		if (peek(p) != '\n')
			return 0;
		advance(p);
	}
}

static int is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* ---- strings ---- */

static void put_utf8(char **b, size_t *len, size_t *cap, unsigned long r)
{
	char u[4];
	size_t k;
	if (r < 0x80)
		u[0] = (char)r, k = 1;
	else if (r < 0x800)
		u[0] = (char)(0xC0 | (r >> 6)), u[1] = (char)(0x80 | (r & 0x3F)), k = 2;
	else if (r < 0x10000)
		u[0] = (char)(0xE0 | (r >> 12)), u[1] = (char)(0x80 | ((r >> 6) & 0x3F)), u[2] = (char)(0x80 | (r & 0x3F)), k = 3;
	else
		u[0] = (char)(0xF0 | (r >> 18)), u[1] = (char)(0x80 | ((r >> 12) & 0x3F)),
		u[2] = (char)(0x80 | ((r >> 6) & 0x3F)), u[3] = (char)(0x80 | (r & 0x3F)), k = 4;
	if (*len + k + 1 > *cap) {
		*cap = (*len + k + 1) * 2;
		*b = realloc(*b, *cap);
		if (!*b)
			abort();
	}
	memcpy(*b + *len, u, k);
	*len += k;
}

static void put_byte(char **b, size_t *len, size_t *cap, char c)
{
	if (*len + 2 > *cap) {
		*cap = (*len + 2) * 2;
		*b = realloc(*b, *cap);
		if (!*b)
			abort();
	}
	(*b)[(*len)++] = c;
}

/* A string of any of the four kinds at p->i; *out malloc'd (NUL-terminated), *outlen its length. */
static int read_string(struct p *p, const char *key, char **out, size_t *outlen)
{
	int q = peek(p);
	int multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
	const char *delim = q == '"' ? (multi ? "\"\"\"" : "\"") : (multi ? "'''" : "'");
	size_t dl = multi ? 3 : 1;
	p->i += dl;
	char *b = NULL;
	size_t len = 0, cap = 0;
	put_byte(&b, &len, &cap, 0);
	len = 0;
	if (multi) { /* a newline right after the opening delimiter is trimmed */
		if (peek(p) == '\r' && peek_at(p, 1) == '\n')
			p->i++;
		if (peek(p) == '\n')
			advance(p);
	}
	for (;;) {
		if (eof(p)) {
			free(b);
			return fail(p, key, "unexpected EOF; expected '%s'", delim);
		}
		int c = peek(p);
		if (c == q && (!multi || (peek_at(p, 1) == q && peek_at(p, 2) == q))) {
			if (multi) /* up to two quotes may end the content: """a""""" is a"" */
				for (int extra = 0; extra < 2 && peek_at(p, 3) == q; extra++) {
					put_byte(&b, &len, &cap, (char)q);
					p->i++;
				}
			p->i += dl;
			break;
		}
		if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n')) {
			if (!multi) {
				free(b);
				return fail(p, key, "strings cannot contain newlines");
			}
			if (c == '\r')
				p->i++;
			put_byte(&b, &len, &cap, '\n');
			advance(p);
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			free(b);
			return fail(p, key, "TOML files cannot contain control characters: '0x%02x'", c);
		}
		if (c == '\\' && q == '"') {
			int x = peek_at(p, 1);
			p->i += 2;
			switch (x) {
			case 'b': put_byte(&b, &len, &cap, '\b'); continue;
			case 't': put_byte(&b, &len, &cap, '\t'); continue;
			case 'n': put_byte(&b, &len, &cap, '\n'); continue;
			case 'f': put_byte(&b, &len, &cap, '\f'); continue;
			case 'r': put_byte(&b, &len, &cap, '\r'); continue;
			case '"': put_byte(&b, &len, &cap, '"'); continue;
			case '\\': put_byte(&b, &len, &cap, '\\'); continue;
			case 'u':
			case 'U': {
				int k = x == 'u' ? 4 : 8;
				unsigned long r = 0;
				for (int j = 0; j < k; j++) {
					int h = peek(p);
					int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
					if (d < 0) {
						free(b);
						return fail(p, key, "invalid escape: '\\%c%.*s'", x, j, p->s + p->i - j);
					}
					r = r * 16 + (unsigned long)d;
					p->i++;
				}
				if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
					free(b);
					return fail(p, key, "Escaped character '\\%c%.*s' is not valid UTF-8.", x, k, p->s + p->i - k);
				}
				put_utf8(&b, &len, &cap, r);
				continue;
			}
			default:
				if (multi && (x == ' ' || x == '\t' || x == '\n' || x == '\r')) {
					/* line-ending backslash: the newline and the whitespace after it are trimmed */
					p->i--;
					size_t save = p->i;
					while (peek(p) == ' ' || peek(p) == '\t')
						p->i++;
					if (peek(p) == '\r' && peek_at(p, 1) == '\n')
						p->i++;
					if (peek(p) != '\n') {
						p->i = save;
						free(b);
						return fail(p, key, "invalid escape in string '\\%c'", x);
					}
					while (!eof(p) && (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\n' || peek(p) == '\r')) {
						if (peek(p) == '\r' && peek_at(p, 1) != '\n')
							break;
						advance(p);
					}
					continue;
				}
				if (x < 0) {
					free(b);
					return fail(p, key, "unexpected EOF; expected '%s'", delim);
				}
				free(b);
				return fail(p, key, "invalid escape in string '\\%c'", x);
			}
		}
		put_byte(&b, &len, &cap, (char)c);
		p->i++;
	}
	b[len] = 0;
	*out = b;
	*outlen = len;
	return 0;
}

/* ---- keys ---- */

struct key {
	char **part;  /* the simple keys, unescaped (malloc'd) */
	size_t *len;  /* their lengths */
	int n, cap;
};

static void key_free(struct key *k)
{
	for (int i = 0; i < k->n; i++)
		free(k->part[i]);
	free(k->part);
	free(k->len);
	memset(k, 0, sizeof *k);
}

/* "a.b.c" of the first upto parts (prefixed with the table's name when given). */
static void key_str_q(const struct key *k, int upto, const char *prefix, char *buf, size_t n, int quote)
{
	size_t o = 0;
	buf[0] = 0;
	if (prefix && *prefix)
		o = (size_t)snprintf(buf, n, "%s", prefix);
	for (int i = 0; i < upto && o < n; i++) { /* Key.String(): parts that are not bare are quoted */
		int bare = !quote || (k->len[i] > 0 && strlen(k->part[i]) == k->len[i]);
		for (size_t j = 0; j < k->len[i] && bare; j++)
			bare = is_bare((unsigned char)k->part[i][j]);
		o += (size_t)snprintf(buf + o, n - o, bare ? "%s%s" : "%s\"%s\"", o ? "." : "", k->part[i]);
	}
}

static void key_str(const struct key *k, int upto, const char *prefix, char *buf, size_t n)
{
	key_str_q(k, upto, prefix, buf, n, 1);
}

/* key = simple-key *( '.' simple-key ), whitespace allowed around the dots. */
static int read_key_parts(struct p *p, struct key *k, const char *what)
{
	k->n = 0;
	for (;;) {
		skip_ws(p);
		if (k->n == k->cap) {
			k->cap = k->cap ? k->cap * 2 : 4;
			k->part = realloc(k->part, (size_t)k->cap * sizeof *k->part);
			k->len = realloc(k->len, (size_t)k->cap * sizeof *k->len);
			if (!k->part || !k->len)
				abort();
		}
		int c = peek(p);
		if (c == '"' || c == '\'') {
			if (peek_at(p, 1) == c && peek_at(p, 2) == c)
				return fail(p, NULL, "multi-line strings cannot be used as keys");
			if (read_string(p, NULL, &k->part[k->n], &k->len[k->n]))
				return -1;
			k->n++;
		} else if (is_bare(c)) {
			size_t st = p->i;
			while (is_bare(peek(p)))
				p->i++;
			k->len[k->n] = p->i - st;
			k->part[k->n] = strndup(p->s + st, p->i - st);
			k->n++;
		} else if (eof(p)) {
			return fail(p, NULL, "unexpected EOF; expected %s", k->n ? "key" : what);
		} else if (c == '=' && !k->n) {
			return fail(p, NULL, "unexpected '=': key name appears blank");
		} else {
			return fail(p, NULL, "unexpected %s: bare keys cannot contain it", rq(c));
		}
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->i++;
	}
}

/* As read_key_parts; on failure nothing is left allocated in k. */
static int read_key(struct p *p, struct key *k, const char *what)
{
	if (!read_key_parts(p, k, what))
		return 0;
	key_free(k);
	return -1;
}

/* ---- values ---- */

static json_t *read_value(struct p *p, const char *key, int depth);

static int digits_ok(const char *t, size_t n, int (*isd)(int))
{
	/* digits with single underscores between them */
	if (!n || t[0] == '_' || t[n - 1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '_') {
			if (t[i + 1] == '_')
				return 0;
		} else if (!isd((unsigned char)t[i]))
			return 0;
	}
	return 1;
}

static int isdec(int c) { return c >= '0' && c <= '9'; }
static int ishex(int c) { return isdec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int isoct(int c) { return c >= '0' && c <= '7'; }
static int isbin(int c) { return c == '0' || c == '1'; }

static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int num(const char *t, int k, int *out)
{
	*out = 0;
	for (int i = 0; i < k; i++) {
		if (!isdec((unsigned char)t[i]))
			return 0;
		*out = *out * 10 + (t[i] - '0');
	}
	return 1;
}

/* A datetime token -> the RFC 3339 text Go's encoding/json prints for the time.Time BurntSushi makes. */
static json_t *datetime(struct p *p, const char *key, const char *t, size_t n)
{
	int y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0, oh = 0, om = 0, has_date = 0, has_time = 0;
	char frac[10] = "", zone[16] = "Z";
	size_t i = 0;
	if (n >= 10 && t[4] == '-' && t[7] == '-') {
		if (!num(t, 4, &y) || !num(t + 5, 2, &mo) || !num(t + 8, 2, &d))
			goto bad;
		has_date = 1;
		i = 10;
		if (i < n) {
			if (t[i] != 'T' && t[i] != 't' && t[i] != ' ')
				goto bad;
			i++;
		}
	}
	if (i < n) {
		if (n - i < 8 || t[i + 2] != ':' || t[i + 5] != ':' || !num(t + i, 2, &h) || !num(t + i + 3, 2, &mi) ||
		    !num(t + i + 6, 2, &s))
			goto bad;
		has_time = 1;
		i += 8;
		if (i < n && t[i] == '.') {
			size_t st = ++i, k = 0;
			while (i < n && isdec((unsigned char)t[i])) {
				if (k < 9)
					frac[k++] = t[i];
				i++;
			}
			if (i == st)
				goto bad;
			while (k && frac[k - 1] == '0')
				k--;
			frac[k] = 0;
		}
		if (i < n && has_date) {
			if (t[i] == 'Z' || t[i] == 'z') {
				i++;
			} else if ((t[i] == '+' || t[i] == '-') && n - i == 6 && t[i + 3] == ':' && num(t + i + 1, 2, &oh) &&
				   num(t + i + 4, 2, &om)) {
				if (oh > 23 || om > 59)
					goto bad;
				if (oh || om)
					snprintf(zone, sizeof zone, "%c%02d:%02d", t[i], oh % 100, om % 100);
				i += 6;
			}
		}
	}
	if (i != n || (!has_date && !has_time))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 || s > 59)
		goto bad;
	char buf[64];
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%s%s%s", y % 10000, mo % 100, d % 100, h % 100, mi % 100,
		 s % 100, *frac ? "." : "", frac, zone);
	return json_string(buf);
bad:
	fail(p, key, "invalid datetime: \"%.*s\"", (int)n, t);
	return NULL;
}

static json_t *number(struct p *p, const char *key, const char *t, size_t n)
{
	char clean[1024]; /* room for any float64 written out in full ('f' format: up to ~330 characters) */
	size_t k = 0;
	const char *u = t;
	size_t un = n;
	int sign = 0;
	if (n >= sizeof clean)
		goto bad_int;
	if (*u == '+' || *u == '-')
		sign = 1, u++, un--;
	if (un == 3 && (!strncmp(u, "inf", 3) || !strncmp(u, "nan", 3)))
		return json_string(u[0] == 'n' ? "NaN" : t[0] == '-' ? "-Inf" : "+Inf");
	if (un > 2 && u[0] == '0' && (u[1] == 'x' || u[1] == 'o' || u[1] == 'b')) {
		int (*isd)(int) = u[1] == 'x' ? ishex : u[1] == 'o' ? isoct : isbin;
		int base = u[1] == 'x' ? 16 : u[1] == 'o' ? 8 : 2;
		if (sign)
			return fail(p, key, "cannot use sign with non-decimal numbers: '%.*s'", (int)(u - t + 2), t), NULL;
		if (!digits_ok(u + 2, un - 2, isd))
			goto bad_int;
		for (size_t i = 2; i < un; i++)
			if (u[i] != '_')
				clean[k++] = u[i];
		clean[k] = 0;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(clean, &end, base);
		if (errno || v > 0x7fffffffffffffffULL)
			return fail(p, key, "%.*s is out of range for int64", (int)n, t), NULL;
		return json_integer((json_int_t)v);
	}
	const char *dot = memchr(u, '.', un), *e = NULL;
	for (size_t i = 0; i < un; i++)
		if (u[i] == 'e' || u[i] == 'E') {
			e = u + i;
			break;
		}
	if (!dot && !e) {
		if (un > 1 && u[0] == '0')
			return fail(p, key, "Invalid integer \"%.*s\": cannot have leading zeroes", (int)n, t), NULL;
		if (!digits_ok(u, un, isdec)) {
			if (memchr(u, '_', un) && digits_ok(u, un, isdec) == 0) {
				int only = 1;
				for (size_t i = 0; i < un; i++)
					if (!isdec((unsigned char)u[i]) && u[i] != '_')
						only = 0;
				if (only)
					return fail(p, key, "Invalid integer \"%.*s\": underscores must be surrounded by digits",
						    (int)n, t),
					       NULL;
			}
			goto bad_int;
		}
		for (size_t i = 0; i < n; i++)
			if (t[i] != '_')
				clean[k++] = t[i];
		clean[k] = 0;
		errno = 0;
		long long v = strtoll(clean, NULL, 10);
		if (errno)
			return fail(p, key, "%.*s is out of range for int64", (int)n, t), NULL;
		return json_integer(v);
	}
	/* float: int-part [ '.' digits ] [ e [sign] digits ] */
	size_t ilen = dot ? (size_t)(dot - u) : (size_t)(e - u);
	if (!digits_ok(u, ilen, isdec))
		goto bad_float;
	if (ilen > 1 && u[0] == '0')
		return fail(p, key, "Invalid float \"%.*s\": cannot have leading zeroes", (int)n, t), NULL;
	if (dot) {
		size_t flen = (e ? (size_t)(e - dot) : (size_t)(u + un - dot)) - 1;
		if (!flen || !isdec((unsigned char)dot[1]))
			return fail(p, key, "Invalid float \"%.*s\": '.' must be followed by one or more digits", (int)n, t),
			       NULL;
		if (!digits_ok(dot + 1, flen, isdec))
			goto bad_float;
	}
	if (e) {
		const char *x = e + 1;
		size_t xl = (size_t)(u + un - x);
		if (xl && (*x == '+' || *x == '-'))
			x++, xl--;
		if (!digits_ok(x, xl, isdec))
			goto bad_float;
	}
	for (size_t i = 0; i < n; i++)
		if (t[i] != '_')
			clean[k++] = t[i];
	clean[k] = 0;
	return json_real(strtod(clean, NULL));
bad_float:
	return fail(p, key, "Invalid float value: \"%.*s\"", (int)n, t), NULL;
bad_int:
	return fail(p, key, "Invalid integer \"%.*s\"", (int)n, t), NULL;
}

static json_t *read_array(struct p *p, const char *key, int depth)
{
	p->i++; /* [ */
	json_t *a = json_array();
	set_flags(p, a, F_INLINE);
	for (;;) {
		if (skip_ws_nl(p))
			goto err;
		if (eof(p)) {
			fail(p, key, "unexpected EOF; expected value");
			goto err;
		}
		if (peek(p) == ']') {
			p->i++;
			return a;
		}
		json_t *v = read_value(p, key, depth + 1);
		if (!v)
			goto err;
		json_array_append_new(a, v);
		if (skip_ws_nl(p))
			goto err;
		if (peek(p) == ',') {
			p->i++;
			continue;
		}
		if (peek(p) == ']') {
			p->i++;
			return a;
		}
		if (eof(p))
			fail(p, key, "unexpected EOF; expected value");
		else
			fail(p, key, "expected a comma (',') or array terminator (']'), but got %s", rq(peek(p)));
		goto err;
	}
err:
	json_decref(a);
	return NULL;
}

static int set_keyval(struct p *p, json_t *tbl, const char *table_name, struct key *k, json_t *v, int inline_ctx);

static json_t *read_inline_table(struct p *p, const char *key, int depth)
{
	p->i++; /* { */
	json_t *t = json_object();
	char last[512]; /* BurntSushi names the last key read inside the table */
	snprintf(last, sizeof last, "%s", key);
	skip_ws(p);
	if (peek(p) == '}') {
		p->i++;
		set_flags(p, t, F_INLINE);
		return t;
	}
	for (;;) {
		struct key k = {0};
		skip_ws(p);
		if (peek(p) == '}') {
			fail(p, last, "trailing comma not allowed in inline tables");
			goto err;
		}
		if (peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n')) {
			fail(p, key, "newlines not allowed within inline tables");
			goto err;
		}
		mark_key(p);
		if (read_key(p, &k, "key"))
			goto err_k;
		char full[512];
		key_str(&k, k.n, key, full, sizeof full);
		snprintf(last, sizeof last, "%s", full);
		skip_ws(p);
		if (peek(p) != '=') {
			if (eof(p))
				fail(p, full, "unexpected EOF; expected key separator '='");
			else
				fail(p, full, "expected key separator '=', but got %s instead", rq(peek(p)));
			goto err_k;
		}
		p->i++;
		skip_ws(p);
		json_t *v = read_value(p, full, depth + 1);
		if (!v)
			goto err_k;
		if (set_keyval(p, t, key, &k, v, 1))
			goto err_k;
		key_free(&k);
		skip_ws(p);
		if (peek(p) == ',') {
			p->i++;
			continue;
		}
		if (peek(p) == '}') {
			p->i++;
			break;
		}
		if (eof(p))
			fail(p, last, "unexpected EOF; expected '}'");
		else if (peek(p) == '\n' || peek(p) == '\r')
			fail(p, last, "newlines not allowed within inline tables");
		else
			fail(p, last, "expected a comma or an inline table terminator '}', but got %s instead", rq(peek(p)));
		goto err;
	err_k:
		key_free(&k);
		goto err;
	}
	set_flags(p, t, F_INLINE);
	return t;
err:
	json_decref(t);
	return NULL;
}

static json_t *read_value(struct p *p, const char *key, int depth)
{
	if (depth > 200) {
		fail(p, key, "nesting too deep");
		return NULL;
	}
	int c = peek(p);
	if (c < 0) {
		fail(p, key, "unexpected EOF; expected value");
		return NULL;
	}
	if (c == '"' || c == '\'') {
		char *s;
		size_t len;
		if (read_string(p, key, &s, &len))
			return NULL;
		json_t *v = json_stringn_nocheck(s, len);
		free(s);
		return v;
	}
	if (c == '[')
		return read_array(p, key, depth);
	if (c == '{')
		return read_inline_table(p, key, depth);
	/* a bare token: true, false, a number or a datetime (a space may separate date and time) */
	if (c == '_') {
		fail(p, key, "expected value but found %s instead", rq(c));
		return NULL;
	}
	size_t st = p->i;
	while (!eof(p)) {
		int x = peek(p);
		if (is_bare(x) || x == '+' || x == '.' || x == ':') {
			p->i++;
			continue;
		}
		if (x == ' ' && p->i - st == 10 && p->s[st + 4] == '-' && isdec(peek_at(p, 1)) && isdec(peek_at(p, 2)) &&
		    peek_at(p, 3) == ':') {
			p->i++;
			continue;
		}
		break;
	}
	const char *t = p->s + st;
	size_t n = p->i - st;
	if (!n) {
		fail(p, key, "expected value but found %s instead", rq(c));
		return NULL;
	}
	if (n == 4 && !strncmp(t, "true", 4))
		return json_true();
	if (n == 5 && !strncmp(t, "false", 5))
		return json_false();
	int lead = (unsigned char)t[0];
	if (isdec(lead) && ((n >= 10 && t[4] == '-') || (n >= 8 && t[2] == ':')))
		return datetime(p, key, t, n);
	if (isdec(lead) || lead == '+' || lead == '-' || (n == 3 && (!strncmp(t, "inf", 3) || !strncmp(t, "nan", 3))))
		return number(p, key, t, n);
	p->i = st; /* the error points at the token */
	fail(p, key, "expected value but found \"%.*s\" instead", (int)n, t);
	return NULL;
}

/* ---- tables ---- */

/* Stores v under key k (dotted parts create tables) in tbl; takes v. */
static int set_keyval(struct p *p, json_t *tbl, const char *table_name, struct key *k, json_t *v, int inline_ctx)
{
	char full[512];
	for (int i = 0; i < k->n - 1; i++) {
		json_t *c = json_object_get(tbl, k->part[i]);
		if (!c) {
			c = json_object();
			json_object_set_new(tbl, k->part[i], c);
			set_flags(p, c, F_DOTTED);
		} else if (!json_is_object(c) || (flags_of(p, c) & (F_INLINE | F_HEADER | F_IMPLICIT)) ||
			   (inline_ctx && !(flags_of(p, c) & F_DOTTED))) {
			key_str(k, i + 1, table_name, full, sizeof full);
			json_decref(v);
			at_key(p);
			return fail(p, full, "Key '%s' has already been defined.", full);
		}
		tbl = c;
	}
	if (json_object_get(tbl, k->part[k->n - 1])) {
		char raw[512];
		key_str(k, k->n, table_name, full, sizeof full);
		key_str_q(k, k->n, table_name, raw, sizeof raw, 0);
		json_decref(v);
		at_key(p);
		return fail(p, raw, "Key '%s' has already been defined.", full);
	}
	json_object_set_new(tbl, k->part[k->n - 1], v);
	return 0;
}

/* [a.b.c] or [[a.b.c]]: returns the table that key/values go into next. */
static json_t *header(struct p *p, json_t *root, struct key *k, int aot)
{
	char full[512];
	json_t *t = root;
	for (int i = 0; i < k->n; i++) {
		int last = i == k->n - 1;
		json_t *c = json_object_get(t, k->part[i]);
		key_str(k, i + 1, NULL, full, sizeof full);
		if (last && aot) {
			if (!c) {
				c = json_array();
				json_object_set_new(t, k->part[i], c);
				set_flags(p, c, F_AOT);
			} else if (!json_is_array(c) || !(flags_of(p, c) & F_AOT)) {
				at_key(p);
				fail(p, NULL, "Key '%s' has already been defined.", full);
				return NULL;
			}
			json_t *n = json_object();
			json_array_append_new(c, n);
			set_flags(p, n, F_HEADER);
			return n;
		}
		if (!c) {
			c = json_object();
			json_object_set_new(t, k->part[i], c);
			set_flags(p, c, last ? F_HEADER : F_IMPLICIT);
		} else if (json_is_array(c) && (flags_of(p, c) & F_AOT) && !last) {
			c = json_array_get(c, json_array_size(c) - 1);
		} else if (!json_is_object(c) || (flags_of(p, c) & F_INLINE)) {
			/* a key/value in the way: BurntSushi names the table being read as the last key */
			at_key(p);
			fail(p, json_is_array(c) && (flags_of(p, c) & F_AOT) ? NULL : p->table_key,
			     "Key '%s' has already been defined.", full);
			return NULL;
		} else if (last) {
			int f = flags_of(p, c);
			if ((f & F_HEADER) || !(f & (F_IMPLICIT | F_DOTTED))) { /* BurntSushi lets a header reopen a dotted-key table */
				at_key(p);
				fail(p, NULL, "Key '%s' has already been defined.", full);
				return NULL;
			}
			set_flags(p, c, F_HEADER);
		}
		t = c;
	}
	return t;
}

/* After an item: whitespace, a comment, then a newline or the end. */
static int end_of_item(struct p *p)
{
	skip_ws(p);
	if (skip_comment(p))
		return -1;
	if (eof(p))
		return 0;
	if (peek(p) == '\r' && peek_at(p, 1) == '\n')
		p->i++;
	if (peek(p) == '\n') {
		advance(p);
		return 0;
	}
	return fail(p, NULL, "expected a top-level item to end with a newline, comment, or EOF, but got %s instead",
		    rq(peek(p)));
}

json_t *toml_parse(const char *s, size_t n, struct toml_error *e)
{
	struct p p = {.s = s, .n = n, .line = 1, .e = e};
	memset(e, 0, sizeof *e);
	json_t *root = json_object(), *cur = root;
	set_flags(&p, root, F_HEADER);
	while (!p.failed) {
		if (skip_ws_nl(&p) || eof(&p))
			break;
		struct key k = {0};
		if (peek(&p) == '[') {
			int aot = peek_at(&p, 1) == '[';
			mark_key(&p);
			p.i += aot ? 2 : 1;
			if (read_key(&p, &k, "table name"))
				break;
			skip_ws(&p);
			if (peek(&p) != ']' || (aot && peek_at(&p, 1) != ']')) {
				if (aot && peek(&p) == ']')
					p.i++;
				if (peek(&p) == ']' || (aot && p.s[p.i - 1] == ']'))
					fail(&p, NULL, "expected end of table array name delimiter ']', but got %s instead",
					     rq(peek(&p)));
				else
					fail(&p, NULL, "expected '.' or ']' to end %s name, but got %s instead",
					     aot ? "table array" : "table", rq(peek(&p)));
				key_free(&k);
				break;
			}
			p.i += aot ? 2 : 1;
			cur = header(&p, root, &k, aot);
			key_str(&k, k.n, NULL, p.table_key, sizeof p.table_key);
			key_free(&k);
			if (!cur || end_of_item(&p))
				break;
			continue;
		}
		mark_key(&p);
		if (read_key(&p, &k, "key"))
			break;
		char full[512];
		key_str(&k, k.n, p.table_key, full, sizeof full);
		if (peek(&p) != '=') {
			if (eof(&p))
				fail(&p, NULL, "unexpected EOF; expected key separator '='");
			else
				fail(&p, NULL, "expected key separator '=', but got %s instead", rq(peek(&p)));
			key_free(&k);
			break;
		}
		p.i++;
		skip_ws(&p);
		json_t *v = read_value(&p, full, 0);
		if (!v || set_keyval(&p, cur, p.table_key, &k, v, 0)) {
			key_free(&k);
			break;
		}
		key_free(&k);
		if (end_of_item(&p))
			break;
	}
	free(p.m);
	if (p.failed) {
		json_decref(root);
		return NULL;
	}
	return root;
}

void toml_error_str(const struct toml_error *e, char *buf, size_t n)
{
	snprintf(buf, n, "%d:%d: %s", e->line, e->col, e->msg);
}
