# fk_workloads.py — fakekube's controllers for StatefulSets, DaemonSets, Jobs, Ready conditions, waiting pods and CRD establishment.
"""Status that advances over time the way the real controllers write it:
  StatefulSet  https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/#StatefulSetStatus
               observedGeneration, replicas, readyReplicas, currentReplicas, updatedReplicas,
               currentRevision/updateRevision (equal once the rollout finished)
  DaemonSet    https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/daemon-set-v1/#DaemonSetStatus
               desiredNumberScheduled (one per node: NODES), currentNumberScheduled, updatedNumberScheduled,
               numberReady, numberAvailable
  Job          https://kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions
               active, then succeeded + condition Complete, or failed + condition Failed with reason
               BackoffLimitExceeded (annotation fakekube.sourcemode.dev/fail-job: "true")
  Ready        objects of other kinds carrying annotation fakekube.sourcemode.dev/ready: "true" (or a reason,
               which stays Ready=False with that reason) get the standard Ready condition
               (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#typical-status-properties)
  pods         annotation fakekube.sourcemode.dev/pod-waiting: REASON on a workload makes its pods wait in
               that containerStatuses[].state.waiting.reason (ImagePullBackOff, CrashLoopBackOff: see
               https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-state-waiting); a
               Deployment then never becomes available and, after spec.progressDeadlineSeconds, reports
               Progressing=False ProgressDeadlineExceeded
               (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#failed-deployment)
  CRDs         Established only after `crd_delay` seconds (before: NamesAccepted, Established=False Installing);
               its kinds are served from then on
               (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#create-a-customresourcedefinition)
"""
import copy
import time

FAIL_JOB = "fakekube.sourcemode.dev/fail-job"
READY = "fakekube.sourcemode.dev/ready"
POD_WAITING = "fakekube.sourcemode.dev/pod-waiting"
NODES = 2

MESSAGES = {
    "ImagePullBackOff": 'Back-off pulling image "%s"',
    "ErrImagePull": 'failed to pull and unpack image "%s"',
    "CrashLoopBackOff": "back-off 10s restarting failed container",
}


def _now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _ann(obj, key):
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(key)


def waiting_reason(obj):
    """The waiting reason asked for on the workload or its pod template, or None."""
    return _ann(obj, POD_WAITING) or _ann((obj.get("spec") or {}).get("template") or {}, POD_WAITING)


def on_commit(store, res, key, new, old):
    """Called when an object is stored: starts the controller's work for the kinds handled here."""
    gen_changed = old is None or new["metadata"].get("generation") != old["metadata"].get("generation")
    md = new["metadata"]
    if res.kind == "StatefulSet" and gen_changed:
        reps = new.get("spec", {}).get("replicas", 1)
        prev = (old or {}).get("status") or {}
        st = new["status"] = {"observedGeneration": md["generation"], "replicas": reps,
                              "readyReplicas": prev.get("readyReplicas", 0), "currentReplicas": prev.get("currentReplicas", 0),
                              "updatedReplicas": 0, "availableReplicas": prev.get("availableReplicas", 0),
                              "currentRevision": prev.get("currentRevision", "%s-0" % md["name"]),
                              "updateRevision": "%s-%d" % (md["name"], md["generation"]), "collisionCount": 0}
        if old is None:
            st["currentRevision"] = st["updateRevision"]
            st["currentReplicas"] = 0
        store.workload_started[key] = time.monotonic()
    elif res.kind == "DaemonSet" and gen_changed:
        new["status"] = {"observedGeneration": md["generation"], "desiredNumberScheduled": NODES,
                         "currentNumberScheduled": NODES, "updatedNumberScheduled": 0, "numberReady": 0,
                         "numberAvailable": 0, "numberUnavailable": NODES, "numberMisscheduled": 0}
        store.workload_started[key] = time.monotonic()
    elif res.kind == "Job" and old is None:
        new["status"] = {"active": new.get("spec", {}).get("parallelism", 1), "startTime": _now_iso(),
                         "ready": 0, "uncountedTerminatedPods": {}}
        store.workload_started[key] = time.monotonic()
    elif _ann(new, READY) and (old is None or _ann(old, READY) != _ann(new, READY)):
        # a controller first says it is working on it, then Ready (or not) after rollout_delay
        new.setdefault("status", {})["conditions"] = [
            {"type": "Ready", "status": "Unknown", "reason": "Reconciling", "message": "",
             "lastTransitionTime": _now_iso(), "observedGeneration": md.get("generation", 1)}]
        store.workload_started[key] = time.monotonic()


def _finish(store, key, obj):
    md = obj["metadata"]
    st = obj.setdefault("status", {})
    kind = obj.get("kind")
    waiting = waiting_reason(obj)
    if kind == "StatefulSet":
        reps = obj.get("spec", {}).get("replicas", 1)
        st["updatedReplicas"] = reps
        st["currentReplicas"] = reps
        if waiting:
            st["readyReplicas"] = 0
            st["availableReplicas"] = 0
        else:
            st.update({"readyReplicas": reps, "availableReplicas": reps, "currentRevision": st["updateRevision"]})
        _pods(store, obj, reps, waiting)
    elif kind == "DaemonSet":
        st["updatedNumberScheduled"] = NODES
        if not waiting:
            st.update({"numberReady": NODES, "numberAvailable": NODES})
            st.pop("numberUnavailable", None)
        _pods(store, obj, NODES, waiting)
    elif kind == "Job":
        spec = obj.get("spec", {})
        st["active"] = 0
        if _ann(obj, FAIL_JOB) == "true":
            limit = spec.get("backoffLimit", 6)
            st["failed"] = limit + 1
            st["conditions"] = [
                {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit", "lastProbeTime": _now_iso(),
                 "lastTransitionTime": _now_iso()},
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit", "lastProbeTime": _now_iso(),
                 "lastTransitionTime": _now_iso()}]
        else:
            st["succeeded"] = spec.get("completions", 1)
            st["completionTime"] = _now_iso()
            st["conditions"] = [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods", "lastProbeTime": _now_iso(),
                 "lastTransitionTime": _now_iso()},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods", "lastProbeTime": _now_iso(),
                 "lastTransitionTime": _now_iso()}]
    else:
        want = _ann(obj, READY)
        ok = want == "true"
        st["conditions"] = [{"type": "Ready", "status": "True" if ok else "False",
                             "reason": "Ready" if ok else want, "message": "" if ok else "fakekube: %s" % want,
                             "lastTransitionTime": _now_iso(), "observedGeneration": md.get("generation", 1)}]
    md["resourceVersion"] = store.next_rv()


