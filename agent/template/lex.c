/* lex.c — the template lexer (Go's text/template/parse/lex.go semantics) and the parse arena. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"

/* ---- arena: every node and string of one parse lives here and dies with the set ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_chunk *head;
};

struct arena *arena_new(void)
{
	struct arena *a = calloc(1, sizeof *a);
	if (!a)
		abort();
	return a;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->head->size - a->head->used < n) {
		size_t size = n > 16384 ? n : 16384;
		struct arena_chunk *c = malloc(sizeof *c + size);
		if (!c)
			abort();
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	while (a->head) {
		struct arena_chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
	free(a);
}

/* ---- lexer ---- */

struct lexer {
	struct arena *arena;
	const char *in;
	size_t len;
	size_t start, pos;
	int line, start_line;
	int paren_depth;
	struct token *toks;
	size_t ntoks, cap;
	int done;
};

enum lex_state { LS_TEXT, LS_LEFT_DELIM, LS_COMMENT, LS_RIGHT_DELIM, LS_INSIDE, LS_SPACE, LS_IDENT, LS_FIELD,
		 LS_VARIABLE, LS_CHAR, LS_NUMBER, LS_QUOTE, LS_RAW, LS_STOP };

#define EOF_CH (-1)

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Letters and digits beyond ASCII are accepted byte-wise: any byte >= 0x80 counts as a letter
 * (Go checks unicode.IsLetter on the decoded rune; identifiers with non-letter symbols differ). */
