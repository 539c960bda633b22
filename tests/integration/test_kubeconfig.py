"""test_kubeconfig.py — appdeploy finds and authenticates to the fake API server with every kubeconfig variant kubectl supports."""
import base64
import json
import os
import subprocess
import time

from kubeharness import KubeTest, TOKEN, write_tree, certs_dir, APPDEPLOY


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Kubeconfig(KubeTest):
    def setUp(self):
        super().setUp()
        self.small = os.path.join(self.tmp, "small")
        write_tree(self.small, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n"})
        self.certs = certs_dir()

    def cfg(self, name, cluster, user, namespace=None, contexts=None, current="c"):
        ctx = {"cluster": "k", "user": "u"}
        if namespace:
            ctx["namespace"] = namespace
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": current,
               "clusters": [{"name": "k", "cluster": cluster}], "users": [{"name": "u", "user": user}],
               "contexts": contexts or [{"name": "c", "context": ctx}]}
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def apply_with(self, kc, expect=0, ns="demo", env=None, extra=()):
        args = ["apply", self.small] + (["-n", ns] if ns else []) + list(extra)
        if kc:
            args += ["--kubeconfig", kc]
        return self.appdeploy(*args, expect=expect, env=env, kubeconfig=False)

    def user_of_last_write(self):
        return [r for r in self.fk.requests if r["method"] == "PATCH"][-1]

    def test_token_and_ca_file(self):
        kc = self.cfg("a", {"server": self.fk.url, "certificate-authority": self.certs + "/ca.crt"}, {"token": TOKEN})
        self.assertIn("configmap/probe created", self.apply_with(kc).stdout)

    def test_inline_ca_and_client_certificate_data(self):
        with open(self.certs + "/client-admin.key") as f:
            key = f.read()
        kc = self.cfg("a", {"server": self.fk.url, "certificate-authority-data": b64(self.certs + "/ca.crt")},
                      {"client-certificate-data": b64(self.certs + "/client-admin.crt"),
                       "client-key-data": b64(self.certs + "/client-admin.key")})
        p = self.apply_with(kc)
        self.assertIn("configmap/probe created", p.stdout)
        self.assertFalse(self.user_of_last_write()["auth"])  # authenticated by certificate, no header
        body = key.strip().splitlines()[1]
        self.assertNotIn(body, p.stdout + p.stderr)

    def test_client_certificate_files_relative_paths(self):
        # relative paths resolve against the kubeconfig's own directory, as kubectl does
        os.symlink(self.certs, os.path.join(self.tmp, "pki"))
        kc = self.cfg("a", {"server": self.fk.url, "certificate-authority": "pki/ca.crt"},
                      {"client-certificate": "pki/client-viewer.crt", "client-key": "pki/client-viewer.key"})
        p = self.apply_with(kc, expect=1)
        self.assertIn('User "viewer" cannot', p.stderr)  # the certificate's CN is the user
        self.assertIn("HTTP 403 Forbidden", p.stderr)

    def test_token_file(self):
        with open(os.path.join(self.tmp, "tok"), "w") as f:
            f.write(TOKEN + "\n")
        kc = self.cfg("a", {"server": self.fk.url, "certificate-authority": self.certs + "/ca.crt"},
                      {"tokenFile": "tok"})
        self.assertIn("configmap/probe created", self.apply_with(kc).stdout)

    def test_insecure_skip_tls_verify(self):
        kc = self.cfg("a", {"server": self.fk.url, "insecure-skip-tls-verify": True}, {"token": TOKEN})
        self.assertIn("configmap/probe created", self.apply_with(kc).stdout)

    def test_unknown_ca_is_refused(self):
        kc = self.cfg("a", {"server": self.fk.url}, {"token": TOKEN})
        p = self.apply_with(kc, expect=1)
        self.assertIn("cannot reach %s" % self.fk.url, p.stderr)
        self.assertIn("certificate", p.stderr)

    def test_kubeconfig_list_merge(self):
        # first file: current-context and the right cluster; second: the context, the user, a wrong "k"
        a = os.path.join(self.tmp, "first")
        with open(a, "w") as f:
            json.dump({"current-context": "merged",
                       "clusters": [{"name": "k", "cluster": {"server": self.fk.url,
                                                              "certificate-authority": self.certs + "/ca.crt"}}]}, f)
        b = os.path.join(self.tmp, "second")
        with open(b, "w") as f:
            json.dump({"current-context": "other",
                       "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
                       "users": [{"name": "u", "user": {"token": TOKEN}}],
                       "contexts": [{"name": "merged", "context": {"cluster": "k", "user": "u", "namespace": "fromctx"}}]},
                      f)
        missing = os.path.join(self.tmp, "does-not-exist")
        p = self.apply_with(None, ns=None, env={"KUBECONFIG": ":".join([missing, a, b])})
        self.assertIn("configmap/probe created", p.stdout)
        self.assertIsNotNone(self.fk.obj("configmaps", "fromctx", "probe"))

    def test_context_flag(self):
        contexts = [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": "one"}},
                    {"name": "d", "context": {"cluster": "k", "user": "u", "namespace": "two"}}]
        kc = self.cfg("a", {"server": self.fk.url, "certificate-authority": self.certs + "/ca.crt"}, {"token": TOKEN},
                      contexts=contexts)
        self.apply_with(kc, ns=None, extra=["--context", "d"])
        self.assertIsNotNone(self.fk.obj("configmaps", "two", "probe"))
        self.apply_with(kc, ns=None, extra=["-c", "c"])
        self.assertIsNotNone(self.fk.obj("configmaps", "one", "probe"))
        p = self.apply_with(kc, expect=1, extra=["--context", "nope"])
        self.assertIn('context "nope" not found', p.stderr)

    def test_home_kube_config(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home + "/.kube")
        self.fk.kubeconfig(home + "/.kube/config", namespace="homens", token=TOKEN)
        self.apply_with(None, ns=None, env={"HOME": home})
        self.assertIsNotNone(self.fk.obj("configmaps", "homens", "probe"))

    def test_bad_kubeconfig_has_position(self):
        path = os.path.join(self.tmp, "bad")
        with open(path, "w") as f:
            f.write("apiVersion: v1\nclusters:\n- name: k\n  cluster:\n    server: [oops\n")
        p = self.apply_with(path, expect=1)
        self.assertRegex(p.stderr, path.replace(".", r"\.") + r":\d+:\d+: ")
        with open(path, "w") as f:
            f.write("current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: k\nclusters:\n- name: k\n"
                    "  cluster:\n    server: ftp://x\n")
        p = self.apply_with(path, expect=1)
        self.assertIn(path + ":9:13: server must be an http:// or https:// URL", p.stderr)

    def test_in_cluster_service_account_with_rotation(self):
        self.fk.store.rollout_delay = 1.5
        sa = os.path.join(self.tmp, "sa")
        os.makedirs(sa)
        with open(sa + "/token", "w") as f:
            f.write("old-token")
        with open(sa + "/namespace", "w") as f:
            f.write("incluster\n")
        with open(self.certs + "/ca.crt") as src, open(sa + "/ca.crt", "w") as dst:
            dst.write(src.read())
        self.fk.tokens["old-token"] = "admin"
        self.fk.tokens["new-token"] = "admin"
        write_tree(self.small, {"dep.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              selector: {matchLabels: {app: d}}
              template:
                metadata: {labels: {app: d}}
                spec: {containers: [{name: c, image: x}]}
        """})
        env = dict(os.environ, HOME=self.tmp, KUBERNETES_SERVICE_HOST="127.0.0.1",
                   KUBERNETES_SERVICE_PORT=str(self.fk.port), APPDEPLOY_SERVICEACCOUNT_DIR=sa)
        env.pop("KUBECONFIG", None)
        proc = subprocess.Popen([APPDEPLOY, "apply", self.small, "--wait"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while self.fk.obj("deployments", "incluster", "d") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # the token rotates while appdeploy waits for the rollout: it must pick up the new one
        with open(sa + "/token.tmp", "w") as f:
            f.write("new-token")
        os.rename(sa + "/token.tmp", sa + "/token")
        del self.fk.tokens["old-token"]
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("deployment.apps/d rolled out", out)
        self.assertNotIn("token", out + err)

    def test_no_config_at_all(self):
        p = self.apply_with(None, expect=1, env={"HOME": self.tmp, "KUBERNETES_SERVICE_HOST": ""})
        self.assertIn("no kubeconfig found", p.stderr)
