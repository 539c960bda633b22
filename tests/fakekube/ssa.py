# ssa.py — fakekube's field paths with keyed lists: server-side apply and strategic merge treat containers/env/ports/... element by element.
"""
Server-side apply tracks ownership per field, and lists declared as maps (x-kubernetes-list-type:
map, patchMergeKey in the built-in types) per element, identified by its key fields:
https://kubernetes.io/docs/reference/using-api/server-side-apply/#merge-strategy
("Lists ... with x-kubernetes-list-type: map ... the list is treated as a map and its elements are
merged by their keys"); managedFields spell such an element `k:{"name":"web"}`
(https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management).
Strategic merge patch merges the same lists by the same keys
(https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/#notes-on-the-strategic-merge-patch).

A path is a tuple of segments: a map key, or 'k:{...}' (compact JSON of the key fields) for one
element of a keyed list. Other lists are atomic: one leaf. The functions keep the names and
contracts of fakekube's path helpers, so paths without keyed segments behave exactly as before.
"""
import copy
import json

# List field name -> its merge keys, as the built-in types declare them (patchMergeKey /
# listMapKeys). Simplification: ports are keyed by the port number alone (protocol is a second
# key that defaults to TCP).
KEYED = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
}
PORT_KEYS = ("containerPort", "port")


def list_keys(field, items):
    """The key fields of list `field` when every element is a map carrying them, else None (atomic)."""
    if not isinstance(items, list) or not items or not all(isinstance(e, dict) for e in items):
        return None
    keys = KEYED.get(field)
    if field == "ports":
        keys = next(((k,) for k in PORT_KEYS if all(k in e for e in items)), None)
    if not keys or not all(all(k in e for k in keys) for e in items):
        return None
    return keys


def elem_segment(keys, elem):
    return "k:" + json.dumps({k: elem[k] for k in keys}, sort_keys=True, separators=(",", ":"))


def _match(seg, elem):
    want = json.loads(seg[2:])
    return isinstance(elem, dict) and all(elem.get(k) == v for k, v in want.items())


def leaf_paths(obj, prefix=()):
    out = set()
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            keys = list_keys(k, v)
            if keys:
                for e in v:
                    seg = prefix + (k, elem_segment(keys, e))
                    out.add(seg + (".",))   # the element itself (managedFields' ".")
                    out |= leaf_paths(e, seg)
            else:
                out |= leaf_paths(v, prefix + (k,))
    elif prefix:
        out.add(prefix)
    return out


def get_path(obj, path):
    for k in path:
        if k == ".":
            # the element's membership: two managers may both own it without conflict
            return (True, True) if isinstance(obj, dict) else (None, False)
        if k.startswith("k:") and isinstance(obj, list):
            obj = next((e for e in obj if _match(k, e)), None)
            if obj is None:
                return None, False
            continue
        if not isinstance(obj, dict) or k not in obj:
            return None, False
        obj = obj[k]
    return obj, True


def set_path(obj, path, value):
    if path and path[-1] == ".":
        # the element: make sure it exists (with its key fields)
        path = path[:-1]
        value = None
    for i, k in enumerate(path):
        last = i == len(path) - 1
        if k.startswith("k:"):
            continue
        nxt = path[i + 1] if not last else None
        if last:
            # an empty map or keyed list merges into what others set there rather than wiping it
            if value == {} and isinstance(obj.get(k), dict):
                return
            if value == [] and (k in KEYED or k == "ports") and isinstance(obj.get(k), list):
                return
            obj[k] = copy.deepcopy(value)
            return
        if nxt.startswith("k:"):
            lst = obj.get(k)
            if not isinstance(lst, list):
                lst = obj[k] = []
            elem = next((e for e in lst if _match(nxt, e)), None)
            if elem is None:
                elem = dict(json.loads(nxt[2:]))
                lst.append(elem)
            obj = elem
        else:
            if not isinstance(obj.get(k), dict):
                obj[k] = {}
            obj = obj[k]


