"""apply_bench.py — first apply and no-change re-apply (cold and warm discovery cache) of 200 rendered objects: appdeploy vs `kubectl apply --server-side`.

Both talk to the same fake API server (tests/fakekube, HTTPS + bearer token, GROUPS=60 extra API groups
as a cluster with many operators has) in the same run, each into its own namespace, from the same rendered
objects (`appdeploy render -o DIR` feeds kubectl). Wall time is the median of RUNS re-applies; requests are
what the fake counted for that run (discovery, lists, other); peak RSS comes from wait4(). Prints figures
and ratios; asserts nothing."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakekube"))
import fakekube  # noqa: E402

BUILD = os.environ.get("BUILD") or os.path.join(HERE, "..", "build")
APPDEPLOY = os.path.join(BUILD, "appdeploy")
KUBECTL = shutil.which("kubectl")
N = int(os.environ.get("OBJECTS", "200"))
RUNS = int(os.environ.get("RUNS", "5"))
GROUPS = int(os.environ.get("GROUPS", "60"))  # extra API groups the fake serves, as operators add on a real cluster


def run(argv, env=None):
    """Returns (seconds, peak RSS in MiB) of one run; fails loudly on a non-zero exit."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, **env) if env else None)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit("%s failed (%d):\n%s" % (" ".join(argv), p.returncode, err))
    return dt, ru.ru_maxrss / 1024.0


def make_templates(d):
    os.makedirs(d)
    kinds = [
        ("cm", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: value-%d\n"),
        ("svc", "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\nspec:\n  selector: {app: app-%d}\n"
                "  ports: [{port: 80}]\n"),
        ("deploy", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\nspec:\n  replicas: 1\n"
                   "  selector: {matchLabels: {app: app-%d}}\n  template:\n    metadata: {labels: {app: app-%d}}\n"
                   "    spec:\n      containers: [{name: c, image: '{{ .Variables.image }}'}]\n"),
        ("sa", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-%d\n"),
    ]
    with open(os.path.join(d, "variables.yaml"), "w") as f:
        f.write("image: registry.example/app:1\n")
    for i in range(N):
        name, text = kinds[i % len(kinds)]
        with open(os.path.join(d, "%s-%03d.yaml" % (name, i)), "w") as f:
            f.write(text.replace("%d", str(i)))


def counted(fk, argv, env=None):
    """One run: (seconds, peak RSS MiB, requests the fake saw, {kind of request: count})."""
    fk.reset_counts()
    t, rss = run(argv, env)
    with fk.lock:
        counts = dict(fk.counts)
    kinds = {"discovery": 0, "list": 0, "other": 0}
    for k, n in counts.items():
        method, path = k.split(" ", 1)
        if path.startswith("/fakekube"):
            continue
        segs = path.strip("/").split("/")
        if method == "GET" and (path in ("/api", "/apis") or (segs[0] == "api" and len(segs) == 2)
                                or (segs[0] == "apis" and len(segs) <= 3) or path.startswith("/openapi")):
            kinds["discovery"] += n
        elif method == "GET" and (len(segs) in (3, 5) if segs[0] == "api" else len(segs) in (4, 6)):
            kinds["list"] += n
        else:
            kinds["other"] += n
    return t, rss, sum(kinds.values()), kinds


def median_run(fk, argv, env_for_run):
    runs = [counted(fk, argv, env_for_run(i)) for i in range(RUNS)]
    mid = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), mid[2], mid[3])


def main():
    if not os.path.exists(APPDEPLOY):
        sys.exit("build appdeploy first (make)")
    if not KUBECTL:
        sys.exit("kubectl is not installed")
    tmp = tempfile.mkdtemp(prefix="apply-bench-")
    try:
        fk = fakekube.FakeKube(tokens={"bench-token": "admin"}, tls_dir=os.path.join(tmp, "tls"), rollout_delay=0,
                               extra_groups=GROUPS)
        fk.start()
        kc = fk.kubeconfig(os.path.join(tmp, "kubeconfig"), token="bench-token")
        tdir, rendered = os.path.join(tmp, "templates"), os.path.join(tmp, "rendered")
        make_templates(tdir)
        subprocess.run([APPDEPLOY, "render", tdir, "-o", rendered, "--set", "bench"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([KUBECTL, "--kubeconfig", kc, "create", "namespace", "kubectl-ns"], check=True,
                       stdout=subprocess.DEVNULL)
        ours = [APPDEPLOY, "apply", tdir, "-n", "appdeploy-ns", "--kubeconfig", kc, "--set", "bench"]
        theirs = [KUBECTL, "--kubeconfig", kc, "apply", "--server-side", "-n", "kubectl-ns", "-f", rendered]
        warm_ours = {"APPDEPLOY_CACHE_DIR": os.path.join(tmp, "ours-cache")}
        warm_theirs = ["--cache-dir", os.path.join(tmp, "kubectl-cache")]

        def cold_ours(i):
            return {"APPDEPLOY_CACHE_DIR": os.path.join(tmp, "ours-cold-%d" % i)}
        res = {}
        res["appdeploy first"] = counted(fk, ours, warm_ours)
        res["kubectl first"] = counted(fk, theirs + warm_theirs)
        res["appdeploy re-apply cold"] = median_run(fk, ours, cold_ours)
        res["kubectl re-apply cold"] = median_kubectl(fk, theirs, tmp)
        res["appdeploy re-apply warm"] = median_run(fk, ours, lambda i: warm_ours)
        res["kubectl re-apply warm"] = median_run(fk, theirs + warm_theirs, lambda i: None)
        fk.stop()
        print("%d objects, fake API server over HTTPS serving %d extra API groups, median of %d re-applies"
              % (N, GROUPS, RUNS))
        print("(cold: an empty discovery cache; warm: the cache the previous run left)")
        print("%-26s %9s %9s %11s %10s %6s %6s" % ("", "wall s", "requests", "(discovery", "lists", "other)",
                                                 "RSS MiB"))
        for k, (t, rss, n, kinds) in res.items():
            print("%-26s %9.3f %9d %11d %10d %6d %6.1f" % (k, t, n, kinds["discovery"], kinds["list"], kinds["other"],
                                                          rss))
        for what in ("first", "re-apply cold", "re-apply warm"):
            a, b = res["appdeploy " + what], res["kubectl " + what]
            print("%-14s appdeploy is %5.1fx faster, %5.1fx fewer requests, %.1fx less memory"
                  % (what + ":", b[0] / a[0], b[2] / max(a[2], 1), b[1] / a[1]))
        w = res["appdeploy re-apply warm"]
        k = res["kubectl re-apply warm"]
        print("goal (#11): warm no-change re-apply <= 10 requests: %d (%s); >= 20x faster than kubectl "
              "--server-side: %.1fx (%s)" % (w[2], "met" if w[2] <= 10 else "NOT met", k[0] / w[0],
                                              "met" if k[0] / w[0] >= 20 else "NOT met"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def median_kubectl(fk, theirs, tmp):
    """kubectl with an empty cache directory on every run."""
    runs = [counted(fk, theirs + ["--cache-dir", os.path.join(tmp, "kubectl-cold-%d" % i)]) for i in range(RUNS)]
    mid = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    return (statistics.median(r[0] for r in runs), max(r[1] for r in runs), mid[2], mid[3])


if __name__ == "__main__":
    main()
