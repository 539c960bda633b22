"""test_dashboard_watch.py — `appdeploy serve` follows the cluster with watches: a change arrives without a list, 410 Gone relists, a dropped stream resumes, a hung API server still turns the status stale, and shutdown is clean."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import unittest
import urllib.request

import test_dashboard as td  # its helpers; not its TestCase by name, or its tests would run here again
from kubeharness import KubeTest, write_tree

wait_for = td.wait_for

PATHS = {"deployments": "/apis/apps/v1/namespaces/demo/deployments", "pods": "/api/v1/namespaces/demo/pods",
         "events": "/api/v1/namespaces/demo/events"}


class DashboardWatchTest(KubeTest):
    rollout_delay = 0.1
    serve = td.DashboardTest.serve
    wait_synced = td.DashboardTest.wait_synced
    fake_proc = td.DashboardTest.fake_proc

    def setUp(self):
        KubeTest.setUp(self)
        shutil.rmtree(self.dir)
        write_tree(self.dir, td.APP)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        KubeTest.tearDown(self)

    def agent_requests(self, requests=None):
        return [r for r in (self.fk.requests if requests is None else requests)
                if r["user_agent"].startswith("appdeploy")]

    def counts(self, requests=None):
        """{collection: (lists, watches)} the agent sent, and the watches' resourceVersions."""
        out = {}
        for name, path in PATHS.items():
            rs = [r for r in self.agent_requests(requests) if r["method"] == "GET" and r["path"] == path]
            out[name] = (sum(1 for r in rs if r["query"].get("watch") != "true"),
                         sum(1 for r in rs if r["query"].get("watch") == "true"))
        return out

    def control(self, body, url=None):
        ctx = ssl.create_default_context(cafile=self.fk.tls_dir + "/ca.crt") if url is None else None
        req = urllib.request.Request((url or self.fk.url) + "/fakekube/watch", data=json.dumps(body).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def settled(self, s):
        """Synced, the initial sync's job done (its relist too), and all three watches open."""
        self.wait_synced(s)
        wait_for(lambda: any(j["kind"] == "initial-sync" and j["state"] == "ok" for j in s.api("/api/jobs")), 60,
                 "the initial sync")
        wait_for(lambda: self.control({})["open"] >= 3, 30, "the agent's three watches to be open")

    def ready(self, s, name):
        d = [d for d in s.api("/api/deployments")["deployments"] if d["name"] == name]
        return d and "%d/%d" % (d[0]["ready"], d[0]["desired"])

    def scale(self, name, n):
        self.kubectl("scale", "deployment", name, "--replicas", str(n), "-n", "demo")

    def test_change_arrives_through_the_watch_without_a_list(self):
        s = self.serve("--interval", "1h")
        self.settled(s)
        self.fk.reset_counts()
        self.scale("web", 4)
        wait_for(lambda: self.ready(s, "web") == "4/4", 30, "web 4/4 on the dashboard")
        self.assertEqual(self.counts(), {n: (0, 0) for n in PATHS})  # no list, and the same open watches
        # the liveness check is one small GET per poll, of the source-mode ConfigMap
        gets = {r["path"] for r in self.agent_requests() if r["method"] == "GET"}
        self.assertEqual(gets, {"/api/v1/namespaces/demo/configmaps/appdeploy-source-mode"})
        s.stop()

    def test_410_gone_relists_once(self):
        s = self.serve("--interval", "1h")
        self.settled(s)
        self.fk.reset_counts()
        self.control({"compact": True, "drop": True})  # the agent's resourceVersions are now older than the history
        wait_for(lambda: self.counts() == {n: (1, 2) for n in PATHS}, 30, "one relist per collection, then a watch")
        resumed = [r for r in self.agent_requests() if r["query"].get("watch") == "true"]
        self.assertEqual(len(resumed), 6)
        self.scale("web", 3)
        wait_for(lambda: self.ready(s, "web") == "3/3", 30, "web 3/3 on the dashboard")
        self.assertEqual(self.counts(), {n: (1, 2) for n in PATHS})
        s.stop()

    def test_dropped_stream_resumes_without_a_list(self):
        s = self.serve("--interval", "1h")
        self.settled(s)
        before = {r["path"]: r["query"].get("resourceVersion") for r in self.agent_requests()
                  if r["query"].get("watch") == "true"}
        self.fk.reset_counts()
        self.control({"drop": True})
        wait_for(lambda: self.counts() == {n: (0, 1) for n in PATHS}, 30, "each watch to come back once")
        for r in self.agent_requests():
            if r["query"].get("watch") == "true":
                self.assertTrue(r["query"].get("resourceVersion"), r)  # from where it was, not from scratch
                self.assertGreaterEqual(int(r["query"]["resourceVersion"]), int(before[r["path"]] or 0))
                self.assertEqual(r["query"].get("allowWatchBookmarks"), "true")
        self.scale("web", 1)
        wait_for(lambda: self.ready(s, "web") == "1/1", 30, "web 1/1 on the dashboard")
        self.assertEqual(self.counts(), {n: (0, 1) for n in PATHS})
        s.stop()

    def test_hung_api_server_turns_stale_and_the_watch_carries_on(self):
        """SIGSTOP: the quiet watch streams stay open, but the per-poll GET gets no answer, so the status ages past
        2 polls (the page's stale badge) and then reports the error; SIGCONT: fresh again, and a change arrives
        through the same watches."""
        kc = os.path.join(self.tmp, "kubeconfig-proc")
        fk, port = self.fake_proc(kc)
        url = "http://127.0.0.1:%d" % port
        s = self.serve("--interval", "1h", kubeconfig=kc)
        self.wait_synced(s)
        wait_for(lambda: any(j["kind"] == "initial-sync" and j["state"] == "ok" for j in s.api("/api/jobs")), 60,
                 "the initial sync")
        wait_for(lambda: self.control({}, url)["open"] >= 3, 30, "the agent's three watches to be open")
        served = self.control({}, url)["served"]
        fk.send_signal(signal.SIGSTOP)
        try:
            st = wait_for(lambda: (lambda st: st if st["cluster_age"] is not None and st["cluster_age"] > 2 * st["poll"]
                                   else None)(s.api("/api/status")), 30, "the cluster's age to pass 2 polls")
            self.assertEqual(st["poll"], 0.2)
        finally:
            fk.send_signal(signal.SIGCONT)
        wait_for(lambda: (lambda st: st["cluster_age"] is not None and st["cluster_age"] < 2 * st["poll"]
                          and st["error"] is None)(s.api("/api/status")), 30, "fresh again")
        subprocess.run(["kubectl", "--kubeconfig", kc, "scale", "deployment", "web", "--replicas", "3", "-n", "demo"],
                       check=True, capture_output=True, timeout=60)
        wait_for(lambda: self.ready(s, "web") == "3/3", 30, "web 3/3 on the dashboard")
        self.assertEqual(self.control({}, url)["served"], served)  # the same streams carried it
        s.stop()


if __name__ == "__main__":
    unittest.main()
