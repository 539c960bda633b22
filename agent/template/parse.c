/* parse.c — the template parser (Go's text/template/parse/parse.go grammar), node printing and the template set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"

struct parser {
	struct arena *arena;
	struct tmpl_set *set;
	const char *parse_name;
	const char *src;
	size_t srclen;
	struct token *toks;
	size_t ntoks, i, high; /* next token to read; furthest token read (error lines) */
	int action_line;
	int range_depth;
	int depth; /* nesting of pipelines and control structures (bounded, like current Go's parser) */
	const char **vars; /* declared variable names in scope */
	size_t nvars, capvars;
	struct tree *tree; /* tree being built */
	struct tree **made; /* trees defined by this parse, added to the set on success */
	size_t nmade, capmade;
	jmp_buf fail;
	struct sm_error *err;
};

static void p_errorf(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void p_errorf(struct parser *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = p->toks[p->high].line;
	snprintf(p->err->msg, sizeof p->err->msg, "template: %s:%d: %s", p->parse_name, line, msg);
	snprintf(p->err->file, sizeof p->err->file, "%s", p->parse_name);
	p->err->line = line;
	p->err->col = 0;
	longjmp(p->fail, 1);
}

/* The token stream always ends in EOF or ERROR, which next() keeps returning; backup steps back. */
static struct token *next_tok(struct parser *p)
{
	if (p->i >= p->ntoks)
		p->i = p->ntoks - 1;
	struct token *t = &p->toks[p->i];
	if (p->i < p->ntoks - 1)
		p->i++;
	else
		p->i = p->ntoks; /* marks "final token consumed" */
	size_t at = (size_t)(t - p->toks);
	if (at > p->high)
		p->high = at;
	return t;
}

static void backup(struct parser *p)
{
	if (p->i > 0)
		p->i--;
}

static struct token *peek(struct parser *p)
{
	struct token *t = next_tok(p);
	backup(p);
	return t;
}

static struct token *next_non_space(struct parser *p)
{
	struct token *t;
	do
		t = next_tok(p);
	while (t->type == TK_SPACE);
	return t;
}

static struct token *peek_non_space(struct parser *p)
{
	struct token *t = next_non_space(p);
	backup(p);
	return t;
}

static void unexpected(struct parser *p, struct token *t, const char *context) __attribute__((noreturn));
static void unexpected(struct parser *p, struct token *t, const char *context)
{
	char ts[256];
	tmpl_token_str(t, ts, sizeof ts);
	if (t->type == TK_ERROR) {
		char extra[600] = "";
		if (p->action_line != 0 && p->action_line != t->line) {
			if (t->len >= 7 && !memcmp(t->val + t->len - 7, " action", 7))
				snprintf(extra, sizeof extra, " started at %s:%d", p->parse_name, p->action_line);
			else
				snprintf(extra, sizeof extra, " in action started at %s:%d", p->parse_name, p->action_line);
		}
		p_errorf(p, "%s%s", ts, extra);
	}
	p_errorf(p, "unexpected %s in %s", ts, context);
}

static struct token *expect(struct parser *p, enum tok_type ty, const char *context)
{
	struct token *t = next_non_space(p);
	if (t->type != ty)
		unexpected(p, t, context);
	return t;
}

static struct node *new_node(struct parser *p, enum node_type ty, int pos)
{
	struct node *n = arena_alloc(p->arena, sizeof *n);
	n->type = ty;
	n->pos = pos;
	n->tree = p->tree;
	return n;
}

static void append_kid(struct parser *p, struct node *parent, struct node *kid)
{
	if (parent->nkids == parent->capkids) {
		size_t ncap = parent->capkids ? parent->capkids * 2 : 4;
		struct node **k = arena_alloc(p->arena, ncap * sizeof *k);
		if (parent->nkids)
			memcpy(k, parent->kids, parent->nkids * sizeof *k);
		parent->kids = k;
		parent->capkids = ncap;
	}
	parent->kids[parent->nkids++] = kid;
}

static void push_var(struct parser *p, const char *name)
{
	if (p->nvars == p->capvars) {
		p->capvars = p->capvars ? p->capvars * 2 : 16;
		const char **v = realloc(p->vars, p->capvars * sizeof *v);
		if (!v)
			abort();
		p->vars = v;
	}
	p->vars[p->nvars++] = name;
}

/* Splits "a.b.c" (after a leading '.' or '$x') into identifiers. */
static void split_idents(struct parser *p, struct node *n, const char *s, size_t len)
{
	size_t count = 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.')
			count++;
	n->ident = arena_alloc(p->arena, count * sizeof *n->ident);
	n->nident = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++)
		if (i == len || s[i] == '.') {
			n->ident[n->nident++] = arena_strndup(p->arena, s + start, i - start);
			start = i + 1;
		}
}

static struct node *new_field(struct parser *p, int pos, const char *s, size_t len)
{
	struct node *n = new_node(p, N_FIELD, pos);
	split_idents(p, n, s + 1, len - 1); /* drop the leading '.' */
	return n;
}

