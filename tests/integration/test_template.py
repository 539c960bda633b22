"""test_template.py — differential tests: `appdeploy template` against Go's own text/template
(tests/template/gotmpl/gotmpl.go), byte for byte on output and error text; plus command behaviour."""
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import require  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SOURCEMODE_BUILD", os.path.join(ROOT, "build"))
APPDEPLOY = os.path.join(BUILD, "appdeploy")
ORACLE_SRC = os.path.join(ROOT, "tests", "template", "gotmpl", "gotmpl.go")
GO = shutil.which("go")

DATA = {
    "name": "world",
    "n": 3,
    "empty": "",
    "zero": 0,
    "one": 1,
    "neg": -7,
    "big": 1234567,
    "huge": 9007199254740993,
    "pi": 3.14159,
    "half": 0.5,
    "fl": 1.0,
    "tiny": 0.000012,
    "large": 12345678.9,
    "t": True,
    "f": False,
    "nul": None,
    "list": ["a", "b", "c"],
    "nums": [3, 1, 2],
    "mixed": [1, "two", 3.5, True, None, {"k": "v"}, [1, 2]],
    "emptylist": [],
    "emptymap": {},
    "m": {"b": 2, "a": 1, "c": {"d": "deep"}},
    "nested": {"x": {"y": {"z": "found"}}},
    "html": "<a href=\"x\">'q' & \"d\"</a>",
    "uni": "héllo wörld ☃",
    "multi": "line1\nline2\n",
    "users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 25}],
    "namespace": "from-vars",
    "s5": "5",
    "quote": "it's \"quoted\"",
    "tab": "a\tb",
}

