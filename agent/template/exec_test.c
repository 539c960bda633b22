/* exec_test.c — the executor (exec.c) against a table of templates, data and outputs or errors (Go's exec_test.go); missingkey, redefinition across files, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tmpl.h"
#include "tmpl_node.h"

/* ---- executor ---- */

struct exec_case {
	const char *name;
	const char *input;
	const char *data; /* JSON; NULL means the shared fixture below */
	const char *want; /* output, or the error when it starts with "template:" */
};

static const char *fixture = "{\"I\": 17, \"U16\": 16, \"X\": \"x\", \"FloatZero\": 0.0, \"ComplexZero\": 0,"
			     " \"SI\": [3, 4, 5], \"SIEmpty\": [], \"SB\": [true, false], \"AI\": [3, 4, 5],"
			     " \"MSI\": {\"one\": 1, \"two\": 2, \"three\": 3}, \"MSIone\": {\"one\": 1},"
			     " \"MSIEmpty\": {}, \"SMSI\": [{\"one\": 1, \"two\": 2}, {\"eleven\": 11, \"twelve\": 12}],"
			     " \"Empty0\": null, \"Empty1\": 3, \"Empty2\": \"empty2\", \"Empty3\": [7, 8],"
			     " \"Empty4\": {\"UinEmpty\": 21}, \"NonEmptyInterface\": {\"X\": \"x\"},"
			     " \"Str\": \"foozle\", \"Err\": null, \"True\": true, \"Big\": 1234567, \"Pi\": 3.5}";