static struct node *new_variable(struct parser *p, int pos, const char *s, size_t len)
{
	struct node *n = new_node(p, N_VARIABLE, pos);
	split_idents(p, n, s, len);
	return n;
}

/* ---- strconv.Unquote and number parsing ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct sbuf *b, unsigned long r)
{
	if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	if (r < 0x80) {
		sb_putc(b, (char)r);
	} else if (r < 0x800) {
		sb_putc(b, (char)(0xC0 | (r >> 6)));
		sb_putc(b, (char)(0x80 | (r & 0x3F)));
	} else if (r < 0x10000) {
		sb_putc(b, (char)(0xE0 | (r >> 12)));
		sb_putc(b, (char)(0x80 | ((r >> 6) & 0x3F)));
		sb_putc(b, (char)(0x80 | (r & 0x3F)));
	} else {
		sb_putc(b, (char)(0xF0 | (r >> 18)));
		sb_putc(b, (char)(0x80 | ((r >> 12) & 0x3F)));
		sb_putc(b, (char)(0x80 | ((r >> 6) & 0x3F)));
		sb_putc(b, (char)(0x80 | (r & 0x3F)));
	}
}

/* Unquotes a Go "..." , `...` or '...' literal into b; returns 0 or -1 (invalid syntax).
 * For a char literal *rune receives the value. */
static int go_unquote(const char *s, size_t n, struct sbuf *b, long *rune)
{
	if (n < 2 || s[0] != s[n - 1])
		return -1;
	char q = s[0];
	if (q == '`') {
		for (size_t i = 1; i + 1 < n; i++)
			if (s[i] != '\r') /* raw strings drop carriage returns */
				sb_putc(b, s[i]);
		return 0;
	}
	if (q != '"' && q != '\'')
		return -1;
	size_t count = 0;
	long last = 0;
	for (size_t i = 1; i + 1 < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == q || c == '\n')
			return -1;
		if (c != '\\') {
			/* one UTF-8 sequence */
			size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
			if (i + l > n - 1)
				l = n - 1 - i;
			last = c;
			if (l > 1) {
				last = c & (0x3F >> (l - 1));
				for (size_t k = 1; k < l; k++)
					last = (last << 6) | ((unsigned char)s[i + k] & 0x3F);
			}
			sb_add(b, s + i, l);
			i += l;
			count++;
			continue;
		}
		if (i + 2 > n - 1)
			return -1;
		char e = s[i + 1];
		i += 2;
		long v;
		switch (e) {
		case 'a': v = 7; break;
		case 'b': v = 8; break;
		case 'f': v = 12; break;
		case 'n': v = 10; break;
		case 'r': v = 13; break;
		case 't': v = 9; break;
		case 'v': v = 11; break;
		case '\\': v = '\\'; break;
		case '\'':
		case '"':
			if (e != q)
				return -1;
			v = e;
			break;
		case 'x':
		case 'u':
		case 'U': {
			int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
			if (i + (size_t)digits > n - 1)
				return -1;
			v = 0;
			for (int k = 0; k < digits; k++) {
				int h = hexval((unsigned char)s[i + (size_t)k]);
				if (h < 0)
					return -1;
				v = v * 16 + h;
			}
			i += (size_t)digits;
			if (e == 'x') {
				sb_putc(b, (char)v);
				last = v;
				count++;
				continue;
			}
			if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
				return -1;
			break;
		}
		default:
			if (e >= '0' && e <= '7') {
				if (i + 2 > n - 1)
					return -1;
				v = e - '0';
				for (int k = 0; k < 2; k++) {
					char d = s[i + (size_t)k];
					if (d < '0' || d > '7')
						return -1;
					v = v * 8 + (d - '0');
				}
				i += 2;
				if (v > 255)
					return -1;
				sb_putc(b, (char)v);
				last = v;
				count++;
				continue;
			}
			return -1;
		}
		put_utf8(b, (unsigned long)v);
		last = v;
		count++;
	}
	if (q == '\'') {
		if (count != 1)
			return -1;
		if (rune)
			*rune = last;
	}
	return 0;
}

