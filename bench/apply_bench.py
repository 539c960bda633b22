"""apply_bench.py — first apply and no-change re-apply of 200 rendered objects: appdeploy vs `kubectl apply --server-side`.

Both talk to the same fake API server (tests/fakekube, HTTPS + bearer token) in the same run, each
into its own namespace, from the same rendered objects (`appdeploy render -o DIR` feeds kubectl).
Wall time is the median of RUNS re-applies; peak RSS comes from wait4(). Prints figures and ratios;
asserts nothing."""
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


def run(argv):
    """Returns (seconds, peak RSS in MiB) of one run; fails loudly on a non-zero exit."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def main():
    if not os.path.exists(APPDEPLOY):
        sys.exit("build appdeploy first (make)")
    if not KUBECTL:
        sys.exit("kubectl is not installed")
    tmp = tempfile.mkdtemp(prefix="apply-bench-")
    try:
        fk = fakekube.FakeKube(tokens={"bench-token": "admin"}, tls_dir=os.path.join(tmp, "tls"), rollout_delay=0)
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
        res = {}
        res["appdeploy first"] = run(ours)
        res["kubectl first"] = run(theirs)
        for name, argv in (("appdeploy re-apply", ours), ("kubectl re-apply", theirs)):
            runs = [run(argv) for _ in range(RUNS)]
            res[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        fk.stop()
        print("%d objects, fake API server over HTTPS, median of %d re-applies" % (N, RUNS))
        print("%-22s %10s %12s" % ("", "wall s", "peak RSS MiB"))
        for k, (t, rss) in res.items():
            print("%-22s %10.3f %12.1f" % (k, t, rss))
        for what in ("first", "re-apply"):
            a, b = res["appdeploy " + what], res["kubectl " + what]
            print("%-9s appdeploy is %.1fx faster, uses %.1fx less memory" % (what + ":", b[0] / a[0], b[1] / a[1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
