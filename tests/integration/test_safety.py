"""test_safety.py — #10: appdeploy never deletes or takes over what it does not own (one test per finding of the issue, plus inventory, adoption and take-over)."""
import base64
import json
import os
import re
import shutil
import subprocess
import unittest

from kubeharness import KubeTest, write_tree, APPDEPLOY

SEL = "app.kubernetes.io/managed-by=appdeploy"


def cm(name, **data):
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n" % name
    if data:
        body += "data:\n" + "".join("  %s: %s\n" % kv for kv in data.items())
    return body


class Safety(KubeTest):
    def folder(self, rel, files):
        d = os.path.join(self.tmp, rel)
        write_tree(d, files)
        return d

    def deletes(self):
        return [r for r in self.fk.requests if r["method"] == "DELETE"]

    def labels(self, plural, ns, name):
        o = self.fk.obj(plural, ns, name)
        self.assertIsNotNone(o, "%s/%s is gone" % (plural, name))
        return o["metadata"].get("labels", {})

    def inventory(self, ns, set_name):
        return self.fk.obj("configmaps", ns, "appdeploy-set-" + set_name)

    # 1. an empty render must not prune the set that is really called "default"
    def test_1_empty_render_is_refused(self):
        other = self.folder("default", {"a.yaml": cm("other-a"), "b.yaml": cm("other-b")})
        self.appdeploy("apply", other, "-n", "shared")
        self.assertEqual(self.labels("configmaps", "shared", "other-a")["appdeploy.sourcemode.dev/set"], "default")
        off = self.folder("feature", {
            "variables.yaml": "enabled: false\n",
            "one.yaml": "{{ if .Variables.enabled }}\n" + cm("feature-one") + "{{ end }}\n",
            "sub/two.yaml": "{{- if .Variables.enabled }}\n" + cm("feature-two") + "{{- end }}\n",
            "_helpers.tpl": "{{ define \"x\" }}{{ end }}\n"})
        n = len(self.writes())
        p = self.appdeploy("apply", off, "-n", "shared", expect=1)
        self.assertIn("every template of %s rendered empty (one.yaml, sub/two.yaml)" % off, p.stderr)
        self.assertIn("--allow-empty", p.stderr)
        self.assertEqual(self.writes()[n:], [])
        for name in ("other-a", "other-b"):
            self.assertEqual(self.labels("configmaps", "shared", name)["appdeploy.sourcemode.dev/set"], "default")
        # diff agrees: an error (2), not "no change"
        self.appdeploy("diff", off, "-n", "shared", expect=2)
        # --allow-empty applies the empty render of set "feature" (which owns nothing): "default" keeps its objects
        self.appdeploy("apply", off, "-n", "shared", "--allow-empty")
        self.assertEqual(self.deletes(), [])
        self.assertIsNotNone(self.fk.obj("configmaps", "shared", "other-a"))
        self.assertIsNotNone(self.inventory("shared", "feature"))

    def test_1b_allow_empty_prunes_only_its_own_set(self):
        d = self.folder("svc", {"variables.yaml": "enabled: true\n",
                                "a.yaml": "{{ if .Variables.enabled }}\n" + cm("svc-a") + "{{ end }}\n"})
        other = self.folder("default", {"a.yaml": cm("other-a")})
        self.appdeploy("apply", other, "-n", "shared")
        self.appdeploy("apply", d, "-n", "shared")
        p = self.appdeploy("apply", d, "-n", "shared", "-v", "enabled=false", "--allow-empty")
        self.assertIn("configmap/svc-a pruned", p.stdout)
        self.assertEqual(p.stdout.count("pruned"), 1, p.stdout)
        self.assertIsNone(self.fk.obj("configmaps", "shared", "svc-a"))
        self.assertIsNotNone(self.fk.obj("configmaps", "shared", "other-a"))

    # 2. two folders with the same base name are two different sets
    def test_2_same_base_name_does_not_prune_the_other_folder(self):
        a = self.folder("team-a/app", {"x.yaml": cm("team-a-x")})
        b = self.folder("team-b/app", {"y.yaml": cm("team-b-y")})
        self.appdeploy("apply", a, "-n", "shared")
        n = len(self.writes())
        p = self.appdeploy("apply", b, "-n", "shared", expect=1)
        self.assertIn("set app in namespace shared was applied from path:%s" % os.path.realpath(a), p.stderr)
        self.assertIn("--set NAME", p.stderr)
        self.assertIn("--take-over", p.stderr)
        self.assertEqual(self.writes()[n:], [])
        self.assertEqual(self.labels("configmaps", "shared", "team-a-x")["appdeploy.sourcemode.dev/set"], "app")
        self.assertIsNone(self.fk.obj("configmaps", "shared", "team-b-y"))
        # diff says the same, as an error
        d = self.appdeploy("diff", b, "-n", "shared", expect=2)
        self.assertIn("apply would refuse it", d.stderr)

    def test_2b_two_sets_stay_independent_over_repeated_applies(self):
        a = self.folder("team-a/app", {"x.yaml": cm("team-a-x"), "x2.yaml": cm("team-a-x2")})
        b = self.folder("team-b/app", {"y.yaml": cm("team-b-y"), "y2.yaml": cm("team-b-y2")})
        for _ in range(2):
            self.appdeploy("apply", a, "-n", "shared", "--set", "app-a")
            self.appdeploy("apply", b, "-n", "shared", "--set", "app-b")
        os.remove(os.path.join(a, "x2.yaml"))
        p = self.appdeploy("apply", a, "-n", "shared", "--set", "app-a")
        self.assertEqual(re.findall(r"(\S+) pruned", p.stdout), ["configmap/team-a-x2"])
        p = self.appdeploy("apply", b, "-n", "shared", "--set", "app-b")
        self.assertNotIn("pruned", p.stdout)
        for name, s in (("team-a-x", "app-a"), ("team-b-y", "app-b"), ("team-b-y2", "app-b")):
            self.assertEqual(self.labels("configmaps", "shared", name)["appdeploy.sourcemode.dev/set"], s)
        self.assertIsNone(self.fk.obj("configmaps", "shared", "team-a-x2"))

    def test_2c_same_folder_of_one_git_repository_from_two_clones(self):
        git = shutil.which("git")
        self.assertIsNotNone(git, "git is not installed (scripts/deps.sh installs it)")
        for clone in ("alice", "bob"):
            root = os.path.join(self.tmp, clone, "repo")
            write_tree(root, {"deploy/x.yaml": cm("x", who=clone)})
            subprocess.run([git, "init", "-q", root], check=True)
            subprocess.run([git, "-C", root, "remote", "add", "origin",
                            "https://%s:t0ken@git.example/org/repo.git" % clone], check=True)
        p1 = self.appdeploy("apply", os.path.join(self.tmp, "alice", "repo", "deploy"), "-n", "shared")
        p2 = self.appdeploy("apply", os.path.join(self.tmp, "bob", "repo", "deploy"), "-n", "shared")
        self.assertEqual(self.fk.obj("configmaps", "shared", "x")["data"]["who"], "bob")
        inv = self.inventory("shared", "deploy")
        self.assertEqual(inv["data"]["origin"], "git:https://git.example/org/repo//deploy")
        self.assertNotIn("t0ken", json.dumps(inv) + p1.stdout + p2.stdout + p1.stderr + p2.stderr)

    # 3. foreign objects are never taken over silently
    def test_3_foreign_objects_are_not_adopted(self):
        self.kubectl("create", "namespace", "demo")
        self.kubectl("create", "configmap", "web-config", "-n", "demo", "--from-literal=mine=yes")
        self.kubectl("create", "serviceaccount", "web", "-n", "demo")
        self.kubectl("label", "serviceaccount", "web", "-n", "demo", "app.kubernetes.io/managed-by=appdeploy",
                     "appdeploy.sourcemode.dev/set=other")
        n = len(self.writes())
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertRegex(p.stderr, r"00-config\.yaml:\d+: configmap/web-config already exists and belongs to field "
                                   r"manager kubectl-create, not to set app")
        self.assertRegex(p.stderr, r"sa\.yaml:\d+: serviceaccount/web already exists and belongs to appdeploy set "
                                   r"\"other\", not to set app")
        self.assertIn("2 objects belong to someone else: nothing was applied or pruned", p.stderr)
        self.assertEqual(self.writes()[n:], [])
        self.assertEqual(self.labels("configmaps", "demo", "web-config"), {})
        self.assertEqual(self.labels("serviceaccounts", "demo", "web")["appdeploy.sourcemode.dev/set"], "other")
        # --adopt takes them over and says so, per object
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--adopt")
        self.assertIn("configmap/web-config adopted from field manager kubectl-create into set app (--adopt)", p.stdout)
        self.assertIn('serviceaccount/web adopted from appdeploy set "other" into set app (--adopt)', p.stdout)
        self.assertEqual(self.labels("configmaps", "demo", "web-config")["appdeploy.sourcemode.dev/set"], "app")
        # objects the set made before keep working without --adopt
        self.appdeploy("apply", self.dir, "-n", "demo")

    # 4. recreate only what is safe to recreate; never a PVC
    def test_4_pvc_is_never_recreated(self):
        pvc = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: data
            spec:
              storageClassName: {{ .Variables.class }}
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
        """
        d = self.folder("db", {"variables.yaml": "class: fast\n", "pvc.yaml": pvc})
        self.appdeploy("apply", d, "-n", "demo")
        uid = self.fk.obj("persistentvolumeclaims", "demo", "data")["metadata"]["uid"]
        p = self.appdeploy("apply", d, "-n", "demo", "-v", "class=slow", expect=1)
        self.assertIn('PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation', p.stderr)
        self.assertIn("appdeploy does not delete a PersistentVolumeClaim", p.stderr)
        self.assertIn("appdeploy.sourcemode.dev/recreate", p.stderr)
        self.assertEqual(self.deletes(), [])
        live = self.fk.obj("persistentvolumeclaims", "demo", "data")
        self.assertEqual(live["metadata"]["uid"], uid)
        self.assertEqual(live["spec"]["storageClassName"], "fast")
        # a bigger request is an ordinary update
        self.appdeploy("apply", d, "-n", "demo")
        # diff tells the same before anything happens
        q = self.appdeploy("diff", d, "-n", "demo", "-v", "class=slow", expect=1)
        self.assertIn("apply would fail", q.stdout)

    def test_4b_recreate_annotation_and_statefulset(self):
        sts = """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: db
            spec:
              serviceName: {{ .Variables.svc }}
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec: {containers: [{name: db, image: postgres}]}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: data-db-0
              annotations:
                appdeploy.sourcemode.dev/recreate: "{{ .Variables.recreate }}"
            spec:
              storageClassName: {{ .Variables.class }}
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
        """
        d = self.folder("db", {"variables.yaml": "svc: db\nclass: fast\nrecreate: \"false\"\n", "all.yaml": sts})
        self.appdeploy("apply", d, "-n", "demo")
        sts_uid = self.fk.obj("statefulsets", "demo", "db")["metadata"]["uid"]
        pvc_uid = self.fk.obj("persistentvolumeclaims", "demo", "data-db-0")["metadata"]["uid"]
        # a StatefulSet is safe to recreate: its claims stay
        p = self.appdeploy("apply", d, "-n", "demo", "-v", "svc=db-headless")
        self.assertIn("statefulset.apps/db: recreating it, the server refuses to change it in place: "
                      'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields '
                      "other than", p.stdout)
        self.assertIn("statefulset.apps/db recreated", p.stdout)
        self.assertNotEqual(self.fk.obj("statefulsets", "demo", "db")["metadata"]["uid"], sts_uid)
        self.assertEqual(self.fk.obj("persistentvolumeclaims", "demo", "data-db-0")["metadata"]["uid"], pvc_uid)
        # the annotation allows what is otherwise refused
        p = self.appdeploy("apply", d, "-n", "demo", "-v", "svc=db-headless", "-v", "class=slow", "-v",
                           "recreate=true")
        self.assertIn("persistentvolumeclaim/data-db-0 recreated", p.stdout)
        self.assertEqual(self.fk.obj("persistentvolumeclaims", "demo", "data-db-0")["spec"]["storageClassName"], "slow")

    def test_4c_recreate_checks_with_a_dry_run_first(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        uid = self.fk.obj("deployments", "demo", "web")["metadata"]["uid"]
        # a new selector (immutable) that the template's labels do not match: the new object would be
        # refused too, so the old one must stay
        with open(os.path.join(self.dir, "web.yaml")) as f:
            text = f.read()
        text = text.replace('matchLabels:\n      {{ template "web.labels" }}', "matchLabels:\n      app: web2")
        self.assertIn("app: web2", text)
        with open(os.path.join(self.dir, "web.yaml"), "w") as f:
            f.write(text)
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        # one 422 carries both field errors
        self.assertIn('Deployment.apps "web" is invalid: [spec.template.metadata.labels: Invalid value: '
                      '{"app": "web"}: `selector` does not match template `labels`, spec.selector: Invalid value: '
                      '{"matchLabels": {"app": "web2"}}: field is immutable]', p.stderr)
        self.assertIn("would not accept it as a new object either", p.stderr)
        self.assertEqual(self.deletes(), [])
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["metadata"]["uid"], uid)
        probes = [r for r in self.fk.requests if r["method"] == "POST" and r["path"].endswith("/deployments")]
        self.assertEqual(len(probes), 1)
        self.assertEqual(probes[0]["query"].get("dryRun"), "All")

    # 5. a kind the inventory has that cannot be discovered: reported, nothing of it pruned
    def test_5_broken_api_group_is_reported_not_skipped(self):
        crd = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions: [{name: v1, served: true, storage: true}]
        """
        widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"
        d = self.folder("widgets", {"crd.yaml": crd, "w.yaml": widget, "c.yaml": cm("plain")})
        self.appdeploy("apply", d, "-n", "demo")
        os.remove(os.path.join(d, "w.yaml"))
        self.fk.broken_groups = {"example.com"}
        p = self.appdeploy("apply", d, "-n", "demo", expect=1)
        # the kind is missing from discovery (or, with a discovery that still lists it, its list fails)
        self.assertRegex(p.stderr, r"cannot prune Widget demo/w1 of set widgets: the server's discovery has no kind "
                                   r"Widget in example\.com/v1|cannot list widgets to prune")
        self.assertIn("503", p.stderr)  # the failing group's answer is shown
        self.assertIsNotNone(self.fk.obj("widgets", "demo", "w1"))
        self.assertEqual(self.deletes(), [])
        q = self.appdeploy("diff", d, "-n", "demo", expect=2)
        self.assertRegex(q.stderr, r"cannot prune Widget demo/w1|cannot list widgets to prune")
        # once the group answers again, the prune happens
        self.fk.broken_groups = set()
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("widget.example.com/w1 pruned", p.stdout)

    def test_5b_unrelated_broken_group_costs_a_warning(self):
        self.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "podmetrics.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "scope": "Namespaced",
                     "names": {"plural": "podmetrics", "singular": "podmetric", "kind": "PodMetric"},
                     "versions": [{"name": "v1beta1", "served": True, "storage": True}]}}))
        self.fk.broken_groups = {"metrics.k8s.io"}
        self.appdeploy("apply", self.dir, "-n", "demo")
        os.remove(os.path.join(self.dir, "worker.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("cronjob.batch/cleanup pruned", p.stdout)
        self.assertIn("metrics.k8s.io", p.stderr)

    # 6. cluster-scoped objects are owned, compared and pruned
    def test_6_cluster_scoped_objects(self):
        role = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: {{ .Variables.name }}
            rules:
            - apiGroups: [""]
              resources: ["pods"]
              verbs: ["get"]
        """
        d = self.folder("cluster", {"variables.yaml": "name: app-reader\n", "role.yaml": role, "c.yaml": cm("c")})
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("clusterrole.rbac.authorization.k8s.io/app-reader created", p.stdout)
        rv = self.fk.obj("clusterroles", "", "app-reader")["metadata"]["resourceVersion"]
        p = self.appdeploy("apply", d, "-n", "demo")
        self.assertIn("clusterrole.rbac.authorization.k8s.io/app-reader unchanged", p.stdout)
        self.assertNotIn("configured", p.stdout)
        self.assertEqual(self.fk.obj("clusterroles", "", "app-reader")["metadata"]["resourceVersion"], rv)
        inv = self.inventory("demo", "cluster")["data"]["objects"]
        self.assertRegex(inv, r"rbac.authorization.k8s.io/v1 ClusterRole - app-reader [0-9a-f-]{36}\n")
        # renamed: the old one is pruned
        p = self.appdeploy("apply", d, "-n", "demo", "-v", "name=app-viewer")
        self.assertIn("clusterrole.rbac.authorization.k8s.io/app-reader pruned", p.stdout)
        self.assertIsNone(self.fk.obj("clusterroles", "", "app-reader"))
        # a foreign cluster-scoped object is not taken over
        self.kubectl("create", "clusterrole", "someone-elses", "--verb=get", "--resource=pods")
        p = self.appdeploy("apply", d, "-n", "demo", "-v", "name=someone-elses", expect=1)
        self.assertIn("clusterrole.rbac.authorization.k8s.io/someone-elses already exists and belongs to", p.stderr)
        self.assertIsNotNone(self.fk.obj("clusterroles", "", "app-viewer"))

    # 7. Secret values never appear in diff or apply output
    def test_7_secret_values_are_redacted(self):
        q = self.appdeploy("diff", self.dir, "-n", "demo", expect=1)
        self.appdeploy("apply", self.dir, "-n", "demo")
        with open(os.path.join(self.dir, "00-config.yaml")) as f:
            text = f.read()
        with open(os.path.join(self.dir, "00-config.yaml"), "w") as f:
            f.write(text.replace("password: hunter2", "password: correcthorse\n  token: tok-value-1"))
        p = self.appdeploy("diff", self.dir, "-n", "demo", expect=1)
        self.assertIn("--- live/secret/web-secret", p.stdout)
        self.assertIn("-  password: '*** (before)'", p.stdout)
        self.assertIn("+  password: '*** (after)'", p.stdout)
        self.assertIn("+  token: '***'", p.stdout)
        # pruned Secrets are masked too
        os.remove(os.path.join(self.dir, "00-config.yaml"))
        r = self.appdeploy("diff", self.dir, "-n", "demo", expect=1)
        self.assertIn("# secret/web-secret would be pruned", r.stdout)
        self.assertIn("-  password: '***'", r.stdout)
        # a server error quoting a value is masked
        write_tree(self.dir, {"00-config.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n"
                                                "stringData:\n  password: correcthorse\n"})
        self.fk.reject["web-secret"] = 'Invalid value: "correcthorse": too guessable'
        s = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertIn('Invalid value: "***": too guessable', s.stderr)
        for out in (q, p, r, s):
            for secret in ("hunter2", "correcthorse", "tok-value-1"):
                for form in (secret, base64.b64encode(secret.encode()).decode()):
                    self.assertNotIn(form, out.stdout + out.stderr)

    # 8. every object is validated before the first write, also with a CRD in the render
    def test_8_typo_kind_next_to_a_crd_applies_nothing(self):
        write_tree(self.dir, {"crd.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions: [{name: v1, served: true, storage: true}]
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: w
        """, "typo.yaml": "apiVersion: apps/v2\nkind: Deployment\nmetadata:\n  name: typo\n"})
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertEqual(self.writes(), [])
        self.assertEqual(p.stderr.count("the server has no kind Deployment in apiVersion apps/v2"), 1, p.stderr)
        self.assertIn("typo.yaml:1:", p.stderr)

    # 9. a Terminating namespace fails once, before anything is written
    def test_9_terminating_namespace(self):
        self.kubectl("create", "namespace", "demo")
        self.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "held", "namespace": "demo", "finalizers": ["example.com/hold"]}}))
        self.kubectl("delete", "namespace", "demo", "--wait=false")
        self.assertEqual(self.fk.obj("namespaces", "", "demo")["status"]["phase"], "Terminating")
        n = len(self.writes())
        p = self.appdeploy("apply", self.dir, "-n", "demo", expect=1)
        self.assertEqual(p.stderr.count("namespace demo is Terminating"), 1, p.stderr)
        self.assertNotIn("403", p.stderr)
        self.assertEqual(self.writes()[n:], [])
        # the fake answers as a server does: creating in it is forbidden, releasing the finalizer ends it
        q = self.kubectl("create", "configmap", "x", "-n", "demo", expect=1)
        self.assertIn("because it is being terminated", q.stderr)
        self.kubectl("patch", "configmap", "held", "-n", "demo", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        self.assertIsNone(self.fk.obj("configmaps", "demo", "held"))
        self.assertIsNone(self.fk.obj("namespaces", "", "demo"))
        self.appdeploy("apply", self.dir, "-n", "demo")

    # 10. diff's exit status; render -o removes only its own stale files
    def test_10_diff_exit_status(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        self.appdeploy("diff", self.dir, "-n", "demo", "-v", "replicas=2", expect=None)
        self.appdeploy("apply", self.dir, "-n", "demo")
        # the Secret's stringData cannot be compared on the live side, but its dry run equals the live object
        p = self.appdeploy("diff", self.dir, "-n", "demo", expect=0)
        self.assertIn("0 objects would change", p.stderr)
        self.appdeploy("diff", self.dir, "-n", "demo", "-v", "replicas=5", expect=1)
        write_tree(self.dir, {"bad.yaml": "apiVersion: nope/v1\nkind: Nope\nmetadata:\n  name: x\n"})
        self.appdeploy("diff", self.dir, "-n", "demo", expect=2)
        os.remove(os.path.join(self.dir, "bad.yaml"))
        self.appdeploy("diff", self.dir, "-n", "demo", "--no-such-flag", expect=2)

    def test_10b_render_output_dir_removes_stale_files_only(self):
        out = os.path.join(self.tmp, "out")
        self.appdeploy("render", self.dir, "-n", "demo", "-o", out)
        before = sorted(os.listdir(out))
        self.assertIn("005-deployment-web.yaml", before)
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("mine\n")
        with open(os.path.join(out, "999-configmap-handmade.yaml"), "w") as f:
            f.write("mine too\n")
        os.remove(os.path.join(self.dir, "web.yaml"))
        self.appdeploy("render", self.dir, "-n", "demo", "-o", out)
        after = sorted(os.listdir(out))
        self.assertNotIn("005-deployment-web.yaml", after)
        self.assertNotIn("006-service-web.yaml", after)
        self.assertIn("notes.txt", after)
        self.assertIn("999-configmap-handmade.yaml", after)
        self.assertIn("005-cronjob-cleanup.yaml", after)
        self.assertEqual(len([f for f in after if re.match(r"\d{3}-", f)]), 7)

    # extra: a renamed object is pruned after the apply
    def test_renamed_object_is_pruned(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        with open(os.path.join(self.dir, "00-config.yaml")) as f:
            text = f.read()
        with open(os.path.join(self.dir, "00-config.yaml"), "w") as f:
            f.write(text.replace("name: web-config", "name: web-settings"))
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertLess(p.stdout.index("configmap/web-settings created"), p.stdout.index("configmap/web-config pruned"))
        self.assertIsNone(self.fk.obj("configmaps", "demo", "web-config"))
        self.assertNotIn("web-config ", self.inventory("demo", "app")["data"]["objects"])
        self.assertIn(" web-settings ", self.inventory("demo", "app")["data"]["objects"])

    # extra: an object deleted by hand leaves the inventory without a prune
    def test_inventory_forgets_objects_gone_by_hand(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        self.kubectl("delete", "cronjob", "cleanup", "-n", "demo")
        os.remove(os.path.join(self.dir, "worker.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertNotIn("pruned", p.stdout)
        self.assertNotIn("CronJob", self.inventory("demo", "app")["data"]["objects"])
        self.assertEqual(len(self.inventory("demo", "app")["data"]["objects"].splitlines()), 7)

    # extra: the namespace itself: rendering it later is fine; dropping it never deletes it
    def test_namespace_object_is_never_pruned(self):
        self.appdeploy("apply", self.dir, "-n", "demo")  # creates namespace demo (no labels)
        write_tree(self.dir, {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"})
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("namespace/demo configured", p.stdout)
        self.assertEqual(self.labels("namespaces", "", "demo")["appdeploy.sourcemode.dev/set"], "app")
        os.remove(os.path.join(self.dir, "ns.yaml"))
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("# namespace/demo not pruned: it is the namespace being applied to", p.stdout)
        self.assertNotIn("pruned\n", p.stdout)
        self.assertIsNotNone(self.fk.obj("namespaces", "", "demo"))
        self.assertIsNotNone(self.fk.obj("deployments", "demo", "web"))
        self.assertNotIn("Namespace", self.inventory("demo", "app")["data"]["objects"])

    # extra: --take-over makes this folder the set's source, and says so
    def test_take_over(self):
        a = self.folder("team-a/app", {"x.yaml": cm("shared-x")})
        b = self.folder("team-b/app", {"x.yaml": cm("shared-x", moved="here"), "y.yaml": cm("b-y")})
        self.appdeploy("apply", a, "-n", "shared")
        p = self.appdeploy("apply", b, "-n", "shared", "--take-over")
        self.assertIn("set app taken over from path:%s (--take-over)" % os.path.realpath(a), p.stdout)
        self.assertEqual(self.fk.obj("configmaps", "shared", "shared-x")["data"], {"moved": "here"})
        self.assertEqual(self.inventory("shared", "app")["data"]["origin"], "path:" + os.path.realpath(b))
        # now the first folder is the stranger
        self.appdeploy("apply", a, "-n", "shared", expect=1)

    # extra: objects of an older appdeploy (labels, no inventory): nothing pruned on the first apply
    def test_no_inventory_from_an_older_version(self):
        self.kubectl("create", "namespace", "demo")
        for name in ("old-one", "web-config"):
            self.kubectl("create", "configmap", name, "-n", "demo")
            self.kubectl("label", "configmap", name, "-n", "demo", SEL, "appdeploy.sourcemode.dev/set=app")
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertIn("configmap/old-one carries the labels of set app but no inventory lists it: left alone", p.stdout)
        self.assertIn("configmap/web-config configured", p.stdout)  # labelled ours: no --adopt needed
        self.assertIn("configmap/appdeploy-set-app created (the inventory of set app)", p.stdout)
        self.assertEqual(self.deletes(), [])
        inv = self.inventory("demo", "app")
        self.assertEqual(inv["data"]["set"], "app")
        self.assertEqual(inv["data"]["origin"], "path:" + os.path.realpath(self.dir))
        self.assertEqual(inv["metadata"]["labels"], {SEL.split("=")[0]: "appdeploy",
                                                     "appdeploy.sourcemode.dev/inventory": "app"})
        listed = [l.split()[3] for l in inv["data"]["objects"].splitlines()]
        self.assertEqual(sorted(listed), ["cleanup", "web", "web", "web", "web", "web", "web-config", "web-secret"])
        # later applies still leave it: only the inventory decides
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertNotIn("pruned", p.stdout)
        self.assertIsNotNone(self.fk.obj("configmaps", "demo", "old-one"))

    # extra: a field another manager owns is said to be taken, or refused under --no-force-conflicts
    def test_field_manager_conflicts(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        self.kubectl("scale", "deployment", "web", "-n", "demo", "--replicas=7")
        p = self.appdeploy("apply", self.dir, "-n", "demo", "--no-force-conflicts", expect=1)
        self.assertRegex(p.stderr, r'web\.yaml:\d+: deployment\.apps/web: \.spec\.replicas is owned by field manager '
                                   r'"kubectl[^"]*": not taking it \(--no-force-conflicts\)')
        self.assertIn("nothing was pruned", p.stderr)
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 7)
        d = self.appdeploy("diff", self.dir, "-n", "demo", "--no-force-conflicts", expect=1)
        self.assertRegex(d.stdout, r'# deployment\.apps/web: apply --no-force-conflicts would stop: Apply failed with 1 '
                                   r'conflict: conflict with "kubectl[^"]*" using apps/v1: \.spec\.replicas')
        self.assertRegex(d.stdout, r"\n-  replicas: 7\n\+  replicas: 2\n")
        p = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertRegex(p.stdout, r'deployment\.apps/web: taking \.spec\.replicas from field manager "kubectl[^"]*"')
        self.assertIn("deployment.apps/web configured", p.stdout)
        self.assertEqual(self.fk.obj("deployments", "demo", "web")["spec"]["replicas"], 2)
        forced = [r for r in self.fk.requests if r["method"] == "PATCH" and r["query"].get("force") == "true"
                  and r["path"].endswith("/deployments/web") and r["query"].get("dryRun") != "All"]
        self.assertEqual(len(forced), 1)

    # the fake (#10): server-side apply merges keyed lists element by element, owned per element
    def test_fake_keyed_lists_are_merged_and_owned_per_element(self):
        self.appdeploy("apply", self.dir, "-n", "demo")
        sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "sidecar", "image": "proxy:1", "env": [{"name": "MODE", "value": "tls"}]}]}}}}
        self.kubectl("apply", "--server-side", "--field-manager=mesh", "-f", "-", stdin=json.dumps(sidecar))
        dep = self.fk.obj("deployments", "demo", "web")
        self.assertEqual([c["name"] for c in dep["spec"]["template"]["spec"]["containers"]], ["web", "sidecar"])
        mf = {m["manager"]: m["fieldsV1"] for m in dep["metadata"]["managedFields"]}
        mesh = mf["mesh"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        self.assertEqual(list(mesh), ['k:{"name":"sidecar"}'])
        self.assertIn('k:{"name":"MODE"}', mesh['k:{"name":"sidecar"}']["f:env"])
        self.assertIn('k:{"name":"web"}', mf["appdeploy"]["f:spec"]["f:template"]["f:spec"]["f:containers"])
        # our re-apply keeps their container (it is theirs), with no conflict
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-v", "image=registry.example/web:2.0",
                           "--no-force-conflicts")
        self.assertIn("deployment.apps/web configured", p.stdout)
        cs = self.fk.obj("deployments", "demo", "web")["spec"]["template"]["spec"]["containers"]
        self.assertEqual([(c["name"], c["image"]) for c in cs], [("web", "registry.example/web:2.0"), ("sidecar", "proxy:1")])
        # a strategic merge patch (kubectl set image) changes one element: a conflict on that element's field
        self.kubectl("set", "image", "deployment/web", "-n", "demo", "web=registry.example/web:hotfix")
        cs = self.fk.obj("deployments", "demo", "web")["spec"]["template"]["spec"]["containers"]
        self.assertEqual([(c["name"], c["image"]) for c in cs], [("web", "registry.example/web:hotfix"), ("sidecar", "proxy:1")])
        p = self.appdeploy("apply", self.dir, "-n", "demo", "-v", "image=registry.example/web:2.0",
                           "--no-force-conflicts", expect=1)
        self.assertRegex(p.stderr, r'deployment\.apps/web: \.spec\.template\.spec\.containers\[name="web"\]\.image is '
                                   r'owned by field manager "kubectl[^"]*"')
        # mesh dropping its container removes it; ours stays
        del sidecar["spec"]
        self.kubectl("apply", "--server-side", "--field-manager=mesh", "-f", "-", stdin=json.dumps(sidecar))
        cs = self.fk.obj("deployments", "demo", "web")["spec"]["template"]["spec"]["containers"]
        self.assertEqual([c["name"] for c in cs], ["web"])


if __name__ == "__main__":
    unittest.main()
