"""test_wait.py — `appdeploy apply --wait` on every workload kind (success and failure with its reason) and CRDs waited for until Established."""
import os

from kubeharness import KubeTest, write_tree

STS = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata:
      labels: {app: db}
      annotations: {%s}
    spec:
      containers: [{name: db, image: registry.example/db:1}]
"""

DS = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent}
      annotations: {%s}
    spec:
      containers: [{name: agent, image: registry.example/agent:1}]
"""

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {%s}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: registry.example/migrate:1}]
"""

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {%s}
    spec:
      containers: [{name: web, image: registry.example/web:broken}]
"""

CRD = """
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
"""

CR = """
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  annotations: {%s}
spec:
  size: 3
"""


class Wait(KubeTest):
    # long enough that the first look after apply still sees the object progressing, even on a loaded machine
    rollout_delay = 2.0

    def app(self, **files):
        d = os.path.join(self.tmp, "w")
        write_tree(d, files)
        return d

    def apply(self, d, *extra, expect=0):
        return self.appdeploy("apply", d, "-n", "demo", "--wait", *extra, expect=expect)

    def test_statefulset_rolls_out(self):
        p = self.apply(self.app(**{"sts.yaml": STS % ""}))
        self.assertIn("statefulset.apps/db: 0/2 ready, 0/2 updated\n", p.stdout)
        self.assertIn("statefulset.apps/db: 2/2 ready, 2/2 updated\n", p.stdout)
        self.assertIn("statefulset.apps/db rolled out\n", p.stdout)

    def test_statefulset_stuck_pulling_its_image(self):
        ann = "fakekube.sourcemode.dev/pod-waiting: ImagePullBackOff"
        p = self.apply(self.app(**{"sts.yaml": STS % ann}), "--timeout", "5", expect=1)
        self.assertIn('statefulset.apps/db: not rolled out after 5s; pod db-0 container db: ImagePullBackOff: '
                      'Back-off pulling image "registry.example/db:1"', p.stderr)
        self.assertIn("rollout did not complete", p.stderr)

    def test_daemonset_rolls_out(self):
        p = self.apply(self.app(**{"ds.yaml": DS % ""}))
        self.assertIn("daemonset.apps/agent: 0/2 updated, 0/2 available\n", p.stdout)
        self.assertIn("daemonset.apps/agent: 2/2 updated, 2/2 available\n", p.stdout)
        self.assertIn("daemonset.apps/agent rolled out\n", p.stdout)

    def test_daemonset_crash_looping(self):
        ann = "fakekube.sourcemode.dev/pod-waiting: CrashLoopBackOff"
        p = self.apply(self.app(**{"ds.yaml": DS % ann}), "--timeout", "5", expect=1)
        self.assertRegex(p.stderr, r"daemonset\.apps/agent: not rolled out after 5s; pod agent-\w+ container agent: "
                                   r"CrashLoopBackOff: back-off 10s restarting failed container")

    def test_job_completes(self):
        p = self.apply(self.app(**{"job.yaml": JOB % ""}))
        self.assertIn("job.batch/migrate: 0/1 succeeded, 1 active, 0 failed\n", p.stdout)
        self.assertIn("job.batch/migrate: 1/1 succeeded, 0 active, 0 failed\n", p.stdout)
        self.assertIn("job.batch/migrate completed\n", p.stdout)

    def test_job_fails_with_its_reason(self):
        p = self.apply(self.app(**{"job.yaml": JOB % "fakekube.sourcemode.dev/fail-job: 'true'"}), expect=1)
        self.assertIn("job.batch/migrate: job failed: BackoffLimitExceeded: Job has reached the specified backoff "
                      "limit", p.stderr)
        self.assertIn("job.batch/migrate: 0/1 succeeded, 0 active, 3 failed\n", p.stdout)

    def test_deployment_image_pull_backoff_past_its_progress_deadline(self):
        ann = "fakekube.sourcemode.dev/pod-waiting: ImagePullBackOff"
        p = self.apply(self.app(**{"web.yaml": DEPLOY % ann}), expect=1)
        self.assertRegex(p.stderr, r'deployment\.apps/web: rollout failed: ReplicaSet "web" has timed out progressing\.; '
                                   r'pod web-\w+-\w+ container web: ImagePullBackOff: Back-off pulling image '
                                   r'"registry\.example/web:broken"')

    def test_custom_resource_with_ready_condition(self):
        p = self.apply(self.app(**{"crd.yaml": CRD, "w.yaml": CR % "fakekube.sourcemode.dev/ready: 'true'"}))
        self.assertIn("widget.example.com/w1: Ready=Unknown Reconciling\n", p.stdout)
        self.assertIn("widget.example.com/w1: Ready=True Ready\n", p.stdout)
        self.assertIn("widget.example.com/w1 ready\n", p.stdout)

    def test_custom_resource_never_ready(self):
        p = self.apply(self.app(**{"crd.yaml": CRD, "w.yaml": CR % "fakekube.sourcemode.dev/ready: DependencyMissing"}),
                       "--timeout", "5", expect=1)
        self.assertIn("widget.example.com/w1: Ready=False DependencyMissing\n", p.stdout)
        self.assertIn("widget.example.com/w1: not ready after 5s", p.stderr)

    def test_many_deployments_are_polled_with_one_list(self):
        files = {"d%d.yaml" % i: (DEPLOY % "").replace("name: web", "name: web%d" % i)
                 .replace("progressDeadlineSeconds: 2", "progressDeadlineSeconds: 600") for i in range(5)}
        p = self.apply(self.app(**files))
        for i in range(5):
            self.assertIn("deployment.apps/web%d rolled out\n" % i, p.stdout)
        lists = self.fk.count(r"^/apis/apps/v1/namespaces/demo/deployments$", "GET")
        singles = self.fk.count(r"^/apis/apps/v1/namespaces/demo/deployments/web\d$", "GET")
        self.assertGreaterEqual(lists, 2)  # every poll of the 2 s rollout lists the kind once...
        self.assertLess(singles, 10)       # ...instead of GETting each of the 5 (5 x 8 polls); a pre-apply
        #                                    lookup may GET each once

    def test_objects_without_status_are_not_waited_for(self):
        p = self.apply(self.app(**{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
                                   "crd.yaml": CRD, "w.yaml": CR % ""}))
        self.assertEqual("", p.stderr)
        self.assertNotIn("ready", p.stdout)


