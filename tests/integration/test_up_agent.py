"""test_up_agent.py — #16 end to end: `appdeploy up` against the fake, the agent image run by podman as the agent's pod would run (host network, the service-account files at the in-cluster path, KUBERNETES_SERVICE_HOST/PORT, the Deployment's own args), the dashboard through the fake's service proxy and up's local forward, and a commit to the configuration repository picked up by the agent in the container."""
import json
import os
import re
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agentpod  # noqa: E402
import kubeharness  # noqa: E402
import test_agent  # noqa: E402  (the module: its test classes are not this one's)
from harness import free_port, require, wait_until  # noqa: E402
from kubeharness import APPDEPLOY, TOKEN, fakekube, write_tree  # noqa: E402

SA_TOKEN = "agent-sa-token-never-shown"
NS, NS2 = "dev", agentpod.AGENT_NAMESPACE

# test_agent.py's set (a ConfigMap from the greeting, the web Deployment from the image list), greeting "hello"
SET = dict(test_agent.SET, **{"variables.yaml": "greeting: hello\n"})


def git(cwd, *args):
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, **test_agent.GIT_ENV))
    if p.returncode:
        raise AssertionError(f"git {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


class UpAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("SOURCEMODE_SANITIZE"):
            raise unittest.SkipTest("the image compiles its own appdeploy (no sanitizers); "
                                    "test_up.py and test_agent.py run up and the agent under the sanitizers")
        require("git", "the configuration is a git repository the agent clones")
        cls.img = agentpod.image()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="up-agent-")
        os.chmod(self.tmp, 0o755)  # the agent (uid 10001) reads the bare repository through a mount
        self.fk = fakekube.FakeKube(tokens={TOKEN: "admin", SA_TOKEN: agentpod.SA_USER},
                                    tls_dir=kubeharness.certs_dir(), rollout_delay=0.2)
        self.fk.start()
        self.kubeconfig = self.fk.kubeconfig(os.path.join(self.tmp, "kubeconfig"), namespace=NS, token=TOKEN)
        # the configuration repository: a bare one (the remote, by a file:// URL the agent reaches through a
        # mount at the same path) and the developer's clone
        self.bare = os.path.join(self.tmp, "config.git")
        git(self.tmp, "init", "-q", "--bare", "-b", "main", self.bare)
        self.work = os.path.join(self.tmp, "work")
        git(self.tmp, "clone", "-q", "file://" + self.bare, self.work)
        git(self.work, "checkout", "-q", "-b", "main")
        write_tree(os.path.join(self.work, "env"), SET)
        # the image list beside the set (a .yaml in DIR is a manifest), in the same repository
        write_tree(self.work, {"images.yaml": "web: registry.example/web:1.0\n"})
        self.commit("first")
        self.up = None
        self.pod = None

    def tearDown(self):
        if self.up and self.up.poll() is None:
            self.up.kill()
            self.up.wait()
        if self.up:
            self.up.stdout.close()
        if self.pod:
            self.pod.stop(timeout=5)
        self.fk.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def commit(self, msg):
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", msg)
        git(self.work, "push", "-q", "origin", "HEAD:main")
        for root, dirs, files in os.walk(self.bare):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)

    def edit(self, rel, old, new):
        p = os.path.join(self.work, "env", rel)
        with open(p) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(p, "w") as f:
            f.write(text.replace(old, new))

    def configmap(self):
        o = self.fk.obj("configmaps", NS, "web-config")
        return o and o.get("data", {}).get("greeting")

    def start_up(self, port):
        e = dict(os.environ, APPDEPLOY_CACHE_DIR=os.path.join(self.tmp, "cache"))
        e.pop("KUBECONFIG", None)
        self.up = subprocess.Popen([APPDEPLOY, "up", os.path.join(self.work, "env"), "--kubeconfig", self.kubeconfig,
                                    "-n", NS, "--images", os.path.join(self.work, "images.yaml"),
                                    "--interval", "1s", "--listen", "127.0.0.1:%d" % port],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=e)
        self.up_out = ""
        self.up_lines = queue.Queue()

        def pump(out, q):
            for line in out:
                q.put(line)
            q.put(None)
        threading.Thread(target=pump, args=(self.up.stdout, self.up_lines), daemon=True).start()

    def read_up_until(self, pattern, timeout=120):
        """up's output until it matches pattern (the process keeps running): the match."""
        rx = re.compile(pattern, re.M)

        def more():
            try:
                line = self.up_lines.get(timeout=0.5)
            except queue.Empty:
                return None
            if line is None:
                raise AssertionError("up exited %s before %r:\n%s" % (self.up.wait(), pattern, self.up_out))
            self.up_out += line
            return rx.search(self.up_out)
        return wait_until(more, timeout=timeout, what="up's output matching %r" % pattern)

    def start_agent_pod(self):
        """The agent container with the args of the Deployment `up` wrote (its --listen moved to a free port:
        host network), the bare repository mounted at the same path, and the fake's service proxy forwarding
        services/appdeploy:http/proxy/ to it."""
        dep = wait_until(lambda: self.fk.obj("deployments", NS2, "appdeploy"), timeout=120,
                         what="the agent Deployment in %s" % NS2)
        c = dep["spec"]["template"]["spec"]["containers"][0]
        args = list(c.get("args") or [])
        port = free_port()
        self.assertIn("--listen", args)
        args[args.index("--listen") + 1] = "127.0.0.1:%d" % port
        # the bare repository stands in for a git server: the agent (uid 10001) reads a root-owned one, which
        # git refuses ("dubious ownership") unless a global config says it is safe (git 2.39 takes
        # safe.directory from no other place)
        gitconfig = os.path.join(self.tmp, "gitconfig")
        with open(gitconfig, "w") as f:
            f.write("[safe]\n\tdirectory = *\n")
        os.chmod(gitconfig, 0o644)
        env = {"APPDEPLOY_AGENT_DIR": "/usr/share/appdeploy/agent", "GIT_CONFIG_GLOBAL": gitconfig}
        self.pod = agentpod.AgentPod(self.img, self.fk, SA_TOKEN, args, mounts={self.bare: self.bare + ":ro", gitconfig: gitconfig + ":ro"},
                                     env=env, name="appdeploy-test-%d" % port)
        self.pod.start()
        self.fk.proxy_service(NS2, "appdeploy", "http", port)
        return dep, port

    def get(self, url, timeout=30):
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()

    def test_up_the_agent_syncs_serves_and_follows_commits(self):
        git(self.work, "remote", "set-url", "origin", "file://" + self.bare)
        port = free_port()
        self.start_up(port)
        self.read_up_until(r"^configmap/web-config\b")   # the set applied as apply does
        dep, agent_port = self.start_agent_pod()
        args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertEqual(args[:1], ["agent"])
        self.assertIn("file://" + self.bare, args)
        m = self.read_up_until(r"^dashboard: (http://127\.0\.0\.1:\d+/)$")
        base = m.group(1)
        self.assertEqual(base, "http://127.0.0.1:%d/" % port)
        # the agent in the container answers through the fake's service proxy ...
        try:
            wait_until(lambda: self.get("http://127.0.0.1:%d/healthz" % agent_port)[0] == 200, timeout=60,
                       what="the agent's /healthz")
        except AssertionError:
            raise self.pod.fail_with_logs("the agent container never answered")
        status, page = self.get(base)
        self.assertEqual(status, 200)
        self.assertIn("<html", page.lower())
        status, session = self.get(base + "api/session")
        self.assertEqual(status, 200)
        self.assertIn("lease", json.loads(session))
        # ... and its event stream through up's local forward, event by event
        with urllib.request.urlopen(base + "api/events", timeout=30) as r:
            self.assertEqual(r.headers.get("Content-Type", "").split(";")[0], "text/event-stream")
            first = r.readline().decode()
            self.assertRegex(first, r"^(event|data|id|retry|:)")
        # a commit is picked up by the agent in the container
        wait_until(lambda: self.configmap() == "hello", timeout=60, what="the set applied")
        self.edit("variables.yaml", "greeting: hello", "greeting: bonjour")
        self.commit("bonjour")
        try:
            wait_until(lambda: self.configmap() == "bonjour", timeout=90, what="the agent applying the new commit")
        except AssertionError:
            raise self.pod.fail_with_logs("the commit was not applied")
        # a new appdeploy image in the image list rolls the agent's own Deployment
        with open(os.path.join(self.work, "images.yaml"), "a") as f:
            f.write("appdeploy: registry.example/appdeploy:9.9.9\n")
        self.commit("new agent image")

        def agent_image():
            d = self.fk.obj("deployments", NS2, "appdeploy")
            return d["spec"]["template"]["spec"]["containers"][0]["image"]
        try:
            wait_until(lambda: agent_image() == "registry.example/appdeploy:9.9.9", timeout=90,
                       what="the agent's own Deployment on the new image")
        except AssertionError:
            raise self.pod.fail_with_logs("the agent did not update itself")
        self.up.send_signal(signal.SIGINT)
        self.assertEqual(self.up.wait(timeout=30), 0, self.up_out)
        self.assertNotIn(TOKEN, self.up_out)
        self.assertNotIn(SA_TOKEN, self.pod.logs())


if __name__ == "__main__":
    unittest.main()