def _pods(store, owner, n, waiting):
    """Pods of a StatefulSet/DaemonSet (ordinal names for StatefulSets), owned through ownerReferences."""
    ns, name = owner["metadata"]["namespace"], owner["metadata"]["name"]
    for key in [k for k, o in store.objs.items() if k[1] == "pods" and k[2] == ns and
                any(r.get("uid") == owner["metadata"]["uid"] for r in o["metadata"].get("ownerReferences", []))]:
        del store.objs[key]
    tmpl = owner.get("spec", {}).get("template", {})
    for i in range(n):
        pname = "%s-%d" % (name, i) if owner["kind"] == "StatefulSet" else "%s-%05x" % (name, (i * 7919 + 99) % 0xfffff)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": pname, "namespace": ns, "labels": dict(tmpl.get("metadata", {}).get("labels", {})),
                            "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": name,
                                                 "uid": owner["metadata"]["uid"], "controller": True}]},
               "spec": copy.deepcopy(tmpl.get("spec", {})),
               "status": pod_status(tmpl, waiting)}
        store._stamp(pod, None)
        store.pod_birth[(ns, pname)] = time.monotonic()
        store.objs[("", "pods", ns, pname)] = pod


def pod_status(tmpl, waiting):
    """A running pod's status, or one whose containers wait with `waiting` as their reason."""
    containers = tmpl.get("spec", {}).get("containers", [])
    if not waiting:
        return {"phase": "Running", "podIP": "10.1.0.9", "startTime": _now_iso(),
                "containerStatuses": [{"name": c.get("name", ""), "image": c.get("image", ""), "ready": True,
                                       "restartCount": 0, "state": {"running": {"startedAt": _now_iso()}}}
                                      for c in containers],
                "conditions": [{"type": "Ready", "status": "True"}]}
    return {"phase": "Pending", "startTime": _now_iso(),
            "containerStatuses": [{"name": c.get("name", ""), "image": c.get("image", ""), "ready": False,
                                   "restartCount": 3 if waiting == "CrashLoopBackOff" else 0,
                                   "state": {"waiting": {"reason": waiting,
                                                         "message": MESSAGES.get(waiting, waiting) %
                                                         c.get("image", "") if "%s" in MESSAGES.get(waiting, "")
                                                         else MESSAGES.get(waiting, waiting)}}}
                                  for c in containers],
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]}


def tick(store, now):
    """Advances what on_commit started (rollout_delay after it started) and CRDs waiting to be established."""
    for key, started in list(store.workload_started.items()):
        obj = store.objs.get(key)
        if obj is None:
            del store.workload_started[key]
            continue
        if now - started < store.rollout_delay:
            continue
        del store.workload_started[key]
        _finish(store, key, obj)
    for key, (due, _) in list(store.crd_pending.items()):
        if now >= due:
            del store.crd_pending[key]
            crd = store.objs.get(key)
            if crd is not None:
                store._register_crd(crd)
                crd["metadata"]["resourceVersion"] = store.next_rv()
    # a Deployment whose pods wait past spec.progressDeadlineSeconds has failed to progress
    for key, (started, deadline) in list(store.deploy_deadlines.items()):
        obj = store.objs.get(key)
        if obj is None:
            del store.deploy_deadlines[key]
            continue
        if now - started >= deadline:
            del store.deploy_deadlines[key]
            name = obj["metadata"]["name"]
            obj.setdefault("status", {})["conditions"] = [
                {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                 "message": "Deployment does not have minimum availability.", "lastUpdateTime": _now_iso(),
                 "lastTransitionTime": _now_iso()},
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                 "message": 'ReplicaSet "%s" has timed out progressing.' % name, "lastUpdateTime": _now_iso(),
                 "lastTransitionTime": _now_iso()}]
            obj["metadata"]["resourceVersion"] = store.next_rv()


def deployment_waiting(store, key, dep, reps):
    """A Deployment whose pods wait: its pods show the reason, nothing becomes available, and the
    progress deadline (spec.progressDeadlineSeconds, default 600) starts counting."""
    waiting = waiting_reason(dep)
    st = dep.setdefault("status", {})
    st.update({"replicas": reps, "updatedReplicas": reps, "readyReplicas": 0, "availableReplicas": 0,
               "unavailableReplicas": reps})
    store.deploy_deadlines[key] = (time.monotonic(), dep.get("spec", {}).get("progressDeadlineSeconds", 600))
    return waiting


def crd_created(store, key, crd):
    """With a delay, a new CRD is only accepted at first; tick() establishes it later."""
    names = crd.get("spec", {}).get("names", {})
    crd["status"] = {"acceptedNames": names, "conditions": [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": _now_iso()},
        {"type": "Established", "status": "False", "reason": "Installing",
         "message": "the initial names have been accepted", "lastTransitionTime": _now_iso()}]}
    store.crd_pending[key] = (time.monotonic() + store.crd_delay, crd)
