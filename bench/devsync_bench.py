"""devsync_bench.py — synced source mode (#18), in one run:

1. appdeploy dev's initial sync of a FILES-file tree (default 10,000) beside two peers through the same pod
   proxy of tests/fakekube, in the same run:
   - the floor for one stream (the issue's goal is judged against this one): `tar c | curl --data-binary @-`
     of the same tree to the same reloader, which answers the tar with 400 once it has read all of it (not
     its format), so the figure is pure transport: client -> fake API server -> reloader;
   - what `kubectl cp` does (tar c | exec tar x): `tar c | curl` through the same proxy to another port of
     the same pod, where a small server pipes the body into `tar x` in a new folder and answers once tar
     exits: transport + writing the files, without the atomic batch or the restart.
   Ours includes the empty-folder check, reading the tree, writing the files in the pod's folder and the
   restart cycle, up to the batch's answer (the new process accepting connections: the pod's reloader has
   ready.tcp, as a pod has a readiness check). Each run is a new pod (a new empty folder and reloader).
   Beside them, what writing the same files costs there alone (`tar c | tar x` into a new folder).
   Twice: the pods' folders in memory (tmpfs under /dev/shm, as an emptyDir with medium: Memory), where the
   figure is the tools' own cost, and on this machine's disk (TMPDIR), where creating 10,000 inodes can take
   from 0.2 s to several seconds depending on what the filesystem freed lately (ext4 without a journal passes
   over recently freed inodes), a cost every peer that writes the files pays too.
2. A one-line change -> the new process answering, synced (appdeploy dev watching the tree, pushing to the
   pod's reloader) beside local (reloader watching the tree itself, as bench/save.sh measures it), for the
   same service (bench/pidserver.c, answering its pid) and the same kind of save. Goal: synced <= local + 30 ms.

Medians of RUNS. Prints figures and ratios; asserts nothing. VERBOSE=1 shows appdeploy dev's lines,
RELOADER_LOG=FILE keeps the pod reloader's log."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakekube"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import http.server  # noqa: E402
import fakekube  # noqa: E402
from kubeharness import certs_dir  # noqa: E402  (kubectl sends tokens over TLS only)
from pidservice import answer, build_pidserver, free_port, wait_new  # noqa: E402

BUILD = os.environ.get("BUILD") or os.path.join(HERE, "..", "build")
APPDEPLOY = os.path.join(BUILD, "appdeploy")
RELOADER = os.path.join(BUILD, "reloader")
FILES = int(os.environ.get("FILES", "10000"))
RUNS = int(os.environ.get("RUNS", "3"))
EDITS = int(os.environ.get("EDITS", "15"))
TOKEN, SYNC_TOKEN, NS = "bench-admin", "bench-sync-token", "bench"


def wait(pred, what, timeout=120):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        v = pred()
        if v:
            return v
        time.sleep(0.002)
    sys.exit("timed out waiting for " + what)


def healthy(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def edits(target, port, runs):
    """Appends a line to target runs times; each: save -> a new pid answers on port (ms)."""
    old = wait(lambda: answer(port), "the service to answer")
    out = []
    for run in range(runs):
        time.sleep(0.3)  # as save.sh: let the last restart settle
        t0 = time.perf_counter()
        with open(target, "a") as f:
            f.write("one more line %d\n" % run)
        new = wait_new(port, old, 10)
        if new is None:
            sys.exit("no restart within 10 s of a save")
        out.append((time.perf_counter() - t0) * 1000)
        old = new
    return out


class Untar(http.server.BaseHTTPRequestHandler):
    """The far side of `kubectl cp`: POST body -> `tar x -C Untar.dest`, answered 200 once tar has exited."""
    dest = None

    def do_POST(self):
        tar = subprocess.Popen(["tar", "x", "-C", Untar.dest], stdin=subprocess.PIPE)
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            tar.stdin.write(chunk)
            left -= len(chunk)
        tar.stdin.close()
        ok = tar.wait() == 0 and left == 0
        self.send_response(200 if ok else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    tmp = tempfile.mkdtemp(prefix="devsync-bench-")
    server = build_pidserver(tmp)
    tree = os.path.join(tmp, "tree")
    for i in range(FILES):
        d = os.path.join(tree, "d%03d" % (i // 100))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
            f.write(("line %d of a source file\n" % i) * 40)
    deploy = os.path.join(tmp, "deploy")
    os.makedirs(deploy)
    with open(os.path.join(deploy, "svc.yaml"), "w") as f:
        f.write("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc\n  annotations:\n"
                "    sourcemode.dev/runner: go\n    sourcemode.dev/local-source: %s\nspec:\n  replicas: 1\n"
                "  selector: {matchLabels: {app: svc}}\n  template:\n    metadata: {labels: {app: svc}}\n"
                "    spec:\n      containers: [{name: c, image: runner}]\n" % tree)
    fk = fakekube.FakeKube(tokens={TOKEN: "admin"}, rollout_delay=0, tls_dir=certs_dir())
    fk.start()
    kc = fk.kubeconfig(os.path.join(tmp, "kubeconfig"), namespace=NS, token=TOKEN)
    flags = ["--kubeconfig", kc, "-n", NS]
    subprocess.run(["kubectl", "--kubeconfig", kc, "create", "namespace", NS], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([APPDEPLOY, "apply", deploy, *flags], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["kubectl", "--kubeconfig", kc, "-n", NS, "create", "secret", "generic",
                    "appdeploy-sync-token", "--from-literal=token=" + SYNC_TOKEN], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "token"), "w") as f:
        f.write(SYNC_TOKEN)
    pod_app = free_port()
    # the "pod": sync on, the pid service, a readiness check on its port; a save every 0.3 s is more
    # than the loop guard allows of file-triggered restarts (the local reference), so it is off in both
    env = {k: v for k, v in os.environ.items() if k != "RELOADER_LOG"}  # reloader refuses unknown RELOADER_*
    env = dict(env, RELOADER_CONTROL_SYNC="true", RELOADER_CONTROL_TOKEN_FILE=os.path.join(tmp, "token"),
               RELOADER_CACHE_DIR=os.path.join(tmp, "cache"), RELOADER_WATCH_LOOP_LIMIT="0")
    log = open(os.environ.get("RELOADER_LOG", os.devnull), "a")

    def new_pod(base, n):
        """A new pod: its own empty folder (a new emptyDir) under base and reloader, behind the same pod proxy.
        Folders are removed at the end only: deleting 10,000 files just before creating 10,000 more makes ext4
        without a journal (this machine's disk) skip every recently freed inode on each create."""
        pod_dir = os.path.join(base, "pod%d" % n)
        os.makedirs(pod_dir)
        port = free_port()
        rl = subprocess.Popen([RELOADER, "--dir", pod_dir, "--watch", ".", "--listen", "127.0.0.1:%d" % port,
                               "--stop-timeout", "1s", "--", server],
                              env=dict(env, PORT=str(pod_app), RELOADER_READY_TCP=str(pod_app)),
                              stdout=subprocess.DEVNULL, stderr=log)
        wait(lambda: healthy(port) or rl.poll() is not None, "the pod's reloader to listen")
        if rl.poll() is not None:
            sys.exit("the pod's reloader exited %d (RELOADER_LOG=FILE shows why)" % rl.returncode)
        fk.proxies[(NS, "svc", "7070")] = port
        return rl

    memory = tempfile.mkdtemp(prefix="devsync-bench-", dir="/dev/shm") if os.path.isdir("/dev/shm") else None
    volumes = ([("in memory (tmpfs)", memory)] if memory else []) + [("on disk", tmp)]
    rl = new_pod(volumes[0][1], 0)
    pods = subprocess.run(["kubectl", "--kubeconfig", kc, "-n", NS, "get", "pods", "-o", "name"], check=True,
                          capture_output=True, text=True).stdout.split()
    proxy = "%s/api/v1/namespaces/%s/pods/%s:7070/proxy/sync/batch" % (fk.url, NS, pods[0].split("/")[1])
    curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-k",
            "-H", "Authorization: Bearer " + TOKEN, "-H", "X-Reloader-Token: " + SYNC_TOKEN,
            "--data-binary", "@-", proxy]
    untar_srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Untar)
    threading.Thread(target=untar_srv.serve_forever, daemon=True).start()
    fk.proxies[(NS, "svc", "7171")] = untar_srv.server_address[1]  # another port of the same pod
    curl_untar = curl[:-1] + [proxy.replace(":7070/proxy/sync/batch", ":7171/proxy/untar")]

    def peer(paths, cmd=curl, want="400"):
        t0 = time.monotonic()
        tar = subprocess.Popen(["tar", "c", "-C", tree, *paths], stdout=subprocess.PIPE)
        code = subprocess.run(cmd, stdin=tar.stdout, capture_output=True, text=True).stdout
        tar.wait()
        if code != want:
            sys.exit("the tar went nowhere (HTTP %s)" % code)
        return time.monotonic() - t0

    def cp_peer(base, n):
        """tar c | curl | tar x at the pod's end, into a new folder: what kubectl cp does."""
        Untar.dest = os.path.join(base, "cp%d" % n)
        os.makedirs(Untar.dest)
        return peer(["."], curl_untar, "200")

    def extract(base, n):
        """`tar c | tar x` of the tree into a new folder: what writing the files costs there."""
        dest = os.path.join(base, "untar%d" % n)
        os.makedirs(dest)
        t0 = time.monotonic()
        tar = subprocess.Popen(["tar", "c", "-C", tree, "."], stdout=subprocess.PIPE)
        subprocess.run(["tar", "x", "-C", dest], stdin=tar.stdout, check=True)
        tar.wait()
        return time.monotonic() - t0

    initial = []  # (volume, ours, floor, kubectl cp's work, tar x alone)
    for v, (where, base) in enumerate(volumes):
        ours_init, peer_init, cp_init, untar = [], [], [], []
        for run in range(RUNS):
            if run or v:
                rl.terminate()
                rl.wait()
                rl = new_pod(base, run)
            t0 = time.monotonic()
            subprocess.run([APPDEPLOY, "dev", "svc", deploy, "--once", *flags], check=True,
                           stdout=None if os.environ.get("VERBOSE") else subprocess.DEVNULL)
            ours_init.append(time.monotonic() - t0)
            peer_init.append(peer(["."]))
            cp_init.append(cp_peer(base, run))
            untar.append(extract(base, run))
        initial.append((where, ours_init, peer_init, cp_init, untar))
    target = os.path.join(tree, "d000", "f00000.txt")
    # one-line change, synced: appdeploy dev watching the tree, the pod's reloader restarting the service
    out = []
    dev = subprocess.Popen([APPDEPLOY, "dev", "svc", deploy, *flags], stdout=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: [out.append(line) for line in dev.stdout], daemon=True).start()
    wait(lambda: any("up to date" in line or "pushed" in line for line in out), "dev's first sync")
    synced = edits(target, pod_app, EDITS)
    dev.terminate()
    dev.wait()
    if os.environ.get("VERBOSE"):
        sys.stdout.write("".join(out))
    # the same, local: reloader watching the tree itself (bench/save.sh's measurement)
    local_app = free_port()
    loc = subprocess.Popen([RELOADER, "--dir", tree, "--watch", ".", "--listen", "none", "--stop-timeout", "1s", "--",
                            server], env=dict(env, PORT=str(local_app), RELOADER_CONTROL_SYNC="false"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = edits(target, local_app, EDITS)
    loc.terminate()
    loc.wait()
    rl.terminate()
    rl.wait()
    untar_srv.shutdown()
    fk.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    if memory:
        shutil.rmtree(memory, ignore_errors=True)
    se, le = statistics.median(synced), statistics.median(local)
    for where, ours_init, peer_init, cp_init, untar in initial:
        oi, pi, ci, ui = (statistics.median(v) * 1000 for v in (ours_init, peer_init, cp_init, untar))
        print("initial sync, %d files, pod folders %s, median of %d:  appdeploy dev %.0f ms" % (FILES, where, RUNS, oi))
        print("  vs tar c | curl (transport only, the floor for one stream) %.0f ms: ratio %.2fx "
              "(the issue's goal: <= 1.5x)" % (pi, oi / pi))
        print("  vs tar c | curl | tar x at the pod's end (kubectl cp's work: transport + writing) %.0f ms: "
              "ratio %.2fx" % (ci, oi / ci))
        print("  (writing the same files there alone, tar c | tar x into a new folder: %.0f ms)" % ui)
        print("  each run (ours / floor / kubectl cp's work / tar x alone, ms): " +
              ", ".join("%.0f/%.0f/%.0f/%.0f" % tuple(v[i] * 1000 for v in (ours_init, peer_init, cp_init, untar))
                        for i in range(RUNS)))
    print("one-line change -> new process answering, median of %d:  synced %.0f ms   local (save.sh's way) %.0f ms"
          "   difference %+.0f ms (goal <= +30 ms)" % (EDITS, se, le, se - le))


if __name__ == "__main__":
    main()