/* strconv.ParseInt(s, 0, 64)-like: returns 0 and *out, -1 on syntax error, -2 on range error. */
static int go_parse_int(const char *s, size_t n, long long *out, unsigned long long *uout)
{
	size_t i = 0;
	int neg = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i >= n)
		return -1;
	int base = 10, prefixed = 0;
	if (s[i] == '0' && i + 1 < n) {
		char c = s[i + 1];
		if (c == 'x' || c == 'X')
			base = 16, i += 2, prefixed = 1;
		else if (c == 'o' || c == 'O')
			base = 8, i += 2, prefixed = 1;
		else if (c == 'b' || c == 'B')
			base = 2, i += 2, prefixed = 1;
		else
			base = 8, i += 1, prefixed = 1;
	}
	unsigned long long v = 0;
	int any = prefixed && base == 8 && s[i - 1] == '0' && !(s[i - 1] == 'o' || s[i - 1] == 'O'), overflow = 0;
	char prev = prefixed ? '_' : 0;
	if (prefixed && base == 8 && !(s[i - 1] == 'o' || s[i - 1] == 'O'))
		prev = '0';
	for (; i < n; i++) {
		char c = s[i];
		if (c == '_') {
			if (prev == '_' || (!prefixed && !any))
				return -1;
			prev = c;
			continue;
		}
		int d = hexval((unsigned char)c);
		if (d < 0 || d >= base)
			return -1;
		if (v > (~0ULL - (unsigned)d) / (unsigned)base)
			overflow = 1;
		v = v * (unsigned)base + (unsigned)d;
		any = 1;
		prev = c;
	}
	if (!any || prev == '_')
		return -1;
	if (overflow)
		return -2;
	if (uout)
		*uout = v;
	if (neg) {
		if (v > (1ULL << 63))
			return -2;
		*out = v == (1ULL << 63) ? (long long)(-9223372036854775807LL - 1) : -(long long)v;
	} else {
		if (v > 9223372036854775807ULL)
			return -3; /* fits uint64 only */
		*out = (long long)v;
	}
	return 0;
}

static struct node *new_number(struct parser *p, struct token *t)
{
	struct node *n = new_node(p, N_NUMBER, t->pos);
	n->orig = arena_strndup(p->arena, t->val, t->len);
	n->origlen = t->len;
	const char *s = n->orig;
	size_t len = t->len;
	if (t->type == TK_CHARCONST) {
		struct sbuf b = {0};
		long r = 0;
		int rc = go_unquote(s, len, &b, &r);
		free(b.s);
		if (rc)
			p_errorf(p, "malformed character constant: %s", s);
		n->is_char = n->is_int = n->is_float = 1;
		n->ival = r;
		n->fval = (double)r;
		return n;
	}
	if (t->type == TK_COMPLEX || (len && s[len - 1] == 'i')) {
		/* complex constants are not supported by this engine's value model */
		p_errorf(p, "illegal number syntax: \"%s\"", s);
	}
	long long iv;
	unsigned long long uv = 0;
	int rc = go_parse_int(s, len, &iv, &uv);
	if (rc == 0) {
		n->is_int = n->is_float = 1;
		n->ival = iv;
		n->fval = (double)iv;
		return n;
	}
	if (rc == -3) {
		n->is_uint_only = n->is_float = 1;
		n->fval = (double)uv;
		return n;
	}
	/* a float: strip underscores and let strtod read decimal and hex forms */
	char *clean = arena_alloc(p->arena, len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			clean[k++] = s[i];
	char *end;
	double f = strtod(clean, &end);
	int hex = len > 2 && (s[1] == 'x' || s[1] == 'X' || s[2] == 'x' || s[2] == 'X');
	if (end == clean || *end || (hex && !strpbrk(clean, "pP")) || (!hex && strpbrk(clean, "pP")) ||
	    !strpbrk(clean, ".eEpP")) {
		if (end != clean && !*end && !strpbrk(clean, ".eEpP"))
			p_errorf(p, "integer overflow: \"%s\"", s);
		p_errorf(p, "illegal number syntax: \"%s\"", s);
	}
	n->is_float = 1;
	n->fval = f;
	if (f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 && (double)(long long)f == f) {
		n->is_int = 1;
		n->ival = (long long)f;
	}
	return n;
}

/* ---- grammar ---- */

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end);
static struct node *item_list(struct parser *p, struct node **endnode);
static struct node *if_control(struct parser *p);

/* term:
 *	literal (number, string, nil, boolean)
 *	function (identifier)
 *	.
 *	.Field
 *	$
 *	'(' pipeline ')'
 */
static struct node *term(struct parser *p)
{
	struct token *t = next_non_space(p);
	struct node *n;
	switch (t->type) {
	case TK_IDENT: {
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)t->len, t->val);
		const struct tmpl_func *fn = tmpl_find_func(p->set, name);
		if (!fn)
			p_errorf(p, "function \"%s\" not defined", name);
		n = new_node(p, N_IDENT, t->pos);
		n->fn = fn;
		n->text = arena_strndup(p->arena, t->val, t->len);
		n->textlen = t->len;
		return n;
	}
	case TK_DOT:
		return new_node(p, N_DOT, t->pos);
	case TK_NIL:
		return new_node(p, N_NIL, t->pos);
	case TK_VARIABLE: {
		n = new_variable(p, t->pos, t->val, t->len);
		for (size_t i = 0; i < p->nvars; i++)
			if (!strcmp(p->vars[i], n->ident[0]))
				return n;
		p_errorf(p, "undefined variable \"%s\"", n->ident[0]);
	}
	case TK_FIELD:
		return new_field(p, t->pos, t->val, t->len);
	case TK_BOOL:
		n = new_node(p, N_BOOL, t->pos);
		n->bval = t->len == 4;
		return n;
	case TK_CHARCONST:
	case TK_COMPLEX:
	case TK_NUMBER:
		return new_number(p, t);
	case TK_LPAREN:
		return pipeline(p, "parenthesized pipeline", TK_RPAREN);
	case TK_STRING:
	case TK_RAWSTRING: {
		struct sbuf b = {0};
		if (go_unquote(t->val, t->len, &b, NULL)) {
			free(b.s);
			p_errorf(p, "invalid syntax");
		}
		n = new_node(p, N_STRING, t->pos);
		n->text = arena_strndup(p->arena, b.s ? b.s : "", b.len);
		n->textlen = b.len;
		n->orig = arena_strndup(p->arena, t->val, t->len);
		n->origlen = t->len;
		free(b.s);
		return n;
	}
	default:
		backup(p);
		return NULL;
	}
}

