"""test_agent.py — `appdeploy agent` as a local process with in-cluster credentials against the fake API server: the configuration from a bare git repository (file://) or the bundle ConfigMap, commits picked up, a broken commit reported and nothing changed, the agent's own Deployment following the image list, and the Lease between two agents."""
import base64
import hashlib
import http.client
import http.server
import io
import json
import os
import re
import signal
import subprocess
import tarfile
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request

from gitserver import GitHTTPServer
from kubeharness import APPDEPLOY, KubeTest, certs_dir, require, write_tree
import test_dashboard
from test_dashboard import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_DIR = os.path.join(HERE, "testdata", "agentset")
SA_TOKEN = "agent-sa-token-never-shown"
NS, NS2 = "demo", "appdeploy-system"

SET = {
    "variables.yaml": """
        greeting: hello-1
    """,
    "config.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-config
        data:
          greeting: {{ .Variables.greeting }}
    """,
    "web.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: {{ get .Images "web" | default "registry.example/web:1.0" }}
    """,
}

# the agent image when the image list names none (agentset.c: sourcemode/appdeploy:VERSION)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common", "version.h")) as _f:
    DEFAULT_AGENT_IMAGE = "sourcemode/appdeploy:" + re.search(r'APPDEPLOY_VERSION "([^"]+)"', _f.read()).group(1)

AGENT_VARS = """targetNamespace: demo
agentNamespace: appdeploy-system
configSource: git
setName: web
"""

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


