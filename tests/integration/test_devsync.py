"""test_devsync.py — synced source mode: reloader's /sync/ endpoints alone (manifest diff, batches,
one cycle per batch, refusals that leave the tree unchanged) and `appdeploy dev` end to end."""
import base64
import json
import re
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.request

from harness import APPDEPLOY, RELOADER, Reloader, free_port, http, status, wait_until
from kubeharness import KubeTest, certs_dir
from synclib import batch, dumps, snapshot, tree_manifest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "examples", "hello-deploy")
IMAGES = os.path.join(ROOT, "examples", "images.yaml")

TOKEN = "s3cret-sync-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# A tiny C service answering every connection with its VERSION.
C_SERVICE = r"""
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define VERSION "%s"
int main(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(getenv("PORT")))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 64)) { perror("bind"); return 1; }
    for (;;) { int c = accept(s, 0, 0); char req[2048]; if (c < 0) continue;
        if (read(c, req, sizeof req) < 0) { close(c); continue; }
        const char *r = "HTTP/1.0 200 OK\r\n\r\n" VERSION "\n"; write(c, r, strlen(r)); close(c); }
}
"""


def fetch(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode().split("\r\n\r\n", 1)[1].strip()


def raw_request(port, head, body=b""):
    """Sends head + body on a raw socket; returns (status, text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    line, _, rest = data.partition(b"\r\n")
    return int(line.split()[1]), rest.split(b"\r\n\r\n", 1)[1].decode(errors="replace")


class SyncReloaderTest(unittest.TestCase):
    """reloader with control.sync on, serving a C service built from a temp source folder."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="devsync-")
        self.src = os.path.join(self.work, "src")
        os.mkdir(self.src)
        with open(os.path.join(self.src, "app.c"), "w") as f:
            f.write(C_SERVICE % "v1")
        with open(os.path.join(self.src, "README"), "w") as f:
            f.write("hello\n")
        os.mkdir(os.path.join(self.src, "lib"))
        with open(os.path.join(self.src, "lib", "old.txt"), "w") as f:
            f.write("old\n")
        token_file = os.path.join(self.work, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.app_port = free_port()
        self.r = Reloader(["--dir", self.src, "--watch", ".", "--build", 'mkdir -p "$RELOADER_CACHE_DIR" && cc -o "$RELOADER_CACHE_DIR/app" app.c',
                           "--", "sh", "-c", 'exec "$RELOADER_CACHE_DIR/app"'], cwd=self.work,
                          config=f"env:\n  PORT: {self.app_port}\nready:\n  tcp: 127.0.0.1:{self.app_port}\n"
                                 f"control:\n  sync: true\n  token_file: {token_file}\n")
        wait_until(lambda: self.status()["state"] == "running", 60, "state running")
        self.assertEqual(fetch(self.app_port), "v1")

    def tearDown(self):
        self.r.stop()
        report = self.r.sanitizer_report()
        self.assertIsNone(report, report)
        shutil.rmtree(self.work, ignore_errors=True)

    def status(self):
        return status(self.r.port, AUTH)

    def post(self, path, body, headers=AUTH):
        return http(self.r.port, "POST", path, dict(headers, **{"Content-Type": "application/octet-stream"}), body)

    def assert_refused(self, body, code, needle, path="/sync/batch", headers=AUTH):
        before = snapshot(self.src)
        restarts = self.status()["restarts"]
        got, text = self.post(path, body, headers)
        self.assertEqual(got, code, text)
        self.assertIn(needle, text)
        self.assertEqual(snapshot(self.src), before)
        self.assertEqual(self.status()["restarts"], restarts)

    def test_manifest_diff_lists_changed_new_and_deleted(self):
        local = tempfile.mkdtemp(dir=self.work)
        shutil.copy(os.path.join(self.src, "app.c"), local)       # same
        with open(os.path.join(local, "README"), "w") as f:     # changed
            f.write("hello, world\n")
        with open(os.path.join(local, "new.sh"), "w") as f:     # new
            f.write("#!/bin/sh\n")
        os.chmod(os.path.join(local, "new.sh"), 0o755)
        man = tree_manifest(local)
        code, text = self.post("/sync/manifest", dumps(man))
        self.assertEqual(code, 200, text)
        diff = json.loads(text)
        self.assertEqual(sorted(diff["upload"]), ["README", "new.sh"])
        self.assertEqual(diff["delete"], ["lib/old.txt"])
        self.assertEqual(diff["files"], 3)
        # Asking only whether the tree is empty: at most delete_limit deletions are listed.
        code, text = self.post("/sync/manifest", dumps({"files": [], "delete_limit": 1}))
        self.assertEqual(code, 200, text)
        self.assertEqual(json.loads(text)["upload"], [])
        self.assertEqual(len(json.loads(text)["delete"]), 1)
        self.assert_refused(dumps({"files": [], "delete_limit": "one"}), 400, "delete_limit must be an integer",
                            "/sync/manifest")
        # A mode change alone is a difference too.
        os.chmod(os.path.join(self.src, "app.c"), 0o600)
        code, text = self.post("/sync/manifest", dumps(man))
        self.assertEqual(sorted(json.loads(text)["upload"]), ["README", "app.c", "new.sh"])

    def test_batch_writes_deletes_keeps_modes_and_runs_one_cycle(self):
        before = self.status()
        body = batch([("app.c", 0o644, (C_SERVICE % "v2").encode()),
                      ("bin/run.sh", 0o755, b"#!/bin/sh\necho hi\n"),
                      ("deep/a/b/c.txt", 0o600, b"")],
                     ["lib/old.txt", "no/such/file"])
        code, text = self.post("/sync/batch", body)
        self.assertEqual(code, 200, text)
        self.assertIn("running", text)
        self.assertEqual(fetch(self.app_port), "v2")
        self.assertEqual(os.stat(os.path.join(self.src, "bin/run.sh")).st_mode & 0o777, 0o755)
        self.assertEqual(os.stat(os.path.join(self.src, "deep/a/b/c.txt")).st_mode & 0o777, 0o600)
        with open(os.path.join(self.src, "bin/run.sh"), "rb") as f:
            self.assertEqual(f.read(), b"#!/bin/sh\necho hi\n")
        self.assertFalse(os.path.exists(os.path.join(self.src, "lib/old.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.src, ".reloader-sync")))
        after = self.status()
        self.assertEqual(after["restarts"], before["restarts"] + 1)
        self.assertEqual(after["last_restart"]["trigger"], "sync")
        # Barrier: a real edit on the pod's side makes the watcher's own cycle; had the sync's writes
        # queued a watch cycle too, the count would pass +2.
        with open(os.path.join(self.src, "app.c"), "w") as f:
            f.write(C_SERVICE % "v3")
        wait_until(lambda: fetch(self.app_port) == "v3", 60, "the watcher's restart")
        wait_until(lambda: self.status()["state"] == "running", 60, "running")
        st = self.status()
        self.assertEqual(st["restarts"], before["restarts"] + 2)
        self.assertEqual(st["last_restart"]["trigger"], "watch")

    def test_json_answer_and_unchanged_batch(self):
        code, text = self.post("/sync/batch", batch([("notes.txt", 0o644, b"x")]),
                               dict(AUTH, Accept="application/json"))
        self.assertEqual(code, 200, text)
        j = json.loads(text)
        self.assertEqual(j["outcome"], "running")
        code, text = self.post("/sync/batch", batch([], ["gone.txt"]), dict(AUTH, Accept="application/json"))
        self.assertEqual(code, 200, text)
        self.assertEqual(json.loads(text)["outcome"], "unchanged")

    def test_build_failure_reported_old_service_serves(self):
        broken = (C_SERVICE % "v9").replace("int main(void) {", "int main(void) { oops_undeclared")
        code, text = self.post("/sync/batch", batch([("app.c", 0o644, broken.encode())]))
        self.assertEqual(code, 500, text)
        self.assertIn("build failed", text)
        self.assertIn("oops_undeclared", text)
        self.assertEqual(fetch(self.app_port), "v1")
        self.assertEqual(self.status()["state"], "build-failed")
        # The broken file is in place (it is what the developer saved); a fix is the next batch.
        code, text = self.post("/sync/batch", batch([("app.c", 0o644, (C_SERVICE % "v10").encode())]))
        self.assertEqual(code, 200, text)
        self.assertEqual(fetch(self.app_port), "v10")

    def test_path_traversal_refused_tree_unchanged(self):
        outside = os.path.join(self.work, "outside")
        os.mkdir(outside)
        os.symlink(outside, os.path.join(self.src, "linkdir"))
        os.symlink(os.path.join(outside, "target"), os.path.join(self.src, "linkfile"))
        for body, needle in [
            (batch([("../x", 0o644, b"x")]), "'.' or '..' in path"),
            (batch([("lib/../../x", 0o644, b"x")]), "'.' or '..' in path"),
            (batch([("/etc/passwd", 0o644, b"x")]), "absolute path"),
            (batch([("linkfile", 0o644, b"x")]), "is a symlink"),
            (batch([("linkdir/x", 0o644, b"x")]), "linkdir is a symlink"),
            (batch([], ["linkdir/x"]), "linkdir is a symlink"),
            (batch([], ["linkfile"]), "is a symlink"),
            (batch([("lib", 0o644, b"x")]), "is a directory"),
            (batch([(".git/config", 0o644, b"x")]), "inside .git"),
            # a good file first: refused batches apply nothing at all
            (batch([("good.txt", 0o644, b"fine"), ("a//b", 0o644, b"x")]), "empty path component"),
        ]:
            with self.subTest(needle=needle):
                self.assert_refused(body, 400, needle)
        self.assertEqual(os.listdir(outside), [])

    def test_device_file_in_tree_refused(self):
        os.mkfifo(os.path.join(self.src, "pipe"))
        self.assert_refused(batch([("pipe", 0o644, b"x")]), 400, "a device, fifo or socket")

    def test_commit_failure_rolls_back_every_step(self):
        # "z/x" creates the directory z at commit; the later file "z" then finds a directory there:
        # refused only at commit, after the earlier steps were applied. All of them must be undone.
        with open(os.path.join(self.src, "a.txt"), "w") as f:
            f.write("original\n")
        # (two files in one new and in one existing directory: the second of each starts where the first's walk ended)
        body = batch([("a.txt", 0o644, b"replaced\n"), ("newdir/n.txt", 0o644, b"n"), ("newdir/m.txt", 0o644, b"m"),
                      ("lib/x1", 0o644, b"1"), ("lib/x2", 0o644, b"2"), ("README", 0o755, b"gone"),
                      ("z/x", 0o644, b"x"), ("z", 0o644, b"file")], ["lib/old.txt"])
        self.assert_refused(body, 400, "z exists and is a directory")

    def test_new_directories_applied_in_batch_order(self):
        # Files in directories the pod lacks are staged as a tree and moved in a directory at a time;
        # the batch's order still decides: a path written, deleted and written again holds the last.
        before = self.status()["restarts"]
        body = (b"RLSYNC 1\nF 644 2 new/a\nv1\nF 700 1 new/sub/b\nb\nD new/a\nF 600 2 new/a\nv2\n"
                b"F 644 1 lib/n.txt\nn\nD new/sub/gone\n" +
                b"".join(b"F 644 2 new/many/m%d\nm%d\n" % (i, i) for i in range(9)) + b"END\n")
        code, text = self.post("/sync/batch", body)
        self.assertEqual(code, 200, text)
        with open(os.path.join(self.src, "new/a"), "rb") as f:
            self.assertEqual(f.read(), b"v2")
        self.assertEqual(os.stat(os.path.join(self.src, "new/a")).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(self.src, "new/sub/b")).st_mode & 0o777, 0o700)
        with open(os.path.join(self.src, "lib/n.txt"), "rb") as f:
            self.assertEqual(f.read(), b"n")
        self.assertEqual(sorted(os.listdir(os.path.join(self.src, "new"))), ["a", "many", "sub"])
        self.assertFalse(os.path.exists(os.path.join(self.src, ".reloader-sync")))
        wait_until(lambda: self.status()["state"] == "running", 60, "running")
        self.assertEqual(self.status()["restarts"], before + 1)
        # The watcher took what the sync wrote without reading it again (watch_expect), and took it
        # right: the same content saved over each file in the pod ends a quiet period with nothing
        # new ("ignored"), so no restart. (More than the 8 changes a cycle's start reads again.)
        ignored = self.status()["watch"]["ignored"]
        for rel, data in [("new/a", b"v2"), ("new/sub/b", b"b"), ("lib/n.txt", b"n")] + \
                [("new/many/m%d" % i, b"m%d" % i) for i in range(9)]:
            with open(os.path.join(self.src, rel), "wb") as f:
                f.write(data)
        wait_until(lambda: self.status()["watch"]["ignored"] > ignored, 60, "the quiet period to end, ignored")
        self.assertEqual(self.status()["restarts"], before + 1)
        # A file where the same batch puts a directory, either order: refused at commit, the
        # directory already moved in goes back out.
        self.assert_refused(batch([("fresh/x", 0o644, b"1"), ("fresh/a", 0o644, b"1"), ("fresh/a/b", 0o644, b"2")]),
                            400, "fresh/a is a symlink or not a directory")
        self.assert_refused(batch([("fresh/a/b", 0o644, b"2"), ("fresh/a", 0o644, b"1")]), 400,
                            "fresh/a exists and is a directory")

    def test_oversized_and_truncated_refused(self):
        head = (f"POST /sync/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Length: {(1 << 30) + 1}\r\n\r\n").encode()
        before = snapshot(self.src)
        self.assertEqual(raw_request(self.r.port, head)[0], 413)
        # a file over the 64 MiB limit, declared in its entry
        self.assert_refused(b"RLSYNC 1\nF 644 67108865 big\n" + b"x" * 100, 400, "over the limit")
        # the body ends before END
        self.assert_refused(batch([("t.txt", 0o644, b"abc")], end=False), 400, "truncated")
        self.assert_refused(b"RLSYNC 1\nF 644 10 t.txt\nabc", 400, "truncated")
        self.assert_refused(b"RLSYNC 1\nF 644 3 t.txt\nabcd\nEND\n", 400, "followed by")
        self.assert_refused(b"tar file?", 400, "not a sync batch")
        # the connection drops mid-upload: nothing applied, and the next batch is accepted
        body = batch([("t.txt", 0o644, b"abc" * 1000)])
        head = (f"POST /sync/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.r.port), timeout=30) as s:
            s.sendall(head + body[: len(body) // 2])
            wait_until(lambda: os.path.exists(os.path.join(self.src, ".reloader-sync", "f0")), 30, "staging to start")
        wait_until(lambda: snapshot(self.src) == before, 30, "the dropped upload to leave nothing behind")
        wait_until(lambda: self.post("/sync/batch", batch([], ["nothing"]))[0] == 200, 30, "the slot to free")
        self.assertEqual(snapshot(self.src), before)

    def test_bad_token_and_method_refused(self):
        body = batch([("x.txt", 0o644, b"x")])
        self.assert_refused(body, 401, "token is required", headers={})
        self.assert_refused(body, 401, "token is required", headers={"Authorization": "Bearer wrong"})
        self.assert_refused(dumps({"files": []}), 401, "token is required", "/sync/manifest", headers={})
        code, text = http(self.r.port, "GET", "/sync/batch", AUTH)
        self.assertEqual(code, 405, text)
        code, text = http(self.r.port, "POST", "/sync/other", AUTH, b"")
        self.assertEqual(code, 404, text)
        self.assert_refused(b"{not json", 400, "manifest:1:", "/sync/manifest")


class SyncConfigTest(unittest.TestCase):
    def test_sync_needs_a_token(self):
        d = tempfile.mkdtemp(prefix="devsync-cfg-")
        cfg = os.path.join(d, "r.yaml")
        with open(cfg, "w") as f:
            f.write("run: [sleep, '100']\ncontrol:\n  sync: true\n")
        p = subprocess.run([RELOADER, "-c", cfg, "--listen", "none"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("control.sync: true needs control.token_file", p.stderr)
        shutil.rmtree(d, ignore_errors=True)

    def test_sync_off_by_default(self):
        r = Reloader(["--", "sleep", "100"])
        try:
            r.wait_state("running")
            code, text = http(r.port, "POST", "/sync/batch", {}, batch([("x", 0o644, b"x")]))
            self.assertEqual(code, 404, text)
            self.assertIn("sync is off", text)
            self.assertFalse(os.path.exists(os.path.join(r.dir, "x")))
        finally:
            r.stop()


class DevEndToEndTest(KubeTest):
    """`appdeploy dev hello examples/hello-deploy` against the fake API server, whose pod proxy forwards
    to a real reloader (--runner go) serving the example from an initially empty folder (the emptyDir)."""

    def setUp(self):
        super().setUp()
        if not shutil.which("go"):
            self.fail("go is not installed (scripts/deps.sh test installs golang-go)")
        self.local = os.path.join(self.tmp, "checkout")  # sourceRoot: the developer's checkout
        shutil.copytree(os.path.join(ROOT, "examples", "hello"), os.path.join(self.local, "examples", "hello"))
        self.src = os.path.join(self.local, "examples", "hello")
        with open(os.path.join(self.src, "notes.txt"), "w") as f:
            f.write("synced too\n")
        self.flags = ["--kubeconfig", self.kubeconfig, "--images", IMAGES, "-v", f"sourceRoot={self.local}"]
        # synced source mode; apply creates the token Secret the pod mounts (#18)
        self.assertIn("secret/appdeploy-sync-token created",
                      self.appdeploy("apply", DEPLOY, "--source", "hello=sync", *self.flags).stdout)
        self.reloaders = []
        self.out, self.dev = [], None

    def tearDown(self):
        if self.dev and self.dev.poll() is None:
            self.dev.terminate()
            self.dev.wait(20)
        if self.dev:
            self.dev.stdout.close()
        if self.dev and any(e for e in (getattr(self._outcome, "errors", None) or []) if e[1]) or \
                os.environ.get("DEVSYNC_VERBOSE"):
            print("appdeploy dev's output:\n" + self.output())
        for r in self.reloaders:
            r.stop()
            report = r.sanitizer_report()
            self.assertIsNone(report, report)
        super().tearDown()
        out = self.output()  # dev's stderr is in it: a sanitizer report fails the test
        self.assertNotIn("Sanitizer", out)
        self.assertNotIn("runtime error:", out)

    def pod(self, token):
        """A 'pod': a reloader with sync on, serving from its own empty folder; returns (reloader, app port, folder)."""
        work = tempfile.mkdtemp(dir=self.tmp)
        folder = os.path.join(work, "src")
        os.mkdir(folder)
        token_file = os.path.join(work, "token")
        with open(token_file, "w") as f:
            f.write(token)
        app_port = free_port()
        r = Reloader(["--runner", "go", "--dir", folder], cwd=work,
                     env={"LISTEN": f"127.0.0.1:{app_port}", "RELOADER_CONTROL_SYNC": "true",
                          "RELOADER_CONTROL_TOKEN_FILE": token_file,
                          "RELOADER_CACHE_DIR": os.path.join(self.tmp, "cache"),
                          "RELOADER_READY_HTTP": f"http://127.0.0.1:{app_port}/healthz"})
        self.reloaders.append(r)
        with self.fk.store.lock:
            self.fk.proxies[("hello-dev", "hello", "7070")] = r.port
        return r, app_port, folder

    def start_dev(self):
        self.dev = subprocess.Popen([APPDEPLOY, "dev", "hello", DEPLOY, *self.flags], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)

        def pump():
            for line in self.dev.stdout:
                self.out.append(line)
        threading.Thread(target=pump, daemon=True).start()

    def output(self):
        return "".join(self.out)

    def version(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as r:
            return r.read().decode().strip()

    def token(self):
        def get():
            with self.fk.store.lock:
                o = self.fk.store.objs.get(("", "secrets", "hello-dev", "appdeploy-sync-token"))
                return o and base64.b64decode(o["data"]["token"]).decode()
        return wait_until(get, 60, "the sync token Secret")

    def edit(self, old, new):
        path = os.path.join(self.src, "main.go")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(old, new))

    def test_dev_once_to_a_pod_with_files_sends_only_the_difference(self):
        # A pod's folder that holds files already (dev restarted against the same pod): the manifest
        # diff decides, so an identical file stays and a stale one goes. (An empty folder gets the
        # whole tree in one batch without a manifest: the other test.)
        token = self.token()
        r, app, folder = self.pod(token)
        shutil.copy(os.path.join(self.src, "main.go"), folder)
        with open(os.path.join(folder, "stale.txt"), "w") as f:
            f.write("not in the checkout\n")
        files = len(os.listdir(self.src)) - 1  # all but main.go
        out = self.appdeploy("dev", "hello", DEPLOY, "--once", *self.flags).stdout
        self.assertRegex(out, r"pushed %d files, 1 deleted, \d+ bytes to hello-\S+ in \d+ ms: " % files)
        self.assertFalse(os.path.exists(os.path.join(folder, "stale.txt")))
        for name in os.listdir(self.src):
            with open(os.path.join(self.src, name), "rb") as a, open(os.path.join(folder, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        out = self.appdeploy("dev", "hello", DEPLOY, "--once", *self.flags).stdout
        self.assertRegex(out, r"is up to date")

    def test_dev_once_streams_the_tree_and_sends_it_again_after_a_401(self):
        # To an empty pod the tree goes out while it is read (a chunked upload through the pod proxy). A 401
        # on that batch to an exec plugin's credential (revoked at the identity provider) runs the plugin again
        # and sends the whole batch once more from its first byte: the pod gets every file, once.
        import test_auth
        token = self.token()
        r, app, folder = self.pod(token)
        pdir = os.path.join(self.tmp, "plugin")
        os.mkdir(pdir)
        plugin = os.path.join(pdir, "kube-login")
        with open(plugin, "w") as f:
            f.write(test_auth.PLUGIN.replace("/usr/bin/env python3", sys.executable, 1))
        os.chmod(plugin, 0o755)
        ca = os.path.join(certs_dir(), "ca.crt")
        with open(os.path.join(pdir, "config.json"), "w") as f:
            json.dump({"api_version": test_auth.V1, "token": "dev-exec", "url": self.fk.url, "ca": ca}, f)
        kc = os.path.join(self.tmp, "kc-exec")
        with open(kc, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "k", "cluster": {"server": self.fk.url, "certificate-authority": ca}}],
                       "users": [{"name": "u", "user": {"exec": {"apiVersion": test_auth.V1, "command": plugin,
                                                                  "interactiveMode": "Never"}}}],
                       "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}, f)
        with self.fk.lock:
            self.fk.faults.append({"method": "POST", "path": "/proxy/sync/batch$", "status": 401, "count": 1,
                                   "message": "Unauthorized"})
        refused = self.fk.unauthorized
        flags = [a if a != self.kubeconfig else kc for a in self.flags]
        out = self.appdeploy("dev", "hello", DEPLOY, "--once", *flags).stdout
        files = sorted(os.listdir(self.src))
        self.assertRegex(out, r"pushed %d files, 0 deleted, \d+ bytes to hello-\S+ in \d+ ms: running" % len(files))
        self.assertEqual(self.fk.unauthorized, refused + 1)
        with open(os.path.join(pdir, "calls.jsonl")) as f:
            self.assertEqual(len(f.readlines()), 2)  # the first credential, then again after the 401
        self.assertEqual(sorted(os.listdir(folder)), files)
        for name in files:
            with open(os.path.join(self.src, name), "rb") as a, open(os.path.join(folder, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)
        wait_until(lambda: self.version(app) == "hello v1", 120, "the synced tree served")

    def test_dev_syncs_edits_deletes_errors_and_follows_the_pod(self):
        self.start_dev()
        token = self.token()  # apply created it; dev reads it with the user's credentials
        r, app, folder = self.pod(token)
        wait_until(lambda: self.version(app) == "hello v1", 120, "the initial sync served")
        self.assertTrue(os.path.exists(os.path.join(folder, "notes.txt")))
        files = len(os.listdir(self.src))  # main.go, go.mod, reloader.yaml, notes.txt
        wait_until(lambda: re.search(r"pushed %d files, 0 deleted, \d+ bytes to hello-\S+ in \d+ ms: running" % files,
                                     self.output()), 60, "the initial sync's line")

        self.edit('"hello v1"', '"hello v2"')
        wait_until(lambda: self.version(app) == "hello v2", 120, "the edit served")
        wait_until(lambda: "pushed 1 file, 0 deleted" in self.output(), 60, "one line for the push")

        os.unlink(os.path.join(self.src, "notes.txt"))
        wait_until(lambda: not os.path.exists(os.path.join(folder, "notes.txt")), 60, "the delete applied")
        wait_until(lambda: "pushed 0 files, 1 deleted" in self.output(), 60, "the delete's line")

        self.edit('const version = "hello v2"', 'const version = oops_undefined')
        wait_until(lambda: "build-failed" in self.output(), 120, "the failed build reported")
        wait_until(lambda: "undefined: oops_undefined" in self.output(), 30, "the compiler's error in full")
        self.assertEqual(self.version(app), "hello v2")  # the old service keeps serving
        self.edit("const version = oops_undefined", 'const version = "hello v3"')
        wait_until(lambda: self.version(app) == "hello v3", 120, "the fix served")

        # The pod is replaced: a new pod name, a new (empty) folder behind the proxy.
        self.kubectl("patch", "deployment", "hello", "-n", "hello-dev", "--type", "merge", "-p",
                     '{"spec":{"template":{"metadata":{"annotations":{"replaced":"1"}}}}}')
        r2, app2, folder2 = self.pod(token)
        wait_until(lambda: "pod replaced" in self.output(), 120, "dev to notice the new pod")
        wait_until(lambda: self.version(app2) == "hello v3", 120, "the new pod served from a full sync")
        self.assertFalse(os.path.exists(os.path.join(folder2, "notes.txt")))
        self.edit('"hello v3"', '"hello v4"')
        wait_until(lambda: self.version(app2) == "hello v4", 120, "an edit served by the new pod")
        # --once: one whole-tree comparison, nothing differs, exit 0 (and, under ASan, no leak)
        wait_until(lambda: "720 bytes to hello-" in self.output().split("pod replaced")[-1], 60, "the v4 push's line")
        p = subprocess.run([APPDEPLOY, "dev", "hello", DEPLOY, "--once", *self.flags], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("is up to date", p.stdout)


if __name__ == "__main__":
    unittest.main()