static int is_alnum(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static void push_tok(struct lexer *l, enum tok_type t, const char *val, size_t len, size_t pos, int line)
{
	if (l->ntoks == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct token *nt = arena_alloc(l->arena, ncap * sizeof *nt);
		if (l->ntoks)
			memcpy(nt, l->toks, l->ntoks * sizeof *nt);
		l->toks = nt;
		l->cap = ncap;
	}
	l->toks[l->ntoks++] = (struct token){t, (int)pos, line, val, len};
}

static void count_lines(struct lexer *l, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (l->in[i] == '\n')
			l->line++;
}

static void emit(struct lexer *l, enum tok_type t)
{
	push_tok(l, t, l->in + l->start, l->pos - l->start, l->start, l->start_line);
	l->start = l->pos;
	l->start_line = l->line;
}

static void ignore(struct lexer *l)
{
	count_lines(l, l->start, l->pos);
	l->start = l->pos;
	l->start_line = l->line;
}

static int next_ch(struct lexer *l)
{
	if (l->pos >= l->len) {
		l->pos = l->len + 1; /* so that backup works symmetrically */
		return EOF_CH;
	}
	int c = (unsigned char)l->in[l->pos++];
	if (c == '\n')
		l->line++;
	return c;
}

static void backup(struct lexer *l)
{
	if (l->pos > l->len) {
		l->pos = l->len;
		return;
	}
	l->pos--;
	if (l->in[l->pos] == '\n')
		l->line--;
}

static int peek_ch(struct lexer *l)
{
	return l->pos < l->len ? (unsigned char)l->in[l->pos] : EOF_CH;
}

static enum lex_state lex_errorf(struct lexer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum lex_state lex_errorf(struct lexer *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	push_tok(l, TK_ERROR, arena_strndup(l->arena, msg, strlen(msg)), strlen(msg), l->start, l->start_line);
	l->done = 1;
	return LS_STOP;
}

static int has_prefix(struct lexer *l, size_t at, const char *p)
{
	size_t n = strlen(p);
	return at <= l->len && l->len - at >= n && !memcmp(l->in + at, p, n);
}

static int has_left_trim(struct lexer *l, size_t at)
{
	return at + 2 <= l->len && l->in[at] == '-' && is_space((unsigned char)l->in[at + 1]);
}

static int has_right_trim(struct lexer *l, size_t at)
{
	return at + 2 <= l->len && is_space((unsigned char)l->in[at]) && l->in[at + 1] == '-';
}

/* 0: not at "}}"; 1: at "}}"; 2: at " -}}". */
static int at_right_delim(struct lexer *l)
{
	if (has_right_trim(l, l->pos) && has_prefix(l, l->pos + 2, "}}"))
		return 2;
	return has_prefix(l, l->pos, "}}") ? 1 : 0;
}

static size_t left_trim_len(struct lexer *l, size_t at)
{
	size_t n = 0;
	while (at + n < l->len && is_space((unsigned char)l->in[at + n]))
		n++;
	return n;
}

static enum lex_state lex_text(struct lexer *l)
{
	const char *p = l->pos < l->len ? memmem(l->in + l->pos, l->len - l->pos, "{{", 2) : NULL;
	if (p) {
		l->pos = (size_t)(p - l->in);
		size_t trim = 0;
		if (has_left_trim(l, l->pos + 2))
			while (l->pos - trim > l->start && is_space((unsigned char)l->in[l->pos - trim - 1]))
				trim++;
		l->pos -= trim;
		if (l->pos > l->start) {
			push_tok(l, TK_TEXT, l->in + l->start, l->pos - l->start, l->start, l->start_line);
			count_lines(l, l->start, l->pos);
			l->start = l->pos;
			l->start_line = l->line;
		}
		l->pos += trim;
		ignore(l);
		return LS_LEFT_DELIM;
	}
	l->pos = l->len;
	if (l->pos > l->start) {
		push_tok(l, TK_TEXT, l->in + l->start, l->pos - l->start, l->start, l->start_line);
		count_lines(l, l->start, l->pos);
		l->start = l->pos;
		l->start_line = l->line;
	}
	emit(l, TK_EOF);
	l->done = 1;
	return LS_STOP;
}

static enum lex_state lex_left_delim(struct lexer *l)
{
	l->pos += 2;
	size_t after = has_left_trim(l, l->pos) ? 2 : 0;
	if (has_prefix(l, l->pos + after, "/*")) {
		l->pos += after;
		ignore(l);
		return LS_COMMENT;
	}
	emit(l, TK_LDELIM);
	l->pos += after;
	ignore(l);
	l->paren_depth = 0;
	return LS_INSIDE;
}

static enum lex_state lex_comment(struct lexer *l)
{
	l->pos += 2;
	const char *e = memmem(l->in + l->pos, l->len - l->pos, "*/", 2);
	if (!e)
		return lex_errorf(l, "unclosed comment");
	l->pos = (size_t)(e - l->in) + 2;
	int d = at_right_delim(l);
	if (!d)
		return lex_errorf(l, "comment ends before closing delimiter");
	l->pos += d == 2 ? 4 : 2;
	if (d == 2)
		l->pos += left_trim_len(l, l->pos);
	ignore(l);
	return LS_TEXT;
}

static enum lex_state lex_right_delim(struct lexer *l)
{
	int trim = has_right_trim(l, l->pos);
	if (trim) {
		l->pos += 2;
		ignore(l);
	}
	l->pos += 2;
	emit(l, TK_RDELIM);
	if (trim) {
		l->pos += left_trim_len(l, l->pos);
		ignore(l);
	}
	return LS_TEXT;
}

static void fmt_rune(char *buf, size_t n, int c)
{
	/* Go's %#U: U+0041 'A' */
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, n, "U+%04X '%c'", c, c);
	else
		snprintf(buf, n, "U+%04X", c);
}

static enum lex_state lex_inside(struct lexer *l)
{
	if (at_right_delim(l)) {
		if (l->paren_depth == 0)
			return LS_RIGHT_DELIM;
		return lex_errorf(l, "unclosed left paren");
	}
	int c = next_ch(l);
	char rb[32];
	if (c == EOF_CH)
		return lex_errorf(l, "unclosed action");
	if (is_space(c)) {
		backup(l);
		return LS_SPACE;
	}
	switch (c) {
	case '=':
		emit(l, TK_ASSIGN);
		return LS_INSIDE;
	case ':':
		if (next_ch(l) != '=')
			return lex_errorf(l, "expected :=");
		emit(l, TK_DECLARE);
		return LS_INSIDE;
	case '|':
		emit(l, TK_PIPE);
		return LS_INSIDE;
	case '"':
		return LS_QUOTE;
	case '`':
		return LS_RAW;
	case '$':
		return LS_VARIABLE;
	case '\'':
		return LS_CHAR;
	case '.':
		if (l->pos < l->len) {
			int d = (unsigned char)l->in[l->pos];
			if (d < '0' || d > '9')
				return LS_FIELD;
		}
		backup(l);
		return LS_NUMBER;
	case '(':
		emit(l, TK_LPAREN);
		l->paren_depth++;
		return LS_INSIDE;
	case ')':
		emit(l, TK_RPAREN);
		l->paren_depth--;
		if (l->paren_depth < 0) {
			fmt_rune(rb, sizeof rb, c);
			return lex_errorf(l, "unexpected right paren %s", rb);
		}
		return LS_INSIDE;
	}
	if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
		backup(l);
		return LS_NUMBER;
	}
	if (is_alnum(c)) {
		backup(l);
		return LS_IDENT;
	}
	if (c < 0x7f && c >= 0x20) {
		emit(l, TK_CHAR);
		return LS_INSIDE;
	}
	fmt_rune(rb, sizeof rb, c);
	return lex_errorf(l, "unrecognized character in action: %s", rb);
}