class Agent:
    """One `appdeploy agent` process; its port comes from the line it logs."""

    def __init__(self, test, name, args):
        self.test = test
        self.name = name
        self.log = os.path.join(test.tmp, "agent-%s-%d.log" % (name, time.monotonic_ns()))
        home = os.path.join(test.tmp, "home-" + name)
        os.makedirs(home, exist_ok=True)
        e = dict(os.environ, HOME=home, POD_NAME=name, KUBERNETES_SERVICE_HOST="127.0.0.1",
                 KUBERNETES_SERVICE_PORT=str(test.fk.port), APPDEPLOY_SERVICEACCOUNT_DIR=test.sa,
                 APPDEPLOY_AGENT_DIR=AGENT_DIR, APPDEPLOY_CACHE_DIR=os.path.join(test.tmp, "cache-" + name),
                 GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
        e.pop("KUBECONFIG", None)
        with open(self.log, "w") as f:
            self.p = subprocess.Popen([APPDEPLOY, "agent", "-n", NS, "--agent-namespace", NS2, "--set-name", "web",
                                       "--interval", "1s", "--poll", "200ms", "--listen", "127.0.0.1:0"] + args,
                                      stdout=f, stderr=subprocess.STDOUT, env=e)
        test.procs.append(self.p)
        m = wait_for(lambda: self.p.poll() is None and re.search(r"on http://[^:]+:(\d+)/", self.text()), 60,
                     "agent %s to listen (log: %s)" % (name, self.log))
        self.url = "http://127.0.0.1:%d" % int(m.group(1))

    def text(self):
        with open(self.log) as f:
            return f.read()

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def api(self, path):
        code, body = self.get(path)
        assert code == 200, (path, code, body)
        return json.loads(body)

    def stop(self):
        """SIGTERM; the exit must be clean: status 0 and no sanitizer report. Returns the log."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        text = self.text()
        assert "Sanitizer" not in text and "runtime error" not in text, text[-6000:]
        assert rc == 0, "agent exited %d\n%s" % (rc, text[-3000:])
        self.test.assertNotIn(SA_TOKEN, text)
        return text


class SubpathProxy:
    """Serves an agent under the API server's service proxy path only (as kubectl proxy and `up` do), streaming
    each answer as it comes (the page's event stream); any other path is 404, so an absolute URL in the page fails."""

    def __init__(self, target_port):
        prefix = "/api/v1/namespaces/%s/services/appdeploy:http/proxy" % NS2

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the answer ends when the connection closes: no re-chunking

            def log_message(self, *a):
                pass

            def forward(self):
                if not self.path.startswith(prefix + "/"):
                    self.send_error(404, "not under " + prefix)
                    return
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                c = http.client.HTTPConnection("127.0.0.1", target_port, timeout=300)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                c.request(self.command, self.path[len(prefix):], body=body, headers=hdrs)
                r = c.getresponse()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.end_headers()
                try:
                    while True:
                        chunk = r.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, http.client.IncompleteRead):
                    pass  # the page or the agent went away
                c.close()

            do_GET = do_POST = forward

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d%s/" % (self.srv.server_address[1], prefix)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class AgentTest(KubeTest):
    rollout_delay = 0.1

    def setUp(self):
        super().setUp()
        self.procs = []
        self.fk.tokens[SA_TOKEN] = "admin"
        self.sa = os.path.join(self.tmp, "serviceaccount")
        os.makedirs(self.sa)
        for name, text in (("token", SA_TOKEN), ("namespace", NS2 + "\n")):
            with open(os.path.join(self.sa, name), "w") as f:
                f.write(text)
        with open(os.path.join(certs_dir(), "ca.crt")) as src, open(os.path.join(self.sa, "ca.crt"), "w") as dst:
            dst.write(src.read())
        for ns in (NS, NS2):
            self.kubectl("create", "namespace", ns)

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    # ------------------------------------------------------------ the configuration repository

    def git(self, *args, cwd=None):
        git = require("git", "the agent's configuration comes from a git repository")
        p = subprocess.run([git] + list(args), cwd=cwd or self.work, capture_output=True, text=True,
                           env=dict(os.environ, **GIT_ENV), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def make_repo(self):
        """A bare repository (the remote the agent clones by file://) and a work tree that pushes to it."""
        self.remote = os.path.join(self.tmp, "config.git")
        self.work = os.path.join(self.tmp, "work")
        self.git("init", "-q", "--bare", "-b", "main", self.remote, cwd=self.tmp)
        self.git("init", "-q", "-b", "main", self.work, cwd=self.tmp)
        write_tree(os.path.join(self.work, "envs", "dev"), SET)
        write_tree(self.work, {"README": "configuration\n", "images.yaml": "web: registry.example/web:1.0\n"})
        self.commit("first")
        self.git("remote", "add", "origin", self.remote)
        self.git("push", "-q", "origin", "main")

    def commit(self, msg, files=None, root=None):
        if files:
            write_tree(os.path.join(self.work, "envs", "dev"), files)
        if root:
            write_tree(self.work, root)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg)
        if os.path.exists(os.path.join(self.tmp, "config.git")) and msg != "first":
            self.git("push", "-q", "origin", "main")
        return self.git("rev-parse", "HEAD").strip()

    def git_agent(self, name="agent-a"):
        return Agent(self, name, ["--git", "file://" + self.remote, "--git-ref", "main", "--git-path", "envs/dev",
                                  "--images", "../../images.yaml"])

    def agent_vars(self):
        self.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "appdeploy-agent", "namespace": NS2},
            "data": {"variables.yaml": AGENT_VARS}}))

    # ------------------------------------------------------------ what the fake holds

    def greeting(self):
        cm = self.fk.obj("configmaps", NS, "web-config")
        return cm and cm["data"]["greeting"]

    def image(self, ns, name):
        d = self.fk.obj("deployments", ns, name)
        return d and d["spec"]["template"]["spec"]["containers"][0]["image"]

    def lease(self):
        return self.fk.obj("leases", NS2, "appdeploy")

    def writes(self):
        """Writes to the fake other than the Lease's renewals."""
        return [r for r in self.fk.requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")
                and not r["path"].startswith("/fakekube") and "/leases" not in r["path"]]

    # ------------------------------------------------------------ tests

    def test_git_commits_flow_broken_commit_changes_nothing_fixed_commit_applies(self):
        self.make_repo()
        self.agent_vars()
        a = self.git_agent()
        wait_for(lambda: self.greeting() == "hello-1" and self.image(NS, "web"), 60, "the first sync")
        self.assertEqual(self.image(NS, "web"), "registry.example/web:1.0")
        self.assertEqual(a.get("/healthz"), (200, "ok"))
        session = a.api("/api/session")
        self.assertEqual(session["namespace"], NS)
        self.assertEqual(session["lease"], {"holder": "agent-a", "self": "agent-a", "leading": True})
        self.assertEqual(self.lease()["spec"]["holderIdentity"], "agent-a")
        self.assertEqual(self.lease()["spec"]["leaseDurationSeconds"], 15)
        self.assertRegex(self.lease()["spec"]["renewTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        # the agent's own set, from the ConfigMap's variables, in NS2 with its inventory
        wait_for(lambda: self.image(NS2, "appdeploy") == DEFAULT_AGENT_IMAGE, 60, "the agent's own set")
        self.assertIsNotNone(self.fk.obj("configmaps", NS2, "appdeploy-set-appdeploy-agent"))
        self.assertIsNotNone(self.fk.obj("configmaps", NS, "appdeploy-set-web"))

        # a new commit is picked up within an interval
        self.commit("second", {"variables.yaml": "greeting: hello-2\n"})
        wait_for(lambda: self.greeting() == "hello-2", 60, "the second commit to be applied")

        # a broken commit: reported on the page and in the log; nothing is written
        wait_for(lambda: "templates or images changed" in a.text(), 30, "the log to say what changed")
        bad = self.commit("broken", {"config.yaml": "data: {{ if }}\n"})
        before = len(self.writes())
        st = wait_for(lambda: (lambda s: s if s.get("sync_failed") else None)(a.api("/api/status")), 60,
                      "the page to report the broken commit")
        out = st["sync_failed"]["output"]
        self.assertIn("config.yaml", out)
        self.assertIn("render failed; nothing was changed", out)
        self.assertIn("commit %s" % bad[:12], out)
        wait_for(lambda: "render failed; nothing was changed" in a.text(), 30, "the log to report the broken commit")
        self.assertIn("template: config.yaml:1: missing value for if", a.text())
        self.assertEqual(self.writes()[before:], [])
        self.assertEqual(self.greeting(), "hello-2")

        # the fix applies, and the page's banner goes
        self.commit("fixed", {"config.yaml": SET["config.yaml"], "variables.yaml": "greeting: hello-3\n"})
        wait_for(lambda: self.greeting() == "hello-3", 60, "the fixed commit to be applied")
        wait_for(lambda: a.api("/api/status").get("sync_failed") is None, 30, "the failure banner to go")
        log = a.stop()
        self.assertIn("lease %s/appdeploy released" % NS2, log)
        self.assertEqual(self.lease()["spec"]["holderIdentity"], "")

    def test_new_appdeploy_image_in_the_image_list_updates_the_agent_itself(self):
        self.make_repo()
        self.agent_vars()
        a = self.git_agent()
        wait_for(lambda: self.image(NS2, "appdeploy") == DEFAULT_AGENT_IMAGE, 60, "the agent's own set")
        gen = self.fk.obj("deployments", NS2, "appdeploy")["metadata"]["generation"]

        def rolled_out():  # the fake's rollout writes web's status (a new resourceVersion) until it is done
            o = self.fk.obj("deployments", NS, "web")
            st, want = o.get("status", {}), o["spec"].get("replicas", 1)
            done = st.get("observedGeneration") == o["metadata"]["generation"] and \
                st.get("updatedReplicas") == want and st.get("readyReplicas") == want
            return o["metadata"]["resourceVersion"] if done else None
        web_rv = wait_for(rolled_out, 60, "web's rollout to finish")
        self.commit("new agent image", root={"images.yaml": "web: registry.example/web:1.0\n"
                                                            "appdeploy: registry.example/appdeploy:2.0\n"})
        wait_for(lambda: self.image(NS2, "appdeploy") == "registry.example/appdeploy:2.0", 60,
                 "the agent's Deployment to take the new image")
        self.assertEqual(self.fk.obj("deployments", NS2, "appdeploy")["metadata"]["generation"], gen + 1)
        # the set in NS renders the same: its Deployment was not rewritten
        self.assertEqual(self.fk.obj("deployments", NS, "web")["metadata"]["resourceVersion"], web_rv)
        # a change of the agent's variables alone (the ConfigMap up writes) is applied too
        self.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "appdeploy-agent", "namespace": NS2},
            "data": {"variables.yaml": AGENT_VARS.replace("setName: web", "setName: web2")}}))
        wait_for(lambda: "web2" in self.fk.obj("deployments", NS2, "appdeploy")["spec"]["template"]["spec"]
                 ["containers"][0]["args"], 60, "the agent's own set to follow its variables")
        self.assertIn("the agent's own set changed: syncing", a.text())
        a.stop()

    def test_two_agents_only_the_lease_holder_syncs_and_sigterm_hands_over(self):
        self.make_repo()
        a = self.git_agent("agent-a")
        wait_for(lambda: self.greeting() == "hello-1", 60, "agent-a's first sync")
        b = self.git_agent("agent-b")
        wait_for(lambda: "waiting: agent agent-a is syncing" in b.text(), 30, "agent-b to say it waits")
        self.assertEqual(b.api("/api/session")["lease"], {"holder": "agent-a", "self": "agent-b", "leading": False})
        self.assertEqual(b.api("/api/status")["lease"]["leading"], False)
        # a commit: agent-a applies it; agent-b never ran a sync (no job on its page, nothing cloned)
        self.commit("second", {"variables.yaml": "greeting: hello-2\n"})
        wait_for(lambda: self.greeting() == "hello-2", 60, "agent-a to apply the second commit")
        self.assertEqual(b.api("/api/jobs"), [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "home-agent-b", "config")))
        # a Redeploy asked of the waiting agent is refused, saying who syncs
        csrf = b.api("/api/session")["csrf"]
        req = urllib.request.Request(b.url + "/api/redeploy", data=b"{}", method="POST",
                                     headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            job = json.loads(r.read())["job"]
        j = wait_for(lambda: (lambda j: j if j["state"] in ("ok", "failed") else None)(b.api("/api/jobs/%d" % job)),
                     30, "the refused job")
        self.assertEqual(j["state"], "failed")
        self.assertIn("waiting: agent agent-a is syncing", j["output"])
        # SIGTERM releases the Lease; agent-b takes over at once (well before the 15 s lease would expire)
        log = a.stop()
        self.assertIn("released", log)
        wait_for(lambda: b.api("/api/session")["lease"]["leading"], 30, "agent-b to take the lease")
        self.assertEqual(self.lease()["spec"]["holderIdentity"], "agent-b")
        self.assertIn("lease %s/appdeploy: held by this agent (agent-b): syncing" % NS2, b.text())
        self.commit("third", {"variables.yaml": "greeting: hello-3\n"})
        wait_for(lambda: self.greeting() == "hello-3", 60, "agent-b to apply the third commit")
        b.stop()
        self.assertEqual(self.lease()["spec"]["holderIdentity"], "")

    def test_a_killed_holder_s_lease_expires_and_the_other_agent_takes_over(self):
        self.make_repo()
        a = self.git_agent("agent-a")
        wait_for(lambda: self.greeting() == "hello-1", 60, "agent-a's first sync")
        b = self.git_agent("agent-b")
        wait_for(lambda: "waiting: agent agent-a is syncing" in b.text(), 30, "agent-b to say it waits")
        transitions = self.lease()["spec"]["leaseTransitions"]
        a.p.kill()  # no release: agent-b must wait for the 15 s lease to expire
        a.p.wait()
        wait_for(lambda: b.api("/api/session")["lease"]["leading"], 60, "agent-b to take the expired lease")
        spec = self.lease()["spec"]
        self.assertEqual((spec["holderIdentity"], spec["leaseTransitions"]), ("agent-b", transitions + 1))
        self.commit("second", {"variables.yaml": "greeting: hello-2\n"})
        wait_for(lambda: self.greeting() == "hello-2", 60, "agent-b to apply the second commit")
        b.stop()

    def test_page_under_the_service_proxy_path_and_the_waiting_banner(self):
        self.make_repo()
        a = self.git_agent("agent-a")
        wait_for(lambda: self.image(NS, "web"), 60, "agent-a's first sync")
        pa = SubpathProxy(int(a.url.rsplit(":", 1)[1]))
        try:
            r = test_dashboard.DashboardTest.browser(self, "agent-subpath", a, url=pa.url, names=["web"])
            self.assertEqual(r["outside"], [])
            self.assertEqual(r["banner"], "")
            b = self.git_agent("agent-b")
            pb = SubpathProxy(int(b.url.rsplit(":", 1)[1]))
            try:
                r = test_dashboard.DashboardTest.browser(self, "agent-subpath", b, url=pb.url, names=["web"],
                                          waiting="waiting: agent agent-a is syncing")
                self.assertEqual(r["outside"], [])
                self.assertTrue(r["banner"].startswith("waiting: agent agent-a is syncing."), r["banner"])
            finally:
                pb.stop()
            b.stop()
        finally:
            pa.stop()
        a.stop()

    def test_private_remote_with_and_without_the_credentials_file(self):
        self.make_repo()
        password = "git-pass-never-shown"
        srv = GitHTTPServer(self.tmp, "dev", password).start()
        self.addCleanup(srv.stop)
        url = srv.url("config.git")
        # without credentials: git fails at once (it never prompts), the page and the log say why
        a = Agent(self, "agent-a", ["--git", url, "--git-ref", "main", "--git-path", "envs/dev"])
        st = wait_for(lambda: (lambda s: s if s.get("sync_failed") else None)(a.api("/api/status")), 60,
                      "the page to report the failed clone")
        self.assertIn("git clone: could not read Username", st["sync_failed"]["output"])
        self.assertIn("fetching the configuration failed; nothing was changed", st["sync_failed"]["output"])
        self.assertIsNone(self.greeting())
        a.stop()
        # with the credentials file (git-credential-store format), as up mounts the Secret
        cred = os.path.join(self.tmp, "credentials")
        with open(cred, "w") as f:
            f.write("http://dev:%s@127.0.0.1:%d\n" % (password, srv.port))
        a = Agent(self, "agent-b", ["--git", url, "--git-ref", "main", "--git-path", "envs/dev",
                                    "--git-credentials", cred])
        wait_for(lambda: self.greeting() == "hello-1", 60, "the sync from the private remote")
        self.commit("second", {"variables.yaml": "greeting: hello-2\n"})
        wait_for(lambda: self.greeting() == "hello-2", 60, "the second commit from the private remote")
        log = a.stop()
        self.assertNotIn(password, log + json.dumps(self.fk.objects("configmaps")))

    def bundle(self, files, digest=None):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for rel, text in files.items():
                data = textwrap.dedent(text).lstrip("\n").encode()
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        tgz = buf.getvalue()
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "appdeploy-bundle", "namespace": NS2},
            "data": {"digest": digest or hashlib.sha256(tgz).hexdigest()},
            "binaryData": {"set.tar.gz": base64.b64encode(tgz).decode()}}))

    def test_bundle_from_the_configmap(self):
        # up applies the set from the developer's folder first; the agent then takes the set over
        local = os.path.join(self.tmp, "local")
        write_tree(local, dict(SET, **{"variables.yaml": "greeting: hello-0\n"}))
        self.appdeploy("apply", local, "-n", NS, "--set", "web")
        self.assertEqual(self.greeting(), "hello-0")
        self.bundle(SET)
        a = Agent(self, "agent-a", ["--bundle", "appdeploy-bundle"])
        wait_for(lambda: self.greeting() == "hello-1", 60, "the bundle's first sync")
        self.assertIn("set web taken over from path:" + os.path.realpath(local), a.text())
        self.bundle(dict(SET, **{"variables.yaml": "greeting: hello-2\n"}))
        wait_for(lambda: self.greeting() == "hello-2", 60, "the new bundle to be applied")
        # a bundle whose digest does not match is refused; what was applied stays
        self.bundle(dict(SET, **{"variables.yaml": "greeting: hello-3\n"}), digest="0" * 64)
        wait_for(lambda: "does not match its digest" in a.text(), 30, "the agent to refuse the bad bundle")
        self.assertEqual(self.greeting(), "hello-2")
        st = a.api("/api/status")
        self.assertIn("does not match its digest", st["sync_failed"]["output"])
        self.assertIn("fetching the configuration failed; nothing was changed", st["sync_failed"]["output"])
        a.stop()

    def test_bad_flags(self):
        for args, want in ((["-n", NS, "--git", "file:///x"], "--set-name NAME is needed"),
                           (["-n", NS, "--set-name", "web"], "--git URL or --bundle CONFIGMAP"),
                           (["-n", NS, "--set-name", "web", "--git", "file:///x", "--bundle", "b"],
                            "--git URL or --bundle CONFIGMAP"),
                           (["--set-name", "web", "--git", "file:///x"], "-n NS is needed"),
                           (["-n", NS, "--set-name", "web", "--git", "file:///x", "--git-path", "../up"], "without \"..\""),
                           (["-n", NS, "--set-name", "web", "--git", "file:///x", "--git-credentials", "/nonexistent/c"],
                            "--git-credentials /nonexistent/c: No such file or directory")):
            p = subprocess.run([APPDEPLOY, "agent"] + args, capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, HOME=self.tmp))
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(want, p.stderr)


if __name__ == "__main__":
    unittest.main()
