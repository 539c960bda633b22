"""test_template_sprig.py — differential tests of the sprig/Helm functions: `appdeploy template` against Go's
text/template + sprig + Helm's functions (tests/template/helmtmpl/helmtmpl.go) on YAML values, byte for byte."""
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import require, require_that  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SOURCEMODE_BUILD", os.path.join(ROOT, "build"))
APPDEPLOY = os.path.join(BUILD, "appdeploy")
ORACLE_SRC = os.path.join(ROOT, "tests", "template", "helmtmpl", "helmtmpl.go")
GO = shutil.which("go")
GOPATH = "/usr/share/gocode"
SPRIG = os.path.join(GOPATH, "src", "github.com", "Masterminds", "sprig", "functions.go")
YAMLV2 = os.path.join(GOPATH, "src", "gopkg.in", "yaml.v2", "yaml.go")

# The values file every case renders with (as .Variables), YAML 1.1 like kubectl and yaml.v2.
VALUES = """\
name: web-app
image:
  repository: nginx
  tag: "1.25"
  pullPolicy: IfNotPresent
replicas: 3
port: 8080
ratio: 0.75
big: 1234567
neg: -5
zero: 0
enabled: true
disabled: false
empty: ""
nothing: null
spaces: "  padded\\t "
multiline: |
  line one
  line two
labels:
  app: web
  tier: frontend
  app.kubernetes.io/name: web
single:
  only: one
annotations: {}
ports: [80, 443, 8080]
tags: [b, a, c, a]
words: [alpha, beta, gamma]
mixed: [1, two, 3.5, true, null]
nested: [[1, 2], [3]]
emptylist: []
env:
  - name: A
    value: "1"
  - name: B
    value: two
resources:
  limits:
    cpu: 500m
    memory: 128Mi
  requests:
    cpu: 100m
version: 1.24.3
kubeVersion: v1.27.1-gke.100
text: "Hello, World! hello again"
json: '{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}'
yamlstr: "a: 1\\nb:\\n  - x\\n  - y\\nc: {d: true}\\n"
b64: aGVsbG8gd29ybGQ=
numstr: "42"
floatstr: "3.5"
quoteme: it's "here"
unicode: héllo wörld
onoff: on
tilde: ~
namespace: from-values
"""

# Where appdeploy differs on purpose, a case is kept but skipped with its reason (never weakened).
DIFF_INT_TYPES = "ints are Go int everywhere (sprig's math returns int64): typeOf/kindOf differ"
DIFF_MAP_ORDER = "keys/values come out in sorted key order (Go map order is random)"
DIFF_NOSPACE = ("sprig's nospace (goutils.DeleteWhiteSpace) turns each byte of a non-ASCII character into a rune "
                "(mojibake); appdeploy keeps UTF-8 intact")
DIFF_YAML_YN = ("values loading follows the YAML 1.1 booleans kubectl documents (yes/no/on/off/true/false); "
                "yaml.v2 also reads y/Y/n/N as booleans, appdeploy keeps them strings")

