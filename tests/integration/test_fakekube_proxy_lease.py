"""test_fakekube_proxy_lease.py — tests/fakekube's service proxy (streaming, 404/503), the pod proxy's streaming, Leases (conflicts), RBAC objects and test-asked denials (403), driven by the real kubectl and real HTTP."""
import http.client
import http.server
import json
import os
import queue
import ssl
import subprocess
import threading
import unittest

from harness import wait_until
from kubeharness import TOKEN, KubeTest, certs_dir, fakekube

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


class Upstream:
    """A real HTTP server on a loopback port standing in for the pod behind the proxy. /echo answers what it
    received (method, path, query, headers, body); /events writes server-sent events one at a time, each only
    after the test said `go` for it, so an event read before the next `go` proves it came through alone."""

    def __init__(self):
        self.go = queue.Queue()
        up = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                self.answer()

            def do_POST(self):
                self.answer()

            def answer(self):
                if self.path.startswith("/events"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    while True:
                        n = up.go.get(timeout=60)
                        if n is None:
                            break
                        b = ("id: %d\nevent: tick\ndata: {\"n\": %d}\n\n" % (n, n)).encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                n = int(self.headers.get("Content-Length") or 0)
                body = json.dumps({"method": self.command, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()},
                                   "body": self.rfile.read(n).decode() if n else ""}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Upstream", "yes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.go.put(None)
        self.httpd.shutdown()
        self.httpd.server_close()


class ProxyLeaseTest(KubeTest):
    def setUp(self):
        super().setUp()
        self.up = Upstream()
        self.addCleanup(self.up.stop)

    def conn(self):
        ctx = ssl.create_default_context(cafile=os.path.join(certs_dir(), "ca.crt"))
        return http.client.HTTPSConnection("127.0.0.1", self.fk.port, context=ctx, timeout=30)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=dict({"Authorization": "Bearer " + TOKEN}, **(headers or {})))
            r = c.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read().decode()
        finally:
            c.close()

    def create(self, obj):
        return self.kubectl("create", "-f", "-", stdin=json.dumps(obj))

    # ------------------------------------------------------------ service proxy

    def test_service_proxy_forwards_by_port_name_and_number(self):
        self.create(SERVICE)
        self.fk.proxy_service("default", "web", "http", self.up.port)
        base = "/api/v1/namespaces/default/services/%s/proxy/echo/a?x=1&y=2"
        for spec in ("web:http", "web:80", "https:web:http", "http:web:80"):
            p = self.kubectl("get", "--raw", base % spec)
            got = json.loads(p.stdout)
            self.assertEqual((got["method"], got["path"]), ("GET", "/echo/a?x=1&y=2"), spec)
            self.assertNotIn("authorization", got["headers"])  # consumed by the API server, not passed on
        # a POST's body and the client's own headers reach the pod; the pod's headers come back
        code, hdrs, body = self.request("POST", base % "web:http", body=b'{"k": 1}',
                                        headers={"Content-Type": "application/json", "X-Reloader-Token": "t1"})
        self.assertEqual(code, 200, body)
        got = json.loads(body)
        self.assertEqual((got["method"], got["body"], got["headers"]["x-reloader-token"]), ("POST", '{"k": 1}', "t1"))
        self.assertEqual(hdrs["x-upstream"], "yes")
        # the trailing slash is kept: the page under .../proxy/ is asked for "/"
        code, _, body = self.request("GET", "/api/v1/namespaces/default/services/web:http/proxy/")
        self.assertEqual((code, json.loads(body)["path"]), (200, "/"))
        # without it: 301 to the path with it, so that relative links resolve
        code, hdrs, _ = self.request("GET", "/api/v1/namespaces/default/services/web:http/proxy")
        self.assertEqual((code, hdrs["location"]), (301, "/api/v1/namespaces/default/services/web:http/proxy/"))

    def test_service_proxy_registered_over_http_and_unnamed_port(self):
        self.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "plain"},
                     "spec": {"ports": [{"port": 8080}]}})
        c = http.client.HTTPSConnection("127.0.0.1", self.fk.port, timeout=10,
                                        context=ssl.create_default_context(cafile=os.path.join(certs_dir(), "ca.crt")))
        c.request("POST", "/fakekube/proxy", body=json.dumps({"namespace": "default", "service": "plain", "port": 8080,
                                                              "target": self.up.port}))
        self.assertEqual(c.getresponse().status, 200)
        c.close()
        for spec in ("plain", "plain:8080"):
            got = json.loads(self.kubectl("get", "--raw", "/api/v1/namespaces/default/services/%s/proxy/echo" % spec)
                             .stdout)
            self.assertEqual(got["path"], "/echo", spec)

    def test_service_proxy_404_and_503(self):
        # no such Service: 404 NotFound, as for any missing object
        code, _, body = self.request("GET", "/api/v1/namespaces/default/services/web:http/proxy/")
        st = json.loads(body)
        self.assertEqual((code, st["reason"], st["message"]), (404, "NotFound", 'services "web" not found'))
        p = self.kubectl("get", "--raw", "/api/v1/namespaces/default/services/web:http/proxy/", expect=1)
        self.assertIn('Error from server (NotFound): services "web" not found', p.stderr)
        # the Service exists but nothing serves it: 503 with the API server's words
        self.create(SERVICE)
        code, _, body = self.request("GET", "/api/v1/namespaces/default/services/web:http/proxy/")
        st = json.loads(body)
        self.assertEqual((code, st["reason"], st["message"]),
                         (503, "ServiceUnavailable", 'no endpoints available for service "web:http"'))
        p = self.kubectl("get", "--raw", "/api/v1/namespaces/default/services/web:http/proxy/", expect=1)
        self.assertIn('Error from server (ServiceUnavailable): no endpoints available for service "web:http"', p.stderr)
        # a port the Service does not have
        self.fk.proxy_service("default", "web", "http", self.up.port)
        code, _, body = self.request("GET", "/api/v1/namespaces/default/services/web:metrics/proxy/")
        self.assertEqual((code, json.loads(body)["message"]),
                         (503, 'no service port "metrics" found for service "web"'))
        # registered, but nothing listens there any more
        self.up.stop()
        code, _, body = self.request("GET", "/api/v1/namespaces/default/services/web:http/proxy/echo")
        self.assertEqual(code, 503, body)
        self.assertIn("error trying to reach service", json.loads(body)["message"])

    def events(self, path):
        """Opens path through the fake with real HTTPS; returns (response, a queue of events as they are read)."""
        c = self.conn()
        c.request("GET", path, headers={"Authorization": "Bearer " + TOKEN, "Accept": "text/event-stream"})
        r = c.getresponse()
        got = queue.Queue()

        def read():
            ev = []
            try:
                while True:
                    line = r.readline()
                    if not line:
                        break
                    line = line.decode().rstrip("\n")
                    if line:
                        ev.append(line)
                    elif ev:
                        got.put(ev)
                        ev = []
            except (OSError, http.client.HTTPException, ValueError):
                pass
            got.put(None)
        threading.Thread(target=read, daemon=True).start()
        self.addCleanup(c.close)
        return r, got

    def assert_streams(self, path):
        r, got = self.events(path)
        self.assertEqual((r.status, r.getheader("Content-Type")), (200, "text/event-stream"))
        for n in (1, 2, 3):
            self.up.go.put(n)  # the upstream writes event n only now, and nothing more until the next go
            self.assertEqual(got.get(timeout=30), ["id: %d" % n, "event: tick", 'data: {"n": %d}' % n])
        self.up.go.put(None)  # the upstream ends its answer: so does the proxy's
        self.assertIsNone(got.get(timeout=30))

    def test_service_proxy_streams_server_sent_events_one_by_one(self):
        self.create(SERVICE)
        self.fk.proxy_service("default", "web", "http", self.up.port)
        self.assert_streams("/api/v1/namespaces/default/services/web:http/proxy/events")

    def test_pod_proxy_streams_too(self):
        self.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "svc"},
                     "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "svc"}},
                              "template": {"metadata": {"labels": {"app": "svc"}},
                                           "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
        # the fake's rollout makes the pod (its controllers advance on each request, as kubectl's get makes one)
        pods = wait_until(lambda: self.kubectl("get", "pods", "-o", "name").stdout and self.fk.objects("pods", "default"),
                          60, "the Deployment's pod")
        self.fk.proxies[("default", "svc", "7070")] = self.up.port
        self.assert_streams("/api/v1/namespaces/default/pods/%s:7070/proxy/events" % pods[0]["metadata"]["name"])

    # ------------------------------------------------------------ leases

    def lease(self, holder, rv=None):
        md = {"name": "appdeploy", "namespace": "default"}
        if rv:
            md["resourceVersion"] = rv
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": md,
                "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15,
                         "acquireTime": "2026-12-01T20:00:00.000000Z", "renewTime": "2026-12-01T20:00:05.123456Z",
                         "leaseTransitions": 0}}

    def test_lease_discovery_crud_and_conflicts(self):
        p = self.kubectl("api-resources", "--api-group=coordination.k8s.io", "-o", "name")
        self.assertEqual(p.stdout.split(), ["leases.coordination.k8s.io"])
        self.create(self.lease("pod-a"))
        p = self.kubectl("get", "lease", "-o", "name")
        self.assertEqual(p.stdout.split(), ["lease.coordination.k8s.io/appdeploy"])
        got = json.loads(self.kubectl("get", "lease", "appdeploy", "-o", "json").stdout)
        self.assertEqual(got["spec"]["holderIdentity"], "pod-a")
        self.assertEqual(got["spec"]["renewTime"], "2026-12-01T20:00:05.123456Z")
        rv = got["metadata"]["resourceVersion"]

        # an update with the resourceVersion read: accepted, and the version moves on
        p = self.kubectl("replace", "-f", "-", stdin=json.dumps(self.lease("pod-b", rv)))
        self.assertEqual(p.stdout.strip(), "lease.coordination.k8s.io/appdeploy replaced")
        now = json.loads(self.kubectl("get", "lease", "appdeploy", "-o", "json").stdout)
        self.assertEqual(now["spec"]["holderIdentity"], "pod-b")
        self.assertNotEqual(now["metadata"]["resourceVersion"], rv)

        # the same stale resourceVersion again (someone else won): 409 Conflict, nothing changed
        p = self.kubectl("replace", "-f", "-", stdin=json.dumps(self.lease("pod-c", rv)), expect=1)
        self.assertIn('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on '
                      'leases.coordination.k8s.io "appdeploy": the object has been modified; please apply your '
                      'changes to the latest version and try again', p.stderr)
        self.assertEqual(self.fk.obj("leases", "default", "appdeploy")["spec"]["holderIdentity"], "pod-b")
        path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/appdeploy"
        code, _, body = self.request("PUT", path, body=json.dumps(self.lease("pod-c", rv)))
        st = json.loads(body)
        self.assertEqual((code, st["reason"], st["details"]),
                         (409, "Conflict", {"name": "appdeploy", "group": "coordination.k8s.io", "kind": "leases"}))

        # no resourceVersion at all: Leases are never updated unconditionally
        code, _, body = self.request("PUT", path, body=json.dumps(self.lease("pod-c")))
        self.assertEqual((code, json.loads(body)["message"]),
                         (422, 'leases.coordination.k8s.io "appdeploy" is invalid: metadata.resourceVersion: '
                               'Invalid value: 0x0: must be specified for an update'))
        # a renewTime that is not a MicroTime cannot be decoded
        bad = self.lease("pod-b", now["metadata"]["resourceVersion"])
        bad["spec"]["renewTime"] = "2026-12-01T20:00:05Z"
        code, _, body = self.request("PUT", path, body=json.dumps(bad))
        self.assertEqual(code, 400, body)
        self.assertIn('Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-01T20:00:05Z"',
                      json.loads(body)["message"])
        bad["spec"]["renewTime"], bad["spec"]["leaseDurationSeconds"] = "2026-12-01T20:00:05.000000Z", 0
        code, _, body = self.request("PUT", path, body=json.dumps(bad))
        self.assertEqual((code, json.loads(body)["message"]),
                         (422, 'Lease.coordination.k8s.io "appdeploy" is invalid: spec.leaseDurationSeconds: '
                               'Invalid value: 0: must be greater than 0'))
        self.assertEqual(self.fk.obj("leases", "default", "appdeploy")["spec"]["holderIdentity"], "pod-b")

        # PUT of a Lease that is not there creates it
        other = self.lease("pod-z")
        other["metadata"]["name"] = "other"
        code, _, body = self.request("PUT", path.replace("appdeploy", "other"), body=json.dumps(other))
        self.assertEqual((code, json.loads(body)["spec"]["holderIdentity"]), (201, "pod-z"))
        self.assertEqual(self.kubectl("get", "leases", "-o", "name").stdout.split(),
                         ["lease.coordination.k8s.io/appdeploy", "lease.coordination.k8s.io/other"])
        self.kubectl("delete", "lease", "other")
        self.assertIsNone(self.fk.obj("leases", "default", "other"))

    def test_lease_watch(self):
        self.create(self.lease("pod-a"))
        code, _, body = self.request("GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=true"
                                            "&timeoutSeconds=1")
        events = [json.loads(line) for line in body.splitlines() if line.strip()]
        self.assertEqual(code, 200)
        self.assertEqual([(e["type"], e["object"]["kind"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "Lease", "appdeploy")])

    # ------------------------------------------------------------ RBAC objects, denials

    def test_rbac_objects_are_stored_and_listed(self):
        self.kubectl("create", "namespace", "appdeploy-system")
        objs = [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "appdeploy-agent", "namespace": "default"},
             "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "appdeploy-agent", "namespace": "default"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "appdeploy-agent"},
             "subjects": [{"kind": "ServiceAccount", "name": "appdeploy", "namespace": "appdeploy-system"}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "appdeploy-agent-default"},
             "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "appdeploy-agent-default"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                         "name": "appdeploy-agent-default"},
             "subjects": [{"kind": "ServiceAccount", "name": "appdeploy", "namespace": "appdeploy-system"}]},
        ]
        for o in objs:
            self.create(o)
        p = self.kubectl("get", "role,rolebinding,clusterrole,clusterrolebinding", "-o", "name")
        self.assertEqual(p.stdout.split(), ["role.rbac.authorization.k8s.io/appdeploy-agent",
                                            "rolebinding.rbac.authorization.k8s.io/appdeploy-agent",
                                            "clusterrole.rbac.authorization.k8s.io/appdeploy-agent-default",
                                            "clusterrolebinding.rbac.authorization.k8s.io/appdeploy-agent-default"])
        role = json.loads(self.kubectl("get", "role", "appdeploy-agent", "-o", "json").stdout)
        self.assertEqual(role["rules"], objs[0]["rules"])

    def test_denied_verbs_answer_403_in_rbac_words(self):
        c = self.conn()
        c.request("POST", "/fakekube/deny", body=json.dumps({"deny": [["get", "configmaps"], ["create", "leases"]]}))
        self.assertEqual(json.loads(c.getresponse().read())["deny"], [["create", "leases"], ["get", "configmaps"]])
        c.close()
        p = self.kubectl("get", "configmap", "kube-root-ca.crt", expect=1)
        self.assertIn('Error from server (Forbidden): configmaps "kube-root-ca.crt" is forbidden: User "admin" cannot '
                      'get resource "configmaps" in API group "" in the namespace "default"', p.stderr)
        self.kubectl("get", "configmaps")  # list is another verb: allowed
        p = self.kubectl("create", "-f", "-", stdin=json.dumps(self.lease("pod-a")), expect=1)
        self.assertIn('leases.coordination.k8s.io is forbidden: User "admin" cannot create resource "leases" in API '
                      'group "coordination.k8s.io" in the namespace "default"', p.stderr)
        code, _, body = self.request("GET", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt")
        st = json.loads(body)
        self.assertEqual((code, st["reason"], st["details"]),
                         (403, "Forbidden", {"name": "kube-root-ca.crt", "group": "", "kind": "configmaps"}))
        c = self.conn()
        c.request("POST", "/fakekube/deny", body=json.dumps({"clear": True}))
        self.assertEqual(json.loads(c.getresponse().read())["deny"], [])
        c.close()
        self.kubectl("get", "configmap", "kube-root-ca.crt")

    def test_deny_at_construction_for_a_service_account(self):
        """FakeKube(deny=..., tokens={T: "system:serviceaccount:..."}): what `up` meets when the agent namespace
        cannot be created; the service-account files are the in-cluster credentials of a pod."""
        sa = "system:serviceaccount:appdeploy-system:appdeploy"
        fk = fakekube.FakeKube(tokens={"sa-token": sa}, tls_dir=certs_dir(), deny={("create", "namespaces")})
        fk.start()
        self.addCleanup(fk.stop)
        d = fk.serviceaccount_files(os.path.join(self.tmp, "sa"), "sa-token", "appdeploy-system")
        self.assertEqual(sorted(os.listdir(d)), ["ca.crt", "namespace", "token"])
        with open(os.path.join(d, "namespace")) as f:
            self.assertEqual(f.read(), "appdeploy-system")
        kc = fk.kubeconfig(os.path.join(self.tmp, "sa.kubeconfig"), token="sa-token")
        run = lambda *a: subprocess.run(["kubectl", "--kubeconfig", kc, *a], capture_output=True, text=True, timeout=60)
        p = run("create", "namespace", "appdeploy-system")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        # exactly this one line: the refused request's body was consumed with it (nothing left on the connection)
        self.assertEqual(p.stderr.strip(), 'Error from server (Forbidden): namespaces is forbidden: User "%s" cannot '
                         'create resource "namespaces" in API group "" at the cluster scope' % sa)
        self.assertIsNone(fk.obj("namespaces", None, "appdeploy-system"))
        p = run("get", "namespaces", "-o", "name")
        self.assertEqual((p.returncode, p.stdout.split()), (0, ["namespace/default", "namespace/kube-system"]))


if __name__ == "__main__":
    unittest.main()
