# fk_watch.py — fakekube's watch: a resourceVersion-ordered journal of every object change, streamed to `?watch=true` requests.
"""How a real API server answers a watch, from https://kubernetes.io/docs/reference/using-api/api-concepts/
(cited beside each behaviour below):
  - GET COLLECTION?watch=true streams one JSON object per line, {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
    "object": OBJ}, over chunked transfer encoding, each object with its new metadata.resourceVersion
  - resourceVersion semantics for watch: unset or "0" starts with synthetic ADDED events for what exists; any
    other value starts exactly after it
  - a resourceVersion older than the history kept: 200, then one ERROR event whose Status is 410 Gone, reason
    Expired ("too old resource version"); a newer one than the server has: 504 Timeout, ResourceVersionTooLarge
  - allowWatchBookmarks=true: BOOKMARK events now and then, the object carrying only the kind and
    metadata.resourceVersion
  - timeoutSeconds ends the stream cleanly after that long
  - labelSelector/fieldSelector: an object that stops matching arrives as DELETED, one that starts as ADDED

The journal: after every request (and every watch loop turn, which also runs the fake's controllers, as a real
cluster's run without anyone asking) the store is compared with what was last seen, by each object's
resourceVersion; what differs becomes events. Every change in the fake stamps a new resourceVersion, so nothing is
missed; several writes to one object within one request come out as one MODIFIED.

Test controls (POST /fakekube/watch, JSON; the answer says how many streams are open and were served):
{"compact": true} moves the revision on (as a write elsewhere in the cluster does) and forgets the history up to it,
so a watch from any resourceVersion handed out so far gets 410, as after etcd's compaction; {"drop": true} breaks
every open watch connection mid-stream (no final chunk); both in one request happen at once; {"bookmark_interval":
S}; {"history": N} events kept.
"""
import collections
import copy
import json
import socket
import sys
import threading
import time

HISTORY = 10000          # events kept; a watch from before the oldest gets 410 Gone
DEFAULT_TIMEOUT = 1800   # a watch without timeoutSeconds: the API server's --min-request-timeout
TURN = 0.1               # seconds between journal checks while a watch waits


class Tracked(dict):
    """store.objs, noting which keys were stored or deleted since the journal last looked."""

    def __init__(self, objs):
        super().__init__(objs)
        self.dirty = set()

    def __setitem__(self, key, value):
        self.dirty.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.dirty.add(key)
        super().__delitem__(key)

    def pop(self, key, *default):
        self.dirty.add(key)
        return super().pop(key, *default)


class Journal:
    def __init__(self, store):
        self.store = store
        # what changed is found without scanning everything (an apply of N objects must not cost N^2): keys stored
        # or deleted are tracked; a resourceVersion handed out that no tracked object carries means an object
        # was changed in place, and only then is every object compared
        store.objs = Tracked(store.objs)
        self.issued = set()
        self._next_rv = store.next_rv

        def next_rv():
            rv = self._next_rv()
            self.issued.add(rv)
            return rv
        store.next_rv = next_rv
        self.cond = threading.Condition(store.lock)
        self.events = collections.deque()   # (rv, key, type, obj, prev)
        self.seen = {}                      # key -> (resourceVersion, deep copy of the object)
        self.seen_rv = None
        self.oldest = store.rv              # events after this are all in self.events
        self.trimmed = 0                    # the newest event forgotten: an open watch behind it missed events
        self.history = HISTORY
        self.bookmark_interval = 1.0
        self.drops = 0                      # bumped by {"drop": true}: open streams break
        self.open = 0                       # watch streams being served
        self.served = 0                     # watch requests answered 200
        self.sync()

    def sync(self):
        """Turns what changed in the store since the last call into events. Call with store.lock held."""
        st = self.store
        if st.rv == self.seen_rv:
            return
        new = []
        dirty, st.objs.dirty = st.objs.dirty, set()
        issued, self.issued = self.issued, set()
        if self.seen_rv is not None:
            issued -= {(st.objs[k].get("metadata") or {}).get("resourceVersion") for k in dirty if k in st.objs}
        keys = st.objs.keys() if issued or self.seen_rv is None else [k for k in dirty if k in st.objs]
        for key in keys:
            o = st.objs[key]
            rv = (o.get("metadata") or {}).get("resourceVersion")
            old = self.seen.get(key)
            if old is None or old[0] != rv:
                cur = copy.deepcopy(o)
                new.append((int(rv), key, "ADDED" if old is None else "MODIFIED", cur, old and old[1]))
                self.seen[key] = (rv, cur)
        gone = [k for k in (self.seen if issued or self.seen_rv is None else dirty) if k in self.seen and k not in st.objs]
        new.sort(key=lambda e: e[0])
        for key in gone:
            # a DELETED event carries the object's last state with the deletion's resourceVersion
            # (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
            last = copy.deepcopy(self.seen.pop(key)[1])
            rv = self._next_rv()
            last["metadata"]["resourceVersion"] = rv
            new.append((int(rv), key, "DELETED", last, last))
        self.events.extend(new)
        while len(self.events) > self.history:
            self.oldest = self.trimmed = self.events.popleft()[0]
        self.seen_rv = st.rv
        if new:
            self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.sync()
            if self.events:
                self.trimmed = self.events[-1][0]
            self.events.clear()
            self.oldest = self.store.rv

    def drop(self):
        with self.cond:
            self.drops += 1
            self.cond.notify_all()