# (name, template, options) — options: files ({name: text} parsed first), args (extra flags),
# values (YAML text replacing VALUES), skip (reason).
CASES = [
    # default / empty / coalesce / ternary
    ("default_missing", '{{ default "dflt" .Variables.nope }}', {}),
    ("default_present", '{{ default "dflt" .Variables.name }}', {}),
    ("default_empty_string", '{{ default "dflt" .Variables.empty }}', {}),
    ("default_zero", '{{ default 7 .Variables.zero }}', {}),
    ("default_false", '{{ default true .Variables.disabled }}', {}),
    ("default_null", '{{ default "n" .Variables.nothing }}', {}),
    ("default_emptylist", '{{ default (list 1) .Variables.emptylist }}', {}),
    ("default_emptymap", '{{ default "m" .Variables.annotations }}', {}),
    ("default_pipe", '{{ .Variables.nope | default "piped" }}', {}),
    ("default_one_arg", '{{ default "x" }}', {}),
    ("default_three_args", '{{ default "x" "y" "z" }}', {}),
    ("default_no_args", '{{ default }}', {}),
    ("empty_values", '{{ empty "" }} {{ empty "x" }} {{ empty 0 }} {{ empty 1 }} {{ empty .Variables.nope }} '
     '{{ empty .Variables.emptylist }} {{ empty .Variables.ports }} {{ empty .Variables.annotations }} '
     '{{ empty .Variables.labels }} {{ empty false }} {{ empty true }} {{ empty 0.0 }} {{ empty nil }}', {}),
    ("empty_no_args", '{{ empty }}', {}),
    ("coalesce", '{{ coalesce .Variables.nope "" .Variables.name }}', {}),
    ("coalesce_all_empty", '{{ coalesce .Variables.nope "" 0 }}', {}),
    ("coalesce_none", '{{ coalesce }}', {}),
    ("coalesce_list", '{{ coalesce .Variables.emptylist .Variables.ports }}', {}),
    ("ternary_true", '{{ ternary "yes" "no" true }}', {}),
    ("ternary_false", '{{ ternary "yes" "no" .Variables.disabled }}', {}),
    ("ternary_pipe", '{{ .Variables.enabled | ternary "on" "off" }}', {}),
    ("ternary_nonbool", '{{ ternary "a" "b" 1 }}', {}),
    ("ternary_missing", '{{ ternary "a" "b" .Variables.nope }}', {}),
    # required / fail
    ("required_present", '{{ required "need name" .Variables.name }}', {}),
    ("required_missing", '{{ required "need nope" .Variables.nope }}', {}),
    ("required_empty", 'a\n{{ .Variables.empty | required "empty!" }}', {}),
    ("required_zero", '{{ required "zero ok" .Variables.zero }}', {}),
    ("required_false", '{{ required "false ok" .Variables.disabled }}', {}),
    ("required_null", '{{ required "null" .Variables.nothing }}', {}),
    ("required_nonstring_msg", '{{ required 1 .Variables.name }}', {}),
    ("required_in_define", '{{ define "r" }}{{ required "inner" .x }}{{ end }}{{ include "r" .Variables }}', {}),
    ("fail", 'x{{ fail "boom" }}', {}),
    ("fail_printf", '{{ fail (printf "bad %d" 3) }}', {}),
    ("fail_if", '{{ if .Variables.enabled }}{{ fail "enabled" }}{{ end }}', {}),
    ("fail_nonstring", '{{ fail 3 }}', {}),
    # quote / squote
    ("quote", '{{ quote .Variables.name }} {{ .Variables.quoteme | quote }}', {}),
    ("quote_multi", '{{ quote "a" 1 true 2.5 }}', {}),
    ("quote_nil", '{{ quote .Variables.nope }}|{{ quote nil "x" }}', {}),
    ("quote_list", '{{ quote .Variables.ports }} {{ quote .Variables.single }}', {}),
    ("quote_unicode", '{{ quote .Variables.unicode "\\t\\n" }}', {}),
    ("squote", "{{ squote .Variables.name }} {{ squote .Variables.quoteme 3 }}", {}),
    ("squote_nil", "{{ squote .Variables.nope }}|{{ squote .Variables.ports }}", {}),
    ("quote_int", '{{ .Variables.port | quote }} {{ .Variables.big | quote }} {{ .Variables.ratio | quote }}', {}),
    # case
    ("upper_lower", '{{ upper .Variables.text }} {{ lower .Variables.text }} {{ upper .Variables.unicode }}', {}),
    ("upper_int", '{{ upper 3 }}', {}),
    ("title", '{{ title "hello wORLD foo-bar x_y" }} {{ title .Variables.unicode }}', {}),
    ("title_empty", '{{ title "" }}|', {}),
    # trimming
    ("trim", '[{{ trim .Variables.spaces }}] [{{ trim "\\n x \\r\\n" }}]', {}),
    ("trim_nonstring", '{{ trim .Variables.port }}', {}),
    ("trimPrefix", '{{ trimPrefix "web-" .Variables.name }} {{ trimPrefix "x" .Variables.name }}', {}),
    ("trimSuffix", '{{ trimSuffix "-app" .Variables.name }} {{ trimSuffix "" .Variables.name }}', {}),
    ("trimAll", '{{ trimAll "$" "$$5.00$" }} {{ trimAll "ab" "abcba" }}', {}),
    ("trunc", '{{ trunc 3 .Variables.name }} {{ trunc 100 .Variables.name }} {{ trunc 0 .Variables.name }}|', {}),
    ("trunc_negative", '{{ trunc -3 .Variables.name }} {{ trunc -100 .Variables.name }}|', {}),
    ("trunc_63", '{{ printf "%s-%s" .Variables.text .Variables.text | trunc 63 | trimSuffix "-" }}', {}),
    ("trunc_string_len", '{{ trunc "3" .Variables.name }}', {}),
    ("nospace", '{{ nospace "a b\\tc\\n d" }}', {}),
    # replace / contains / prefix / suffix
    ("replace", '{{ replace "l" "L" .Variables.text }} {{ .Variables.name | replace "-" "_" }}', {}),
    ("replace_empty_old", '{{ replace "" "-" "abc" }}', {}),
    ("contains", '{{ contains "World" .Variables.text }} {{ contains "x" .Variables.text }} {{ contains "" "" }}', {}),
    ("contains_pipe", '{{ .Variables.name | contains "web" }}', {}),
    ("hasPrefix", '{{ hasPrefix "web" .Variables.name }} {{ hasPrefix "app" .Variables.name }}', {}),
    ("hasSuffix", '{{ hasSuffix "app" .Variables.name }} {{ hasSuffix "web" .Variables.name }}', {}),
    ("contains_int", '{{ contains 1 "a1" }}', {}),
    # split / join / repeat
    ("splitList", '{{ splitList "," "a,b,,c" }} {{ splitList "," "" }} {{ len (splitList "," "") }}', {}),
    ("splitList_empty_sep", '{{ splitList "" "abc" }}', {}),
    ("split", '{{ $p := split "." "a.b.c" }}{{ $p._0 }} {{ $p._2 }} {{ $p._3 }}', {}),
    ("splitn", '{{ $p := splitn "-" 2 "a-b-c" }}{{ $p._0 }} {{ $p._1 }}', {}),
    ("join", '{{ join "," .Variables.tags }} {{ join "-" .Variables.ports }} {{ join "/" .Variables.mixed }}', {}),
    ("join_string", '{{ join "," "abc" }} {{ join "," .Variables.nope }}|', {}),
    ("join_nested", '{{ join ";" .Variables.nested }}', {}),
    ("repeat", '{{ repeat 3 "ab" }} {{ repeat 0 "x" }}|', {}),
    ("repeat_negative", '{{ repeat -1 "x" }}', {}),
    # indent / nindent
    ("indent", '{{ indent 4 .Variables.multiline }}|', {}),
    ("indent_zero", '{{ indent 0 "a\\nb" }}', {}),
    ("nindent", 'x:{{ nindent 2 "a\\nb" }}', {}),
    ("nindent_toyaml", 'spec:{{ toYaml .Variables.resources | nindent 2 }}\n', {}),
    ("indent_empty", '[{{ indent 2 "" }}] [{{ nindent 2 "" }}]', {}),
    ("indent_negative", '{{ indent -2 "a" }}', {}),
    ("indent_crlf", '{{ indent 2 "a\\r\\nb\\n" }}', {}),
    # toYaml
    ("toYaml_map", '{{ toYaml .Variables.labels }}', {}),
    ("toYaml_list", '{{ toYaml .Variables.env }}', {}),
    ("toYaml_scalars", '{{ toYaml 1 }}|{{ toYaml "s" }}|{{ toYaml true }}|{{ toYaml 2.5 }}|{{ toYaml nil }}|'
     '{{ toYaml .Variables.nope }}', {}),
    ("toYaml_strings_need_quotes", '{{ toYaml (list "yes" "no" "on" "true" "1" "1.5" "" "~" "null" "a: b" '
     '"- x" "#c" "@x" "0x10" "1e3" ".5" "08" "0o7" "+1" "Y" "n") }}', {}),
    ("toYaml_multiline", '{{ toYaml (dict "s" .Variables.multiline "t" "a\\nb" "u" "trailing  ") }}', {}),
    ("toYaml_all_values", '{{ toYaml .Variables }}', {}),
    ("toYaml_empty", '{{ toYaml .Variables.annotations }}|{{ toYaml .Variables.emptylist }}|{{ toYaml "" }}', {}),
    ("toYaml_nested_lists", '{{ toYaml .Variables.nested }}', {}),
    ("toYaml_big_numbers", '{{ toYaml (list .Variables.big 1e6 1e21 0.000001 -0.0 100000000000) }}', {}),
    ("toYaml_long_string", '{{ toYaml (dict "k" (repeat 30 "word ")) }}', {}),
    ("toYaml_unicode", '{{ toYaml (dict "u" .Variables.unicode "snow" "☃" "tab" "a\\tb") }}', {}),
    ("toYaml_keys_order", '{{ toYaml (dict "b" 1 "a" 2 "10" 3 "9" 4 "_x" 5 "A" 6 "a1" 7 "a10" 8 "a2" 9) }}', {}),
    ("toYaml_dict_of_lists", '{{ toYaml (dict "ports" .Variables.ports "env" .Variables.env) | indent 2 }}', {}),
    # toJson / toPrettyJson / toRawJson
    ("toJson_map", '{{ toJson .Variables.labels }}', {}),
    ("toJson_all", '{{ toJson .Variables }}', {}),
    ("toJson_scalars", '{{ toJson 1 }} {{ toJson "a<b>&" }} {{ toJson nil }} {{ toJson 2.5 }} {{ toJson .Variables.nope }}', {}),
    ("toJson_big", '{{ toJson (list .Variables.big 1e6 1e21 0.000001 1.0) }}', {}),
    ("toJson_unicode", '{{ toJson (list .Variables.unicode "\\u2028" "\\t\\n\\x01") }}', {}),
    ("toPrettyJson", '{{ toPrettyJson .Variables.resources }}', {}),
    ("toPrettyJson_list", '{{ toPrettyJson .Variables.mixed }} {{ toPrettyJson .Variables.emptylist }} '
     '{{ toPrettyJson .Variables.annotations }}', {}),
    ("toRawJson", '{{ toRawJson (dict "h" "<a>&" "n" 1) }}', {}),
    ("mustToJson", '{{ mustToJson .Variables.env }}', {}),
    # fromYaml / fromJson
    ("fromYaml", '{{ $m := fromYaml .Variables.yamlstr }}{{ $m.a }} {{ $m.b }} {{ $m.c.d }}', {}),
    ("fromYaml_roundtrip", '{{ fromYaml .Variables.yamlstr | toYaml }}', {}),
    ("fromYaml_invalid", '{{ (fromYaml "a: [1").Error }}', {}),
    ("fromYaml_invalid2", '{{ (fromYaml "a: b: c").Error }}', {}),
    ("fromYaml_list", '{{ (fromYaml "- 1\\n- 2").Error }}', {}),
    ("fromYaml_scalar", '{{ (fromYaml "just text").Error }}', {}),
    ("fromYaml_empty", '{{ fromYaml "" }} {{ len (fromYaml "") }}', {}),
    ("fromYaml_int_keys", '{{ $m := fromYaml "1: a\\ntrue: b\\n2.5: c" }}{{ toJson $m }}', {}),
    ("fromYaml_tpl", '{{ (fromYaml (include "y" .)).k }}', {"files": {"_h.tpl": '{{ define "y" }}k: {{ .Variables.name }}{{ end }}'}}),
    ("fromYamlArray", '{{ fromYamlArray "- a\\n- 1\\n- {b: c}" }} {{ fromYamlArray "a: 1" }}', {}),
    ("fromJson", '{{ $m := fromJson .Variables.json }}{{ $m.a }} {{ $m.b }} {{ $m.c.d }}', {}),
    ("fromJson_roundtrip", '{{ fromJson .Variables.json | toJson }}', {}),
    ("fromJson_array", '{{ (fromJson "[1]").Error }}', {}),
    ("fromJson_scalar", '{{ (fromJson "3").Error }}', {}),
    # base64 / sha256
    ("b64enc", '{{ b64enc "hello world" }} {{ b64enc "" }}| {{ b64enc "a" }} {{ b64enc "ab" }} {{ b64enc .Variables.unicode }}', {}),
    ("b64dec", '{{ b64dec .Variables.b64 }} {{ b64dec "YQ==" }} {{ b64dec "" }}|', {}),
    ("b64dec_invalid", '{{ b64dec "!!!" }}|{{ b64dec "YQ" }}|{{ b64dec "YQ=" }}', {}),
    ("b64_roundtrip", '{{ .Variables.text | b64enc | b64dec }}', {}),
    ("b64enc_int", '{{ b64enc 12 }}', {}),
    ("sha256sum", '{{ sha256sum "" }} {{ sha256sum .Variables.name }} {{ toYaml .Variables.labels | sha256sum | trunc 8 }}', {}),
    # dict / list / get / set / unset / hasKey / keys / values / merge
    ("dict", '{{ dict "a" 1 "b" "two" }} {{ dict }} {{ dict "odd" }}', {}),
    ("dict_nonstring_key", '{{ dict 1 2 true 3 }}', {}),
    ("dict_nested", '{{ toJson (dict "a" (dict "b" (list 1 2))) }}', {}),
    ("list", '{{ list 1 "a" 2.5 nil true }} {{ list }} {{ len (list 1 2 3) }}', {}),
    ("get", '{{ get .Variables.labels "app" }} {{ get .Variables.labels "nope" }}| {{ get (dict) "x" }}|', {}),
    ("get_nonmap", '{{ get .Variables.ports "a" }}', {}),
    ("set", '{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ toJson $d }} {{ set $d "a" 9 | toJson }}', {}),
    ("set_values", '{{ $_ := set .Variables.labels "new" "v" }}{{ toJson .Variables.labels }}', {}),
    ("unset", '{{ $d := dict "a" 1 "b" 2 }}{{ $_ := unset $d "a" }}{{ toJson $d }} {{ unset $d "zz" | toJson }}', {}),
    ("hasKey", '{{ hasKey .Variables.labels "app" }} {{ hasKey .Variables.labels "x" }} {{ hasKey .Variables.image "tag" }}', {}),
    ("hasKey_nonmap", '{{ hasKey .Variables.ports "a" }}', {}),
    ("keys_single", '{{ keys .Variables.single }} {{ keys (dict) }}', {}),
    ("keys_sorted", '{{ keys .Variables.labels | sortAlpha }} {{ keys .Variables.labels .Variables.single | sortAlpha }}', {}),
    ("keys_unsorted", '{{ keys .Variables.labels }}', {"skip": DIFF_MAP_ORDER}),
    ("values_single", '{{ values .Variables.single }} {{ values (dict) }}', {}),
    ("values_unsorted", '{{ values .Variables.labels }}', {"skip": DIFF_MAP_ORDER}),
    ("values_sorted", '{{ values .Variables.labels | sortAlpha }}', {}),
    ("merge", '{{ toJson (merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2))) }}', {}),
    ("merge_values", '{{ $d := merge (dict) .Variables.image (dict "tag" "x" "extra" 1) }}{{ toYaml $d }}', {}),
    ("merge_dst_changed", '{{ $d := dict "a" 1 }}{{ $_ := merge $d (dict "b" 2) }}{{ toJson $d }}', {}),
    ("merge_empty_values", '{{ toJson (merge (dict "a" "" "b" 0) (dict "a" "x" "b" 5 "c" nil)) }}', {}),
    ("mergeOverwrite", '{{ toJson (mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "y" 2))) }}', {}),
    ("mergeOverwrite_empty", '{{ toJson (mergeOverwrite (dict "a" 1 "b" "x") (dict "a" 0 "b" "")) }}', {}),
    ("merge_nonmap", '{{ merge (dict) 1 }}', {}),
    ("pick_omit", '{{ toJson (pick .Variables.image "tag" "nope") }} {{ toJson (omit .Variables.image "tag") }}', {}),
    ("dig", '{{ dig "limits" "cpu" "none" .Variables.resources }} {{ dig "limits" "gpu" "none" .Variables.resources }}', {}),
    ("dig_nonmap", '{{ dig "a" "b" "d" (dict "a" 1) }}', {}),
    # list functions
    ("append", '{{ append .Variables.tags "z" }} {{ append (list) 1 }} {{ push (list 1) 2 }}', {}),
    ("append_nonlist", '{{ append "abc" 1 }}', {}),
    ("append_nil", '{{ append .Variables.nope 1 }}', {}),
    ("prepend", '{{ prepend .Variables.tags "z" }} {{ prepend (list) 1 }}', {}),
    ("first_last", '{{ first .Variables.tags }} {{ last .Variables.tags }} {{ first .Variables.emptylist }} '
     '{{ last .Variables.emptylist }}', {}),
    ("first_nonlist", '{{ first "abc" }}', {}),
    ("first_nil", '{{ first .Variables.nope }}|', {}),
    ("rest_initial", '{{ rest .Variables.tags }} {{ initial .Variables.tags }} {{ rest .Variables.emptylist }} '
     '{{ initial (list) }}', {}),
    ("uniq", '{{ uniq .Variables.tags }} {{ uniq (list 1 1 "1" 2.0 2 nil nil) }} {{ uniq (list) }}', {}),
    ("uniq_nested", '{{ uniq (list (list 1) (list 1) (dict "a" 1) (dict "a" 1)) }}', {}),
    ("has", '{{ has "a" .Variables.tags }} {{ has "z" .Variables.tags }} {{ has 80 .Variables.ports }} '
     '{{ has "80" .Variables.ports }} {{ .Variables.tags | has "c" }}', {}),
    ("has_nil", '{{ has 1 .Variables.nope }} {{ has nil .Variables.mixed }}', {}),
    ("has_nonlist", '{{ has 1 "abc" }}', {}),
    ("reverse_compact", '{{ reverse .Variables.tags }} {{ compact (list 1 0 "" "a" nil false true) }}', {}),
    ("without", '{{ without .Variables.tags "a" }} {{ without .Variables.ports 80 443 }}', {}),
    ("concat", '{{ concat .Variables.tags .Variables.ports (list) }}', {}),
    ("sortAlpha", '{{ sortAlpha .Variables.tags }} {{ sortAlpha .Variables.ports }} {{ sortAlpha (list "B" "a" "_" "1") }}', {}),
    ("until", '{{ until 3 }} {{ until 0 }} {{ until -2 }} {{ untilStep 1 10 3 }} {{ untilStep 5 0 -2 }}', {}),
    ("until_range", '{{ range $i := until 3 }}[{{ $i }}]{{ end }}', {}),
    ("toStrings", '{{ toStrings .Variables.mixed }} {{ toStrings (list 1 2) | join "+" }}', {}),
    ("any_all", '{{ any 0 "" .Variables.name }} {{ any 0 "" }} {{ all 1 "a" }} {{ all 1 "" }} {{ any }} {{ all }}', {}),
    ("deepEqual", '{{ deepEqual .Variables.tags (list "b" "a" "c" "a") }} {{ deepEqual (dict "a" 1) (dict "a" 2) }}', {}),
    ("cat", '{{ cat "a" 1 nil "b" .Variables.ports }}', {}),
    ("abbrev", '{{ abbrev 5 "hello world" }} {{ abbrev 20 "short" }}', {}),
    ("substr", '{{ substr 0 3 .Variables.name }} {{ substr 4 -1 .Variables.name }} {{ substr 2 100 "abc" }}', {}),
    # math
    ("add", '{{ add 1 2 }} {{ add 1 2 3 4 }} {{ add }} {{ add "3" 4 }} {{ add 1.5 1 }} {{ add .Variables.port 1 }}', {}),
    ("add1", '{{ add1 .Variables.replicas }} {{ add1 "9" }} {{ add1 1.9 }}', {}),
    ("sub", '{{ sub 5 3 }} {{ sub 3 5 }} {{ sub .Variables.big 1 }} {{ sub "10" "4" }}', {}),
    ("mul", '{{ mul 2 3 }} {{ mul 2 3 4 }} {{ mul .Variables.port 2 }} {{ mul 1.5 2 }}', {}),
    ("div", '{{ div 7 2 }} {{ div -7 2 }} {{ div 10 "3" }} {{ div 7.9 2 }}', {}),
    ("div_zero", '{{ div 1 0 }}', {}),
    ("mod", '{{ mod 7 3 }} {{ mod -7 3 }} {{ mod 7 -3 }}', {}),
    ("mod_zero", '{{ mod 1 0 }}', {}),
    ("max_min", '{{ max 1 5 3 }} {{ min 1 5 3 }} {{ max 4 }} {{ min -1 "x" }} {{ max 2.9 1 }}', {}),
    ("max_noargs", '{{ max }}', {}),
    ("floor_ceil", '{{ floor 1.5 }} {{ ceil 1.2 }} {{ floor "2.7" }} {{ ceil -1.5 }} {{ floor 3 }}', {}),
    ("math_strings_bad", '{{ add "x" 1 }} {{ mul "1.5" 2 }} {{ sub nil 1 }}', {}),
    ("math_big", '{{ add .Variables.big .Variables.big }} {{ mul 100000 100000 }} {{ mul 1000000000 10000000000 }}', {}),
    ("math_types", '{{ typeOf (add 1 2) }}', {"skip": DIFF_INT_TYPES}),
    # conversions
    ("int", '{{ int "42" }} {{ int 3.9 }} {{ int -3.9 }} {{ int "x" }} {{ int true }} {{ int nil }} {{ int "0x10" }} '
     '{{ int "010" }} {{ int " 5" }} {{ int "3.5" }}', {}),
    ("int64", '{{ int64 "42" }} {{ int64 .Variables.big }} {{ int64 2.5 }} {{ int64 "9223372036854775807" }}', {}),
    ("float64", '{{ float64 "3.5" }} {{ float64 2 }} {{ float64 "x" }} {{ float64 .Variables.big }} {{ float64 true }} '
     '{{ float64 "1e3" }} {{ float64 nil }}', {}),
    ("toString", '{{ toString 1 }} {{ toString 2.5 }} {{ toString true }} {{ toString nil }} {{ toString .Variables.ports }} '
     '{{ toString .Variables.single }} {{ toString .Variables.big }} {{ toString 1e21 }}', {}),
    ("atoi", '{{ atoi "42" }} {{ atoi "-3" }} {{ atoi "x" }} {{ atoi "" }} {{ atoi "3.5" }} {{ atoi " 4" }} '
     '{{ atoi "0x10" }} {{ atoi "+7" }}', {}),
    ("atoi_nonstring", '{{ atoi 5 }}', {}),
    ("int_print_types", '{{ printf "%T %T %T" (int "1") (int64 "1") (float64 "1") }}', {"skip": DIFF_INT_TYPES}),
    # regex
    ("regexMatch", '{{ regexMatch "^web" .Variables.name }} {{ regexMatch "^[a-z]+-[a-z]+$" .Variables.name }} '
     '{{ regexMatch "x" "" }} {{ regexMatch "[0-9]+" "ab12" }}', {}),
    ("regexMatch_invalid", '{{ regexMatch "(" "x" }}', {}),
    ("regexReplaceAll", '{{ regexReplaceAll "l+" .Variables.text "L" }} {{ regexReplaceAll "(\\\\w+)@(\\\\w+)" "a@b c@d" "${2}-${1}" }}', {}),
    ("regexReplaceAll_groups", '{{ regexReplaceAll "([a-z]+)-([a-z]+)" .Variables.name "$2.$1" }} '
     '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}', {}),
    ("regexReplaceAll_empty_match", '{{ regexReplaceAll "x*" "abc" "-" }}', {}),
    ("regexFind", '{{ regexFind "[0-9]+" "ab123cd45" }} {{ regexFind "z" "abc" }}| {{ regexFindAll "[0-9]+" "a1b22c333" -1 }} '
     '{{ regexFindAll "[0-9]+" "a1b22c333" 2 }}', {}),
    ("regexSplit", '{{ regexSplit "[,;]" "a,b;c" -1 }} {{ regexSplit "z" "abc" -1 }}', {}),
    ("regex_alternation", '{{ regexFind "a|ab" "ab" }}', {}),
    ("regex_dash_after_range", '{{ regexReplaceAll "[^a-zA-Z0-9-_.]+" "a b/c_d" "-" }}', {}),
    ("regex_perl_class", '{{ regexMatch "\\\\d" "1" }} {{ regexFindAll "\\\\w+" "a bc d" -1 }} {{ regexReplaceAll "\\\\s+" "a  b\\tc" "_" }}', {}),
    ("regex_dot_newline", '{{ regexFind "a.c" "a\\nc abc" }} {{ regexMatch "^a.b$" "a\\nb" }} {{ regexFind "[.]" "x.y" }}', {}),
    # semver
    ("semverCompare", '{{ semverCompare ">=1.20.0" .Variables.version }} {{ semverCompare "<1.20" .Variables.version }} '
     '{{ semverCompare "^1.24" .Variables.version }} {{ semverCompare "~1.24.0" .Variables.version }}', {}),
    ("semverCompare_kube", '{{ semverCompare ">=1.21-0" .Variables.kubeVersion }} {{ semverCompare ">=1.28-0" .Variables.kubeVersion }}', {}),
    ("semverCompare_ranges", '{{ semverCompare ">1.0, <2.0" "1.5.0" }} {{ semverCompare "1.x" "1.9.9" }} '
     '{{ semverCompare "<1.0 || >=3.0" "3.1.0" }} {{ semverCompare "*" "0.0.1" }} {{ semverCompare "=1.2.3" "v1.2.3" }}', {}),
    ("semverCompare_prerelease", '{{ semverCompare ">=1.0.0" "1.1.0-beta" }} {{ semverCompare ">=1.0.0-0" "1.1.0-beta" }}', {}),
    ("semverCompare_bad_version", '{{ semverCompare ">=1.0" "not-a-version" }}', {}),
    ("semverCompare_bad_constraint", '{{ semverCompare "!!1.0" "1.0.0" }}', {}),
    # kinds and types
    ("kindOf", '{{ kindOf "s" }} {{ kindOf .Variables.ports }} {{ kindOf .Variables.labels }} {{ kindOf true }} '
     '{{ kindOf 2.5 }} {{ kindOf nil }}', {}),
    ("kindIs", '{{ kindIs "string" .Variables.name }} {{ kindIs "slice" .Variables.ports }} {{ kindIs "map" .Variables.image }}', {}),
    ("typeOf", '{{ typeOf "s" }} {{ typeOf .Variables.ports }} {{ typeOf .Variables.labels }} {{ typeOf true }} {{ typeOf 2.5 }}', {}),
    ("typeIs", '{{ typeIs "string" .Variables.name }} {{ typeIs "bool" .Variables.name }}', {}),
    # include / tpl
    ("include", '{{ include "n" . }}', {"files": {"_h.tpl": '{{ define "n" }}{{ .Variables.name }}-{{ .Namespace }}{{ end }}'}}),
    ("include_pipe", '{{ include "lbl" .Variables | nindent 4 }}',
     {"files": {"_h.tpl": '{{- define "lbl" -}}\napp: {{ .name }}\nversion: {{ .image.tag | quote }}\n{{- end -}}'}}),
    ("include_missing", '{{ include "nope" . }}', {}),
    ("include_nested", '{{ include "outer" .Variables.name }}',
     {"files": {"_h.tpl": '{{ define "inner" }}<{{ . }}>{{ end }}{{ define "outer" }}[{{ include "inner" . }}]{{ end }}'}}),
    ("include_error_inside", '{{ include "bad" . }}', {"files": {"_h.tpl": '{{ define "bad" }}{{ index .Variables.ports 9 }}{{ end }}'}}),
    ("include_recursion_bounded", '{{ include "r" 5 }}', {"files": {"_h.tpl": '{{ define "r" }}{{ if gt . 0 }}{{ . }}{{ include "r" (sub . 1) }}{{ end }}{{ end }}'}}),
    ("include_non_string_name", '{{ include 1 . }}', {}),
    ("include_dict_arg", '{{ include "d" (dict "a" 1 "top" $) }}',
     {"files": {"_h.tpl": '{{ define "d" }}{{ .a }} {{ .top.Variables.name }}{{ end }}'}}),
    ("include_trim_toYaml", 'metadata:\n  labels:\n    {{- include "labels" . | nindent 4 }}\n',
     {"files": {"_h.tpl": '{{- define "labels" -}}\n{{ toYaml .Variables.labels }}\n{{- end }}'}}),
    ("tpl", '{{ tpl "{{ .Variables.name }}-x" . }}', {}),
    ("tpl_values", '{{ tpl "{{ .name }}/{{ .nope }}|" .Variables }}', {}),
    ("tpl_define_include", '{{ tpl "{{ define \\"x\\" }}X{{ end }}{{ include \\"x\\" . }}" . }}', {}),
    ("tpl_uses_helpers", '{{ tpl "{{ include \\"h\\" . }}" .Variables.name }}', {"files": {"_h.tpl": '{{ define "h" }}<{{ . }}>{{ end }}'}}),
    ("tpl_parse_error", '{{ tpl "{{ if }}" . }}', {}),
    ("tpl_exec_error", '{{ tpl "{{ index .Variables.ports 7 }}" . }}', {}),
    ("tpl_missing_value", '{{ tpl "[{{ .nope }}]" .Variables }}', {}),
    ("tpl_nested", '{{ tpl "{{ tpl \\"{{ .Variables.port }}\\" . }}" . }}', {}),
    ("tpl_from_values", '{{ tpl .Variables.tplstr . }}', {"values": "tplstr: '{{ .Variables.count | add 1 }}'\ncount: 41\n"}),
    # lookup (no cluster: empty map, as helm template answers)
    ("lookup", '{{ lookup "v1" "Secret" "ns" "x" }} {{ len (lookup "v1" "Pod" "" "") }}', {}),
    # chained chart idioms
    ("chart_fullname", '{{ $n := default .Chart .Variables.nameOverride }}{{ printf "%s-%s" .Variables.name "rel" | trunc 63 | trimSuffix "-" }}',
     {"skip": "no .Chart in appdeploy's data"}),
    ("chart_image", '{{ printf "%s:%s" .Variables.image.repository (.Variables.image.tag | default "latest") | quote }}', {}),
    ("chart_env", 'env:\n{{- range .Variables.env }}\n  - name: {{ .name | upper }}\n    value: {{ .value | quote }}\n{{- end }}\n', {}),
    ("chart_with_resources", '{{- with .Variables.resources }}\nresources:\n  {{- toYaml . | nindent 2 }}\n{{- end }}\n', {}),
    ("chart_ports", 'ports:\n{{- range $i, $p := .Variables.ports }}\n  - name: p{{ $i }}\n    containerPort: {{ $p }}\n{{- end }}\n', {}),
    ("chart_checksum", 'checksum: {{ include "cfg" . | sha256sum }}', {"files": {"_h.tpl": '{{ define "cfg" }}{{ toYaml .Variables.labels }}{{ end }}'}}),
    ("chart_labels_merge", '{{ toYaml (merge (dict "extra" "y") .Variables.labels) }}', {}),
    ("chart_ternary_semver", 'apiVersion: {{ ternary "policy/v1" "policy/v1beta1" (semverCompare ">=1.21-0" .Variables.kubeVersion) }}', {}),
    ("values_yaml11_yn", '{{ .Variables.y }} {{ .Variables.n }}', {"values": "y: 1\nn: 2\nflag: y\n", "skip": DIFF_YAML_YN}),
    ("sortAlpha_nil", '{{ sortAlpha .Variables.nope }} {{ sortAlpha "b" }} {{ sortAlpha (list nil "b" nil "a") }}', {}),
    ("concat_errors", '{{ concat (list 1) "x" }}', {}),
    ("concat_nil", '{{ concat (list 1) .Variables.nope }}', {}),
    ("dig_bad_key", '{{ dig 1 "d" (dict "a" 1) }}', {}),
    ("dig_nil_step", '{{ dig "a" "b" "d" (dict "a" nil) }}', {}),
    ("dig_deep", '{{ dig "resources" "limits" "cpu" "x" .Variables }} {{ dig "resources" "nope" "cpu" "x" .Variables }}', {}),
    ("merge_map_over_scalar", '{{ toJson (merge (dict "a" "x" "b" "") (dict "a" (dict "k" 1) "b" (dict "k" 2))) }} '
     '{{ toJson (mergeOverwrite (dict "a" "x" "l" (list 1)) (dict "a" (dict "k" 1) "l" (list 2))) }}', {}),
    ("mergeOverwrite_nil", '{{ toJson (mergeOverwrite (dict "a" 1) (dict "a" nil "b" nil)) }}', {}),
    ("merge_lists", '{{ toJson (merge (dict "l" (list) "m" (list 1)) (dict "l" (list 5) "m" (list 2) "n" (list 3))) }}', {}),
    ("b64dec_offsets", '{{ b64dec "YQ=\\n=" }}|{{ b64dec "YWJj\\nZA==" }}|{{ b64dec "YWJjZA==x" }}|{{ b64dec "Y=" }}|{{ b64dec "YWJjZ=" }}|{{ b64dec "YQ=x" }}', {}),
    ("semver_ne_prerelease", '{{ semverCompare "!=1.2.3" "1.3.0-beta" }} {{ semverCompare "!=1.2.x" "1.3.0-beta" }} {{ semverCompare "!=1.2.x" "1.2.5" }}', {}),
    ("values_yaml11", '{{ .Variables.onoff }} {{ .Variables.tilde }} {{ kindOf .Variables.onoff }}', {}),
    # argument type errors on sprig functions
    ("err_upper_list", '{{ upper .Variables.ports }}', {}),
    ("err_trunc_args", '{{ trunc 3 }}', {}),
    ("err_join_args", '{{ join "," }}', {}),
    ("err_dict_value", '{{ get "x" "y" }}', {}),
    ("err_set_nonmap", '{{ set (list) "a" 1 }}', {}),
    ("err_indent_string", '{{ indent "x" "y" }}', {}),
    ("err_repeat_nil", '{{ repeat nil "x" }}', {}),
    ("err_replace_nil", '{{ replace nil "a" "b" }}', {}),
    ("err_semver_nil", '{{ semverCompare nil "1.0.0" }}', {}),
    ("err_toYaml_args", '{{ toYaml 1 2 }}', {}),
    ("err_required_args", '{{ required "x" }}', {}),
    ("err_b64_missing", '{{ b64enc .Variables.nope }}', {}),
]

