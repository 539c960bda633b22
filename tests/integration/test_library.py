"""test_library.py — libappdeploy as its users get it: `make install PREFIX=tmp`, the examples and the API test built outside the tree with pkg-config, run against fakekube."""
import os
import shutil
import subprocess
import tempfile
import unittest

from kubeharness import APPDEPLOY, BUILD, HERE, KubeTest, TOKEN, certs_dir, fakekube
from harness import require

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SANITIZE = bool(os.environ.get("SOURCEMODE_SANITIZE"))
# the Makefile's SAN_FLAGS: an instrumented library needs an instrumented program
SAN_FLAGS = "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
EXAMPLE_SET = os.path.join(ROOT, "examples", "hello-deploy")
EXAMPLE_IMAGES = os.path.join(ROOT, "examples", "images.yaml")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


class LibraryTest(KubeTest):
    prefix = None

    @classmethod
    def setUpClass(cls):
        make = require("make", "the test installs the library with make install")
        cc = require("cc", "the examples are compiled as a user compiles them")
        pkgconfig = require("pkg-config", "the examples are compiled with pkg-config --cflags --libs appdeploy")
        cls.prefix = tempfile.mkdtemp(prefix="appdeploy-prefix-")
        argv = [make, "-C", ROOT, "install", "PREFIX=" + cls.prefix, "BUILD=" + os.path.abspath(BUILD)]
        if SANITIZE:
            argv += ["CFLAGS=" + SAN_FLAGS, "LDFLAGS=" + SAN_FLAGS, "RELOADER_STATIC="]
        p = run(argv)
        if p.returncode:
            raise AssertionError("make install failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])
        # outside the source tree: copies of the sources, the installed header and library only
        cls.work = tempfile.mkdtemp(prefix="appdeploy-user-")
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(cls.prefix, "lib", "pkgconfig"))
        flags = run([pkgconfig, "--cflags", "--libs", "appdeploy"], env=env)
        if flags.returncode:
            raise AssertionError("pkg-config does not find appdeploy: " + flags.stderr)
        cls.pkg_flags = flags.stdout.split()
        cls.bins = {}
        for name, src in (("render", "examples/library/render.c"), ("apply", "examples/library/apply.c"),
                          ("api_test", "tests/library/api_test.c")):
            copy = os.path.join(cls.work, os.path.basename(src))
            shutil.copy(os.path.join(ROOT, src), copy)
            out = os.path.join(cls.work, name)
            cflags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror"] + (SAN_FLAGS.split() if SANITIZE else [])
            p = run([cc] + cflags + [copy, "-o", out] + cls.pkg_flags + ["-lpthread"], cwd=cls.work, env=env)
            if p.returncode:
                raise AssertionError("compiling %s failed:\n%s" % (src, p.stderr))
            cls.bins[name] = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)
        shutil.rmtree(cls.work, ignore_errors=True)

    def user(self, name, *args, expect=0):
        """Runs one of the programs built against the installed library."""
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(self.prefix, "lib"),
                   APPDEPLOY_CACHE_DIR=os.path.join(self.tmp, "cache"))
        env.pop("KUBECONFIG", None)
        p = run([self.bins[name]] + list(args), env=env, cwd=self.tmp)
        if expect is not None and p.returncode != expect:
            self.fail("%s %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s" % (name, " ".join(args), p.returncode, expect,
                                                                            p.stdout, p.stderr))
        self.assertNotIn("Sanitizer", p.stderr)
        self.assertNotIn("runtime error:", p.stderr)
        self.assertNotIn(TOKEN, p.stdout + p.stderr)
        return p

    def test_installed_files(self):
        lib = os.path.join(self.prefix, "lib")
        for f in ("include/appdeploy.h", "lib/libappdeploy.a", "lib/libappdeploy.so.0.1.0", "lib/pkgconfig/appdeploy.pc",
                  "bin/appdeploy", "bin/reloader"):
            self.assertTrue(os.path.isfile(os.path.join(self.prefix, f)), f)
        self.assertEqual(os.readlink(os.path.join(lib, "libappdeploy.so.0")), "libappdeploy.so.0.1.0")
        self.assertEqual(os.readlink(os.path.join(lib, "libappdeploy.so")), "libappdeploy.so.0")
        readelf = require("readelf", "the soname is read from the installed library")
        dyn = run([readelf, "-d", os.path.join(lib, "libappdeploy.so.0.1.0")]).stdout
        self.assertIn("Library soname: [libappdeploy.so.0]", dyn)
        # only appdeploy.h's names are exported, from the shared and the static library alike
        nm = require("nm", "the exported symbols are listed")
        for argv in ([nm, "-D", "--defined-only", os.path.join(lib, "libappdeploy.so.0.1.0")],
                     [nm, "-g", "--defined-only", os.path.join(lib, "libappdeploy.a")]):
            names = [ln.split()[-1] for ln in run(argv).stdout.splitlines() if len(ln.split()) == 3]
            self.assertEqual(len(names), 26, names)
            self.assertEqual([n for n in names if not n.startswith("appdeploy_")], [])

    def test_render_example_matches_cli(self):
        cases = [
            (EXAMPLE_SET, ["--images", EXAMPLE_IMAGES]),
            (EXAMPLE_SET, ["--images", EXAMPLE_IMAGES, "--source", "hello"]),
            (EXAMPLE_SET, ["--images", EXAMPLE_IMAGES, "-v", "environment=development", "-n", "dev"]),
            (self.dir, []),
        ]
        for d, flags in cases:
            with self.subTest(dir=d, flags=flags):
                cli = self.appdeploy("render", d, "-o", "-", *flags)
                lib = self.user("render", d, *flags)
                self.assertTrue(cli.stdout.startswith("---\n# Source: "))
                self.assertEqual(lib.stdout, cli.stdout)
        # a failing render: the same message, exit 1 from both
        cli = self.appdeploy("render", EXAMPLE_SET, "-o", "-", expect=1)
        lib = self.user("render", EXAMPLE_SET, expect=1)
        self.assertTrue(cli.stderr.startswith("appdeploy: template: hello.yaml:"), cli.stderr)
        self.assertEqual(lib.stderr[len("render: "):], cli.stderr[len("appdeploy: "):])
        self.assertEqual(lib.stdout, "")

    def test_apply_example_matches_cli(self):
        lib = self.user("apply", self.dir, "--kubeconfig", self.kubeconfig, "-n", "demo")
        lines = lib.stdout.splitlines()
        self.assertIn("configmap/web-config created", lines)
        self.assertIn("deployment.apps/web created", lines)
        self.assertIn("namespace/demo created", lines)
        # the same apply by the CLI against a second, fresh API server prints the same lines
        fk2 = fakekube.FakeKube(tokens={TOKEN: "admin"}, tls_dir=certs_dir(), rollout_delay=self.rollout_delay)
        fk2.start()
        try:
            kc2 = fk2.kubeconfig(os.path.join(self.tmp, "kubeconfig2"), namespace="default", token=TOKEN)
            cli = self.appdeploy("apply", self.dir, "-n", "demo", "--kubeconfig", kc2)
            self.assertEqual(lib.stdout, cli.stdout)
        finally:
            fk2.stop()
        # what the library applied is the CLI's set: a CLI apply finds everything in place
        again = self.appdeploy("apply", self.dir, "-n", "demo")
        self.assertEqual(sorted(set(ln.split(" ", 1)[1] for ln in again.stdout.splitlines())), ["unchanged"],
                         again.stdout)
        # and the example's own second run says so too
        lib2 = self.user("apply", self.dir, "--kubeconfig", self.kubeconfig, "-n", "demo")
        self.assertEqual(lib2.stdout, again.stdout)
        # a failure: exit 1 and the CLI's message
        bad = self.user("apply", self.dir, "--kubeconfig", os.path.join(self.tmp, "missing"), expect=1)
        cli_bad = self.appdeploy("apply", self.dir, "--kubeconfig", os.path.join(self.tmp, "missing"), expect=1)
        self.assertEqual(bad.stderr[len("apply: "):], cli_bad.stderr[len("appdeploy apply: "):])

    def test_api(self):
        # api_test's cluster case applies into "api", where a source mode is saved (as the dashboard saves it)
        self.kubectl("create", "namespace", "api")
        self.kubectl("create", "configmap", "appdeploy-source-mode", "-n", "api", "--from-literal=web=true")
        scratch = os.path.join(self.tmp, "scratch")
        os.mkdir(scratch)
        p = self.user("api_test", scratch, self.kubeconfig)
        self.assertEqual(p.stdout, "api_test: all checks passed\n")
        got = self.kubectl("get", "configmap", "api-web", "-n", "api", "-o", "jsonpath={.data.mode} {.data.k}")
        self.assertEqual(got.stdout, "source x")


if __name__ == "__main__":
    unittest.main()