class CRDEstablished(KubeTest):
    def app(self):
        d = os.path.join(self.tmp, "crd")
        write_tree(d, {"crd.yaml": CRD, "w.yaml": CR % ""})
        return d

    def test_crd_established_after_a_delay_longer_than_five_seconds(self):
        self.fk.store.crd_delay = 6
        p = self.appdeploy("apply", self.app(), "-n", "demo")
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created", p.stdout)
        self.assertIn("widget.example.com/w1 created", p.stdout)
        self.assertIsNotNone(self.fk.obj("widgets", "demo", "w1"))
        # polled until Established, then one rediscovery: not a rediscovery per poll
        self.assertGreaterEqual(self.fk.count(r"^/apis/apiextensions\.k8s\.io/v1/customresourcedefinitions/widgets\.example\.com$",
                                              "GET"), 2)
        self.assertEqual(2, self.fk.count(r"^/apis$", "GET"))

    def test_crd_never_established_names_both(self):
        self.fk.store.crd_delay = 1000
        p = self.appdeploy("apply", self.app(), "-n", "demo", "--timeout", "2", expect=1)
        self.assertIn("w.yaml:1: widget.example.com/w1 needs customresourcedefinition widgets.example.com: "
                      "customresourcedefinition widgets.example.com is not established after 2s (Installing: the "
                      "initial names have been accepted)", p.stderr)
        self.assertIsNone(self.fk.obj("widgets", "demo", "w1"))


if __name__ == "__main__":
    import unittest
    unittest.main()
