"""test_auth.py — exec credential plugins (client.authentication.k8s.io v1/v1beta1), auth-provider, proxies, tls-server-name and compression against the fake API server."""
import base64
import http.client
import http.server
import json
import os
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

from kubeharness import KubeTest, write_tree, certs_dir, APPDEPLOY
import test_up_forward

V1 = "client.authentication.k8s.io/v1"
V1B = "client.authentication.k8s.io/v1beta1"

# The plugin: a real program the kubeconfig names. It reads what to do from config.json beside it,
# records each call (argv, env, KUBERNETES_EXEC_INFO) in calls.jsonl, mints a token at the fake's
# "identity provider" (POST /fakekube/tokens) and prints an ExecCredential, as a cloud CLI does.
PLUGIN = r'''#!/usr/bin/env python3
import datetime, json, os, ssl, sys, urllib.request
d = os.path.dirname(os.path.abspath(__file__))
cfg = json.load(open(os.path.join(d, "config.json")))
with open(os.path.join(d, "calls.jsonl"), "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "greeting": os.environ.get("PLUGIN_GREETING"),
                        "info": os.environ.get("KUBERNETES_EXEC_INFO"), "stdin_tty": os.isatty(0)}) + "\n")
n = sum(1 for _ in open(os.path.join(d, "calls.jsonl")))
if cfg.get("fail"):
    sys.stderr.write(cfg["fail"] + "\n")
    sys.exit(3)
if cfg.get("garbage"):
    print(cfg["garbage"])
    sys.stderr.write("warning: cached login used\n")
    sys.exit(0)
status = {}
if cfg.get("cert"):
    status["clientCertificateData"] = open(cfg["cert"]).read()
    status["clientKeyData"] = open(cfg["key"]).read()
else:
    token = "%s-%d" % (cfg["token"], n)
    ttl = cfg.get("first_ttl") if n == 1 else cfg.get("ttl")
    if cfg.get("register", True):
        ctx = ssl.create_default_context(cafile=cfg["ca"])
        req = urllib.request.Request(cfg["url"] + "/fakekube/tokens", method="POST",
                                     data=json.dumps({"token": token, "user": "admin", "ttl": ttl}).encode())
        urllib.request.urlopen(req, context=ctx).read()
    status["token"] = token
if cfg.get("expires_in"):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=cfg["expires_in"])
    status["expirationTimestamp"] = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
print(json.dumps({"apiVersion": cfg["api_version"], "kind": "ExecCredential", "status": status}))
'''

SECRET = "xq7-exec-secret"


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on loopback (what HTTPS_PROXY points at), counting the tunnels it opened."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.tunnels = []
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        method, target = line.split()[:2]
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        self.server.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        a, b = self.connection, up
        try:
            while True:
                r, _, _ = select.select([a, b], [], [], 30)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        finally:
            up.close()


