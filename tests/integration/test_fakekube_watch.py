"""test_fakekube_watch.py — tests/fakekube's watch answers as an API server's do: kubectl's own `get -w`, resourceVersion semantics, 410 Gone, bookmarks, timeoutSeconds, selectors."""
import json
import queue
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

from kubeharness import KUBECTL, TOKEN, KubeTest, require


class Stream:
    """One raw watch request; its events arrive on a queue as they are read (a reader thread)."""

    def __init__(self, fk, path):
        import ssl
        ctx = ssl.create_default_context(cafile=fk.tls_dir + "/ca.crt") if fk.tls_dir else None
        req = urllib.request.Request(fk.url + path, headers={"Authorization": "Bearer " + TOKEN})
        self.r = urllib.request.urlopen(req, timeout=30, context=ctx)
        self.sock = self.r.fp.raw._sock  # close() shuts it down: the reader may be blocked in recv
        self.status = self.r.status
        self.events = queue.Queue()
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for line in self.r:
                if line.strip():
                    self.events.put(json.loads(line))
        except (OSError, ValueError, AttributeError):  # AttributeError: closed by close() meanwhile
            pass
        self.ended.set()

    def next(self, timeout=20):
        return self.events.get(timeout=timeout)

    def until(self, pred, timeout=20, what="an event"):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                e = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(e)
            if pred(e):
                return e, seen
        raise AssertionError("no %s within %ds; saw %r" % (what, timeout, [(e["type"], e["object"].get("metadata"))
                                                                         for e in seen]))

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.r.close()


DEPLOYMENTS = "/apis/apps/v1/namespaces/demo/deployments"


class FakeKubeWatchTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.kubectl("create", "namespace", "demo")
        self.kubectl("create", "deployment", "web", "--image", "registry.example/web:1", "-n", "demo")
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()
        super().tearDown()

    def watch(self, query):
        s = Stream(self.fk, DEPLOYMENTS + "?watch=true&" + query)
        self.streams.append(s)
        return s

    def list_rv(self):
        return json.loads(self.kubectl("get", "--raw", DEPLOYMENTS).stdout)["metadata"]["resourceVersion"]

    def control(self, body):
        req = urllib.request.Request(self.fk.url + "/fakekube/watch", data=json.dumps(body).encode(), method="POST")
        import ssl
        ctx = ssl.create_default_context(cafile=self.fk.tls_dir + "/ca.crt")
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def test_kubectl_get_watch_sees_a_change(self):
        """The real client: `kubectl get deployments -w` lists, watches from the list's resourceVersion and
        prints the scaled Deployment when the change arrives."""
        kubectl = require(KUBECTL or "kubectl", "the real client is driven against fakekube")
        p = subprocess.Popen([kubectl, "--kubeconfig", self.kubeconfig, "get", "deployments", "-n", "demo", "-w",
                              "-o", "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas", "--no-headers"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line.split()) for line in p.stdout], daemon=True).start()
        try:
            self.assertEqual(lines.get(timeout=30), ["web", "1"])   # the list
            deadline = time.monotonic() + 30
            while not any(r["query"].get("watch") == "true" for r in self.fk.requests
                          if r["user_agent"].startswith("kubectl")):
                self.assertLess(time.monotonic(), deadline, "kubectl never started its watch")
                time.sleep(0.05)  # polling interval, not synchronisation
            self.kubectl("scale", "deployment", "web", "--replicas", "4", "-n", "demo")
            got = lines.get(timeout=30)
            while got == ["web", "1"]:   # a status change of the first rollout may come first
                got = lines.get(timeout=30)
            self.assertEqual(got, ["web", "4"])
            w = [r for r in self.fk.requests if r["user_agent"].startswith("kubectl") and r["query"].get("watch")]
            self.assertTrue(w[0]["query"].get("resourceVersion"), w[0])  # from the list, not from scratch
        finally:
            p.terminate()
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()

    def test_events_after_the_resource_version_only(self):
        rv = self.list_rv()
        s = self.watch("resourceVersion=%s" % rv)
        self.assertEqual(s.status, 200)
        self.kubectl("scale", "deployment", "web", "--replicas", "2", "-n", "demo")
        e, seen = s.until(lambda e: e["object"].get("spec", {}).get("replicas") == 2, what="the scaled Deployment")
        self.assertEqual(e["type"], "MODIFIED")
        self.assertTrue(all(int(x["object"]["metadata"]["resourceVersion"]) > int(rv) for x in seen), seen)
        self.kubectl("delete", "deployment", "web", "-n", "demo")
        e, _ = s.until(lambda e: e["type"] == "DELETED", what="DELETED")
        self.assertEqual(e["object"]["metadata"]["name"], "web")

    def test_no_resource_version_starts_with_synthetic_added(self):
        s = self.watch("resourceVersion=0")
        e = s.next()
        self.assertEqual((e["type"], e["object"]["metadata"]["name"]), ("ADDED", "web"))

    def test_too_old_resource_version_is_410_expired(self):
        rv = self.list_rv()
        self.kubectl("scale", "deployment", "web", "--replicas", "2", "-n", "demo")
        self.control({"compact": True})
        s = self.watch("resourceVersion=%s" % rv)
        self.assertEqual(s.status, 200)   # the error is an event in the stream, as the watch cache sends it
        e = s.next()
        self.assertEqual(e["type"], "ERROR")
        self.assertEqual((e["object"]["kind"], e["object"]["code"], e["object"]["reason"]), ("Status", 410, "Expired"))
        self.assertIn("too old resource version", e["object"]["message"])
        self.assertTrue(s.ended.wait(10))

    def test_bookmarks_only_when_allowed_and_timeout_ends_the_stream(self):
        self.control({"bookmark_interval": 0.2})
        rv = self.list_rv()
        s = self.watch("resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=2" % rv)
        e, _ = s.until(lambda e: e["type"] == "BOOKMARK", what="a bookmark")
        self.assertEqual(set(e["object"]["metadata"]), {"resourceVersion"})
        self.assertGreaterEqual(int(e["object"]["metadata"]["resourceVersion"]), int(rv))
        self.assertTrue(s.ended.wait(20), "timeoutSeconds=2 did not end the stream")
        plain = self.watch("resourceVersion=%s&timeoutSeconds=1" % rv)
        self.assertTrue(plain.ended.wait(20))
        self.assertNotIn("BOOKMARK", [e["type"] for e in list(plain.events.queue)], "bookmarks were not asked for")

    def test_label_selector_leaving_is_deleted(self):
        self.kubectl("label", "deployment", "web", "tier=front", "-n", "demo")
        s = self.watch("labelSelector=tier%3Dfront&resourceVersion=" + self.list_rv())
        self.kubectl("label", "deployment", "web", "tier=back", "--overwrite", "-n", "demo")
        e, _ = s.until(lambda e: e["type"] != "BOOKMARK", what="the Deployment leaving the selector")
        self.assertEqual((e["type"], e["object"]["metadata"]["labels"]["tier"]), ("DELETED", "front"))

    def test_dropped_streams_end_without_the_last_chunk(self):
        s = self.watch("resourceVersion=" + self.list_rv())
        deadline = time.monotonic() + 20
        while self.control({})["open"] < 1:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)  # polling interval, not synchronisation
        self.control({"drop": True})
        self.assertTrue(s.ended.wait(20))


if __name__ == "__main__":
    unittest.main()
