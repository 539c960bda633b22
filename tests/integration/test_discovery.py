"""test_discovery.py — aggregated vs per-group discovery (counted requests), the on-disk discovery cache, and 410 on a continue token mid-list."""
import json
import os
import shutil

import test_dashboard as td
from kubeharness import KubeTest, write_tree

PER_GROUP = r"^/api/[^/]+$|^/apis/[^/]+/[^/]+$"  # /api/v1, /apis/apps/v1: one request per group version


class Discovery(KubeTest):
    def small(self):
        d = os.path.join(self.tmp, "small")
        write_tree(d, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n",
                       "web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                                   "  selector: {matchLabels: {app: web}}\n  template:\n"
                                   "    metadata: {labels: {app: web}}\n"
                                   "    spec: {containers: [{name: web, image: x}]}\n"})
        return d

    def group_versions(self):
        with self.fk.store.lock:
            return len({(r.group, r.version) for r in self.fk.store.res.values()})

    def discovery_requests(self):
        return (self.fk.count(r"^/api$", "GET"), self.fk.count(r"^/apis$", "GET"), self.fk.count(PER_GROUP, "GET"))

    def test_aggregated_v2_when_offered(self):
        self.appdeploy("apply", self.small(), "-n", "demo")
        self.assertEqual((1, 1, 0), self.discovery_requests())
        asked = [r["accept"] for r in self.fk.requests if r["path"] in ("/api", "/apis")]
        self.assertTrue(all("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" in a for a in asked), asked)
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))

    def test_aggregated_v2beta1(self):
        self.fk.aggregated = ("v2beta1",)
        self.appdeploy("apply", self.small(), "-n", "demo")
        self.assertEqual((1, 1, 0), self.discovery_requests())
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))

    def test_per_group_when_not_offered(self):
        self.fk.aggregated = ()
        self.appdeploy("apply", self.small(), "-n", "demo")
        self.assertEqual((1, 1, self.group_versions()), self.discovery_requests())
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))

    def test_warm_cache_no_change_apply_makes_one_freshness_check(self):
        d = self.small()
        self.appdeploy("apply", d, "-n", "demo")
        self.fk.reset_counts()
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("deployment.apps/web unchanged", p.stdout)
        self.assertEqual((0, 1, 0), self.discovery_requests())  # If-None-Match on /apis, answered 304

    def test_warm_cache_per_group_server(self):
        self.fk.aggregated = ()
        d = self.small()
        self.appdeploy("apply", d, "-n", "demo")
        self.fk.reset_counts()
        self.appdeploy("apply", d, "-n", "demo")
        self.assertEqual((0, 1, 0), self.discovery_requests())  # the group list compared with the cached one

    def test_cache_is_per_server_and_outlives_nothing_wrong(self):
        d = self.small()
        self.appdeploy("apply", d, "-n", "demo")
        files = os.listdir(os.path.join(self.tmp, "cache", "discovery"))
        self.assertEqual(["127.0.0.1_%d.json" % self.fk.port], files)
        # a TTL of 0 makes the cached answer too old: a full discovery again
        self.fk.reset_counts()
        self.appdeploy("apply", d, "-n", "demo", env={"APPDEPLOY_DISCOVERY_TTL": "0"})
        self.assertEqual((1, 1, 0), self.discovery_requests())

    def test_new_group_seen_by_the_freshness_check(self):
        d = self.small()
        self.appdeploy("apply", d, "-n", "demo")
        self.fk.reset_counts()
        # a CRD installed by someone else: its group is new, so /apis changed (200 with the new data)
        self.crd("gizmos.tools.example.com", "tools.example.com", "Gizmo", "gizmos")
        write_tree(d, {"g.yaml": "apiVersion: tools.example.com/v1\nkind: Gizmo\nmetadata:\n  name: g1\n"})
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("gizmo.tools.example.com/g1 created", p.stdout)
        self.assertEqual((0, 1, 0), self.discovery_requests())

    def crd(self, name, group, kind, plural):
        res = self.fk.store.res[("apiextensions.k8s.io", "v1", "customresourcedefinitions")]
        body = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": name},
                "spec": {"group": group, "scope": "Namespaced",
                         "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
                         "versions": [{"name": "v1", "served": True, "storage": True}]}}
        self.fk.store.create(res, "", body, "test", False)

    def test_kind_missing_from_the_cache_rediscovers(self):
        # per-group server: a new kind in a group the cache already lists does not change /apis
        self.fk.aggregated = ()
        self.crd("alphas.x.example.com", "x.example.com", "Alpha", "alphas")
        d = self.small()
        write_tree(d, {"a.yaml": "apiVersion: x.example.com/v1\nkind: Alpha\nmetadata:\n  name: a1\n"})
        self.appdeploy("apply", d, "-n", "demo")
        self.crd("betas.x.example.com", "x.example.com", "Beta", "betas")
        write_tree(d, {"b.yaml": "apiVersion: x.example.com/v1\nkind: Beta\nmetadata:\n  name: b1\n"})
        self.fk.reset_counts()
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("beta.x.example.com/b1 created", p.stdout)
        # the freshness check, then (Beta not found) one full discovery
        self.assertEqual((1, 2, self.group_versions()), self.discovery_requests())

    def test_unknown_kind_still_an_error_after_rediscovery(self):
        d = self.small()
        self.appdeploy("apply", d, "-n", "demo")
        write_tree(d, {"n.yaml": "apiVersion: nope.example.com/v1\nkind: Nope\nmetadata:\n  name: nope1\n"})
        self.fk.reset_counts()
        p = self.appdeploy("apply", d, "-n", "demo", expect=1)
        self.assertIn("n.yaml:1: the server has no kind Nope in apiVersion nope.example.com/v1", p.stderr)
        self.assertEqual((1, 2, 0), self.discovery_requests())  # freshness check + one rediscovery, no more
        self.assertEqual([], self.writes())

    def test_stale_group_is_asked_per_group(self):
        self.crd("gizmos.tools.example.com", "tools.example.com", "Gizmo", "gizmos")
        self.fk.stale_groups = {"tools.example.com"}
        d = self.small()
        write_tree(d, {"g.yaml": "apiVersion: tools.example.com/v1\nkind: Gizmo\nmetadata:\n  name: g1\n"})
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("gizmo.tools.example.com/g1 created", p.stdout)
        self.assertEqual((1, 1, 1), self.discovery_requests())
        self.assertEqual(1, self.fk.count(r"^/apis/tools\.example\.com/v1$", "GET"))
        # warm: the freshness check, and the stale group asked again
        self.fk.reset_counts()
        self.appdeploy("apply", d, "-n", "demo")
        self.assertEqual((0, 1, 1), self.discovery_requests())

    def test_kubectl_reads_the_aggregated_discovery(self):
        p = self.kubectl("api-resources", "--api-group=apps", "-o", "name")
        self.assertIn("deployments.apps", p.stdout)
        self.assertIn("statefulsets.apps", p.stdout)
        self.assertTrue(any("v=v2" in r["accept"] for r in self.fk.requests if r["path"] == "/apis"))


