"""test_synctoken.py — #18: `appdeploy apply` makes synced source mode's token Secret part of the set (created once with
a random token, never printed or shown by diff, never rotated by a re-apply, pruned with the set), and `appdeploy dev`
only reads it. Against the fake API server with the example (examples/hello-deploy)."""
import base64
import os
import subprocess
import unittest

from harness import APPDEPLOY
from kubeharness import KubeTest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "examples", "hello-deploy")
IMAGES = os.path.join(ROOT, "examples", "images.yaml")
NS, SECRET = "hello-dev", "appdeploy-sync-token"


class SyncTokenTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.flags = ["--images", IMAGES, "-v", "sourceRoot=" + self.tmp]

    def secret(self):
        return self.fk.obj("secrets", NS, SECRET)

    def token(self):
        return base64.b64decode(self.secret()["data"]["token"]).decode()

    def inventory(self):
        return self.fk.obj("configmaps", NS, "appdeploy-set-hello-deploy")["data"]["objects"]

    def apply(self, *args, expect=0):
        p = self.appdeploy("apply", DEPLOY, *self.flags, *args, expect=expect)
        s = self.secret()
        if s:  # the token is never printed
            self.assertNotIn(self.token(), p.stdout + p.stderr)
            self.assertNotIn(s["data"]["token"], p.stdout + p.stderr)
        return p

    def test_created_once_owned_by_the_set_and_pruned_with_it(self):
        # CI image and hostPath source mode mount no token: no Secret
        self.apply()
        self.apply("--source", "hello")
        self.assertIsNone(self.secret())
        # synced: the Secret is created with the set's labels, listed in its inventory
        p = self.apply("--source", "hello=sync")
        self.assertIn("secret/appdeploy-sync-token created", p.stdout)
        s = self.secret()
        self.assertEqual(s["metadata"]["labels"], {"app.kubernetes.io/managed-by": "appdeploy",
                                                   "appdeploy.sourcemode.dev/set": "hello-deploy"})
        self.assertEqual(s["type"], "Opaque")
        token = self.token()
        self.assertRegex(token, r"^[0-9a-f]{48}$")
        self.assertIn("v1 Secret %s %s %s" % (NS, SECRET, s["metadata"]["uid"]), self.inventory())
        # a re-apply keeps it as it is (no write at all), and diff sees nothing to change
        before = self.fk.obj("secrets", NS, SECRET)["metadata"]["resourceVersion"]
        p = self.apply("--source", "hello=sync")
        self.assertIn("secret/appdeploy-sync-token unchanged", p.stdout)
        self.assertEqual(self.token(), token)
        self.assertEqual(self.secret()["metadata"]["resourceVersion"], before)
        d = self.appdeploy("diff", DEPLOY, *self.flags, "--source", "hello=sync")
        self.assertNotIn(token, d.stdout + d.stderr)
        # --force-apply sends it again: still the same token
        self.apply("--source", "hello=sync", "--force-apply")
        self.assertEqual(self.token(), token)
        # back to the CI image (hello=off: a plain apply keeps the saved choice): nothing mounts it, so it is
        # pruned like any object the set no longer renders
        p = self.apply("--source", "hello=off")
        self.assertIn("secret/appdeploy-sync-token pruned", p.stdout)
        self.assertIsNone(self.secret())
        self.assertNotIn(SECRET, self.inventory())
        # synced again: a new token
        self.apply("--source", "hello=sync")
        self.assertNotEqual(self.token(), token)

    def test_diff_shows_it_masked_and_creates_nothing(self):
        self.apply()
        d = self.appdeploy("diff", DEPLOY, *self.flags, "--source", "hello=sync", expect=1)
        self.assertIn("appdeploy-sync-token", d.stdout)
        self.assertIn("token: '***'", d.stdout.replace('"***"', "'***'"))
        self.assertIsNone(self.secret())
        # a dry-run apply creates nothing either
        self.appdeploy("apply", DEPLOY, *self.flags, "--source", "hello=sync", "--dry-run")
        self.assertIsNone(self.secret())

    def test_the_dashboards_saved_state_counts_too(self):
        # the source-mode state the dashboard saves (hello: sync) makes a plain apply synced
        self.kubectl("create", "namespace", NS)
        self.kubectl("create", "configmap", "appdeploy-source-mode", "-n", NS, "--from-literal=hello=sync")
        p = self.apply()
        self.assertIn("secret/appdeploy-sync-token created", p.stdout)
        vols = self.fk.obj("deployments", NS, "hello")["spec"]["template"]["spec"]["volumes"]
        self.assertEqual([v for v in vols if v["name"] == "source"], [{"name": "source", "emptyDir": {}}])

    def test_a_secret_made_elsewhere_is_used_as_it_is(self):
        # made by hand (or by another set): apply neither refuses it nor takes it over nor changes its token
        self.kubectl("create", "namespace", NS)
        self.kubectl("create", "secret", "generic", SECRET, "-n", NS, "--from-literal=token=hand-made")
        p = self.apply("--source", "hello=sync")
        self.assertNotIn(SECRET, p.stdout)
        self.assertEqual(self.token(), "hand-made")
        self.assertNotIn("appdeploy.sourcemode.dev/set", self.secret()["metadata"].get("labels", {}))
        self.assertNotIn(SECRET, self.inventory())
        self.apply()  # not the set's: never pruned
        self.assertEqual(self.token(), "hand-made")

    def test_dev_reads_it_and_never_creates_it(self):
        os.makedirs(os.path.join(self.tmp, "examples", "hello"))
        self.apply("--source", "hello")  # hostPath mode: no Secret
        p = subprocess.run([APPDEPLOY, "dev", "hello", DEPLOY, "--once", "--kubeconfig", self.kubeconfig, *self.flags],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("namespace hello-dev has no Secret appdeploy-sync-token: hello is not deployed in synced source "
                      "mode. Deploy it so (appdeploy apply %s --source hello=sync" % DEPLOY, p.stderr)
        self.assertIsNone(self.secret())
        self.assertEqual([w for w in self.writes() if "/secrets" in w["path"]], [])


if __name__ == "__main__":
    unittest.main()