static const char *node_str(struct parser *p, struct node *n)
{
	struct sbuf b = {0};
	tmpl_node_string(n, &b);
	char *s = arena_strndup(p->arena, b.s ? b.s : "", b.len);
	free(b.s);
	return s;
}

/* operand:
 *	term .Field*
 */
static struct node *operand(struct parser *p)
{
	struct node *n = term(p);
	if (!n)
		return NULL;
	if (peek(p)->type == TK_FIELD) {
		struct node *chain = new_node(p, N_CHAIN, peek(p)->pos);
		chain->pipe = n;
		struct sbuf fields = {0};
		while (peek(p)->type == TK_FIELD) {
			struct token *f = next_tok(p);
			sb_add(&fields, f->val, f->len);
		}
		switch (n->type) {
		case N_FIELD: {
			struct sbuf all = {0};
			for (size_t i = 0; i < n->nident; i++) {
				sb_putc(&all, '.');
				sb_puts(&all, n->ident[i]);
			}
			sb_add(&all, fields.s, fields.len);
			struct node *f = new_field(p, chain->pos, all.s, all.len);
			free(all.s);
			free(fields.s);
			return f;
		}
		case N_VARIABLE: {
			struct sbuf all = {0};
			for (size_t i = 0; i < n->nident; i++) {
				if (i)
					sb_putc(&all, '.');
				sb_puts(&all, n->ident[i]);
			}
			sb_add(&all, fields.s, fields.len);
			struct node *v = new_variable(p, chain->pos, all.s, all.len);
			free(all.s);
			free(fields.s);
			return v;
		}
		case N_BOOL:
		case N_STRING:
		case N_NUMBER:
		case N_NIL:
		case N_DOT:
			free(fields.s);
		{
			struct sbuf q = {0};
			const char *ns = node_str(p, n);
			go_quote(&q, ns, strlen(ns), 0);
			const char *qs = arena_strndup(p->arena, q.s, q.len);
			free(q.s);
			p_errorf(p, "unexpected . after term %s", qs);
		}
		default:
			split_idents(p, chain, fields.s + 1, fields.len - 1);
			free(fields.s);
			return chain;
		}
	}
	return n;
}

/* command:
 *	operand (space operand)*
 * space-separated arguments up to a pipeline character or right delimiter.
 */
static struct node *command(struct parser *p)
{
	struct node *cmd = new_node(p, N_COMMAND, peek_non_space(p)->pos);
	for (;;) {
		peek_non_space(p);
		struct node *op = operand(p);
		if (op)
			append_kid(p, cmd, op);
		struct token *t = next_tok(p);
		if (t->type == TK_SPACE)
			continue;
		if (t->type == TK_RDELIM || t->type == TK_RPAREN)
			backup(p);
		else if (t->type != TK_PIPE)
			unexpected(p, t, "operand");
		break;
	}
	if (cmd->nkids == 0)
		p_errorf(p, "empty command");
	return cmd;
}

static void check_pipeline(struct parser *p, struct node *pipe, const char *context)
{
	if (pipe->nkids == 0)
		p_errorf(p, "missing value for %s", context);
	for (size_t i = 1; i < pipe->nkids; i++) {
		switch (pipe->kids[i]->kids[0]->type) {
		case N_BOOL: case N_DOT: case N_NIL: case N_NUMBER: case N_STRING:
			p_errorf(p, "non executable command in pipeline stage %zu", i + 1);
		default:
			break;
		}
	}
}

/* pipeline:
 *	declarations? command ('|' command)*
 */
/* Current Go bounds parse nesting too ("max expression depth exceeded"); C stacks need a lower bound. */
#define MAX_PARSE_DEPTH 500

