"""test_dashboard.py — `appdeploy serve` end to end: the JSON API, and the page in headless Chromium (tests/e2e) against the fake API server and a real reloader."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

from kubeharness import APPDEPLOY, BUILD, TOKEN, KubeTest, certs_dir, fakekube, require_that, write_tree

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


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def many(n, replicas_of=None):
    """A folder of n Deployments svc-0..svc-N-1 (svc-3's replicas from variable r3)."""
    return {
        "variables.yaml": "namespace: demo\nr3: 1\n",
        "deployments.yaml": """{{- range $i := until %d }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{{ $i }}
  annotations:
    sourcemode.dev/runner: go
    sourcemode.dev/container: app
spec:
  replicas: {{ if eq $i 3 }}{{ $.Variables.r3 }}{{ else }}1{{ end }}
  selector:
    matchLabels: {app: svc-{{ $i }}}
  template:
    metadata:
      labels: {app: svc-{{ $i }}}
    spec:
      containers:
      - name: app
        image: registry.example/svc-{{ $i }}:1.0
{{- end }}
""" % n}


def e2e_ready():
    """Installs playwright-core into tests/e2e once (npm ci from the committed lock file)."""
    global _E2E_READY
    if _E2E_READY is None:
        _E2E_READY = ""
        if not shutil.which("node") or not os.path.exists(CHROMIUM):
            _E2E_READY = "node or %s missing (scripts/deps.sh test installs them)" % CHROMIUM
        elif not all(os.path.isdir(os.path.join(E2E, "node_modules", m)) for m in ("playwright-core", "axe-core")):
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

    def serve(self, *extra, dir=None, port=0, kubeconfig=None):
        s = Serve(self, [dir or self.dir, "--kubeconfig", kubeconfig or self.kubeconfig, "--listen", "127.0.0.1:%d" % port,
                         "--poll", "200ms"] + list(extra))
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

    def browser(self, scenario, s, steps=None, url=None, **params):
        """Runs one scenario of tests/e2e in Chromium; steps: {name: callable} for its STEP lines.
        Returns the merged RESULT objects it printed (with "stdout"). A missing browser is a failure:
        these tests are the only ones that look at the page as its users do."""
        why = e2e_ready()
        require_that(not why, why, "the browser scenarios need node, chromium and playwright-core")
        env = dict(os.environ, E2E_PARAMS=json.dumps(params), E2E_OUT=ARTIFACTS)
        errf = open(os.path.join(self.tmp, "e2e-%s.err" % scenario), "w+")
        p = subprocess.Popen(["node", os.path.join(E2E, "dashboard.e2e.js"), scenario, url or s.url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=errf, text=True, env=env)
        out, results = [], {}
        deadline = time.monotonic() + 300
        try:
            for line in p.stdout:
                out.append(line)
                if line.startswith("STEP "):
                    (steps or {})[line[5:].strip()]()
                    p.stdin.write("go\n")
                    p.stdin.flush()
                elif line.startswith("RESULT "):
                    results.update(json.loads(line[7:]))
                if time.monotonic() > deadline:
                    break
            rc = p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stdout.close()
        errf.seek(0)
        err = errf.read()
        errf.close()
        if rc:
            self.fail("browser scenario %s failed:\n%s%s\nserve log:\n%s" % (scenario, "".join(out), err,
                                                                           s.text()[-3000:]))
        results["stdout"] = "".join(out)
        return results

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
        self.browser("restart", s, service="api", outcome="build-failed", output="undefined: handler",
                     reloader=r"^reloader in api-\S+: build-failed · last build failed \(exit 1\) in \d+ ms · last restart by "
                              r"\S+ · restarts \d+, crashes \d+$")
        # it was the real reloader that answered, through the pod proxy
        self.assertTrue(any(r["method"] == "POST" and re.search(r"/pods/api-[^/]+:7070/proxy/restart$", r["path"])
                            for r in self.fk.requests))
        s.stop()

    # ------------------------------------------------------------------ issue #15: never a stale or wrong picture

    def edit(self, rel, old, new):
        path = os.path.join(self.dir, rel)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, new))

    def test_01_exec_command_names_the_kubeconfig_and_copy_tells_the_truth(self):
        """#1, #13 clipboard: the copied command reaches the same cluster; "Copied" only when it was."""
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        r = self.browser("exec", s, service="api")
        self.assertIn("--kubeconfig %s " % os.path.realpath(self.kubeconfig), r["cmd"])
        self.assertEqual(r["clip"], r["cmd"])
        self.assertTrue(r["refused_status"].startswith("Not copied"), r["refused_status"])
        self.assertEqual(r["selection"].strip(), r["cmd"])
        # pasted, it talks to the fake API server (exec itself is not served: get the same deployment)
        argv = r["cmd"].split()
        argv = argv[:argv.index("exec")] + ["get", "-n", "demo", "deploy/api", "-o", "name"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "deployment.apps/api"), p.stderr)
        s.stop()

    def test_02_05_agent_restarted_under_an_open_page(self):
        """#2: after the agent restarts, actions work (CSRF re-fetched); #5: the log does not repeat. The new agent
        first answers while its read of the cluster is held (503 for the log stream): the page opens it again."""
        self.fk.store.log_interval = 0.3
        port = free_port()
        s = [self.serve("--interval", "1h", port=port)]
        self.wait_synced(s[0])
        held = threading.Event()

        def start_agent_unread():
            self.fk.faults.append({"method": "GET", "path": r"^/apis/apps/v1/namespaces/demo/deployments$",
                                   "count": 10 ** 6, "hold": held})
            s[0] = self.serve("--interval", "1h", port=port)
            code, body, _ = s[0].request("GET", "/api/services/api/logs")
            self.assertEqual((code, json.loads(body)["error"]),
                             (503, "the agent has not read the cluster yet; try again in a moment"))

        def release_api():
            held.set()
            self.fk.faults.clear()
            self.wait_synced(s[0])
        r = self.browser("agent-restart", s[0], steps={"stop-agent": lambda: s[0].stop(),
                                                       "start-agent-unread": start_agent_unread,
                                                       "release-api": release_api},
                         service="api",
                         url="http://127.0.0.1:%d/" % port)
        self.assertEqual(r["duplicates"], 0, r)
        self.assertGreater(r["log_lines"], 0)
        self.assertIn("applied to namespace demo", r["job_output"])
        s[0].stop()

    def test_03_hung_api_server_is_visible_and_redeploy_cancellable(self):
        """#3: SIGSTOP the API server: the page says stale within 2 polls, Redeploy can be cancelled; SIGCONT: live."""
        kc = os.path.join(self.tmp, "kubeconfig-proc")
        fk, _ = self.fake_proc(kc)
        s = self.serve("--interval", "1h", kubeconfig=kc)
        self.wait_synced(s)

        def stop():
            fk.send_signal(signal.SIGSTOP)

        def resume():
            fk.send_signal(signal.SIGCONT)
        try:
            r = self.browser("api-hang", s, steps={"stop-api": stop, "resume-api": resume})
        finally:
            fk.send_signal(signal.SIGCONT)
        self.assertRegex(r["fresh_while_hung"], r"cluster: updated \d+ s ago")
        self.assertIn("cancelled", r["cancel_output"])
        jobs = s.api("/api/jobs")
        self.assertEqual([j["state"] for j in jobs if j["kind"] == "redeploy"], ["cancelled"])
        s.stop()

    def test_03_hung_agent_is_visible(self):
        """#3: the agent stops answering but keeps its connections (SIGSTOP): the page says "agent unreachable"."""
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        try:
            self.browser("agent-hang", s, steps={"stop-agent": lambda: s.p.send_signal(signal.SIGSTOP),
                                                 "resume-agent": lambda: s.p.send_signal(signal.SIGCONT)})
        finally:
            s.p.send_signal(signal.SIGCONT)
        s.stop()

    def test_04_failed_sync_stays_as_a_banner_also_in_new_tabs(self):
        """#4: the periodic re-sync fails: every tab, also one opened later, shows it until a sync succeeds."""
        s = self.serve("--interval", "300ms")
        self.wait_synced(s)
        r = self.browser("sync-failed", s, error=r"web\.yaml:\d+:\d+: executing", steps={
            "break-template": lambda: self.edit("web.yaml", "{{ .Variables.web_image }}", "{{ .Variables.no_such_var }}"),
            "fix-template": lambda: self.edit("web.yaml", "{{ .Variables.no_such_var }}", "{{ .Variables.web_image }}")})
        self.assertIn("The last sync failed", r["banner"])
        self.assertIsNone(s.api("/api/status")["sync_failed"])
        s.stop()

    def test_06_07_long_list_details_in_view_rows_in_place(self):
        """#6 details scroll into view and take focus (click and deep link); #7 rows updated in place (focus and a
        text selection survive a rollout), Esc, arrows, aria-live; the name filter with "/"."""
        shutil.rmtree(self.dir)
        write_tree(self.dir, many(100))
        s = self.serve("--interval", "1h")
        wait_for(lambda: len([d for d in s.api("/api/deployments")["deployments"] if d["state"] == "running"]) == 100, 120,
                 "100 deployments running")

        def change():
            # a rollout long enough to be seen as progressing (at 0.1 s the page may see running -> running
            # and have no state change to announce)
            self.fk.store.rollout_delay = 2.0
            self.edit("variables.yaml", "r3: 1", "r3: 2")
            code, body, _ = s.post("/api/redeploy")
            self.assertEqual(code, 202, body)
        r = self.browser("long-list", s, count=100, deep="svc-42", click="svc-97", watch="svc-3", select="svc-3",
                         watch_ready="2/2", filter="svc-9", filter_count=11, steps={"change": change})
        self.assertEqual(r["focus_after_open"], "#details-name")
        self.assertEqual(r["focus_after_esc"], "A@svc-97")
        self.assertEqual(r["focus_after_arrow"], "A@svc-98")
        self.assertEqual(r["sel_before"], "registry.example/svc-3:1.0")
        self.assertEqual(r["sel_after"], "registry.example/svc-3:1.0")
        self.assertEqual(r["focus_after_change"], "A@svc-3")
        self.assertRegex(r["announced"], r"^svc-3 is now (progressing|running)")
        self.assertEqual(r["focus_after_slash"], "#filter")
        self.assertEqual(r["filtered_rows"], 11)
        self.assertEqual(r["counts_filtered"], "100 running · 11 shown")
        self.assertEqual(r["counts"], "100 running")
        s.stop()

    def test_08_toggle_ok_only_when_rolled_out(self):
        """#8: the toggle job says ok only when the new pods are up; Restart never shows before that."""
        self.fk.store.rollout_delay = 2.0
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        r = self.browser("toggle-rollout", s, service="api")
        self.assertEqual(r["last"], {"st": "ok", "ready": "1/1", "state": "running", "restart": True}, r)
        self.assertEqual(r["early_restart"], 0, r)
        self.assertTrue(r["progressing_seen"], r)
        self.assertEqual([re.sub(r" · [^·]+$", "", h) for h in r["history"]], ["Source mode on: api · ok", "Sync on start · ok"])
        job = [j for j in s.api("/api/jobs") if j["kind"] == "source-on"][-1]
        self.assertIn("deployment/api rolled out: 1/1 ready", job["output"])
        s.stop()

    def test_09_failed_rollout_first_with_reason_and_events(self):
        """#9: a failed rollout is sorted first, counted, its reason shown in the row and the details, with events."""
        self.edit("web.yaml", "  name: web\n", "  name: web\n  annotations:\n    fakekube.sourcemode.dev/fail-rollout: \"true\"\n")
        s = self.serve("--interval", "1h")
        wait_for(lambda: any(d["name"] == "web" and d["state"] == "failed" for d in s.api("/api/deployments")["deployments"]),
                 30, "web to fail")
        # what the scheduler would record (https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/)
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-123.1", "namespace": "demo"},
              "involvedObject": {"kind": "Pod", "name": "web-123-abcde", "namespace": "demo"}, "type": "Warning",
              "reason": "FailedScheduling", "message": "0/3 nodes are available: 3 Insufficient cpu.", "count": 4,
              "lastTimestamp": "2026-01-01T00:00:00Z"}
        self.kubectl("create", "-f", "-", stdin=json.dumps(ev))
        r = self.browser("failed", s, service="web", counts="^1 failed · 1 running$", reason="ProgressDeadlineExceeded",
                         event="FailedScheduling")
        self.assertEqual(r["first"], "web")
        self.assertIn("ProgressDeadlineExceeded", r["reason_in_row"])
        self.assertIn('ReplicaSet "web" has timed out progressing', r["details_reason"])
        self.assertIn("0/3 nodes are available: 3 Insufficient cpu. (×4)", r["events"])
        s.stop()

    def test_10_token_cookie_per_port(self):
        """#10: two dashboards with tokens on one host do not log each other out."""
        tok = []
        for i in range(2):
            path = os.path.join(self.tmp, "token%d" % i)
            with open(path, "w") as f:
                f.write("tok-%d\n" % i)
            tok.append(path)
        a = self.serve("--token-file", tok[0], "--interval", "1h")
        b = self.serve("--token-file", tok[1], "--interval", "1h")
        jar = urllib.request.HTTPCookieProcessor()
        opener = urllib.request.build_opener(jar)
        for srv, t in ((a, "tok-0"), (b, "tok-1")):
            with opener.open(srv.url + "?token=" + t, timeout=10) as r:
                self.assertEqual(r.status, 200)
        self.assertEqual(sorted(c.name for c in jar.cookiejar),
                         sorted(["appdeploy_token_%d" % a.port, "appdeploy_token_%d" % b.port]))
        for srv in (a, b):
            with opener.open(srv.url + "api/session", timeout=10) as r:
                self.assertEqual(r.status, 200)
        a.stop()
        b.stop()

    def test_11_narrow_viewport(self):
        """#11: at 400 px nothing scrolls sideways, the Age column and the details fit; axe finds nothing serious."""
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        r = self.browser("narrow", s, service="web", width=400)
        for k in ("list", "details"):
            self.assertLessEqual(r[k]["sw"], 400, r)
            self.assertLessEqual(r[k]["age"]["right"], 400, r)
        s.stop()

    def fake_proc(self, kc, port=0):
        """tests/fakekube as its own process (so that it can be stopped, killed and started again)."""
        fk = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "fakekube", "fakekube.py"), "--kubeconfig", kc,
                               "--rollout-delay", "0.1", "--port", str(port)], stdout=subprocess.PIPE, text=True)
        self.procs.append(fk)
        line = fk.stdout.readline()
        fk.stdout.close()
        self.assertIn("listening", line)
        return fk, int(line.rsplit(":", 1)[1])

    def test_12_api_gone_then_back_empty_is_reapplied(self):
        """#12: while the API server is gone, the details say "last known" and offer no Restart; when it comes back
        empty, the agent re-applies (the live objects drifted) without a manual Redeploy."""
        kc = os.path.join(self.tmp, "kubeconfig-proc")
        fk, port = self.fake_proc(kc)
        s = self.serve("--interval", "500ms", kubeconfig=kc)
        self.wait_synced(s)
        code, body, _ = s.post("/api/services/api/source", {"on": True})
        self.assertEqual(self.wait_job(s, json.loads(body)["job"])["state"], "ok")
        procs = [fk]

        def stop_api():
            procs[0].kill()
            procs[0].wait()

        def start_empty():
            procs[0] = self.fake_proc(os.path.join(self.tmp, "kubeconfig-2"), port)[0]

        def get(path):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        r = self.browser("api-gone", s, service="api", steps={"stop-api": stop_api, "start-empty-api": start_empty})
        self.assertEqual(r["rows_while_gone"], 2)
        self.assertTrue(r["toggle_disabled_while_gone"])
        self.assertIn("Running", r["pods_while_gone"])
        self.assertEqual((r["toggle_after"], r["restart_after"]), (False, False))
        self.assertEqual(get("/apis/apps/v1/namespaces/demo/deployments/web"), 200)
        jobs = [j for j in s.api("/api/jobs") if j["kind"] == "auto-sync"]
        self.assertTrue(any("deployment.apps/web created" in j["output"] and j["state"] == "ok" for j in jobs), jobs)
        s.stop()

    def test_12_live_objects_drifted_with_the_same_render(self):
        """#12: the render did not change, but an applied object was deleted or edited: the agent applies again."""
        s = self.serve("--interval", "300ms")
        self.wait_synced(s)
        wait_for(lambda: any(j["kind"] == "initial-sync" and j["state"] == "ok" for j in s.api("/api/jobs")), 30, "the sync")
        self.kubectl("delete", "-n", "demo", "deployment", "web")
        wait_for(lambda: self.deployment("web") is not None, 30, "web to be re-applied")
        job = wait_for(lambda: [j for j in s.api("/api/jobs") if j["kind"] == "auto-sync" and j["state"] == "ok"], 30,
                       "the auto-sync")[-1]
        self.assertIn("live objects drifted from the last applied state: Deployment/web is missing: syncing", job["output"])
        self.kubectl("scale", "-n", "demo", "deployment", "api", "--replicas=3")
        wait_for(lambda: self.deployment("api")["spec"]["replicas"] == 1, 30, "api's replicas to be re-applied")
        s.stop()

    def test_12_cli_source_choice_survives_the_agents_sync(self):
        """An apply --source while the agent runs: the choice is saved in the source-mode state, so the agent's
        next sync (the live api drifted from what it applied) keeps it instead of switching api back."""
        s = self.serve("--interval", "300ms")
        self.wait_synced(s)
        wait_for(lambda: any(j["kind"] == "initial-sync" and j["state"] == "ok" for j in s.api("/api/jobs")), 30, "the sync")
        seen = len([j for j in s.api("/api/jobs") if j["kind"] == "auto-sync"])
        p = self.appdeploy("apply", self.dir, "--source", "api")
        self.assertIn("configmap/appdeploy-source-mode saved (--source: the dashboard and the agent keep the choice)",
                      p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {"api": "true"})
        self.assertEqual(self.image("api"), RUNNER_IMAGE)

        def settled():
            """the agent synced since, and has nothing running or queued: what it leaves is what stays"""
            jobs = [j for j in s.api("/api/jobs") if j["kind"] == "auto-sync"]
            return (len(jobs) > seen and all(j["state"] in ("ok", "failed") for j in jobs) and
                    self.image("api") == RUNNER_IMAGE and jobs)
        jobs = wait_for(settled, 30, "the agent's syncs after the CLI apply to leave api in source mode")
        self.assertEqual([j["state"] for j in jobs[seen:]], ["ok"] * len(jobs[seen:]))
        # off again from the CLI: saved too; an apply without --source writes no state
        p = self.appdeploy("apply", self.dir, "--source", "api=off")
        self.assertIn("configmap/appdeploy-source-mode saved", p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode").get("data", {}), {})
        self.assertNotIn("appdeploy-source-mode", self.appdeploy("apply", self.dir).stdout)
        s.stop()

    def test_12_cli_source_choice_saved_during_the_agents_sync(self):
        """An apply --source that lands while the agent's sync is applying the state it read before: that sync
        applies the old choice, sees the state changed, and syncs again at once (not an interval later)."""
        held = threading.Event()
        self.fk.faults.append({"method": "PATCH", "path": "/deployments/(api|web)$", "query": "^(?!.*dryRun)",
                               "count": 1, "hold": held})
        s = self.serve("--interval", "1h")  # its first sync runs at start, then not for an hour
        wait_for(lambda: self.fk.faults[0]["count"] == 0, 30, "the agent's first sync to be applying")
        p = self.appdeploy("apply", self.dir, "--source", "api")
        self.assertIn("configmap/appdeploy-source-mode saved", p.stdout)
        self.assertEqual(self.image("api"), RUNNER_IMAGE)
        held.set()
        self.fk.faults.clear()
        wait_for(lambda: [j for j in s.api("/api/jobs") if j["kind"] == "auto-sync" and j["state"] == "ok"], 30,
                 "the agent's second sync")
        first = [j for j in s.api("/api/jobs") if j["kind"] == "initial-sync"][0]
        self.assertIn("the source-mode state changed during this sync: syncing again", first["output"])
        self.assertEqual(self.image("api"), RUNNER_IMAGE)
        s.stop()

    def test_13_small_truths(self):
        """#13: 401 body without NUL, a favicon, "every 1h", dismissable job panel (redeploy scenario), all pods' logs."""
        tokfile = os.path.join(self.tmp, "token")
        with open(tokfile, "w") as f:
            f.write("t0k\n")
        s = self.serve("--token-file", tokfile, "--interval", "1h")
        self.assertIn("every 1h)", s.text())
        code, body, _ = s.request("GET", "/api/deployments")
        self.assertEqual((code, body), (401, "open the URL appdeploy serve printed (it carries the token)\n"))
        code, body, hdr = s.request("GET", "/favicon.ico", headers={"Authorization": "Bearer t0k"})
        self.assertEqual((code, hdr["Content-Type"]), (200, "image/svg+xml"))
        self.assertTrue(body.startswith("<svg"))
        s.stop()
        self.fk.store.log_interval = 0.3
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        r = self.browser("logs-all", s, service="web", pods=2)
        self.assertEqual(len(r["pods"]), 2)
        self.assertEqual(r["others_after_filter"], 0)
        self.assertNotIn("log line", r["previous"])
        s.stop()

    def test_15_idle_connections_do_not_starve_the_page(self):
        """#15: 640 idle connections and slow dribblers from another address; the page and API keep answering."""
        s = self.serve("--interval", "1h")
        self.wait_synced(s)
        idle = []
        try:
            for _ in range(640):
                c = socket.socket()
                c.bind(("127.0.0.2", 0))
                c.setblocking(False)
                try:
                    c.connect(("127.0.0.1", s.port))
                except BlockingIOError:
                    pass
                idle.append(c)
            for c in idle[:20]:  # dribblers: a request line that never ends
                try:
                    c.send(b"GET / HTTP/1.1\r\nHost: x")
                except OSError:
                    pass
            codes = [s.request("GET", p)[0] for p in ("/", "/api/deployments", "/api/session") for _ in range(10)]
            self.assertEqual(codes, [200] * 30)
        finally:
            for c in idle:
                c.close()
        s.stop()

    def test_many_deployments_500(self):
        """500 Deployments render completely, counted, in one page."""
        shutil.rmtree(self.dir)
        write_tree(self.dir, many(500))
        s = self.serve("--interval", "1h")
        wait_for(lambda: len([d for d in s.api("/api/deployments")["deployments"] if d["state"] == "running"]) == 500, 240,
                 "500 deployments running")
        self.browser("load", s, count=500, counts="^500 running$", shot="dashboard-500")
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
