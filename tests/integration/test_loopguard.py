"""test_loopguard.py — a service that writes its own watched file: the loop guard stops the restart loop, says which file, lets go on a poke or after quiet; watch.data prevents it."""
import os
import shutil
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reloader, free_port, http, status, wait_until  # noqa: E402
from watchsvc import Service, write  # noqa: E402

STATE = "env:\n  STATE_FILE: src/state.txt\n"


class LoopGuardTest(unittest.TestCase):
    def guard(self, s):
        return s.status()["watch"]["loop_guard"]

    def test_loop_stops_names_the_file_and_resumes_on_poke(self):
        s = Service(self, extra="  loop_limit: 5\n  loop_window: 120s\n" + STATE)
        wait_until(lambda: self.guard(s)["tripped"], timeout=60, what="the loop guard")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 5, s.r.output()[-3000:])
        g = self.guard(s)
        self.assertEqual((g["tripped"], g["trips"], g["limit"]), (True, 1, 5))
        self.assertIn("src/state.txt", g["paths"])
        out = s.r.output()
        self.assertIn("loop guard: 5 restarts from file changes within 120 s and no poke", out)
        self.assertIn("Files that kept changing: src/state.txt (", out)
        self.assertEqual(out.count("file change: src/state.txt"), 5)
        code, body = http(s.port, "GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn("reloader_watch_loop_guard_tripped 1\n", body)
        self.assertIn("reloader_watch_loop_guard_trips_total 1\n", body)
        # a poke releases it: that restart writes the file again, and the loop is caught again
        code, body = http(s.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        self.assertIn("loop guard released by a poke", s.r.output())
        wait_until(lambda: self.guard(s)["trips"] == 2, timeout=60, what="the second trip")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 11, s.r.output()[-3000:])
        self.assertTrue(self.guard(s)["tripped"])

    def test_released_after_a_quiet_window(self):
        s = Service(self, extra="  loop_limit: 3\n  loop_window: 5s\n" + STATE)
        wait_until(lambda: self.guard(s)["tripped"], timeout=60, what="the loop guard")
        self.assertEqual(s.restarts(), 3)
        wait_until(lambda: not self.guard(s)["tripped"], timeout=30, what="the guard letting go")
        self.assertIn("loop guard released after 5 s without file changes", s.r.output())
        self.assertEqual(s.restarts(), 3)
        # an edit restarts again; the service's own writes after it loop until the guard trips again
        write(s.path("main.c"), "v2\n")
        wait_until(lambda: self.guard(s)["trips"] == 2, timeout=60, what="the second trip")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 6, s.r.output()[-3000:])
        s.wait_served("v2\n")

    def test_watch_data_files_never_restart(self):
        s = Service(self, extra='  data: ["src/state.txt"]\n' + STATE)
        s.settle(quiet_ms=600)
        self.assertTrue(os.path.exists(s.path("state.txt")))
        self.assertEqual(s.restarts(), 0, s.r.output()[-3000:])
        self.assertEqual(s.status()["watch"]["changes"], 0)
        # the service's file is not a source either when its content changes by hand
        write(s.path("state.txt"), "by hand\n")
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 1)


# Finding 1 as it was seen: a node service that writes state.json beside its code.
NODE_APP = """const fs = require("fs"), http = require("http");
fs.writeFileSync(__dirname + "/state.json", JSON.stringify({started: Date.now()}));
http.createServer((q, r) => r.end("node up")).listen(+process.env.PORT, "127.0.0.1");
"""


class NodeRunnerLoopTest(unittest.TestCase):
    def node(self, config=None):
        if not shutil.which("node") or not shutil.which("npm"):
            raise AssertionError("node and npm are needed (node 20 + npm on PATH; scripts/deps.sh test)")
        src = tempfile.mkdtemp(prefix="loop-node-")
        self.addCleanup(shutil.rmtree, src, True)
        with open(os.path.join(src, "package.json"), "w") as f:
            f.write('{"name": "loop", "version": "1.0.0", "main": "index.js"}\n')
        with open(os.path.join(src, "index.js"), "w") as f:
            f.write(NODE_APP)
        port = free_port()
        r = Reloader(["--runner", "node"], cwd=src, config=config,
                     env={"PORT": str(port), "RELOADER_CACHE_DIR": os.path.join(src, ".cache")})
        self.addCleanup(r.stop)
        wait_until(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read() == b"node up",
                   120, "the node service")
        return r

    def test_state_json_loop_is_stopped_and_named(self):
        r = self.node()
        wait_until(lambda: status(r.port)["watch"]["loop_guard"]["tripped"], 60, "the loop guard")
        s = status(r.port)
        self.assertEqual(s["restarts"], 10, r.output()[-3000:])
        self.assertIn("state.json", s["watch"]["loop_guard"]["paths"])
        self.assertIn("Files that kept changing: state.json (", r.output())

    def test_state_json_as_data_never_restarts(self):
        r = self.node(config="watch:\n  data: [state.json]\n")
        # the service has written state.json; an edit to its code restarts it once
        wait_until(lambda: os.path.exists(os.path.join(r.dir, "state.json")), 30, "state.json")
        with open(os.path.join(r.dir, "index.js"), "a") as f:
            f.write("// edited\n")
        wait_until(lambda: status(r.port)["restarts"] == 1, 60, "the restart for index.js")
        wait_until(lambda: (lambda st: not st["busy"] and st["watch"]["last_event"]["age_ms"] > 1000)(status(r.port)),
                   60, "quiet")
        self.assertEqual(status(r.port)["restarts"], 1, r.output()[-3000:])
        self.assertFalse(status(r.port)["watch"]["loop_guard"]["tripped"])


if __name__ == "__main__":
    unittest.main()