static void enter(struct parser *p)
{
	if (++p->depth > MAX_PARSE_DEPTH)
		p_errorf(p, "max expression depth exceeded");
}

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end)
{
	enter(p);
	struct token *first = peek_non_space(p);
	struct node *pipe = new_node(p, N_PIPE, first->pos);
	pipe->line = first->line;
decls:;
	struct token *v = peek_non_space(p);
	if (v->type == TK_VARIABLE) {
		size_t at_var = p->i; /* index of v after skipping spaces was peeked; re-read it */
		next_non_space(p);
		at_var = p->i - 1;
		struct token *after = peek(p);
		struct token *nx = peek_non_space(p);
		if (nx->type == TK_ASSIGN || nx->type == TK_DECLARE) {
			pipe->is_assign = nx->type == TK_ASSIGN;
			next_non_space(p);
			struct node **d = arena_alloc(p->arena, (pipe->ndecl + 1) * sizeof *d);
			if (pipe->ndecl)
				memcpy(d, pipe->decl, pipe->ndecl * sizeof *d);
			d[pipe->ndecl++] = new_variable(p, v->pos, v->val, v->len);
			pipe->decl = d;
			push_var(p, pipe->decl[pipe->ndecl - 1]->ident[0]);
		} else if (nx->type == TK_CHAR && nx->len == 1 && nx->val[0] == ',') {
			next_non_space(p);
			struct node **d = arena_alloc(p->arena, (pipe->ndecl + 1) * sizeof *d);
			if (pipe->ndecl)
				memcpy(d, pipe->decl, pipe->ndecl * sizeof *d);
			d[pipe->ndecl++] = new_variable(p, v->pos, v->val, v->len);
			pipe->decl = d;
			push_var(p, pipe->decl[pipe->ndecl - 1]->ident[0]);
			if (!strcmp(context, "range") && pipe->ndecl < 2) {
				enum tok_type pt = peek_non_space(p)->type;
				if (pt == TK_VARIABLE || pt == TK_RDELIM || pt == TK_RPAREN)
					goto decls;
				p_errorf(p, "range can only initialize variables");
			}
			p_errorf(p, "too many declarations in %s", context);
		} else if (after->type == TK_SPACE) {
			p->i = at_var; /* back before the variable (its following space stays) */
		} else {
			p->i = at_var;
		}
	}
	for (;;) {
		struct token *t = next_non_space(p);
		if (t->type == end) {
			check_pipeline(p, pipe, context);
			p->depth--;
			return pipe;
		}
		switch (t->type) {
		case TK_BOOL: case TK_CHARCONST: case TK_COMPLEX: case TK_DOT: case TK_FIELD: case TK_IDENT:
		case TK_NUMBER: case TK_NIL: case TK_RAWSTRING: case TK_STRING: case TK_VARIABLE: case TK_LPAREN:
			backup(p);
			append_kid(p, pipe, command(p));
			break;
		default:
			unexpected(p, t, context);
		}
	}
}

/* parseControl: pipeline itemList ({{else}} itemList | {{else if ...}} | {{else with ...}})? {{end}} */
static struct node *control(struct parser *p, enum node_type ty, const char *context)
{
	size_t mark = p->nvars;
	enter(p);
	struct node *n = new_node(p, ty, 0);
	n->pipe = pipeline(p, context, TK_RDELIM);
	n->pos = n->pipe->pos;
	n->line = n->pipe->line;
	if (ty == N_RANGE)
		p->range_depth++;
	struct node *endn;
	n->list = item_list(p, &endn);
	if (ty == N_RANGE)
		p->range_depth--;
	if (endn->type == N_ELSE) {
		/* "else if" (and current Go's "else with") chain into a nested control */
		if ((ty == N_IF && peek(p)->type == TK_IF) || (ty == N_WITH && peek(p)->type == TK_WITH)) {
			next_tok(p);
			struct node *el = new_node(p, N_LIST, endn->pos);
			append_kid(p, el, ty == N_IF ? if_control(p) : control(p, N_WITH, "with"));
			n->else_list = el;
		} else {
			n->else_list = item_list(p, &endn);
			if (endn->type != N_END) {
				p_errorf(p, "expected end; found %s", node_str(p, endn));
			}
		}
	}
	p->nvars = mark;
	p->depth--;
	return n;
}

static struct node *if_control(struct parser *p) { return control(p, N_IF, "if"); }

static const char *template_name(struct parser *p, struct token *t, const char *context, size_t *len)
{
	if (t->type != TK_STRING && t->type != TK_RAWSTRING)
		unexpected(p, t, context);
	struct sbuf b = {0};
	if (go_unquote(t->val, t->len, &b, NULL)) {
		free(b.s);
		p_errorf(p, "invalid syntax");
	}
	char *s = arena_strndup(p->arena, b.s ? b.s : "", b.len);
	*len = b.len;
	free(b.s);
	return s;
}

static void add_tree(struct parser *p, struct tree *t);
static int is_empty_tree(struct node *n);

