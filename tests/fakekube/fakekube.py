# fakekube.py — a loopback fake Kubernetes API server (Python stdlib only) faithful enough for kubectl and appdeploy.
"""
What it serves, following the documented API semantics:
  discovery  /api /api/v1 /apis /apis/G/V /version  (namespaced, verbs, categories, shortNames)
  CRUD       core, apps, batch, rbac.authorization.k8s.io, networking.k8s.io, apiextensions.k8s.io
             plus the kinds of every CustomResourceDefinition created (served versions, scope)
  PATCH      server-side apply (application/apply-patch+yaml; JSON-flavoured YAML) with
             field managers: a manager's previously applied fields it drops are removed, another
             manager's differing field is a 409 conflict unless force=true; keyed lists
             (containers, env, ports, volumes ...) merged and owned per element (ssa.py);
             merge-patch; strategic merge (keyed lists merged by key)
  metadata   uid, resourceVersion (global counter, unchanged on no-op writes), generation
             (bumped when anything but metadata/status changes), creationTimestamp, managedFields
  list       labelSelector (=, ==, !=, in, notin, exists, !exists), fieldSelector
             (metadata.name, metadata.namespace), limit + continue (page_cap forces small pages)
  delete     DeleteOptions / propagationPolicy (Background/Foreground delete dependents, Orphan
             strips ownerReferences); namespaces delete their contents
  dryRun=All nothing persisted, no resourceVersion change
  errors     Status bodies for 400/401/403/404/405/409/415/422/429/500, with reason and details
  immutable  Deployment spec.selector, Service spec.clusterIP, Job spec.template/selector,
             immutable ConfigMaps/Secrets -> 422 Invalid with causes
  rollout    a Deployment's status advances after `rollout_delay` seconds (ReplicaSet + pods
             with ownerReferences appear); annotation fakekube.sourcemode.dev/fail-rollout: "true"
             ends in ProgressDeadlineExceeded
  pods       /log: lines appear over time (5 at start, then one every `log_interval` seconds);
             ?follow=true streams them until the pod goes away; tailLines. Pods carry containerStatuses.
             /proxy/: forwarded to a local port set with POST /fakekube/proxy {namespace, deployment,
             port, target} (the pod NAME:PORT/proxy/PATH of that Deployment's pods), else a stub
  services   /proxy/: services/[https:]NAME[:PORT]/proxy/PATH forwarded to a local port set with POST /fakekube/proxy
             {namespace, service, port, target} or fk.proxy_service(); answers streamed (SSE) through both
             proxies; 404 no Service, 503 nothing registered (fk_proxy.py)
  leases     coordination.k8s.io/v1 Lease: MicroTime fields, PUT must carry the resourceVersion it read (409 stale,
             422 none), create on PUT (fk_lease.py)
  deny       FakeKube(deny={(verb, resource)}) / POST /fakekube/deny: 403 Forbidden worded as RBAC's; in-cluster
             service-account files with fk.serviceaccount_files() (fk_access.py)
  discovery+ aggregated discovery v2/v2beta1 with ETag/304 (fk_discovery.py); extra_groups=N API groups
  workloads  StatefulSet/DaemonSet/Job/Ready-condition status over time, waiting pods, delayed CRD
             establishment (fk_workloads.py)
  counting   fk.count(path regex), GET /fakekube/counts {"METHOD /path": n}; fk.unauthorized (401s given)
  expiry     POST /fakekube/tokens {token, user, ttl}: tokens refused (401) after ttl seconds;
             config expire_continues=N: the next N continue tokens answer 410 Expired
  auth       bearer tokens (tokens={token: user}), client certificates (CN = user) when TLS;
             users in `readonly` may only read (403 otherwise); no credentials -> 401
  faults     `faults` list of dicts {method, path (regex), query (regex), status, count, retry_after} answered
             before anything else (429 / 500 injection); {..., hold: threading.Event} instead holds the
             request until the Event is set, then answers it; `reject` {name: 422 message} fails writes
Run standalone:  python3 fakekube.py [--port N] [--tls DIR] [--token T] [--kubeconfig PATH]
Use in tests:    fk = FakeKube(tls_dir=..., tokens={...}); fk.start(); ...; fk.stop()
"""

import base64
import copy
import datetime
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fk_access  # noqa: E402  denials worded as RBAC's (403), in-cluster service-account files (#16)
import fk_discovery  # noqa: E402  aggregated discovery, stale groups (#11)
import fk_lease  # noqa: E402  Leases: MicroTime, conditional updates only (#16)
import fk_proxy  # noqa: E402  the service proxy, streaming forwarder of both proxies (#16)
import fk_workloads  # noqa: E402  StatefulSet/DaemonSet/Job/Ready status over time (#11)
import fk_watch  # noqa: E402  watch: resourceVersions, bookmarks, 410 Gone, timeoutSeconds (#15)
import lifecycle  # noqa: E402  finalizers, Terminating namespaces, more immutable fields, broken groups (#10)
import ssa  # noqa: E402  keyed lists (containers, env, ports ...) element by element (#10)

# ---------------------------------------------------------------- resource registry

ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Res:
    def __init__(self, group, version, plural, kind, namespaced, short=(), categories=(), verbs=ALL):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced = namespaced
        self.short = list(short)
        self.categories = list(categories)
        self.verbs = list(verbs)

    @property
    def api_version(self):
        return self.version if not self.group else self.group + "/" + self.version

    def discovery(self):
        d = {"name": self.plural, "singularName": self.kind.lower(), "namespaced": self.namespaced,
             "kind": self.kind, "verbs": self.verbs}
        if self.short:
            d["shortNames"] = self.short
        if self.categories:
            d["categories"] = self.categories
        return d


