"""save_bench.py — save a source file -> new process accepting connections: reloader vs entr -r vs nodemon.

Same trivial TCP service (pidserver.c), same tree of 1,000 files in 100 directories, same kind of
save (rewrite one file). Debounce included: each tool runs with its defaults (reloader 50 ms).
Prints medians and ratios; asserts nothing."""
import os
import statistics
import subprocess
import tempfile
import time

from pidservice import build_pidserver, free_port, wait_new

BUILD = os.environ["BUILD"]
RUNS = int(os.environ.get("RUNS", "50"))
HERE = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="bench-save-")
server = build_pidserver(work)
tree = os.path.join(work, "src")
files = []
for d in range(100):
    os.makedirs(os.path.join(tree, f"pkg{d}"))
    for f in range(10):
        path = os.path.join(tree, f"pkg{d}", f"file{f}.go")
        with open(path, "w") as fh:
            fh.write("package p\n")
        files.append(path)
target = files[555]


def measure(name, port):
    old = wait_new(port, None, 15)
    if old is None:
        print(f"  {name}: service never answered")
        return None
    samples, missed, n = [], 0, 0
    while len(samples) < RUNS and missed <= RUNS:
        time.sleep(0.3)  # settle between saves (nodemon and entr re-arm after a restart)
        n += 1
        t0 = time.perf_counter()
        with open(target, "w") as fh:
            fh.write(f"package p // {n}\n")
        new = wait_new(port, old, 5)
        if new is None:
            missed += 1
            continue
        samples.append((time.perf_counter() - t0) * 1000)
        old = new
    if missed:
        print(f"  ({name}: {missed} saves not followed by a restart within 5 s)")
    return samples


def run(name, cmd, env, stdin=None):
    port = free_port()
    env = dict(os.environ, PORT=str(port), NO_COLOR="1", **env)
    p = subprocess.Popen(cmd, env=env, cwd=work, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    if stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    try:
        return measure(name, port)
    finally:
        os.killpg(p.pid, 15)
        p.wait()


results = {}
# A save every 0.3 s is more than watch.loop_limit (10 file-triggered restarts in 10 s) allows: off here.
results["reloader"] = run("reloader", [os.path.join(BUILD, "reloader"), "--listen", "none", "--watch", "src",
                                       "--stop-timeout", "1s", "--", server], {"RELOADER_WATCH_LOOP_LIMIT": "0"})
results["entr -r"] = run("entr", ["entr", "-rn", server], {}, stdin="\n".join(files) + "\n")
nodemon = os.path.join(os.environ.get("NODE_DIR", os.path.join(BUILD, "bench-node")), "node_modules", ".bin", "nodemon")
if os.path.exists(nodemon):
    results["nodemon"] = run("nodemon", [nodemon, "--watch", "src", "-e", "go", "--exec", server], {})
else:
    print("  nodemon: not installed (npm install nodemon into $BUILD/bench-node to compare)")

print(f"save -> new process accepting connections, median of {RUNS} (1,000-file tree, default debounce):")
best = None
for name, s in results.items():
    if s:
        med = statistics.median(s)
        best = med if best is None or med < best else best
        print(f"  {name:10s} {med:8.1f} ms   p90 {statistics.quantiles(s, n=10)[-1]:8.1f} ms")
if results.get("reloader") and best:
    rl = statistics.median(results["reloader"])
    for name, s in results.items():
        if s and name != "reloader":
            print(f"  ratio reloader/{name}: {rl / statistics.median(s):.2f}")
    print(f"  reloader is {'the best' if rl <= best else 'NOT the best'} of the three (goal: the best)")
