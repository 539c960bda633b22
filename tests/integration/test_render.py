"""test_render.py — `appdeploy render`: golden output, -o DIR, variables precedence, and file:line errors for bad templates and manifests."""
import os
import shutil
import subprocess
import tempfile
import unittest

from kubeharness import APPDEPLOY, require_that, write_tree

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "testdata", "render")


def run(*args, env=None, cwd=None):
    e = dict(os.environ, HOME="/nonexistent")
    e.pop("KUBECONFIG", None)
    e.update(env or {})
    return subprocess.run([APPDEPLOY] + list(args), capture_output=True, text=True, env=e, cwd=cwd, timeout=60)


class Render(unittest.TestCase):
    def setUp(self):
        require_that(os.path.exists(APPDEPLOY), "no appdeploy binary at " + APPDEPLOY, "the render tests run it",
                     "make builds it")
        self.tmp = tempfile.mkdtemp(prefix="render-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ok(self, *args, **kw):
        p = run(*args, **kw)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def bad(self, *args, status=1, **kw):
        p = run(*args, **kw)
        self.assertEqual(p.returncode, status, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        return p

    def test_golden(self):
        p = self.ok("render", os.path.join(DATA, "app"), "-n", "shop", "-i", "regcred")
        golden = os.path.join(DATA, "app.golden.yaml")
        if os.environ.get("REGEN"):
            with open(golden, "w") as f:
                f.write(p.stdout)
        with open(golden) as f:
            self.assertEqual(p.stdout, f.read())
        self.assertEqual(p.stderr, "")

    def test_output_dir(self):
        out = os.path.join(self.tmp, "out")
        self.ok("render", os.path.join(DATA, "app"), "-n", "shop", "-o", out)
        # .appdeploy-render lists the files render wrote, so the next render removes stale ones (#10)
        self.assertEqual(sorted(os.listdir(out)), [".appdeploy-render", "000-deployment-shop.yaml",
                                                   "001-service-shop.yaml", "002-configmap-shop-config.yaml"])
        with open(os.path.join(out, "001-service-shop.yaml")) as f:
            text = f.read()
        self.assertTrue(text.startswith("# Source: sub/service.yml\napiVersion: v1\nkind: Service\n"), text)

    def test_failed_render_writes_nothing(self):
        d = os.path.join(self.tmp, "d")
        write_tree(d, {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                       "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Variables.nope }}}\n"})
        out = os.path.join(self.tmp, "out")
        self.bad("render", d, "-o", out)
        self.assertFalse(os.path.exists(out) and os.listdir(out))

    def test_variables_precedence_and_types(self):
        d = os.path.join(self.tmp, "d")
        write_tree(d, {
            "variables.yaml": "a: dir\nb: dir\nc: dir\nnested: {x: 1, y: 2}\n",
            "cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: cm
                data:
                  a: {{ .Variables.a | quote }}
                  b: {{ .Variables.b | quote }}
                  c: {{ .Variables.c | quote }}
                  x: {{ .Variables.nested.x | quote }}
                  y: {{ .Variables.nested.y | quote }}
                  kinds: "{{ printf \"%T %T\" .Variables.n .Variables.t }}"
            """})
        f1 = os.path.join(self.tmp, "f1.yaml")
        with open(f1, "w") as f:
            f.write("b: file\nc: file\nnested: {y: 20}\n")
        p = self.ok("render", d, "-f", f1, "-v", "c=flag", "-v", "nested.x=10", "-v", "n:5", "-v", "t=yes")
        for line in ('a: dir', 'b: file', 'c: flag', 'x: "10"', '"y": "20"', 'kinds: int bool'):
            self.assertIn(line, p.stdout)

    def test_namespace_sources(self):
        d = os.path.join(self.tmp, "d")
        write_tree(d, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {ns: '{{ .Namespace }}'}\n"})
        self.assertIn("ns: default", self.ok("render", d).stdout)
        self.assertIn("ns: fromflag", self.ok("render", d, "-n", "fromflag").stdout)
        self.assertIn("ns: fromvar", self.ok("render", d, "-v", "namespace=fromvar").stdout)
        kc = os.path.join(self.tmp, "kc")
        with open(kc, "w") as f:
            f.write("current-context: c\ncontexts: [{name: c, context: {cluster: k, namespace: fromctx}}]\n"
                    "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n")
        self.assertIn("ns: fromctx", self.ok("render", d, "--kubeconfig", kc).stdout)

    def test_set_label(self):
        d = os.path.join(self.tmp, "mystack")
        write_tree(d, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"})
        self.assertIn("appdeploy.sourcemode.dev/set: mystack", self.ok("render", d).stdout)
        self.assertIn("appdeploy.sourcemode.dev/set: other", self.ok("render", d, "--set", "other").stdout)
        p = self.bad("render", d, "--set", "not valid!")
        self.assertIn('set name "not valid!" is not a valid label value', p.stderr)

    def test_errors_name_the_place(self):
        cases = [
            ("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Variables.x }\n",
             "template: a.yaml:4: unexpected \"}\" in operand"),
            ("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Variables.missing }}\n",
             "template: a.yaml:4:21: executing \"a.yaml\" at <.Variables.missing>: map has no entry for key \"missing\""),
            ("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
             "a.yaml:3:1: rendered ConfigMap (document 1): metadata.name is missing"),
            ("a.yaml", "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: Service\nmetadata: {name: s}\n",
             "a.yaml:6:1: rendered document 2: apiVersion is missing"),
            ("a.yaml", "apiVersion: v1\nkind: [x]\nmetadata: {name: s}\n",
             "a.yaml:2:7: rendered document 1: kind must be a non-empty string"),
            ("a.yaml", "- just\n- a list\n", "a.yaml:1:1: rendered document 1 is not a mapping"),
            ("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [\n",
             "a.yaml:5:1: rendered output is not valid YAML"),
            ("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    n: 5\n",
             "a.yaml:6:8: ConfigMap x: label n must be a string (quote it)"),
        ]
        for i, (name, text, want) in enumerate(cases):
            d = os.path.join(self.tmp, "case%d" % i)
            write_tree(d, {name: text})
            p = self.bad("render", d)
            self.assertIn(want, p.stderr, "case %d" % i)
            self.assertEqual(p.stdout, "", "case %d" % i)

    def test_helpers_only_define(self):
        d = os.path.join(self.tmp, "d")
        write_tree(d, {"_helpers.tpl": "{{ define \"x\" }}name: fromhelper{{ end }}\nthis text is never rendered\n",
                       "_partial.yaml": "{{ define \"y\" }}y{{ end }}garbage: [\n",
                       "deep/er/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  {{ template \"x\" }}\n",
                       ".hidden/x.yaml": "garbage: [\n", "notes.txt": "ignored"})
        p = self.ok("render", d)
        self.assertIn("name: fromhelper", p.stdout)
        self.assertIn("# Source: deep/er/cm.yaml", p.stdout)
        self.assertNotIn("never rendered", p.stdout)

    def test_stable_order(self):
        d = os.path.join(self.tmp, "d")
        names = ["b.yaml", "a/z.yaml", "a.yml", "c/d/e.yaml", "B.yaml"]
        write_tree(d, {n: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n" % n.replace("/", "-").replace(".", "-").lower()
                       for n in names})
        p = self.ok("render", d)
        got = [l[len("# Source: "):] for l in p.stdout.splitlines() if l.startswith("# Source: ")]
        self.assertEqual(got, sorted(names))

    def test_usage_errors(self):
        self.assertIn("which DIR?", self.bad("render", status=2).stderr)
        self.assertIn("unknown flag --bogus", self.bad("render", ".", "--bogus", status=2).stderr)
        self.assertIn("--dry-run is not a flag of this command", self.bad("render", ".", "--dry-run", status=2).stderr)
        self.assertIn("-v needs a value", self.bad("render", ".", "-v", status=2).stderr)
        self.assertIn("no manifest templates", self.bad("render", self.tmp).stderr)
        self.assertIn("No such file or directory", self.bad("render", self.tmp + "/nope").stderr)

    def test_images_file(self):
        d = os.path.join(self.tmp, "d")
        write_tree(d, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
                                  "data: {web: '{{ .Images.web }}'}\n"})
        img = os.path.join(self.tmp, "images.yaml")
        with open(img, "w") as f:
            f.write("web: registry.example/web@sha256:abc\n")
        self.assertIn("web: registry.example/web@sha256:abc", self.ok("render", d, "--images", img).stdout)
        # the same list from CI over HTTP
        import functools
        import http.server
        import threading
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=self.tmp)
        handler.log_message = lambda *a: None
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            url = "http://127.0.0.1:%d/" % srv.server_address[1]
            self.assertIn("web: registry.example/web@sha256:abc",
                          self.ok("render", d, "--images", url + "images.yaml").stdout)
            p = self.bad("render", d, "--images", url + "missing.yaml")
            self.assertIn("--images %smissing.yaml: HTTP 404" % url, p.stderr)
        finally:
            srv.shutdown()
            srv.server_close()


if __name__ == "__main__":
    unittest.main()