# (name, template, options) — options: data (dict, default DATA), files ({name: text} parsed first),
# args (extra command-line flags).
CASES = [
    # text, actions, trimming, comments
    ("text", "plain text\n", {}),
    ("empty", "", {}),
    ("field", "{{.Variables.name}}", {}),
    ("nested_field", "{{.Variables.nested.x.y.z}}", {}),
    ("dot_root_ns", "{{.Namespace}}", {}),
    ("ns_flag", "{{.Namespace}}", {"args": ["-n", "prod"]}),
    ("trim_left", "a  \n {{- .Variables.name}}", {}),
    ("trim_right", "{{.Variables.name -}}  \n  b", {}),
    ("trim_both", "x \n{{- 3 -}}\n y", {}),
    ("trim_comment", "a  {{- /* c */ -}}  b", {}),
    ("comment", "a{{/* a comment */}}b", {}),
    ("comment_multiline", "a{{/* line1\nline2 */}}b", {}),
    ("newline_in_action", "{{ printf \"%d\"\n 5 }}", {}),
    ("minus_number_not_trim", "{{-3}}", {}),
    ("trim_number", "{{- 3 }}", {}),
    # literals
    ("string", "{{\"hello\\tworld\\n\"}}", {}),
    ("raw_string", "{{`raw\\n`}}", {}),
    ("char", "{{'a'}} {{'\\n'}} {{'☃'}}", {}),
    ("ints", "{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-5}} {{+5}}", {}),
    ("floats", "{{1.5}} {{1e3}} {{.5}} {{1.0}} {{-2.5e-3}} {{0x1p4}}", {}),
    ("big_float", "{{1e21}} {{123456789.0}} {{0.0001}} {{0.00001}}", {}),
    ("bools", "{{true}} {{false}}", {}),
    ("nil_cmd", "{{nil}}", {}),
    ("print_nil", "{{print nil}}", {}),
    # values printing
    ("print_map", "{{.Variables.m}}", {}),
    ("print_list", "{{.Variables.mixed}}", {}),
    ("print_empty", "{{.Variables.emptylist}} {{.Variables.emptymap}}", {}),
    ("print_null", "{{.Variables.nul}}", {}),
    ("missing", "{{.Variables.nope}}", {}),
    ("missing_chain", "{{.Variables.nope.deeper}}", {}),
    ("null_chain", "{{.Variables.nul.x}}", {}),
    ("int_no_float", "{{.Variables.big}} {{.Variables.huge}}", {}),
    ("floats_data", "{{.Variables.pi}} {{.Variables.fl}} {{.Variables.tiny}} {{.Variables.large}}", {}),
    ("field_on_string", "{{.Variables.name.x}}", {}),
    ("field_on_list", "{{.Variables.list.x}}", {}),
    ("print_root_vars", "{{.Variables.users}}", {}),
    # variables
    ("var_decl", "{{$x := 5}}{{$x}}", {}),
    ("var_assign", "{{$x := 1}}{{$x = 2}}{{$x}}", {}),
    ("var_dollar", "{{with .Variables.m}}{{$.Namespace}}{{end}}", {}),
    ("var_field", "{{$m := .Variables.m}}{{$m.c.d}}", {}),
    ("var_scope_if", "{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", {}),
    ("var_assign_in_if", "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", {}),
    ("var_undefined", "{{$y}}", {}),
    ("var_scope_range", "{{range .Variables.list}}{{$x := .}}{{end}}{{$x}}", {}),
    ("var_in_range_assign", "{{$s := \"\"}}{{range .Variables.list}}{{$s = print $s .}}{{end}}{{$s}}", {}),
    ("var_dollar_alone", "{{$}}", {"data": {"a": 1}}),
    # pipelines
    ("pipe", "{{.Variables.name | printf \"%s!\"}}", {}),
    ("pipe_chain", "{{1 | printf \"%d-%d\" 2 | printf \"[%s]\"}}", {}),
    ("paren", "{{printf \"%d\" (len .Variables.list)}}", {}),
    ("paren_field", "{{(.Variables.m).c.d}}", {}),
    ("paren_index_field", "{{(index .Variables.users 1).name}}", {}),
    ("pipe_decl", "{{$n := .Variables.list | len}}{{$n}}", {}),
    ("nonexec_stage", "{{1 | 2}}", {}),
    ("pipe_to_field", "{{.Variables.name | .Variables.m}}", {}),
    # if / else
    ("if_true", "{{if .Variables.t}}yes{{end}}", {}),
    ("if_false_else", "{{if .Variables.f}}yes{{else}}no{{end}}", {}),
    ("else_if", "{{if .Variables.f}}a{{else if .Variables.zero}}b{{else if .Variables.one}}c{{else}}d{{end}}", {}),
    ("truth_values", "{{range $k, $v := .Variables}}{{if $v}}{{$k}} {{end}}{{end}}", {}),
    ("if_missing", "{{if .Variables.nope}}y{{else}}n{{end}}", {}),
    ("if_emptylist", "{{if .Variables.emptylist}}y{{else}}n{{end}}", {}),
    ("if_decl", "{{if $x := .Variables.name}}{{$x}}{{end}}", {}),
    # with
    ("with", "{{with .Variables.m}}{{.a}}{{end}}", {}),
    ("with_else", "{{with .Variables.empty}}x{{else}}empty{{end}}", {}),
    ("with_missing", "{{with .Variables.nope}}x{{else}}none {{.Namespace}}{{end}}", {}),
    ("with_decl", "{{with $v := .Variables.nested.x}}{{$v.y.z}}{{end}}", {}),
    # range
    ("range_list", "{{range .Variables.list}}[{{.}}]{{end}}", {}),
    ("range_idx", "{{range $i, $e := .Variables.list}}{{$i}}={{$e}} {{end}}", {}),
    ("range_map", "{{range $k, $v := .Variables.m}}{{$k}}:{{$v}} {{end}}", {}),
    ("range_map_single", "{{range $v := .Variables.m}}{{$v}};{{end}}", {}),
    ("range_else", "{{range .Variables.emptylist}}x{{else}}empty{{end}}", {}),
    ("range_missing_else", "{{range .Variables.nope}}x{{else}}none{{end}}", {}),
    ("range_null", "{{range .Variables.nul}}x{{else}}nil{{end}}", {}),
    ("range_string", "{{range .Variables.name}}x{{end}}", {}),
    ("range_int_literal_field", "{{range .Variables.one}}x{{end}}", {"skip": "range over int is Go 1.22+ (followed here)"}),
    ("range_break", "{{range .Variables.nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}}", {}),
    ("range_continue", "{{range .Variables.nums}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", {}),
    ("break_outside", "{{break}}", {}),
    ("continue_outside", "{{if true}}{{continue}}{{end}}", {}),
    ("range_nested", "{{range .Variables.users}}{{.name}}:{{range $.Variables.list}}{{.}}{{end}};{{end}}", {}),
    ("range_dollar", "{{range .Variables.list}}{{$.Namespace}}{{end}}", {}),
    ("range_users", "{{range .Variables.users}}{{.name}} is {{.age}}\n{{end}}", {}),
    ("range_too_many", "{{range $a, $b, $c := .Variables.list}}{{end}}", {}),
    ("range_mixed", "{{range .Variables.mixed}}<{{.}}>{{end}}", {}),
    # define / template / block
    ("define_template", "{{define \"t\"}}T({{.}}){{end}}{{template \"t\" 5}}", {}),
    ("template_no_pipe", "{{define \"t\"}}[{{.}}]{{end}}{{template \"t\"}}", {}),
    ("template_dollar", "{{define \"t\"}}{{$}}{{end}}{{template \"t\" \"dot\"}}", {}),
    ("template_undefined", "{{template \"nope\"}}", {}),
    ("block", "{{block \"b\" .Variables.name}}default {{.}}{{end}}", {}),
    ("block_override", "{{block \"b2\" .}}default{{end}}", {"files": {"_over.tmpl": "{{define \"b2\"}}override{{end}}"}}),
    ("template_recursive", "{{define \"r\"}}{{if .}}{{len .}}{{template \"r\" (slice . 1)}}{{end}}{{end}}{{template \"r\" .Variables.list}}", {}),
    ("helper_file", "{{template \"h\" .Variables.name}}", {"files": {"_helpers.tmpl": "{{define \"h\"}}<{{.}}>{{end}}"}}),
    ("define_dup", "{{define \"d\"}}a{{end}}{{define \"d\"}}b{{end}}", {}),
    ("define_in_template_err", "{{define \"e\"}}{{.x.y}}{{end}}{{template \"e\" .Variables}}", {"data": {"x": "str"}}),
    ("template_vars_isolated", "{{$x := 1}}{{define \"v\"}}{{$x}}{{end}}", {}),
    # builtins
    ("and_or", "{{and 1 0 2}} {{or 0 \"\" 3}} {{and 1 2}} {{or 0 false}}", {}),
    ("and_short", "{{and false (index .Variables.list 10)}}", {}),
    ("or_short", "{{or true (index .Variables.list 10)}}", {}),
    ("not", "{{not 0}} {{not .Variables.name}} {{not .Variables.nope}}", {}),
    ("len", "{{len .Variables.name}} {{len .Variables.list}} {{len .Variables.m}} {{len .Variables.uni}}", {}),
    ("len_int", "{{len 3}}", {}),
    ("len_nil", "{{len .Variables.nul}}", {}),
    ("index_list", "{{index .Variables.list 1}}", {}),
    ("index_map", "{{index .Variables.m \"a\"}} {{index .Variables.m \"zz\"}}", {}),
    ("index_multi", "{{index .Variables.users 0 \"name\"}}", {}),
    ("index_out_of_range", "{{index .Variables.list 5}}", {}),
    ("index_string", "{{index .Variables.name 0}}", {}),
    ("index_bad_type", "{{index .Variables.list \"x\"}}", {}),
    ("index_map_int", "{{index .Variables.m 1}}", {}),
    ("index_nil", "{{index nil 1}}", {}),
    ("index_no_idx", "{{index .Variables.list}}", {}),
    ("index_int", "{{index 5 1}}", {}),
    ("slice_list", "{{slice .Variables.list 1}} {{slice .Variables.list 1 2}} {{slice .Variables.list}}", {}),
    ("slice_string", "{{slice .Variables.name 1 3}}", {}),
    ("slice_bad", "{{slice .Variables.list 2 1}}", {}),
    ("slice_3_string", "{{slice .Variables.name 1 2 3}}", {}),
    ("print", "{{print 1 2 \"a\" \"b\" 3 true nil}}", {}),
    ("println", "{{println 1 \"a\" 2}}", {}),
    ("print_values", "{{print .Variables.m .Variables.list .Variables.nope}}", {}),
    ("html", "{{html .Variables.html}}", {}),
    ("html_multi", "{{html 1 \"<\" 2}}", {}),
    ("js", "{{js .Variables.html}} {{js \"a=b\\n\"}}", {}),
    ("urlquery", "{{urlquery \"a b&c=d/é\"}}", {}),
    ("js_unicode", "{{js \"a\u00a0b\u2028c\u00e9\u3000\ufeff☃\"}}", {}),
    ("eq", "{{eq 1 1}} {{eq 1 2}} {{eq \"a\" \"a\"}} {{eq 1 2 3 1}} {{eq .Variables.one 1}}", {}),
    ("eq_incompatible", "{{eq 1 \"1\"}}", {}),
    ("eq_int_float", "{{eq 1 1.0}}", {}),
    ("eq_missing", "{{eq .Variables.nope \"x\"}} {{eq .Variables.nul nil}}", {}),
    ("eq_map", "{{eq .Variables.m .Variables.m}}", {}),
    ("eq_list_map", "{{eq .Variables.list .Variables.m}}", {}),
    ("eq_bool", "{{eq true true}} {{eq .Variables.t false}}", {}),
    ("eq_one_arg", "{{eq 1}}", {}),
    ("ne", "{{ne 1 2}} {{ne \"a\" \"a\"}}", {}),
    ("lt_le_gt_ge", "{{lt 1 2}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}} {{lt \"a\" \"b\"}} {{lt 1.5 2.5}}", {}),
    ("lt_bool", "{{lt true false}}", {}),
    ("lt_mixed", "{{lt 1 1.5}}", {}),
    ("lt_missing", "{{lt .Variables.nope 1}}", {}),
    ("lt_map", "{{lt .Variables.m 1}}", {}),
    # function call errors
    ("undefined_function", "{{nofunc 1}}", {}),
    ("wrong_args", "{{len 1 2}}", {}),
    ("wrong_args_variadic", "{{printf}}", {}),
    ("printf_nonstring", "{{printf 1}}", {}),
    ("printf_pipe_nonstring", "{{1 | printf}}", {}),
    ("printf_field_nonstring", "{{printf .Variables.one}}", {}),
    ("printf_missing_fmt", "{{printf .Variables.nope}}", {}),
    ("printf_null_fmt", "{{printf .Variables.nul}}", {}),
    ("arg_to_nonfunction", "{{.Variables.name 1}}", {}),
    ("arg_to_var", "{{$x := 1}}{{$x 2}}", {}),
    ("arg_to_literal", "{{1 2}}", {}),
    ("nil_arg_to_string", "{{printf nil}}", {}),
    ("dot_field_on_int", "{{with 5}}{{.x}}{{end}}", {}),
    ("explicit_nil_chain", "{{(nil).x}}", {}),
    # missingkey=error
    ("missingkey_error", "{{.Variables.nope}}", {"args": ["--missingkey=error"]}),
    ("missingkey_error_nested", "{{.Variables.m.zz}}", {"args": ["--missingkey=error"]}),
    ("missingkey_error_present", "{{.Variables.m.a}}", {"args": ["--missingkey=error"]}),
    # parse errors
    ("unclosed_action", "{{.Variables.name", {}),
    ("unclosed_action_multiline", "a\n{{if true\n\n", {}),
    ("unexpected_end", "{{end}}", {}),
    ("unexpected_else", "{{else}}", {}),
    ("missing_end", "{{if true}}x", {}),
    ("missing_end_range", "line1\n{{range .}}\nx\n", {}),
    ("bad_char", "{{.Variables.na#me}}", {}),
    ("unterminated_string", "{{\"abc}}", {}),
    ("unterminated_raw", "{{`abc}}", {}),
    ("unterminated_char", "{{'a}}", {}),
    ("bad_number", "{{3k}}", {}),
    ("bad_number2", "{{0x}}", {}),
    ("empty_action", "{{}}", {}),
    ("empty_pipe_after", "{{1 |}}", {}),
    ("unclosed_paren", "{{(1}}", {}),
    ("extra_paren", "{{1)}}", {}),
    ("unclosed_comment", "{{/* abc }}", {}),
    ("comment_no_delim", "{{/* abc */ x}}", {}),
    ("expected_colon_eq", "{{$x : 1}}", {}),
    ("if_no_pipe", "{{if}}x{{end}}", {}),
    ("range_no_pipe", "{{range}}x{{end}}", {}),
    ("else_extra", "{{if 1}}a{{else}}b{{else}}c{{end}}", {}),
    ("define_no_name", "{{define}}x{{end}}", {}),
    ("define_bad_name", "{{define x}}x{{end}}", {}),
    ("template_bad_name", "{{template x}}", {}),
    ("dot_after_literal", "{{\"a\".b}}", {}),
    ("string_bad_escape", "{{\"\\q\"}}", {}),
    ("unexpected_in_operand", "{{.Variables.name=1}}", {}),
    ("bad_declare", "{{1 := 2}}", {}),
    ("error_line_numbers", "line1\nline2\n{{.Variables.name}}\n{{len 3}}", {}),
    ("error_col", "abc {{ .Variables.nope | printf \"%d\" | len }}", {}),
    ("parse_error_line3", "a\nb\n{{ if }}", {}),
    ("number_overflow", "{{99999999999999999999}}", {}),
    ("uint_overflow", "{{18446744073709551615}}", {}),
    ("hex_big", "{{0xFFFFFFFFFFFFFFFF}}", {}),
    ("char_escape", "{{'\\x41'}} {{'\\u00e9'}}", {}),
    ("string_escapes", "{{\"\\x41\\u00e9\\101\\\\\\\"\"}}", {}),
    ("field_after_paren_pipe", "{{(.Variables.users | len)}}", {}),
    ("chain_on_var", "{{$u := .Variables.users}}{{(index $u 0).name}}", {}),
    ("var_field_chain", "{{$n := .Variables.nested}}{{$n.x.y.z}}", {}),
    ("deep_else_chain", "{{if false}}1{{else if false}}2{{else if true}}3{{end}}", {}),
    ("whitespace_only_define", "{{define \"w\"}}  {{end}}{{template \"w\"}}|", {}),
    ("long_text", "x" * 5000 + "{{.Variables.name}}", {}),
    ("unicode_text", "ünï {{.Variables.uni}} ☃", {}),
    ("tab_string", "{{.Variables.tab}}", {}),
    ("multiline_value", "{{.Variables.multi}}", {}),
    ("keyword_as_field", "{{.Variables.m.if}}", {"data": {"m": {"if": "kw"}}}),
    ("assign_undefined", "{{$z = 1}}", {}),
    ("pipe_into_paren", "{{\"x\" | (printf \"%s\")}}", {}),
]

