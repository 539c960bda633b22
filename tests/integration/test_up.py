"""test_up.py — `appdeploy up` / `down` against fakekube: the set applied, the agent installed whole (bundle or git), its RBAC, bad input leaving nothing behind, rollback, removal; checked with the real kubectl."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import io
import re

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitserver import GitHTTPServer  # noqa: E402
from harness import require  # noqa: E402
from kubeharness import APPDEPLOY, KubeTest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
AGENT_DIR = os.path.join(ROOT, "deploy", "agent")
NS2 = "appdeploy-system"
VAR_KEYS = ["targetNamespace", "agentNamespace", "configSource", "gitURL", "gitRef", "gitPath", "gitCredentials",
            "imagesPath", "interval", "setName", "setVars", "rules", "clusterRules"]

ALL = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ = ["get", "list", "watch"]
# what the agent needs in the target namespace besides the set's kinds (agent/deploy/agentrbac.h)
OWN_CORE = [
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": READ},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get", "create"]},
]
# examples/hello-deploy: Deployments and Services; hello offers synced source mode (the sync-token Secret)
EXAMPLE_RULES = [{"apiGroups": [""], "resources": ["configmaps", "secrets", "services"], "verbs": ALL}] + OWN_CORE + [
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ALL},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": READ},
]


def git(*args, cwd=None):
    git_bin = require(shutil.which("git") or "git", "up reads DIR's git remote and the tests make repositories")
    p = subprocess.run([git_bin, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
                       + list(args), cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode:
        raise AssertionError("git %s: %s" % (" ".join(args), p.stderr))
    return p.stdout


class UpTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.set_dir = os.path.join(self.tmp, "hello-deploy")
        shutil.copytree(os.path.join(ROOT, "examples", "hello-deploy"), self.set_dir)
        self.images = os.path.join(self.tmp, "images.yaml")
        with open(self.images, "w") as f:
            f.write("hello: registry.example.com/hello:1.4.2\nredis: docker.io/library/redis:7.2.4-bookworm\n"
                    "appdeploy: registry.example.com/appdeploy:9.9.9\n")

    def up(self, *args, expect=0, env=None, cwd=None):
        e = {"APPDEPLOY_AGENT_DIR": AGENT_DIR}
        e.update(env or {})
        return self.appdeploy("up", *args, "--kubeconfig", self.kubeconfig, env=e, expect=expect)

    def down(self, *args, expect=0):
        return self.appdeploy("down", *args, "--kubeconfig", self.kubeconfig, env={"APPDEPLOY_AGENT_DIR": AGENT_DIR},
                              expect=expect)

    def get(self, *args, ns=NS2):
        return json.loads(self.kubectl("-n", ns, "get", *args, "-o", "json").stdout)

    def names(self, kinds, ns=NS2):
        out = self.kubectl("-n", ns, "get", kinds, "-o", "name", expect=None)
        return sorted(out.stdout.split())

    def assert_nothing_of_the_agent(self):
        """No agent namespace and nothing of the agent anywhere (the set's namespace holds no agent Role)."""
        p = self.kubectl("get", "namespace", NS2, expect=None)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn('namespaces "%s" not found' % NS2, p.stderr)
        self.assertEqual(self.names("role,rolebinding", ns="demo"), [])
        self.assertEqual(self.names("clusterrole,clusterrolebinding", ns="default"), [])

    def agent_args(self):
        d = self.get("deployment", "appdeploy")
        c = d["spec"]["template"]["spec"]["containers"][0]
        return c, d

    def test_bundle_detach(self):
        """DIR not in git: the set is applied, and exactly the agent's objects exist, the bundle holding DIR."""
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "-v", "greeting=hi", "--detach")
        for line in ("deployment.apps/hello created", "service/redis created", "namespace/%s created" % NS2,
                     "deployment.apps/appdeploy created", "deployment.apps/appdeploy rolled out", "kubectl proxy",
                     "http://127.0.0.1:8001/api/v1/namespaces/%s/services/appdeploy:http/proxy/" % NS2):
            self.assertIn(line, p.stdout)
        self.assertEqual(self.names("deployment,service", ns="demo"),
                         ["deployment.apps/hello", "deployment.apps/redis", "service/hello", "service/redis"])
        self.assertEqual(self.names("serviceaccount,role,rolebinding,deployment,service,configmap,secret"), [
            "configmap/appdeploy-agent", "configmap/appdeploy-bundle", "configmap/appdeploy-set-appdeploy-agent",
            "configmap/kube-root-ca.crt", "deployment.apps/appdeploy",
            "role.rbac.authorization.k8s.io/appdeploy-agent-self",
            "rolebinding.rbac.authorization.k8s.io/appdeploy-agent-self", "service/appdeploy",
            "serviceaccount/appdeploy", "serviceaccount/default"])
        self.assertEqual(self.names("role,rolebinding", ns="demo"), [
            "role.rbac.authorization.k8s.io/appdeploy-agent", "rolebinding.rbac.authorization.k8s.io/appdeploy-agent"])
        self.assertEqual(self.names("clusterrole,clusterrolebinding", ns="default"), [])  # no cluster-scoped kinds
        ns = self.get("namespace", NS2, ns="default")
        self.assertEqual(ns["metadata"]["labels"]["appdeploy.sourcemode.dev/created-by"], "up")
        # the Role in the target namespace: exactly the example's kinds and what the agent itself uses
        role = self.get("role", "appdeploy-agent", ns="demo")
        self.assertEqual(role["rules"], EXAMPLE_RULES)
        rb = self.get("rolebinding", "appdeploy-agent", ns="demo")
        self.assertEqual(rb["subjects"], [{"kind": "ServiceAccount", "name": "appdeploy", "namespace": NS2}])
        self.assertEqual(rb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "appdeploy-agent"})
        # the Deployment runs `appdeploy agent` with the spec's args, as uid 10001 on a read-only root
        c, d = self.agent_args()
        self.assertEqual(c["args"], ["agent", "-n", "demo", "--agent-namespace", NS2, "--set-name", "hello-deploy",
                                     "--bundle", "appdeploy-bundle", "--images", ".appdeploy-images.yaml",
                                     "--interval", "60s", "--listen", "0.0.0.0:8080", "-v", "greeting=hi"])
        self.assertEqual(c["image"], "registry.example.com/appdeploy:9.9.9")  # the image list's appdeploy key
        self.assertEqual(c["env"], [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                    {"name": "HOME", "value": "/var/lib/appdeploy"}])
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        pod = d["spec"]["template"]["spec"]
        self.assertEqual(pod["securityContext"]["runAsUser"], 10001)
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertEqual(pod["serviceAccountName"], "appdeploy")
        self.assertEqual(sorted(m["mountPath"] for m in c["volumeMounts"]), ["/tmp", "/var/lib/appdeploy"])
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/healthz", "port": 8080})
        svc = self.get("service", "appdeploy")
        self.assertEqual([(x["name"], x["port"], x["targetPort"]) for x in svc["spec"]["ports"]], [("http", 80, 8080)])
        # the bundle: DIR's files and the image list, its digest the tar.gz's
        cm = self.get("configmap", "appdeploy-bundle")
        tgz = base64.b64decode(cm["binaryData"]["set.tar.gz"])
        self.assertEqual(cm["data"]["digest"], hashlib.sha256(tgz).hexdigest())
        with tarfile.open(fileobj=io.BytesIO(tgz)) as t:
            files = sorted(m.name for m in t.getmembers() if m.isfile())
        self.assertEqual(files, ["./hello.yaml", "./redis.yaml", "./variables.yaml", ".appdeploy-images.yaml"])
        # the agent's variables: exactly the spec's keys
        text = self.get("configmap", "appdeploy-agent")["data"]["variables.yaml"]
        self.assertEqual(sorted(re.findall(r"^([A-Za-z]+):", text, re.M)), sorted(VAR_KEYS))
        self.assertIn("configSource: bundle\n", text)
        self.assertIn("setVars:\n  greeting: hi\n", text)

    def test_again_unchanged(self):
        """A second up with nothing changed writes the same bundle (same digest) and changes no agent object."""
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        digest = self.get("configmap", "appdeploy-bundle")["data"]["digest"]
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        self.assertIn("deployment.apps/appdeploy unchanged", p.stdout)
        self.assertIn("role.rbac.authorization.k8s.io/appdeploy-agent unchanged", p.stdout)
        self.assertNotIn("namespace/%s created" % NS2, p.stdout)
        self.assertEqual(self.get("configmap", "appdeploy-bundle")["data"]["digest"], digest)

    def repo(self, remote_url=None, bare_name="config.git"):
        """A work tree holding the set at envs/dev and the image list at its top, pushed to a bare repository
        (its file:// URL the remote, unless remote_url is given); returns (DIR, bare path)."""
        bare = os.path.join(self.tmp, bare_name)
        git("init", "-q", "--bare", bare)
        work = os.path.join(self.tmp, "work")
        os.makedirs(os.path.join(work, "envs"))
        shutil.move(self.set_dir, os.path.join(work, "envs", "dev"))
        shutil.copy(self.images, os.path.join(work, "images.yaml"))
        git("init", "-q", work)
        git("add", ".", cwd=work)
        git("commit", "-q", "-m", "config", cwd=work)
        git("remote", "add", "origin", remote_url or "file://" + bare, cwd=work)
        return os.path.join(work, "envs", "dev"), bare, work

    def test_git_url_remote(self):
        """DIR in a git work tree whose remote is a URL (file:// counts): the agent clones it; no bundle."""
        d, bare, work = self.repo()
        git("push", "-q", "-u", "origin", "main", cwd=work)
        p = self.up(d, "-n", "demo", "--images", os.path.join(work, "images.yaml"), "--interval", "30s", "--detach")
        self.assertIn("configuration: git file://%s main path envs/dev" % bare, p.stdout)
        c, _ = self.agent_args()
        self.assertEqual(c["args"], ["agent", "-n", "demo", "--agent-namespace", NS2, "--set-name", "dev",
                                     "--git", "file://" + bare, "--git-ref", "main", "--git-path", "envs/dev",
                                     "--images", "../../images.yaml", "--interval", "30s", "--listen", "0.0.0.0:8080"])
        self.assertNotIn("configmap/appdeploy-bundle", self.names("configmap"))
        text = self.get("configmap", "appdeploy-agent")["data"]["variables.yaml"]
        for line in ("configSource: git\n", "gitURL: file://%s\n" % bare, "gitRef: main\n", "gitPath: envs/dev\n",
                     'gitCredentials: ""\n', "imagesPath: ../../images.yaml\n"):
            self.assertIn(line, text)
        self.assertEqual(self.names("deployment", ns="demo"), ["deployment.apps/hello", "deployment.apps/redis"])

    def test_git_unpushed_branch(self):
        """A branch the remote does not have: an error saying to push it, and nothing written."""
        d, bare, work = self.repo()
        p = self.up(d, "-n", "demo", "--images", os.path.join(work, "images.yaml"), "--detach", expect=1)
        self.assertIn('has no branch or tag "main", which the agent would check out: push it first (git push -u origin main)',
                      p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment", ns="demo"), [])

    def test_git_remote_missing(self):
        """A remote URL with no repository behind it: git's first fatal line (the cause, not its advice), and
        nothing written."""
        d, bare, work = self.repo(remote_url="file://" + os.path.join(self.tmp, "none.git"))
        p = self.up(d, "-n", "demo", "--images", os.path.join(work, "images.yaml"), "--detach", expect=1)
        self.assertIn('remote "origin" (file://%s) did not answer git ls-remote: \'%s\' does not appear to be a git '
                      "repository. The agent in the cluster clones it" % ((os.path.join(self.tmp, "none.git"),) * 2),
                      p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment", ns="demo"), [])

    def test_git_path_remote_bundles(self):
        """A remote that is a plain local path cannot be reached from the cluster: DIR is bundled."""
        d, bare, work = self.repo(remote_url=None)
        git("remote", "set-url", "origin", bare, cwd=work)
        git("push", "-q", "-u", "origin", "main", cwd=work)
        p = self.up(d, "-n", "demo", "--images", os.path.join(work, "images.yaml"), "--detach")
        self.assertIn("is a local path (%s), which the cluster cannot reach" % bare, p.stdout)
        c, _ = self.agent_args()
        self.assertIn("--bundle", c["args"])
        self.assertNotIn("--git", c["args"])
        self.assertIn("configmap/appdeploy-bundle", self.names("configmap"))
        # the remote becomes a URL: the next up switches the agent to git and drops the bundle (the set's origin
        # moves with the remote's URL: apply's --take-over says that is meant)
        git("remote", "set-url", "origin", "file://" + bare, cwd=work)
        p = self.up(d, "-n", "demo", "--images", os.path.join(work, "images.yaml"), "--take-over", "--detach")
        self.assertIn("configmap/appdeploy-bundle deleted (the configuration comes from git now)", p.stdout)
        c, _ = self.agent_args()
        self.assertIn("--git", c["args"])
        self.assertNotIn("configmap/appdeploy-bundle", self.names("configmap"))

    def test_private_remote(self):
        """A remote asking for credentials: without --git-credentials a clear error and nothing written; with it
        the Secret holds the file, the Deployment mounts it, and the token never appears in up's output."""
        token = "tok-7f3a9c-never-printed"
        srv_root = os.path.join(self.tmp, "srv")
        os.makedirs(srv_root)
        d, bare, work = self.repo(bare_name="srv/config.git")
        srv = GitHTTPServer(srv_root, "dev", token).start()
        self.addCleanup(srv.stop)
        url = srv.url("config.git")
        creds = os.path.join(self.tmp, "git-credentials")
        with open(creds, "w") as f:
            f.write("http://dev:%s@127.0.0.1:%d\n" % (token, srv.port))
        git("remote", "set-url", "origin", url, cwd=work)
        git("-c", "credential.helper=store --file=" + creds, "push", "-q", "-u", "origin", "main", cwd=work)
        images = os.path.join(work, "images.yaml")
        p = self.up(d, "-n", "demo", "--images", images, "--detach", expect=1)
        self.assertIn('remote "origin" (%s) asks for credentials, and the agent in the cluster will need them too: '
                      "pass --git-credentials FILE" % url, p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment", ns="demo"), [])  # the set was not applied either
        p = self.up(d, "-n", "demo", "--images", images, "--git-credentials", creds, "--detach")
        self.assertNotIn(token, p.stdout + p.stderr)
        self.assertIn("secret/appdeploy-git-credentials written (the credentials of %s, not shown)" % creds, p.stdout)
        secret = self.get("secret", "appdeploy-git-credentials")
        with open(creds) as f:
            self.assertEqual(base64.b64decode(secret["data"]["credentials"]).decode(), f.read())
        c, d_obj = self.agent_args()
        i = c["args"].index("--git-credentials")
        self.assertEqual(c["args"][i + 1], "/var/run/secrets/appdeploy/git/credentials")
        self.assertIn({"name": "git-credentials", "mountPath": "/var/run/secrets/appdeploy/git", "readOnly": True},
                      c["volumeMounts"])
        vols = {v["name"]: v for v in d_obj["spec"]["template"]["spec"]["volumes"]}
        self.assertEqual(vols["git-credentials"]["secret"]["secretName"], "appdeploy-git-credentials")
        # a bundle from an earlier up is no longer read once git serves the configuration
        self.assertNotIn("configmap/appdeploy-bundle", self.names("configmap"))
        # wrong credentials: refused by the remote, said so, and nothing more is written
        with open(creds, "w") as f:
            f.write("http://dev:wrong@127.0.0.1:%d\n" % srv.port)
        p = self.up(d, "-n", "demo", "--images", images, "--git-credentials", creds, "--detach", expect=1)
        self.assertIn("refused the credentials in %s" % creds, p.stderr)

    def test_not_a_set(self):
        """DIR that does not render: the template's error, exit 1, nothing written."""
        with open(os.path.join(self.set_dir, "broken.yaml"), "w") as f:
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Variables.nope }}\n")
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertIn("broken.yaml:4:", p.stderr)
        self.assertIn("DIR must be a set that renders", p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.writes(), [])

    def test_agent_namespace_forbidden(self):
        """A user who may not create the agent's namespace (403): a clear error before anything is written.
        (The fake denies `create namespaces` to every user, RBAC's 403; the user may still write in demo.)"""
        self.fk.deny.add(("create", "namespaces"))
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertIn("the agent's namespace %s does not exist and cannot be created:" % NS2, p.stderr)
        self.assertIn("(HTTP 403 Forbidden)", p.stderr)
        self.assertIn("kubectl create namespace %s" % NS2, p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual([w for w in self.writes() if "dryRun" not in w.get("query", {})], [])

    def test_bundle_too_big(self):
        """A bundle over the 1 MiB object limit: the size and the limit named, nothing written."""
        with open(os.path.join(self.set_dir, "blob.bin"), "wb") as f:
            f.write(os.urandom(900 * 1024))
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertRegex(p.stderr, r"the bundle of .*hello-deploy is 1\.\d\d MiB as a ConfigMap \(\d+ bytes; \d+ bytes "
                                   r"of tar.gz\), over the API server's 1 MiB object limit \(1048576 bytes\): nothing was written")
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.writes(), [])

    def test_rollback(self):
        """A failure after the first write of the agent: what this run created is deleted again (the agent
        is there whole or not at all); the set stays applied, as apply leaves it."""
        self.fk.faults.append({"method": "PATCH", "path": "/namespaces/%s/deployments/appdeploy$" % NS2,
                               "query": "^(?!.*dryRun)", "status": 403, "count": 5,
                               "message": 'deployments.apps "appdeploy" is forbidden: injected'})
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertIn("rolling back what this run created of the agent", p.stderr)
        self.assertIn("deleted namespace %s (this run created it)" % NS2, p.stderr)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment", ns="demo"), ["deployment.apps/hello", "deployment.apps/redis"])

    def test_rollback_after_dry_run(self):
        """The agent's dry run refused after up created its namespace: the namespace goes again (for real: the
        rollback is no dry run)."""
        self.fk.faults.append({"method": "PATCH", "path": "/namespaces/%s/deployments/appdeploy$" % NS2,
                               "query": "dryRun=All", "status": 403, "count": 5, "message": "injected"})
        p = self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertIn("the agent would not install:", p.stderr)
        self.assertIn("deleted namespace %s (this run created it)" % NS2, p.stderr)
        self.assert_nothing_of_the_agent()

    def test_rollback_keeps_what_was_there(self):
        """With the agent's namespace made beforehand, a failed install deletes only what this run created and
        leaves the namespace (and what was in it) alone."""
        self.kubectl("create", "namespace", NS2)
        self.kubectl("-n", NS2, "create", "configmap", "keep-me", "--from-literal=a=b")
        self.fk.faults.append({"method": "PATCH", "path": "/namespaces/%s/services/appdeploy$" % NS2,
                               "query": "^(?!.*dryRun)", "status": 403, "count": 5, "message": "injected"})
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach", expect=1)
        self.assertEqual(self.names("serviceaccount,role,rolebinding,deployment,service,configmap,secret"), [
            "configmap/keep-me", "configmap/kube-root-ca.crt", "serviceaccount/default"])
        self.assertEqual(self.names("role,rolebinding", ns="demo"), [])

    def test_down(self):
        """down removes the agent (and the namespace up made); --all also prunes the set; it asks unless --yes."""
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        p = self.down(self.set_dir, "-n", "demo", expect=2)  # no terminal here
        self.assertIn("not asking without a terminal: pass --yes", p.stderr)
        self.assertIn("deployment.apps/appdeploy", self.names("deployment"))
        p = self.down(self.set_dir, "-n", "demo", "--yes")
        self.assertIn("deployment.apps/appdeploy pruned", p.stdout)
        self.assertIn("namespace/%s (up created it) deleted" % NS2, p.stdout)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment", ns="demo"), ["deployment.apps/hello", "deployment.apps/redis"])
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        p = self.down(self.set_dir, "-n", "demo", "--all", "--yes")
        self.assertIn("deployment.apps/hello pruned", p.stdout)
        self.assert_nothing_of_the_agent()
        self.assertEqual(self.names("deployment,service,configmap", ns="demo"), ["configmap/kube-root-ca.crt"])

    def test_down_keeps_a_namespace_up_did_not_make(self):
        self.kubectl("create", "namespace", NS2)
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        p = self.down(self.set_dir, "-n", "demo", "--yes")
        self.assertIn("namespace/%s left in place (up did not create it)" % NS2, p.stdout)
        self.assertEqual(self.names("deployment,service,serviceaccount,role,rolebinding"), ["serviceaccount/default"])

    def down_on_a_terminal(self, answer):
        """down with its stdin and stderr on a pseudo-terminal, answering the question; (exit status, what it said)."""
        import pty
        import select
        master, slave = pty.openpty()
        env = dict(os.environ, APPDEPLOY_AGENT_DIR=AGENT_DIR, APPDEPLOY_CACHE_DIR=os.path.join(self.tmp, "cache"))
        env.pop("KUBECONFIG", None)
        p = subprocess.Popen([APPDEPLOY, "down", self.set_dir, "-n", "demo", "--kubeconfig", self.kubeconfig],
                             stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        said, deadline = b"", time.monotonic() + 60
        while b"[y/N] " not in said and time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                said += os.read(master, 4096)
        os.write(master, answer)
        out = p.stdout.read().decode()
        rc = p.wait(timeout=60)
        try:
            while select.select([master], [], [], 0.2)[0]:
                said += os.read(master, 4096)
        except OSError:
            pass
        os.close(master)
        p.stdout.close()
        self.assertNotIn(b"Sanitizer", said)
        self.assertNotIn(b"runtime error:", said)
        return rc, said.decode(), out

    def test_down_asks_on_a_terminal(self):
        self.up(self.set_dir, "-n", "demo", "--images", self.images, "--detach")
        rc, said, out = self.down_on_a_terminal(b"n\n")
        self.assertIn("This removes the appdeploy agent from namespace %s. Continue? [y/N] " % NS2, said)
        self.assertEqual(rc, 1)
        self.assertIn("nothing was removed", said)
        self.assertIn("deployment.apps/appdeploy", self.names("deployment"))
        rc, said, out = self.down_on_a_terminal(b"y\n")
        self.assertEqual(rc, 0, said + out)
        self.assertIn("deployment.apps/appdeploy pruned", out)
        self.assert_nothing_of_the_agent()
