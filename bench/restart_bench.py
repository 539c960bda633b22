"""restart_bench.py — poke -> new process accepting connections: reloader vs `entr -r`; RSS and idle CPU.

Both supervisors run the same trivial TCP service; the clock runs from the trigger (HTTP poke for
reloader, touching a watched file for entr) until a connection is answered by a new pid.
Prints figures and ratios; asserts nothing (speed is not a test)."""
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

from pidservice import build_pidserver, free_port, wait_new as wait_pid


def wait_new(port, old, deadline=10.0):
    got = wait_pid(port, old, deadline)
    if got is None:
        raise RuntimeError("service did not come back")
    return got

BUILD = os.environ["BUILD"]
RUNS = int(os.environ.get("RUNS", "200"))
work = tempfile.mkdtemp(prefix="bench-restart-")
server = build_pidserver(work)


def measure(trigger, port):
    """Median-ready samples; a trigger the supervisor missed is retried and not counted."""
    old = wait_new(port, None)
    samples, missed = [], 0
    while len(samples) < RUNS:
        time.sleep(0.05)  # let the supervisor settle (entr re-arms its watch after each restart)
        t0 = time.perf_counter()
        trigger()
        try:
            old = wait_new(port, old, deadline=2.0)
        except RuntimeError:
            missed += 1
            if missed > RUNS:
                raise
            continue
        samples.append((time.perf_counter() - t0) * 1000)
    if missed:
        print(f"  ({missed} triggers missed and retried)")
    return samples


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


# reloader
svc_port, ctl_port = free_port(), free_port()
env = dict(os.environ, PORT=str(svc_port), NO_COLOR="1")
rl = subprocess.Popen([os.path.join(BUILD, "reloader"), "--listen", f"127.0.0.1:{ctl_port}", "--stop-timeout", "1s",
                       "--", server], env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def poke():
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{ctl_port}/restart", method="POST")).read()


time.sleep(0.2)
rl_samples = measure(poke, svc_port)
rl_rss = vm_hwm_kb(rl.pid)
before = cpu_ms(rl.pid)
time.sleep(10)
rl_idle = cpu_ms(rl.pid) - before
rl.terminate()
rl.wait()

# entr -r, triggered by touching a watched file
touch = os.path.join(work, "trigger.txt")
open(touch, "w").close()
svc_port = free_port()
env = dict(os.environ, PORT=str(svc_port))
en = subprocess.Popen(["entr", "-rn", server], stdin=subprocess.PIPE, env=env, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
en.stdin.write((touch + "\n").encode())
en.stdin.close()
counter = [0]


def touch_file():
    counter[0] += 1
    with open(touch, "w") as f:
        f.write(str(counter[0]))


time.sleep(0.3)
en_samples = measure(touch_file, svc_port)
en_rss = vm_hwm_kb(en.pid)
en.terminate()
en.wait()

rl_med, en_med = statistics.median(rl_samples), statistics.median(en_samples)
print(f"restart latency, median of {RUNS} (trigger -> new pid accepting):")
print(f"  reloader (HTTP poke)   {rl_med:7.2f} ms   p90 {statistics.quantiles(rl_samples, n=10)[-1]:7.2f} ms")
print(f"  entr -r (touch a file) {en_med:7.2f} ms   p90 {statistics.quantiles(en_samples, n=10)[-1]:7.2f} ms")
print(f"  ratio reloader/entr    {rl_med / en_med:7.2f}   (goal <= 1.0)")
print(f"peak RSS (VmHWM): reloader {rl_rss} kB (goal < 2048), entr {en_rss} kB")
print(f"CPU while idle for 10 s: reloader {rl_idle:.0f} ms (goal 0)")
