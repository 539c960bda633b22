"""helmoracle.py — runs the real helm (3.17.2, obtained by scripts/get-helm.sh) and `appdeploy template --chart`
side by side on the same chart and flags, for the differential tests. A missing helm fails the test, naming it."""
import concurrent.futures
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SOURCEMODE_BUILD", os.path.join(ROOT, "build"))
APPDEPLOY = os.path.join(BUILD, "appdeploy")
HELM = os.environ.get("SOURCEMODE_HELM", os.path.join(ROOT, "build", "tools", "helm"))
CHARTS = os.path.join(ROOT, "tests", "template", "charts")
SANITIZE = os.environ.get("SOURCEMODE_SANITIZE") == "1"


def require_helm(test):
    """Fails (never skips) when the oracle is missing."""
    if not os.access(HELM, os.X_OK):
        test.fail(f"the real helm is missing at {HELM}: run scripts/get-helm.sh (scripts/deps.sh test does)")


class Oracle:
    """A private HOME/KUBECONFIG for helm, so the machine's settings cannot change what it prints."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="helmoracle-")
        self.env = dict(os.environ)
        for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            self.env[var] = os.path.join(self.tmp, var.lower())
        self.env["HOME"] = self.tmp
        self.env["KUBECONFIG"] = os.path.join(self.tmp, "no-kubeconfig")
        self.env.pop("HELM_NAMESPACE", None)

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def helm(self, chart, args=(), release="release-name"):
        p = subprocess.run([HELM, "template", release, chart, *args], capture_output=True, env=self.env, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def ours(self, chart, args=(), release="release-name"):
        cmd = [APPDEPLOY, "template", "--chart", chart, *args]
        if release != "release-name":
            cmd += ["--name", release]
        p = subprocess.run(cmd, capture_output=True, env=self.env, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def both(self, chart, args=(), release="release-name"):
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            h = ex.submit(self.helm, chart, args, release)
            o = ex.submit(self.ours, chart, args, release)
            return h.result(), o.result()

    def one_template_chart(self, text, values="", files=None, name="t"):
        """A throwaway chart `name` whose templates/t.yaml is text (plus files {relpath: text})."""
        d = tempfile.mkdtemp(prefix="chart-", dir=self.tmp)
        chart = os.path.join(d, name)
        os.makedirs(os.path.join(chart, "templates"))
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            f.write(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n")
        with open(os.path.join(chart, "values.yaml"), "w") as f:
            f.write(values)
        with open(os.path.join(chart, "templates", "t.yaml"), "w") as f:
            f.write(text)
        for rel, body in (files or {}).items():
            p = os.path.join(chart, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(body)
        return chart


def normalise_ours_stderr(err):
    """Sanitizer builds may print nothing else; the text compared is the whole stderr."""
    return err
