// helmtmpl.go — the sprig/Helm differential oracle: Go's text/template with sprig's TxtFuncMap plus Helm's own functions, on YAML data.
//
// Usage: helmtmpl [-values FILE.yaml] [-n NS] [-missingkey error] FILE...
// Output mirrors `appdeploy template`: each non-"_" file's output on stdout; the first error's
// text on stderr followed by a newline, exit status 1.
//
// Builds offline in GOPATH mode from Debian's packages (GO111MODULE=off GOPATH=/usr/share/gocode):
// golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v2-dev.
//
// Helm's extra functions (toYaml, fromYaml, toJson, fromJson, include, tpl, required) are written
// here from Helm's documented behaviour (pkg/engine/funcs.go, engine.go). Helm's YAML goes through
// sigs.k8s.io/yaml, which is JSON plus yaml.v2: Marshal is json.Marshal, then yaml.v2 Unmarshal of
// that JSON, then yaml.v2 Marshal; Unmarshal is yaml.v2 Unmarshal, JSON-compatible conversion of map
// keys, json.Marshal, then encoding/json decoding. sigs.k8s.io/yaml is not packaged, so that
// pipeline is rebuilt below from yaml.v2 itself (recent sigs.k8s.io/yaml vendors a yaml.v2 fork
// with the same output). One deliberate change: Helm decodes fromYaml/fromJson numbers as float64
// (1234567 prints 1.234567e+06); appdeploy keeps integers as Go ints, so the oracle decodes JSON
// numbers with UseNumber and types them the way the values loader does.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

// recursionMaxNums is Helm's limit on nested include of one template name.
const recursionMaxNums = 1000

// number types a json.Number as the values loader does: int when integral, else float64.
func number(x json.Number) interface{} {
	s := string(x)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
	}
	f, _ := x.Float64()
	return f
}

func convertNumbers(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		return number(x)
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []interface{}:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	}
	return v
}

// stringKeys turns yaml.v2's map[interface{}]interface{} into map[string]interface{} (values files).
func stringKeys(v interface{}) interface{} {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []interface{}:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
	}
	return v
}

// jsonable is sigs.k8s.io/yaml's convertToJSONableObject for interface{} targets: map keys become
// strings (ints and floats formatted, bools spelled), anything else is refused.
func jsonable(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, e := range x {
			var key string
			switch tk := k.(type) {
			case string:
				key = tk
			case int:
				key = strconv.FormatInt(int64(tk), 10)
			case int64:
				key = strconv.FormatInt(tk, 10)
			case uint64:
				key = strconv.FormatUint(tk, 10)
			case float64:
				key = strconv.FormatFloat(tk, 'g', -1, 64)
			case bool:
				key = strconv.FormatBool(tk)
			default:
				return nil, fmt.Errorf("Unsupported map key of type: %T, key: %+#v, value: %+#v", k, k, e)
			}
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[key] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// yamlUnmarshal is sigs.k8s.io/yaml.Unmarshal into *out (numbers: see the file comment).
func yamlUnmarshal(y []byte, out interface{}) error {
	var obj interface{}
	if err := yaml.Unmarshal(y, &obj); err != nil {
		return fmt.Errorf("error converting YAML to JSON: %v", err)
	}
	conv, err := jsonable(obj)
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: %v", err)
	}
	j, err := json.Marshal(conv)
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		return fmt.Errorf("error unmarshaling JSON: while decoding JSON: %v", err)
	}
	return nil
}

// yamlMarshal is sigs.k8s.io/yaml.Marshal: JSON first, so numbers, keys and tags are JSON's.
func yamlMarshal(v interface{}) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("error marshaling into JSON: %v", err)
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return nil, fmt.Errorf("error converting JSON to YAML: %v", err)
	}
	return yaml.Marshal(obj)
}

func toYAML(v interface{}) string {
	data, err := yamlMarshal(v)
	if err != nil {
		return "" // Helm swallows errors inside a template
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yamlUnmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	convertNumbers(m)
	return m
}

func fromYAMLArray(str string) []interface{} {
	a := []interface{}{}
	if err := yamlUnmarshal([]byte(str), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	convertNumbers(a)
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(str string) map[string]interface{} {
	m := map[string]interface{}{}
	d := json.NewDecoder(strings.NewReader(str))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		m["Error"] = err.Error()
	}
	convertNumbers(m)
	return m
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	} else if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

// includeFun is Helm's include: executes a named template into a string, refusing runaway nesting.
func includeFun(t *template.Template, names map[string]int) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if v, ok := names[name]; ok {
			if v > recursionMaxNums {
				return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
			}
			names[name]++
		} else {
			names[name] = 1
		}
		err := t.ExecuteTemplate(&buf, name, data)
		names[name]--
		return buf.String(), err
	}
}

// tplFun is Helm's tpl: parses the string in a clone of the template set (its defines visible to
// include), executes it, and blanks "<no value>".
func tplFun(parent *template.Template, names map[string]int, strict bool) func(string, interface{}) (string, error) {
	return func(text string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %v", err)
		}
		if strict {
			t.Option("missingkey=error")
		} else {
			t.Option("missingkey=zero")
		}
		t.Funcs(template.FuncMap{"include": includeFun(t, names), "tpl": tplFun(t, names, strict)})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"required":      required,
		// late-bound to the template set in main, as Helm does
		"include": func(string, interface{}) string { return "not implemented" },
		"tpl":     func(string, interface{}) interface{} { return "not implemented" },
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

func main() {
	valuesFile := flag.String("values", "", "YAML file with the variables")
	ns := flag.String("n", "", "namespace")
	missing := flag.String("missingkey", "", "missingkey option")
	flag.Parse()

	vars := map[string]interface{}{}
	if *valuesFile != "" {
		raw, err := os.ReadFile(*valuesFile)
		if err != nil {
			fail(err.Error())
		}
		var obj interface{}
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			fail(err.Error())
		}
		if m, ok := stringKeys(obj).(map[string]interface{}); ok {
			vars = m
		}
	}
	namespace := *ns
	if namespace == "" {
		if s, ok := vars["namespace"].(string); ok {
			namespace = s
		}
	}
	data := map[string]interface{}{
		"Variables":        vars,
		"Namespace":        namespace,
		"ImagePullSecrets": []interface{}{},
		"Images":           map[string]interface{}{},
		"Source":           map[string]interface{}{},
	}

	// Helm names its root template "gotpl": include and tpl errors show it
	root := template.New("gotpl").Funcs(funcMap())
	strict := *missing == "error"
	if *missing != "" {
		root.Option("missingkey=" + *missing)
	}
	names := []string{}
	for _, f := range flag.Args() {
		text, err := os.ReadFile(f)
		if err != nil {
			fail(err.Error())
		}
		name := filepath.Base(f)
		if _, err := root.New(name).Parse(string(text)); err != nil {
			fail(err.Error())
		}
		names = append(names, name)
	}
	included := map[string]int{}
	root.Funcs(template.FuncMap{"include": includeFun(root, included), "tpl": tplFun(root, included, strict)})
	for _, name := range names {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(buf.Bytes())
	}
}