class ExecPlugin(KubeTest):
    rollout_delay = 0.2

    def setUp(self):
        super().setUp()
        self.small = os.path.join(self.tmp, "small")
        write_tree(self.small, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n"})
        self.pdir = os.path.join(self.tmp, "plugin")
        os.makedirs(self.pdir)
        self.plugin = os.path.join(self.pdir, "kube-login")
        with open(self.plugin, "w") as f:
            f.write(PLUGIN.replace("/usr/bin/env python3", sys.executable, 1))
        os.chmod(self.plugin, 0o755)
        self.certs = certs_dir()

    def configure(self, **cfg):
        base = {"api_version": V1, "token": SECRET, "url": self.fk.url, "ca": self.certs + "/ca.crt"}
        base.update(cfg)
        with open(os.path.join(self.pdir, "config.json"), "w") as f:
            json.dump(base, f)

    def exec_kubeconfig(self, exec_entry, cluster_extra=None, name="kc-exec"):
        cluster = {"server": self.fk.url, "certificate-authority": self.certs + "/ca.crt"}
        cluster.update(cluster_extra or {})
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
               "clusters": [{"name": "k", "cluster": cluster}],
               "users": [{"name": "sso-user", "user": {"exec": exec_entry}}],
               "contexts": [{"name": "c", "context": {"cluster": "k", "user": "sso-user"}}]}
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def entry(self, api_version=V1, **kw):
        e = {"apiVersion": api_version, "command": self.plugin}
        if api_version == V1:
            e["interactiveMode"] = "Never"
        e.update(kw)
        return e

    def calls(self):
        p = os.path.join(self.pdir, "calls.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(l) for l in f]

    def apply(self, kc, *extra, expect=0, env=None, d=None):
        p = self.appdeploy("apply", d or self.small, "-n", "demo", "--kubeconfig", kc, *extra, expect=expect, env=env)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        return p

    def test_v1_token_with_args_env_and_cluster_info(self):
        self.configure()
        kc = self.exec_kubeconfig(self.entry(args=["get-token", "--cluster", "fake"],
                                             env=[{"name": "PLUGIN_GREETING", "value": "hello"}],
                                             provideClusterInfo=True),
                                  cluster_extra={"extensions": [{"name": "client.authentication.k8s.io/exec",
                                                                 "extension": {"audience": "fake-aud"}}]})
        p = self.apply(kc)
        self.assertIn("configmap/probe created", p.stdout)
        calls = self.calls()
        self.assertEqual(1, len(calls))  # one run serves every request of the apply
        self.assertEqual(["get-token", "--cluster", "fake"], calls[0]["argv"])
        self.assertEqual("hello", calls[0]["greeting"])
        self.assertFalse(calls[0]["stdin_tty"])
        info = json.loads(calls[0]["info"])
        self.assertEqual(V1, info["apiVersion"])
        self.assertEqual("ExecCredential", info["kind"])
        self.assertEqual(False, info["spec"]["interactive"])
        cl = info["spec"]["cluster"]
        self.assertEqual(self.fk.url, cl["server"])
        with open(self.certs + "/ca.crt", "rb") as f:
            self.assertEqual(base64.b64encode(f.read()).decode(), cl["certificate-authority-data"])
        self.assertEqual({"audience": "fake-aud"}, cl["config"])
        writes = [r for r in self.fk.requests if r["method"] == "PATCH"]
        self.assertTrue(writes and all(r["auth"] for r in writes))
        self.assertEqual(0, self.fk.unauthorized)

    def test_v1beta1_client_certificate(self):
        self.configure(api_version=V1B, cert=self.certs + "/client-admin.crt", key=self.certs + "/client-admin.key")
        kc = self.exec_kubeconfig(self.entry(V1B))  # v1beta1: interactiveMode may be left out
        p = self.apply(kc)
        self.assertIn("configmap/probe created", p.stdout)
        self.assertEqual(1, len(self.calls()))
        info = json.loads(self.calls()[0]["info"])
        self.assertEqual(V1B, info["apiVersion"])
        self.assertNotIn("cluster", info["spec"])  # provideClusterInfo is off
        writes = [r for r in self.fk.requests if r["method"] == "PATCH"]
        self.assertTrue(writes)
        self.assertFalse(any(r["auth"] for r in writes))  # the certificate authenticated, no bearer header
        with open(self.certs + "/client-admin.key") as f:
            key_line = f.read().strip().splitlines()[1]
        self.assertNotIn(key_line, p.stdout + p.stderr)

    def deployment_app(self):
        d = os.path.join(self.tmp, "dep")
        write_tree(d, {"web.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: web, image: registry.example/web:1}]
        """})
        return d

    def test_expiry_runs_the_plugin_again_before_the_token_is_refused(self):
        # the credential says it expires in 2 s; the fake would refuse it only after 4 s
        self.configure(expires_in=2, first_ttl=4, ttl=4)
        self.fk.store.rollout_delay = 5
        kc = self.exec_kubeconfig(self.entry())
        p = self.apply(kc, "--wait", d=self.deployment_app())
        self.assertIn("deployment.apps/web rolled out", p.stdout)
        self.assertGreaterEqual(len(self.calls()), 2)
        self.assertEqual(0, self.fk.unauthorized)  # renewed before expiry, never refused

    def test_401_runs_the_plugin_again_once(self):
        # the first token is revoked after 1 s (no expirationTimestamp said so); the second one lasts
        self.configure(first_ttl=1)
        self.fk.store.rollout_delay = 3
        kc = self.exec_kubeconfig(self.entry())
        p = self.apply(kc, "--wait", d=self.deployment_app())
        self.assertIn("deployment.apps/web rolled out", p.stdout)
        self.assertEqual(2, len(self.calls()))
        self.assertGreaterEqual(self.fk.unauthorized, 1)

    def test_401_on_a_forwarded_request_runs_the_plugin_again(self):
        """The requests made one at a time (up's forward here; dev's pushes, the dashboard's streams and watches
        take the same path): a revoked credential's 401 runs the plugin again and repeats the request once; the
        page never sees the 401."""
        self.configure()
        kc = self.exec_kubeconfig(self.entry())
        agent, p, port, _ = test_up_forward.start_up(self, kc)
        self.assertEqual(self.get_page(port), 200)
        before = len(self.calls())
        with self.fk.lock:  # the identity provider revokes every token it gave (no expirationTimestamp said so)
            for tok in self.fk.tokens:
                if tok.startswith(SECRET):
                    self.fk.token_expiry[tok] = 0
        refused = self.fk.unauthorized
        self.assertEqual(self.get_page(port), 200)
        self.assertEqual(len(self.calls()), before + 1)
        self.assertEqual(self.fk.unauthorized, refused + 1)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=60), 0)

    def get_page(self, port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def test_refused_twice_is_an_error_not_a_loop(self):
        self.configure(register=False)  # a token the server never accepts
        kc = self.exec_kubeconfig(self.entry())
        p = self.apply(kc, expect=1)
        self.assertIn("HTTP 401 Unauthorized", p.stderr)
        self.assertEqual(2, len(self.calls()))  # the first answer, then once more after the 401

    def test_missing_command_shows_install_hint(self):
        kc = self.exec_kubeconfig(self.entry(command="no-such-login-plugin",
                                             installHint="Install it with: apt-get install no-such-login-plugin"))
        p = self.apply(kc, expect=1)
        self.assertIn('user "sso-user": exec plugin no-such-login-plugin not found in $PATH', p.stderr)
        self.assertIn("Install it with: apt-get install no-such-login-plugin", p.stderr)
        self.assertEqual([], [r for r in self.fk.requests if not r["path"].startswith("/fakekube")])

    def test_failing_plugin_error_names_user_and_stderr(self):
        self.configure(fail="error: the SSO session expired; run `sso login`")
        kc = self.exec_kubeconfig(self.entry())
        p = self.apply(kc, expect=1)
        self.assertIn('user "sso-user": exec plugin %s exited with status 3; its stderr: '
                      'error: the SSO session expired; run `sso login`' % self.plugin, p.stderr)

    def test_garbage_output_is_not_shown(self):
        self.configure(garbage="token=%s-garbage" % SECRET)
        kc = self.exec_kubeconfig(self.entry())
        p = self.apply(kc, expect=1)
        self.assertIn('user "sso-user": exec plugin %s: its output is not an ExecCredential JSON object' % self.plugin,
                      p.stderr)
        self.assertIn("bytes, not shown); its stderr: warning: cached login used", p.stderr)

    def test_wrong_api_version_answer(self):
        self.configure(api_version=V1B)
        kc = self.exec_kubeconfig(self.entry(V1))
        p = self.apply(kc, expect=1)
        # the whole message, to its end: a plugin that printed nothing on stderr adds nothing after it
        self.assertIn("is configured for apiVersion %s but answered apiVersion \"%s\"\n" % (V1, V1B), p.stderr)

    def test_interactive_always_needs_a_terminal(self):
        self.configure()
        kc = self.exec_kubeconfig(self.entry(interactiveMode="Always"))
        p = self.apply(kc, expect=1)
        self.assertIn("needs a terminal (interactiveMode: Always) but standard input is not one", p.stderr)
        self.assertEqual([], self.calls())

    def terminal_run(self, kc):
        """appdeploy with a terminal as stdin (a pty), as when a person runs it."""
        master, slave = os.openpty()
        try:
            argv = [APPDEPLOY, "apply", self.small, "-n", "demo", "--kubeconfig", kc]
            env = dict(os.environ, APPDEPLOY_CACHE_DIR=os.path.join(self.tmp, "cache"))
            p = subprocess.run(argv, stdin=slave, capture_output=True, text=True, env=env, timeout=120)
        finally:
            os.close(slave)
            os.close(master)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        return p

    def test_interactive_modes_with_a_terminal(self):
        for mode, api_version, handed in (("Never", V1, False), ("IfAvailable", V1, True), ("Always", V1, True),
                                          (None, V1B, True)):  # v1beta1 without a mode means IfAvailable
            self.configure(api_version=api_version)
            if os.path.exists(os.path.join(self.pdir, "calls.jsonl")):
                os.remove(os.path.join(self.pdir, "calls.jsonl"))
            e = self.entry(api_version)
            if mode:
                e["interactiveMode"] = mode
            p = self.terminal_run(self.exec_kubeconfig(e))
            self.assertEqual(0, p.returncode, p.stderr)
            calls = self.calls()
            self.assertEqual(1, len(calls), mode)
            self.assertEqual(handed, calls[0]["stdin_tty"], mode)  # stdin handed over only when allowed
            self.assertEqual(handed, json.loads(calls[0]["info"])["spec"]["interactive"], mode)

    def test_token_never_in_ps_or_output(self):
        self.configure()
        self.fk.store.rollout_delay = 2
        kc = self.exec_kubeconfig(self.entry())
        argv = [APPDEPLOY, "apply", self.deployment_app(), "-n", "demo", "--kubeconfig", kc, "--wait"]
        env = dict(os.environ, APPDEPLOY_CACHE_DIR=os.path.join(self.tmp, "cache"))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        seen_running = 0
        while proc.poll() is None:
            ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
            self.assertNotIn(SECRET, ps)
            seen_running += APPDEPLOY in ps and self.calls() != []
            time.sleep(0.1)
        out, err = proc.communicate()
        self.assertEqual(0, proc.returncode, err)
        self.assertGreater(seen_running, 0)  # ps was looked at while appdeploy held the token
        self.assertNotIn(SECRET, out + err)
        self.assertIn("deployment.apps/web rolled out", out)


class AuthProvider(KubeTest):
    def kc(self, provider):
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
               "clusters": [{"name": "k", "cluster": {"server": self.fk.url}}],
               "users": [{"name": "gke-user", "user": {"auth-provider": provider}}],
               "contexts": [{"name": "c", "context": {"cluster": "k", "user": "gke-user"}}]}
        path = os.path.join(self.tmp, "kc-ap")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_gcp_auth_provider_is_a_clear_error(self):
        kc = self.kc({"name": "gcp", "config": {"access-token": "ya29.not-a-real-one"}})
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--kubeconfig", kc, expect=1)
        self.assertIn('user "gke-user": the auth-provider "gcp" is not supported (kubectl removed auth providers); '
                      "install gke-gcloud-auth-plugin", p.stderr)
        self.assertRegex(p.stderr, r"kc-ap:\d+:\d+: ")
        self.assertNotIn("ya29", p.stderr)
        self.assertEqual([], self.fk.requests)  # no anonymous request was tried

    def test_oidc_auth_provider_names_the_replacement(self):
        kc = self.kc({"name": "oidc", "config": {"idp-issuer-url": "https://idp.example"}})
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--kubeconfig", kc, expect=1)
        self.assertIn('the auth-provider "oidc" is not supported', p.stderr)
        self.assertIn("kubelogin", p.stderr)


class Transport(KubeTest):
    """proxy-url, HTTPS_PROXY/NO_PROXY, tls-server-name and disable-compression."""

    def setUp(self):
        super().setUp()
        self.small = os.path.join(self.tmp, "small")
        write_tree(self.small, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n"})
        self.proxy = ConnectProxy()

    def tearDown(self):
        self.proxy.shutdown()
        self.proxy.server_close()
        super().tearDown()

    def kc(self, **cluster_extra):
        with open(self.kubeconfig) as f:
            doc = json.load(f)
        doc["clusters"][0]["cluster"].update(cluster_extra)
        path = os.path.join(self.tmp, "kc-t")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def clean_env(self, **extra):
        env = {k: "" for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                               "NO_PROXY", "no_proxy")}
        env.update(extra)
        return env

    def test_https_proxy_env(self):
        env = self.clean_env(HTTPS_PROXY="http://127.0.0.1:%d" % self.proxy.server_address[1])
        p = self.appdeploy("apply", self.small, "-n", "demo", env=env)
        self.assertIn("configmap/probe created", p.stdout)
        self.assertIn("127.0.0.1:%d" % self.fk.port, self.proxy.tunnels)

    def test_no_proxy_env_bypasses_the_proxy(self):
        env = self.clean_env(HTTPS_PROXY="http://127.0.0.1:%d" % self.proxy.server_address[1], NO_PROXY="127.0.0.1")
        p = self.appdeploy("apply", self.small, "-n", "demo", env=env)
        self.assertIn("configmap/probe created", p.stdout)
        self.assertEqual([], self.proxy.tunnels)

    def test_proxy_url_in_the_cluster_entry(self):
        kc = self.kc(**{"proxy-url": "http://127.0.0.1:%d" % self.proxy.server_address[1]})
        p = self.appdeploy("apply", self.small, "-n", "demo", "--kubeconfig", kc, env=self.clean_env())
        self.assertIn("configmap/probe created", p.stdout)
        self.assertIn("127.0.0.1:%d" % self.fk.port, self.proxy.tunnels)

    def test_tls_server_name(self):
        # the certificate names 127.0.0.1 and localhost: checking it against another name must fail...
        kc = self.kc(**{"tls-server-name": "api.wrong.example"})
        p = self.appdeploy("apply", self.small, "-n", "demo", "--kubeconfig", kc, expect=1)
        self.assertIn("api.wrong.example", p.stderr)
        # ...and against a name it has, while connecting to the server's address, succeed
        kc = self.kc(server="https://127.0.0.1:%d" % self.fk.port, **{"tls-server-name": "localhost"})
        p = self.appdeploy("apply", self.small, "-n", "demo", "--kubeconfig", kc)
        self.assertIn("configmap/probe created", p.stdout)

    def test_compression_asked_for_unless_disabled(self):
        self.appdeploy("apply", self.small, "-n", "demo")
        ours = [r for r in self.fk.requests if r["user_agent"].startswith("appdeploy/")]
        self.assertTrue(ours and all("gzip" in r["accept_encoding"] for r in ours))
        self.fk.reset_counts()
        kc = self.kc(**{"disable-compression": True})
        self.appdeploy("apply", self.small, "-n", "demo", "--kubeconfig", kc)
        ours = [r for r in self.fk.requests if r["user_agent"].startswith("appdeploy/")]
        self.assertTrue(ours)
        self.assertEqual([], [r for r in ours if "gzip" in r["accept_encoding"]])


class Version(KubeTest):
    def test_version_and_help(self):
        for args in (["--version"], ["version"]):
            p = self.appdeploy(*args)
            self.assertRegex(p.stdout, r"^appdeploy \d+\.\d+\.\d+\n$")
        for cmd in ("template", "render", "diff", "apply", "serve"):
            p = self.appdeploy(cmd, "--help", kubeconfig=False)
            self.assertTrue(p.stdout.startswith("usage: appdeploy %s" % cmd), p.stdout)
            self.assertEqual("", p.stderr)
        p = self.appdeploy("apply", self.dir, "-h", kubeconfig=False)
        self.assertIn("--wait", p.stdout)
        p = self.appdeploy("-c", "ctx", self.dir, "--help", kubeconfig=False)  # kube-appdeploy's form
        self.assertTrue(p.stdout.startswith("usage: appdeploy apply"), p.stdout)
        p = self.appdeploy("help", "render", kubeconfig=False)
        self.assertTrue(p.stdout.startswith("usage: appdeploy render"), p.stdout)
        p = self.appdeploy("apply", self.dir, "-v", "--help", kubeconfig=False, expect=1)  # a value, not a flag
        self.assertNotIn("usage:", p.stdout)
        self.assertEqual([], self.fk.requests)


if __name__ == "__main__":
    import unittest
    unittest.main()