static enum lex_state lex_space(struct lexer *l)
{
	int n = 0;
	while (is_space(peek_ch(l))) {
		next_ch(l);
		n++;
	}
	if (has_right_trim(l, l->pos - 1) && has_prefix(l, l->pos + 1, "}}")) {
		backup(l);
		if (n == 1)
			return LS_RIGHT_DELIM;
	}
	emit(l, TK_SPACE);
	return LS_INSIDE;
}

static int at_terminator(struct lexer *l)
{
	int c = peek_ch(l);
	if (is_space(c))
		return 1;
	switch (c) {
	case EOF_CH: case '.': case ',': case '|': case ':': case ')': case '(':
		return 1;
	}
	return has_prefix(l, l->pos, "}}");
}

static const struct {
	const char *word;
	enum tok_type type;
} keywords[] = {
	{"block", TK_BLOCK}, {"break", TK_BREAK}, {"continue", TK_CONTINUE}, {"define", TK_DEFINE},
	{"else", TK_ELSE}, {"end", TK_END}, {"if", TK_IF}, {"range", TK_RANGE}, {"nil", TK_NIL},
	{"template", TK_TEMPLATE}, {"with", TK_WITH},
};

static enum lex_state lex_ident(struct lexer *l)
{
	int c;
	while (is_alnum(c = next_ch(l)))
		;
	backup(l);
	if (!at_terminator(l)) {
		char rb[32];
		fmt_rune(rb, sizeof rb, c);
		return lex_errorf(l, "bad character %s", rb);
	}
	size_t n = l->pos - l->start;
	const char *w = l->in + l->start;
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
		if (strlen(keywords[i].word) == n && !memcmp(keywords[i].word, w, n)) {
			emit(l, keywords[i].type);
			return LS_INSIDE;
		}
	if ((n == 4 && !memcmp(w, "true", 4)) || (n == 5 && !memcmp(w, "false", 5)))
		emit(l, TK_BOOL);
	else
		emit(l, TK_IDENT);
	return LS_INSIDE;
}

static enum lex_state lex_field_or_var(struct lexer *l, enum tok_type t)
{
	if (at_terminator(l)) {
		emit(l, t == TK_VARIABLE ? TK_VARIABLE : TK_DOT);
		return LS_INSIDE;
	}
	int c;
	while (is_alnum(c = next_ch(l)))
		;
	backup(l);
	if (!at_terminator(l)) {
		char rb[32];
		fmt_rune(rb, sizeof rb, c);
		return lex_errorf(l, "bad character %s", rb);
	}
	emit(l, t);
	return LS_INSIDE;
}

static enum lex_state lex_quoted(struct lexer *l, int q, enum tok_type t, const char *what)
{
	for (;;) {
		int c = next_ch(l);
		if (c == '\\') {
			c = next_ch(l);
			if (c != EOF_CH && c != '\n')
				continue;
			return lex_errorf(l, "%s", what);
		}
		if (c == EOF_CH || c == '\n')
			return lex_errorf(l, "%s", what);
		if (c == q)
			break;
	}
	emit(l, t);
	return LS_INSIDE;
}

static int accept(struct lexer *l, const char *valid)
{
	int c = next_ch(l);
	if (c != EOF_CH && c != 0 && strchr(valid, c))
		return 1;
	backup(l);
	return 0;
}