/* action: control structure or pipeline, after "{{" */
static struct node *action(struct parser *p)
{
	struct token *t = next_non_space(p);
	struct node *n;
	switch (t->type) {
	case TK_BLOCK: {
		struct token *nt = next_non_space(p);
		size_t nl;
		const char *name = template_name(p, nt, "block clause", &nl);
		struct node *pipe = pipeline(p, "block clause", TK_RDELIM);
		/* the block's body is a new tree with its own variables and range depth */
		struct tree *saved_tree = p->tree;
		size_t saved_vars = p->nvars;
		int saved_depth = p->range_depth;
		struct tree *bt = arena_alloc(p->arena, sizeof *bt);
		bt->name = name;
		bt->parse_name = p->parse_name;
		bt->src = p->src;
		bt->srclen = p->srclen;
		p->tree = bt;
		p->nvars = 0;
		push_var(p, "$");
		p->range_depth = 0;
		struct node *endn;
		bt->root = item_list(p, &endn);
		if (endn->type != N_END)
			p_errorf(p, "unexpected %s in block clause", node_str(p, endn));
		add_tree(p, bt);
		p->tree = saved_tree;
		p->nvars = saved_vars;
		p->range_depth = saved_depth;
		n = new_node(p, N_TEMPLATE, nt->pos);
		n->line = nt->line;
		n->text = name;
		n->textlen = nl;
		n->pipe = pipe;
		return n;
	}
	case TK_BREAK:
	case TK_CONTINUE: {
		const char *what = t->type == TK_BREAK ? "{{break}}" : "{{continue}}";
		struct token *nt = next_non_space(p);
		if (nt->type != TK_RDELIM)
			unexpected(p, nt, what);
		if (p->range_depth == 0)
			p_errorf(p, "%s outside {{range}}", what);
		n = new_node(p, t->type == TK_BREAK ? N_BREAK : N_CONTINUE, t->pos);
		n->line = t->line;
		return n;
	}
	case TK_ELSE: {
		struct token *pk = peek_non_space(p);
		if (pk->type == TK_IF || pk->type == TK_WITH) {
			n = new_node(p, N_ELSE, pk->pos);
			next_non_space(p);
			backup(p); /* leave the if/with for the control to see with peek() */
			return n;
		}
		struct token *e = expect(p, TK_RDELIM, "else");
		return new_node(p, N_ELSE, e->pos);
	}
	case TK_END:
		return new_node(p, N_END, expect(p, TK_RDELIM, "end")->pos);
	case TK_IF:
		return if_control(p);
	case TK_RANGE:
		return control(p, N_RANGE, "range");
	case TK_WITH:
		return control(p, N_WITH, "with");
	case TK_TEMPLATE: {
		struct token *nt = next_non_space(p);
		size_t nl;
		const char *name = template_name(p, nt, "template clause", &nl);
		n = new_node(p, N_TEMPLATE, nt->pos);
		n->line = nt->line;
		n->text = name;
		n->textlen = nl;
		if (next_non_space(p)->type != TK_RDELIM) {
			backup(p);
			n->pipe = pipeline(p, "template clause", TK_RDELIM);
		}
		return n;
	}
	default:
		break;
	}
	backup(p);
	struct token *pk = peek(p);
	n = new_node(p, N_ACTION, pk->pos);
	n->line = pk->line;
	n->pipe = pipeline(p, "command", TK_RDELIM);
	return n;
}

static struct node *text_or_action(struct parser *p)
{
	struct token *t = next_non_space(p);
	switch (t->type) {
	case TK_TEXT: {
		struct node *n = new_node(p, N_TEXT, t->pos);
		n->text = t->val;
		n->textlen = t->len;
		return n;
	}
	case TK_LDELIM: {
		/* Go clears the action line when any action ends, nested ones included */
		p->action_line = t->line;
		struct node *n = action(p);
		p->action_line = 0;
		return n;
	}
	default:
		unexpected(p, t, "input");
	}
}

/* itemList: textOrAction* — ends at {{end}} or {{else}}, returned in *endnode. */
static struct node *item_list(struct parser *p, struct node **endnode)
{
	struct node *list = new_node(p, N_LIST, peek_non_space(p)->pos);
	while (peek_non_space(p)->type != TK_EOF) {
		struct node *n = text_or_action(p);
		if (n->type == N_END || n->type == N_ELSE) {
			*endnode = n;
			return list;
		}
		append_kid(p, list, n);
	}
	p_errorf(p, "unexpected EOF");
}

static int is_empty_tree(struct node *n)
{
	if (!n)
		return 1;
	switch (n->type) {
	case N_LIST:
		for (size_t i = 0; i < n->nkids; i++)
			if (!is_empty_tree(n->kids[i]))
				return 0;
		return 1;
	case N_TEXT:
		for (size_t i = 0; i < n->textlen; i++)
			if (!strchr(" \t\r\n", n->text[i]))
				return 0;
		return 1;
	default:
		return 0;
	}
}

/* Records a tree made by this parse; a second non-empty definition of a name in one parse is an error. */
static void add_tree(struct parser *p, struct tree *t)
{
	for (size_t i = 0; i < p->nmade; i++)
		if (!strcmp(p->made[i]->name, t->name)) {
			if (is_empty_tree(p->made[i]->root)) {
				p->made[i] = t;
				return;
			}
			if (!is_empty_tree(t->root))
				p_errorf(p, "template: multiple definition of template \"%s\"", t->name);
			return;
		}
	if (p->nmade == p->capmade) {
		p->capmade = p->capmade ? p->capmade * 2 : 8;
		struct tree **m = realloc(p->made, p->capmade * sizeof *m);
		if (!m)
			abort();
		p->made = m;
	}
	p->made[p->nmade++] = t;
}