static const struct exec_case exec_cases[] = {
	/* Go's execTests, adapted to map data */
	{"empty", "", NULL, ""},
	{"text", "some text", NULL, "some text"},
	{"nil action", "{{nil}}", NULL, "template: t:1:2: executing \"t\" at <nil>: nil is not a command"},
	{".X", "-{{.X}}-", NULL, "-x-"},
	{".I", "{{.I}}", NULL, "17"},
	{"big int stays int", "{{.Big}} {{print .Big}} {{printf \"%v\" .Big}}", NULL, "1234567 1234567 1234567"},
	{".SI", "{{.SI}}", NULL, "[3 4 5]"},
	{".MSI", "{{.MSI}}", NULL, "map[one:1 three:3 two:2]"},
	{"empty nil", "{{.Empty0}}", NULL, "<no value>"},
	{"missing", "{{.Missing}}", NULL, "<no value>"},
	{"missing in print", "{{print .Missing}}", NULL, "<nil>"},
	{"$ int", "{{$}}", "123", "123"},
	{"$.I", "{{$.I}}", NULL, "17"},
	{"$.MSI.one", "{{$.MSI.one}}", NULL, "1"},
	{"declare in action", "{{$x := $.U16}}{{$x}}", NULL, "16"},
	{"simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", NULL, "3"},
	{"nested assignment", "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}", NULL, "3"},
	{"nested assignment changes the last declaration", "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
	 NULL, "1"},
	{"if true", "{{if true}}TRUE{{end}}", NULL, "TRUE"},
	{"if false", "{{if false}}TRUE{{else}}FALSE{{end}}", NULL, "FALSE"},
	{"if 1", "{{if 1}}NON-ZERO{{else}}ZERO{{end}}", NULL, "NON-ZERO"},
	{"if 0.0", "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", NULL, "ZERO"},
	{"if emptystring", "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", NULL, "EMPTY"},
	{"if slice", "{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", NULL, "NON-EMPTY"},
	{"if emptyslice", "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", NULL, "EMPTY"},
	{"if map", "{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}", NULL, "NON-EMPTY"},
	{"if map unset", "{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}", NULL, "ZERO"},
	{"if $x with $y int", "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", NULL, "true,17"},
	{"if else if", "{{if false}}FALSE{{else if true}}TRUE{{end}}", NULL, "TRUE"},
	{"if else chain", "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", NULL, "3"},
	{"print", "{{print \"hello, print\"}}", NULL, "hello, print"},
	{"print 123", "{{print 1 2 3}}", NULL, "1 2 3"},
	{"print nil", "{{print nil}}", NULL, "<nil>"},
	{"println", "{{println 1 2 3}}", NULL, "1 2 3\n"},
	{"printf int", "{{printf \"%04x\" 127}}", NULL, "007f"},
	{"printf float", "{{printf \"%g\" 3.5}}", NULL, "3.5"},
	{"printf complex", "{{printf \"%s %d %v\" \"a\" 1 .SI}}", NULL, "a 1 [3 4 5]"},
	{"printf string", "{{printf \"%s\" \"hello\"}}", NULL, "hello"},
	{"printf function", "{{printf \"%#q\" \"x\"}}", NULL, "`x`"},
	{"printf field", "{{printf \"%s\" .X}}", NULL, "x"},
	{"printf dot", "{{with .I}}{{printf \"%d\" .}}{{end}}", NULL, "17"},
	{"printf var", "{{with $x := .I}}{{printf \"%d\" $x}}{{end}}", NULL, "17"},
	{"printf lots", "{{printf \"%d %s %g %s\" 127 \"hello\" 7-3i .X}}", NULL,
	 "template: t:1: illegal number syntax: \"7-3i\""},
	{"html", "{{html \"<script>alert(\\\"XSS\\\");</script>\"}}", NULL,
	 "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"},
	{"js", "{{js .}}", "\"It'd be nice.\"", "It\\'d be nice."},
	{"urlquery", "{{\"http://www.example.org/\"|urlquery}}", NULL, "http%3A%2F%2Fwww.example.org%2F"},
	{"not", "{{not true}} {{not false}}", NULL, "false true"},
	{"and", "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", NULL, "false 0 0 1"},
	{"or", "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", NULL, "0 1 true 1"},
	{"or short-circuit", "{{or 1 (index .SI 99)}}", NULL, "1"},
	{"and short-circuit error", "{{and 1 (index .SI 99)}}", NULL,
	 "template: t:1:9: executing \"t\" at <index .SI 99>: error calling index: index out of range: 99"},
	{"boolean if", "{{if and true 1 `c`}}{{print true 1 `c`}}{{end}}", NULL, "true 1c"},
	{"index", "{{index .SI 1}} {{index .MSI `two`}} {{index .MSI `XXX`}}", NULL, "4 2 <no value>"},
	{"index nested", "{{index .SMSI 1 `eleven`}}", NULL, "11"},
	{"index out of range", "{{index .SI 3}}", NULL,
	 "template: t:1:2: executing \"t\" at <index .SI 3>: error calling index: reflect: slice index out of range"},
	{"slice", "{{slice .SI 1 2}} {{slice .SI 1}} {{slice .SI}} {{slice .Str 1 3}}", NULL, "[4] [4 5] [3 4 5] oo"},
	{"len", "{{len .SI}} {{len .MSI}} {{len .Str}}", NULL, "3 3 6"},
	{"len of int", "{{len 3}}", NULL, "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int"},
	{"range", "{{range .SI}}-{{.}}-{{end}}", NULL, "-3--4--5-"},
	{"range empty else", "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", NULL, "EMPTY"},
	{"range map", "{{range .MSI}}-{{.}}-{{end}}", NULL, "-1--3--2-"},
	{"range map keys", "{{range $k, $v := .MSI}}{{$k}}={{$v}} {{end}}", NULL, "one=1 three=3 two=2 "},
	{"range $x SI", "{{range $x := .SI}}<{{$x}}>{{end}}", NULL, "<3><4><5>"},
	{"range $x $y SI", "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", NULL, "<0=3><1=4><2=5>"},
	{"range nil", "{{range .Empty0}}-{{.}}-{{end}}", NULL, ""},
	{"range quick break", "{{range .SI}}{{break}}{{.}}{{end}}", NULL, ""},
	{"range break after two", "{{range $i, $x := .SI}}{{if ge $i 2}}{{break}}{{end}}{{.}}{{end}}", NULL, "34"},
	{"range continue", "{{range .SI}}{{if eq . 4}}{{continue}}{{end}}{{.}}{{end}}", NULL, "35"},
	{"range over int (current Go)", "{{range 3}}{{.}}{{end}}", NULL, "012"},
	{"range string error", "{{range .Str}}x{{end}}", NULL,
	 "template: t:1:8: executing \"t\" at <.Str>: range can't iterate over foozle"},
	{"with", "{{with .Str}}{{.}}{{end}}", NULL, "foozle"},
	{"with else", "{{with .SIEmpty}}x{{else}}empty{{end}}", NULL, "empty"},
	{"with else with (current Go)", "{{with .Missing}}a{{else with .X}}b{{.}}{{end}}", NULL, "bx"},
	{"with $x int", "{{with $x := .I}}{{$x}}{{end}}", NULL, "17"},
	{"eq", "{{eq .I 17}} {{eq .X \"x\"}} {{eq 1 2 3 1}} {{eq .Missing nil}}", NULL, "true true true true"},
	{"eq incompatible", "{{eq 1 \"1\"}}", NULL,
	 "template: t:1:2: executing \"t\" at <eq 1 \"1\">: error calling eq: incompatible types for comparison"},
	{"lt", "{{lt 1 2}} {{lt \"b\" \"a\"}} {{le 2 2}} {{gt 3.5 1.5}} {{ge 1 2}}", NULL, "true false true true false"},
	{"lt bool", "{{lt true false}}", NULL,
	 "template: t:1:2: executing \"t\" at <lt true false>: error calling lt: invalid type for comparison"},
	{"template", "{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" .I}}", NULL, "[17]"},
	{"template own $", "{{define \"x\"}}{{$}}{{end}}{{template \"x\" 5}}", NULL, "5"},
	{"template undefined", "{{template \"nope\"}}", NULL,
	 "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"},
	{"block", "{{block \"b\" .X}}<{{.}}>{{end}}", NULL, "<x>"},
	{"recursive template bounded", "{{define \"r\"}}{{template \"r\"}}{{end}}{{template \"r\"}}", NULL,
	 "template: t:1:25: executing \"r\" at <{{template \"r\"}}>: exceeded maximum template depth (1000)"},
	{"field chain error", "{{.X.Y}}", NULL,
	 "template: t:1:4: executing \"t\" at <.X.Y>: can't evaluate field Y in type interface {}"},
	{"nil pointer", "{{.Empty0.Y}}", NULL,
	 "template: t:1:9: executing \"t\" at <.Empty0.Y>: nil pointer evaluating interface {}.Y"},
	{"wrong type", "{{printf .I}}", NULL,
	 "template: t:1:9: executing \"t\" at <.I>: wrong type for value; expected string; got int"},
	{"wrong arg count", "{{len 1 2}}", NULL, "template: t:1:2: executing \"t\" at <len>: wrong number of args for len: want 1 got 2"},
	{"error line and column", "a\nbc {{.X}} {{len 3}}", NULL,
	 "template: t:2:12: executing \"t\" at <len 3>: error calling len: len of type int"},
	{"integers", "{{0x1F}} {{0o17}} {{0b11}} {{1_000}} {{'a'}} {{-5}}", NULL, "31 15 3 1000 97 -5"},
	{"floats", "{{1.5}} {{1e3}} {{1e6}} {{1234567.0}} {{0.0001}} {{1e-5}}", NULL, "1.5 1000 1e+06 1.234567e+06 0.0001 1e-05"},
	{"float data", "{{.Pi}} {{.FloatZero}}", NULL, "3.5 0"},
	{"trim markers", "a  {{- 1 -}}  b {{- /* c */ -}} c", NULL, "a1bc"},
	{"$ in range", "{{range .SI}}{{$.I}}{{end}}", NULL, "171717"},
	{"variable scope", "{{with $x := 1}}{{end}}{{$y := 2}}{{$y}}", NULL, "2"},
};

