"""runners_bench.py — one-line change -> new version served, and a poke with nothing changed -> served by a new process:
reloader's go runner (warm cache) vs gorerun's way (SIGHUP: kill the `go run` process group, `go run .` again).
The same run locally and inside the go runner image (podman, base assembled from host packages like the test).
Prints medians in ms and ratios. BENCH_ROUNDS=N (default 5); BENCH_CONTAINER=0 skips the container half."""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import localbase  # noqa: E402
from harness import free_port, http  # noqa: E402

BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

# gorerun's loop, in bash so the same script runs on the host and in the image: `go run .` in its own
# process group; SIGHUP kills the group, waits until it is gone (port free), and runs `go run .` again.
GORERUN = r"""set -m
trap 'kill -TERM -- -$pid 2>/dev/null' HUP
trap 'kill -TERM -- -$pid 2>/dev/null; exit 0' TERM
while :; do
	go run . & pid=$!
	wait $pid
	while kill -0 -- -$pid 2>/dev/null; do sleep 0.005; done
done
"""


def project(tmp, name):
    """A copy of examples/hello whose answer also names the serving process (to see a restart without a change)."""
    d = os.path.join(tmp, name)
    shutil.copytree(os.path.join(ROOT, "examples", "hello"), d)
    path = os.path.join(d, "main.go")
    with open(path) as f:
        text = f.read()
    text = text.replace("fmt.Fprintln(w, version)", "fmt.Fprintln(w, version, os.Getpid())")
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(d, "gorerun.sh"), "w") as f:
        f.write(GORERUN)
    return d


def served(port):
    try:
        code, body = http(port, "GET", "/version", timeout=2)
    except OSError:
        return None
    return body.split() if code == 200 else None


def wait_for(pred, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.002)
    raise RuntimeError("timed out")


def measure(src, port, trigger):
    """Median ms of: one-line change -> new version served; trigger with no change -> a new process serving."""
    change, same = [], []
    main = os.path.join(src, "main.go")
    for i in range(ROUNDS):
        wait_for(lambda: served(port))
        with open(main) as f:
            text = f.read()
        new = f"v{uuid.uuid4().hex[:8]}"
        with open(main, "w") as f:
            f.write(re.sub(r'const version = "[^"]*"', f'const version = "hello {new}"', text))
        t0 = time.monotonic()
        trigger()
        wait_for(lambda: (lambda s: s and new in s)(served(port)))
        change.append((time.monotonic() - t0) * 1000)
    for i in range(ROUNDS):
        before = wait_for(lambda: served(port))
        t0 = time.monotonic()
        trigger()
        wait_for(lambda: (lambda s: s and s[-1] != before[-1])(served(port)))
        same.append((time.monotonic() - t0) * 1000)
    return statistics.median(change), statistics.median(same)


def poke(ctl):
    return lambda: http(ctl, "POST", "/restart")


def local(tmp):
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GOCACHE=os.path.join(tmp, "gocache"))
    src = project(tmp, "local-reloader")
    svc, ctl = free_port(), free_port()
    p = subprocess.Popen([os.path.join(BUILD, "reloader"), "--runner", "go", "--listen", f"127.0.0.1:{ctl}",
                          "--cache-dir", os.path.join(tmp, "cache")], cwd=src, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=dict(env, LISTEN=f"127.0.0.1:{svc}"))
    try:
        wait_for(lambda: served(svc))
        ours = measure(src, svc, poke(ctl))
    finally:
        p.terminate()
        p.wait()
    src = project(tmp, "local-gorerun")
    svc = free_port()
    g = subprocess.Popen(["bash", "gorerun.sh"], cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(env, LISTEN=f"127.0.0.1:{svc}"))
    try:
        wait_for(lambda: served(svc))
        theirs = measure(src, svc, lambda: g.send_signal(signal.SIGHUP))
    finally:
        g.terminate()
        g.wait()
    return ours, theirs


def container(tmp):
    env = localbase.engine_env(tmp)
    problem = localbase.podman_problem(env)
    if problem:
        return problem
    tag = uuid.uuid4().hex[:10]
    base, image = f"localhost/sourcemode-bench-base:{tag}", f"localhost/sourcemode-bench-runner-go:{tag}"
    names, volume = [], f"sourcemode-bench-cache-{tag}"

    def podman(*args):
        return subprocess.run(["podman", *args], env=env, check=True, capture_output=True, text=True,
                              timeout=600).stdout

    def start(name, src, *args):
        names.append(name)
        podman("run", "-d", "--name", name, "-v", f"{src}:/src", "-e", "LISTEN=0.0.0.0:8080",
               "-p", "127.0.0.1::7070", "-p", "127.0.0.1::8080", *args)
        return [int(podman("port", name, str(p)).split(":")[-1]) for p in (7070, 8080)]

    try:
        localbase.import_image(base, env, tmp)
        subprocess.run([os.path.join(ROOT, "scripts", "images.sh"), "go"], check=True, capture_output=True,
                       env=dict(env, BASE_go=base, IMAGE_TAG=tag, IMAGE_PREFIX="localhost/sourcemode-bench-runner-",
                                BUILD_FLAGS="--pull=never --layers=false"), timeout=900)
        src = project(tmp, "ctr-reloader")
        ctl, svc = start(f"sourcemode-bench-{tag}-r", src, "-v", f"{volume}:/cache", image)
        wait_for(lambda: served(svc))
        ours = measure(src, svc, poke(ctl))
        src = project(tmp, "ctr-gorerun")
        name = f"sourcemode-bench-{tag}-g"
        _, svc = start(name, src, "--entrypoint", "bash", image, "/src/gorerun.sh")
        pid = int(podman("inspect", "-f", "{{.State.Pid}}", name).strip())  # the loop, seen from the host
        wait_for(lambda: served(svc))
        theirs = measure(src, svc, lambda: os.kill(pid, signal.SIGHUP))
        return ours, theirs
    finally:
        for n in names:
            subprocess.run(["podman", "rm", "-f", "-v", "-t", "1", n], env=env, capture_output=True)
        subprocess.run(["podman", "volume", "rm", "-f", volume], env=env, capture_output=True)
        subprocess.run(["podman", "rmi", "-f", image, base], env=env, capture_output=True)


def report(where, result):
    if isinstance(result, str):
        print(f"{where:<10} skipped: {result}")
        return
    (oc, os_), (gc, gs) = result
    print(f"{where:<10} one-line change -> new version served   reloader {oc:8.1f} ms   gorerun-style {gc:8.1f} ms"
          f"   ratio {gc / oc:6.1f}x  (goal >= 5x)")
    print(f"{where:<10} poke, nothing changed -> new process    reloader {os_:8.1f} ms   gorerun-style {gs:8.1f} ms"
          f"   ratio {gs / os_:6.1f}x  (goal >= 100x)")


def main():
    tmp = tempfile.mkdtemp(prefix="sourcemode-bench-runners-")
    try:
        print(f"go runner vs gorerun-style restart, median of {ROUNDS} rounds, examples/hello")
        report("local", local(tmp))
        if os.environ.get("BENCH_CONTAINER", "1") != "0":
            report("container", container(tmp))
    finally:
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    main()