class DashboardDiscovery(KubeTest):
    def test_resyncs_within_an_interval_reuse_one_discovery(self):
        shutil.rmtree(self.dir)
        write_tree(self.dir, td.APP)
        s = td.Serve(self, [self.dir, "--kubeconfig", self.kubeconfig, "--listen", "127.0.0.1:0", "--poll", "200ms",
                            "--interval", "1h"], env={"APPDEPLOY_CACHE_DIR": os.path.join(self.tmp, "cache")})
        try:
            td.wait_for(lambda: self.fk.obj("deployments", "demo", "web"), 30, "the first sync")
            first = (self.fk.count(r"^/api$", "GET"), self.fk.count(r"^/apis$", "GET"), self.fk.count(PER_GROUP, "GET"))
            self.assertEqual((1, 1, 0), first)
            for _ in range(2):
                code, body, _ = s.post("/api/redeploy")
                self.assertEqual(202, code, body)
                job = json.loads(body)["job"]
                st = td.wait_for(lambda: (lambda j: j if j["state"] in ("ok", "failed") else None)(
                    s.api("/api/jobs/%d" % job)), 60, "job %d" % job)
                self.assertEqual("ok", st["state"], st)
            # two more syncs inside the interval: not one more discovery request
            self.assertEqual(first, (self.fk.count(r"^/api$", "GET"), self.fk.count(r"^/apis$", "GET"),
                                     self.fk.count(PER_GROUP, "GET")))
        finally:
            s.stop()


class ContinueExpired(KubeTest):
    def test_410_on_a_continue_token_restarts_the_list(self):
        d = os.path.join(self.tmp, "many")
        files = {"cm-%d.yaml" % i: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n" % i for i in range(4)}
        write_tree(d, files)
        env = {"APPDEPLOY_PAGE_SIZE": "1"}  # every list pages: continue tokens on each page
        self.appdeploy("apply", d, "-n", "demo", env=env)
        os.remove(os.path.join(d, "cm-3.yaml"))
        self.fk.expire_continues = 1  # the first continue token sent is too old: 410 Expired
        p = self.appdeploy("apply", d, "-n", "demo", env=env)
        self.assertEqual(0, self.fk.expire_continues)  # the expired token was really met
        self.assertIn("configmap/cm-3 pruned", p.stdout)
        self.assertEqual(["cm-0", "cm-1", "cm-2"],
                         sorted(o["metadata"]["name"] for o in self.fk.objects("configmaps", "demo")
                                if o["metadata"]["name"].startswith("cm-")))
        self.assertEqual([("ConfigMap", "demo", "cm-3")], [d[:3] for d in self.fk.deleted])


if __name__ == "__main__":
    import unittest
    unittest.main()
