# lifecycle.py — fakekube's deletion lifecycle (finalizers, Terminating namespaces), more immutability rules, and broken API groups.
"""
Answers as a real API server does (each rule cites the Kubernetes docs it follows):
  finalizers  DELETE of an object with metadata.finalizers only sets deletionTimestamp; it goes
              away when a write removes its last finalizer
  namespaces  DELETE puts the namespace in phase Terminating first; it deletes its contents and
              goes away once nothing with a finalizer is left in it; creating anything in it is
              403 Forbidden
  immutable   StatefulSet spec fields other than the updatable ones (422 Forbidden), a
              PersistentVolumeClaim's spec except resources.requests (422 Forbidden)
  broken      an API group whose (aggregated) APIService does not answer: its discovery document
              and every request to it are 503 ServiceUnavailable, while /apis still lists it
"""
import copy
import datetime


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/ : "When you tell
# Kubernetes to delete an object that has finalizers specified for it, the Kubernetes API marks the
# object for deletion by populating .metadata.deletionTimestamp, and returns a 202 status code ...
# the object remains in a terminating state"; once the finalizers field is empty it is deleted.
def mark_deleting(obj, rv):
    """Marks obj (stored) as being deleted; returns the answer body."""
    md = obj["metadata"]
    md.setdefault("deletionTimestamp", _now())
    md.setdefault("deletionGracePeriodSeconds", 0)
    md["resourceVersion"] = rv
    return copy.deepcopy(obj)


def has_finalizers(obj):
    return bool((obj.get("metadata") or {}).get("finalizers"))


def finished(obj):
    """True when obj is marked for deletion and no finalizer holds it any more."""
    md = obj.get("metadata") or {}
    return bool(md.get("deletionTimestamp")) and not md.get("finalizers")


# https://kubernetes.io/docs/tasks/administer-cluster/namespaces/#deleting-a-namespace and
# https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/ : a deleted
# namespace's status.phase is "Terminating" until everything in it is gone; the NamespaceLifecycle
# admission plugin forbids new objects in it
# (https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle).
def terminating(ns_obj):
    return bool(ns_obj) and (ns_obj.get("status") or {}).get("phase") == "Terminating"


def forbidden_in_terminating(resource, name, ns):
    """(code, reason, message) of the NamespaceLifecycle refusal."""
    return (403, "Forbidden", '%s "%s" is forbidden: unable to create new content in namespace %s because it is '
            'being terminated' % (resource, name, ns))


def start_terminating(ns_obj, rv):
    ns_obj["metadata"].setdefault("deletionTimestamp", _now())
    ns_obj["status"] = {"phase": "Terminating", "conditions": [
        {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
         "message": "Some resources are remaining", "lastTransitionTime": _now()}]}
    ns_obj["metadata"]["resourceVersion"] = rv


# https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/ ("updates to statefulset spec
# for fields other than ... are forbidden": the apiserver's ValidateStatefulSetUpdate message)
STS_UPDATABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                 "minReadySeconds")
STS_MESSAGE = ("Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
               "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
# https://kubernetes.io/docs/concepts/storage/persistent-volumes/#expanding-persistent-volumes-claims :
# only the requested size (and volumeAttributesClassName) of a bound claim may change
PVC_MESSAGE = "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"


def immutable_causes(kind, old, new):
    """Extra 422 causes for an update of kind from old to new."""
    causes = []
    if kind == "StatefulSet":
        a = {k: v for k, v in (old.get("spec") or {}).items() if k not in STS_UPDATABLE}
        b = {k: v for k, v in (new.get("spec") or {}).items() if k not in STS_UPDATABLE}
        if a != b:
            causes.append({"reason": "FieldValueForbidden", "field": "spec", "message": STS_MESSAGE})
    if kind == "PersistentVolumeClaim":
        def strip(spec):
            spec = copy.deepcopy(spec or {})
            spec.pop("volumeAttributesClassName", None)
            (spec.get("resources") or {}).pop("requests", None)
            if spec.get("resources") == {}:
                spec.pop("resources")
            return spec
        if strip(old.get("spec")) != strip(new.get("spec")):
            causes.append({"reason": "FieldValueForbidden", "field": "spec", "message": PVC_MESSAGE})
    return causes


# https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/ : an APIService
# whose backend is unavailable makes discovery of its group fail with 503 ("the server is currently
# unable to handle the request"), which kubectl reports as "unable to retrieve the complete list of
# server APIs".
BROKEN_MESSAGE = "the server is currently unable to handle the request"
