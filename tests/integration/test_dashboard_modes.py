"""test_dashboard_modes.py — #18: the dashboard in real Chromium shows each row's mode (CI image, source from a hostPath,
source synced), offers both source modes only where the Deployment's sourcemode.dev/source-modes annotation allows
them, and choosing "source synced" saves the state, renders the emptyDir variant and creates the sync token."""
import os
import threading
import unittest

from test_dashboard import APP, RUNNER_IMAGE, DashboardTest, wait_for
from kubeharness import write_tree

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "hello-deploy")
IMAGES = os.path.join(EXAMPLE, "..", "images.yaml")


class DashboardModesTest(DashboardTest):
    def setUp(self):
        super().setUp()
        # the example set beside the test app's api (runner annotation only: one source mode) in one folder
        files = dict(APP)
        for name in ("hello.yaml", "redis.yaml"):
            with open(os.path.join(EXAMPLE, name)) as f:
                files[name] = f.read()
        files["variables.yaml"] = APP["variables.yaml"] + """
        environment: development
        sourceRoot: %s
        replicas: 2
        runnerImages: {go: sourcemode/runner-go:latest}
        """ % self.tmp
        write_tree(self.dir, files)

    def volume(self, name, vol):
        vols = self.deployment(name)["spec"]["template"]["spec"].get("volumes", [])
        return next((v for v in vols if v["name"] == vol), None)

    def test_mode_labels_choices_and_synced_mode(self):
        s = self.serve("--interval", "1h", "--images", IMAGES)
        self.wait_synced(s, ("api", "web", "hello", "redis"))
        # both source modes for hello (its annotation lists them), one for api, none for web
        r = self.browser("modes", s, service="hello")
        self.assertEqual(r["offered"], ["ci", "hostpath", "sync"], r)
        self.assertEqual(r["checked"], ["ci"], r)
        self.assertEqual(r["choice_text"], "Mode (runner go) CI image source from hostPath source synced", r)
        self.assertEqual(r["labels"], {"api": "CI image", "hello": "CI image", "redis": "CI image", "web": "CI image"}, r)
        r = self.browser("modes", s, service="api")
        self.assertEqual(r["offered"], ["ci", "hostpath"], r)
        self.assertEqual(r["choice_text"], "Mode (runner go) CI image source", r)

        # source synced: the emptyDir variant with the token mounted, the state saved, the Secret made by the sync
        self.browser("source", s, service="hello", mode="sync", mode_before="ci", label="^source · synced$",
                     image="sourcemode/runner-go")
        self.assertEqual(self.volume("hello", "source"), {"name": "source", "emptyDir": {}})
        self.assertEqual(self.volume("hello", "sync-token"), {"name": "sync-token", "secret": {"secretName": "appdeploy-sync-token"}})
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {"hello": "sync"})
        secret = self.fk.obj("secrets", "demo", "appdeploy-sync-token")
        self.assertEqual(secret["metadata"]["labels"]["appdeploy.sourcemode.dev/set"], os.path.basename(self.dir))
        job = [j for j in s.api("/api/jobs") if j["kind"] == "source-sync"][-1]
        self.assertEqual(job["state"], "ok", job)
        self.assertIn("source mode on (synced) for hello", job["output"])
        self.assertNotIn(secret["data"]["token"], job["output"])
        # api to source mode: every row says what it runs
        self.browser("source", s, service="api", on=True, expect_before=False, label="^source$", image=RUNNER_IMAGE)
        r = self.browser("modes", s, service="hello")
        self.assertEqual(r["checked"], ["sync"], r)
        self.assertEqual(r["labels"], {"api": "source", "hello": "source · synced", "redis": "CI image", "web": "CI image"}, r)

        # synced -> hostPath directly: the hostPath variant, the token no longer mounted, so pruned
        self.browser("source", s, service="hello", mode="hostpath", mode_before="sync", label="^source · hostPath$",
                     image="sourcemode/runner-go")
        self.assertEqual(self.volume("hello", "source")["hostPath"]["path"], self.tmp + "/examples/hello")
        self.assertIsNone(self.volume("hello", "sync-token"))
        self.assertIsNone(self.fk.obj("secrets", "demo", "appdeploy-sync-token"))
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {"api": "true", "hello": "true"})

        # the API refuses a mode the annotations do not offer, and a body that names none
        code, body, _ = s.post("/api/services/api/source", {"mode": "sync"})
        self.assertEqual(code, 409, body)
        self.assertIn("no synced source mode", body)
        code, body, _ = s.post("/api/services/hello/source", {"mode": "rsync"})
        self.assertEqual(code, 400, body)
        code, body, _ = s.post("/api/services/web/source", {"mode": "ci"})
        self.assertEqual(code, 409, body)
        # back to the CI image
        self.browser("source", s, service="hello", mode="ci", mode_before="hostpath", image="registry.example.com/hello")
        wait_for(lambda: self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"] == {"api": "true"}, 20,
                 "the state without hello")
        s.stop()

    def test_a_toggle_and_a_cli_source_saved_at_once_both_stay(self):
        """Two writers of the source state at once: the dashboard's toggle read the state, and before its write lands
        an apply --source writes its own choice. The toggle's write carries the resourceVersion it read, so it is
        refused (409) and made again on the new state: neither choice is lost."""
        s = self.serve("--interval", "1h", "--images", IMAGES)
        self.wait_synced(s, ("api", "web", "hello", "redis"))
        flags = ["--images", IMAGES]
        self.appdeploy("apply", self.dir, *flags, "--source", "hello=sync")
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {"hello": "sync"})
        held = threading.Event()
        key = "PUT /api/v1/namespaces/demo/configmaps/appdeploy-source-mode"
        puts = self.fk.counts.get(key, 0)
        for method in ("PUT", "PATCH"):  # the toggle's write is held, whichever way it writes
            self.fk.faults.append({"method": method, "path": "/configmaps/appdeploy-source-mode$", "count": 1,
                                   "hold": held})
        code, body, _ = s.post("/api/services/api/source", {"mode": "hostpath"})
        self.assertEqual(code, 202, body)
        wait_for(lambda: any(f["count"] == 0 for f in self.fk.faults), 30, "the toggle's write to reach the API server")
        p = self.appdeploy("apply", self.dir, *flags, "--source", "hello=off")  # meanwhile, from the CLI
        self.assertIn("configmap/appdeploy-source-mode saved", p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {})
        held.set()
        self.fk.faults.clear()
        job = wait_for(lambda: [j for j in s.api("/api/jobs") if j["kind"] == "source-on" and
                                j["state"] in ("ok", "failed")], 60, "the toggle's job")[-1]
        self.assertEqual(job["state"], "ok", job)
        self.assertEqual(self.fk.obj("configmaps", "demo", "appdeploy-source-mode")["data"], {"api": "true"})
        self.assertEqual(self.fk.counts[key], puts + 3)  # the toggle's refused write, the CLI's, the toggle's again
        self.assertEqual(self.image("api"), RUNNER_IMAGE)
        s.stop()


def load_tests(loader, tests, pattern):
    """Only this file's own tests: the imported DashboardTest (and what this class inherits of it) run in test_dashboard."""
    return unittest.TestSuite(DashboardModesTest(n) for n in loader.getTestCaseNames(DashboardModesTest)
                              if n in DashboardModesTest.__dict__)


if __name__ == "__main__":
    unittest.main()
