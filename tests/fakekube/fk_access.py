# fk_access.py — fakekube's authorization denials a test asks for (403 Forbidden, worded as RBAC's) and the in-cluster service-account files of a pod.
"""Denials: FakeKube(deny={("create", "namespaces")}) or POST /fakekube/deny {"deny": [[VERB, RESOURCE], ...]}
({"clear": true} first forgets the earlier ones). RESOURCE is the plural ("namespaces", "leases"), optionally
with its subresource ("services/proxy") or its group ("leases.coordination.k8s.io"); VERB is one of the API
verbs (get list watch create update patch delete deletecollection) or "*". A denied request answers what the
API server's authorization filter answers when no authorizer allows it
(https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-whether-a-request-is-allowed-or-denied
and https://kubernetes.io/docs/reference/access-authn-authz/authorization/#review-your-request-attributes):
403, reason Forbidden, details {group, kind: RESOURCE, name}, and the message
  'namespaces is forbidden: User "X" cannot create resource "namespaces" in API group "" at the cluster scope'
  'configmaps "NAME" is forbidden: User "X" cannot get resource "configmaps" in API group "" in the namespace "NS"'
Denials apply to every user (users in `readonly` are refused every write as before).

Service-account files: fk.serviceaccount_files(DIR, token, namespace) writes DIR/token, DIR/ca.crt (the fake's
CA) and DIR/namespace, the three files a pod finds at /var/run/secrets/kubernetes.io/serviceaccount
(https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/#directly-accessing-the-rest-api); the
token must be one of FakeKube(tokens=...)'s, e.g. {TOKEN: "system:serviceaccount:NS:NAME"}.
"""
import os
import shutil

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


def verb_of(method, name, sub, q):
    """The API verb a resource request is authorized as (the request attributes' verb)."""
    if method == "GET":
        if sub is None and name is None:
            return "watch" if q.get("watch") in ("1", "true") else "list"
        return "get"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if name is not None or sub is not None else "deletecollection"
    return method.lower()


def check(handler, user, method, res, ns, name, sub, q):
    """Raises the 403 an RBAC-denied request gets when (verb, resource) is denied."""
    fk = handler.server.fk
    if not fk.deny:
        return
    verb = verb_of(method, name, sub, q)
    resource = res.plural + ("/" + sub if sub else "")
    names = {resource, res.plural + ("." + res.group if res.group else "") + ("/" + sub if sub else "")}
    if not any((v in (verb, "*")) and r in names for v, r in fk.deny):
        return
    where = 'in the namespace "%s"' % ns if ns and res.namespaced else "at the cluster scope"
    reason = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (user, verb, resource, res.group, where)
    # the object's name is part of the attributes for get/update/patch/delete, not for create/list
    objname = "" if verb in ("create", "list", "watch", "deletecollection") else (name or "")
    gr = res.plural + ("." + res.group if res.group else "")
    msg = ('%s "%s" is forbidden: %s' % (gr, objname, reason)) if objname else ("%s is forbidden: %s" % (gr, reason))
    n = int(handler.headers.get("Content-Length") or 0)
    if n:
        handler.rfile.read(n)  # the body is the request's, not the next request's on this connection
    raise handler_error(handler, 403, "Forbidden", msg, {"name": objname, "group": res.group, "kind": res.plural})


def handler_error(handler, *args):
    import sys
    return sys.modules[type(handler).__module__].ApiError(*args)


def control(fk, body):
    """POST /fakekube/deny."""
    with fk.lock:
        if body.get("clear"):
            fk.deny.clear()
        for v, r in body.get("deny") or []:
            fk.deny.add((v, r))
        return {"deny": sorted(list(d) for d in fk.deny)}


def serviceaccount_files(fk, d, token, namespace):
    """The in-cluster files a pod of this fake would have: token, ca.crt, namespace (mode 0644, dir 0755)."""
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "token"), "w") as f:
        f.write(token)
    with open(os.path.join(d, "namespace"), "w") as f:
        f.write(namespace)
    if fk.tls_dir:
        shutil.copyfile(os.path.join(fk.tls_dir, "ca.crt"), os.path.join(d, "ca.crt"))
    for n in os.listdir(d):
        os.chmod(os.path.join(d, n), 0o644)
    return d