BUILTIN = [
    Res("", "v1", "namespaces", "Namespace", False, ["ns"]),
    Res("", "v1", "pods", "Pod", True, ["po"], ["all"]),
    Res("", "v1", "services", "Service", True, ["svc"], ["all"]),
    Res("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    Res("", "v1", "secrets", "Secret", True),
    Res("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    Res("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    Res("", "v1", "events", "Event", True, ["ev"]),
    Res("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"]),
    Res("", "v1", "nodes", "Node", False, ["no"]),
    Res("", "v1", "bindings", "Binding", True, verbs=["create"]),
    Res("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["all"]),
    Res("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["all"]),
    Res("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["all"]),
    Res("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["all"]),
    Res("batch", "v1", "jobs", "Job", True, [], ["all"]),
    Res("batch", "v1", "cronjobs", "CronJob", True, ["cj"], ["all"]),
    Res("networking.k8s.io", "v1", "ingresses", "Ingress", True, ["ing"]),
    Res("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
    Res("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    Res("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    Res("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Res("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Res("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False, ["crd"]),
    Res("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    # https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/lease-v1/
    Res("coordination.k8s.io", "v1", "leases", "Lease", True),  # fk_lease.py
]

ROLLOUT_FAIL = "fakekube.sourcemode.dev/fail-rollout"


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            s["details"] = self.details
        return s


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (gr(res), name),
                    {"name": name, "group": res.group, "kind": res.plural})


def gr(res):
    return res.plural + ("." + res.group if res.group else "")


def invalid(res, name, causes):
    # every field error of the request in one 422, shaped like the apiserver's
    # errors.NewInvalid: 'Kind.group "name" is invalid: FIELD: MSG' for one error,
    # '... is invalid: [F1: M1, F2: M2]' for several
    # (Status with details.causes: https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/)
    errs = ["%s: %s" % (c["field"], c["message"]) for c in causes]
    msg = '%s%s "%s" is invalid: %s' % (res.kind, "." + res.group if res.group else "", name,
                                         errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
    return ApiError(422, "Invalid", msg, {"name": name, "group": res.group, "kind": res.kind, "causes": causes})


# ---------------------------------------------------------------- field sets (managedFields-lite)
# A field set is a set of paths (tuples of keys). Maps recurse; lists and scalars are leaves.

def leaf_paths(obj, prefix=()):
    out = set()
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            out |= leaf_paths(v, prefix + (k,))
    else:
        if prefix:
            out.add(prefix)
    return out


IGNORED_TOP = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"),
               ("metadata", "resourceVersion"), ("metadata", "uid"), ("metadata", "managedFields"),
               ("metadata", "creationTimestamp"), ("metadata", "generation"), ("status",)}


def managed(paths):
    return {p for p in paths if not any(p[:len(i)] == i for i in IGNORED_TOP)}


def get_path(obj, path):
    for k in path:
        if not isinstance(obj, dict) or k not in obj:
            return None, False
        obj = obj[k]
    return obj, True


def set_path(obj, path, value):
    for k in path[:-1]:
        if not isinstance(obj.get(k), dict):
            obj[k] = {}
        obj = obj[k]
    obj[path[-1]] = copy.deepcopy(value)


def del_path(obj, path):
    stack = []
    for k in path[:-1]:
        if not isinstance(obj, dict) or k not in obj:
            return
        stack.append((obj, k))
        obj = obj[k]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    # drop maps left empty by the removal
    for parent, k in reversed(stack):
        if isinstance(parent[k], dict) and not parent[k]:
            del parent[k]
        else:
            break


def fields_v1(paths):
    root = {}
    for p in sorted(paths):
        node = root
        for k in p:
            node = node.setdefault("f:" + k, {})
    return root


def deep_merge(dst, src):
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


# #10: the same helpers with keyed lists merged and owned per element (ssa.py); paths without
# keyed segments behave as above
leaf_paths, get_path, set_path, del_path, fields_v1 = ssa.leaf_paths, ssa.get_path, ssa.set_path, ssa.del_path, \
    ssa.fields_v1


# ---------------------------------------------------------------- label selectors

SEL_RE = re.compile(r"\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def split_selector(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_selector(s):
    reqs = []
    for part in split_selector(s or ""):
        m = SEL_RE.match(part)
        if not m:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % part.strip())
        neg, key, op, val, setop, setvals = m.groups()
        if neg and (op or setop):
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % part.strip())
        if setop:
            reqs.append((key, setop, {v.strip() for v in setvals.split(",") if v.strip()}))
        elif op:
            reqs.append((key, "!=" if op == "!=" else "=", val))
        else:
            reqs.append((key, "!exists" if neg else "exists", None))
    return reqs


def selector_matches(reqs, labels):
    labels = labels or {}
    for key, op, val in reqs:
        have = key in labels
        v = labels.get(key)
        if op == "=" and v != val:
            return False
        if op == "!=" and have and v == val:
            return False
        if op == "in" and (not have or v not in val):
            return False
        if op == "notin" and have and v in val:
            return False
        if op == "exists" and not have:
            return False
        if op == "!exists" and have:
            return False
    return True


# ---------------------------------------------------------------- the store

class Store:
    def __init__(self, rollout_delay=0.3):
        self.lock = threading.RLock()
        self.rv = 1000
        self.objs = {}        # (group, plural, ns, name) -> object
        self.fields = {}      # same key -> {manager: (operation, apiVersion, set of paths)}
        self.rollouts = {}    # deployment key -> monotonic time the current generation started
        self.rollout_delay = rollout_delay
        self.res = {}         # (group, version, plural) -> Res
        for r in BUILTIN:
            self.res[(r.group, r.version, r.plural)] = r
        self.crd_res = {}     # crd name -> list of Res keys it added
        self.ip_next = 10
        self.pod_birth = {}   # (ns, pod name) -> monotonic time its log starts
        self.log_interval = 0.5
        self.workload_started = {}   # fk_workloads: key -> monotonic time its controller work started
        self.crd_pending = {}        # fk_workloads: CRD key -> (monotonic time it becomes Established, crd)
        self.crd_delay = 0           # seconds a new CRD stays un-established
        self.deploy_deadlines = {}   # fk_workloads: Deployment key -> (start, progressDeadlineSeconds)
        self.ensure_namespace("default")
        self.ensure_namespace("kube-system")

    # -- helpers
    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def by_kind(self, api_version, kind):
        g, _, v = api_version.rpartition("/")
        for r in self.res.values():
            if r.group == g and r.version == v and r.kind == kind:
                return r
        return None

    def ensure_namespace(self, ns):
        key = ("", "namespaces", "", ns)
        if key in self.objs:
            return
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self._stamp(obj, None)
        self.objs[key] = obj
        self._namespace_contents(ns)

    def _namespace_contents(self, ns):
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": ns},
              "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"}}
        for plural, o in (("serviceaccounts", sa), ("configmaps", cm)):
            self._stamp(o, None)
            self.objs[("", plural, ns, o["metadata"]["name"])] = o

    def _stamp(self, obj, old):
        md = obj.setdefault("metadata", {})
        if old is None:
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_iso()
            md["generation"] = 1
        md["resourceVersion"] = self.next_rv()

    def _key(self, res, ns, name):
        return (res.group, res.plural, ns if res.namespaced else "", name)

    # -- status simulation
    def tick(self):
        with self.lock:
            now = time.monotonic()
            for key, started in list(self.rollouts.items()):
                obj = self.objs.get(key)
                if obj is None:
                    del self.rollouts[key]
                    continue
                if now - started < self.rollout_delay:
                    continue
                del self.rollouts[key]
                self._finish_rollout(key, obj)
            fk_workloads.tick(self, now)

    def _deploy_status_start(self, obj):
        gen = obj["metadata"].get("generation", 1)
        reps = obj.get("spec", {}).get("replicas", 1)
        st = obj.setdefault("status", {})
        st["observedGeneration"] = gen
        st["replicas"] = reps
        st["updatedReplicas"] = 0
        st.setdefault("availableReplicas", 0)
        st.setdefault("readyReplicas", 0)
        st["unavailableReplicas"] = reps
        st["conditions"] = [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                             "message": 'ReplicaSet is progressing.', "lastUpdateTime": now_iso(),
                             "lastTransitionTime": now_iso()}]

    def _finish_rollout(self, key, obj):
        name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
        reps = obj.get("spec", {}).get("replicas", 1)
        st = obj.setdefault("status", {})
        fail = obj["metadata"].get("annotations", {}).get(ROLLOUT_FAIL) == "true"
        waiting = fk_workloads.waiting_reason(obj)
        if waiting and not fail:
            fk_workloads.deployment_waiting(self, key, obj, reps)
            self._make_pods(obj, reps)
            for o in self.objs.values():
                if o["kind"] == "Pod" and o["metadata"].get("namespace") == ns and \
                        o["metadata"]["name"].startswith(name + "-"):
                    o["status"] = fk_workloads.pod_status(obj.get("spec", {}).get("template", {}), waiting)
        elif fail:
            st["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                 "message": 'ReplicaSet "%s" has timed out progressing.' % name,
                                 "lastUpdateTime": now_iso(), "lastTransitionTime": now_iso()}]
        else:
            st.update({"replicas": reps, "updatedReplicas": reps, "readyReplicas": reps,
                       "availableReplicas": reps})
            st.pop("unavailableReplicas", None)
            st["conditions"] = [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastUpdateTime": now_iso(),
                 "lastTransitionTime": now_iso()},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": 'ReplicaSet "%s" has successfully progressed.' % name,
                 "lastUpdateTime": now_iso(), "lastTransitionTime": now_iso()}]
            self._make_pods(obj, reps)
        obj["metadata"]["resourceVersion"] = self.next_rv()

    def _make_pods(self, dep, reps):
        ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
        h = "%x" % (abs(hash(json.dumps(dep.get("spec", {}).get("template", {}), sort_keys=True))) % 0xfffffff)
        # drop pods and replicasets of older generations
        for key in [k for k, o in self.objs.items() if k[2] == ns and k[1] in ("replicasets", "pods")
                    and any(r.get("uid") == dep["metadata"]["uid"] or r.get("name", "").startswith(name + "-")
                            for r in o["metadata"].get("ownerReferences", []))]:
            del self.objs[key]
        tmpl = dep.get("spec", {}).get("template", {})
        labels = dict(tmpl.get("metadata", {}).get("labels", {}))
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "%s-%s" % (name, h), "namespace": ns, "labels": labels,
                           "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                                "uid": dep["metadata"]["uid"], "controller": True}]},
              "spec": {"replicas": reps, "selector": dep.get("spec", {}).get("selector", {}), "template": tmpl},
              "status": {"replicas": reps, "readyReplicas": reps, "availableReplicas": reps}}
        self._stamp(rs, None)
        self.objs[("apps", "replicasets", ns, rs["metadata"]["name"])] = rs
        for i in range(reps):
            pname = "%s-%s-%05x" % (name, h, (i * 7919 + 4242) % 0xfffff)
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": pname, "namespace": ns, "labels": labels,
                                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                     "name": rs["metadata"]["name"],
                                                     "uid": rs["metadata"]["uid"], "controller": True}]},
                   "spec": copy.deepcopy(tmpl.get("spec", {})),
                   "status": {"phase": "Running", "podIP": "10.1.0.%d" % (i + 2), "startTime": now_iso(),
                              "containerStatuses": [{"name": c.get("name", ""), "image": c.get("image", ""),
                                                     "ready": True, "restartCount": 0,
                                                     "state": {"running": {"startedAt": now_iso()}}}
                                                    for c in tmpl.get("spec", {}).get("containers", [])],
                              "conditions": [{"type": "Ready", "status": "True"}]}}
            self._stamp(pod, None)
            self.pod_birth[(ns, pname)] = time.monotonic()
            self.objs[("", "pods", ns, pname)] = pod

    def pod_log(self, ns, name):
        """The lines pod ns/name has written so far, or None when it is gone."""
        with self.lock:
            if ("", "pods", ns, name) not in self.objs:
                return None
            born = self.pod_birth.get((ns, name), time.monotonic())
        n = 5
        if self.log_interval > 0:
            n += int((time.monotonic() - born) / self.log_interval)
        return ["fakekube log line %d for pod %s" % (i, name) for i in range(1, n + 1)]

    # -- validation and immutability
    def _validate(self, res, obj, name, ns):
        md = obj.get("metadata") or {}
        causes = []
        if not md.get("name"):
            causes.append({"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                           "field": "metadata.name"})
        elif not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", md["name"]) or len(md["name"]) > 253:
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                           "message": 'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist of lower case '
                                      "alphanumeric characters, '-' or '.'" % md["name"]})
        for k, v in (md.get("labels") or {}).items():
            if not isinstance(v, str) or len(v) > 63 or not re.match(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", v):
                causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                               "message": 'Invalid value: %s: a valid label must be an empty string or consist of '
                                          "alphanumeric characters, '-', '_' or '.'" % json.dumps(v)})
        if res.kind == "Deployment":
            spec = obj.get("spec") or {}
            sel = (spec.get("selector") or {}).get("matchLabels")
            tl = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not spec.get("selector"):
                causes.append({"reason": "FieldValueRequired", "field": "spec.selector", "message": "Required value"})
            elif sel and any(tl.get(k) != v for k, v in sel.items()):
                causes.append({"reason": "FieldValueInvalid", "field": "spec.template.metadata.labels",
                               "message": "Invalid value: %s: `selector` does not match template `labels`" % json.dumps(tl)})
        if causes:
            raise invalid(res, md.get("name", name), causes)

    def _immutable(self, res, old, new, name):
        causes = []

        def same(path):
            a, _ = get_path(old, path)
            b, _ = get_path(new, path)
            return a == b
        if res.kind == "Deployment" and not same(("spec", "selector")):
            causes.append({"reason": "FieldValueInvalid", "field": "spec.selector",
                           "message": "Invalid value: %s: field is immutable" % json.dumps(get_path(new, ("spec", "selector"))[0])})
        if res.kind == "Service":
            a, _ = get_path(old, ("spec", "clusterIP"))
            b, has = get_path(new, ("spec", "clusterIP"))
            if has and b not in ("", None) and a != b:
                causes.append({"reason": "FieldValueInvalid", "field": "spec.clusterIPs[0]",
                               "message": "Invalid value: []string{%s}: may not change once set" % json.dumps(b)})
        if res.kind == "Job":
            for p in (("spec", "template"), ("spec", "selector")):
                if not same(p):
                    causes.append({"reason": "FieldValueInvalid", "field": ".".join(p),
                                   "message": "Invalid value: field is immutable"})
        if res.kind in ("ConfigMap", "Secret") and old.get("immutable"):
            if not same(("data",)) or not same(("binaryData",)) or not same(("stringData",)):
                causes.append({"reason": "FieldValueForbidden", "field": "data",
                               "message": "Forbidden: field is immutable when `immutable` is set"})
        causes += lifecycle.immutable_causes(res.kind, old, new)
        if causes:
            raise invalid(res, name, causes)

    def _terminating_check(self, res, ns, name):
        """NamespaceLifecycle: nothing new in a namespace being deleted (403)."""
        if res.namespaced and lifecycle.terminating(self.objs.get(("", "namespaces", "", ns))):
            code, reason, msg = lifecycle.forbidden_in_terminating(gr(res), name, ns)
            raise ApiError(code, reason, msg, {"name": name, "group": res.group, "kind": res.plural})

    def _finish_deletions(self, key):
        """Removes key once it is marked deleted with no finalizer left; a Terminating namespace goes
        when nothing is left in it."""
        o = self.objs.get(key)
        if o is not None and lifecycle.finished(o) and key[1] != "namespaces":
            del self.objs[key]
            self.fields.pop(key, None)
        ns = key[2]
        nskey = ("", "namespaces", "", ns)
        if ns and lifecycle.terminating(self.objs.get(nskey)) and not any(k[2] == ns for k in self.objs if k != nskey):
            del self.objs[nskey]
            self.fields.pop(nskey, None)

    def _defaults(self, res, obj, old):
        spec = obj.get("spec")
        if res.kind == "Deployment" and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        if res.kind == "Service" and isinstance(spec, dict):
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if not spec.get("clusterIP"):
                prev = get_path(old, ("spec", "clusterIP"))[0] if old else None
                if prev:
                    spec["clusterIP"] = prev
                else:
                    spec["clusterIP"] = "10.96.%d.%d" % (self.ip_next // 250, self.ip_next % 250 + 1)
                    self.ip_next += 1
                spec["clusterIPs"] = [spec["clusterIP"]]
            for p in spec.get("ports", []) or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
                    p.setdefault("targetPort", p.get("port"))
        if res.kind == "Secret":
            obj.setdefault("type", "Opaque")
            sd = obj.pop("stringData", None)
            if isinstance(sd, dict):
                data = obj.setdefault("data", {})
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
        if res.kind == "Namespace":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = copy.deepcopy(old["status"]) if old and lifecycle.terminating(old) else {"phase": "Active"}
            obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    # -- the write path shared by create, update, patch and apply
    def _commit(self, res, key, new, old, manager, operation, paths, dry):
        """Validates, defaults and (unless dry) stores new. paths: the manager's fields."""
        name = key[3]
        fk_lease.check(sys.modules[__name__], res, new)  # a Lease's MicroTimes and durations (fk_lease.py)
        causes = []   # one 422 carries every field error of the request
        try:
            self._validate(res, new, name, key[2])
        except ApiError as e:
            causes += e.details["causes"]
        if not causes:
            self._defaults(res, new, old)
        if old is not None:
            try:
                self._immutable(res, old, new, name)
            except ApiError as e:
                causes += e.details["causes"]
        if causes:
            raise invalid(res, (new.get("metadata") or {}).get("name") or name, causes)
        fields = copy.deepcopy(self.fields.get(key, {})) if old is not None else {}
        if operation == "Apply":
            fields[manager] = ("Apply", res.api_version, paths)
        else:
            # an update owns the fields it changed and takes them away from others
            changed = {p for p in paths if old is None or get_path(old, p) != get_path(new, p)}
            for m in list(fields):
                op, av, ps = fields[m]
                ps = ps - changed
                fields[m] = (op, av, ps)
                if not ps:
                    del fields[m]
            prev = fields.get(manager, ("Update", res.api_version, set()))[2]
            mine = (prev & leaf_paths(new)) | changed
            if mine:
                fields[manager] = ("Update", res.api_version, mine)
        md = new.setdefault("metadata", {})
        if old is not None:
            for k in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                if k in old["metadata"]:
                    md[k] = old["metadata"][k]
            if "status" in old and res.kind not in ("Namespace",):
                new["status"] = old["status"]

            def body(o):
                o = {k: v for k, v in o.items() if k not in ("metadata", "status")}
                return json.dumps(o, sort_keys=True)
            same_meta = {k: v for k, v in md.items() if k != "managedFields"} == \
                {k: v for k, v in old["metadata"].items() if k != "managedFields"}
            unchanged = same_meta and body(new) == body(old) and new.get("status") == old.get("status") \
                and {m: (f[0], f[2]) for m, f in fields.items()} == \
                {m: (f[0], f[2]) for m, f in self.fields.get(key, {}).items()}
            if unchanged:
                return copy.deepcopy(old)   # a no-op write changes nothing, not even resourceVersion
            if body(new) != body(old):
                md["generation"] = old["metadata"].get("generation", 1) + 1
        md["managedFields"] = [{"manager": m, "operation": f[0], "apiVersion": f[1], "time": now_iso(),
                                "fieldsType": "FieldsV1", "fieldsV1": fields_v1(f[2])}
                               for m, f in sorted(fields.items())]
        if dry:
            md.setdefault("uid", str(uuid.uuid4()))
            md.setdefault("creationTimestamp", now_iso())
            md.setdefault("generation", 1)
            return new
        self._stamp(new, old)
        if res.kind == "Deployment" and (old is None or md["generation"] != old["metadata"].get("generation")):
            self._deploy_status_start(new)
            self.rollouts[key] = time.monotonic()
        fk_workloads.on_commit(self, res, key, new, old)
        self.objs[key] = new
        self.fields[key] = fields
        if old is not None and lifecycle.finished(new):
            self._finish_deletions(key)
            return copy.deepcopy(new)
        if res.kind == "Namespace" and old is None:
            self._namespace_contents(name)
        if res.kind == "CustomResourceDefinition":
            if key in self.crd_pending:
                pass  # still being established: its status (copied from old) stays
            elif self.crd_delay > 0 and old is None:
                fk_workloads.crd_created(self, key, new)
            else:
                self._register_crd(new)
        return copy.deepcopy(new)

    def _register_crd(self, crd):
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        keys = []
        for v in spec.get("versions", []):
            if v.get("served", True):
                r = Res(spec.get("group", ""), v.get("name", "v1"), names.get("plural", ""), names.get("kind", ""),
                        spec.get("scope", "Namespaced") == "Namespaced", names.get("shortNames", []),
                        names.get("categories", []))
                self.res[(r.group, r.version, r.plural)] = r
                keys.append((r.group, r.version, r.plural))
        crd["status"] = {"acceptedNames": names, "conditions": [{"type": "Established", "status": "True"}]}
        self.crd_res[crd["metadata"]["name"]] = keys

    def _check_ns(self, res, ns):
        if res.namespaced and ("", "namespaces", "", ns) not in self.objs:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                           {"name": ns, "kind": "namespaces"})

    def _check_body(self, res, body, ns, name=None):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
        if body.get("kind") not in (None, res.kind) or body.get("apiVersion") not in (None, res.api_version):
            raise ApiError(400, "BadRequest", "the API version in the data (%s) does not match the expected API "
                           "version (%s)" % (body.get("apiVersion"), res.api_version))
        md = body.setdefault("metadata", {})
        if res.namespaced:
            if md.get("namespace") not in (None, "", ns):
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the "
                               "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if name is not None and md.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                           % (md.get("name"), name))
        if name is not None:
            md["name"] = name
        body["apiVersion"], body["kind"] = res.api_version, res.kind

    # -- verbs
    def get(self, res, ns, name):
        with self.lock:
            o = self.objs.get(self._key(res, ns, name))
            if o is None:
                raise not_found(res, name)
            return copy.deepcopy(o)

    def list(self, res, ns, label_sel, field_sel, limit, cont, page_cap):
        with self.lock:
            reqs = parse_selector(label_sel)
            fields = {}
            for part in (field_sel or "").split(","):
                if part.strip():
                    k, _, v = part.partition("=")
                    fields[k.strip().rstrip("=")] = v.lstrip("=").strip()
            items = []
            for key in sorted(self.objs):
                if key[0] != res.group or key[1] != res.plural:
                    continue
                if res.namespaced and ns and key[2] != ns:
                    continue
                o = self.objs[key]
                if not selector_matches(reqs, o["metadata"].get("labels")):
                    continue
                if "metadata.name" in fields and o["metadata"]["name"] != fields["metadata.name"]:
                    continue
                if "metadata.namespace" in fields and o["metadata"].get("namespace") != fields["metadata.namespace"]:
                    continue
                items.append((key, o))
            start = 0
            if cont:
                try:
                    after = tuple(json.loads(base64.urlsafe_b64decode(cont.encode()).decode())["k"])
                except Exception:
                    raise ApiError(400, "BadRequest", "continue key is not valid")
                start = next((i for i, (k, _) in enumerate(items) if k > after), len(items))
            if page_cap and (not limit or limit > page_cap):
                limit = page_cap if limit else 0
            page = items[start:start + limit] if limit else items[start:]
            meta = {"resourceVersion": str(self.rv)}
            if limit and start + limit < len(items):
                meta["continue"] = base64.urlsafe_b64encode(json.dumps({"k": list(page[-1][0])}).encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            out = []
            for _, o in page:
                o = copy.deepcopy(o)
                out.append(o)
            return {"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": meta, "items": out}

    def create(self, res, ns, body, manager, dry):
        with self.lock:
            self._check_ns(res, ns)
            self._check_body(res, body, ns)
            name = body["metadata"].get("name", "")
            if not name and body["metadata"].get("generateName"):
                name = body["metadata"]["generateName"] + uuid.uuid4().hex[:5]
                body["metadata"]["name"] = name
            key = self._key(res, ns, name)
            if key in self.objs:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (gr(res), name),
                               {"name": name, "group": res.group, "kind": res.plural})
            self._terminating_check(res, ns, name)
            for k in ("resourceVersion", "uid", "managedFields"):
                body["metadata"].pop(k, None)
            return self._commit(res, key, body, None, manager, "Update", managed(leaf_paths(body)), dry)

    def update(self, res, ns, name, body, manager, dry):
        with self.lock:
            self._check_body(res, body, ns, name)
            key = self._key(res, ns, name)
            old = self.objs.get(key)
            if old is None:
                raise not_found(res, name)
            rv = body["metadata"].get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                               "modified; please apply your changes to the latest version and try again"
                               % (gr(res), name), {"name": name, "group": res.group, "kind": res.plural})
            body["metadata"].pop("managedFields", None)
            return self._commit(res, key, body, old, manager, "Update", managed(leaf_paths(body)), dry)

    def merge_patch(self, res, ns, name, patch, manager, dry, strategic=False):
        with self.lock:
            key = self._key(res, ns, name)
            old = self.objs.get(key)
            if old is None:
                raise not_found(res, name)
            if not isinstance(patch, dict):
                raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
            new = ssa.strategic_merge(copy.deepcopy(old), patch) if strategic else deep_merge(copy.deepcopy(old), patch)
            new["metadata"].pop("managedFields", None)
            return self._commit(res, key, new, old, manager, "Update", managed(leaf_paths(patch)), dry)

    def apply(self, res, ns, name, body, manager, force, dry):
        with self.lock:
            if not manager:
                raise ApiError(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                               "value: is required for apply patch")
            self._check_ns(res, ns)
            self._check_body(res, body, ns, name)
            key = self._key(res, ns, name)
            old = self.objs.get(key)
            paths = managed(leaf_paths(body))
            if old is None:
                self._terminating_check(res, ns, name)
                new = copy.deepcopy(body)
                return self._commit(res, key, new, None, manager, "Apply", paths, dry)
            fields = self.fields.get(key, {})
            conflicts = []
            for m, (op, av, ps) in sorted(fields.items()):
                if m == manager:
                    continue
                for p in sorted(paths & ps):
                    if get_path(old, p) != get_path(body, p):
                        conflicts.append((m, p, av))
            if conflicts and not force:
                # shaped as the apiserver's: https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
                msg = "Apply failed with %d conflict%s: %s" % (
                    len(conflicts), "s" if len(conflicts) > 1 else "",
                    "\n".join('conflict with "%s" using %s: %s' % (m, av, ssa.field_string(p)) for m, p, av in conflicts))
                raise ApiError(409, "Conflict", msg, {"causes": [
                    {"reason": "FieldManagerConflict", "message": 'conflict with "%s" using %s' % (m, av),
                     "field": ssa.field_string(p)} for m, p, av in conflicts]})
            new = copy.deepcopy(old)
            new["metadata"].pop("managedFields", None)
            prev = fields.get(manager, (None, None, set()))[2]
            others = set()
            for m, (op, av, ps) in fields.items():
                if m != manager:
                    others |= ps
            for p in prev - paths:
                if p not in others:
                    del_path(new, p)
            for p in sorted(paths):
                set_path(new, p, get_path(body, p)[0])
            ssa.reorder_like(new, body, old)
            result = self._commit(res, key, new, old, manager, "Apply", paths, dry)
            if force and conflicts and not dry:
                for m, p, _ in conflicts:
                    op, av, ps = self.fields[key][m]
                    self.fields[key][m] = (op, av, ps - {p})
                    if not self.fields[key][m][2]:
                        del self.fields[key][m]
            return result

    def delete(self, res, ns, name, policy, dry):
        with self.lock:
            key = self._key(res, ns, name)
            old = self.objs.get(key)
            if old is None:
                raise not_found(res, name)
            if dry:
                return copy.deepcopy(old)
            if res.kind == "Namespace":
                # Terminating first: contents go, objects with finalizers stay until released
                held = False
                for k in [k for k in self.objs if k[2] == name]:
                    if lifecycle.has_finalizers(self.objs[k]):
                        lifecycle.mark_deleting(self.objs[k], self.next_rv())
                        held = True
                    else:
                        del self.objs[k]
                        self.fields.pop(k, None)
                if held:
                    lifecycle.start_terminating(old, self.next_rv())
                    return copy.deepcopy(old)
            elif lifecycle.has_finalizers(old):
                return lifecycle.mark_deleting(old, self.next_rv())
            del self.objs[key]
            self.fields.pop(key, None)
            self.rollouts.pop(key, None)
            if res.kind == "CustomResourceDefinition":
                for rk in self.crd_res.pop(name, []):
                    r = self.res.pop(rk, None)
                    if r:
                        for k in [k for k in self.objs if k[0] == r.group and k[1] == r.plural]:
                            del self.objs[k]
            self._cascade(old["metadata"].get("uid"), policy or "Background")
            self.rv += 1
            out = copy.deepcopy(old)
            return out

    def _cascade(self, uid, policy):
        for key, o in list(self.objs.items()):
            refs = o["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == uid for r in refs):
                continue
            if policy == "Orphan":
                o["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                if not o["metadata"]["ownerReferences"]:
                    del o["metadata"]["ownerReferences"]
                o["metadata"]["resourceVersion"] = self.next_rv()
            elif key in self.objs:
                del self.objs[key]
                self.fields.pop(key, None)
                self._cascade(o["metadata"].get("uid"), policy)


# ---------------------------------------------------------------- HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakekube/1"
    # TCP_NODELAY, as the real API server's sockets have it (Go's net package turns Nagle's algorithm off on
    # every TCP connection: https://pkg.go.dev/net#TCPConn.SetNoDelay). Without it an answer written as
    # headers then body waits out the client's delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if self.server.fk.verbose:
            sys.stderr.write("fakekube: " + fmt % args + "\n")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code, text, ctype="text/plain"):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def raw_body(self):
        self.body_read = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return fk_proxy.read_chunked(self.rfile)  # RFC 9112 section 7.1: a server takes chunked bodies
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def read_body(self):
        raw = self.raw_body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", "fakekube only understands JSON bodies (JSON is YAML); could not "
                           "decode the request body")

    def user(self):
        fk = self.server.fk
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            tok = auth[7:].strip()
            if tok in fk.tokens and time.monotonic() < fk.token_expiry.get(tok, float("inf")):
                return fk.tokens[tok]
            raise ApiError(401, "Unauthorized", "Unauthorized")
        cert = getattr(self.connection, "getpeercert", lambda: None)()
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return v
        if fk.anonymous:
            return "system:anonymous"
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def handle_any(self, method):
        fk = self.server.fk
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        path = u.path.rstrip("/") or "/"
        fk.record(method, path, q, dict(self.headers))
        self.body_read = False
        try:
            if path.startswith("/fakekube/"):
                return self.control(method, path)
            user = self.user()
            fault = fk.take_fault(method, path, u.query)
            if fault and fault.get("hold"):
                fault["hold"].wait(120)  # a slow API server: the answer waits until the test sets the Event
                fault = None
            if fault:
                headers = {}
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault["retry_after"])
                code = fault["status"]
                reason = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                          409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests",
                          500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}.get(code, "InternalError")
                msg = fault.get("message") or {429: "Too many requests, please try again later.",
                                               500: "Internal error occurred: injected fault"}.get(code, "injected fault")
                self.raw_body()
                raise ApiError(code, reason, msg, {"retryAfterSeconds": fault.get("retry_after", 0)}
                               if code == 429 else None, headers)
            if method != "GET" and user in fk.readonly:
                self.raw_body()
                raise ApiError(403, "Forbidden", 'User "%s" cannot %s at the cluster scope' % (user, method.lower()))
            fk.store.tick()
            try:
                return self.route(method, path, q, user)
            finally:
                fk_watch.after_request(fk.store)  # what the request changed reaches open watches
        except ApiError as e:
            if e.code == 401:
                with fk.lock:
                    fk.unauthorized += 1
            if not self.body_read and (self.headers.get("Transfer-Encoding") or
                                       int(self.headers.get("Content-Length") or 0)):
                self.close_connection = True  # an unread body is not taken for the next request
            self.send_json(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a fake's bug must still answer like a server would
            import traceback
            traceback.print_exc()
            self.send_json(500, ApiError(500, "InternalError", "fakekube: %r" % e).status())

    def control(self, method, path):
        fk = self.server.fk
        if path == "/fakekube/faults" and method == "POST":
            fk.faults.extend(self.read_body() or [])
            return self.send_json(200, {"faults": fk.faults})
        if path == "/fakekube/reject" and method == "POST":
            fk.reject.update(self.read_body() or {})
            return self.send_json(200, {"reject": fk.reject})
        if path == "/fakekube/config" and method == "POST":
            b = self.read_body() or {}
            if "page_cap" in b:
                fk.page_cap = b["page_cap"]
            if "rollout_delay" in b:
                fk.store.rollout_delay = b["rollout_delay"]
            if "log_interval" in b:
                fk.store.log_interval = b["log_interval"]
            if "broken_groups" in b:
                fk.broken_groups = set(b["broken_groups"])
            if "aggregated" in b:
                fk.aggregated = tuple(b["aggregated"])
            if "crd_delay" in b:
                fk.store.crd_delay = b["crd_delay"]
            if "expire_continues" in b:
                fk.expire_continues = b["expire_continues"]
            return self.send_json(200, {})
        if path == "/fakekube/tokens" and method == "POST":
            # a token minted by an identity provider (an exec plugin's), valid for ttl seconds when given:
            # past its expiry the API server answers 401 Unauthorized, which client-go answers by running the
            # plugin again (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)
            b = self.read_body() or {}
            with fk.lock:
                fk.tokens[b["token"]] = b.get("user", "admin")
                if b.get("ttl"):
                    fk.token_expiry[b["token"]] = time.monotonic() + float(b["ttl"])
            return self.send_json(200, {})
        if path == "/fakekube/counts":
            with fk.lock:
                return self.send_json(200, dict(fk.counts))
        if path == "/fakekube/proxy" and method == "POST":
            fk_proxy.register(fk, self.read_body() or {})  # a Service's port or a Deployment's pods' (fk_proxy.py)
            return self.send_json(200, {})
        if path == "/fakekube/deny" and method == "POST":
            return self.send_json(200, fk_access.control(fk, self.read_body() or {}))
        if path == "/fakekube/watch" and method == "POST":
            return self.send_json(200, fk_watch.control(fk.store, self.read_body() or {}))
        if path == "/fakekube/requests":
            return self.send_json(200, fk.requests)
        raise ApiError(404, "NotFound", "no such control endpoint")

    def route(self, method, path, q, user):
        fk = self.server.fk
        store = fk.store
        parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fakekube",
                                        "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": now_iso(),
                                        "goVersion": "go1.22", "compiler": "gc", "platform": "linux/amd64"})
        if path in ("/healthz", "/readyz", "/livez"):
            return self.send_text(200, "ok")
        agg = fk_discovery.negotiate(self.headers.get("Accept"), fk.aggregated)
        if path in ("/api", "/apis") and agg:
            return fk_discovery.serve(self, store, path == "/api", agg)
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            groups = {}
            with store.lock:
                for r in store.res.values():
                    if r.group:
                        groups.setdefault(r.group, set()).add(r.version)
            out = []
            for g in sorted(groups):
                vs = [{"groupVersion": g + "/" + v, "version": v} for v in sorted(groups[g])]
                out.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": out})
        if path == "/openapi/v3":
            with store.lock:
                gvs = sorted({("api/" if not r.group else "apis/" + r.group + "/") + r.version
                              for r in store.res.values()})
            return self.send_json(200, {"paths": {gv: {"serverRelativeURL": "/openapi/v3/%s?hash=%d" % (gv, store.rv)}
                                                  for gv in gvs}})
        if path.startswith("/openapi/v3/"):
            return self.send_json(200, self.openapi_gv(path[len("/openapi/v3/"):]))
        if path.startswith("/openapi"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parts[0] == "api":
            group, rest = "", parts[1:]
        elif parts[0] == "apis" and len(parts) >= 2:
            group, rest = parts[1], parts[2:]
            if group in fk.broken_groups:
                raise ApiError(503, "ServiceUnavailable", lifecycle.BROKEN_MESSAGE)
            if not rest:
                with store.lock:
                    vs = sorted({r.version for r in store.res.values() if r.group == group})
                if not vs:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                vv = [{"groupVersion": group + "/" + v, "version": v} for v in vs]
                return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": vv,
                                            "preferredVersion": vv[0]})
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        version, rest = rest[0], rest[1:]
        with store.lock:
            rlist = [r for r in store.res.values() if r.group == group and r.version == version]
        if not rlist:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            gv = version if not group else group + "/" + version
            return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                        "resources": [r.discovery() for r in sorted(rlist, key=lambda r: r.plural)]
                                        + [{"name": r.plural + "/status", "singularName": "", "namespaced": r.namespaced,
                                            "kind": r.kind, "verbs": ["get", "patch", "update"]}
                                           for r in rlist if r.kind in ("Deployment", "Pod", "Service")]
                                        + [{"name": r.plural + "/scale", "singularName": "", "namespaced": True,
                                            "kind": "Scale", "group": "autoscaling", "version": "v1",
                                            "verbs": ["get", "patch", "update"]}
                                           for r in rlist if r.kind in ("Deployment", "ReplicaSet", "StatefulSet")]
                                        + [{"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                                            "verbs": ["get"]} for r in rlist if r.kind == "Pod"]})
        ns = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural, rest = rest[0], rest[1:]
        res = store.res.get((group, version, plural))
        if res is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if ns and not res.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[0] if rest else None
        sub = rest[1] if len(rest) > 1 else None
        dry = q.get("dryRun") == "All"
        if "dryRun" in q and not dry:
            raise ApiError(400, "BadRequest", 'Invalid dry run value "%s": supported values are "All"' % q["dryRun"])
        manager = q.get("fieldManager") or self.default_manager()
        fk_access.check(self, user, method, res, ns, name, sub, q)  # denials a test asked for: 403 (fk_access.py)
        if sub == "proxy" and res.kind == "Service":
            return fk_proxy.serve_service(self, method, ns, name)  # services/NAME[:PORT]/proxy/PATH (fk_proxy.py)
        if sub == "log" and res.kind == "Pod" and method == "GET":
            pod = store.get(res, ns, name)
            if q.get("previous") in ("true", "1"):
                # the kubelet keeps the log of the last terminated container only; a container that never
                # restarted has none: 400 (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#get-read-log-of-the-specified-pod)
                c = q.get("container") or ((pod.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
                restarts = sum(cs.get("restartCount", 0) for cs in (pod.get("status") or {}).get("containerStatuses", []))
                if not restarts:
                    raise ApiError(400, "BadRequest", 'previous terminated container "%s" in pod "%s" not found' % (c, name))
            lines = store.pod_log(ns, name) or []
            if q.get("tailLines"):
                lines = lines[-int(q["tailLines"]):] if int(q["tailLines"]) > 0 else []
            if q.get("follow") in ("true", "1"):
                return self.follow_log(ns, name, len(store.pod_log(ns, name) or []) - len(lines))
            return self.send_text(200, "".join(l + "\n" for l in lines))
        if sub == "proxy" and res.kind == "Pod":
            pod, _, port = name.partition(":")
            store.get(res, ns, pod)
            deploy = pod.rsplit("-", 2)[0]
            target = fk.proxies.get((ns, deploy, port or "80"))
            if target:
                return fk_proxy.forward(self, method, target, "/" + "/".join(rest[2:]))  # streams (fk_proxy.py)
            return self.send_text(200, "fakekube proxy to pod %s: %s %s\n" % (name, method, "/".join(rest[2:])))
        if sub == "scale" and res.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
            if method in ("PATCH", "PUT"):
                body = self.read_body() or {}
                reps = (body.get("spec") or {}).get("replicas")
                if not isinstance(reps, int) or reps < 0:
                    raise invalid(res, name, [{"reason": "FieldValueInvalid", "field": "spec.replicas",
                                               "message": "Invalid value: must be a non-negative integer"}])
                store.merge_patch(res, ns, name, {"spec": {"replicas": reps}}, manager, dry)
            elif method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            o = store.get(res, ns, name)
            sel = ",".join("%s=%s" % kv for kv in sorted(((o.get("spec") or {}).get("selector") or {})
                                                          .get("matchLabels", {}).items()))
            return self.send_json(200, {"kind": "Scale", "apiVersion": "autoscaling/v1",
                                        "metadata": {k: o["metadata"][k] for k in ("name", "namespace", "uid",
                                                                                   "resourceVersion", "creationTimestamp")
                                                     if k in o["metadata"]},
                                        "spec": {"replicas": o["spec"].get("replicas", 1)},
                                        "status": {"replicas": (o.get("status") or {}).get("replicas", 0),
                                                   "selector": sel}})
        if sub == "status":
            if method == "GET":
                return self.send_json(200, store.get(res, ns, name))
            raise ApiError(405, "MethodNotAllowed", "fakekube does not write status subresources")
        if sub is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and name is None:
            if q.get("watch") in ("1", "true"):
                return self.watch(res, ns, q)
            limit = int(q.get("limit") or 0)
            if q.get("continue") and fk.expire_continues > 0:
                # https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks:
                # a continue token older than the etcd compaction window answers 410 Gone (reason Expired);
                # the client starts the list again without it
                with fk.lock:
                    fk.expire_continues -= 1
                raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter.")
            lst = store.list(res, ns, q.get("labelSelector"), q.get("fieldSelector"), limit, q.get("continue"),
                             fk.page_cap)
            return self.send_json(200, lst)
        if method == "GET":
            return self.send_json(200, store.get(res, ns, name))
        if method == "POST" and name is None:
            body = self.read_body()
            self.check_reject(res, (body or {}).get("metadata", {}).get("name"))
            return self.send_json(201, store.create(res, ns, body, manager, dry))
        if method == "PUT" and name:
            body = self.read_body()
            self.check_reject(res, name)
            if res.kind == "Lease":  # conditional updates only, create on update (fk_lease.py)
                return self.send_json(*fk_lease.put(sys.modules[__name__], store, res, ns, name, body, manager, dry))
            return self.send_json(200, store.update(res, ns, name, body, manager, dry))
        if method == "PATCH" and name:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            body = self.read_body()
            self.check_reject(res, name)
            if ctype == "application/apply-patch+yaml":
                force = q.get("force") in ("true", "1")
                exists = store._key(res, ns, name) in store.objs
                out = store.apply(res, ns, name, body, q.get("fieldManager"), force, dry)
                return self.send_json(200 if exists else 201, out)
            if ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                return self.send_json(200, store.merge_patch(res, ns, name, body, manager, dry,
                                                             ctype == "application/strategic-merge-patch+json"))
            raise ApiError(415, "UnsupportedMediaType", 'the body of the request was in an unknown format - accepted '
                           'media types include: application/json-patch+json, application/merge-patch+json, '
                           'application/apply-patch+yaml')
        if method == "DELETE" and name:
            body = self.read_body() or {}
            policy = q.get("propagationPolicy") or body.get("propagationPolicy")
            if "dryRun" in body and body["dryRun"] == ["All"]:
                dry = True
            if policy not in (None, "Background", "Foreground", "Orphan"):
                raise ApiError(400, "BadRequest", "DeleteOptions.meta.k8s.io is invalid: propagationPolicy: "
                               "Unsupported value: %s" % json.dumps(policy))
            out = store.delete(res, ns, name, policy, dry)
            fk.deleted.append((res.kind, ns, name, policy))
            # held by finalizers: accepted, not done (lifecycle.py)
            held = not dry and (out.get("metadata") or {}).get("deletionTimestamp")
            return self.send_json(202 if held else 200, out)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def follow_log(self, ns, name, sent):
        """Streams the pod's log from line `sent` on, as it grows, until the pod is gone (as a real
        kubelet ends the stream when the container stops), the client leaves or the fake stops."""
        fk = self.server.fk
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + 600
        try:
            while not fk.stopping and time.monotonic() < deadline:
                fk.store.tick()
                lines = fk.store.pod_log(ns, name)
                if lines is None:
                    break
                if len(lines) > sent:
                    b = "".join(l + "\n" for l in lines[sent:]).encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
                    self.wfile.flush()
                    sent = len(lines)
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def openapi_gv(self, gvpath):
        """A minimal OpenAPI v3 document per group/version: enough for kubectl to see that PATCH takes
        fieldValidation (so it validates server-side) — schemas are not described."""
        store = self.server.fk.store
        parts = gvpath.split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        with store.lock:
            rs = [r for r in store.res.values() if r.group == group and r.version == version]
        if not rs:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        params = [{"name": n, "in": "query", "schema": {"type": "string"}}
                  for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
        paths = {}
        for r in rs:
            base = "/" + gvpath + ("/namespaces/{namespace}" if r.namespaced else "") + "/" + r.plural
            gvk = {"group": r.group, "version": r.version, "kind": r.kind}
            paths[base + "/{name}"] = {"patch": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                                                 "parameters": params, "responses": {"200": {"description": "OK"}}}}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.30.0"}, "paths": paths,
                "components": {"schemas": {}}}

    def check_reject(self, res, name):
        msg = self.server.fk.reject.get(name or "")
        if msg:
            raise invalid(res, name, [{"reason": "FieldValueInvalid", "field": "spec", "message": msg}])

    def default_manager(self):
        ua = self.headers.get("User-Agent", "unknown")
        return ua.split("/")[0] or "unknown"

    def watch(self, res, ns, q):
        return fk_watch.serve(self, res, ns, q)  # fk_watch.py: resourceVersions, bookmarks, 410 Gone, timeouts


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # clients that hang up mid-handshake (probes, killed processes) are not the fake's problem
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class FakeKube:
    """One fake API server. tokens: {token: user}; readonly: users that may only GET;
    tls_dir: a directory for the generated CA/server/client certificates (None: plain HTTP)."""

    def __init__(self, tokens=None, readonly=(), tls_dir=None, client_users=("admin",), page_cap=0,
                 rollout_delay=0.3, anonymous=False, verbose=False, port=0, aggregated=("v2", "v2beta1"),
                 extra_groups=0, crd_delay=0, deny=()):
        self.tokens = dict(tokens or {})
        self.readonly = set(readonly)
        self.tls_dir = tls_dir
        self.client_users = client_users
        self.page_cap = page_cap
        self.anonymous = anonymous
        self.verbose = verbose
        self.port = port
        self.store = Store(rollout_delay)
        self.store.crd_delay = crd_delay
        fk_discovery.add_groups(self.store, Res, extra_groups)
        self.aggregated = tuple(aggregated)  # aggregated discovery versions offered (() = per-group only)
        self.stale_groups = set()  # groups aggregated discovery marks Stale (fk_discovery.py)
        self.token_expiry = {}   # token -> monotonic time after which it is refused (401)
        self.unauthorized = 0    # 401 answers given
        self.counts = {}         # "METHOD /path" -> requests seen
        self.expire_continues = 0  # the next N requests carrying a continue token get 410 Expired
        self.faults = []
        self.reject = {}
        self.requests = []
        self.deleted = []
        self.proxies = {}     # (namespace, deployment, port) -> local port the pod proxy forwards to
        self.service_proxies = {}  # (namespace, service, port name or number) -> local port (fk_proxy.py)
        self.deny = set(deny)  # (verb, resource) refused to every user: 403 (fk_access.py)
        self.broken_groups = set()  # API groups whose APIService does not answer (503), see lifecycle.py
        self.stopping = False
        self.lock = threading.Lock()
        self.httpd = None

    def record(self, method, path, q, headers):
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": q,
                                  "auth": "Authorization" in headers or "authorization" in headers,
                                  "user_agent": headers.get("User-Agent", ""),
                                  "accept": headers.get("Accept", ""),
                                  "accept_encoding": headers.get("Accept-Encoding", "")})
            k = method + " " + path  # per-path request counts: what the tests and bench/apply.sh compare
            self.counts[k] = self.counts.get(k, 0) + 1

    def take_fault(self, method, path, query=""):
        with self.lock:
            for f in self.faults:
                if f.get("count", 1) <= 0:
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f.get("query") is not None and not re.search(f["query"], query):
                    continue  # e.g. "^(?!.*dryRun)": only the real write, not its dry run
                f["count"] = f.get("count", 1) - 1
                return f
        return None

    def start(self):
        self.httpd = Server(("127.0.0.1", self.port), Handler)
        self.httpd.fk = self
        if self.tls_dir:
            make_certs(self.tls_dir, self.client_users)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.tls_dir, "server.crt"), os.path.join(self.tls_dir, "server.key"))
            ctx.load_verify_locations(os.path.join(self.tls_dir, "ca.crt"))
            ctx.verify_mode = ssl.CERT_OPTIONAL
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls_dir else "http", self.port)

    def kubeconfig(self, path, namespace="default", token=None, client_user=None, inline=False, extra_user=None):
        """Writes a kubeconfig for this server (JSON, which kubectl and appdeploy both read)."""
        cluster = {"server": self.url}
        if self.tls_dir:
            if inline:
                cluster["certificate-authority-data"] = b64file(os.path.join(self.tls_dir, "ca.crt"))
            else:
                cluster["certificate-authority"] = os.path.join(self.tls_dir, "ca.crt")
        user = dict(extra_user or {})
        if token:
            user["token"] = token
        if client_user:
            crt = os.path.join(self.tls_dir, "client-%s.crt" % client_user)
            key = os.path.join(self.tls_dir, "client-%s.key" % client_user)
            if inline:
                user["client-certificate-data"] = b64file(crt)
                user["client-key-data"] = b64file(key)
            else:
                user["client-certificate"] = crt
                user["client-key"] = key
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
               "clusters": [{"name": "fake", "cluster": cluster}],
               "users": [{"name": "fake-user", "user": user}],
               "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake-user",
                                                         "namespace": namespace}}]}
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        return path

    # convenience for tests
    def proxy_service(self, namespace, service, port, target):
        """The service proxy forwards services/SERVICE:PORT/proxy/ (PORT: the port's name or number) to 127.0.0.1:target."""
        fk_proxy.register(self, {"namespace": namespace, "service": service, "port": port, "target": target})

    def serviceaccount_files(self, d, token, namespace):
        """Writes D/token, D/ca.crt, D/namespace: a pod's in-cluster credentials for this fake (fk_access.py)."""
        return fk_access.serviceaccount_files(self, d, token, namespace)

    def count(self, pattern=None, method=None):
        """Requests seen whose path matches the regex pattern (all when None), of one method or any."""
        with self.lock:
            return sum(n for k, n in self.counts.items()
                       if (method is None or k.split(" ", 1)[0] == method)
                       and (pattern is None or re.search(pattern, k.split(" ", 1)[1])))

    def reset_counts(self):
        with self.lock:
            self.counts.clear()
            self.requests.clear()

    def objects(self, plural, ns=None, group=None):
        with self.store.lock:
            return [copy.deepcopy(o) for k, o in sorted(self.store.objs.items())
                    if k[1] == plural and (ns is None or k[2] == ns) and (group is None or k[0] == group)]

    def obj(self, plural, ns, name):
        with self.store.lock:
            for k, o in self.store.objs.items():
                if k[1] == plural and k[2] == (ns or "") and k[3] == name:
                    return copy.deepcopy(o)
        return None


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def make_certs(d, client_users):
    """A CA, a server certificate for 127.0.0.1/localhost and one client certificate per user (openssl)."""
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=d)
    if not os.path.exists(os.path.join(d, "ca.crt")):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=fakekube-ca")
    if not os.path.exists(os.path.join(d, "server.crt")):
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "server.crt", "-days", "2", "-extfile", "server.ext")
    for u in client_users:
        if os.path.exists(os.path.join(d, "client-%s.crt" % u)):
            continue
        with open(os.path.join(d, "client.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            "client-%s.key" % u, "-out", "client-%s.csr" % u, "-subj", "/O=system:masters/CN=%s" % u)
        run("x509", "-req", "-in", "client-%s.csr" % u, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "client-%s.crt" % u, "-days", "2", "-extfile", "client.ext")


def main():
    import argparse
    ap = argparse.ArgumentParser(description="fake Kubernetes API server on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", metavar="DIR", help="serve HTTPS with certificates generated in DIR")
    ap.add_argument("--token", action="append", default=[], help="accepted bearer token (user admin)")
    ap.add_argument("--kubeconfig", help="write a kubeconfig for this server here")
    ap.add_argument("--page-cap", type=int, default=0)
    ap.add_argument("--rollout-delay", type=float, default=0.3)
    ap.add_argument("--groups", type=int, default=0, help="serve this many extra API groups (bench)")
    ap.add_argument("--no-aggregated", action="store_true", help="offer only per-group discovery")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    fk = FakeKube(tokens={t: "admin" for t in a.token}, tls_dir=a.tls, page_cap=a.page_cap,
                  rollout_delay=a.rollout_delay, verbose=a.verbose, port=a.port, anonymous=not a.token and not a.tls,
                  extra_groups=a.groups, aggregated=() if a.no_aggregated else ("v2", "v2beta1"))
    fk.start()
    if a.kubeconfig:
        fk.kubeconfig(a.kubeconfig, token=a.token[0] if a.token else None,
                      client_user="admin" if a.tls and not a.token else None)
    print("fakekube listening on %s" % fk.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fk.stop()


if __name__ == "__main__":
    main()