# Every string function over a range of inputs (strings, numbers, lists, nil, unicode).
STR_FUNCS = ["upper", "lower", "title", "trim", "quote", "squote", "b64enc", "sha256sum", "nospace", "toString",
             "toYaml", "toJson", "toPrettyJson", "empty", "kindOf", "typeOf", "len", "atoi", "int", "float64",
             "toStrings", "b64dec"]
STR_INPUTS = ['"Hello World"', '""', '" x "', ".Variables.unicode", ".Variables.port", ".Variables.ratio",
              ".Variables.tags", ".Variables.labels", ".Variables.nope", ".Variables.enabled", ".Variables.multiline",
              '"aGk="', ".Variables.numstr", ".Variables.floatstr", ".Variables.neg", ".Variables.nothing"]
for i, (fn, arg) in enumerate(itertools.product(STR_FUNCS, STR_INPUTS)):
    opts = {"skip": DIFF_NOSPACE} if fn == "nospace" and arg == ".Variables.unicode" else {}
    CASES.append(("str_%s_%d" % (fn, i), "{{ %s %s }}" % (fn, arg), opts))

# Two-string functions over pairs of inputs.
PAIR_FUNCS = ["contains", "hasPrefix", "hasSuffix", "trimPrefix", "trimSuffix", "trimAll", "splitList", "regexMatch",
              "regexFind"]