static void parse_definition(struct parser *p)
{
	struct tree *saved_tree = p->tree;
	size_t saved_vars = p->nvars;
	struct tree *dt = arena_alloc(p->arena, sizeof *dt);
	dt->parse_name = p->parse_name;
	dt->src = p->src;
	dt->srclen = p->srclen;
	p->tree = dt;
	p->nvars = 0;
	push_var(p, "$");
	struct token *nt = next_non_space(p);
	if (nt->type != TK_STRING && nt->type != TK_RAWSTRING)
		unexpected(p, nt, "define clause");
	size_t nl;
	dt->name = template_name(p, nt, "define clause", &nl);
	expect(p, TK_RDELIM, "define clause");
	struct node *endn;
	dt->root = item_list(p, &endn);
	if (endn->type != N_END)
		p_errorf(p, "unexpected %s in define clause", node_str(p, endn));
	add_tree(p, dt);
	p->tree = saved_tree;
	p->nvars = saved_vars;
}

static void parse_top(struct parser *p)
{
	p->tree->root = new_node(p, N_LIST, peek(p)->pos);
	while (peek(p)->type != TK_EOF) {
		if (peek(p)->type == TK_LDELIM) {
			size_t at = p->i;
			struct token *d = next_tok(p);
			if (next_non_space(p)->type == TK_DEFINE) {
				int saved = p->action_line;
				p->action_line = d->line;
				parse_definition(p);
				p->action_line = saved;
				continue;
			}
			p->i = at;
		}
		struct node *n = text_or_action(p);
		if (n->type == N_END || n->type == N_ELSE)
			p_errorf(p, "unexpected %s", node_str(p, n));
		append_kid(p, p->tree->root, n);
	}
}

/* ---- the set ---- */

struct tmpl_set *tmpl_set_new(void)
{
	struct tmpl_set *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	return s;
}

void tmpl_set_free(struct tmpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->narenas; i++)
		arena_free(set->arenas[i]);
	free(set->arenas);
	free(set->trees);
	for (size_t i = 0; i < set->nbinds; i++)
		json_decref(set->binds[i].obj);
	free(set->binds);
	while (set->funcs) {
		struct tmpl_funcs_batch *next = set->funcs->next;
		free(set->funcs);
		set->funcs = next;
	}
	free(set);
}

void tmpl_set_missingkey_error(struct tmpl_set *set, int on) { set->missingkey_error = on; }

void tmpl_set_missingkey_zero(struct tmpl_set *set, int on) { set->missingkey_zero = on; }

void tmpl_set_helm(struct tmpl_set *set, int on)
{
	set->helm = on;
	set->missingkey_zero = on;
}

void tmpl_set_bind(struct tmpl_set *set, json_t *obj, const struct tobj_type *type, void *ctx)
{
	if (set->nbinds == set->capbinds) {
		set->capbinds = set->capbinds ? set->capbinds * 2 : 16;
		set->binds = realloc(set->binds, set->capbinds * sizeof *set->binds);
		if (!set->binds)
			abort();
	}
	set->binds[set->nbinds++] = (struct tbind){json_incref(obj), type, ctx};
}

const struct tbind *tmpl_find_bind(struct tmpl_set *set, json_t *obj)
{
	if (!obj)
		return NULL;
	for (; set; set = set->parent)
		for (size_t i = set->nbinds; i-- > 0;)
			if (set->binds[i].obj == obj)
				return &set->binds[i];
	return NULL;
}

void tmpl_set_limits(struct tmpl_set *set, size_t max_output, unsigned long max_steps)
{
	set->max_output = max_output;
	set->max_steps = max_steps;
}

struct tree *tmpl_lookup(struct tmpl_set *set, const char *name)
{
	for (; set; set = set->parent)
		for (size_t i = 0; i < set->ntrees; i++)
			if (!strcmp(set->trees[i]->name, name))
				return set->trees[i];
	return NULL;
}

int tmpl_has(struct tmpl_set *set, const char *name) { return tmpl_lookup(set, name) != NULL; }

/* Go's associate: a new definition replaces the old one unless it is empty and the old one is not. */
static void set_associate(struct tmpl_set *set, struct tree *t)
{
	for (size_t i = 0; i < set->ntrees; i++)
		if (!strcmp(set->trees[i]->name, t->name)) {
			if (is_empty_tree(t->root) && set->trees[i]->root)
				return;
			set->trees[i] = t;
			return;
		}
	if (set->ntrees == set->captrees) {
		set->captrees = set->captrees ? set->captrees * 2 : 16;
		struct tree **nt = realloc(set->trees, set->captrees * sizeof *nt);
		if (!nt)
			abort();
		set->trees = nt;
	}
	set->trees[set->ntrees++] = t;
}

