"""harness.py — helpers the integration tests share: run the real binaries, poll with deadlines, talk HTTP."""
import http.client as httpclient
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("SOURCEMODE_BUILD") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
RELOADER = os.path.join(BUILD, "reloader")
APPDEPLOY = os.path.join(BUILD, "appdeploy")
SERVICES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services")


class Missing(AssertionError):
    """A test could not run because something it needs is missing: a failure, never a skip."""


def require(tool, why, install="scripts/deps.sh test installs it"):
    """The path of tool (a command on PATH, or an absolute path that must exist); fails the test,
    naming tool, why it is needed and how to get it, when it is missing. Use it instead of a skip:
    the only skips allowed are the README's list (Development)."""
    path = tool if os.path.isabs(tool) and os.path.exists(tool) else shutil.which(tool)
    if not path:
        raise Missing(f"{tool} is missing: {why} ({install})")
    return path


def require_that(ok, what, why, install="scripts/deps.sh test installs it"):
    """Like require for a condition that is not a command (a file, root, a kernel knob)."""
    if not ok:
        raise Missing(f"{what}: {why} ({install})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, what="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes (then fails)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, httpclient.HTTPException, ValueError):
            last = None
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http(port, method, path, headers=None, body=None, timeout=30):
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def status(port, headers=None):
    """GET /status as JSON (plain text is what it answers without Accept: application/json)."""
    code, body = http(port, "GET", "/status", dict({"Accept": "application/json"}, **(headers or {})))
    if code != 200:
        raise ValueError(f"/status answered {code}")
    return json.loads(body)


def children_of(pid):
    """Every process below pid, from /proc: list of (pid, state, cmdline)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        procs[int(entry)] = (rest[0], int(rest[1]), cmd)
    out, frontier = [], {pid}
    while frontier:
        nxt = set()
        for p, (state, ppid, cmd) in procs.items():
            if ppid in frontier:
                out.append((p, state, cmd))
                nxt.add(p)
        frontier = nxt
    return out


class Reloader:
    """A running reloader process with its own temp dir, control port and captured output."""

    def __init__(self, args, cwd=None, env=None, pid1=False, config=None):
        self.dir = cwd or tempfile.mkdtemp(prefix="reloader-test-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, ".reloader-stderr.log")
        cmd = [RELOADER, "--listen", f"127.0.0.1:{self.port}"]
        if config is not None:
            path = os.path.join(self.dir, ".reloader-test.yaml")
            with open(path, "w") as f:
                f.write(config)
            cmd += ["-c", path]
        cmd += args
        if pid1:
            cmd = ["unshare", "--pid", "--fork", "--mount-proc"] + cmd
        full_env = dict(os.environ, NO_COLOR="1")
        full_env.setdefault("RELOADER_CACHE_DIR", os.path.join(self.dir, ".cache"))
        full_env.update(env or {})
        self.stderr = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, env=full_env, stdout=self.stderr, stderr=subprocess.STDOUT)
        self.pid1 = pid1

    def reloader_pid(self):
        """Host pid of reloader itself (the child of unshare when running as PID 1)."""
        if not self.pid1:
            return self.proc.pid
        kids = wait_until(lambda: [p for p, s, c in children_of(self.proc.pid) if c.startswith(RELOADER)],
                          what="reloader under unshare")
        return kids[0]

    def wait_state(self, state, timeout=30):
        return wait_until(lambda: (lambda s: s if s["state"] == state else None)(status(self.port)),
                          timeout, f"state {state}")

    def output(self):
        with open(self.log_path, errors="replace") as f:  # services may print any bytes
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        return self.proc.returncode

    def sanitizer_report(self):
        """The first sanitizer complaint in reloader's output (ASan build), or None."""
        text = self.output()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                return text[text.index(marker) - 200 if text.index(marker) > 200 else 0:][:3000]
        return None


class ReloaderCase(unittest.TestCase):
    """A test case whose reloaders (started with self.start) are stopped after each test, and whose
    sanitizer reports (under the ASan build) fail it."""

    def setUp(self):
        self.procs = []

    def tearDown(self):
        for r in self.procs:
            r.stop()
            report = r.sanitizer_report()
            self.assertIsNone(report, report)

    def start(self, *args, **kw):
        r = Reloader(list(args), **kw)
        self.procs.append(r)
        return r