# printf verbs against values of every kind
PRINTF_VERBS = ["%v", "%d", "%s", "%q", "%x", "%X", "%f", "%.2f", "%e", "%g", "%t", "%c", "%5d", "%-5d|",
                "%05d", "%+d", "%8.3f", "%-8s|", "%8s", "%.3s", "%x", "%o", "%b", "%U", "%T", "%#x", "% d",
                "%6.2e", "%G", "%E", "%%", "%!", "%z"]
PRINTF_VALUES = ["42", "-42", "3.5", "\"hi\"", "true", ".Variables.list", ".Variables.m", "nil", "0", "1e6",
                 ".Variables.big", ".Variables.large", ".Variables.uni", "'x'"]
for i, (verb, value) in enumerate(itertools.product(PRINTF_VERBS, PRINTF_VALUES)):
    CASES.append(("printf_%d" % i, '{{printf "%s" %s}}' % (verb, value), {}))
CASES += [
    ("printf_missing_arg", "{{printf \"%d %d\" 1}}", {}),
    ("printf_extra_arg", "{{printf \"%d\" 1 2 \"x\"}}", {}),
    ("printf_star", "{{printf \"%*d|%-*d|%.*f\" 5 1 4 2 2 3.14159}}", {}),
    ("printf_noverb", "{{printf \"abc%\"}}", {}),
    ("printf_list_verbs", "{{printf \"%d %q %x\" .Variables.nums .Variables.list .Variables.list}}", {}),
    ("printf_float_edge", "{{printf \"%v %v %v %v\" 100000.0 1000000.0 0.0001 0.00001}}", {}),
    ("printf_g_prec", "{{printf \"%.3g %.10g %g\" 1234.5678 1.5 1e-7}}", {}),
]

