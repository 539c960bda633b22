"""test_lookup.py — Helm's `lookup` in a set: empty in `render` and `template --chart` (as `helm template`), the
live cluster in `apply` and `diff` (as `helm install`): an object, not found -> empty map, the list form, a
cluster-scoped kind, a chart inside the set; a refused (403) or failing read and an unreachable server are render
errors that change nothing — against the fake API server."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeharness import KubeTest, write_tree  # noqa: E402
import helmoracle  # noqa: E402
from test_dashboard import Serve, wait_for  # noqa: E402

SET = {
    "web.yaml": """\
        {{- $cm := lookup "v1" "ConfigMap" "shared" "db-settings" }}
        {{- $missing := lookup "v1" "ConfigMap" "shared" "nope" }}
        {{- $list := lookup "v1" "ConfigMap" "shared" "" }}
        {{- $ns := lookup "v1" "Namespace" "" "shared" }}
        {{- $nsIgnored := lookup "v1" "Namespace" "elsewhere" "shared" }}
        {{- $nokind := lookup "v1" "NoSuchKind" "shared" "x" }}
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web
        data:
          host: {{ dig "data" "host" "none" $cm | quote }}
          kind: {{ dig "kind" "" $cm | quote }}
          missing: {{ len $missing | quote }}
          listKind: {{ dig "kind" "" $list | quote }}
          list: "{{ range (dig "items" (list) $list) }}{{ .apiVersion }}/{{ .kind }}/{{ .metadata.name }},{{ end }}"
          namespace: {{ dig "metadata" "name" "" $ns | quote }}
          nsIgnored: {{ dig "metadata" "name" "" $nsIgnored | quote }}
          nokind: {{ len $nokind | quote }}
        """,
    "charts/cache/Chart.yaml": """\
        apiVersion: v2
        name: cache
        version: 0.1.0
        """,
    "charts/cache/values.yaml": "{}\n",
    "charts/cache/templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cache
        data:
          {{- $s := lookup "v1" "Secret" "shared" "db-pass" }}
          password: {{ if $s }}{{ $s.data.password | quote }}{{ else }}"unset"{{ end }}
          {{- if not (lookup "v1" "ConfigMap" "shared" "feature-flag") }}
          flag: "absent"
          {{- end }}
        """,
}

LIVE = {"host": "db.internal", "kind": "ConfigMap", "missing": "0", "listKind": "ConfigMapList",
        "list": "v1/ConfigMap/db-settings,v1/ConfigMap/kube-root-ca.crt,v1/ConfigMap/other,", "namespace": "shared", "nsIgnored": "shared",
        "nokind": "0"}
EMPTY = {"host": "none", "kind": "", "missing": "0", "listKind": "", "list": "", "namespace": "", "nsIgnored": "",
         "nokind": "0"}


def data_maps(text):
    """{# Source: file -> its ConfigMap's data} of render's output (flat string values only)."""
    out, src, in_data = {}, None, False
    for line in text.splitlines():
        if line.startswith("# Source: "):
            src, in_data = line[len("# Source: "):], False
            out[src] = {}
        elif line == "data:":
            in_data = True
        elif in_data and line.startswith("  "):
            k, v = line.strip().split(": ", 1)
            out[src][k] = v[1:-1] if v.startswith('"') else v
        else:
            in_data = False
    return out


class LookupTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.set = os.path.join(self.tmp, "lookupset")
        write_tree(self.set, SET)
        self.kubectl("create", "namespace", "demo")
        self.kubectl("create", "namespace", "shared")
        self.kubectl("create", "configmap", "db-settings", "-n", "shared", "--from-literal=host=db.internal")
        self.kubectl("create", "configmap", "other", "-n", "shared", "--from-literal=x=y")
        self.kubectl("create", "secret", "generic", "db-pass", "-n", "shared", "--from-literal=password=hunter2")
        self.before = len(self.writes())
        self.before_requests = len(self.fk.requests)

    def new_writes(self):
        return self.writes()[self.before:]

    def test_apply_and_diff_read_the_cluster(self):
        p = self.appdeploy("apply", self.set, "-n", "demo")
        self.assertIn("configmap/web created", p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "demo", "web")["data"], LIVE)
        self.assertEqual(self.fk.obj("configmaps", "demo", "cache")["data"],
                         {"password": "aHVudGVyMg==", "flag": "absent"})
        # the same cluster: nothing would change, nothing is sent
        self.appdeploy("diff", self.set, "-n", "demo", expect=0)
        n = len(self.writes())
        p = self.appdeploy("apply", self.set, "-n", "demo")
        self.assertEqual(self.writes()[n:], [])
        self.assertEqual(p.stdout.count("unchanged"), 2, p.stdout)
        # the looked-up objects change: diff shows it, apply follows
        self.kubectl("create", "configmap", "feature-flag", "-n", "shared", "--from-literal=on=yes")
        self.kubectl("patch", "configmap", "db-settings", "-n", "shared", "-p", '{"data":{"host":"db2.internal"}}')
        p = self.appdeploy("diff", self.set, "-n", "demo", expect=1)
        self.assertIn("db2.internal", p.stdout)
        self.assertIn('flag: absent', p.stdout)
        p = self.appdeploy("apply", self.set, "-n", "demo")
        self.assertIn("configmap/web configured", p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "demo", "web")["data"]["host"], "db2.internal")
        self.assertEqual(self.fk.obj("configmaps", "demo", "cache")["data"], {"password": "aHVudGVyMg=="})

    def test_render_and_template_stay_empty(self):
        p = self.appdeploy("render", self.set, "-n", "demo", "-o", "-")
        docs = data_maps(p.stdout)
        self.assertEqual(docs["web.yaml"], EMPTY)
        self.assertEqual(docs["charts/cache/templates/cm.yaml"], {"password": "unset", "flag": "absent"})
        # no request reached the cluster (render has no kubeconfig to use for lookups)
        self.assertEqual([r for r in self.fk.requests[self.before_requests:] if "/shared/" in r["path"]], [])
        # template --chart: exactly helm template's output (lookup answers empty there too)
        helmoracle.require_helm(self)
        oracle = helmoracle.Oracle()
        try:
            want, got = oracle.both(os.path.join(self.set, "charts", "cache"))
        finally:
            oracle.close()
        self.assertEqual(got, want)
        self.assertEqual(got[0], 0)
        self.assertIn('password: "unset"', got[1])

    def test_forbidden_read_is_a_render_error(self):
        self.fk.faults.append({"method": "GET", "path": r"^/api/v1/namespaces/shared/configmaps/db-settings$",
                               "status": 403, "count": 100,
                               "message": 'configmaps "db-settings" is forbidden: User "admin" cannot get resource'})
        for cmd in ("apply", "diff"):
            p = self.appdeploy(cmd, self.set, "-n", "demo", expect=1 if cmd == "apply" else 2)
            self.assertIn('template: web.yaml:1:', p.stderr)
            self.assertIn('error calling lookup: reading /v1, Kind=ConfigMap shared/db-settings from the cluster: '
                          'configmaps "db-settings" is forbidden', p.stderr)
            self.assertIn("HTTP 403", p.stderr)
            self.assertIn("render failed; nothing was changed", p.stderr)
        self.assertEqual(self.new_writes(), [])

    def test_failing_list_is_a_render_error(self):
        self.fk.faults.append({"method": "GET", "path": r"^/api/v1/namespaces/shared/configmaps$", "status": 403,
                               "count": 100, "message": 'configmaps is forbidden: User "admin" cannot list resource'})
        p = self.appdeploy("apply", self.set, "-n", "demo", expect=1)
        self.assertIn("reading /v1, Kind=ConfigMap shared/(list) from the cluster: configmaps is forbidden", p.stderr)
        self.assertEqual(self.new_writes(), [])

    def test_unserved_group_version_is_an_error(self):
        with open(os.path.join(self.set, "crd.yaml"), "w") as f:
            f.write('{{- $x := lookup "example.com/v9" "Widget" "shared" "w" }}\n')
        p = self.appdeploy("apply", self.set, "-n", "demo", expect=1)
        self.assertIn("error calling lookup: unable to get apiresource from unstructured: example.com/v9, Kind=Widget: "
                      "the server could not find the requested resource", p.stderr)
        self.assertEqual(self.new_writes(), [])

    def test_unreachable_server_stops_apply_before_the_render(self):
        # the pipeline reads the saved source-mode state before its one render, so an unreachable
        # server is named there, and nothing is rendered or applied
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        with open(self.kubeconfig) as f:
            text = f.read()
        dead = os.path.join(self.tmp, "dead-kubeconfig")
        with open(dead, "w") as f:
            f.write(text.replace(f"127.0.0.1:{self.fk.port}", f"127.0.0.1:{port}"))
        p = self.appdeploy("apply", self.set, "-n", "demo", "--kubeconfig", dead, expect=1)
        self.assertIn(f"appdeploy apply: reading the source-mode state (configmap appdeploy-source-mode): "
                      f"cannot reach https://127.0.0.1:{port}:", p.stderr)
        self.assertNotIn("error calling lookup", p.stderr)

    def test_dashboard_resync_follows_a_looked_up_object(self):
        s = Serve(self, [self.set, "-n", "demo", "--kubeconfig", self.kubeconfig, "--listen", "127.0.0.1:0",
                         "--interval", "300ms", "--poll", "200ms"])
        try:
            host = lambda: (self.fk.obj("configmaps", "demo", "web") or {}).get("data", {}).get("host")  # noqa: E731
            wait_for(lambda: host() == "db.internal", 30, "the first sync to write the looked-up host")
            self.kubectl("patch", "configmap", "db-settings", "-n", "shared", "-p", '{"data":{"host":"db3.internal"}}')
            wait_for(lambda: host() == "db3.internal", 30, "the periodic re-sync to follow the looked-up object")
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()