static void test_exec(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof exec_cases / sizeof exec_cases[0]; i++) {
		const struct exec_case *c = &exec_cases[i];
		json_error_t je;
		json_t *data = json_loads(c->data ? c->data : fixture, JSON_DECODE_ANY, &je);
		if (!data)
			fail_msg("exec %s: bad data: %s", c->name, je.text);
		struct tmpl_set *set = tmpl_set_new();
		struct sm_error err;
		char *out = NULL;
		size_t len = 0;
		int rc = tmpl_parse(set, "t", c->input, strlen(c->input), &err);
		if (rc == 0)
			rc = tmpl_execute(set, "t", data, &out, &len, &err);
		if (!strncmp(c->want, "template:", 9)) {
			if (rc == 0)
				fail_msg("exec %s: got \"%s\", want error %s", c->name, out, c->want);
			if (strcmp(err.msg, c->want))
				fail_msg("exec %s: got error\n  %s\nwant\n  %s", c->name, err.msg, c->want);
		} else {
			if (rc)
				fail_msg("exec %s: unexpected error %s", c->name, err.msg);
			if (strcmp(out, c->want) || len != strlen(c->want))
				fail_msg("exec %s: got \"%s\" want \"%s\"", c->name, out, c->want);
		}
		free(out);
		json_decref(data);
		tmpl_set_free(set);
	}
}

