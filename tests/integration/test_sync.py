"""test_sync.py — `appdeploy apply` and `diff` against the fake API server: order, idempotence, prune, recreate, dry run, errors."""
import json
import os
import re
import subprocess
import threading
import time
import unittest

from kubeharness import KubeTest, TOKEN, write_tree, APPDEPLOY


def applied_order(fk):
    # the set's inventory (#10) is recorded before the first object: not part of the apply order
    return [r["path"].split("/")[-1] and (r["path"].split("/")[-2], r["path"].split("/")[-1])
            for r in fk.requests if r["method"] == "PATCH" and "/configmaps/appdeploy-set-" not in r["path"]]


class ApplyTest(KubeTest):
    def test_first_apply_creates_everything_in_order(self):
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("namespace/demo created", p.stdout)
        for what in ("configmap/web-config created", "secret/web-secret created", "serviceaccount/web created",
                     "role.rbac.authorization.k8s.io/web created", "deployment.apps/web created",
                     "service/web created", "cronjob.batch/cleanup created"):
            self.assertIn(what, p.stdout)
        self.assertNotIn("ingress", p.stdout)  # the {{if}} rendered an empty document: skipped
        order = [plural for plural, _ in applied_order(self.fk)]
        pos = {k: order.index(k) for k in order}
        self.assertLess(pos["serviceaccounts"], pos["roles"])
        self.assertLess(pos["roles"], pos["rolebindings"])
        self.assertLess(pos["rolebindings"], pos["configmaps"])
        for late in ("deployments", "services", "cronjobs"):
            self.assertLess(pos["secrets"], pos[late])
            self.assertLess(pos["configmaps"], pos[late])
        # every apply is server-side apply with our field manager, not forced (#10: no other manager
        # owns a field here, so nothing is taken; test_safety covers conflicts)
        for r in self.fk.requests:
            if r["method"] == "PATCH" and "/configmaps/appdeploy-set-" not in r["path"]:
                self.assertEqual(r["query"].get("fieldManager"), "appdeploy")
                self.assertIsNone(r["query"].get("force"))
        dep = self.fk.obj("deployments", "demo", "web")
        labels = dep["metadata"]["labels"]
        self.assertEqual(labels["app.kubernetes.io/managed-by"], "appdeploy")
        self.assertEqual(labels["appdeploy.sourcemode.dev/set"], "app")
        self.assertEqual(dep["spec"]["replicas"], 2)
        self.assertEqual(self.fk.obj("configmaps", "demo", "web-config")["data"]["namespace"], "demo")

    def test_reapply_changes_nothing(self):
        self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        before = self.rvs()
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertEqual(before, self.rvs())
        self.assertNotIn("configured", p.stdout)
        self.assertNotIn("created", p.stdout)
        self.assertEqual(p.stdout.count("unchanged"), 8, p.stdout)

    def test_reapply_skips_unchanged_objects_but_not_drift(self):
        self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        n = len(self.fk.requests)
        self.appdeploy("apply", self.dir, "-n", "demo")
        patched = [r["path"] for r in self.fk.requests[n:] if r["method"] == "PATCH"]
        # the Secret's stringData comes back as data: it cannot be proven unchanged, so it is sent
        self.assertEqual(patched, ["/api/v1/namespaces/demo/secrets/web-secret"])
        # someone scales by hand: the next apply puts our value back
        self.kubectl("scale", "deployment", "web", "-n", "demo", "--replicas=7")
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 7)
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("deployment.apps/web configured", p.stdout)
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 2)
        n = len(self.fk.requests)
        self.appdeploy("apply", self.dir, "-n", "demo", "--force-apply")
        self.assertEqual(len([r for r in self.fk.requests[n:] if r["method"] == "PATCH"]), 8)

    def test_change_is_applied(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-v", "replicas=5")
        self.assertIn("deployment.apps/web configured", p.stdout)
        self.assertIn("configmap/web-config unchanged", p.stdout)
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 5)
        # kube-appdeploy's key:value form still works
        self.appdeploy("apply", self.dir, "-n", "demo", "-v", "replicas:3")
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 3)

    def test_prune_removes_exactly_the_removed_template(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        # foreign objects: one without labels, one of another appdeploy set, one created by kubectl
        self.kubectl("create", "configmap", "foreign", "-n", "demo", "--from-literal=a=b")
        self.kubectl("create", "configmap", "other-set", "-n", "demo")
        self.kubectl("label", "configmap", "other-set", "-n", "demo", "app.kubernetes.io/managed-by=appdeploy",
                     "appdeploy.sourcemode.dev/set=other")
        os.remove(os.path.join(self.dir, "web.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("deployment.apps/web pruned", p.stdout)
        self.assertIn("service/web pruned", p.stdout)
        self.assertEqual(p.stdout.count("pruned"), 2, p.stdout)
        self.assertIsNone(self.fk.obj("deployments", "demo", "web"))
        self.assertIsNone(self.fk.obj("services", "demo", "web"))
        for name in ("foreign", "other-set", "web-config", "kube-root-ca.crt"):
            self.assertIsNotNone(self.fk.obj("configmaps", "demo", name), name)
        self.assertIsNotNone(self.fk.obj("serviceaccounts", "demo", "default"))
        # the deployment's pods (ownerReferences) went with it, by propagation, not by our prune
        deletes = [r for r in self.fk.requests if r["method"] == "DELETE"]
        self.assertEqual(len(deletes), 2)
        for r in deletes:
            self.assertEqual(r["query"].get("propagationPolicy"), "Background")

    def test_no_prune_flag(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        os.remove(os.path.join(self.dir, "web.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--no-prune")
        self.assertNotIn("pruned", p.stdout)
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))

    def test_failed_apply_means_no_prune(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        os.remove(os.path.join(self.dir, "worker.yaml"))
        # the server rejects one object midway
        self.fk.reject["web"] = "injected rejection for the test"
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-v", "replicas=3", expect=1)
        self.assertIn("injected rejection for the test", p.stderr)
        self.assertIn("nothing was pruned", p.stderr)
        self.assertRegex(p.stderr, r"web\.yaml:\d+: deployment\.apps/web: ")
        self.assertIsNotNone(self.fk.obj("cronjobs", "demo", "cleanup"))
        self.assertEqual([r for r in self.fk.requests if r["method"] == "DELETE"], [])

    def test_render_error_changes_nothing(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        n = len(self.writes())
        write_tree(self.dir, {"zz-bad.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              labels: {a: b}
        """})
        os.remove(os.path.join(self.dir, "web.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertRegex(p.stderr, r"zz-bad\.yaml:3:\d+: rendered ConfigMap \(document 1\): metadata.name is missing")
        self.assertEqual(len(self.writes()), n)
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))

    def test_unknown_kind_fails_before_any_write(self):
        write_tree(self.dir, {"zz-widget.yaml": """
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: w
        """})
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertIn("zz-widget.yaml:1: the server has no kind Widget in apiVersion example.com/v1", p.stderr)
        self.assertEqual(self.writes(), [])

    def test_crd_and_its_objects_in_one_apply(self):
        write_tree(self.dir, {"crd.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions:
              - name: v1
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: w
            spec:
              size: 3
        """})
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created", p.stdout)
        self.assertIn("widget.example.com/w created", p.stdout)
        self.assertEqual(self.fk.obj("widgets", "demo", "w")["spec"]["size"], 3)
        out = json.loads(self.kubectl("get", "widgets", "-n", "demo", "-o", "json").stdout)
        self.assertEqual([i["metadata"]["name"] for i in out["items"]], ["w"])

    def test_immutable_change_recreates(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        uid = self.fk.obj("deployments", "demo", "web")["metadata"]["uid"]
        with open(os.path.join(self.dir, "_helpers.tpl"), "w") as f:
            f.write('{{- define "web.labels" }}app: web2{{ end }}\n')
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("deployment.apps/web: recreating it", p.stdout)
        self.assertIn("field is immutable", p.stdout)
        self.assertIn("deployment.apps/web recreated", p.stdout)
        dep = self.fk.obj("deployments", "demo", "web")
        self.assertNotEqual(dep["metadata"]["uid"], uid)
        self.assertEqual(dep["spec"]["selector"]["matchLabels"]["app"], "web2")

    def test_service_cluster_ip_change_recreates(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        with open(os.path.join(self.dir, "web.yaml")) as f:
            text = f.read()
        write_tree(self.dir, {"web.yaml": text.replace(
            "  selector:\n    app: web\n", "  clusterIP: 10.96.99.99\n  selector:\n    app: web\n")})
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("service/web recreated", p.stdout)
        self.assertEqual(self.fk.obj("services", "demo", "web")["spec"]["clusterIP"], "10.96.99.99")

    def test_dry_run_changes_nothing(self):
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--dry-run")
        self.assertIn("namespace/demo created (dry run)", p.stdout)
        self.assertIn("deployment.apps/web created (dry run)", p.stdout)
        self.assertIsNone(self.fk.obj("namespaces", "", "demo"))
        self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        before = self.rvs()
        nwrites = len(self.writes())
        os.remove(os.path.join(self.dir, "web.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--dry-run", "-v", "replicas=9")
        self.assertIn("deployment.apps/web pruned (dry run)", p.stdout)
        self.assertEqual(before, self.rvs())
        self.assertGreater(len(self.writes()), nwrites)
        for r in self.writes()[nwrites:]:
            if r["method"] in ("PATCH", "DELETE"):
                self.assertEqual(r["query"].get("dryRun"), "All", r)

    def test_diff(self):
        self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        self.kubectl("create", "configmap", "foreign", "-n", "demo")
        before = self.rvs()
        os.remove(os.path.join(self.dir, "worker.yaml"))
        p = self.appdeploy("diff", self.dir, "-n", "demo", "-v", "replicas=4", expect=1)  # 1: changes
        self.assertEqual(before, self.rvs())
        self.assertIn("--- live/deployment.apps/web", p.stdout)
        self.assertIn("+++ rendered/deployment.apps/web", p.stdout)
        self.assertRegex(p.stdout, r'\n-  replicas: 2\n\+  replicas: 4\n')
        self.assertIn("# cronjob.batch/cleanup would be pruned", p.stdout)
        self.assertIn("# unmanaged: configmap/foreign", p.stdout)
        self.assertNotIn("web-config", p.stdout)  # unchanged objects print nothing
        self.assertIn("2 objects would change", p.stderr)

    def test_diff_before_first_apply(self):
        p = self.appdeploy("diff", self.dir, "-n", "fresh", expect=1)
        self.assertIn("--- live/(absent)\n+++ rendered/deployment.apps/web", p.stdout)
        self.assertIn("+kind: Deployment", p.stdout)
        self.assertIn("8 objects would change", p.stderr)
        self.assertEqual(self.writes(), [r for r in self.writes() if r["query"].get("dryRun") == "All"])
        self.assertIsNone(self.fk.obj("namespaces", "", "fresh"))

    def test_image_pull_secrets_merge(self):
        self.kubectl("create", "namespace", "demo")
        self.kubectl("patch", "serviceaccount", "default", "-n", "demo", "--type=merge", "-p",
                     '{"imagePullSecrets":[{"name":"existing"}]}')
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-i", "regcred", "-i", "existing")
        self.assertIn("serviceaccount/default imagePullSecrets merged", p.stdout)
        sa = self.fk.obj("serviceaccounts", "demo", "default")
        self.assertEqual(sa["imagePullSecrets"], [{"name": "existing"}, {"name": "regcred"}])
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-i", "regcred")
        self.assertIn("imagePullSecrets unchanged", p.stdout)

    def test_wait_follows_rollout(self):
        self.fk.store.rollout_delay = 1.0
        t0 = time.monotonic()
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        self.assertGreater(time.monotonic() - t0, 0.9)
        self.assertIn("deployment.apps/web: 0/2 updated, 0/2 available", p.stdout)
        self.assertIn("deployment.apps/web: 2/2 updated, 2/2 available", p.stdout)
        self.assertIn("deployment.apps/web rolled out", p.stdout)

    def test_wait_reports_failed_rollout(self):
        with open(os.path.join(self.dir, "web.yaml")) as f:
            text = f.read()
        text = text.replace("  labels:\n    {{ template \"web.labels\" }}\nspec:",
                            "  labels:\n    {{ template \"web.labels\" }}\n  annotations:\n"
                            "    fakekube.sourcemode.dev/fail-rollout: \"true\"\nspec:", 1)
        with open(os.path.join(self.dir, "web.yaml"), "w") as f:
            f.write(text)
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--wait", expect=1)
        self.assertIn("rollout failed", p.stderr)
        self.assertIn("has timed out progressing", p.stderr)

    def test_wait_timeout(self):
        self.fk.store.rollout_delay = 30
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--wait", "--timeout", "1", expect=1)
        self.assertIn("not rolled out after 1s", p.stderr)


class KubeAppdeployCompat(KubeTest):
    def test_namespace_from_variables_and_context(self):
        with open(os.path.join(self.dir, "variables.yaml"), "a") as f:
            f.write("namespace: fromvars\n")
        self.appdeploy("apply", self.dir)
        self.assertIsNotNone(self.fk.obj("configmaps", "fromvars", "web-config"))
        self.appdeploy("apply", self.dir, "-n", "fromflag")
        self.assertIsNotNone(self.fk.obj("configmaps", "fromflag", "web-config"))

    def test_wrong_namespace_in_manifest(self):
        write_tree(self.dir, {"zz.yaml": """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: x
              namespace: elsewhere
        """})
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertIn('zz.yaml:1: configmap/x is in namespace "elsewhere" but this sync targets namespace "demo"',
                      p.stderr)


class ServerErrors(KubeTest):
    def fault(self, status, method="PATCH", count=99, path="deployments", message=None):
        self.fk.faults.append({"method": method, "path": path, "status": status, "count": count,
                               "retry_after": 0, "message": message})

    def test_retry_on_429_and_500(self):
        self.fault(429, count=2)
        self.fault(500, path="configmaps", count=1)
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("deployment.apps/web created", p.stdout)
        self.assertIn("configmap/web-config created", p.stdout)
        patches = [r for r in self.fk.requests if r["method"] == "PATCH" and r["path"].endswith("/deployments/web")]
        self.assertEqual(len(patches), 3)

    def test_persistent_500(self):
        self.fault(500, message="etcd is on fire")
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertIn("deployment.apps/web: etcd is on fire (HTTP 500 InternalError)", p.stderr)
        patches = [r for r in self.fk.requests if r["method"] == "PATCH" and r["path"].endswith("/deployments/web")]
        self.assertEqual(len(patches), 5)

    def test_status_messages(self):
        cases = {404: ('deployments.apps "web" not found', "HTTP 404 NotFound"),
                 409: ("Operation cannot be fulfilled", "HTTP 409 Conflict"),
                 422: ('Deployment "web" is invalid: spec.replicas: must be >= 0', "HTTP 422 Invalid")}
        for code, (msg, tail) in cases.items():
            self.fk.faults.clear()
            self.fault(code, message=msg)
            p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
            self.assertIn("%s (%s)" % (msg, tail), p.stderr)
            self.assertIn("nothing was pruned", p.stderr)

    def test_unauthorized(self):
        kc = self.fk.kubeconfig(os.path.join(self.tmp, "bad"), token="wrong-token")
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--kubeconfig", kc, expect=1)
        self.assertIn("the server did not accept our credentials", p.stderr)
        self.assertIn("HTTP 401 Unauthorized", p.stderr)
        self.assertNotIn("wrong-token", p.stderr + p.stdout)

    def test_forbidden(self):
        kc = self.fk.kubeconfig(os.path.join(self.tmp, "viewer"), token="viewer-token")
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--kubeconfig", kc, expect=1)
        self.assertIn('User "viewer" cannot post', p.stderr)
        self.assertIn("HTTP 403 Forbidden", p.stderr)

    def test_server_down(self):
        self.fk.stop()
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertIn("cannot reach https://127.0.0.1:", p.stderr)


class Pagination(KubeTest):
    page_cap = 2

    def test_prune_across_pages(self):
        files = {}
        for i in range(9):
            files["cm%d.yaml" % i] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm%d\n" % i
        write_tree(self.dir, files)
        self.appdeploy("apply", self.dir, "-n", "demo", env={"APPDEPLOY_PAGE_SIZE": "3"})
        for i in range(0, 9, 2):
            os.remove(os.path.join(self.dir, "cm%d.yaml" % i))
        p = self.appdeploy("apply", self.dir, "-n", "demo", env={"APPDEPLOY_PAGE_SIZE": "3"})
        self.assertEqual(sorted(re.findall(r"configmap/(cm\d) pruned", p.stdout)), ["cm0", "cm2", "cm4", "cm6", "cm8"])
        conts = [r for r in self.fk.requests if r["path"].endswith("/configmaps") and r["query"].get("continue")]
        self.assertGreater(len(conts), 3)
        for r in self.fk.requests:
            if r["path"].endswith("/configmaps") and r["method"] == "GET":
                self.assertEqual(r["query"].get("limit"), "3")


class Secrets(KubeTest):
    rollout_delay = 1.5

    def test_token_never_in_argv_or_output(self):
        proc = subprocess.Popen([APPDEPLOY, "apply", self.dir, "-n", "demo", "--wait", "--kubeconfig",
                                 self.kubeconfig], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        while proc.poll() is None:
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        with open("/proc/%s/cmdline" % pid, "rb") as f:
                            seen.append(f.read().decode(errors="replace"))
                    except OSError:
                        pass
            time.sleep(0.1)
        out, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertTrue(any("appdeploy" in s for s in seen))
        self.assertFalse([s for s in seen if TOKEN in s])
        self.assertNotIn(TOKEN, out + err)
        # also not with debug logging on
        p = self.appdeploy("apply", self.dir, "-n", "demo", env={"APPDEPLOY_DEBUG": "1"})
        self.assertNotIn(TOKEN, p.stdout + p.stderr)
        self.assertNotIn("hunter2", p.stdout + p.stderr)


class Kubectl(KubeTest):
    """kubectl, a real client, against the fake: the evidence that the fake is faithful."""

    def test_kubectl_sees_what_appdeploy_applied(self):
        self.appdeploy("apply", self.dir, "-n", "demo", "--wait")
        out = json.loads(self.kubectl("get", "deploy", "-n", "demo", "-o", "json").stdout)
        self.assertEqual([d["metadata"]["name"] for d in out["items"]], ["web"])
        d = out["items"][0]
        self.assertEqual(d["metadata"]["labels"]["app.kubernetes.io/managed-by"], "appdeploy")
        self.assertEqual(d["status"]["availableReplicas"], 2)
        sel = self.kubectl("get", "cm,secret,deploy,svc", "-n", "demo", "-l",
                           "appdeploy.sourcemode.dev/set=app", "-o", "name").stdout.split()
        self.assertEqual(sorted(sel), sorted(["configmap/web-config", "secret/web-secret", "deployment.apps/web",
                                              "service/web"]))
        allout = self.kubectl("get", "all", "-n", "demo").stdout
        for what in ("deployment.apps/web", "service/web", "cronjob.batch/cleanup", "replicaset.apps/web-"):
            self.assertIn(what, allout)
        self.assertIn("pod/web-", allout)
        logs = self.kubectl("logs", "-n", "demo", self.fk.objects("pods", "demo")[0]["metadata"]["name"]).stdout
        self.assertIn("fakekube log line", logs)

    def test_kubectl_server_side_apply_and_conflicts(self):
        manifest = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: api:1}]
"""
        self.fk.store.rollout_delay = 0
        p = self.kubectl("apply", "--server-side", "-f", "-", stdin=manifest)
        self.assertIn("deployment.apps/api serverside-applied", p.stdout)
        self.fk.store.tick()
        rv = self.fk.obj("deployments", "default", "api")["metadata"]["resourceVersion"]
        self.kubectl("apply", "--server-side", "-f", "-", stdin=manifest)
        self.assertEqual(self.fk.obj("deployments", "default", "api")["metadata"]["resourceVersion"], rv)
        # another manager changing the same field conflicts unless forced
        p = self.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                         stdin=manifest.replace("replicas: 1", "replicas: 3"), expect=1)
        self.assertIn("conflict", p.stderr.lower())
        self.assertIn(".spec.replicas", p.stderr)
        self.kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-",
                     stdin=manifest.replace("replicas: 1", "replicas: 3"))
        self.assertEqual(self.fk.obj("deployments", "default", "api")["spec"]["replicas"], 3)
        mf = json.loads(self.kubectl("get", "deploy", "api", "-o", "json", "--show-managed-fields").stdout)
        managers = {m["manager"] for m in mf["metadata"]["managedFields"]}
        self.assertEqual(managers, {"kubectl", "other"})
        manifest = manifest.replace("replicas: 1", "replicas: 3")  # co-own the field now
        # dropping a field from the applied config removes it
        self.kubectl("apply", "--server-side", "-f", "-",
                     stdin=manifest.replace("      containers", "      hostname: h\n      containers"))
        self.assertEqual(self.fk.obj("deployments", "default", "api")["spec"]["template"]["spec"]["hostname"], "h")
        self.kubectl("apply", "--server-side", "-f", "-", stdin=manifest)
        self.assertNotIn("hostname", self.fk.obj("deployments", "default", "api")["spec"]["template"]["spec"])
        # immutable selector through kubectl too
        p = self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                         stdin=manifest.replace("app: api}", "app: api2}"), expect=1)
        self.assertIn("field is immutable", p.stderr)
        p = self.kubectl("delete", "deploy", "api")
        self.assertIn('deployment.apps "api" deleted', p.stdout)
        self.assertIsNone(self.fk.obj("deployments", "default", "api"))
        p = self.kubectl("get", "deploy", "api", expect=1)
        self.assertIn('deployments.apps "api" not found', p.stderr)

    def test_kubectl_dry_run_and_selectors(self):
        self.kubectl("create", "configmap", "a", "--dry-run=server")
        self.assertIsNone(self.fk.obj("configmaps", "default", "a"))
        self.kubectl("create", "configmap", "dup")
        p = self.kubectl("create", "configmap", "dup", expect=1)
        self.assertIn('configmaps "dup" already exists', p.stderr)
        self.kubectl("delete", "configmap", "dup")
        for name, tier in (("a", "web"), ("b", "db"), ("c", None)):
            self.kubectl("create", "configmap", name)
            if tier:
                self.kubectl("label", "configmap", name, "tier=" + tier)
        def names(sel):
            return sorted(n.split("/")[1] for n in self.kubectl("get", "cm", "-l", sel, "-o", "name").stdout.split())
        self.assertEqual(names("tier=web"), ["a"])
        self.assertEqual(names("tier!=web"), ["b", "c", "kube-root-ca.crt"])
        self.assertEqual(names("tier in (web,db)"), ["a", "b"])
        self.assertEqual(names("tier notin (web)"), ["b", "c", "kube-root-ca.crt"])
        self.assertEqual(names("tier"), ["a", "b"])
        self.assertEqual(names("!tier"), ["c", "kube-root-ca.crt"])
        out = json.loads(self.kubectl("get", "cm", "--chunk-size=1", "-o", "json").stdout)
        self.assertEqual(len(out["items"]), 4)


if __name__ == "__main__":
    unittest.main()