static void accept_run(struct lexer *l, const char *valid)
{
	int c;
	while ((c = next_ch(l)) != EOF_CH && c != 0 && strchr(valid, c))
		;
	backup(l);
}

static int scan_number(struct lexer *l)
{
	accept(l, "+-");
	const char *digits = "0123456789_";
	if (accept(l, "0")) {
		if (accept(l, "xX"))
			digits = "0123456789abcdefABCDEF_";
		else if (accept(l, "oO"))
			digits = "01234567_";
		else if (accept(l, "bB"))
			digits = "01_";
	}
	accept_run(l, digits);
	if (accept(l, "."))
		accept_run(l, digits);
	if (strlen(digits) == 11 && accept(l, "eE")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	if (strlen(digits) == 23 && accept(l, "pP")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	accept(l, "i");
	if (is_alnum(peek_ch(l))) {
		next_ch(l);
		return 0;
	}
	return 1;
}

static enum lex_state lex_number(struct lexer *l)
{
	if (!scan_number(l))
		return lex_errorf(l, "bad number syntax: \"%.*s\"", (int)(l->pos - l->start), l->in + l->start);
	int c = peek_ch(l);
	if (c == '+' || c == '-') {
		if (!scan_number(l) || l->in[l->pos - 1] != 'i')
			return lex_errorf(l, "bad number syntax: \"%.*s\"", (int)(l->pos - l->start), l->in + l->start);
		emit(l, TK_COMPLEX);
	} else {
		emit(l, TK_NUMBER);
	}
	return LS_INSIDE;
}

size_t tmpl_lex(struct arena *a, const char *text, size_t len, struct token **toks)
{
	struct lexer l = {.arena = a, .in = text, .len = len, .line = 1, .start_line = 1};
	enum lex_state s = LS_TEXT;
	while (!l.done) {
		switch (s) {
		case LS_TEXT: s = lex_text(&l); break;
		case LS_LEFT_DELIM: s = lex_left_delim(&l); break;
		case LS_COMMENT: s = lex_comment(&l); break;
		case LS_RIGHT_DELIM: s = lex_right_delim(&l); break;
		case LS_INSIDE: s = lex_inside(&l); break;
		case LS_SPACE: s = lex_space(&l); break;
		case LS_IDENT: s = lex_ident(&l); break;
		case LS_FIELD: s = lex_field_or_var(&l, TK_FIELD); break;
		case LS_VARIABLE: s = lex_field_or_var(&l, TK_VARIABLE); break;
		case LS_CHAR: s = lex_quoted(&l, '\'', TK_CHARCONST, "unterminated character constant"); break;
		case LS_NUMBER: s = lex_number(&l); break;
		case LS_QUOTE: s = lex_quoted(&l, '"', TK_STRING, "unterminated quoted string"); break;
		case LS_RAW:
			for (;;) {
				int c = next_ch(&l);
				if (c == EOF_CH) {
					s = lex_errorf(&l, "unterminated raw quoted string");
					break;
				}
				if (c == '`') {
					emit(&l, TK_RAWSTRING);
					s = LS_INSIDE;
					break;
				}
			}
			break;
		case LS_STOP: l.done = 1; break;
		}
	}
	*toks = l.toks;
	return l.ntoks;
}

void tmpl_token_str(const struct token *t, char *buf, size_t n)
{
	if (t->type == TK_EOF) {
		snprintf(buf, n, "EOF");
		return;
	}
	if (t->type == TK_ERROR) {
		snprintf(buf, n, "%.*s", (int)t->len, t->val);
		return;
	}
	if (t->type > TK_KEYWORD) {
		snprintf(buf, n, "<%.*s>", (int)t->len, t->val);
		return;
	}
	struct sbuf b = {0};
	/* Go: %q, or %.10q... (ten runes) when the value is longer than ten bytes */
	size_t len = t->len, cut = len;
	if (len > 10) {
		size_t runes = 0;
		for (size_t i = 0; i < len; i++)
			if (((unsigned char)t->val[i] & 0xC0) != 0x80) {
				if (runes == 10) {
					cut = i;
					break;
				}
				runes++;
			}
	}
	go_quote(&b, t->val, cut, 0);
	if (len > 10)
		sb_puts(&b, "...");
	snprintf(buf, n, "%s", b.s ? b.s : "\"\"");
	free(b.s);
}
