"""test_helm_funcs.py — differential tests against the real helm: each case is one template in a throwaway chart,
rendered by `helm template` and by `appdeploy template --chart`; stdout, stderr and exit status must be identical.
Covers Go's regexp syntax and semantics, Helm's missing-key behaviour, sprig's slice, errors, and the functions."""
import concurrent.futures
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helmoracle  # noqa: E402

VALUES = """\
name: web-app
replicas: 3
ratio: 0.75
big: 1234567
neg: -5
zero: 0
enabled: true
empty: ""
nothing: null
labels:
  app: web
  tier: frontend
ports: [80, 443]
words: [alpha, beta, gamma, beta]
nested:
  a:
    b: deep
text: "Hello, World! hello again"
version: 1.24.3
path: /usr/local/lib/file.tar.gz
image: registry.example.com:5000/team/app:v1.2.3
"""

RE = [
    # Go's RE2 syntax that POSIX regcomp rejects or reads differently
    ("re_dash_after_range", r'{{ regexReplaceAll "[^a-zA-Z0-9-_.]+" "a b/c_d.e-f" "-" }}'),
    ("re_dash_first_last", r'{{ regexFindAll "[-a]+|[b-]+" "a-b--a" -1 }}'),
    ("re_leftmost_first", r'{{ regexFind "a|ab" "ab" }} {{ regexFind "ab|a" "ab" }}'),
    ("re_nongreedy", r'{{ regexFind "a+?" "aaa" }} {{ regexFind "<.*?>" "<a><b>" }} {{ regexFind "<.*>" "<a><b>" }}'),
    ("re_perl_classes", r'{{ regexFindAll "\\d+" "a1b22c333" -1 }} {{ regexFindAll "\\w+" "hi, there_1!" -1 }}'),
    ("re_space_class", r'{{ regexReplaceAll "\\s" "a\tb\nc\vd e" "_" | quote }}'),
    ("re_negated_perl", r'{{ regexReplaceAll "\\D" "a1b2" "" }} {{ regexReplaceAll "[\\D]" "x9y" "" }} {{ regexReplaceAll "\\W+" "a, b!c" "-" }}'),
    ("re_posix_class", r'{{ regexFindAll "[[:alpha:]]+" "ab12cd" -1 }} {{ regexFindAll "[[:^digit:]]+" "ab12cd" -1 }}'),
    ("re_flags", r'{{ regexMatch "(?i)hello" "HeLLo" }} {{ regexFindAll "(?m)^\\w+" "one\ntwo\nthree" -1 }}'),
    ("re_dot_newline", r'{{ regexFind "a.b" "a\nb" | quote }} {{ regexFind "(?s)a.b" "a\nb" | quote }}'),
    ("re_dollar_end", r'{{ regexMatch "a$" "a\n" }} {{ regexMatch "(?m)a$" "a\n" }} {{ regexMatch "a\\z" "a" }}'),
    ("re_anchors", r'{{ regexMatch "^abc$" "abc" }} {{ regexMatch "\\Aab" "xab" }} {{ regexFindAll "\\bfoo\\b" "foo foobar foo" -1 }}'),
    ("re_named_groups", r'{{ regexReplaceAll "(?P<first>\\w+) (?P<last>\\w+)" "John Smith" "${last}, ${first}" }}'),
    ("re_named_angle", r'{{ regexReplaceAll "(?<k>\\w+)=(?<v>\\w+)" "a=1 b=2" "$v:$k" }}'),
    ("re_expand_forms", r'{{ regexReplaceAll "(a)(b)" "ab ab" "[$1|${2}|$$|$3|$x|${1}x|$1x|$]" }}'),
    ("re_literal", r'{{ regexReplaceAllLiteral "a(b)" "abab" "[$1]" }} {{ mustRegexReplaceAllLiteral "b" "abc" "$$" }}'),
    ("re_empty_matches", r'{{ regexReplaceAll "a*" "baaac" "-" }} {{ regexFindAll "a*" "baaac" -1 }} {{ regexSplit "a*" "baaac" -1 }}'),
    ("re_split", r'{{ regexSplit "," "a,b,,c" -1 }} {{ regexSplit "," "a,b,c" 2 }} {{ regexSplit "," "a,b" 0 }} {{ regexSplit "x" "" -1 }}'),
    ("re_findall_limit", r'{{ regexFindAll "[0-9]" "1a2b3c" 2 }} {{ regexFindAll "z" "abc" -1 }}'),
    ("re_unicode", r'{{ regexFindAll "." "héllo" -1 }} {{ regexReplaceAll "\\p{L}+" "héllo wörld 42" "W" }} {{ regexFind "[é-ö]+" "aéöb" }}'),
    ("re_escapes", r'{{ regexFindAll "\\x41|\\x{42}|\\101|\\t" "AB\t" -1 | toJson }} {{ regexMatch "\\Q.*\\E" "a.*b" }}'),
    ("re_repeat", r'{{ regexFind "a{2,3}" "aaaa" }} {{ regexFind "a{2}" "aaa" }} {{ regexFind "a{,2}" "a{,2}" }} {{ regexFind "x{2,}" "xxxxx" }}'),
    ("re_quote_meta", r'{{ regexQuoteMeta "a.b*c[d]$" }}'),
    ("re_ungreedy_flag", r'{{ regexFind "(?U)a+" "aaa" }} {{ regexFind "(?U)a+?" "aaa" }}'),
    ("re_class_escape_bracket", r'{{ regexFindAll "[]a]+" "]a]b" -1 }} {{ regexFindAll "[^]a]+" "]a]bc" -1 }} {{ regexFind "[\\]]" "x]" }}'),
    ("re_match_invalid_ignored", r'{{ regexMatch "[" "x" }}'),
    # errors, worded as Go's regexp/syntax
    ("re_err_bracket", r'{{ regexFind "[abc" "x" }}'),
    ("re_err_must_bracket", r'{{ mustRegexFind "[abc" "x" }}'),
    ("re_err_paren", r'{{ regexReplaceAll "(ab" "x" "" }}'),
    ("re_err_unexpected_paren", r'{{ regexFindAll "ab)" "x" -1 }}'),
    ("re_err_backref", r'{{ regexFind "(a)\\1" "aa" }}'),
    ("re_err_lookahead", r'{{ regexFind "a(?=b)" "ab" }}'),
    ("re_err_lookbehind", r'{{ regexFind "(?<=a)b" "ab" }}'),
    ("re_err_atomic", r'{{ mustRegexMatch "(?>a)" "a" }}'),
    ("re_err_possessive", r'{{ regexSplit "a*+" "aa" -1 }}'),
    ("re_err_nested_rep", r'{{ regexFind "a**" "a" }}'),
    ("re_err_missing_arg", r'{{ regexFind "*a" "a" }}'),
    ("re_err_repeat_count", r'{{ regexFind "a{1001}" "a" }}'),
    ("re_err_range", r'{{ regexFind "[z-a]" "a" }}'),
    ("re_err_escape", r'{{ regexFind "\\q" "a" }}'),
    ("re_err_posix_name", r'{{ regexFind "[[:foo:]]" "a" }}'),
    ("re_err_trailing_backslash", r'{{ mustRegexFind "a\\" "a" }}'),
    ("re_err_named", r'{{ regexFind "(?P<n!>a)" "a" }}'),
    ("re_err_must_split", r'{{ mustRegexSplit "(" "a" -1 }}'),
    ("re_err_must_findall", r'{{ mustRegexFindAll "a{2,1}" "a" -1 }}'),
    ("re_err_must_replace", r'{{ mustRegexReplaceAll "[[:x:]]" "a" "b" }}'),
]

