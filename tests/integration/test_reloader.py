"""test_reloader.py — reloader's core driven as a user would: real processes, PID namespaces, HTTP."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

from harness import RELOADER, Reloader, ReloaderCase, children_of, free_port, http, status, wait_until

# A tiny C service that answers every connection with its VERSION and closes.
C_SERVICE = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define VERSION "%s"
int main(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(getenv("PORT")))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 64)) { perror("bind"); return 1; }
    printf("listening with " VERSION "\n"); fflush(stdout);
    for (;;) { int c = accept(s, 0, 0); char req[2048]; if (c < 0) continue;
        if (read(c, req, sizeof req) < 0) { close(c); continue; }
        const char *r = "HTTP/1.0 200 OK\r\n\r\n" VERSION "\n"; write(c, r, strlen(r)); close(c); }
}
"""


def fetch(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode().split("\r\n\r\n", 1)[1].strip()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


class ReloaderTest(ReloaderCase):
    def test_build_poke_and_failed_build_keeps_old_service(self):
        d = tempfile.mkdtemp()
        app_port = free_port()
        write(os.path.join(d, "app.c"), C_SERVICE % "v1")
        r = self.start("--build", "cc -o app app.c", "--", "./app", cwd=d,
                       config=f"env:\n  PORT: {app_port}\nready:\n  tcp: 127.0.0.1:{app_port}\n")
        r.wait_state("running")
        self.assertEqual(fetch(app_port), "v1")

        write(os.path.join(d, "app.c"), C_SERVICE % "v2")
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        self.assertEqual(fetch(app_port), "v2")

        # Break the build: non-2xx, the compiler's message, the old service still answers.
        write(os.path.join(d, "app.c"), (C_SERVICE % "v3").replace("int main(void) {", "int main(void) { oops"))
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 500, body)
        self.assertIn("oops", body)
        self.assertIn("error", body)
        self.assertEqual(fetch(app_port), "v2")
        st = status(r.port)
        self.assertEqual(st["state"], "build-failed")
        self.assertFalse(st["build"]["ok"])
        self.assertIn("oops", st["build"]["log_tail"])

        # JSON for clients that ask for it.
        code, body = http(r.port, "POST", "/restart?wait=1", {"Accept": "application/json"})
        self.assertEqual(code, 500, body)
        j = json.loads(body)
        self.assertEqual(j["outcome"], "build-failed")
        self.assertIn("oops", j["build_output"])

        # Fix it: the new behaviour is served.
        write(os.path.join(d, "app.c"), C_SERVICE % "v4")
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        self.assertEqual(fetch(app_port), "v4")
        self.assertEqual(status(r.port)["state"], "running")

    def test_pid1_100_restarts_leave_no_zombies_or_escapees(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), textwrap.dedent("""\
            trap '' TERM
            ( sleep 1000 & )
            setsid sleep 1000 &
            exec sleep 1000
            """))
        r = self.start("--stop-timeout", "50ms", "--", "sh", "svc.sh", cwd=d, pid1=True)
        r.wait_state("running")
        rpid = r.reloader_pid()

        def generation_ready():
            kids = children_of(rpid)
            return len([p for p, s, c in kids if c == "sleep 1000" and s != "Z"]) == 3

        wait_until(generation_ready, what="three sleeps of the first generation")
        def open_fds():
            return len(os.listdir(f"/proc/{rpid}/fd"))

        for i in range(100):
            code, body = http(r.port, "POST", "/restart?wait=1")
            self.assertEqual(code, 200, body)
            if i == 9:
                baseline = open_fds()
        # Connections of the test itself may still be closing: allow them to go, but no more.
        wait_until(lambda: open_fds() <= baseline, what=f"open fds back to {baseline}")
        wait_until(generation_ready, what="three sleeps of the last generation")
        kids = children_of(rpid)
        zombies = [k for k in kids if k[1] == "Z"]
        sleeps = [k for k in kids if k[2] == "sleep 1000"]
        self.assertEqual(zombies, [], "zombies left")
        self.assertEqual(len(sleeps), 3, f"survivors of old generations: {sleeps}")
        self.assertEqual(status(r.port)["restarts"], 100)
        # Signals: SIGTERM stops everything (the service ignores TERM: SIGKILL after the timeout).
        os.kill(rpid, signal.SIGTERM)
        r.proc.wait(20)
        self.assertEqual(r.proc.returncode, 128 + signal.SIGKILL)

    def test_concurrent_pokes_during_slow_build_coalesce(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "build.sh"), "echo build >> builds.log\nsleep 0.5\n")
        r = self.start("--build", "sh build.sh", "--", "sleep", "1000", cwd=d)
        r.wait_state("running")
        self.assertEqual(count_lines(os.path.join(d, "builds.log")), 1)
        code, _ = http(r.port, "POST", "/restart")
        self.assertEqual(code, 202)
        wait_until(lambda: status(r.port)["state"] == "building", what="the slow build")
        results = []

        def poke():
            results.append(http(r.port, "POST", "/restart?wait=1")[0])

        threads = [threading.Thread(target=poke) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200] * 50)
        builds = count_lines(os.path.join(d, "builds.log")) - 1
        self.assertLessEqual(builds, 2)
        self.assertGreaterEqual(builds, 1)
        st = status(r.port)
        self.assertEqual(st["state"], "running")
        os.kill(st["pid"], 0)

    def test_sigterm_stops_service_and_exits_with_its_status(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "trap 'echo got-term > stopped; exit 7' TERM\ntouch up\n"
              "while :; do sleep 0.05; done\n")
        r = self.start("--", "sh", "svc.sh", cwd=d)
        wait_until(lambda: os.path.exists(os.path.join(d, "up")), what="the service's trap")
        r.proc.send_signal(signal.SIGTERM)
        self.assertEqual(r.proc.wait(20), 7)
        with open(os.path.join(d, "stopped")) as f:
            self.assertEqual(f.read().strip(), "got-term")

    def test_stop_signal_is_configurable(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "trap 'exit 5' INT\ntrap '' TERM\ntouch up\nwhile :; do sleep 0.05; done\n")
        r = self.start("--stop-signal", "SIGINT", "--", "sh", "svc.sh", cwd=d)
        wait_until(lambda: os.path.exists(os.path.join(d, "up")), what="the service's trap")
        r.proc.send_signal(signal.SIGTERM)
        self.assertEqual(r.proc.wait(20), 5)

    def test_sighup_restarts_and_other_signals_are_forwarded(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "trap 'echo usr1 >> got' USR1\ntouch up\nwhile :; do sleep 0.05; done\n")
        r = self.start("--", "sh", "svc.sh", cwd=d)
        first = r.wait_state("running")["pid"]
        wait_until(lambda: os.path.exists(os.path.join(d, "up")), what="the service's trap")
        r.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: os.path.exists(os.path.join(d, "got")), what="USR1 forwarded")
        r.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: status(r.port)["pid"] not in (None, first) and status(r.port)["state"] == "running",
                   what="a new pid after SIGHUP")
        self.assertEqual(status(r.port)["last_restart"]["trigger"], "signal")

    def test_crash_restart_with_backoff(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "echo run >> runs.log\nexit 3\n")
        r = self.start("--", "sh", "svc.sh", cwd=d,
                       config="restart:\n  backoff_min: 20ms\n  backoff_max: 80ms\n")
        wait_until(lambda: count_lines(os.path.join(d, "runs.log")) >= 5, what="crash restarts")
        st = status(r.port)
        self.assertGreaterEqual(st["crashes"], 4)
        self.assertLessEqual(st["backoff"]["next_ms"], 80)
        self.assertEqual(st["exit_status"], 3)

    def test_restart_never_leaves_crashed_service_down(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "echo run >> runs.log\nexit 3\n")
        r = self.start("--", "sh", "svc.sh", cwd=d, config="restart:\n  on_exit: never\n")
        wait_until(lambda: status(r.port)["state"] == "crashed", what="crashed")
        self.assertEqual(status(r.port)["backoff"]["phase"], "idle")
        # A poke starts it again (it was running when the answer came), and it stays down after.
        code, _ = http(r.port, "POST", "/restart?wait=1")
        self.assertIn(code, (200, 502))
        wait_until(lambda: status(r.port)["crashes"] == 2 and status(r.port)["state"] == "crashed",
                   what="second crash")
        self.assertEqual(status(r.port)["backoff"]["phase"], "idle")
        self.assertEqual(count_lines(os.path.join(d, "runs.log")), 2)

    def test_token_required_except_healthz(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "token"), "s3cret\n")
        r = self.start("--", "sleep", "1000", cwd=d, config="control:\n  token_file: token\n")
        wait_until(lambda: http(r.port, "GET", "/healthz")[0] == 200, what="healthz")
        self.assertEqual(http(r.port, "GET", "/status")[0], 401)
        self.assertEqual(http(r.port, "POST", "/restart")[0], 401)
        self.assertEqual(http(r.port, "GET", "/status", {"Authorization": "Bearer wrong"})[0], 401)
        self.assertEqual(http(r.port, "GET", "/status", {"Authorization": "Bearer s3cret"})[0], 200)

    def test_logs_tail_and_follow(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "echo hello-from-service\nwhile :; do sleep 0.05; done\n")
        r = self.start("--build", "echo hello-from-build", "--", "sh", "svc.sh", cwd=d)
        wait_until(lambda: "hello-from-service" in http(r.port, "GET", "/logs")[1], what="service output")
        code, body = http(r.port, "GET", "/logs")
        self.assertIn("build| hello-from-build", body)
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
            s.sendall(b"GET /logs?follow=1&lines=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            http(r.port, "POST", "/restart")
            while b"hello-from-build" not in got or got.count(b"hello-from-service") < 1:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "stream closed")
                got += chunk
        self.assertIn(b"200 OK", got)

    def test_metrics_and_status_shape(self):
        r = self.start("--", "sleep", "1000")
        st = r.wait_state("running")
        for key in ("state", "pid", "restarts", "build", "last_restart", "watch"):
            self.assertIn(key, st)
        for key in ("ok", "cached", "duration_ms", "exit_code", "log_tail"):
            self.assertIn(key, st["build"])
        for key in ("trigger", "build_ms", "stop_ms", "start_ms", "ready_ms"):
            self.assertIn(key, st["last_restart"])
        code, text = http(r.port, "GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn('reloader_state{state="running"} 1', text)
        self.assertIn("reloader_restarts_total 0", text)
        self.assertIn("reloader_build_failures_total 0", text)

    def test_garbage_and_oversized_requests_get_4xx_and_server_keeps_serving(self):
        r = self.start("--", "sleep", "1000")
        r.wait_state("running")

        def raw(data):
            """Sends data, returns what came back up to the end of the response head."""
            with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
                s.sendall(data)
                out = b""
                try:
                    while b"\r\n\r\n" not in out and (chunk := s.recv(65536)):
                        out += chunk
                except ConnectionResetError:
                    pass
                return out

        for garbage in (b"GARBAGE GARBAGE GARBAGE\r\n\r\n", b"\xff\xfe\xfd garbage\r\n\r\n",
                        b"HELLO / HTTP/1.1\r\nxx\r\n\r\n",
                        b"GET /status HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n",
                        b"GET /status HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
                        b"POST /restart HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            self.assertRegex(raw(garbage).split(b"\r\n")[0], rb"HTTP/1\.[01] 4\d\d", garbage)
        self.assertRegex(raw(b"\x00\x01\x02" * 1000).split(b"\r\n")[0], rb"HTTP/1\.[01] 400")
        self.assertRegex(raw(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: a\r\n\r\n").split(b"\r\n")[0],
                         rb"HTTP/1\.[01] 414")
        # Pipelined requests on one connection are answered in order.
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
            got = b""
            while got.count(b"HTTP/1.1 ") < 2:
                chunk = s.recv(65536)
                self.assertTrue(chunk, got)
                got += chunk
            self.assertLess(got.index(b"200 OK"), got.index(b"404 Not Found"))
        huge = b"GET /status HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
        self.assertRegex(raw(huge).split(b"\r\n")[0], rb"HTTP/1\.[01] 4\d\d")
        body = b"x" * 100000
        big_post = b"POST /restart HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        self.assertRegex(raw(big_post).split(b"\r\n")[0], rb"HTTP/1\.[01] 413")
        self.assertEqual(http(r.port, "GET", "/nope")[0], 404)
        self.assertEqual(http(r.port, "GET", "/restart")[0], 405)
        self.assertEqual(http(r.port, "GET", "/healthz")[0], 200)
        self.assertEqual(status(r.port)["state"], "running")

    def test_readiness_http_check_waits_for_the_service(self):
        d = tempfile.mkdtemp()
        app_port = free_port()
        write(os.path.join(d, "srv.py"), textwrap.dedent(f"""\
            import http.server, time
            time.sleep(0.3)
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200 if self.path == "/healthz" else 404); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", {app_port}), H).serve_forever()
            """))
        r = self.start("--", "python3", "srv.py", cwd=d,
                       config=f"ready:\n  http: http://127.0.0.1:{app_port}/healthz\n  timeout: 20s\n")
        r.wait_state("running")
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        st = status(r.port)
        self.assertGreaterEqual(st["last_restart"]["ready_ms"], 250)
        self.assertEqual(http(app_port, "GET", "/healthz")[0], 200)

    def test_env_and_dir_reach_the_service(self):
        d = tempfile.mkdtemp()
        os.mkdir(os.path.join(d, "sub"))
        write(os.path.join(d, "cfg.yaml"), "dir: sub\nenv:\n  GREETING: hi-${SM_TEST_WHO}\n"
              "run: echo $GREETING > out.txt; pwd >> out.txt; exec sleep 1000\n")
        r = self.start("-c", os.path.join(d, "cfg.yaml"), cwd=d, env={"SM_TEST_WHO": "there"})
        r.wait_state("running")
        def read_out():
            with open(os.path.join(d, "sub", "out.txt")) as f:
                text = f.read()
            return text if text.count("\n") == 2 else None

        out = wait_until(read_out, what="out.txt")
        self.assertEqual(out.split(), ["hi-there", os.path.realpath(os.path.join(d, "sub"))])

    def test_flags_beat_env_beat_file(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "cfg.yaml"), "stop:\n  timeout: 1s\n  signal: QUIT\nrun: [sleep, '1000']\n")
        r = self.start("-c", os.path.join(d, "cfg.yaml"), "--stop-timeout", "3s", cwd=d,
                       env={"RELOADER_STOP_TIMEOUT": "2s", "RELOADER_STOP_SIGNAL": "USR2"})
        r.wait_state("running")
        self.assertIn("reloader", r.output())


BAD_CONFIGS = [
    ("unknown top-level key", "bild: make\nrun: x\n", "1:1", 'unknown key "bild"'),
    ("unknown nested key", "run: x\nwatch:\n  pathz: [src]\n", "3:3", 'unknown key "pathz" in watch'),
    ("bad duration", "run: x\nwatch:\n  debounce: fast\n", "3:13", "invalid duration"),
    ("duration without unit", "run: x\nstop:\n  timeout: 10\n", "3:12", "unit"),
    ("bad signal", "run: x\nstop:\n  signal: SIGFOO\n", "3:11", "unknown signal"),
    ("bad policy", "run: x\nrestart:\n  on_exit: sometimes\n", "3:12", "restart policy"),
    ("section not a mapping", "run: x\nwatch: yes\n", "2:8", "must be a mapping"),
    ("bad listen address", "run: x\ncontrol:\n  listen: localhost:http\n", "3:11", "invalid address"),
    ("bad ready url", "run: x\nready:\n  http: ftp://x\n", "3:9", "http:// URL"),
    ("run is a mapping", "run:\n  cmd: x\n", "2:3", "expected a command"),
    ("list item not a string", "run: x\nwatch:\n  paths: [src, {a: b}]\n", "3:16", "item 2"),
    ("invalid YAML", "run: [x\n", "2:1", "flow sequence"),
    ("gitignore not a bool", "run: x\nwatch:\n  gitignore: maybe\n", "3:14", "true or false"),
    ("not a mapping at all", "- a\n- b\n", "1:1", "must be a mapping"),
    ("bad poll", "run: x\nwatch:\n  poll: sometimes\n", "3:9", "poll"),
    ("duplicate key", "run: x\nrun: y\n", "2:1", "already set"),
]


class BadConfigTest(unittest.TestCase):
    def test_catalogue_of_bad_configs(self):
        d = tempfile.mkdtemp()
        for name, text, pos, message in BAD_CONFIGS:
            with self.subTest(name):
                path = os.path.join(d, "bad.yaml")
                write(path, text)
                p = subprocess.run([RELOADER, "-c", path, "--listen", "none"], capture_output=True, text=True,
                                   timeout=10, cwd=d)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(f"{path}:{pos}:", p.stderr)
                self.assertIn(message, p.stderr)

    def test_bad_env_and_flags_name_their_source(self):
        p = subprocess.run([RELOADER, "--listen", "none", "--stop-timeout", "soon", "--", "true"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--stop-timeout", p.stderr)
        p = subprocess.run([RELOADER, "--listen", "none", "--", "true"], capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, RELOADER_WATCH_DEBOUNCE="xx"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("RELOADER_WATCH_DEBOUNCE", p.stderr)
        p = subprocess.run([RELOADER, "--listen", "none"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no service command", p.stderr)
        p = subprocess.run([RELOADER, "--runner", "no-such-runner", "--", "true"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("runner", p.stderr)

    def test_help_and_version(self):
        p = subprocess.run([RELOADER, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: reloader", p.stdout)


if __name__ == "__main__":
    unittest.main()