# comparisons across kinds
CMP_VALUES = ["1", "2", "1.5", "\"a\"", "\"b\"", "true", ".Variables.nope", ".Variables.list"]
for i, (fn, a, b) in enumerate(itertools.product(["eq", "ne", "lt", "ge"], CMP_VALUES[:6], CMP_VALUES)):
    if i % 3 == 0:  # a third of the matrix keeps the suite fast while touching every pair of kinds
        CASES.append(("cmp_%d" % i, "{{%s %s %s}}" % (fn, a, b), {}))


def generated_cases(count, seed=20240501):
    """Random templates from the grammar's pieces (fields, literals, builtins, control structures):
    deterministic, so a failure names a reproducible case."""
    import random
    rnd = random.Random(seed)
    operands = [".Variables.name", ".Variables.n", ".Variables.list", ".Variables.m", ".Variables.m.a",
                ".Variables.nope", ".Variables.nul", ".Variables.pi", ".Variables.t", ".Variables.emptylist",
                ".Variables.users", "$", ".", "1", "0", "-3", "2.5", "\"s\"", "\"\"", "true", "false", "nil",
                "'c'", "$.Namespace", ".Variables.mixed", ".Variables.big", "(index .Variables.list 0)",
                "(len .Variables.list)"]
    funcs = [("len", 1), ("index", 2), ("index", 1), ("slice", 2), ("print", 2), ("println", 1),
             ("printf", 2), ("eq", 2), ("ne", 2), ("lt", 2), ("le", 2), ("gt", 2), ("ge", 2), ("and", 2),
             ("or", 3), ("not", 1), ("html", 1), ("js", 1), ("urlquery", 2)]

    def operand():
        return rnd.choice(operands)

    def command():
        if rnd.random() < 0.3:
            return operand()
        name, n = rnd.choice(funcs)
        args = [operand() for _ in range(n)]
        if name == "printf":
            args[0] = rnd.choice(["\"%v\"", "\"%d\"", "\"%s|%v\"", "\"%q\"", "\"%5.1f\"", "\"%x\""])
        return " ".join([name] + args)

    def pipeline():
        cmds = [command()]
        if rnd.random() < 0.3:
            cmds.append(rnd.choice(["print", "len", "printf \"%v\"", "not", "html", "urlquery", "eq 1"]))
        return " | ".join(cmds)

    def body(depth):
        parts = []
        for _ in range(rnd.randint(1, 3)):
            r = rnd.random()
            if depth < 2 and r < 0.15:
                parts.append("{{if %s}}%s{{else}}%s{{end}}" % (pipeline(), body(depth + 1), body(depth + 1)))
            elif depth < 2 and r < 0.3:
                # range over an int follows current Go (1.22+), which the 1.19 oracle refuses: not generated
                over = rnd.choice([".Variables.list", ".Variables.m", ".Variables.nope", ".Variables.users",
                                   ".Variables.emptylist", ".Variables.mixed", ".Variables.name", "$.Variables.nums"])
                parts.append("{{range $i, $v := %s}}[{{$i}}:%s]{{end}}" % (over, body(depth + 1)))
            elif depth < 2 and r < 0.4:
                parts.append("{{with %s}}<%s>{{end}}" % (operand(), body(depth + 1)))
            elif r < 0.5:
                parts.append("{{$x := %s}}{{$x}}" % pipeline())
            else:
                parts.append("{{%s}} " % pipeline())
        return "".join(parts)

    return [("gen_%d" % i, body(0), {}) for i in range(count)]


