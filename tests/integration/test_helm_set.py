"""test_helm_set.py — a set with a Helm chart inside: the chart folder renders in chart mode as part of the set
(values from the set's variable named like the chart, the set's namespace/source/images under
global.sourcemode), its objects are owned, applied, re-applied with nothing sent, and pruned when a values
change removes one — against the fake API server."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeharness import KubeTest, write_tree  # noqa: E402

SET = {
    "variables.yaml": """\
        cache:
          replicas: 2
          metrics:
            enabled: true
        """,
    "web.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web
        data:
          ns: {{ .Namespace }}
        """,
    "charts/cache/Chart.yaml": """\
        apiVersion: v2
        name: cache
        version: 0.1.0
        appVersion: "7.2"
        """,
    "charts/cache/values.yaml": """\
        replicas: 1
        metrics:
          enabled: false
        """,
    "charts/cache/templates/_helpers.tpl": """\
        {{- define "cache.name" -}}{{ .Release.Name }}-store{{- end -}}
        """,
    "charts/cache/templates/deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ include "cache.name" . }}
          namespace: {{ .Release.Namespace }}
        spec:
          replicas: {{ .Values.replicas }}
          selector:
            matchLabels: {app: cache}
          template:
            metadata:
              labels: {app: cache}
            spec:
              containers:
                - name: cache
                  image: {{ index .Values.global.sourcemode.images "cache" | default (printf "redis:%s" .Chart.AppVersion) }}
        """,
    "charts/cache/templates/metrics.yaml": """\
        {{- if .Values.metrics.enabled }}
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ include "cache.name" . }}-metrics
        spec:
          selector: {app: cache}
          ports: [{port: 9121}]
        {{- end }}
        """,
    "charts/cache/templates/NOTES.txt": "not an object\n",
}


class HelmSetTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.set = os.path.join(self.tmp, "shopset")
        write_tree(self.set, SET)

    def test_render_includes_the_chart(self):
        p = self.appdeploy("render", self.set, "-n", "demo", "-o", "-")
        self.assertIn("name: cache-store\n", p.stdout)
        self.assertIn("appdeploy.sourcemode.dev/source: charts/cache/templates/deployment.yaml", p.stdout)
        self.assertIn("name: cache-store-metrics", p.stdout)
        self.assertIn("image: redis:7.2", p.stdout)
        self.assertNotIn("not an object", p.stdout)
        self.assertEqual(p.stdout.count("appdeploy.sourcemode.dev/set: shopset"), 3, p.stdout)

    def test_apply_reapply_prune(self):
        p = self.appdeploy("apply", self.set, "-n", "demo")
        for what in ("configmap/web created", "deployment.apps/cache-store created", "service/cache-store-metrics created"):
            self.assertIn(what, p.stdout)
        dep = self.fk.obj("deployments", "demo", "cache-store")
        self.assertEqual(dep["spec"]["replicas"], 2)  # the set's variables win over the chart's values.yaml
        self.assertEqual(dep["metadata"]["labels"]["appdeploy.sourcemode.dev/set"], "shopset")
        self.assertEqual(dep["metadata"]["labels"]["app.kubernetes.io/managed-by"], "appdeploy")
        # again: nothing is sent
        n = len(self.writes())
        p = self.appdeploy("apply", self.set, "-n", "demo")
        self.assertEqual(self.writes()[n:], [])
        self.assertEqual(p.stdout.count("unchanged"), 3, p.stdout)
        # a values change removes the chart's Service: it is pruned, the rest stays
        p = self.appdeploy("apply", self.set, "-n", "demo", "-v", "cache.metrics.enabled=false")
        self.assertIn("service/cache-store-metrics pruned", p.stdout)
        self.assertEqual(p.stdout.count("pruned"), 1, p.stdout)
        self.assertIsNone(self.fk.obj("services", "demo", "cache-store-metrics"))
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "cache-store"))
        self.assertIsNotNone(self.fk.obj("configmaps", "demo", "web"))

    def test_images_reach_the_chart(self):
        images = os.path.join(self.tmp, "images.yaml")
        with open(images, "w") as f:
            f.write("cache: registry.example.com/cache:ci-42\n")
        p = self.appdeploy("render", self.set, "-n", "demo", "--images", images, "-o", "-")
        self.assertIn("image: registry.example.com/cache:ci-42", p.stdout)

    def test_chart_error_names_the_chart(self):
        with open(os.path.join(self.set, "charts/cache/templates/bad.yaml"), "w") as f:
            f.write("a: {{ .Values.nope.deeper }}\n")
        p = self.appdeploy("render", self.set, "-n", "demo", "-o", "-", expect=1)
        self.assertIn("charts/cache: template: cache/templates/bad.yaml:1:13", p.stderr)
        self.assertIn("nil pointer evaluating interface {}.deeper", p.stderr)


if __name__ == "__main__":
    unittest.main()