static void test_missingkey_error(void **state)
{
	(void)state;
	struct tmpl_set *set = tmpl_set_new();
	tmpl_set_missingkey_error(set, 1);
	struct sm_error err;
	assert_int_equal(tmpl_parse(set, "m", "{{.a.b}}", 8, &err), 0);
	json_t *data = json_pack("{s:{}}", "a");
	char *out;
	size_t len;
	assert_int_equal(tmpl_execute(set, "m", data, &out, &len, &err), -1);
	assert_string_equal(err.msg, "template: m:1:4: executing \"m\" at <.a.b>: map has no entry for key \"b\"");
	assert_string_equal(err.file, "m");
	assert_int_equal(err.line, 1);
	assert_int_equal(err.col, 5);
	assert_true(tmpl_has(set, "m"));
	assert_false(tmpl_has(set, "n"));
	json_decref(data);
	tmpl_set_free(set);
}

static void test_redefinition_across_files(void **state)
{
	(void)state;
	struct tmpl_set *set = tmpl_set_new();
	struct sm_error err;
	const char *a = "{{define \"x\"}}one{{end}}", *b = "{{define \"x\"}}two{{end}}", *m = "{{template \"x\"}}";
	assert_int_equal(tmpl_parse(set, "a", a, strlen(a), &err), 0);
	assert_int_equal(tmpl_parse(set, "b", b, strlen(b), &err), 0);
	assert_int_equal(tmpl_parse(set, "m", m, strlen(m), &err), 0);
	char *out;
	size_t len;
	json_t *data = json_object();
	assert_int_equal(tmpl_execute(set, "m", data, &out, &len, &err), 0);
	assert_string_equal(out, "two");
	free(out);
	assert_int_equal(tmpl_execute(set, "zz", data, &out, &len, &err), -1);
	assert_string_equal(err.msg, "template: no template \"zz\" associated with template \"zz\"");
	json_decref(data);
	tmpl_set_free(set);
}

static void test_limits(void **state)
{
	(void)state;
	struct tmpl_set *set = tmpl_set_new();
	tmpl_set_limits(set, 0, 1000);
	struct sm_error err;
	const char *loop = "{{range 100000000}}{{end}}", *big = "{{range 1000}}0123456789{{end}}";
	assert_int_equal(tmpl_parse(set, "loop", loop, strlen(loop), &err), 0);
	assert_int_equal(tmpl_parse(set, "big", big, strlen(big), &err), 0);
	json_t *data = json_object();
	char *out;
	size_t len;
	assert_int_equal(tmpl_execute(set, "loop", data, &out, &len, &err), -1);
	assert_non_null(strstr(err.msg, "execution budget of 1000 steps exceeded"));
	tmpl_set_limits(set, 100, 0);
	assert_int_equal(tmpl_execute(set, "big", data, &out, &len, &err), -1);
	assert_non_null(strstr(err.msg, "output exceeds 100 bytes"));
	tmpl_set_limits(set, 0, 0);
	assert_int_equal(tmpl_execute(set, "big", data, &out, &len, &err), 0);
	assert_int_equal(len, 10000);
	free(out);
	json_decref(data);
	tmpl_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_missingkey_error),
		cmocka_unit_test(test_redefinition_across_files),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
