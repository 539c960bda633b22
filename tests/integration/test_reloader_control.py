"""test_reloader_control.py — issue #12's control-side findings, one test each: ?wait=1 without a readiness
check, a readiness port held by another process, NUL bytes in /logs, build timeout and /cancel, unknown
RELOADER_* variables, value errors with their place, Accept on /status and /logs, and connection floods."""
import json
import os
import resource
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

from harness import RELOADER, Reloader, ReloaderCase, children_of, free_port, http, status, wait_until

# A tiny HTTP server answering VERSION (from argv) on PORT; python3 keeps the test free of a compiler.
SERVER = textwrap.dedent("""\
    import http.server, os, sys
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = sys.argv[1].encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a): pass
    print("serving", sys.argv[1], flush=True)
    http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
    """)


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


def raw_get(port, path, headers=b""):
    """GET path; returns (status, headers text, body bytes) exactly as sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.0\r\n" + headers + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), head.decode(), body


def served(port):
    code, body = http(port, "GET", "/", timeout=10)
    return body if code == 200 else None


class ControlTest(ReloaderCase):
    # 6. ?wait=1 tells the truth without a readiness check.
    def test_wait_on_a_service_that_exits_at_once_is_502_with_its_status_and_output(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "echo about-to-fail\nexit 3\n")
        r = self.start("--", "sh", "svc.sh", cwd=d, config="restart:\n  on_exit: never\n")
        r.wait_state("crashed")
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 502, body)
        self.assertIn("exited with status 3 within the settle time", body)
        self.assertIn("about-to-fail", body)
        code, body = http(r.port, "POST", "/restart?wait=1", {"Accept": "application/json"})
        self.assertEqual(code, 502, body)
        j = json.loads(body)
        self.assertEqual(j["outcome"], "start-failed")
        self.assertIn("status 3", j["error"])
        self.assertIn("about-to-fail", j["last_output"])
        self.assertEqual(j["status"]["exit_status"], 3)

    def test_wait_answers_200_once_the_process_stayed_up_for_the_settle_time(self):
        d = tempfile.mkdtemp()
        r = self.start("--", "sleep", "1000", cwd=d, env={"RELOADER_READY_SETTLE": "400ms"})
        r.wait_state("running")
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        st = status(r.port)
        self.assertEqual(st["state"], "running")
        self.assertGreaterEqual(st["last_restart"]["ready_ms"], 400)  # the settle time, not a timing claim
        os.kill(st["pid"], 0)

    # 7. Readiness must be answered by the new process.
    def test_a_readiness_port_held_by_another_process_is_an_error_naming_it(self):
        d = tempfile.mkdtemp()
        app_port = free_port()
        write(os.path.join(d, "srv.py"), SERVER)
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", app_port))
        squatter.listen(8)
        try:
            r = self.start("--", "python3", "srv.py", "v1", cwd=d,
                           config=f"env:\n  PORT: {app_port}\nready:\n  tcp: 127.0.0.1:{app_port}\n  timeout: 20s\n"
                                  "restart:\n  on_exit: never\n")
            r.wait_state("crashed")
            code, body = http(r.port, "POST", "/restart?wait=1")
            self.assertEqual(code, 502, body)
            self.assertIn(f"port {app_port} is already held by pid {os.getpid()}", body)
            code, logs = http(r.port, "GET", "/logs")
            self.assertIn(f"not starting python3: port {app_port} is already held by pid {os.getpid()}", logs)
            self.assertEqual(status(r.port)["pid"], None)  # nothing was started to crash-loop on EADDRINUSE
        finally:
            squatter.close()
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        self.assertEqual(served(app_port), "v1")

    def test_readiness_answered_by_another_process_is_not_ready(self):
        d = tempfile.mkdtemp()
        app_port = free_port()
        # The service never listens; once it runs, the test takes the port: readiness connects to the test.
        r = self.start("--", "sh", "-c", "touch started; exec sleep 1000", cwd=d,
                       config=f"ready:\n  tcp: 127.0.0.1:{app_port}\n  timeout: 60s\n")
        wait_until(lambda: os.path.exists(os.path.join(d, "started")), what="the service started")
        impostor = socket.socket()
        impostor.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        impostor.bind(("127.0.0.1", app_port))
        impostor.listen(8)
        try:
            line = f"not ready: port {app_port} is answered by pid {os.getpid()}"
            wait_until(lambda: line in http(r.port, "GET", "/logs")[1], what="readiness refusing the impostor")
            st = status(r.port)
            self.assertFalse(st["ready"])
            self.assertEqual(st["state"], "running")  # it keeps running, but never counted as ready
        finally:
            impostor.close()

    # 8. /logs keeps bytes exactly.
    def test_nul_and_invalid_utf8_in_output_keep_later_lines_in_logs(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "svc.sh"), "printf 'before\\000after\\nline-two\\n\\377\\376 bad\\nthe-end\\n'\n"
                                         "exec sleep 1000\n")
        r = self.start("--", "sh", "svc.sh", cwd=d)
        wait_until(lambda: b"the-end" in raw_get(r.port, "/logs")[2], what="the service's last line")
        code, head, body = raw_get(r.port, "/logs")
        self.assertEqual(code, 200)
        self.assertIn("text/plain", head)
        self.assertIn(b"before\x00after\nline-two\n\xff\xfe bad\nthe-end\n", body)
        code, head, body = raw_get(r.port, "/logs", b"Accept: application/json\r\n")
        self.assertEqual(code, 200)
        self.assertIn("application/json", head)
        lines = json.loads(body)["lines"]
        i = lines.index("before\x00after")
        self.assertEqual(lines[i:i + 4], ["before\x00after", "line-two", "\ufffd\ufffd bad", "the-end"])

    # 9. A hung build is stopped: build timeout, and POST /cancel.
    def test_hung_build_with_build_timeout_is_500_and_the_old_service_keeps_serving(self):
        d = tempfile.mkdtemp()
        app_port = free_port()
        write(os.path.join(d, "srv.py"), SERVER)
        # The first build passes; every later one hangs (with a child in its group).
        write(os.path.join(d, "build.sh"), "if [ -f built ]; then sleep 4242 & sleep 4243; fi\ntouch built\n")
        r = self.start("--build", "sh build.sh", "--build-timeout", "1s", "--", "python3", "srv.py", "v1", cwd=d,
                       config=f"env:\n  PORT: {app_port}\nready:\n  tcp: 127.0.0.1:{app_port}\n")
        first = r.wait_state("running")["pid"]
        self.assertEqual(wait_until(lambda: served(app_port), what="v1 served"), "v1")
        code, body = http(r.port, "POST", "/rebuild?wait=1")
        self.assertEqual(code, 500, body)
        self.assertIn("build timed out after 1 s (build_timeout) and was killed", body)
        self.assertIn("the previous service is still running", body)
        st = status(r.port)
        self.assertEqual(st["pid"], first)
        self.assertFalse(st["build"]["ok"])
        self.assertEqual(served(app_port), "v1")
        # The whole group went: no sleep of the hung build is left.
        wait_until(lambda: not [c for p, s, c in children_of(r.proc.pid) if c.startswith("sleep 424")],
                   what="the hung build's processes gone")
        code, body = http(r.port, "POST", "/rebuild?wait=1", {"Accept": "application/json"})
        self.assertEqual(code, 500, body)
        j = json.loads(body)
        self.assertEqual(j["outcome"], "build-failed")
        self.assertTrue(j["timed_out"])

    def test_cancel_stops_a_running_build(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "build.sh"), "if [ -f built ]; then sleep 4244; fi\ntouch built\n")
        r = self.start("--build", "sh build.sh", "--", "sleep", "1000", cwd=d)
        first = r.wait_state("running")["pid"]
        self.assertEqual(http(r.port, "POST", "/cancel")[0], 409)  # nothing to cancel yet
        result = {}
        waiter = threading.Thread(target=lambda: result.update(answer=http(r.port, "POST", "/rebuild?wait=1")))
        waiter.start()
        wait_until(lambda: status(r.port)["state"] == "building", what="the hanging build")
        code, body = http(r.port, "POST", "/cancel")
        self.assertEqual(code, 200, body)
        self.assertIn("cancelled the build", body)
        waiter.join(30)
        self.assertEqual(result["answer"][0], 500, result)
        self.assertIn("build cancelled (POST /cancel)", result["answer"][1])
        st = status(r.port)
        self.assertEqual(st["state"], "build-failed")
        self.assertEqual(st["pid"], first)
        os.kill(first, 0)
        wait_until(lambda: not [c for p, s, c in children_of(r.proc.pid) if c == "sleep 4244"],
                   what="the cancelled build's sleep gone")
        self.assertEqual(http(r.port, "POST", "/cancel")[0], 409)

    # 14. Plain text or JSON by Accept.
    def test_status_and_logs_honour_accept(self):
        r = self.start("--", "sh", "-c", "echo hello-accept; exec sleep 1000")
        r.wait_state("running")
        code, head, body = raw_get(r.port, "/status")
        self.assertEqual(code, 200)
        self.assertIn("Content-Type: text/plain", head)
        self.assertTrue(body.startswith(b"state: running\n"), body)
        self.assertIn(b"\nbuild.ok: ", body)
        code, head, body = raw_get(r.port, "/status", b"Accept: application/json\r\n")
        self.assertIn("Content-Type: application/json", head)
        self.assertEqual(json.loads(body)["state"], "running")
        wait_until(lambda: b"hello-accept" in raw_get(r.port, "/logs")[2], what="service output")
        code, head, body = raw_get(r.port, "/logs", b"Accept: application/json\r\n")
        self.assertIn("Content-Type: application/json", head)
        self.assertIn("hello-accept", json.loads(body)["lines"])

    # 15. Connections cannot starve it.
    def test_thousands_of_idle_and_dribbling_connections_do_not_take_healthz_down(self):
        idle_n, dribble_n = 2500, 300
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = idle_n + dribble_n + 200
        if soft < need:
            self.assertGreaterEqual(hard, need, "RLIMIT_NOFILE hard limit too low for this test")
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        r = self.start("--", "sleep", "1000")
        r.wait_state("running")
        rpid = r.reloader_pid()
        baseline = len(os.listdir(f"/proc/{rpid}/fd"))
        socks = []
        stop = threading.Event()
        try:
            for _ in range(idle_n):
                socks.append(socket.create_connection(("127.0.0.1", r.port), timeout=30))
            dribblers = [socket.create_connection(("127.0.0.1", r.port), timeout=30) for _ in range(dribble_n)]
            socks += dribblers

            def dribble():
                text = b"GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
                for i in range(len(text)):
                    if stop.wait(0.2):
                        return
                    for s in dribblers:
                        try:
                            s.send(text[i:i + 1])
                        except OSError:
                            pass

            t = threading.Thread(target=dribble)
            t.start()
            for _ in range(20):
                code, body = http(r.port, "GET", "/healthz", timeout=30)
                self.assertEqual((code, body), (200, "ok\n"))
            held = len(os.listdir(f"/proc/{rpid}/fd")) - baseline
            self.assertLessEqual(held, 256)  # the cap; the oldest idle ones were closed to admit newcomers

            def closed_by_server(s):
                """True once reloader closed s (a 408 or 503 may come first); False while it is open."""
                s.setblocking(False)
                try:
                    while s.recv(1 << 16):
                        pass
                    return True
                except BlockingIOError:
                    return False
                except OSError:  # reset
                    return True

            def all_closed_by_server():
                return all(closed_by_server(s) for s in socks)

            # The header timeout closes every idle and dribbling connection (the rest were evicted).
            wait_until(all_closed_by_server, timeout=60, what="every flood connection closed by reloader")
            stop.set()
            t.join(30)
            self.assertEqual(http(r.port, "GET", "/healthz")[0], 200)
            wait_until(lambda: len(os.listdir(f"/proc/{rpid}/fd")) <= baseline, what=f"fds back to {baseline}")
        finally:
            stop.set()
            for s in socks:
                s.close()


class ConfigErrorTest(unittest.TestCase):
    def run_reloader(self, args, env=None, cwd=None):
        return subprocess.run([RELOADER, "--listen", "none"] + args, capture_output=True, text=True, timeout=20,
                              cwd=cwd, env=dict(os.environ, **(env or {})))

    # 11. Unknown RELOADER_* variables are errors.
    def test_unknown_reloader_variable_is_an_error_naming_the_nearest_known_one(self):
        p = self.run_reloader(["--", "true"], env={"RELOADER_READY_HTTTP": "http://127.0.0.1:1/"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("RELOADER_READY_HTTTP: unknown variable (did you mean RELOADER_READY_HTTP?)", p.stderr)
        p = self.run_reloader(["--", "true"], env={"RELOADER_STOP_TIMOUT": "2s"})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("did you mean RELOADER_STOP_TIMEOUT?", p.stderr)
        # An empty one sets nothing (make exports RELOADER_STATIC= to its recipes): the next error is --dir's.
        p = self.run_reloader(["--dir", "/nonexistent", "--", "true"], env={"RELOADER_STATIC": ""})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("reloader: --dir: dir /nonexistent: No such file or directory", p.stderr)

    # 13. Every value error names its place; the silently accepted ones are errors.
    def test_value_errors_name_their_place(self):
        d = tempfile.mkdtemp()
        cases = [
            ("dir", "dir: /nonexistent\nrun: x\n", "1:6", "dir /nonexistent: No such file or directory"),
            ("token file", "run: x\ncontrol:\n  token_file: /nonexistent-token\n", "3:15",
             "token file /nonexistent-token: No such file or directory"),
            ("bad glob", "run: x\nwatch:\n  include: ['*.c', '[unclosed']\n", "3:20",
             'bad glob "[unclosed": a [ without its closing ]'),
            ("bad exclude glob", "run: x\nwatch:\n  exclude: ['a\\']\n", "3:13", "ends with a lone"),
            ("inverted backoff", "run: x\nrestart:\n  backoff_min: 2s\n  backoff_max: 1s\n", "3:16",
             "backoff_min (2s) is above backoff_max (1s)"),
            ("undefined variable", "run: x\nenv:\n  A: ${SM_SURELY_UNSET}\n", "3:6",
             "${SM_SURELY_UNSET} is not set (give a default: ${SM_SURELY_UNSET:-value}"),
            ("string for a list", "run: x\nwatch:\n  paths: .\n", "3:10", "expected a list of strings, e.g. [.]"),
            ("string for cache inputs", "run: x\ncache:\n  inputs: '*.go'\n", "3:11", "expected a list of strings"),
            ("bad build timeout", "run: x\nbuild_timeout: soon\n", "2:16", "invalid duration"),
            ("bad settle", "run: x\nready:\n  settle: 10\n", "3:11", "unit"),
        ]
        for name, text, pos, message in cases:
            with self.subTest(name):
                path = os.path.join(d, "bad.yaml")
                write(path, text)
                p = self.run_reloader(["-c", path], cwd=d)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(f"reloader: {path}:{pos}: ", p.stderr)
                self.assertIn(message, p.stderr)
        p = self.run_reloader(["-c", "/nonexistent.yaml"])
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "reloader: -c /nonexistent.yaml: cannot read: No such file or directory\n")
        p = self.run_reloader(["--", "true"], env={"RELOADER_CONFIG": "/nonexistent.yaml"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("reloader: RELOADER_CONFIG /nonexistent.yaml: cannot read", p.stderr)
        p = self.run_reloader(["--", "true"], env={"RELOADER_DIR": "/nonexistent"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("reloader: RELOADER_DIR: dir /nonexistent", p.stderr)
        p = self.run_reloader(["--build-timeout", "later", "--", "true"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("reloader: --build-timeout: invalid duration", p.stderr)

    def test_env_defaults_and_literal_dollars_expand(self):
        d = tempfile.mkdtemp()
        write(os.path.join(d, "cfg.yaml"), "env:\n  A: ${SM_SURELY_UNSET:-fallback}\n  B: cost $$5\n"
              "  C: ${SM_SET_EMPTY-kept-empty}\n"
              "run: echo \"$A|$B|$C|\" > out.txt; exec sleep 1000\n")
        r = Reloader(["-c", os.path.join(d, "cfg.yaml")], cwd=d, env={"SM_SET_EMPTY": ""})
        try:
            text = wait_until(lambda: (lambda t: t if t.endswith("\n") else None)(
                open(os.path.join(d, "out.txt")).read()), what="out.txt")
            self.assertEqual(text, "fallback|cost $5||\n")
        finally:
            r.stop()


if __name__ == "__main__":
    unittest.main()
