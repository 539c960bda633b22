# fk_proxy.py — fakekube's API server proxies: the service proxy (services/NAME[:PORT]/proxy/PATH) and the streaming forwarder it shares with the pod proxy.
"""What the API server's proxy does, from
https://kubernetes.io/docs/tasks/access-application-cluster/access-cluster-services/#manually-constructing-apiserver-proxy-urls
and https://kubernetes.io/docs/tasks/extend-kubernetes/http-proxy-access-api/ (cited beside each behaviour):
  - /api/v1/namespaces/NS/services/[http:|https:]NAME[:PORT]/proxy/PATH: PORT is the Service port's name or
    number, or left out for a Service whose (only) port has no name; the request goes to an endpoint of that port
  - the answer is passed on as it comes (the proxy copies the body while it is being written: server-sent events
    and `logs -f`-style streams arrive piece by piece, not at the end)
  - no such Service: 404 NotFound; a Service whose port has no ready endpoint: 503 ServiceUnavailable
    'no endpoints available for service "NAME:PORT"'; a port the Service does not have: 503 'no service port ...'
  - .../proxy without the trailing slash: 301 to .../proxy/ (so that the page's relative links resolve)
In the fake, the endpoint is a local port a test registers: POST /fakekube/proxy {"namespace", "service", "port",
"target"} (or fk.proxy_service(ns, name, port, target)); the pod proxy's {"namespace", "deployment", "port",
"target"} form is unchanged. The real proxy also rewrites absolute links in HTML answers; the fake does not (pages
that use relative links, as the dashboard does, need no rewriting).
"""
import http.client
import socket
import ssl
import sys
import urllib.parse

# hop-by-hop headers (RFC 9110 7.6.1) are the connection's own: a proxy neither forwards nor returns them
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding",
       "upgrade", "content-length", "host"}


def api_error(handler, *args):
    """fakekube's ApiError from the module the handler belongs to (fakekube, or __main__ when run standalone)."""
    return sys.modules[type(handler).__module__].ApiError(*args)


def register(fk, body):
    """POST /fakekube/proxy: a Service port (body has "service") or a Deployment's pods' port ("deployment")."""
    ns = body.get("namespace", "default")
    if "service" in body:
        with fk.lock:
            fk.service_proxies[(ns, body["service"], str(body.get("port", "")))] = int(body["target"])
        return
    fk.proxies[(ns, body["deployment"], str(body.get("port", 80)))] = int(body["target"])


def _split_name(spec):
    """'https:NAME:PORT' / 'NAME:PORT' / 'NAME' -> (NAME, PORT or '')."""
    parts = spec.split(":")
    if len(parts) > 1 and parts[0] in ("http", "https"):
        parts = parts[1:]
    return parts[0], ":".join(parts[1:])


