"""test_runners.py — every runner file (runners/*.yaml) used for real on its language: build, serve, edit -> new behaviour, no-change poke -> no build."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reloader, free_port, http, status, wait_until  # noqa: E402

RUNNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runners")

# One tiny HTTP service per language: answers GET / with its version line, port from $PORT.
# Each project is {file: text}; "v1" in the file named by `edit` becomes "v2" for the edit step.
GO = {
    "go.mod": "module example.com/svc\n\ngo 1.19\n",
    "main.go": """package main

import (
	"fmt"
	"net/http"
	"os"
)

const version = "go v1"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, version) })
	panic(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
}
""",
    # a test file is not an input: editing it must not rebuild
    "main_test.go": "package main\n",
}

C = {
    "Makefile": "app: main.c\n\t$(CC) -O0 -o app main.c\n",
    "main.c": r"""#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSION "c v1"

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(getenv("PORT"))),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	const char *resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" VERSION "\n";

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16))
		return 1;
	for (;;) {
		char buf[4096];
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (read(c, buf, sizeof buf) > 0 && write(c, resp, strlen(resp)) < 0)
			return 1;
		close(c);
	}
}
""",
}

RUST = {
    "Cargo.toml": '[package]\nname = "svc-rs"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/main.rs": """use std::io::{Read, Write};
use std::net::TcpListener;

const VERSION: &str = "rust v1";

fn main() {
    let port = std::env::var("PORT").unwrap();
    let l = TcpListener::bind(format!("127.0.0.1:{}", port)).unwrap();
    for s in l.incoming() {
        let mut s = s.unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = write!(s, "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n{}\\n", VERSION);
    }
}
""",
}

NODE = {
    "package.json": '{"name": "svc-node", "version": "1.0.0", "main": "server.js"}\n',
    "server.js": """const http = require("http");
const version = "node v1";
http.createServer((req, res) => res.end(version + "\\n")).listen(Number(process.env.PORT), "127.0.0.1");
""",
}

PYTHON = {
    "main.py": """import http.server
import os

