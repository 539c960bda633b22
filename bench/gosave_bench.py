"""gosave_bench.py — a one-line change to a Go service: save -> new version served by reloader --runner go,
beside a bare `go build -ldflags=-w` of the same change (same GOCACHE, same machine, same run).

Goal (issue #12): save or poke -> served within 1.1x the bare build + 20 ms. Prints medians and ratios,
and where reloader's time goes (its own phase timings from /status)."""
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

BUILD = os.environ["BUILD"]
RUNS = int(os.environ.get("GO_RUNS", "10"))
RELOADER = os.path.join(BUILD, "reloader")
RUNNERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runners")

MAIN = """package main

import (
	"fmt"
	"net/http"
	"os"
)

const version = "%s"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, version) })
	http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save(src, version):
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write(MAIN % version)


def served(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return r.read().decode()
    except OSError:
        return None


def wait_served(port, version, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if served(port) == version:
            return True
        time.sleep(0.001)
    return False


def main():
    if not shutil_which("go"):
        print("  go: not installed; Go save benchmark skipped (scripts/deps.sh test installs golang-go)")
        return 1
    work = tempfile.mkdtemp(prefix="bench-gosave-")
    src, cache = os.path.join(work, "svc"), os.path.join(work, "cache")
    os.makedirs(src)
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module example.com/svc\n\ngo 1.19\n")
    env = dict(os.environ, GOCACHE=os.path.join(cache, "go", "build"), GOMODCACHE=os.path.join(cache, "go", "mod"),
               GOFLAGS="-mod=mod", GO111MODULE="auto")
    # bare go build of the same one-line change, warm cache
    bare = []
    save(src, "warm")
    subprocess.run(["go", "build", "-ldflags=-w", "-o", os.path.join(work, "bin"), "."], cwd=src, env=env, check=True)
    for i in range(RUNS):
        save(src, f"bare-{i}")
        t0 = time.perf_counter()
        subprocess.run(["go", "build", "-ldflags=-w", "-o", os.path.join(work, "bin"), "."], cwd=src, env=env,
                       check=True)
        bare.append((time.perf_counter() - t0) * 1000)

    port, ctl = free_port(), free_port()
    # a save a second for GO_RUNS seconds: more than the loop guard's default (10 in 10 s) allows
    renv = dict(env, PORT=str(port), RELOADER_CACHE_DIR=cache, NO_COLOR="1", RELOADER_WATCH_LOOP_LIMIT="0")
    save(src, "start")
    p = subprocess.Popen([RELOADER, "--runner", os.path.join(RUNNERS, "go.yaml"), "--listen", f"127.0.0.1:{ctl}"],
                         cwd=src, env=renv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    saves, pokes, phases = [], [], []
    try:
        if not wait_served(port, "start", 120):
            print("  reloader --runner go: the service never answered")
            return 1
        for i in range(RUNS):
            time.sleep(0.3)
            v = f"save-{i}"
            t0 = time.perf_counter()
            save(src, v)
            if wait_served(port, v):
                saves.append((time.perf_counter() - t0) * 1000)
                st = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ctl}/status"))
                phases.append(st["last_restart"])
        for i in range(RUNS):
            time.sleep(0.3)
            v = f"poke-{i}"
            t0 = time.perf_counter()
            save(src, v)
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{ctl}/restart?wait=1", method="POST")).read()
            if wait_served(port, v):
                pokes.append((time.perf_counter() - t0) * 1000)
        st = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ctl}/status"))
    finally:
        os.killpg(p.pid, 15)
        p.wait()
    b = statistics.median(bare)
    goal = 1.1 * b + 20
    print(f"Go one-line change -> new version served, median of {RUNS}:")
    print(f"  bare go build -ldflags=-w   {b:7.0f} ms   (the peer: what the compiler alone needs)")
    for name, s in (("reloader, save", saves), ("reloader, save + poke", pokes)):
        if s:
            m = statistics.median(s)
            print(f"  {name:26s}  {m:7.0f} ms   ratio to go build {m / b:.2f}   goal <= {goal:.0f} ms: "
                  f"{'met' if m <= goal else 'NOT met'}")
    if phases:
        for k in ("build_ms", "stop_ms", "start_ms"):
            print(f"    reloader's own {k[:-3]:5s} phase: median {statistics.median(x[k] for x in phases):6.0f} ms")
    print(f"  restarts {st['restarts']} for {2 * RUNS} saves (1 each expected)")
    return 0


def shutil_which(tool):
    import shutil
    return shutil.which(tool)


if __name__ == "__main__":
    raise SystemExit(main())