MISSING = [
    ("missing_key_empty", 'a: {{ .Values.nope }}|{{ .Values.labels.nope }}|'),
    ("missing_key_nested_error", 'a: {{ .Values.nope.sub }}'),
    ("missing_key_deeper_error", 'a: {{ .Values.labels.nope.x }}'),
    ("missing_key_null_value", 'a: {{ .Values.nothing }}|{{ .Values.nothing.x }}'),
    ("missing_key_typed_param", 'a: {{ upper .Values.nope }}'),
    ("missing_key_default", 'a: {{ .Values.nope | default "d" }} {{ default "e" .Values.labels.x }}'),
    ("missing_key_if_with", 'a: {{ if .Values.nope }}y{{ else }}n{{ end }} {{ with .Values.nope }}w{{ end }}'),
    ("missing_key_range", 'a: {{ range .Values.nope }}x{{ end }}|'),
    ("missing_key_index", 'a: {{ index .Values "nope" }}|{{ index .Values.labels "nope" }}|'),
    ("missing_key_printf", 'a: {{ printf "%v" .Values.nope }}'),
    ("no_value_text_removed", 'a: <no value> {{ "<no value>" }}x'),
    ("missing_key_in_include", '{{ define "x" }}{{ .nope }}{{ end }}a: [{{ include "x" .Values }}]'),
    ("missing_key_eq", 'a: {{ eq .Values.nope nil }}'),
    ("missing_key_toyaml", 'a: {{ toYaml .Values.nope }}'),
    ("missing_field_on_string", 'a: {{ .Values.name.x }}'),
    ("slice_string", 'a: {{ slice .Values.name 1 3 }}'),
    ("slice_list", 'a: {{ slice .Values.words 1 3 }} {{ slice .Values.words 2 }} {{ slice .Values.words }}'),
]

