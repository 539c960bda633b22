"""agentpod.py — the agent image (images/appdeploy.Dockerfile) built once per test run on a local base, and containers of it run as the agent's pod runs: host network (to reach a fakekube on 127.0.0.1), the service-account token / ca.crt / namespace at the in-cluster path, KUBERNETES_SERVICE_HOST/PORT, a read-only root with tmpfs /tmp and /var/lib/appdeploy, uid 10001.

    img = agentpod.image()                     # builds once per process (later calls: the same image)
    pod = agentpod.AgentPod(img, fk, TOKEN, ["serve", "/config", "--listen", "127.0.0.1:%d" % port],
                            mounts={examples_dir: "/config"})
    pod.start(); ...; pod.fail_with_logs("what went wrong")  # an AssertionError carrying the container's log
    pod.stop()                                 # SIGTERM (podman stop), then removed; returns the exit code
    rc, out = agentpod.run_once(img, ["--version"])
A missing podman/runc or a podman that cannot run containers fails (harness.require / require_that), never skips.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import localbase  # noqa: E402
from harness import require, require_that  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
AGENT_NAMESPACE = "appdeploy-system"
SA_USER = "system:serviceaccount:%s:appdeploy" % AGENT_NAMESPACE
UID = 10001


class Image:
    """The built agent image: ref (NAME:TAG), env (podman's environment), build_seconds, base_seconds."""

    def __init__(self, ref, env, tmp, base, base_seconds, build_seconds):
        self.ref, self.env, self.tmp, self.base = ref, env, tmp, base
        self.base_seconds, self.build_seconds = base_seconds, build_seconds


_IMAGE = None


def podman(env, *args, check=True, timeout=120):
    r = subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return r.stdout


def image():
    """The agent image, built on first use in this process: a local base for it (scripts/localbase.py, the
    build group + git + gzip), then scripts/images.sh appdeploy on it. Removed (with the base and the layers
    built on it) when the process exits."""
    global _IMAGE
    if _IMAGE is not None:
        return _IMAGE
    require("podman", "the agent image is built and run with podman")
    require("runc", "podman runs the containers with runc here (crun fails)")
    tmp = tempfile.mkdtemp(prefix="sourcemode-agentimg-")
    env = localbase.engine_env(tmp)
    problem = localbase.podman_problem(env)
    if problem:
        shutil.rmtree(tmp, True)
        require_that(False, problem, "the agent image is built and run with rootful podman")
    tag = uuid.uuid4().hex[:10]
    base = f"localhost/sourcemode-test-agentbase:{tag}"
    name = "localhost/sourcemode-test-appdeploy"
    t0 = time.monotonic()
    localbase.import_image(base, env, runners=("appdeploy",))
    t1 = time.monotonic()
    img = Image(f"{name}:{tag}", env, tmp, base, t1 - t0, 0)
    atexit.register(_remove, img, name)
    r = subprocess.run([os.path.join(ROOT, "scripts", "images.sh"), "appdeploy"], capture_output=True, text=True,
                       timeout=1800, env=dict(env, BASE=base, IMAGE_TAG=tag, AGENT_IMAGE=name,
                                              BUILD_FLAGS="--pull=never"))
    if r.returncode or r.stdout.strip().splitlines()[-1:] != ["images: built: appdeploy; failed: none"]:
        raise AssertionError(f"scripts/images.sh appdeploy failed:\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}")
    img.build_seconds = time.monotonic() - t1
    print(f"\nagent image: base {img.base_seconds:.0f} s, image {img.build_seconds:.0f} s", file=sys.stderr)
    _IMAGE = img
    return img


def _remove(img, name):
    """The image (both its tags), the base and every layer built on it."""
    env = img.env
    for c in AgentPod.created:
        podman(env, "rm", "-f", "-t", "0", c, check=False)
    version = subprocess.run(["sed", "-n", 's/^#define APPDEPLOY_VERSION "\\(.*\\)"$/\\1/p',
                              os.path.join(ROOT, "common", "version.h")], capture_output=True, text=True).stdout.strip()
    podman(env, "rmi", "-f", img.ref, f"{name}:{version}", check=False)
    base = podman(env, "image", "inspect", "--format", "{{.Id}}", img.base, check=False).strip().replace("sha256:", "")
    if base:
        ids = podman(env, "images", "-a", "-q", "--no-trunc", check=False).split()
        parents = {}
        if ids:
            for line in podman(env, "image", "inspect", "--format", "{{.Id}} {{.Parent}}", *ids,
                               check=False).splitlines():
                parts = [p.replace("sha256:", "") for p in line.split()]
                if len(parts) == 2:
                    parents[parts[0]] = parts[1]

        def descends(i):
            while i in parents:
                i = parents[i]
                if i == base:
                    return True
            return False
        leaves = [i for i in parents if descends(i) and i not in parents.values()]
        if leaves:
            podman(env, "rmi", "-f", *leaves, check=False)
        podman(env, "rmi", "-f", img.base, check=False)
    shutil.rmtree(img.tmp, True)


def serviceaccount_dir(fk, token, namespace=AGENT_NAMESPACE, parent=None):
    """A directory holding the pod's token, ca.crt (the fake's CA) and namespace files."""
    d = tempfile.mkdtemp(prefix="sa-", dir=parent)
    return fk.serviceaccount_files(d, token, namespace)


def pod_args(fk, sa_dir, mounts=None, env=None, pod_name=None):
    """podman run flags for the agent's pod: what the Deployment in deploy/agent/ gives the container."""
    args = ["--network", "host", "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/var/lib/appdeploy",
            "--user", f"{UID}:{UID}", "-v", f"{sa_dir}:{SA_PATH}:ro",
            "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1", "-e", f"KUBERNETES_SERVICE_PORT={fk.port}",
            "-e", "HOME=/var/lib/appdeploy"]
    if pod_name:
        args += ["-e", f"POD_NAME={pod_name}", "--hostname", pod_name]
    for host, inside in (mounts or {}).items():
        args += ["-v", f"{host}:{inside}" + ("" if inside.endswith((":ro", ":rw")) else ":ro")]
    for k, v in (env or {}).items():
        args += ["-e", f"{k}={v}"]
    return args


class AgentPod:
    """One container of the agent image, run as its pod would run. created: every container name made (the
    process's exit removes any left)."""
    created = []

    def __init__(self, img, fk, token, args, mounts=None, env=None, namespace=AGENT_NAMESPACE, name=None):
        self.img, self.fk, self.args = img, fk, list(args)
        self.name = name or f"sourcemode-test-agent-{uuid.uuid4().hex[:8]}"
        self.sa_dir = serviceaccount_dir(fk, token, namespace, img.tmp)
        self.flags = pod_args(fk, self.sa_dir, mounts, env, self.name)

    def start(self):
        AgentPod.created.append(self.name)
        podman(self.img.env, "run", "-d", "--name", self.name, *self.flags, self.img.ref, *self.args)
        return self

    def logs(self):
        r = subprocess.run(["podman", "logs", self.name], env=self.img.env, capture_output=True, text=True,
                           timeout=60)
        return r.stdout + r.stderr

    def state(self):
        out = podman(self.img.env, "inspect", self.name, check=False)
        found = json.loads(out) if out.strip() else []
        return found[0]["State"] if found else None

    def running(self):
        st = self.state()
        return bool(st and st.get("Running"))

    def fail_with_logs(self, msg):
        st = self.state() or {}
        return AssertionError(f"{msg}\ncontainer {self.name} state {st.get('Status')} exit {st.get('ExitCode')}; "
                              f"its log:\n{self.logs()[-6000:]}")

    def stop(self, timeout=10):
        """podman stop (SIGTERM, SIGKILL after timeout s): the exit code, then the container is removed."""
        if self.name not in AgentPod.created:
            return None  # stopped already
        podman(self.img.env, "stop", "-t", str(timeout), self.name, check=False, timeout=timeout + 60)
        st = self.state() or {}
        podman(self.img.env, "rm", "-f", "-t", "0", self.name, check=False)
        if self.name in AgentPod.created:
            AgentPod.created.remove(self.name)
        shutil.rmtree(self.sa_dir, True)
        return st.get("ExitCode")


def run_once(img, args, flags=(), timeout=120):
    """podman run --rm of the image with args (as its pod's container, without the cluster): (exit code, output)."""
    r = subprocess.run(["podman", "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/var/lib/appdeploy",
                        "--user", f"{UID}:{UID}", *flags, img.ref, *args], env=img.env, capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr
