"""test_agent_image.py — the agent image (images/appdeploy.Dockerfile, built by scripts/images.sh on a local base) run with podman as the agent's pod runs it: read-only root, uid 10001, in-cluster credentials against a TLS fakekube; `appdeploy serve` in it applies the example set and its dashboard answers through the fake's service proxy, event stream included."""
import http.client
import json
import os
import queue
import re
import ssl
import subprocess
import threading
import unittest

import agentpod
from harness import free_port, require, wait_until
from kubeharness import certs_dir, fakekube

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "hello-deploy")
IMAGES = os.path.join(ROOT, "examples", "images.yaml")
POD_TOKEN = "agent-pod-token-never-shown"
ADMIN_TOKEN = "admin-token-for-the-test"
PROXY = "/api/v1/namespaces/%s/services/appdeploy:http/proxy/" % agentpod.AGENT_NAMESPACE


def version():
    with open(os.path.join(ROOT, "common", "version.h")) as f:
        return re.search(r'APPDEPLOY_VERSION "([^"]+)"', f.read()).group(1)


class AgentImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("SOURCEMODE_SANITIZE"):
            # the README's allowed skip: the image compiles its own appdeploy (no sanitizers)
            raise unittest.SkipTest("the image compiles its own appdeploy (no sanitizers): the sanitizer pass would "
                                    "only repeat the same podman work")
        cls.img = agentpod.image()

    def podman(self, *args, check=True):
        return agentpod.podman(self.img.env, *args, check=check)

    def test_image_is_what_the_pod_needs(self):
        """appdeploy as the entrypoint, uid 10001, HOME and the two volumes; git, CA certificates, tar and gzip;
        the agent's manifests from deploy/agent/; a read-only root with /tmp and the home writable."""
        cfg = json.loads(self.podman("image", "inspect", self.img.ref))[0]["Config"]
        self.assertEqual(cfg["Entrypoint"], ["appdeploy"])
        self.assertEqual(cfg["User"], "10001:10001")
        self.assertIn("HOME=/var/lib/appdeploy", cfg["Env"])
        self.assertEqual(sorted(cfg["Volumes"]), ["/tmp", "/var/lib/appdeploy"])
        rc, out = agentpod.run_once(self.img, ["--version"])
        self.assertEqual((rc, out.strip()), (0, "appdeploy " + version()))
        script = ("id -u; id -g; echo $HOME; git --version | cut -d' ' -f1-2; tar --version | head -n 1 | cut -d' ' -f1-2;"
                  " gzip --version | head -n 1 | cut -d' ' -f1; test -s /etc/ssl/certs/ca-certificates.crt && echo ca;"
                  " touch /usr/x 2>/dev/null && echo root-writable || echo root-read-only;"
                  " touch /tmp/x $HOME/x && echo tmp-home-writable;"
                  " git config --global safe.directory '*' && cat $HOME/.gitconfig | tr -d '\\t';"
                  " ls -A /usr/share/appdeploy/agent")
        rc, out = agentpod.run_once(self.img, ["-c", script], flags=["--entrypoint", "sh"])
        want = sorted(os.listdir(os.path.join(ROOT, "deploy", "agent")))
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.splitlines(), ["10001", "10001", "/var/lib/appdeploy", "git version", "tar (GNU", "gzip",
                                            "ca", "root-read-only", "tmp-home-writable", "[safe]", "directory = *"]
                         + want)

    def request(self, fk, path, token=ADMIN_TOKEN, headers=None):
        ctx = ssl.create_default_context(cafile=os.path.join(fk.tls_dir, "ca.crt"))
        c = http.client.HTTPSConnection("127.0.0.1", fk.port, context=ctx, timeout=60)
        c.request("GET", path, headers=dict({"Authorization": "Bearer " + token}, **(headers or {})))
        return c, c.getresponse()

    def test_serve_in_cluster_through_the_service_proxy(self):
        kubectl = require("kubectl", "the real client creates the agent's Service in the fake")
        fk = fakekube.FakeKube(tls_dir=certs_dir(), tokens={POD_TOKEN: agentpod.SA_USER, ADMIN_TOKEN: "admin"},
                               rollout_delay=0.2)
        fk.start()
        self.addCleanup(fk.stop)
        port = free_port()
        pod = agentpod.AgentPod(self.img, fk, POD_TOKEN,
                                ["serve", "/config", "--listen", "127.0.0.1:%d" % port, "--images", "/images.yaml",
                                 "--interval", "1h"], mounts={EXAMPLE: "/config", IMAGES: "/images.yaml"})
        pod.start()
        self.addCleanup(pod.stop)

        def up(check):
            if not pod.running():
                raise pod.fail_with_logs("the agent container exited")
            return check()

        def page():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request("GET", "/")
                r = c.getresponse()
                return r.status == 200 and r.read().decode()
            finally:
                c.close()
        try:
            direct = wait_until(lambda: up(page), 120, "the dashboard in the container to answer")
            # the set is applied with the in-cluster credentials (the pod's token: the only one the fake gives
            # the service account's user)
            wait_until(lambda: up(lambda: fk.obj("deployments", "hello-dev", "hello") and
                                  fk.obj("deployments", "hello-dev", "redis")), 120, "the example set applied")
        except AssertionError as e:
            raise pod.fail_with_logs(str(e)) from None
        self.assertEqual(fk.obj("deployments", "hello-dev", "hello")["spec"]["template"]["spec"]["containers"][0]["image"],
                         "registry.example.com/hello:1.4.2")
        agents = {r["user_agent"].split("/")[0] for r in fk.requests if r["auth"] and not r["path"].startswith("/fakekube")}
        self.assertEqual(agents, {"appdeploy"})

        # the agent's Service, served by the container's port through the fake's service proxy
        kc = fk.kubeconfig(os.path.join(self.img.tmp, "admin-%d.kubeconfig" % fk.port), token=ADMIN_TOKEN)
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "appdeploy",
                                                                   "namespace": agentpod.AGENT_NAMESPACE},
               "spec": {"selector": {"app": "appdeploy"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
        for args, stdin in ((["create", "namespace", agentpod.AGENT_NAMESPACE], None), (["create", "-f", "-"], svc)):
            p = subprocess.run([kubectl, "--kubeconfig", kc, *args], input=stdin and json.dumps(stdin),
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
        fk.proxy_service(agentpod.AGENT_NAMESPACE, "appdeploy", "http", port)
        c, r = self.request(fk, PROXY)
        body = r.read().decode()
        c.close()
        self.assertEqual((r.status, r.getheader("Content-Type").split(";")[0]), (200, "text/html"))
        self.assertEqual(body, direct)
        p = subprocess.run([kubectl, "--kubeconfig", kc, "get", "--raw", PROXY + "api/session"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("csrf", json.loads(p.stdout))

        # the event stream through the proxy: events arrive while the answer goes on
        c, r = self.request(fk, PROXY + "api/events", headers={"Accept": "text/event-stream"})
        self.addCleanup(c.close)
        self.assertEqual((r.status, r.getheader("Content-Type")), (200, "text/event-stream"))
        events = queue.Queue()

        def read():
            ev = {}
            try:
                while True:
                    line = r.readline().decode()
                    if not line:
                        break
                    line = line.rstrip("\n")
                    if not line:
                        if ev:
                            events.put(ev)
                        ev = {}
                    elif ":" in line and not line.startswith(":"):
                        k, _, v = line.partition(":")
                        ev[k] = v.lstrip(" ")
            except (OSError, ValueError, AttributeError, http.client.HTTPException):  # AttributeError: closed
                pass
            events.put(None)
        threading.Thread(target=read, daemon=True).start()
        self.assertEqual(events.get(timeout=60), {"retry": "1000"})
        first = events.get(timeout=60)
        self.assertEqual(first["event"], "status", first)
        json.loads(first["data"])
        seen = []
        while True:
            ev = events.get(timeout=120)
            self.assertIsNotNone(ev, "the stream ended; saw %r" % seen)
            seen.append(ev.get("event"))
            if ev.get("event") == "snapshot":
                names = sorted(d["name"] for d in json.loads(ev["data"]).get("deployments", []))
                if names == ["hello", "redis"]:
                    break
        c.close()
        self.assertEqual(pod.stop(), 0, "serve's exit on SIGTERM")


if __name__ == "__main__":
    unittest.main()