def del_path(obj, path):
    if path and path[-1] == ".":
        # dropping the element itself
        parent, ok = get_path(obj, path[:-3]) if len(path) >= 3 else (obj, True)
        field, seg = path[-3], path[-2]
        if ok and isinstance(parent, dict) and isinstance(parent.get(field), list):
            parent[field] = [e for e in parent[field] if not _match(seg, e)]
            if not parent[field]:
                del parent[field]
        return
    if len(path) >= 2 and path[-2].startswith("k:") and path[-1] in json.loads(path[-2][2:]):
        return  # a key field goes with its element (its "." path), never alone
    stack = []
    cur = obj
    for k in path[:-1]:
        if k.startswith("k:"):
            nxt = next((e for e in cur if _match(k, e)), None) if isinstance(cur, list) else None
        else:
            nxt = cur.get(k) if isinstance(cur, dict) else None
        if nxt is None:
            return
        stack.append((cur, k))
        cur = nxt
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    # drop maps left empty by the removal (a keyed element keeps its key fields until its "." goes)
    for parent, k in reversed(stack):
        if k.startswith("k:"):
            break
        if isinstance(parent[k], dict) and not parent[k]:
            del parent[k]
        else:
            break


def fields_v1(paths):
    root = {}
    for p in sorted(paths):
        node = root
        for k in p:
            node = node.setdefault(k if k.startswith("k:") or k == "." else "f:" + k, {})
    return root


def strategic_merge(dst, patch):
    """Strategic merge patch: maps merge, null deletes, keyed lists merge element by element
    (an element with "$patch": "delete" is removed), other lists are replaced."""
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            strategic_merge(dst[k], v)
        elif isinstance(v, list) and isinstance(dst.get(k), list) and list_keys(k, v) and list_keys(k, dst[k]):
            keys = list_keys(k, v)
            for e in v:
                seg = elem_segment(keys, e)
                have = next((x for x in dst[k] if _match(seg, x)), None)
                if e.get("$patch") == "delete":
                    dst[k] = [x for x in dst[k] if not _match(seg, x)]
                elif have is not None:
                    strategic_merge(have, e)
                else:
                    dst[k].append(copy.deepcopy(e))
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def reorder_like(new, body, old):
    """After an apply: keyed-list elements that were there keep their place; the ones the apply
    added follow, in the applier's order (not in the order their paths were set)."""
    if not isinstance(new, dict) or not isinstance(body, dict):
        return
    old = old if isinstance(old, dict) else {}
    for k, v in body.items():
        have = new.get(k)
        if isinstance(v, dict):
            reorder_like(have, v, old.get(k))
        elif isinstance(v, list) and isinstance(have, list) and list_keys(k, v) and list_keys(k, have):
            keys = list_keys(k, v)
            before = old.get(k) if isinstance(old.get(k), list) else []
            kept = [x for x in have if any(_match(elem_segment(keys, x), o) for o in before if isinstance(o, dict)
                                           and all(kk in o for kk in keys))]
            added = [x for s in (elem_segment(keys, e) for e in v) for x in have
                     if _match(s, x) and not any(x is y for y in kept)]
            rest = [x for x in have if not any(x is y for y in kept + added)]
            new[k] = kept + added + rest
            for e in v:
                seg = elem_segment(keys, e)
                mine = next((x for x in new[k] if _match(seg, x)), None)
                was = next((x for x in before if isinstance(x, dict) and _match(seg, x)), None)
                reorder_like(mine, e, was)


def field_string(path):
    """A path as the apiserver prints it in conflicts: .spec.containers[name="web"].image"""
    out = ""
    for k in path:
        if k == ".":
            continue
        if k.startswith("k:"):
            out += "[" + ",".join("%s=%s" % (a, json.dumps(b)) for a, b in sorted(json.loads(k[2:]).items())) + "]"
        else:
            out += "." + k
    return out