def _service_port(svc, port):
    """The Service's port entry the URL's PORT names (name or number; '' = the unnamed/only port), or None."""
    ports = [p for p in (svc.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    for p in ports:
        if port == "" and not p.get("name"):
            return p
        if port != "" and (port == p.get("name") or port == str(p.get("port"))):
            return p
    return None


def serve_service(handler, method, ns, spec):
    """Answers a request under /api/v1/namespaces/NS/services/SPEC/proxy[/PATH]."""
    fk = handler.server.fk
    store = fk.store
    n = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(n) if n else b""  # read first: an error answer must not leave it on the connection
    name, port = _split_name(spec)
    res = store.res[("", "v1", "services")]
    svc = store.get(res, ns, name)  # 404 NotFound, as for any missing object
    entry = _service_port(svc, port)
    if entry is None:
        # the registry's ResourceLocation: a port the Service does not list
        raise api_error(handler, 503, "ServiceUnavailable", 'no service port "%s" found for service "%s"' % (port, name))
    with fk.lock:
        target = None
        for key in (entry.get("name") or "", str(entry.get("port"))):
            target = target or fk.service_proxies.get((ns, name, key))
    if not target:
        raise api_error(handler, 503, "ServiceUnavailable", 'no endpoints available for service "%s"' % spec)
    raw = urllib.parse.urlsplit(handler.path).path
    marker = "/proxy"
    i = raw.find(marker, raw.find("/services/"))
    rest = raw[i + len(marker):]
    if rest == "":
        # the API server's proxy handler: an empty path is redirected to the trailing slash, for relative links
        handler.send_response(301)
        handler.send_header("Location", raw + "/")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    forward(handler, method, target, rest, body)


def _copy_body(handler, conn, left):
    """The client's body to the upstream piece by piece. An upstream that answers early and closes (a refusal
    before the end of an upload) stops the copy; what the client still sends is not read, so this connection
    closes after the answer."""
    handler.body_read = True
    while left > 0:
        b = handler.rfile.read1(min(left, 1 << 16))
        if not b:
            conn.sock.shutdown(socket.SHUT_WR)  # the client broke off: the upstream sees the body end short
            break
        left -= len(b)
        try:
            conn.send(b)
        except OSError:
            break
    if left > 0:
        handler.close_connection = True


def read_chunked(rfile, each=None):
    """A chunked body (RFC 9112 section 7.1) read to its end: each(piece) as each chunk arrives, or the whole body
    returned. Trailer fields are read and dropped. ValueError when it is not chunked encoding."""
    whole = []
    while True:
        line = rfile.readline(1024)
        size = int(line.split(b";")[0].strip() or b"x", 16)
        if size < 0:
            raise ValueError("negative chunk size")  # read(-1) would wait for the connection's end
        data = rfile.read(size) if size else b""
        if len(data) != size:
            raise ValueError("short chunk")
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return None if each else b"".join(whole)
        rfile.readline(3)  # the chunk's CRLF
        if each:
            each(data)
        else:
            whole.append(data)


def _copy_chunked(handler, conn):
    """A chunked request body (a client streaming what it is still producing) to the upstream as it arrives,
    chunked again: Go's API server decodes it and its proxy sends the body on with unknown length, so the far
    end reads it piece by piece too. A client that breaks off mid-body: the upstream sees the body end short."""
    handler.body_read = True
    try:
        read_chunked(handler.rfile, lambda data: conn.send(b"%x\r\n%s\r\n" % (len(data), data)))
        conn.send(b"0\r\n\r\n")
    except (ValueError, OSError):
        handler.close_connection = True
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def forward(handler, method, port, path, body=None):
    """Forwards the request to 127.0.0.1:port and copies the answer back as it arrives: chunk by chunk when the
    upstream streams (SSE, follow=1 logs), with its status and headers. The client's headers go on but for the
    Authorization the API server consumed itself
    (https://kubernetes.io/docs/tasks/extend-kubernetes/http-proxy-access-api/). body None: the request's own
    body is passed on as it arrives (the API server's proxy streams it too: an upload's far end starts on its
    first bytes, not after the last)."""
    qs = urllib.parse.urlsplit(handler.path).query
    hdrs = {k: v for k, v in handler.headers.items() if k.lower() not in HOP and k.lower() != "authorization"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        try:
            conn.putrequest(method, path + ("?" + qs if qs else ""),
                            skip_accept_encoding="accept-encoding" in {k.lower() for k in hdrs})
            for k, v in hdrs.items():
                conn.putheader(k, v)
            chunked = body is None and "chunked" in handler.headers.get("Transfer-Encoding", "").lower()
            left = len(body) if body is not None else int(handler.headers.get("Content-Length") or 0)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            elif left or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(left))
            conn.endheaders(body or None)
        except OSError as e:
            raise api_error(handler, 503, "ServiceUnavailable", "error trying to reach service: %s" % e)
        if chunked:
            _copy_chunked(handler, conn)
        elif body is None:
            _copy_body(handler, conn, left)
        try:
            r = conn.getresponse()
        except OSError as e:
            raise api_error(handler, 503, "ServiceUnavailable", "error trying to reach service: %s" % e)
        handler.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                handler.send_header(k, v)
        length = r.getheader("Content-Length")
        if length is not None and r.getheader("Transfer-Encoding") is None:
            handler.send_header("Content-Length", length)
            handler.end_headers()
            left = int(length)
            while left > 0:
                b = r.read1(min(left, 65536))
                if not b:
                    break
                handler.wfile.write(b)
                left -= len(b)
            handler.wfile.flush()
            return
        if method == "HEAD" or r.status in (204, 304):
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        # an answer of unknown length (chunked or until close): passed on chunk by chunk as each part arrives
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            while not handler.server.fk.stopping:
                b = r.read1(65536)
                if not b:
                    break
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
                handler.wfile.flush()
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except (OSError, ssl.SSLError, http.client.HTTPException):
            handler.close_connection = True  # the client left or the upstream broke off: end both
    finally:
        conn.close()
