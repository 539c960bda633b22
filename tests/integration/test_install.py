"""test_install.py — `make install PREFIX=DIR` after a plain build: the installed reloader finds its runner files under DIR (beside its own executable), not under the prefix compiled in."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, free_port, http, require, wait_until  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SERVICE = """package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, os.Getenv("INSTALLED_RUNNER"))
	})
	panic(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
}
"""


class InstallTest(unittest.TestCase):
    def test_installed_reloader_finds_its_runners(self):
        require("make", "the test runs `make install`")
        require("go", "the go runner builds the service with golang-go")
        tmp = tempfile.mkdtemp(prefix="sourcemode-install-")
        self.addCleanup(shutil.rmtree, tmp, True)
        prefix = os.path.join(tmp, "prefix")
        # the build in BUILD was made with the default PREFIX; install only copies it
        p = subprocess.run(["make", "-C", ROOT, "install", f"PREFIX={prefix}", f"BUILD={os.path.abspath(BUILD)}"],
                           capture_output=True, text=True, timeout=600, env=dict(os.environ, DESTDIR=""))
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
        reloader = os.path.join(prefix, "bin", "reloader")
        runner = os.path.join(prefix, "share", "sourcemode", "runners", "go.yaml")
        self.assertTrue(os.access(reloader, os.X_OK))
        self.assertTrue(os.path.isfile(runner))
        # mark the installed runner file, so the service proves which file reloader read
        with open(runner) as f:
            text = f.read()
        self.assertEqual(text.count("\nenv:\n"), 1)
        with open(runner, "w") as f:
            f.write(text.replace("\nenv:\n", f"\nenv:\n  INSTALLED_RUNNER: {prefix}\n"))

        src = os.path.join(tmp, "svc")
        os.makedirs(src)
        with open(os.path.join(src, "main.go"), "w") as f:
            f.write(SERVICE)
        svc, ctl = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELOADER_")}
        env.update(PORT=str(svc), GOPROXY="off", GOPATH=os.path.join(tmp, "gopath"),
                   RELOADER_CACHE_DIR=os.path.join(tmp, "cache"), HOME=tmp)
        log = open(os.path.join(tmp, "reloader.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen([reloader, "--listen", f"127.0.0.1:{ctl}", "--runner", "go"], cwd=src, env=env,
                                stdout=log, stderr=subprocess.STDOUT)

        def output():
            log.flush()
            with open(log.name) as f:
                return f.read()

        def stop():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        self.addCleanup(stop)

        def served():
            code, body = http(svc, "GET", "/", timeout=5)
            return body.strip() if code == 200 else None

        try:
            wait_until(lambda: proc.poll() is not None or served() == prefix, 180, "the installed go runner serving")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{output()[-3000:]}") from None
        self.assertIsNone(proc.poll(), output()[-3000:])
        self.assertEqual(served(), prefix)
        stop()
        self.assertIn(proc.returncode, (0, 143, -15), output()[-2000:])
        self.assertNotIn("ERROR: AddressSanitizer", output())
        self.assertNotIn("runtime error:", output())


if __name__ == "__main__":
    unittest.main()
