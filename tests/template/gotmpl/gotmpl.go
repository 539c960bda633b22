// gotmpl.go — the differential-test oracle: runs template files through Go's own text/template
// with the same data layout `appdeploy template` builds (.Variables from a JSON file, .Namespace, ...).
//
// Usage: gotmpl [-data FILE.json] [-root] [-n NS] [-missingkey error] FILE...
// Output mirrors `appdeploy template`: each non-"_" file's output on stdout; the first error's
// text on stderr followed by a newline, exit status 1.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// convert turns json.Number into int or float64 the way YAML loading types them.
func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := x.Int64(); err == nil {
				return int(i)
			}
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	}
	return v
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

func main() {
	dataFile := flag.String("data", "", "JSON file with the variables")
	ns := flag.String("n", "", "namespace")
	missing := flag.String("missingkey", "", "missingkey option")
	asRoot := flag.Bool("root", false, "use the JSON data itself as dot (unit-test checks)")
	flag.Parse()

	vars := map[string]interface{}{}
	if *dataFile != "" {
		raw, err := os.ReadFile(*dataFile)
		if err != nil {
			fail(err.Error())
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			fail(err.Error())
		}
		convert(vars)
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
		"SourceMode":       map[string]interface{}{},
	}

	var dot interface{} = data
	if *asRoot {
		dot = vars
	}
	root := template.New("")
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
	for _, name := range names {
		if strings.HasPrefix(name, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, dot); err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(buf.Bytes())
	}
}