VERSION = "python v1"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (VERSION + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
""",
}


def metric(port, name):
    code, body = http(port, "GET", "/metrics")
    m = re.search(rf"^{name} (\d+)$", body, re.M)
    if code != 200 or not m:
        raise ValueError(f"no {name} in /metrics")
    return int(m.group(1))


class RunnerTest(unittest.TestCase):
    def run_runner(self, runner, files, edit, v1, v2, compiled, env=None, prepare=None):
        """Drives `reloader --runner RUNNER` in a fresh project: first build + serve, no-change poke,
        edit seen by the watcher -> new version served, no-change poke again. prepare(src) runs
        before reloader starts."""
        src = tempfile.mkdtemp(prefix=f"runner-{runner}-")
        cache = tempfile.mkdtemp(prefix=f"runner-{runner}-cache-")
        self.addCleanup(shutil.rmtree, src, True)
        self.addCleanup(shutil.rmtree, cache, True)
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
            with open(os.path.join(src, name), "w") as f:
                f.write(text)
        if prepare:
            prepare(src)
        svc_port = free_port()
        r = Reloader(["--runner", runner], cwd=src,
                     env=dict(env or {}, PORT=str(svc_port), RELOADER_CACHE_DIR=cache,
                              RELOADER_RUNNERS_DIR=RUNNERS))
        self.addCleanup(self.stop_clean, r)

        def served():
            code, body = http(svc_port, "GET", "/", timeout=5)
            return body.strip() if code == 200 else None

        def serves(want):
            return wait_until(lambda: served() == want, 120, f"{runner} service answering {want!r}")

        serves(v1)
        # the first cycle ends after the settle time (ready.settle); a poke inside it would join that cycle
        st = wait_until(lambda: (lambda s: s if not s["busy"] and s["state"] == "running" else None)(status(r.port)),
                        60, f"{runner}: first cycle finished")
        self.assertTrue(st["build"]["ok"], st)
        builds = metric(r.port, "reloader_builds_total")

        # a poke with nothing changed: restart without running the build at all
        code, body = http(r.port, "POST", "/restart?wait=1", timeout=120)
        self.assertEqual(code, 200, body)
        st = status(r.port)
        self.assertTrue(st["build"]["cached"], st)
        self.assertEqual(metric(r.port, "reloader_builds_total"), builds)
        serves(v1)

        # edit the source: the runner's watch globs see it, the new behaviour is served
        path = os.path.join(src, edit)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(v1, v2))
        serves(v2)
        wait_until(lambda: not status(r.port)["busy"] and status(r.port)["state"] == "running", 60,
                   "the cycle to settle")
        after_edit = metric(r.port, "reloader_builds_total")
        # compiled languages rebuild; interpreted ones only restart (their build installs dependencies)
        self.assertEqual(after_edit > builds, compiled, r.output()[-2000:])

        code, body = http(r.port, "POST", "/restart?wait=1", timeout=120)
        self.assertEqual(code, 200, body)
        self.assertTrue(status(r.port)["build"]["cached"])
        self.assertEqual(metric(r.port, "reloader_builds_total"), after_edit)
        serves(v2)
        return r, src, cache

    def stop_clean(self, r):
        code = r.stop()
        out = r.output()
        self.assertIsNone(r.sanitizer_report(), out[-3000:])
        self.assertIn(code, (0, 143, -15), out[-2000:])

    def test_go(self):
        r, src, cache = self.run_runner("go", GO, "main.go", "go v1", "go v2", True, {"GOPROXY": "off"})
        # the binary lives in the cache dir, keyed by the service's path; the source tree stays clean
        self.assertTrue(os.access(os.path.join(cache, "go", "bin", src.lstrip("/"), os.path.basename(src)), os.X_OK))
        self.assertEqual(sorted(os.listdir(src)), sorted(["go.mod", "main.go", "main_test.go", ".reloader-stderr.log"]))
        # editing a test file is no input change: a poke restarts without building
        builds = metric(r.port, "reloader_builds_total")
        with open(os.path.join(src, "main_test.go"), "a") as f:
            f.write("// edited\n")
        code, body = http(r.port, "POST", "/restart?wait=1", timeout=60)
        self.assertEqual(code, 200, body)
        self.assertTrue(status(r.port)["build"]["cached"])
        self.assertEqual(metric(r.port, "reloader_builds_total"), builds)

    def test_go_without_go_mod(self):
        # gorerun's case: a lone main package, no module file (GOPATH mode via GO111MODULE=auto)
        files = {"main.go": GO["main.go"]}
        self.run_runner("go", files, "main.go", "go v1", "go v2", True, {"GOPROXY": "off", "GOPATH": tempfile.gettempdir() + "/runner-gopath"})

    def test_c(self):
        self.run_runner("c", C, "main.c", "c v1", "c v2", True)

    def test_rust(self):
        if not shutil.which("cargo"):
            self.fail("cargo is not installed (scripts/deps.sh test installs it)")
        home = tempfile.mkdtemp(prefix="runner-cargo-home-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {"CARGO_HOME": home, "CARGO_NET_OFFLINE": "true"}
        if not os.environ.get("RUSTUP_HOME") and os.path.isdir(os.path.expanduser("~/.rustup")):
            env["RUSTUP_HOME"] = os.path.expanduser("~/.rustup")  # rustup's proxies find their toolchain
        # a binary crate commits its Cargo.lock (an input); without one, the first build writes it
        # and so changes its own inputs once
        def lock(src):
            subprocess.run(["cargo", "generate-lockfile", "--offline"], cwd=src, env=dict(os.environ, **env),
                           check=True, capture_output=True)

        self.run_runner("rust", RUST, "src/main.rs", "rust v1", "rust v2", True, env, lock)

    def test_node(self):
        self.run_runner("node", NODE, "server.js", "node v1", "node v2", False)

    def test_python(self):
        r, src, cache = self.run_runner("python", PYTHON, "main.py", "python v1", "python v2", False)
        self.assertFalse(os.path.exists(os.path.join(src, "__pycache__")))


if __name__ == "__main__":
    unittest.main()