CASES += generated_cases(300)


def generated_layout_cases(count, seed=777):
    """Random text/action layouts: trim markers, comments, newlines inside actions, defines and
    template calls, variables, parenthesised pipelines and field chains, including broken ones."""
    import random
    rnd = random.Random(seed)
    texts = ["", " ", "\n", "  \n\t", "a", "x y", "\n\n b \n", "é", "{", "}", "-", "{ {"]
    actions = ["{{%s.Variables.name%s}}", "{{%s/* c */%s}}", "{{%s$x := 1%s}}{{$x}}", "{{%s.Variables.m.c.d%s}}",
               "{{%s(index .Variables.users 0).name%s}}", "{{%s printf \"%%v\" (len .Variables.list) %s}}",
               "{{%s\n.Variables.n\n%s}}", "{{%sif .Variables.t%s}}T{{end}}", "{{%srange .Variables.nums%s}}{{.}}{{end}}",
               "{{%swith .Variables.nested.x%s}}{{.y.z}}{{end}}", "{{%stemplate \"d\" .Variables.n%s}}",
               "{{%s$.Variables.list%s}}", "{{%s.Variables.nope.x%s}}", "{{%s.Variables.name | len%s}}",
               "{{%s\"s\" | printf \"%%s-%%s\" \"t\"%s}}", "{{%send%s}}", "{{%s(.Variables.m).a%s}}",
               "{{%s.Variables.users | len | print%s}}", "{{%s$u := .Variables.users%s}}{{range $u}}{{.name}}{{end}}"]
    marks = [("", ""), ("- ", ""), ("", " -"), ("- ", " -"), ("-", ""), (" ", " ")]
    out = []
    for i in range(count):
        parts = ['{{define "d"}}<{{.}}>{{end}}'] if rnd.random() < 0.5 else []
        for _ in range(rnd.randint(1, 5)):
            parts.append(rnd.choice(texts))
            left, right = rnd.choice(marks)
            parts.append(rnd.choice(actions) % (left, right))
        parts.append(rnd.choice(texts))
        out.append(("layout_%d" % i, "".join(parts), {}))
    return out


CASES += generated_layout_cases(200)


def build_oracle(dest):
    env = dict(os.environ, GO111MODULE="off", GOFLAGS="-mod=mod",
               GOCACHE=os.path.join(os.path.dirname(dest), "gocache"))
    env.setdefault("HOME", os.path.dirname(dest))
    subprocess.run([GO, "build", "-o", dest, ORACLE_SRC], check=True, env=env, capture_output=True)


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class DifferentialTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require("go", "the differential oracle (Go's text/template) is built with golang-go")
        cls.tmp = tempfile.mkdtemp(prefix="tmpldiff")
        cls.oracle = os.path.join(BUILD, "gotmpl")
        if not os.path.exists(cls.oracle) or os.path.getmtime(cls.oracle) < os.path.getmtime(ORACLE_SRC):
            build_oracle(cls.oracle)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, name, text, opts):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        data_path = os.path.join(d, "data.json")
        with open(data_path, "w") as f:
            json.dump(opts.get("data", DATA), f)
        files = []
        for fname, ftext in opts.get("files", {}).items():
            p = os.path.join(d, fname)
            with open(p, "w") as f:
                f.write(ftext)
            files.append(p)
        main = os.path.join(d, name + ".tmpl")
        with open(main, "w") as f:
            f.write(text)
        files.append(main)
        args = list(opts.get("args", []))
        go_args = []
        i = 0
        while i < len(args):
            if args[i] == "-n":
                go_args += ["-n", args[i + 1]]
                i += 2
            elif args[i] == "--missingkey=error":
                go_args += ["-missingkey", "error"]
                i += 1
            else:
                i += 1
        want = run([self.oracle, "-data", data_path] + go_args + files, d)
        got = run([APPDEPLOY, "template", "-f", data_path] + args + files, d)
        self.assertEqual(got, want, "case %s: template %r" % (name, text[:200]))

    def test_cases(self):
        self.assertGreaterEqual(len(CASES), 150)
        for name, text, opts in CASES:
            if opts.get("skip"):
                continue
            with self.subTest(case=name):
                self.check(name, text, opts)


class CommandTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tmplcmd")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_vars_and_flags(self):
        v = self.write("vars.yaml", "replicas: 3\nimage:\n  tag: v1\nnamespace: team\n")
        t = self.write("t.yaml", "{{.Variables.replicas}} {{.Variables.image.tag}} {{.Variables.debug}} "
                       "{{.Namespace}} {{.Variables.a.b}} {{.ImagePullSecrets}} {{.Variables.big}}\n")
        rc, out, err = run([APPDEPLOY, "template", t, "-f", v, "-v", "image.tag=v2", "-v", "debug:true",
                            "-v", "a.b=x", "-i", "regcred", "-v", "big=1234567"], self.tmp)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"3 v2 true team x [map[name:regcred]] 1234567\n")
        rc, out, err = run([APPDEPLOY, "template", t, "-f", v, "-n", "other"], self.tmp)
        self.assertIn(b" other ", out)

    def test_helpers_not_executed_and_order(self):
        h = self.write("_helpers.tpl", "{{define \"name\"}}app-{{.}}{{end}}SHOULD NOT PRINT")
        a = self.write("a.yaml", "a: {{include \"name\" \"x\"}}\n")
        b = self.write("b.yaml", "b: {{template \"name\" \"y\"}}\n")
        rc, out, err = run([APPDEPLOY, "template", h, a, b], self.tmp)
        self.assertEqual((rc, out), (0, b"a: app-x\nb: app-y\n"), err)

    def test_error_exit_and_format(self):
        t = self.write("bad.yaml", "ok\n{{ .Variables.x | required \"x is required\" }}\n")
        rc, out, err = run([APPDEPLOY, "template", t], self.tmp)
        self.assertEqual(rc, 1)
        self.assertEqual(err, b'template: bad.yaml:2:18: executing "bad.yaml" at <required "x is required">: '
                              b'error calling required: x is required\n')
        t = self.write("parse.yaml", "a\n{{ if }}\n")
        rc, out, err = run([APPDEPLOY, "template", t], self.tmp)
        self.assertEqual((rc, err), (1, b"template: parse.yaml:2: missing value for if\n"))

    def test_helm_style_chart(self):
        v = self.write("values.yaml", "resources:\n  limits: {cpu: 100m, memory: 128Mi}\nports: [80, 443]\n"
                       "labels: {app: web, tier: \"1\"}\n")
        h = self.write("_helpers.tpl", '{{- define "labels" -}}\n{{ toYaml .Variables.labels }}\n{{- end }}')
        t = self.write("deploy.yaml", 'metadata:\n  labels:\n    {{- include "labels" . | nindent 4 }}\n'
                       'spec:\n  resources:\n    {{- toYaml .Variables.resources | nindent 4 }}\n'
                       '  ports:\n  {{- range .Variables.ports }}\n  - {{ . | quote }}\n  {{- end }}\n'
                       '  name: {{ default "dflt" .Variables.name | upper }}\n')
        rc, out, err = run([APPDEPLOY, "template", h, t, "-f", v], self.tmp)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode(), 'metadata:\n  labels:\n    app: web\n    tier: "1"\n'
                         'spec:\n  resources:\n    limits:\n      cpu: 100m\n      memory: 128Mi\n'
                         '  ports:\n  - "80"\n  - "443"\n  name: DFLT\n')

    def test_chart_fixture(self):
        """tests/template/chart: a Helm-style chart (include, toYaml | nindent, range, with, tpl,
        semverCompare, sha256sum) rendered to its reviewed golden output."""
        d = os.path.join(ROOT, "tests", "template", "chart")
        rc, out, err = run([APPDEPLOY, "template", "_helpers.tpl", "deployment.yaml", "-f", "values.yaml",
                            "-n", "shop"], d)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(d, "expected.out"), "rb") as f:
            self.assertEqual(out.decode(), f.read().decode())

    def test_usage(self):
        rc, out, err = run([APPDEPLOY, "template"], self.tmp)
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
