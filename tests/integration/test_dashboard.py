"""test_dashboard.py — `appdeploy serve` end to end: the JSON API, and the page in headless Chromium (tests/e2e) against the fake API server and a real reloader."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from kubeharness import APPDEPLOY, BUILD, KubeTest, require_that, write_tree

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "e2e")
RELOADER = os.path.join(BUILD, "reloader")
ARTIFACTS = os.path.join(BUILD, "e2e")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RUNNER_IMAGE = "localhost/sourcemode-runner-go:dev"

# Templates in the pattern examples/ uses: a Deployment declares source mode with annotations, the
# template switches image and command on .Source.
APP = {
    "variables.yaml": """
        namespace: demo
        api_image: registry.example/api:1.0
        web_image: registry.example/web:1.0
        web_replicas: 2
        runner_image: %s
    """ % RUNNER_IMAGE,
    "api.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          annotations:
            sourcemode.dev/runner: go
            sourcemode.dev/source-path: /src
            sourcemode.dev/import-path: example.com/api
            sourcemode.dev/container: api
        spec:
          replicas: 1
          selector:
            matchLabels: {app: api}
          template:
            metadata:
              labels: {app: api}
            spec:
              containers:
              - name: api
                {{- if hasKey .Source "api" }}
                image: {{ .Variables.runner_image }}
                command: ["reloader"]
                {{- else }}
                image: {{ .Variables.api_image }}
                {{- end }}
    """,
    "web.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: {{ .Variables.web_replicas }}
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: {{ .Variables.web_image }}
    """,
}

_E2E_READY = None


def e2e_ready():
    """Installs playwright-core into tests/e2e once (npm ci from the committed lock file)."""
    global _E2E_READY
    if _E2E_READY is None:
        _E2E_READY = ""
        if not shutil.which("node") or not os.path.exists(CHROMIUM):
            _E2E_READY = "node or %s missing (scripts/deps.sh test installs them)" % CHROMIUM
        elif not os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E, capture_output=True, text=True,
                               timeout=600)
            if p.returncode:
                _E2E_READY = "npm ci failed: " + p.stderr[-2000:]
    return _E2E_READY


def wait_for(pred, timeout=20.0, what="condition", every=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(every)  # polling interval, not synchronisation: the deadline decides
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


class Serve:
    """One `appdeploy serve` process; its port comes from the line it logs."""

    def __init__(self, test, args, env=None):
        self.log = os.path.join(test.tmp, "serve-%d.log" % time.monotonic_ns())
        e = dict(os.environ)
        e.pop("KUBECONFIG", None)
        e.update(env or {})
        with open(self.log, "w") as f:
            self.p = subprocess.Popen([APPDEPLOY, "serve"] + args, stdout=f, stderr=subprocess.STDOUT, env=e)
        m = wait_for(lambda: self.p.poll() is None and re.search(r"on http://[^:]+:(\d+)/", self.text()), 30,
                     "serve to listen (log: %s)" % self.log)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d/" % self.port

    def text(self):
        with open(self.log) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def api(self, path):
        code, body, _ = self.request("GET", path)
        assert code == 200, (path, code, body)
        return json.loads(body)

    def post(self, path, body=None):
        csrf = self.api("/api/session")["csrf"]
        return self.request("POST", path, body or {}, {"X-CSRF-Token": csrf})

    def stop(self):
        """SIGTERM, then the exit must be clean: status 0 and no sanitizer report."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        text = self.text()
        assert "Sanitizer" not in text and "runtime error" not in text, text[-6000:]
        assert rc == 0, "serve exited %d\n%s" % (rc, text[-3000:])