def journal(store):
    with store.lock:
        j = getattr(store, "journal", None)
        if j is None:
            j = store.journal = Journal(store)
        return j


def after_request(store):
    """fakekube calls this after each request: the request's changes become events at once."""
    with store.lock:
        journal(store).sync()


def control(store, body):
    j = journal(store)
    with j.cond:   # one step: a client that was dropped cannot come back in between
        if body.get("compact"):
            # writes elsewhere moved the revision on (as any write in the cluster does), then etcd compacted
            j._next_rv()
            j.compact()
        if body.get("drop"):
            j.drop()
        if "bookmark_interval" in body:
            j.bookmark_interval = float(body["bookmark_interval"])
        if "history" in body:
            j.history = int(body["history"])
        return {"open": j.open, "served": j.served, "oldest": str(j.oldest), "resourceVersion": str(store.rv)}


def _api(handler):
    # fakekube's own module, also when it runs as __main__ (a second import would have other ApiError classes)
    return sys.modules[type(handler).__module__]


def _matches(api, res, ns, labels_req, fields, key, obj):
    if key[0] != res.group or key[1] != res.plural:
        return False
    if res.namespaced and ns and key[2] != ns:
        return False
    if obj is None:
        return False
    md = obj.get("metadata") or {}
    if "metadata.name" in fields and md.get("name") != fields["metadata.name"]:
        return False
    if "metadata.namespace" in fields and md.get("namespace") != fields["metadata.namespace"]:
        return False
    return api.selector_matches(labels_req, md.get("labels"))


def _fields(field_sel):
    out = {}
    for part in (field_sel or "").split(","):
        if part.strip():
            k, _, v = part.partition("=")
            out[k.strip().rstrip("=")] = v.lstrip("=").strip()
    return out


