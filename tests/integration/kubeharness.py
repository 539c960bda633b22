"""kubeharness.py — what the appdeploy integration tests share: a fake API server per test, manifest folders, runners for appdeploy and kubectl."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakekube"))
import fakekube  # noqa: E402
from harness import require, require_that  # noqa: E402

BUILD = os.environ.get("SOURCEMODE_BUILD") or os.path.join(HERE, "..", "..", "build")
APPDEPLOY = os.environ.get("APPDEPLOY") or os.path.join(BUILD, "appdeploy")
KUBECTL = shutil.which("kubectl")
TOKEN = "s3cr3t-t0ken-never-shown"

# Certificates are slow to make: one CA/server/client set for the whole run.
_CERTS = None


def certs_dir():
    global _CERTS
    if _CERTS is None:
        _CERTS = tempfile.mkdtemp(prefix="fakekube-certs-")
        fakekube.make_certs(_CERTS, ("admin", "viewer"))
    return _CERTS


def write_tree(root, files):
    """files: {relative path: text}; text is dedented."""
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))


APP = {
    "variables.yaml": """
        replicas: 2
        image: registry.example/web:1.0
        ingress: false
    """,
    "_helpers.tpl": """
        {{- define "web.labels" }}app: web{{ end }}
    """,
    "00-config.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-config
        data:
          greeting: hello
          namespace: {{ .Namespace }}
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: web-secret
        stringData:
          password: hunter2
    """,
    "sa.yaml": """
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: web
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: web
        rules:
        - apiGroups: [""]
          resources: ["configmaps"]
          verbs: ["get"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: web
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web}
        subjects: [{kind: ServiceAccount, name: web}]
    """,
    "web.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels:
            {{ template "web.labels" }}
        spec:
          replicas: {{ .Variables.replicas }}
          selector:
            matchLabels:
              {{ template "web.labels" }}
          template:
            metadata:
              labels:
                {{ template "web.labels" }}
            spec:
              serviceAccountName: web
              containers:
              - name: web
                image: {{ .Variables.image }}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector:
            app: web
          ports:
          - port: 80
    """,
    "worker.yaml": """
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: cleanup
        spec:
          schedule: "*/5 * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - name: c
                    image: busybox
        ---
        {{- if .Variables.ingress }}
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: web
        spec:
          rules: []
        {{- end }}
    """,
}


class KubeTest(unittest.TestCase):
    """Starts a fresh fake API server (HTTPS, bearer token) and a temp dir for each test."""
    tls = True
    page_cap = 0
    rollout_delay = 0.2

    def setUp(self):
        require_that(os.path.exists(APPDEPLOY), "no appdeploy binary at " + APPDEPLOY, "every appdeploy test runs it",
                     "make builds it")
        self.tmp = tempfile.mkdtemp(prefix="appdeploy-test-")
        self.fk = fakekube.FakeKube(tokens={TOKEN: "admin", "viewer-token": "viewer"}, readonly=("viewer",),
                                    tls_dir=certs_dir() if self.tls else None, page_cap=self.page_cap,
                                    rollout_delay=self.rollout_delay)
        self.fk.start()
        self.kubeconfig = self.fk.kubeconfig(os.path.join(self.tmp, "kubeconfig"), namespace="default", token=TOKEN)
        self.dir = os.path.join(self.tmp, "app")
        write_tree(self.dir, APP)

    def tearDown(self):
        self.fk.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def appdeploy(self, *args, env=None, expect=0, kubeconfig=True):
        e = dict(os.environ)
        e.pop("KUBECONFIG", None)
        # each test's own discovery cache: a port reused by a later test's fake must not meet this one's
        e.setdefault("APPDEPLOY_CACHE_DIR", os.path.join(self.tmp, "cache"))
        e.update(env or {})
        argv = [APPDEPLOY] + list(args)
        if kubeconfig and args and args[0] in ("apply", "diff") and "--kubeconfig" not in args:
            argv += ["--kubeconfig", self.kubeconfig]
        p = subprocess.run(argv, capture_output=True, text=True, env=e, timeout=120)
        if expect is not None and p.returncode != expect:
            self.fail("%s exited %d, want %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(argv), p.returncode, expect,
                                                                           p.stdout, p.stderr))
        self.assertNotIn(TOKEN, p.stdout + p.stderr)
        # a sanitizer report must fail the test even where a non-zero exit is expected
        self.assertNotIn("Sanitizer", p.stderr)
        self.assertNotIn("runtime error:", p.stderr)
        return p

    def kubectl(self, *args, expect=0, stdin=None):
        kubectl = require(KUBECTL or "kubectl", "the real client is driven against fakekube")
        argv = [kubectl, "--kubeconfig", self.kubeconfig] + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, input=stdin, timeout=60)
        if expect is not None and p.returncode != expect:
            self.fail("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
        return p

    def rvs(self, ns="demo"):
        """{(plural, name): resourceVersion} of everything in the namespace."""
        out = {}
        with self.fk.store.lock:
            for (g, plural, n, name), o in self.fk.store.objs.items():
                if n == ns:
                    out[(plural, name)] = o["metadata"]["resourceVersion"]
        return out

    def writes(self):
        return [r for r in self.fk.requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                and not r["path"].startswith("/fakekube")]