PAIR_INPUTS = [('"a"', '"abca"'), ('""', '"x"'), ('"web"', ".Variables.name"), ('"é"', ".Variables.unicode"),
               ('"-"', '"a-b-c-"'), ('"x"', '""'), ('"a"', ".Variables.port"), ('".*"', '"line\\nnext"')]
for fn, (a, b) in itertools.product(PAIR_FUNCS, PAIR_INPUTS):
    CASES.append(("pair_%s_%s" % (fn, PAIR_INPUTS.index((a, b))), "{{ %s %s %s }}" % (fn, a, b), {}))

# Math over kinds of operands.
MATH_FUNCS = ["add", "sub", "mul", "div", "mod", "max", "min"]
MATH_INPUTS = ["7", "-3", '"12"', "2.5", ".Variables.port", ".Variables.nope", "true", '"x"', ".Variables.zero"]
for fn, (a, b) in itertools.product(MATH_FUNCS, itertools.combinations(MATH_INPUTS, 2)):
    CASES.append(("math_%s_%s_%s" % (fn, MATH_INPUTS.index(a), MATH_INPUTS.index(b)), "{{ %s %s %s }}" % (fn, a, b), {}))

# List functions over kinds of lists.
LIST_FUNCS = ["first", "last", "rest", "initial", "uniq", "reverse", "compact", "sortAlpha", "len", "toJson", "toYaml",
              "empty", "join \",\"", "has 1", "append 9", "prepend 0", "without \"a\"", "toStrings"]