def serve(handler, res, ns, q):
    """Answers GET COLLECTION?watch=true (handler: fakekube's request handler)."""
    fakekube = _api(handler)
    store = handler.server.fk.store
    j = journal(store)
    labels_req = fakekube.parse_selector(q.get("labelSelector"))
    fields = _fields(q.get("fieldSelector"))
    bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
    try:
        timeout = float(q.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    except ValueError:
        raise fakekube.ApiError(400, "BadRequest", "timeoutSeconds must be a number of seconds")
    rv_q = q.get("resourceVersion") or ""
    initial, expired = [], None
    with j.cond:
        store.tick()
        j.sync()
        if rv_q in ("", "0"):
            # resourceVersion unset or "0": "Get State and Start at Most Recent" / "at Any": synthetic ADDED
            # events for every object that exists, then the changes after
            # (https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch)
            pos = store.rv
            for key in sorted(store.objs):
                o = store.objs[key]
                if _matches(fakekube, res, ns, labels_req, fields, key, o):
                    initial.append({"type": "ADDED", "object": copy.deepcopy(o)})
        else:
            try:
                pos = int(rv_q)
            except ValueError:
                raise fakekube.ApiError(400, "BadRequest", 'invalid resource version "%s"' % rv_q)
            # a resourceVersion newer than the server's: it waits a little for it, then gives up with 504
            # (https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch, "Start at Exact")
            deadline = time.monotonic() + 3
            while pos > store.rv and time.monotonic() < deadline:
                j.cond.wait(TURN)
                j.sync()
            if pos > store.rv:
                raise fakekube.ApiError(504, "Timeout", "Timeout: Too large resource version: %d, current: %d"
                                        % (pos, store.rv),
                                        {"causes": [{"reason": "ResourceVersionTooLarge",
                                                     "message": "Too large resource version"}], "retryAfterSeconds": 1})
            if pos < j.oldest:
                # older than the history kept (etcd compacts it; 5 minutes by default): 410 Gone, reason Expired,
                # sent as an ERROR event in a 200 stream; the client lists again
                # (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
                expired = "too old resource version: %d (%d)" % (pos, j.oldest)
        j.open += 1
        j.served += 1
        drops = j.drops
    try:
        _stream(handler, fakekube, store, j, res, ns, labels_req, fields, bookmarks, timeout, pos, initial, expired, drops)
    finally:
        with j.cond:
            j.open -= 1


def _status_gone(message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "Expired", "code": 410}


def _stream(handler, api, store, j, res, ns, labels_req, fields, bookmarks, timeout, pos, initial, expired, drops):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()

    def send(events):
        # chunked transfer encoding, one event per line
        # (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
        data = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events)
        if data:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            handler.wfile.flush()
    try:
        if expired:
            send([{"type": "ERROR", "object": _status_gone(expired)}])
            handler.wfile.write(b"0\r\n\r\n")
            return
        send(initial)
        end = time.monotonic() + timeout
        next_bookmark = time.monotonic() + j.bookmark_interval
        while True:
            out = []
            with j.cond:
                now = time.monotonic()
                if j.drops != drops or handler.server.fk.stopping:
                    break
                if now >= end:
                    # timeoutSeconds: the server ends the stream; the client watches again from the last
                    # resourceVersion it saw (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
                    handler.wfile.write(b"0\r\n\r\n")
                    handler.wfile.flush()
                    return
                if not j.events or j.events[-1][0] <= pos:
                    j.cond.wait(min(TURN, max(0.0, end - now)))
                    store.tick()   # the fake's controllers run without requests, as a cluster's do
                    j.sync()
                    if j.drops != drops or handler.server.fk.stopping:
                        break
                if pos < j.trimmed:
                    # this watcher fell behind the kept history
                    out.append({"type": "ERROR", "object": _status_gone("too old resource version: %d (%d)"
                                                                        % (pos, j.oldest))})
                else:
                    for rv, key, typ, obj, prev in j.events:
                        if rv <= pos:
                            continue
                        now_in = typ != "DELETED" and _matches(api, res, ns, labels_req, fields, key, obj)
                        was_in = prev is not None and _matches(api, res, ns, labels_req, fields, key, prev)
                        if typ == "DELETED":
                            t = "DELETED" if was_in else None
                        elif now_in:
                            t = "ADDED" if typ == "ADDED" or not was_in else "MODIFIED"
                        else:
                            # left the selector: DELETED for this watcher
                            # (https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch)
                            t = "DELETED" if was_in else None
                        if t == "DELETED" and typ != "DELETED":
                            gone = copy.deepcopy(prev)
                            gone["metadata"]["resourceVersion"] = str(rv)
                            out.append({"type": t, "object": gone})
                        elif t:
                            out.append({"type": t, "object": obj})
                    if j.events:
                        pos = max(pos, j.events[-1][0])
                    pos = max(pos, j.seen_rv or pos)
                if bookmarks and not out and time.monotonic() >= next_bookmark:
                    # allowWatchBookmarks: the object carries only the kind and the resourceVersion up to which
                    # everything was sent (https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks)
                    out.append({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.api_version,
                                                               "metadata": {"resourceVersion": str(pos)}}})
                    next_bookmark = time.monotonic() + j.bookmark_interval
            send(out)
            if out and out[-1]["type"] == "ERROR":
                handler.wfile.write(b"0\r\n\r\n")
                return
    except OSError:  # the client went away (BrokenPipe, ConnectionReset, SSL EOF)
        handler.close_connection = True
        return
    # dropped on purpose: the connection ends mid-stream, without the last chunk
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
