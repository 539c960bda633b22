"""test_up_forward.py — `appdeploy up` without --detach: the agent's Deployment made ready by the fake's rollout, then the local forward serves the page, passes method/query/body/headers, and streams server-sent events through the API server's service proxy (a stand-in HTTP server as the Service's endpoint)."""
import http.client
import http.server
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time

from kubeharness import APPDEPLOY, KubeTest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NS2 = "appdeploy-system"


class StandIn:
    """What the agent's dashboard answers, in small: a page, an echo, and an event stream whose second event
    waits for the test (so it can only arrive if the forward streams)."""

    def __init__(self):
        self.release = threading.Event()
        st = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path == "/":
                    body = b"<!doctype html><title>agent stand-in</title>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/api/events":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"event: status\ndata: one\n\n")
                    self.wfile.flush()
                    st.release.wait(60)
                    self.wfile.write(b"event: status\ndata: two\n\n")
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(n).decode()
                path, _, query = self.path.partition("?")
                body = json.dumps({"method": "POST", "path": path, "query": query, "body": data,
                                   "csrf": self.headers.get("X-CSRF-Token"),
                                   "type": self.headers.get("Content-Type")}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def start_up(test, kubeconfig):
    """`appdeploy up examples/hello-deploy` with kubeconfig, its agent Service served by a StandIn: returns
    (stand-in, the local forward's port, the lines up printed until the dashboard URL)."""
    d = os.path.join(test.tmp, "hello-deploy")
    shutil.copytree(os.path.join(ROOT, "examples", "hello-deploy"), d)
    images = os.path.join(ROOT, "examples", "images.yaml")
    agent = StandIn()
    test.addCleanup(agent.stop)
    # the Service appdeploy:http in NS2 is served by the stand-in (fakekube's service proxy)
    test.fk.proxy_service(NS2, "appdeploy", "http", agent.port)
    env = dict(os.environ, APPDEPLOY_AGENT_DIR=os.path.join(ROOT, "deploy", "agent"),
               APPDEPLOY_CACHE_DIR=os.path.join(test.tmp, "cache"))
    env.pop("KUBECONFIG", None)
    p = subprocess.Popen([APPDEPLOY, "up", d, "-n", "demo", "--images", images, "--kubeconfig", kubeconfig,
                          "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    test.addCleanup(p.stderr.close)
    test.addCleanup(p.stdout.close)
    test.addCleanup(lambda: p.poll() is None and p.kill())
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stdout] and lines.put(None), daemon=True).start()
    port, seen, deadline = None, [], time.monotonic() + 120
    while port is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            test.fail("up ended early:\n%s\n%s" % ("".join(seen), p.stderr.read()))
        seen.append(line)
        if line.startswith("dashboard: http://127.0.0.1:"):
            port = int(line.split(":")[3].rstrip("/\n"))
    test.assertIsNotNone(port, "no dashboard line within 120 s:\n" + "".join(seen))
    return agent, p, port, seen


class UpForwardTest(KubeTest):
    def test_forward(self):
        agent, p, port, seen = start_up(self, self.kubeconfig)
        self.assertIn("deployment.apps/appdeploy rolled out\n", seen)  # ready before the URL is printed

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/")
        r = c.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"<!doctype html><title>agent stand-in</title>"))
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        c.close()

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/api/echo?x=1&y=a%20b", body='{"on": true}',
                  headers={"Content-Type": "application/json", "X-CSRF-Token": "csrf-123"})
        r = c.getresponse()
        self.assertEqual(r.status, 201)
        self.assertEqual(json.loads(r.read()), {"method": "POST", "path": "/api/echo", "query": "x=1&y=a%20b",
                                                "body": '{"on": true}', "csrf": "csrf-123",
                                                "type": "application/json"})
        c.close()

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/nope")
        self.assertEqual(c.getresponse().status, 404)  # the agent's status, passed on
        c.close()

        # the event stream: the first event arrives while the second is still held back by the stand-in
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        got = b""
        while b"data: one\n\n" not in got:
            chunk = r.read1(4096)
            self.assertTrue(chunk, "the stream ended before its first event")
            got += chunk
        self.assertNotIn(b"two", got)
        agent.release.set()
        while b"data: two\n\n" not in got:
            chunk = r.read1(4096)
            self.assertTrue(chunk, "the stream ended before its second event: %r" % got)
            got += chunk
        self.assertEqual(got, b"event: status\ndata: one\n\nevent: status\ndata: two\n\n")
        c.close()

        # a page elsewhere must not reach the cluster through the forward (DNS rebinding)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/", headers={"Host": "evil.example"})
        self.assertEqual(c.getresponse().status, 421)
        c.close()

        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(timeout=60), 0)
        err = p.stderr.read()
        self.assertNotIn("Sanitizer", err)
        self.assertNotIn("runtime error:", err)
        # the agent stays installed
        self.assertIn("deployment.apps/appdeploy", self.kubectl("-n", NS2, "get", "deployment", "-o", "name").stdout)
