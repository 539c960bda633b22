/* parse_test.c — the parser (parse.c): String() of the parsed tree, or Go's error, for a table of inputs (Go's parse_test.go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tmpl.h"
#include "tmpl_node.h"

/* ---- parser: String() of the parsed tree, or the error ---- */

struct parse_case {
	const char *name;
	const char *input;
	const char *want; /* the root's String(), or the error message when it starts with "template:" */
};

static const struct parse_case parse_cases[] = {
	{"empty", "", ""},
	{"spaces", " \t\n", " \t\n"},
	{"text", "some text", "some text"},
	{"emptyAction", "{{}}", "template: p:1: missing value for command"},
	{"field", "{{.X}}", "{{.X}}"},
	{"simple command", "{{printf}}", "{{printf}}"},
	{"$ invocation", "{{$}}", "{{$}}"},
	{"variable invocation", "{{with $x := 3}}{{$x 23}}{{end}}", "{{with $x := 3}}{{$x 23}}{{end}}"},
	{"variable with fields", "{{$.I}}", "{{$.I}}"},
	{"multi-word command", "{{printf `%d` 23}}", "{{printf `%d` 23}}"},
	{"pipeline", "{{.X|.Y}}", "{{.X | .Y}}"},
	{"pipeline with decl", "{{$x := .X|.Y}}", "{{$x := .X | .Y}}"},
	{"nested pipeline", "{{.X (.Y .Z) (.A | .B .C) (.E)}}", "{{.X (.Y .Z) (.A | .B .C) (.E)}}"},
	{"field applied to parentheses", "{{(.Y .Z).Field}}", "{{(.Y .Z).Field}}"},
	{"simple if", "{{if .X}}hello{{end}}", "{{if .X}}hello{{end}}"},
	{"if with else", "{{if .X}}true{{else}}false{{end}}", "{{if .X}}true{{else}}false{{end}}"},
	{"if with else if", "{{if .X}}true{{else if .Y}}false{{end}}",
	 "{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}"},
	{"simple range", "{{range .X}}hello{{end}}", "{{range .X}}hello{{end}}"},
	{"chained field range", "{{range .X.Y.Z}}hello{{end}}", "{{range .X.Y.Z}}hello{{end}}"},
	{"nested range", "{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}",
	 "{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}"},
	{"range with else", "{{range .X}}true{{else}}false{{end}}", "{{range .X}}true{{else}}false{{end}}"},
	{"range []int", "{{range .SI}}{{.}}{{end}}", "{{range .SI}}{{.}}{{end}}"},
	{"range 1 var", "{{range $x := .SI}}{{.}}{{end}}", "{{range $x := .SI}}{{.}}{{end}}"},
	{"range 2 vars", "{{range $x, $y := .SI}}{{.}}{{end}}", "{{range $x, $y := .SI}}{{.}}{{end}}"},
	{"range with break", "{{range .SI}}{{.}}{{break}}{{end}}", "{{range .SI}}{{.}}{{break}}{{end}}"},
	{"constants", "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}",
	 "template: p:1: illegal number syntax: \"-3.2i\""},
	{"template", "{{template `x`}}", "{{template \"x\"}}"},
	{"template with arg", "{{template `x` .Y}}", "{{template \"x\" .Y}}"},
	{"with", "{{with .X}}hello{{end}}", "{{with .X}}hello{{end}}"},
	{"with with else", "{{with .X}}hello{{else}}goodbye{{end}}", "{{with .X}}hello{{else}}goodbye{{end}}"},
	{"with else with", "{{with .X}}a{{else with .Y}}b{{end}}", "{{with .X}}a{{else}}{{with .Y}}b{{end}}{{end}}"},
	{"trim left", "x \r\n\t{{- 3}}", "x{{3}}"},
	{"trim right", "{{3 -}}\n\n\ty", "{{3}}y"},
	{"comment trim left", "x \r\n\t{{- /* hi */}}", "x"},
	{"block definition", "{{block \"foo\" .}}hello{{end}}", "{{template \"foo\" .}}"},
	{"newline in assignment", "{{ $x \n := \n 1 \n }}", "{{$x := 1}}"},
	{"newline in pipeline", "{{\n\"x\"\n|\nprintf\n}}", "{{\"x\" | printf}}"},
	{"spaces around pipe", "{{1|printf \"%d\"|print}}", "{{1 | printf \"%d\" | print}}"},
	/* errors */
	{"unclosed action", "hello{{range", "template: p:1: unclosed action"},
	{"unmatched end", "{{end}}", "template: p:1: unexpected {{end}}"},
	{"unmatched else", "{{else}}", "template: p:1: unexpected {{else}}"},
	{"missing end", "hello{{range .x}}", "template: p:1: unexpected EOF"},
	{"missing end after else", "hello{{range .x}}{{else}}", "template: p:1: unexpected EOF"},
	{"undefined function", "hello{{undefined}}", "template: p:1: function \"undefined\" not defined"},
	{"undefined variable", "{{$x}}", "template: p:1: undefined variable \"$x\""},
	{"variable undefined after end", "{{with $x := 4}}{{end}}{{$x}}", "template: p:1: undefined variable \"$x\""},
	{"variable undefined in template", "{{template $v}}", "template: p:1: unexpected \"$v\" in template clause"},
	{"declare with field", "{{with $x.Y := 4}}{{end}}", "template: p:1: undefined variable \"$x\""},
	{"dot applied to parentheses", "{{printf (printf .).}}", "template: p:1: unexpected <.> in operand"},
	{"adjacent args", "{{printf 3`x`}}", "template: p:1: unexpected \"`x`\" in operand"},
	{"adjacent args with .", "{{printf `x`.}}", "template: p:1: unexpected <.> in operand"},
	{"extra end after if", "{{if .X}}a{{else if .Y}}b{{end}}{{end}}", "template: p:1: unexpected {{end}}"},
	{"too many decls in range", "{{range $u, $v, $w := 3}}{{end}}",
	 "template: p:1: too many declarations in range"},
	{"range with no vars", "{{range $a, $b := 3, 4}}{{end}}", "template: p:1: unexpected \",\" in operand"},
	{"empty pipeline", "{{printf \"%d\" ( ) }}", "template: p:1: missing value for parenthesized pipeline"},
	{"nil in pipeline", "{{.X | nil}}", "template: p:1: non executable command in pipeline stage 2"},
	{"break outside range", "{{range .}}{{end}} {{break}}", "template: p:1: {{break}} outside {{range}}"},
	{"continue outside range", "{{range .}}{{end}} {{continue}}", "template: p:1: {{continue}} outside {{range}}"},
	{"break in range else", "{{range .}}{{else}}{{break}}{{end}}", "template: p:1: {{break}} outside {{range}}"},
	{"multiline error line", "a\nb\n{{if}}", "template: p:3: missing value for if"},
	{"unclosed action over lines", "{{\n\n1\n", "template: p:4: unclosed action started at p:1"},
	{"multiple definition", "{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
	 "template: p:1: template: multiple definition of template \"a\""},
	{"deep nesting is bounded",
	 "{{((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
	 "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1",
	 "template: p:1: max expression depth exceeded"},
};

static void test_parser(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct tmpl_set *set = tmpl_set_new();
		struct sm_error err;
		int rc = tmpl_parse(set, "p", c->input, strlen(c->input), &err);
		if (!strncmp(c->want, "template:", 9)) {
			if (rc == 0)
				fail_msg("parse %s: want error %s", c->name, c->want);
			if (strcmp(err.msg, c->want))
				fail_msg("parse %s: got error \"%s\" want \"%s\"", c->name, err.msg, c->want);
		} else {
			if (rc)
				fail_msg("parse %s: unexpected error %s", c->name, err.msg);
			struct tree *t = tmpl_lookup(set, "p");
			struct sbuf b = {0};
			sb_add(&b, "", 0);
			tmpl_node_string(t->root, &b);
			if (strcmp(b.s, c->want))
				fail_msg("parse %s: got \"%s\" want \"%s\"", c->name, b.s, c->want);
			free(b.s);
		}
		tmpl_set_free(set);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parser),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
