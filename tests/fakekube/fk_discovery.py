# fk_discovery.py — fakekube's aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) with ETags, and the many-groups bench mode.
"""Aggregated discovery, as documented at
https://kubernetes.io/docs/concepts/overview/kubernetes-api/#aggregated-discovery and
https://kubernetes.io/docs/reference/using-api/api-concepts/ (content negotiation): a client asks for it
with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList` on /api (the core group)
and /apis (every other group); the server answers an APIGroupDiscoveryList with that Content-Type, an ETag,
and 304 Not Modified to a matching If-None-Match. A server that does not offer it answers the plain
APIVersions / APIGroupList documents and the client discovers per group version."""
import hashlib
import json

MEDIA = "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"


def negotiate(accept, offered):
    """The aggregated version (\"v2\", \"v2beta1\") the Accept header asks for first among those offered,
    or None when the client wants the plain documents (or asked for protobuf only)."""
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0] != "application/json":
            continue
        params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if not params.get("g"):
            return None  # plain application/json comes next in preference: the client accepts the old form
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList" \
                and params.get("v") in offered:
            return params["v"]
    return None


def _resource(r):
    d = {"resource": r.plural, "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
         "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.kind.lower(),
         "verbs": r.verbs}
    if r.short:
        d["shortNames"] = r.short
    if r.categories:
        d["categories"] = r.categories
    subs = []
    if r.kind in ("Deployment", "Pod", "Service", "StatefulSet", "DaemonSet", "Job"):
        subs.append({"subresource": "status", "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                     "verbs": ["get", "patch", "update"]})
    if r.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        subs.append({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                     "verbs": ["get", "patch", "update"]})
    if r.kind == "Pod":
        subs.append({"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                     "verbs": ["get"]})
    if subs:
        d["subresources"] = subs
    return d


def document(resources, core, version, stale=()):
    """The APIGroupDiscoveryList of the core group (core=True, for /api) or of every other group (/apis).
    Versions are listed newest-preferred first, as the server orders them by preference. Groups in stale
    are those whose aggregated APIService did not answer the aggregator: their versions say
    "freshness": "Stale" and list no resources (the client must not trust them; see
    https://github.com/kubernetes/enhancements/tree/master/keps/sig-api-machinery/3352-aggregated-discovery)."""
    groups = {}
    for r in resources:
        if bool(r.group) == core:
            continue
        groups.setdefault(r.group, {}).setdefault(r.version, []).append(r)
    items = []
    for g in sorted(groups):
        vs = sorted(groups[g])
        if g in stale:
            items.append({"metadata": {"name": g, "creationTimestamp": None},
                          "versions": [{"version": v, "freshness": "Stale", "resources": []} for v in vs]})
            continue
        items.append({"metadata": {"name": g, "creationTimestamp": None},
                      "versions": [{"version": v, "freshness": "Current",
                                    "resources": [_resource(r) for r in sorted(groups[g][v], key=lambda r: r.plural)]}
                                   for v in vs]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/" + version,
            "metadata": {}, "items": items}


def etag(doc):
    return '"%s"' % hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def serve(handler, store, core, version):
    """Answers the aggregated document (or 304 when the client's If-None-Match still holds)."""
    fk = handler.server.fk
    stale = set(getattr(fk, "stale_groups", ())) | set(getattr(fk, "broken_groups", ()))
    with store.lock:
        doc = document(list(store.res.values()), core, version, stale)
    tag = etag(doc)
    if handler.headers.get("If-None-Match") == tag:
        handler.send_response(304)
        handler.send_header("ETag", tag)
        handler.send_header("Vary", "Accept")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    data = json.dumps(doc).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", MEDIA % version)
    handler.send_header("ETag", tag)
    handler.send_header("Vary", "Accept")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def add_groups(store, res_cls, n):
    """n extra API groups, one namespaced kind each, as a cluster with many operators installed shows
    (each CRD group is an API group of its own)."""
    for i in range(n):
        r = res_cls("bench%02d.example.com" % i, "v1", "widgets", "Widget", True)
        store.res[(r.group, r.version, r.plural)] = r