TYPING = [
    ("float_printing", 'a: {{ .Values.replicas }} {{ .Values.ratio }} {{ .Values.big }} {{ .Values.neg }} {{ .Values.zero }}'),
    ("float_compare", 'a: {{ if eq .Values.replicas 3.0 }}yes{{ end }} {{ .Values.replicas | int }} {{ add .Values.replicas 1 }}'),
    ("float_compare_int_error", 'a: {{ eq .Values.replicas 3 }}'),
    ("float_toyaml", '{{ toYaml .Values }}'),
    ("float_tojson", 'a: {{ toJson .Values.ports }} {{ .Values.ports }}'),
    ("set_types", 'a: {{ .Values.s1 }} {{ kindOf .Values.s1 }} {{ .Values.s2 }} {{ kindOf .Values.s2 }} {{ kindOf .Values.s3 }}'),
    ("kind_of_values", 'a: {{ kindOf .Values.replicas }} {{ typeOf .Values.replicas }} {{ kindOf .Values.labels }} {{ typeOf .Values.ports }}'),
]

BUILTIN_OBJECTS = [
    ("release", 'a: {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Revision }} {{ .Release.Service }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }}'),
    ("chart_fields", 'a: {{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }} {{ .Chart.IsRoot }} [{{ .Chart.Description }}] {{ .Chart.Type }}|'),
    ("template_object", 'a: {{ .Template.Name }} {{ .Template.BasePath }}'),
    ("capabilities", 'a: {{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }}'),
    ("capabilities_apis", 'a: {{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "nope/v9" }} {{ .Capabilities.APIVersions.Has "v1" }}'),
    ("capabilities_helm", 'a: {{ .Capabilities.HelmVersion }} {{ .Capabilities.HelmVersion.Version }}'),
    ("semver_compare_kube", 'a: {{ semverCompare ">=1.19-0" .Capabilities.KubeVersion.GitVersion }}'),
    ("files_get", 'a: {{ .Files.Get "files/a.txt" | quote }} [{{ .Files.Get "nope" }}]'),
    ("files_lines", '{{ range .Files.Lines "files/a.txt" }}- {{ . }}\n{{ end }}'),
    ("files_glob_as_config", 'data:\n{{ (.Files.Glob "files/*.txt").AsConfig | indent 2 }}'),
    ("files_glob_as_secrets", 'data:\n{{ (.Files.Glob "files/**").AsSecrets | indent 2 }}'),
    ("files_glob_range", '{{ range $p, $c := .Files.Glob "files/*" }}{{ $p }}={{ $c | len }}\n{{ end }}'),
    ("files_method_arity", 'a: {{ .Files.Get }}'),
]

# Where appdeploy differs on purpose or by a known limit, the case stays, skipped with its reason.
KNOWN = {
    "set_types": "--set integers are Go int64 in Helm; appdeploy has one integer type (kindOf says int)",
}

FILES = {"files/a.txt": "line one\nline two\n", "files/b.txt": "bee", "files/sub/c.conf": "k=v\n"}


class HelmFuncsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.oracle = helmoracle.Oracle()

    @classmethod
    def tearDownClass(cls):
        cls.oracle.close()

    def setUp(self):
        helmoracle.require_helm(self)

    def run_cases(self, cases, args=(), wrap=False):
        """wrap: the case is a named template whose output is quoted into a YAML value (any text then
        makes a valid manifest); else the case is the whole template file."""
        def one(case):
            name, text = case
            files = dict(FILES)
            if wrap:
                files["templates/_case.tpl"] = '{{ define "case" }}' + text + '{{ end }}'
                text = 'a: {{ include "case" . | quote }}\n'
            chart = self.oracle.one_template_chart(text, VALUES, files)
            return name, text, self.oracle.helm(chart, args), self.oracle.ours(chart, args)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            results = list(ex.map(one, cases))
        for name, text, want, got in results:
            with self.subTest(case=name):
                if name in KNOWN:
                    self.skipTest(KNOWN[name])
                self.assertEqual(got, want, f"{name}: {text}")

    def test_regex(self):
        self.run_cases(RE, wrap=True)

    def test_missing_keys_and_slice(self):
        self.run_cases(MISSING)

    def test_value_typing(self):
        self.run_cases(TYPING, ["--set", "s1=5", "--set-string", "s2=5", "--set", "s3=true"])

    def test_builtin_objects(self):
        self.run_cases(BUILTIN_OBJECTS)

    def test_kube_version_and_api_versions(self):
        self.run_cases([("kv_flags", 'a: {{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Minor }} '
                         '{{ .Capabilities.APIVersions.Has "example.com/v1" }} {{ .Capabilities.APIVersions.Has "x.io/v2/Thing" }}')],
                       ["--kube-version", "1.28.3", "--api-versions", "example.com/v1", "--api-versions", "x.io/v2/Thing"])


if __name__ == "__main__":
    unittest.main()
