"""test_helm_chart.py — chart mode against the real helm, byte for byte: `appdeploy template --chart` and
`helm template` on our own test chart (tests/template/charts/shop: subcharts, a library chart, an alias,
condition/tags, import-values, globals, .Files, .helmignore, hooks, NOTES.txt, CRDs), on it packaged as
.tgz, and on `helm create`'s starter chart generated at test time; values files, --set, errors."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helmoracle  # noqa: E402

SHOP = os.path.join(helmoracle.CHARTS, "shop")
VALUE_SETS = [
    [],
    ["-f", os.path.join(SHOP, "values-prod.yaml")],
    ["-f", os.path.join(SHOP, "values-lean.yaml")],
    ["-f", os.path.join(SHOP, "values-prod.yaml"), "-f", os.path.join(SHOP, "values-lean.yaml"),
     "--api-versions", "monitoring.coreos.com/v1"],
    ["--set", "replicaCount=7,service.port=9090", "--set-string", "cache.size=12", "--set", "labels.team=null"],
    ["--set", "extraEnv.A=1", "--set", "ingress.enabled=true", "--set", "ingress.hosts={a.example,b.example}",
     "--set", "global.region=ap-south-1", "--set", "monitor.enabled=true", "--set", "tags.backend=false"],
    ["--kube-version", "1.29.4", "-n", "staging"],
]


class HelmChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.oracle = helmoracle.Oracle()

    @classmethod
    def tearDownClass(cls):
        cls.oracle.close()

    def setUp(self):
        helmoracle.require_helm(self)

    def same(self, chart, args=(), release="release-name"):
        want, got = self.oracle.both(chart, list(args), release)
        self.assertEqual(got, want, f"chart {chart} {args}")
        return got

    def test_shop_across_values(self):
        for args in VALUE_SETS:
            with self.subTest(args=args):
                rc, out, _ = self.same(SHOP, ["-n", "prod"] + args, release="rel")
                self.assertEqual(rc, 0)
                self.assertGreater(out.count("# Source: "), 8)

    def test_shop_default_release_name(self):
        rc, out, _ = self.same(SHOP)
        self.assertIn("release-name-shop", out)

    def test_packaged_chart_and_subchart(self):
        work = tempfile.mkdtemp(dir=self.oracle.tmp)
        chart = os.path.join(work, "shop")
        shutil.copytree(SHOP, chart)
        # the db subchart as a .tgz in charts/
        p = subprocess.run([helmoracle.HELM, "package", os.path.join(chart, "charts", "db"), "-d",
                            os.path.join(chart, "charts")], capture_output=True, text=True, env=self.oracle.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        shutil.rmtree(os.path.join(chart, "charts", "db"))
        self.assertTrue(os.path.exists(os.path.join(chart, "charts", "db-0.3.0.tgz")))
        self.same(chart, ["-f", os.path.join(SHOP, "values-prod.yaml")])
        # the whole chart as a .tgz
        p = subprocess.run([helmoracle.HELM, "package", chart, "-d", work], capture_output=True, text=True,
                           env=self.oracle.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.same(os.path.join(work, "shop-1.4.2.tgz"))

    def test_helm_create_starter(self):
        work = tempfile.mkdtemp(dir=self.oracle.tmp)
        p = subprocess.run([helmoracle.HELM, "create", os.path.join(work, "starter")], capture_output=True, text=True,
                           env=self.oracle.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        chart = os.path.join(work, "starter")
        for args in ([], ["--set", "ingress.enabled=true"], ["--set", "autoscaling.enabled=true"],
                     ["--set", "serviceAccount.create=false,service.type=NodePort"],
                     ["--set", "ingress.enabled=true,ingress.tls[0].secretName=s,ingress.tls[0].hosts[0]=h.example"],
                     ["--set", "httpRoute.enabled=true"]):
            with self.subTest(args=args):
                rc, out, _ = self.same(chart, args, release="demo")
                self.assertEqual(rc, 0)

    def test_errors_as_helms(self):
        work = tempfile.mkdtemp(dir=self.oracle.tmp)
        cases = {
            "required": ('a: {{ required "a value for x is needed" .Values.x }}\n', ""),
            "fail": ('{{ fail "this chart refuses" }}\n', ""),
            "parse": ("a: {{ .Values.x }\n", ""),
            "yaml": ("a: b: c\n", ""),
            "undefined_function": ("a: {{ nope 1 }}\n", ""),
            "nil_pointer": ("a: {{ .Values.x.y.z }}\n", ""),
            "include_missing": ('a: {{ include "nope" . }}\n', ""),
            "bad_values_file": ("a: 1\n", "x: [1\n"),
        }
        for name, (text, values) in cases.items():
            with self.subTest(case=name):
                chart = self.oracle.one_template_chart(text, values, name="c" + name.replace("_", ""))
                rc, _, err = self.same(chart)
                self.assertEqual(rc, 1)
                self.assertTrue(err.startswith("Error: "), err)
        # a values file given with -f that is not YAML, and one that is not a map
        bad = os.path.join(work, "bad.yaml")
        with open(bad, "w") as f:
            f.write("a: [1\n")
        self.same(SHOP, ["-f", bad])
        with open(bad, "w") as f:
            f.write("- 1\n")
        self.same(SHOP, ["-f", bad])
        # a subchart's values that are not a table
        self.same(SHOP, ["--set", "db=5"])
        # the chart's kubeVersion constraint
        rc, _, err = self.same(SHOP, ["--kube-version", "1.19.0"])
        self.assertIn("incompatible with Kubernetes v1.19.0", err)

    def test_values_schema(self):
        strict = os.path.join(helmoracle.CHARTS, "strict")
        ok = self.same(strict)
        self.assertEqual(ok[0], 0)
        # one failing keyword per run: Helm lists several in Go's random map order
        for args in (["--set", "name=ab"], ["--set", "name=Checkout"], ["--set", "name=" + "x" * 21],
                     ["--set", "replicas=0"], ["--set", "replicas=11"], ["--set", "replicas=two"],
                     ["--set", "ratio=0"], ["--set", "ratio=1"], ["--set", "mode=medium"],
                     ["--set", "tags=null"], ["--set", "tags={a,b,c,d}"], ["--set", "tags={a,a}"], ["--set", "tags[0]=1"],
                     ["--set", "image.tag=latest"], ["--set", "image.other=x"], ["--set", "image.pullPolicy=Never"],
                     ["--set", "image=null"], ["--set", "port=80"], ["--set", "port=http"], ["--set", "port=HTTP"],
                     ["--set", "extra.a=1"], ["--set", "extra.a=1,extra.b=2,extra.c=3"],
                     ["--set", "part.level=9"], ["--set", "part.level=x"], ["--set", "name=x,part.level=7"]):
            with self.subTest(args=args):
                self.same(strict, args)
        with tempfile.TemporaryDirectory(dir=self.oracle.tmp) as d:
            bad = os.path.join(d, "bad")
            shutil.copytree(strict, bad)
            with open(os.path.join(bad, "values.schema.json"), "w") as f:
                f.write('{"type": "object", "properties": {"name": {"type": "string"}}}')
            self.same(bad, ["--set", "name=5"])

    def test_chart_structure_errors(self):
        work = tempfile.mkdtemp(dir=self.oracle.tmp)
        lib = os.path.join(SHOP, "charts", "common")
        rc, _, err = self.same(lib)
        self.assertEqual(err, "Error: library charts are not installable\n")
        chart = os.path.join(work, "shop")
        shutil.copytree(SHOP, chart)
        shutil.rmtree(os.path.join(chart, "charts", "cache"))
        rc, _, err = self.same(chart)
        self.assertIn("missing in charts/ directory: cache", err)
        os.remove(os.path.join(chart, "Chart.yaml"))
        rc, _, err = self.same(chart)
        self.assertEqual(rc, 1)
        noversion = self.oracle.one_template_chart("a: 1\n", name="nover")
        with open(os.path.join(noversion, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: nover\n")
        self.same(noversion)


if __name__ == "__main__":
    unittest.main()
