"""dashboard_bench.py — loads the appdeploy dashboard with 100 Deployments in headless Chromium and prints load time and agent RSS."""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakekube"))
import fakekube  # noqa: E402
from test_dashboard import e2e_ready, E2E  # noqa: E402

BUILD = os.environ.get("BUILD") or os.path.join(HERE, "..", "build")
N = 100
RUNS = 5

TEMPLATE = """{{- range $i := until %d }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{{ $i }}
  annotations:
    sourcemode.dev/runner: go
    sourcemode.dev/container: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: svc-{{ $i }}}
  template:
    metadata:
      labels: {app: svc-{{ $i }}}
    spec:
      containers:
      - name: app
        image: registry.example/svc-{{ $i }}:1.0
{{- end }}
""" % N


def rss_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M)
    return int(m.group(1))


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit("bench: timed out waiting for " + what)


def main():
    why = e2e_ready()
    if why:
        print("dashboard bench skipped: " + why)
        return
    tmp = tempfile.mkdtemp(prefix="dashboard-bench-")
    os.makedirs(os.path.join(tmp, "app"))
    with open(os.path.join(tmp, "app", "deployments.yaml"), "w") as f:
        f.write(TEMPLATE)
    with open(os.path.join(tmp, "app", "variables.yaml"), "w") as f:
        f.write("namespace: bench\n")
    fk = fakekube.FakeKube(anonymous=True, rollout_delay=0.05)
    fk.start()
    kc = fk.kubeconfig(os.path.join(tmp, "kubeconfig"))
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([os.path.join(BUILD, "appdeploy"), "serve", os.path.join(tmp, "app"), "--kubeconfig", kc,
                          "--listen", "127.0.0.1:0", "--interval", "1h"], stdout=log, stderr=subprocess.STDOUT)
    try:
        text = lambda: open(log.name).read()
        port = int(wait_for(lambda: re.search(r"on http://[^:]+:(\d+)/", text()), 30, "serve").group(1))
        url = "http://127.0.0.1:%d/" % port
        import urllib.request

        def synced():
            snap = json.load(urllib.request.urlopen(url + "api/deployments", timeout=10))
            return len([d for d in snap["deployments"] if d["state"] == "running"]) == N
        wait_for(synced, 120, "%d deployments running" % N)
        idle_rss = rss_kb(p.pid, "VmRSS")
        times = []
        for _ in range(RUNS):
            out = subprocess.run(["node", os.path.join(E2E, "dashboard.e2e.js"), "load", url], capture_output=True,
                                 text=True, timeout=120, env=dict(os.environ, E2E_PARAMS=json.dumps({"count": N})))
            if out.returncode:
                raise SystemExit("bench: browser failed: " + out.stderr)
            times.append(json.loads(out.stdout.strip().splitlines()[-1])["load_ms"])
        serving_rss = rss_kb(p.pid, "VmRSS")
        peak = rss_kb(p.pid, "VmHWM")
        print("dashboard with %d deployments: load to first complete render median %d ms (min %d, max %d, %d runs; "
              "includes navigation, page scripts, session + SSE snapshot)" % (N, statistics.median(times), min(times),
                                                                               max(times), RUNS))
        print("appdeploy serve RSS: %.1f MiB idle after sync, %.1f MiB after %d page loads, peak %.1f MiB"
              % (idle_rss / 1024, serving_rss / 1024, RUNS, peak / 1024))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        fk.stop()


if __name__ == "__main__":
    main()
