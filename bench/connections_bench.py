"""connections_bench.py — a few thousand idle and slowly-dribbling connections against reloader's control
API, with /healthz probed meanwhile; the same flood against Python's threading http.server as the peer.

Figures per server: the most connections it held meanwhile and how many at the end of the flood, /healthz answers (ok/failed) and
latency (median, p99, max) during it, open fds and RSS (VmRSS, peak VmHWM) once the flood is gone.
Usage: connections.sh [IDLE] [DRIBBLING] [SECONDS]   (default 2000 500 8)"""
import faulthandler
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BUILD = os.environ.get("BUILD") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build")
IDLE = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
SLOW = int(sys.argv[2]) if len(sys.argv) > 2 else 500
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_up(port, path):
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).read()
            return
        except OSError as e:
            if getattr(e, "code", None):  # an HTTP error answer: it is up
                return
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not come up")


def probe(port, path):
    """One probe: seconds to a complete answer, or None when it failed or took over 5 s."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return time.monotonic() - t0 if data.startswith(b"HTTP/1.") else None
    except OSError:
        return None


def flood(name, pid, port, path):
    baseline = fds(pid)
    socks, stop = [], threading.Event()
    give_up = time.monotonic() + 30  # a server that cannot take connections this fast holds fewer
    for _ in range(IDLE + SLOW):
        if time.monotonic() > give_up:
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            socks.append(s)
        except OSError:
            pass
    opened = len(socks)
    print(f"{name}: {opened} connections opened", file=sys.stderr, flush=True)
    slow = socks[IDLE:]

    def dribble():
        text = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
        for i in range(len(text)):
            if stop.wait(0.2):
                return
            for s in slow:
                try:
                    s.send(text[i:i + 1])
                except OSError:
                    pass

    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    lat, failed, held_max = [], 0, 0
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        held_max = max(held_max, fds(pid) - baseline)
        got = probe(port, path)
        if got is None:
            failed += 1
        else:
            lat.append(got * 1000)
        time.sleep(0.1)
    held = fds(pid) - baseline
    stop.set()
    t.join(5)
    for s in socks:
        s.close()
    time.sleep(1.0)  # let the server see the closes
    lat.sort()
    return {
        "name": name, "opened": opened, "held": held, "held_max": held_max, "ok": len(lat), "failed": failed,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan"),
        "max": lat[-1] if lat else float("nan"),
        "fds_before": baseline, "fds_after": fds(pid),
        "rss_kb": proc_status(pid, "VmRSS"), "hwm_kb": proc_status(pid, "VmHWM"),
    }


def main():
    if os.environ.get("BENCH_DEBUG"):
        faulthandler.dump_traceback_later(40, exit=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE + SLOW + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    results = []
    work = tempfile.mkdtemp(prefix="sm-bench-conn-")

    port = free_port()
    rl = subprocess.Popen([os.path.join(BUILD, "reloader"), "--listen", f"127.0.0.1:{port}", "--", "sleep", "1000"],
                          cwd=work, env=dict(os.environ, NO_COLOR="1", RELOADER_CACHE_DIR=os.path.join(work, "c")),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/healthz")
        results.append(flood("reloader", rl.pid, port, "/healthz"))
    finally:
        rl.terminate()
        rl.wait(20)

    port = free_port()
    # The peer gets the same soft limit so that it can hold the flood at all.
    py = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=work,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, "/")
        results.append(flood("python3 -m http.server", py.pid, port, "/"))
    finally:
        py.terminate()
        py.wait(20)

    print(f"flood: {IDLE} idle + {SLOW} dribbling (1 byte / 200 ms) connections, /healthz probed every 100 ms "
          f"for {SECONDS:.0f} s")
    print(f"{'server':<24} {'opened':>6} {'max held':>8} {'held at end':>11} {'ok':>4} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'fds before/after':>16} {'RSS kB':>7} {'peak kB':>8}")
    for r in results:
        print(f"{r['name']:<24} {r['opened']:>6} {r['held_max']:>8} {r['held']:>11} {r['ok']:>4} {r['failed']:>6} {r['p50']:>7.2f} "
              f"{r['p99']:>7.2f} {r['max']:>7.2f} {str(r['fds_before']) + '/' + str(r['fds_after']):>16} "
              f"{r['rss_kb']:>7} {r['hwm_kb']:>8}")
    a, b = results
    if a["p99"] and b["p99"] == b["p99"]:
        print(f"ratio p99 /healthz latency reloader/peer: {a['p99'] / b['p99']:.2f}; "
              f"most connections held reloader/peer: {a['held_max']}/{b['held_max']}; "
              f"peak RSS reloader/peer: {a['hwm_kb']}/{b['hwm_kb']} kB")


main()
