"""devsync_bench.py — appdeploy dev's initial sync of a FILES-file tree (default 10,000) and one one-line
change, beside the floor for one stream: `tar c | curl --data-binary @-` of the same tree (or the one
file) through the same pod proxy of tests/fakekube to the same reloader, in the same run.

reloader answers the tar with 400 once it has read all of it (not its format), so the peer's figure is
pure transport: client -> fake API server -> reloader. Ours includes hashing, the manifest round trip,
writing the files in the pod's folder and the restart cycle (build `true`, a `sleep` service), i.e.
save -> new version running. Medians of RUNS. Prints figures and ratios; asserts nothing.
VERBOSE=1 shows appdeploy dev's lines, RELOADER_LOG=FILE keeps reloader's log."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakekube"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import fakekube  # noqa: E402
from kubeharness import certs_dir  # noqa: E402  (kubectl sends tokens over TLS only)

BUILD = os.environ.get("BUILD") or os.path.join(HERE, "..", "build")
APPDEPLOY = os.path.join(BUILD, "appdeploy")
RELOADER = os.path.join(BUILD, "reloader")
FILES = int(os.environ.get("FILES", "10000"))
RUNS = int(os.environ.get("RUNS", "3"))
TOKEN, SYNC_TOKEN, NS = "bench-admin", "bench-sync-token", "bench"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, what, timeout=120):
    t = time.monotonic() + timeout
    while time.monotonic() < t:
        v = pred()
        if v:
            return v
        time.sleep(0.002)
    sys.exit("timed out waiting for " + what)


def main():
    tmp = tempfile.mkdtemp(prefix="devsync-bench-")
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
    pod_dir = os.path.join(tmp, "pod")
    os.makedirs(pod_dir)
    with open(os.path.join(tmp, "token"), "w") as f:
        f.write(SYNC_TOKEN)
    port = free_port()
    rl = subprocess.Popen([RELOADER, "--dir", pod_dir, "--watch", ".", "--listen", "127.0.0.1:%d" % port,
                           "--build", "true", "--", "sleep", "1000000"],
                          env=dict(os.environ, RELOADER_CONTROL_SYNC="true",
                                   RELOADER_CONTROL_TOKEN_FILE=os.path.join(tmp, "token"),
                                   RELOADER_CACHE_DIR=os.path.join(tmp, "cache")),
                          stdout=subprocess.DEVNULL, stderr=open(os.environ.get("RELOADER_LOG", os.devnull), "w"))
    fk.proxies[(NS, "svc", "7070")] = port
    pods = subprocess.run(["kubectl", "--kubeconfig", kc, "-n", NS, "get", "pods", "-o", "name"], check=True,
                          capture_output=True, text=True).stdout.split()
    proxy = "%s/api/v1/namespaces/%s/pods/%s:7070/proxy/sync/batch" % (fk.url, NS, pods[0].split("/")[1])
    curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-k",
            "-H", "Authorization: Bearer " + TOKEN, "-H", "X-Reloader-Token: " + SYNC_TOKEN,
            "--data-binary", "@-", proxy]

    def peer(paths):
        t0 = time.monotonic()
        tar = subprocess.Popen(["tar", "c", "-C", tree, *paths], stdout=subprocess.PIPE)
        code = subprocess.run(curl, stdin=tar.stdout, capture_output=True, text=True).stdout
        tar.wait()
        if code != "400":
            sys.exit("the tar went nowhere (HTTP %s)" % code)
        return time.monotonic() - t0

    ours_init, peer_init, ours_edit, peer_edit = [], [], [], []
    for run in range(RUNS):
        for e in os.listdir(pod_dir):
            shutil.rmtree(os.path.join(pod_dir, e))
        t0 = time.monotonic()
        subprocess.run([APPDEPLOY, "dev", "svc", deploy, "--once", *flags], check=True,
                       stdout=None if os.environ.get("VERBOSE") else subprocess.DEVNULL)
        ours_init.append(time.monotonic() - t0)
        peer_init.append(peer(["."]))
    # one-line change with the watching dev: save -> the push's answer (the new process is running)
    out = []
    dev = subprocess.Popen([APPDEPLOY, "dev", "svc", deploy, *flags], stdout=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: [out.append(line) for line in dev.stdout], daemon=True).start()
    wait(lambda: any("up to date" in line or "pushed" in line for line in out), "dev's first sync")
    target = os.path.join(tree, "d000", "f00000.txt")
    for run in range(RUNS):
        n = len([line for line in out if line.startswith("pushed")])
        with open(target, "a") as f:
            t0 = time.monotonic()
            f.write("one more line %d\n" % run)
        wait(lambda: len([line for line in out if line.startswith("pushed")]) > n, "the push")
        ours_edit.append(time.monotonic() - t0)
        peer_edit.append(peer(["d000/f00000.txt"]))
    dev.terminate()
    dev.wait()
    rl.terminate()
    rl.wait()
    fk.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    oi, pi, oe, pe = (statistics.median(v) * 1000 for v in (ours_init, peer_init, ours_edit, peer_edit))
    print("initial sync, %d files:  appdeploy dev %.0f ms   tar c | curl %.0f ms   ratio %.2fx (goal <= 1.5x)"
          % (FILES, oi, pi, oi / pi))
    print("one-line change:        appdeploy dev %.0f ms (save -> running)   tar c | curl %.0f ms (transport only)"
          % (oe, pe))


if __name__ == "__main__":
    main()