int tmpl_parse(struct tmpl_set *set, const char *name, const char *text, size_t len, struct sm_error *err)
{
	struct arena *a = arena_new();
	struct parser *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->arena = a;
	p->set = set;
	p->parse_name = arena_strndup(a, name, strlen(name));
	p->src = arena_strndup(a, text, len);
	p->srclen = len;
	p->err = err;
	p->ntoks = tmpl_lex(a, p->src, len, &p->toks);
	struct tree *t = arena_alloc(a, sizeof *t);
	t->name = p->parse_name;
	t->parse_name = p->parse_name;
	t->src = p->src;
	t->srclen = len;
	p->tree = t;
	int rc = 0;
	if (setjmp(p->fail) == 0) {
		push_var(p, "$");
		parse_top(p);
		add_tree(p, t);
		for (size_t i = 0; i < p->nmade; i++)
			set_associate(set, p->made[i]);
		if (set->narenas == set->caparenas) {
			set->caparenas = set->caparenas ? set->caparenas * 2 : 8;
			struct arena **na = realloc(set->arenas, set->caparenas * sizeof *na);
			if (!na)
				abort();
			set->arenas = na;
		}
		set->arenas[set->narenas++] = a;
	} else {
		arena_free(a);
		rc = -1;
	}
	free(p->vars);
	free(p->made);
	free(p);
	return rc;
}

/* ---- Node.String() ---- */

static void idents(struct sbuf *b, const struct node *n, int lead_dot)
{
	for (size_t i = 0; i < n->nident; i++) {
		if (i || lead_dot)
			sb_putc(b, '.');
		sb_puts(b, n->ident[i]);
	}
}

static void control_string(struct sbuf *b, const char *name, const struct node *n)
{
	sb_printf(b, "{{%s ", name);
	tmpl_node_string(n->pipe, b);
	sb_puts(b, "}}");
	tmpl_node_string(n->list, b);
	if (n->else_list) {
		sb_puts(b, "{{else}}");
		tmpl_node_string(n->else_list, b);
	}
	sb_puts(b, "{{end}}");
}

void tmpl_node_string(const struct node *n, struct sbuf *b)
{
	if (!n)
		return;
	switch (n->type) {
	case N_TEXT:
		sb_add(b, n->text, n->textlen);
		break;
	case N_ACTION:
		sb_puts(b, "{{");
		tmpl_node_string(n->pipe, b);
		sb_puts(b, "}}");
		break;
	case N_BOOL:
		sb_puts(b, n->bval ? "true" : "false");
		break;
	case N_CHAIN:
		if (n->pipe->type == N_PIPE) {
			sb_putc(b, '(');
			tmpl_node_string(n->pipe, b);
			sb_putc(b, ')');
		} else {
			tmpl_node_string(n->pipe, b);
		}
		idents(b, n, 1);
		break;
	case N_COMMAND:
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				sb_putc(b, ' ');
			if (n->kids[i]->type == N_PIPE) {
				sb_putc(b, '(');
				tmpl_node_string(n->kids[i], b);
				sb_putc(b, ')');
			} else {
				tmpl_node_string(n->kids[i], b);
			}
		}
		break;
	case N_DOT:
		sb_putc(b, '.');
		break;
	case N_FIELD:
		idents(b, n, 1);
		break;
	case N_IDENT:
		sb_puts(b, n->text);
		break;
	case N_IF:
		control_string(b, "if", n);
		break;
	case N_RANGE:
		control_string(b, "range", n);
		break;
	case N_WITH:
		control_string(b, "with", n);
		break;
	case N_LIST:
		for (size_t i = 0; i < n->nkids; i++)
			tmpl_node_string(n->kids[i], b);
		break;
	case N_NIL:
		sb_puts(b, "nil");
		break;
	case N_NUMBER:
	case N_STRING:
		sb_add(b, n->orig, n->origlen);
		break;
	case N_PIPE:
		for (size_t i = 0; i < n->ndecl; i++) {
			if (i)
				sb_puts(b, ", ");
			tmpl_node_string(n->decl[i], b);
		}
		if (n->ndecl)
			sb_puts(b, n->is_assign ? " = " : " := ");
		for (size_t i = 0; i < n->nkids; i++) {
			if (i)
				sb_puts(b, " | ");
			tmpl_node_string(n->kids[i], b);
		}
		break;
	case N_TEMPLATE:
		sb_puts(b, "{{template ");
		go_quote(b, n->text, n->textlen, 0);
		if (n->pipe) {
			sb_putc(b, ' ');
			tmpl_node_string(n->pipe, b);
		}
		sb_puts(b, "}}");
		break;
	case N_VARIABLE:
		idents(b, n, 0);
		break;
	case N_BREAK:
		sb_puts(b, "{{break}}");
		break;
	case N_CONTINUE:
		sb_puts(b, "{{continue}}");
		break;
	case N_END:
		sb_puts(b, "{{end}}");
		break;
	case N_ELSE:
		sb_puts(b, "{{else}}");
		break;
	}
}
