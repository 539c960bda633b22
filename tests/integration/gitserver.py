"""gitserver.py — a tiny HTTP git server for the tests: `git http-backend` run as CGI per request, behind Basic auth (a private remote)."""
import base64
import http.server
import os
import subprocess
import threading


class GitHTTPServer:
    """Serves the bare repositories under root at http://127.0.0.1:PORT/NAME.git; every request needs
    Basic auth user:password (401 with WWW-Authenticate otherwise, as a private remote answers)."""

    def __init__(self, root, user, password):
        self.root, self.user, self.password = root, user, password
        self.requests = []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                self.cgi()

            def do_POST(self):
                self.cgi()

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        n = int(self.rfile.readline().strip() or b"0", 16)
                        if not n:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(n)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def cgi(self):
                want = "Basic " + base64.b64encode(("%s:%s" % (srv.user, srv.password)).encode()).decode()
                srv.requests.append((self.command, self.path, self.headers.get("Authorization") == want))
                data = self.body()
                if self.headers.get("Authorization") != want:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                env = dict(os.environ, GIT_PROJECT_ROOT=srv.root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                           REQUEST_METHOD=self.command, QUERY_STRING=query, REMOTE_USER=srv.user,
                           REMOTE_ADDR="127.0.0.1", CONTENT_TYPE=self.headers.get("Content-Type", ""),
                           CONTENT_LENGTH=str(len(data)))
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                p = subprocess.run(["git", "http-backend"], input=data, capture_output=True, env=env, timeout=60)
                head, _, rest = p.stdout.partition(b"\r\n\r\n")
                if not _:
                    head, _, rest = p.stdout.partition(b"\n\n")
                status, headers = 200, []
                for line in head.decode("latin-1").splitlines():
                    k, _, v = line.partition(":")
                    if k.lower() == "status":
                        status = int(v.strip().split()[0])
                    elif k:
                        headers.append((k, v.strip()))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                self.wfile.write(rest)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)
