"""watch_helper.py — measurements behind bench/watch.sh: watch set-up time, peak RSS, idle CPU, fingerprint check."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ["BUILD"]
RELOADER = os.path.join(BUILD, "reloader")
NODE_DIR = os.path.join(BUILD, "bench-node")
TICK = os.sysconf("SC_CLK_TCK")


def make_tree(root, dirs, files_per_dir, age=True):
    """dirs directories (two levels: 100 x dirs/100) with files_per_dir small files each; reused when present."""
    stamp = os.path.join(root, ".complete")
    if os.path.exists(stamp):
        return
    past = time.time() - 3600
    for i in range(dirs):
        d = os.path.join(root, f"p{i // 100}", f"d{i % 100}")
        os.makedirs(d, exist_ok=True)
        for j in range(files_per_dir):
            path = os.path.join(d, f"f{j}.c")
            with open(path, "w") as f:
                f.write(f"int v{i}_{j};\n")
            if age:
                os.utime(path, (past, past))
    open(stamp, "w").close()


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICK  # utime + stime, seconds


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_line(proc, needle, timeout=120):
    """Reads proc's merged output until a line contains needle; returns seconds since start."""
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if needle in line:
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"no '{needle}' from {proc.args}")


def setup_time(cmd, needle, env=None, cwd=None):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    try:
        wait_line(p, needle)
        dt = time.monotonic() - t0
        return dt, p
    except Exception:
        p.kill()
        p.wait()
        raise


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def bench_setup(tree, runs=3):
    env = dict(os.environ, NO_COLOR="1", RELOADER_CACHE_DIR=tempfile.mkdtemp(prefix="sm-bench-cache-"))
    results = {}
    peers = {
        # reloader watches paths inside its dir: run it in the tree
        "reloader": ([RELOADER, "--listen", "none", "--watch", ".", "--", "sleep", "1000"], "watch: inotify", env),
        "inotifywait -r": (["inotifywait", "-m", "-r", "-q", "-e", "modify,create,delete,move", tree, "--format", "%w%f"],
                           None, None),
    }
    chokidar = os.path.join(NODE_DIR, "node_modules", "chokidar")
    if os.path.isdir(chokidar):
        script = ("const c=require(%r);const w=c.watch(process.argv[1],{ignoreInitial:true});"
                  "w.on('ready',()=>console.log('READY'));" % chokidar)
        peers["chokidar"] = (["node", "-e", script, tree], "READY", None)
    else:
        print("  chokidar: not installed (npm install chokidar-cli into build/bench-node failed); skipped")
    out = {}
    hashing = []
    for name, (cmd, needle, penv) in peers.items():
        cwd = tree if name == "reloader" else None
        times, rss, cpu = [], 0, None
        for k in range(runs):
            if needle is None:
                # inotifywait prints "Watches established." without -q; use that form
                cmd2 = [c for c in cmd if c != "-q"]
                dt, p = setup_time(cmd2, "Watches established", penv)
            else:
                dt, p = setup_time(cmd, needle, penv, cwd)
            times.append(dt)
            if name == "reloader":
                # then it reads every file's contents once (in the background, after set-up)
                t1 = time.monotonic()
                wait_line(p, "files read in")
                hashing.append(time.monotonic() - t1 + dt)
            if k == runs - 1:
                pid = p.pid
                rss = vm_hwm_kb(pid)
                c0 = proc_stat(pid)
                time.sleep(10)
                cpu = proc_stat(pid) - c0
                rss = vm_hwm_kb(pid)
            stop(p)
        out[name] = (min(times), statistics.median(times), rss, cpu)
    if hashing:
        print(f"  reloader read every file's contents (its change check) {min(hashing) * 1000:.0f} ms after start "
              f"(best of {runs}); the idle CPU below is measured after that")
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_fingerprint(tree, pokes=20, extra=()):
    """Poke-with-nothing-changed on a tree: reloader's own timing of the check, and the HTTP round trip.
    extra=("--watch", ".") lets a quiet watcher vouch for the inputs (the scan is skipped)."""
    cache = tempfile.mkdtemp(prefix="sm-bench-cache-")
    port = free_port()
    env = dict(os.environ, NO_COLOR="1", RELOADER_CACHE_DIR=cache, RELOADER_DEBUG="1")
    log = open(os.path.join(cache, "log"), "w+")
    p = subprocess.Popen([RELOADER, "--listen", f"127.0.0.1:{port}", "--build", "true", *extra, "--", "sleep", "1000"],
                         cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                st = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/status", headers={"Accept": "application/json"})))
                if st["state"] == "running":
                    break
            except OSError:
                pass
            time.sleep(0.05)
        rtts = []
        for _ in range(pokes):
            t0 = time.monotonic()
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/restart?wait=1", method="POST")).read()
            rtts.append((time.monotonic() - t0) * 1000)
        st = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/status", headers={"Accept": "application/json"})))
    finally:
        stop(p)
    log.seek(0)
    checks = []
    for line in log:
        if "hashed," in line and "unchanged" in line:
            checks.append(float(line.split(" hashed, ")[1].split(" ms")[0]))
        elif "watcher saw no change" in line:
            checks.append(float(line.split("check (")[1].split(" ms")[0]))
    scans = [line for line in open(os.path.join(cache, "log")) if "hashed," in line]
    inputs = scans[-1].split("cache: ")[1].split(" inputs")[0] if scans else st["watch"].get("files", 0)
    return checks, rtts, st["build"]["cached"], int(inputs)


def main():
    base = os.environ.get("BENCH_TREE", "/tmp/sourcemode-bench")
    big = os.path.join(base, "tree-100k")
    small = os.path.join(base, "tree-10k")
    t0 = time.monotonic()
    make_tree(big, 10000, 10)
    make_tree(small, 1000, 10)
    print(f"trees ready in {time.monotonic() - t0:.1f} s ({big}: 10,000 dirs, 100,000 files; {small}: 1,000 dirs, 10,000 files)")

    print("\n-- watch set-up on 100,000 files in 10,000 directories (best / median of 3), then 10 s idle")
    res = bench_setup(big)
    base_t = res["inotifywait -r"][0]
    for name, (best, med, rss, cpu) in res.items():
        print(f"  {name:16s} set-up {best * 1000:7.0f} ms / {med * 1000:7.0f} ms   "
              f"({best / base_t:4.2f}x inotifywait)   peak RSS {rss / 1024:6.1f} MB   CPU idle 10 s: {cpu:.2f} s")
    r = res["reloader"]
    iw_rss = res["inotifywait -r"][2]
    print(f"  peak RSS watching 100,000 files: reloader {r[2] / 1024:.1f} MB, inotifywait -r {iw_rss / 1024:.1f} MB, "
          f"ratio {r[2] / iw_rss:.2f} (goal <= 1.00, issue #12: {'met' if r[2] <= iw_rss else 'NOT met'}; reloader "
          f"also keeps a content digest of every file: 12 bytes each)")
    print(f"  goal: <= 1.2x inotifywait and < 1 s: {'met' if r[0] <= 1.2 * base_t and r[0] < 1 else 'NOT met'}; "
          f"RSS goal < 4 MB: {'met' if r[2] < 4096 else 'NOT met'}; idle CPU goal 0: {'met' if r[3] == 0 else 'NOT met'}")

    print("\n-- poke with nothing changed on a 10,000-file tree (fingerprint check; 20 pokes)")
    checks, rtts, cached, inputs = bench_fingerprint(small)
    print(f"  inputs {inputs}, build skipped: {cached}")
    print(f"  check: median {statistics.median(checks):.1f} ms, max {max(checks):.1f} ms   "
          f"POST /restart?wait=1 round trip: median {statistics.median(rtts):.1f} ms "
          f"(includes stopping and starting the service)")
    print(f"  goal < 20 ms: {'met' if statistics.median(checks) < 20 else 'NOT met'} (full scan: no watcher)")
    checks, rtts, cached, inputs = bench_fingerprint(small, extra=("--watch", "."))
    print(f"  with --watch . (a quiet watcher vouches, as under the runners): check median "
          f"{statistics.median(checks):.2f} ms, max {max(checks):.2f} ms; round trip median {statistics.median(rtts):.1f} ms")
    print(f"  goal < 20 ms: {'met' if statistics.median(checks) < 20 else 'NOT met'} (with the watcher)")


if __name__ == "__main__":
    sys.exit(main())
