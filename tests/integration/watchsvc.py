"""watchsvc.py — a real HTTP service under reloader for the watch tests: it serves what the build copied, so a test can ask which version runs."""
import os
import shutil
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reloader, free_port, status, wait_until  # noqa: E402

# Serves out.txt as read at start (the version this process runs) and its pid.
SERVER = r"""
import http.server, os, sys, time
body = open("out.txt", "rb").read()
if os.environ.get("STATE_FILE"):  # a service that writes a file beside its code when it starts
    with open(os.environ["STATE_FILE"], "w") as f:
        f.write(str(time.time_ns()))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("X-Pid", str(os.getpid()))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""

# The build copies the watched source into out.txt (what the service serves) and counts itself.
CONFIG = """\
build: "cat {build_src} > out.txt && echo b >> count{build_extra}"
run: ["python3", "serve.py", "{port}"]
watch:
  paths: {paths}
  debounce: {debounce}
{extra}"""


def write(path, text="x\n"):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Service:
    """reloader running serve.py in a fresh directory with a src/ tree."""

    def __init__(self, test, extra="", setup=None, env=None, debounce="50ms", build_src="src/main.c",
                 build_extra="", files=None, paths="[src]"):
        self.dir = tempfile.mkdtemp(prefix="reloader-editors-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        write(os.path.join(self.dir, "serve.py"), SERVER)
        for rel, text in (files or {"src/main.c": "v1\n"}).items():
            write(os.path.join(self.dir, rel), text)
        if setup:
            setup(self.dir)
        self.svc_port = free_port()
        config = CONFIG.format(port=self.svc_port, extra=extra, debounce=debounce, build_src=build_src,
                               build_extra=build_extra, paths=paths)
        env = {k: v.format(dir=self.dir) for k, v in (env or {}).items()}  # "{dir}": this service's directory
        self.r = Reloader([], cwd=self.dir, config=config, env=dict({"RELOADER_DEBUG": "1"}, **env))
        self.port = self.r.port
        test.addCleanup(self.stop_clean, test)
        self.r.wait_state("running")
        wait_until(lambda: self.served() is not None, what="the service answering")
        self.settle()

    def stop_clean(self, test):
        code = self.r.stop()
        out = self.r.output()
        for bad in ("Sanitizer", "runtime error:", "Failed to remove watch"):
            test.assertNotIn(bad, out)
        test.assertIn(code, (0, 143, -15), out[-2000:])

    def path(self, *parts):
        return os.path.join(self.dir, "src", *parts)

    def builds(self):
        try:
            with open(os.path.join(self.dir, "count")) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0

    def served(self):
        """(body, pid) of the running service, None while none answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.svc_port}/", timeout=5) as resp:
                return resp.read().decode(), int(resp.headers["X-Pid"])
        except OSError:
            return None

    def status(self):
        return status(self.port)

    def restarts(self):
        return self.status()["restarts"]

    def settled(self, quiet_ms=400):
        s = self.status()
        ev = s["watch"].get("last_event")
        return s["state"] == "running" and not s["busy"] and (ev is None or ev["age_ms"] > quiet_ms)

    def settle(self, quiet_ms=400, timeout=30):
        wait_until(lambda: self.settled(quiet_ms), timeout=timeout, what="reloader quiet")

    def wait_served(self, body, timeout=30):
        return wait_until(lambda: (lambda s: s if s and s[0] == body else None)(self.served()), timeout=timeout,
                          what=f"the service serving {body!r}")

    def wait_ignored(self, n, timeout=30):
        return wait_until(lambda: self.status()["watch"]["ignored"] >= n, timeout=timeout,
                          what=f"{n} ignored quiet period(s)")
