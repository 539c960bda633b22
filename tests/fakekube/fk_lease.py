# fk_lease.py — fakekube's Leases (coordination.k8s.io/v1): the resource, MicroTime fields, and updates that must name the resourceVersion they read.
"""From https://kubernetes.io/docs/concepts/architecture/leases/ and
https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/lease-v1/ (cited beside each behaviour):
  - Lease is namespaced, served at /apis/coordination.k8s.io/v1 with every verb (generic CRUD, watch)
  - spec: holderIdentity, leaseDurationSeconds, acquireTime, renewTime (MicroTime: RFC 3339 with exactly six
    fractional digits, "2006-01-02T15:04:05.000000Z07:00"), leaseTransitions; a body whose MicroTime is not in
    that form cannot be decoded: 400 BadRequest; validation wants leaseDurationSeconds > 0 and
    leaseTransitions >= 0: else 422 Invalid
  - update (PUT) is conditional only (the registry's leaseStrategy does not allow unconditional updates): without
    metadata.resourceVersion, 422 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update';
    a stale one, 409 Conflict 'Operation cannot be fulfilled on leases.coordination.k8s.io "NAME": the object has
    been modified; please apply your changes to the latest version and try again' (Store.update); a PUT of a
    Lease that does not exist creates it (create on update: 201)
This is what client-go's leaderelection relies on
(https://kubernetes.io/docs/concepts/architecture/leases/#leader-election).
"""
import re

MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")
LAYOUT = "2006-01-02T15:04:05.000000Z07:00"


def resource(res_cls):
    return res_cls("coordination.k8s.io", "v1", "leases", "Lease", True)


def check(mod, res, obj):
    """Called on every write of an object before it is stored (mod: the fakekube module, for its errors)."""
    if res.kind != "Lease" or res.group != "coordination.k8s.io":
        return
    spec = obj.get("spec") or {}
    if not isinstance(spec, dict):
        raise mod.ApiError(400, "BadRequest", 'Lease in version "v1" cannot be handled as a Lease: spec: expected '
                           "an object")
    for f in ("acquireTime", "renewTime"):
        v = spec.get(f)
        if v is not None and (not isinstance(v, str) or not MICRO.match(v)):
            raise mod.ApiError(400, "BadRequest", 'Lease in version "v1" cannot be handled as a Lease: parsing time '
                               '"%s" as "%s": cannot parse it (spec.%s must be a MicroTime)' % (v, LAYOUT, f))
    causes = []
    d = spec.get("leaseDurationSeconds")
    if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d <= 0):
        causes.append({"reason": "FieldValueInvalid", "field": "spec.leaseDurationSeconds",
                       "message": "Invalid value: %s: must be greater than 0" % d})
    t = spec.get("leaseTransitions")
    if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t < 0):
        causes.append({"reason": "FieldValueInvalid", "field": "spec.leaseTransitions",
                       "message": "Invalid value: %s: must be greater than or equal to 0" % t})
    if causes:
        raise mod.invalid(res, (obj.get("metadata") or {}).get("name", ""), causes)


def put(mod, store, res, ns, name, body, manager, dry):
    """PUT of a Lease: (status code, object)."""
    with store.lock:
        exists = store._key(res, ns, name) in store.objs
        if not exists:
            store._check_body(res, body, ns, name)  # 400 for a body that is not a Lease named NAME
            body["metadata"].pop("resourceVersion", None)
            return 201, store.create(res, ns, body, manager, dry)
        rv = ((body or {}).get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        if not rv:
            raise mod.ApiError(422, "Invalid", '%s "%s" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
                               "must be specified for an update" % (mod.gr(res), name),
                               {"name": name, "group": res.group, "kind": res.plural, "causes": [
                                   {"reason": "FieldValueInvalid", "field": "metadata.resourceVersion",
                                    "message": "Invalid value: 0x0: must be specified for an update"}]})
        return 200, store.update(res, ns, name, body, manager, dry)
