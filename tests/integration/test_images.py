"""test_images.py — the go runner image built with podman (images/go.Dockerfile, scripts/images.sh) and run for real: source mode end to end, cache volume, PID-1 duties, graceful stop."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import localbase  # noqa: E402
from harness import http, status, wait_until  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HELLO = os.path.join(ROOT, "examples", "hello")


class GoImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("SOURCEMODE_SANITIZE"):
            raise unittest.SkipTest("the image compiles its own reloader (no sanitizers): the sanitizer pass "
                                    "would only repeat the same podman work")
        cls.tmp = tempfile.mkdtemp(prefix="sourcemode-images-")
        cls.env = localbase.engine_env(cls.tmp)
        problem = localbase.podman_problem(cls.env)
        if problem:
            shutil.rmtree(cls.tmp, True)
            raise unittest.SkipTest(problem)
        cls.id = uuid.uuid4().hex[:10]
        cls.base = f"localhost/sourcemode-test-base:{cls.id}"
        cls.image = f"localhost/sourcemode-test-runner-go:{cls.id}"
        cls.containers, cls.volumes = [], []
        try:
            localbase.import_image(cls.base, cls.env, cls.tmp)
            r = subprocess.run([os.path.join(ROOT, "scripts", "images.sh"), "go"], capture_output=True, text=True,
                               timeout=600, env=dict(cls.env, BASE_go=cls.base, IMAGE_TAG=cls.id,
                                                     IMAGE_PREFIX="localhost/sourcemode-test-runner-",
                                                     BUILD_FLAGS="--pull=never --layers=false"))
            if r.returncode:
                raise AssertionError(f"scripts/images.sh go failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for c in cls.containers:
            cls.podman("rm", "-f", "-v", "-t", "0", c, check=False)
        for v in cls.volumes:
            cls.podman("volume", "rm", "-f", v, check=False)
        cls.podman("rmi", "-f", cls.image, cls.base, check=False)
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def podman(cls, *args, check=True, timeout=120):
        r = subprocess.run(["podman", *args], env=cls.env, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stderr[-2000:]}")
        return r.stdout

    def run_container(self, *args):
        name = f"sourcemode-test-{self.id}-{len(self.containers)}"
        self.containers.append(name)
        self.podman("run", "-d", "--name", name, "-e", "LISTEN=0.0.0.0:8080", "-p", "127.0.0.1::7070",
                    "-p", "127.0.0.1::8080", *args)
        ports = {}
        for p in (7070, 8080):
            out = self.podman("port", name, str(p)).strip().splitlines()[0]
            ports[p] = int(out.rsplit(":", 1)[1])
        return name, ports[7070], ports[8080]

    def logs(self, name):
        r = subprocess.run(["podman", "logs", name], env=self.env, capture_output=True, text=True)
        return r.stdout + r.stderr

    def version(self, port):
        code, body = http(port, "GET", "/version", timeout=5)
        return body.strip() if code == 200 else None

    def serves(self, port, want, name, timeout=120):
        try:
            wait_until(lambda: self.version(port) == want, timeout, f"the container serving {want!r}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.logs(name)[-3000:]}") from None

    def procs(self, name):
        """(pid, state, comm) of every process in the container, from its /proc."""
        out = self.podman("exec", name, "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null; true")
        rows = []
        for line in out.splitlines():
            head, rest = line.split(" (", 1)
            comm, tail = rest.rsplit(") ", 1)
            rows.append((int(head), tail.split()[0], comm))
        return rows

    def test_source_mode(self):
        src = tempfile.mkdtemp(prefix="sourcemode-hello-", dir=self.tmp)
        shutil.copytree(HELLO, src, dirs_exist_ok=True)
        volume = f"sourcemode-test-cache-{self.id}"
        self.volumes.append(volume)
        self.podman("volume", "create", volume)
        name, ctl, svc = self.run_container("-v", f"{src}:/src", "-v", f"{volume}:/cache", self.image)

        # first start: built from the mounted source, served through the published ports
        self.serves(svc, "hello v1", name)
        st = status(ctl)
        self.assertTrue(st["build"]["ok"], st)
        self.assertFalse(st["build"]["cached"], st)
        self.assertEqual(self.podman("healthcheck", "run", name, check=False, timeout=30).strip(), "")

        # a poke through the published control port, nothing changed: restart without a build
        code, body = http(ctl, "POST", "/restart?wait=1", timeout=60)
        self.assertEqual(code, 200, body)
        self.assertTrue(status(ctl)["build"]["cached"])

        # change the source: the new version string is served (poked, and seen by the watcher)
        with open(os.path.join(src, "main.go")) as f:
            text = f.read()
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write(text.replace('"hello v1"', '"hello v2 from the container"'))
        code, body = http(ctl, "POST", "/restart?wait=1", timeout=120)
        self.assertEqual(code, 200, body)
        self.serves(svc, "hello v2 from the container", name, 60)

        # PID 1 reaps orphans: a process whose parent exits is re-parented to reloader, then exits
        self.podman("exec", name, "sh", "-c", "(sleep 0.2 &); exit 0")
        wait_until(lambda: not [p for p in self.procs(name) if p[1] == "Z"], 20, "no zombies in the container")
        pid1 = [p for p in self.procs(name) if p[0] == 1]
        self.assertEqual(pid1[0][2], "reloader", self.procs(name))

        # podman stop: SIGTERM to reloader, which stops the service and exits 128+15, well inside the timeout
        t0 = time.monotonic()
        self.podman("stop", "-t", "10", name, timeout=60)
        took = time.monotonic() - t0
        state = json.loads(self.podman("inspect", name))[0]["State"]
        self.assertLess(took, 8, self.logs(name)[-2000:])
        self.assertEqual(state["ExitCode"], 143, self.logs(name)[-2000:])
        self.assertIn("SIGTERM: stopping the service", self.logs(name))

        # a new container on the same cache volume: inputs unchanged, so no build at all
        name2, ctl2, svc2 = self.run_container("-v", f"{src}:/src", "-v", f"{volume}:/cache", self.image)
        self.serves(svc2, "hello v2 from the container", name2)
        st = status(ctl2)
        self.assertTrue(st["build"]["cached"], st)
        self.podman("stop", "-t", "10", name2, timeout=60)

    def test_plain_pid1_for_a_prebuilt_binary(self):
        # what a CI image built FROM the runner image runs: reloader -- /app/bin, no build, no source
        bindir = tempfile.mkdtemp(prefix="sourcemode-bin-", dir=self.tmp)
        subprocess.run(["go", "build", "-o", os.path.join(bindir, "bin"), "."], cwd=HELLO, check=True,
                       env=dict(os.environ, CGO_ENABLED="0", GOCACHE=os.path.join(self.tmp, "gocache"),
                                GOFLAGS="-mod=mod", GOPROXY="off"), timeout=300)
        name, ctl, svc = self.run_container("-v", f"{bindir}:/app:ro", "--entrypoint", "reloader", self.image,
                                            "--", "/app/bin")
        self.serves(svc, "hello v1", name)
        st = status(ctl)
        self.assertEqual(st["state"], "running")
        self.podman("stop", "-t", "10", name, timeout=60)
        self.assertEqual(json.loads(self.podman("inspect", name))[0]["State"]["ExitCode"], 143)


if __name__ == "__main__":
    unittest.main()