LIST_INPUTS = [".Variables.tags", ".Variables.ports", ".Variables.mixed", ".Variables.emptylist", ".Variables.nested",
               "(list 1 1 2)", "(splitList \"/\" \"a/b/c\")", ".Variables.env"]
for fn, arg in itertools.product(LIST_FUNCS, LIST_INPUTS):
    CASES.append(("list_%s_%d" % (fn.split()[0], len(CASES)), "{{ %s %s }}" % (fn, arg), {}))

# indent/nindent/trunc/repeat over widths and texts.
for n, text in itertools.product(["0", "1", "3", "-1"], ['"a"', '"a\\nb\\n"', ".Variables.multiline", '""', '"\\n"']):
    for fn in ["indent", "nindent", "trunc", "repeat"]:
        CASES.append(("width_%s_%d" % (fn, len(CASES)), "[{{ %s %s %s }}]" % (fn, n, text), {}))

# default/coalesce/ternary/required over every truthiness class.
TRUTH = [".Variables.name", ".Variables.empty", ".Variables.zero", ".Variables.nope", ".Variables.nothing",
         ".Variables.emptylist", ".Variables.annotations", ".Variables.disabled", ".Variables.ports", "0.0", "1"]
for v in TRUTH:
    CASES.append(("truth_default_%d" % len(CASES), '{{ default "D" %s }}' % v, {}))
    CASES.append(("truth_coalesce_%d" % len(CASES), '{{ coalesce %s "C" }}' % v, {}))
    CASES.append(("truth_required_%d" % len(CASES), '{{ required "R" %s }}' % v, {}))
    CASES.append(("truth_empty_%d" % len(CASES), '{{ empty %s }}|{{ ternary "T" "F" (empty %s) }}' % (v, v), {}))

# semverCompare over a matrix of constraints and versions.
CONSTRAINTS = [">=1.20", "<1.25.0", "^1.24", "~1.24", "1.24.x", ">=1.21-0", "!=1.24.3", ">1.2 <2", "=v1.24.3"]
VERSIONS = ["1.24.3", "v1.27.1-gke.100", "1.19", "2.0.0-rc.1", "1.24"]
for c, v in itertools.product(CONSTRAINTS, VERSIONS):
    CASES.append(("semver_%d" % len(CASES), '{{ semverCompare "%s" "%s" }}' % (c, v), {}))


def build_oracle(dest):
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="",
               GOCACHE=os.path.join(os.path.dirname(dest), "gocache"))
    env.setdefault("HOME", os.path.dirname(dest))
    subprocess.run([GO, "build", "-o", dest, ORACLE_SRC], check=True, env=env, capture_output=True)


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class SprigDifferentialTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require("go", "the sprig/Helm oracle is built with golang-go")
        require_that(os.path.exists(SPRIG) and os.path.exists(YAMLV2),
                     f"sprig or yaml.v2 Go sources are missing ({SPRIG}, {YAMLV2})",
                     "the sprig/Helm oracle is built from golang-github-masterminds-sprig-dev and "
                     "golang-gopkg-yaml.v2-dev")
        cls.tmp = tempfile.mkdtemp(prefix="sprigdiff")
        cls.oracle = os.path.join(BUILD, "helmtmpl")
        if not os.path.exists(cls.oracle) or os.path.getmtime(cls.oracle) < os.path.getmtime(ORACLE_SRC):
            build_oracle(cls.oracle)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, name, text, opts):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        values = os.path.join(d, "values.yaml")
        with open(values, "w") as f:
            f.write(opts.get("values", VALUES))
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
        want = run([self.oracle, "-values", values] + files, d)
        got = run([APPDEPLOY, "template", "-f", values] + files, d)
        self.assertEqual(got, want, "case %s: template %r" % (name, text[:300]))

    def test_cases(self):
        names = [c[0] for c in CASES]
        self.assertEqual(len(names), len(set(names)), "duplicate case names")
        self.assertGreaterEqual(len(CASES), 500)
        for name, text, opts in CASES:
            if opts.get("skip"):
                continue
            with self.subTest(case=name):
                self.check(name, text, opts)

    def test_chart_fixture(self):
        """tests/template/chart (include, toYaml | nindent, tpl, semverCompare, sha256sum ...) renders as Helm's
        functions render it."""
        d = os.path.join(ROOT, "tests", "template", "chart")
        files = ["_helpers.tpl", "deployment.yaml"]
        want = run([self.oracle, "-values", "values.yaml", "-n", "shop"] + files, d)
        got = run([APPDEPLOY, "template", "-f", "values.yaml", "-n", "shop"] + files, d)
        self.assertEqual(got, want)
        self.assertEqual(want[0], 0, want[2])


if __name__ == "__main__":
    unittest.main()