class DashboardTest(KubeTest):
    rollout_delay = 0.1

    def setUp(self):
        super().setUp()
        shutil.rmtree(self.dir)
        write_tree(self.dir, APP)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    def serve(self, *extra, dir=None):
        s = Serve(self, [dir or self.dir, "--kubeconfig", self.kubeconfig, "--listen", "127.0.0.1:0", "--poll", "200ms"]
                  + list(extra))
        self.procs.append(s.p)
        return s

    def deployment(self, name, ns="demo"):
        return self.fk.obj("deployments", ns, name)

    def image(self, name, ns="demo"):
        d = self.deployment(name, ns)
        return d and d["spec"]["template"]["spec"]["containers"][0]["image"]

    def wait_synced(self, s, names=("api", "web")):
        def ok():
            snap = s.api("/api/deployments")
            have = {d["name"]: d for d in snap.get("deployments", [])}
            return all(n in have and have[n]["state"] == "running" for n in names) and snap
        return wait_for(ok, 30, "the initial sync to show %s running" % (names,))

    def wait_job(self, s, job):
        return wait_for(lambda: (lambda j: j if j["state"] in ("ok", "failed") else None)(s.api("/api/jobs/%d" % job)),
                        60, "job %d" % job)

    def browser(self, scenario, s, **params):
        why = e2e_ready()
        require_that(not why, why, "the browser scenarios need node, chromium and playwright-core")
        env = dict(os.environ, E2E_PARAMS=json.dumps(params), E2E_OUT=ARTIFACTS)
        p = subprocess.run(["node", os.path.join(E2E, "dashboard.e2e.js"), scenario, s.url], capture_output=True,
                           text=True, env=env, timeout=120)
        if p.returncode:
            self.fail("browser scenario %s failed:\n%s%s\nserve log:\n%s" % (scenario, p.stdout, p.stderr,
                                                                           s.text()[-3000:]))
        return p.stdout

    # ------------------------------------------------------------------ API without a browser

    def test_api_guards(self):
        tokfile = os.path.join(self.tmp, "token")
        with open(tokfile, "w") as f:
            f.write("dash-t0ken\n")
        s = self.serve("--token-file", tokfile, "--interval", "1h")
        code, _, _ = s.request("GET", "/api/deployments")
        self.assertEqual(code, 401)
        auth = {"Authorization": "Bearer dash-t0ken"}
        code, body, _ = s.request("GET", "/api/session", headers=auth)
        self.assertEqual(code, 200)
        csrf = json.loads(body)["csrf"]
        # the login URL trades the token for a cookie
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(s.url + "?token=dash-t0ken", timeout=10) as r:
            self.assertIn("appdeploy", r.read().decode())
        # mutating endpoints: POST only, with the CSRF token
        code, _, _ = s.request("POST", "/api/redeploy", {}, auth)
        self.assertEqual(code, 403)
        code, body, _ = s.request("POST", "/api/redeploy", {}, dict(auth, **{"X-CSRF-Token": csrf}))
        self.assertEqual(code, 202, body)
        code, _, _ = s.request("GET", "/api/redeploy", headers=auth)
        self.assertEqual(code, 404)
        # a loopback dashboard answers to loopback names only (DNS rebinding)
        code, _, _ = s.request("GET", "/api/session", headers=dict(auth, Host="evil.example:8090"))
        self.assertEqual(code, 421)
        # toggling a service without source-mode annotations is refused
        self.wait_synced(type("S", (), {"api": lambda _, p: json.loads(s.request("GET", p, headers=auth)[1])})())
        code, body, _ = s.request("POST", "/api/services/web/source", {"on": True}, dict(auth, **{"X-CSRF-Token": csrf}))
        self.assertEqual(code, 409, body)
        self.assertNotIn("dash-t0ken", s.text().replace("?token=dash-t0ken", ""))
        s.stop()

    def test_periodic_resync_on_template_change(self):
        s = self.serve("--interval", "300ms")
        self.wait_synced(s)
        path = os.path.join(self.dir, "variables.yaml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("web:1.0", "web:1.1"))
        wait_for(lambda: self.image("web") == "registry.example/web:1.1", 20, "the periodic re-sync")
        wait_for(lambda: any(j["kind"] == "auto-sync" and j["state"] == "ok" for j in s.api("/api/jobs")), 20,
                 "the auto-sync job to end ok")
        s.stop()

    # ------------------------------------------------------------------ in the browser

    def test_list_and_source_mode_persists(self):
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        self.browser("list", s, deployments=[
            {"name": "api", "ready": "1/1", "mode": "CI image", "image": "registry.example/api:1.0"},
            {"name": "web", "ready": "2/2", "mode": "CI image", "image": "registry.example/web:1.0"}])
        self.browser("source", s, service="api", on=True, expect_before=False, image=RUNNER_IMAGE)
        self.assertEqual(self.image("api"), RUNNER_IMAGE)
        cm = self.fk.obj("configmaps", "demo", "appdeploy-source-mode")
        self.assertEqual(cm["data"], {"api": "true"})
        self.assertEqual(cm["metadata"]["labels"].get("app.kubernetes.io/managed-by"), "appdeploy")
        self.assertNotIn("appdeploy.sourcemode.dev/set", cm["metadata"]["labels"])
        s.stop()
        # a CLI apply keeps the service in source mode (and does not prune the state); --source wins
        self.appdeploy("apply", self.dir)
        self.assertEqual(self.image("api"), RUNNER_IMAGE)
        self.assertIsNotNone(self.fk.obj("configmaps", "demo", "appdeploy-source-mode"))
        self.appdeploy("diff", self.dir, "--source", "api=off", expect=1)  # 1: it would change (#10)
        # a new agent shows the saved state and switches back
        s2 = self.serve("--interval", "1h")
        self.browser("source", s2, service="api", on=False, expect_before=True, image="registry.example/api:1.0")
        self.assertEqual(self.image("api"), "registry.example/api:1.0")
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode").get("data", {}), {})
        s2.stop()

    def test_redeploy_and_template_error(self):
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        path = os.path.join(self.dir, "web.yaml")
        with open(path) as f:
            good = f.read()
        with open(path, "w") as f:
            f.write(good.replace("replicas: {{ .Variables.web_replicas }}", "replicas: 3"))
        self.browser("redeploy", s, state="ok", output="deployment.apps/web configured",
                     row={"name": "web", "col": "ready", "text": "^3/3$"})
        self.assertEqual(self.deployment("web")["spec"]["replicas"], 3)
        rv = self.deployment("web")["metadata"]["resourceVersion"]
        with open(path, "w") as f:
            f.write(good.replace("{{ .Variables.web_image }}", "{{ .Variables.no_such_var }}"))
        self.browser("redeploy", s, state="failed", output=r"web\.yaml:\d+:\d+: executing")
        self.assertEqual(self.deployment("web")["metadata"]["resourceVersion"], rv)
        s.stop()

    def test_log_follows_new_lines(self):
        self.fk.store.log_interval = 0.25
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        self.browser("logs", s, service="api")
        s.stop()

    def test_restart_reaches_reloader_and_shows_failed_build(self):
        require_that(os.path.exists(RELOADER), "no reloader binary at " + RELOADER,
                     "this test pokes a real reloader", "make builds it")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        src = os.path.join(self.tmp, "src")
        os.makedirs(src)
        rl = subprocess.Popen([RELOADER, "--listen", "127.0.0.1:%d" % port, "--dir", src, "--cache-dir",
                               os.path.join(self.tmp, "cache"), "--build",
                               'echo "compiling api"; echo "./main.go:7:2: undefined: handler" >&2; exit 1',
                               "--", "sleep", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(rl)
        self.fk.proxies[("demo", "api", "7070")] = port
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        code, body, _ = s.post("/api/services/api/restart")
        self.assertEqual(code, 409, body)  # not in source mode yet
        code, body, _ = s.post("/api/services/api/source", {"on": True})
        self.assertEqual(code, 202, body)
        self.assertEqual(self.wait_job(s, json.loads(body)["job"])["state"], "ok")
        wait_for(lambda: any(d["name"] == "api" and d["mode"] == "source" and d["state"] == "running"
                             for d in s.api("/api/deployments")["deployments"]), 20, "api in source mode")
        self.browser("restart", s, service="api", outcome="build-failed", output="undefined: handler")
        # it was the real reloader that answered, through the pod proxy
        self.assertTrue(any(r["method"] == "POST" and re.search(r"/pods/api-[^/]+:7070/proxy/restart$", r["path"])
                            for r in self.fk.requests))
        s.stop()

    def test_example_source_toggle(self):
        """examples/hello-deploy (#6): the hello service switches to the go runner image and back."""
        example = os.path.join(HERE, "..", "..", "examples", "hello-deploy")
        require_that(os.path.exists(os.path.join(example, "hello.yaml")), "no examples/hello-deploy/hello.yaml",
                     "this test toggles the example's source mode", "it is part of the repository")
        s = self.serve("--interval", "1h", "--images", os.path.join(example, "..", "images.yaml"), dir=example)
        self.wait_synced(s, ("hello", "redis"))
        self.browser("source", s, service="hello", on=True, expect_before=False, image="sourcemode/runner-go")
        self.assertEqual(self.image("hello", "hello-dev"), "sourcemode/runner-go:latest")
        self.browser("source", s, service="hello", on=False, expect_before=True, image="registry.example.com/hello")
        self.assertEqual(self.image("hello", "hello-dev"), "registry.example.com/hello:1.4.2")
        s.stop()


if __name__ == "__main__":
    unittest.main()
