"""test_example.py — the worked example (examples/hello-deploy): render golden files with source mode on and off, the dev-only service, and template parity with Go's text/template."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APPDEPLOY, BUILD, require  # noqa: E402
from test_template import ORACLE_SRC, build_oracle  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "examples", "hello-deploy")
IMAGES = os.path.join(ROOT, "examples", "images.yaml")
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "example")
TEMPLATES = [os.path.join(DEPLOY, f) for f in ("hello.yaml", "redis.yaml")]

# name -> extra flags; every case renders with the example's image list
CASES = {
    "source": ["--source", "hello"],
    "image": [],
    "production": ["-v", "environment=production"],
    # synced source mode (#18): an emptyDir at /src that `appdeploy dev` fills, the token Secret mounted
    "synced": ["--source", "hello=sync"],
}


def appdeploy(*args):
    env = dict(os.environ, HOME="/nonexistent")
    env.pop("KUBECONFIG", None)
    return subprocess.run([APPDEPLOY, *args], capture_output=True, text=True, env=env, timeout=60)


class ExampleRender(unittest.TestCase):
    def render(self, *flags):
        p = appdeploy("render", DEPLOY, "--images", IMAGES, "-o", "-", *flags)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return p.stdout

    def test_golden(self):
        for name, flags in CASES.items():
            with self.subTest(name):
                out = self.render(*flags)
                path = os.path.join(GOLDEN, f"{name}.golden.yaml")
                if os.environ.get("REGEN"):
                    os.makedirs(GOLDEN, exist_ok=True)
                    with open(path, "w") as f:
                        f.write(out)
                with open(path) as f:
                    self.assertEqual(out, f.read())

    def test_switch(self):
        source, image = self.render("--source", "hello"), self.render()
        # source mode: the runner image, the mounted source and the cache volume, one replica
        self.assertIn("image: sourcemode/runner-go:latest", source)
        self.assertIn("mountPath: /src", source)
        self.assertIn("path: /home/dev/sourcemode/examples/hello", source)
        self.assertIn("mountPath: /cache", source)
        self.assertNotIn("registry.example.com/hello", source)
        # CI image: none of that
        self.assertIn("image: registry.example.com/hello:1.4.2", image)
        for absent in ("runner-go", "mountPath: /src", "/cache", "containerPort: 7070", "hostPath"):
            self.assertNotIn(absent, image)
        # both declare the container's source-mode support; the image-only service has no such annotations
        for out in (source, image):
            self.assertEqual(out.count("sourcemode.dev/runner: go"), 1)
            for a in ("sourcemode.dev/source-path: /src", "sourcemode.dev/import-path: example.com/hello",
                      "sourcemode.dev/container: hello"):
                self.assertIn(a, out)
        # off, later flags win, and other services' source mode change nothing here
        self.assertEqual(self.render("--source", "hello=off"), image)
        self.assertEqual(self.render("--source", "hello", "--source", "hello=off"), image)
        self.assertEqual(self.render("--source", "redis"), image)
        self.assertEqual(self.render("--source", "hello=yes"), source)
        # #18: hostpath is on; sync is the third mode; the last flag wins
        self.assertEqual(self.render("--source", "hello=hostpath"), source)
        self.assertEqual(self.render("--source", "hello=sync", "--source", "hello"), source)
        synced = self.render("--source", "hello=sync")
        self.assertIn("emptyDir: {}", synced)
        self.assertNotIn("hostPath:\n            path: /home/dev", synced)
        self.assertEqual(self.render("--source", "hello=sync", "--source", "hello=off"), image)

    def test_dev_only_service(self):
        self.assertIn("name: redis", self.render())
        prod = self.render("-v", "environment=production")
        self.assertNotIn("redis", prod)
        self.assertIn("replicas: 2", prod)

    def test_bad_source_flag(self):
        p = appdeploy("render", DEPLOY, "--images", IMAGES, "--source", "hello=maybe")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--source", p.stderr)
        self.assertIn("NAME=sync", p.stderr)
        p = appdeploy("render", DEPLOY, "--images", IMAGES, "--source", "=on")
        self.assertEqual(p.returncode, 2)
        p = appdeploy("render", DEPLOY, "--images", IMAGES, "--source", "=sync")
        self.assertEqual(p.returncode, 2)


class ExampleOracle(unittest.TestCase):
    """The example's templates executed by appdeploy and by Go's text/template on the same data: byte for byte."""

    def test_parity(self):
        require("go", "the oracle (Go's text/template) is built with golang-go")
        oracle = os.path.join(BUILD, "gotmpl")
        if not os.path.exists(oracle) or os.path.getmtime(oracle) < os.path.getmtime(ORACLE_SRC):
            build_oracle(oracle)
        tmp = tempfile.mkdtemp(prefix="example-oracle-")
        self.addCleanup(shutil.rmtree, tmp, True)
        dump = os.path.join(tmp, "dump.tmpl")
        with open(dump, "w") as f:
            f.write("{{ toJson . }}")
        for name, flags in CASES.items():
            with self.subTest(name):
                common = ["-f", os.path.join(DEPLOY, "variables.yaml"), "--images", IMAGES, *flags]
                data = appdeploy("template", dump, *common)
                self.assertEqual(data.returncode, 0, data.stderr)
                dot = json.loads(data.stdout)
                self.assertEqual(dot["Source"], {"hello": True} if name in ("source", "synced") else {})
                self.assertEqual(dot["SourceMode"], {"source": {"hello": "hostpath"}, "synced": {"hello": "sync"}}.get(name, {}))
                data_path = os.path.join(tmp, f"{name}.json")
                with open(data_path, "w") as f:
                    json.dump(dot, f)
                ours = appdeploy("template", *TEMPLATES, *common)
                self.assertEqual(ours.returncode, 0, ours.stderr)
                go = subprocess.run([oracle, "-root", "-data", data_path, *TEMPLATES], capture_output=True,
                                    text=True, timeout=60)
                self.assertEqual(go.returncode, 0, go.stderr)
                self.assertEqual(ours.stdout, go.stdout)


if __name__ == "__main__":
    unittest.main()
