/* lex_test.c — the lexer (lex.c) against a table of inputs and token streams, as Go's lex_test.go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tmpl.h"
#include "tmpl_node.h"

/* ---- lexer ---- */

struct lex_case {
	const char *name;
	const char *input;
	const char *want; /* token types, space-separated short names */
};

static const char *tok_name(enum tok_type t)
{
	switch (t) {
	case TK_ERROR: return "ERR";
	case TK_BOOL: return "bool";
	case TK_CHAR: return "char";
	case TK_CHARCONST: return "charconst";
	case TK_COMPLEX: return "complex";
	case TK_ASSIGN: return "=";
	case TK_DECLARE: return ":=";
	case TK_EOF: return "EOF";
	case TK_FIELD: return "field";
	case TK_IDENT: return "ident";
	case TK_LDELIM: return "{{";
	case TK_LPAREN: return "(";
	case TK_NUMBER: return "num";
	case TK_PIPE: return "|";
	case TK_RAWSTRING: return "raw";
	case TK_RDELIM: return "}}";
	case TK_RPAREN: return ")";
	case TK_SPACE: return "_";
	case TK_STRING: return "str";
	case TK_TEXT: return "text";
	case TK_VARIABLE: return "var";
	case TK_DOT: return ".";
	case TK_NIL: return "nil";
	default: return "kw";
	}
}

static const struct lex_case lex_cases[] = {
	{"empty", "", "EOF"},
	{"text", "now is the time", "text EOF"},
	{"text with comment", "hello-{{/* this is a comment */}}-world", "text text EOF"},
	{"punctuation", "{{,@% }}", "{{ char char char _ }} EOF"},
	{"parens", "{{((3))}}", "{{ ( ( num ) ) }} EOF"},
	{"empty action", "{{}}", "{{ }} EOF"},
	{"for", "{{for}}", "{{ ident }} EOF"},
	{"quote", "{{\"abc \\n\\t\\\" \"}}", "{{ str }} EOF"},
	{"raw quote", "{{`abc\\n\\t\\\" `}}", "{{ raw }} EOF"},
	{"numbers", "{{1 02 0x14 0X14 -7.2i 1e3 1e+3 1e-3 1.2e-4 4.2i 1+2i 1_2 0x1.e_fp4 0X1.E_FP4}}",
	 "{{ num _ num _ num _ num _ num _ num _ num _ num _ num _ num _ complex _ num _ num _ num }} EOF"},
	{"characters", "{{'a' '\\n' '\\'' '\\\\' '\\u00FF' '\\xFF' '本'}}",
	 "{{ charconst _ charconst _ charconst _ charconst _ charconst _ charconst _ charconst }} EOF"},
	{"bools", "{{true false}}", "{{ bool _ bool }} EOF"},
	{"dot", "{{.}}", "{{ . }} EOF"},
	{"nil", "{{nil}}", "{{ nil }} EOF"},
	{"dots", "{{.x . .2 .x.y.z}}", "{{ field _ . _ num _ field field field }} EOF"},
	{"keywords", "{{range if else end with}}", "{{ kw _ kw _ kw _ kw _ kw }} EOF"},
	{"variables", "{{$c := printf $ $hello $23 $ $var.Field .Method}}",
	 "{{ var _ := _ ident _ var _ var _ var _ var _ var field _ field }} EOF"},
	{"pipeline", "intro {{echo hi 1.2 |noargs|args 1 \"hi\"}} outro",
	 "text {{ ident _ ident _ num _ | ident | ident _ num _ str }} text EOF"},
	{"declaration", "{{$v := 3}}", "{{ var _ := _ num }} EOF"},
	{"2 declarations", "{{$v , $w := 3}}", "{{ var _ char _ var _ := _ num }} EOF"},
	{"trim left", "hello- {{- 3}}", "text {{ num }} EOF"},
	{"trim right", "{{3 -}} -world", "{{ num }} text EOF"},
	{"trim comment", "hello- {{- /* hello */ -}}  -world", "text text EOF"},
	{"badchar", "#{{\x01}}", "text {{ ERR"},
	{"unclosed action", "{{", "{{ ERR"},
	{"EOF in action", "{{range", "{{ kw ERR"},
	{"unclosed quote", "{{\"\n\"}}", "{{ ERR"},
	{"unclosed raw quote", "{{`xx}}", "{{ ERR"},
	{"unclosed char constant", "{{'\n}}", "{{ ERR"},
	{"bad number", "{{3k}}", "{{ ERR"},
	{"unclosed paren", "{{(3}}", "{{ ( num ERR"},
	{"extra right paren", "{{3)}}", "{{ num ) ERR"},
	{"long pipeline deadlock", "{{|||||}}", "{{ | | | | | }} EOF"},
	{"unclosed comment", "{{/*}}", "ERR"},
	{"text after comment", "{{/* x */}}y", "text EOF"},
};

static void test_lexer(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof lex_cases / sizeof lex_cases[0]; i++) {
		struct arena *a = arena_new();
		struct token *toks;
		size_t n = tmpl_lex(a, lex_cases[i].input, strlen(lex_cases[i].input), &toks);
		struct sbuf b = {0};
		for (size_t k = 0; k < n; k++) {
			if (k)
				sb_putc(&b, ' ');
			sb_puts(&b, tok_name(toks[k].type));
		}
		if (strcmp(b.s, lex_cases[i].want))
			fail_msg("lex %s: got \"%s\" want \"%s\"", lex_cases[i].name, b.s, lex_cases[i].want);
		free(b.s);
		arena_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lexer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
