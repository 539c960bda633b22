"""test_cache.py — reloader's build cache: unchanged inputs start no build process, across restarts too."""
import glob
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reloader, http, status, wait_until  # noqa: E402

# The build counts itself and writes the output the cache requires.
CONFIG = """\
build: "echo b >> count && mkdir -p out && cat src/*.c > out/app{slow}"
run: "exec sleep 1000"
cache:
  outputs: [out/app]
watch:
  paths: [src]
"""


def builds(d):
    try:
        with open(os.path.join(d, "count")) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="reloader-cache-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.makedirs(os.path.join(self.dir, "src"))
        for name in ("a.c", "b.c"):
            with open(os.path.join(self.dir, "src", name), "w") as f:
                f.write(f"/* {name} */\n")
        self.cache = os.path.join(self.dir, ".cache")

    def start(self, slow=""):
        r = Reloader([], cwd=self.dir, config=CONFIG.format(slow=slow),
                     env={"RELOADER_CACHE_DIR": self.cache, "RELOADER_DEBUG": "1"})
        self.addCleanup(self.stop_clean, r)
        r.wait_state("running")
        return r

    def stop_clean(self, r):
        code = r.stop()
        out = r.output()
        for bad in ("Sanitizer", "runtime error:"):
            self.assertNotIn(bad, out)
        self.assertIn(code, (0, 143, -15), out[-2000:])

    def poke(self, r):
        code, body = http(r.port, "POST", "/restart?wait=1")
        self.assertLess(code, 300, body)
        return status(r.port)

    def test_edit_then_immediate_poke_always_builds_the_edit(self):
        # The quiet-watcher shortcut must never skip an edit the watcher has not counted yet.
        r = self.start()
        a = os.path.join(self.dir, "src", "a.c")
        for i in range(30):
            self.poke(r)  # nothing changed: the shortcut is armed
            with open(a, "w") as f:
                f.write(f"/* edit {i} */\n")
            self.poke(r)
            with open(os.path.join(self.dir, "out", "app")) as f:
                self.assertIn(f"/* edit {i} */", f.read())
        self.assertIn("watcher saw no change", r.output())

    def test_poke_touch_change_restart_and_deleted_output(self):
        r = self.start()
        self.assertEqual(builds(self.dir), 1)
        # a poke with nothing changed: restart without a build process
        st = self.poke(r)
        self.assertEqual(builds(self.dir), 1)
        self.assertTrue(st["build"]["cached"])
        # touch without a content change
        a = os.path.join(self.dir, "src", "a.c")
        os.utime(a, (1, 1))
        os.utime(a, None)
        st = self.poke(r)
        self.assertEqual(builds(self.dir), 1)
        self.assertTrue(st["build"]["cached"])
        # a content change of the same size
        with open(a, "w") as f:
            f.write("/* A.c */\n")
        st = self.poke(r)
        self.assertEqual(builds(self.dir), 2)
        # The watcher may have built it first (the poke then finds it cached): either way it is built.
        with open(os.path.join(self.dir, "out", "app")) as f:
            self.assertIn("/* A.c */", f.read())
        # reloader restarted with the same cache dir, sources unchanged: no build at all
        r.stop()
        r2 = self.start()
        self.assertEqual(builds(self.dir), 2)
        self.assertTrue(status(r2.port)["build"]["cached"])
        # a deleted output forces a build
        os.unlink(os.path.join(self.dir, "out", "app"))
        self.poke(r2)
        self.assertEqual(builds(self.dir), 3)
        self.poke(r2)
        self.assertEqual(builds(self.dir), 3)
        # a new input file, and a removed one
        with open(os.path.join(self.dir, "src", "c.c"), "w") as f:
            f.write("/* c */\n")
        self.poke(r2)
        self.assertEqual(builds(self.dir), 4)
        os.unlink(os.path.join(self.dir, "src", "c.c"))
        self.poke(r2)
        self.assertEqual(builds(self.dir), 5)

    def test_damaged_cache_file_means_rebuild(self):
        r = self.start()
        r.stop()
        files = glob.glob(os.path.join(self.cache, "*", "fingerprint"))
        self.assertEqual(len(files), 1)
        for damage in (lambda b: b[:-3] + b"xyz", lambda b: b[:10], lambda b: b""):
            with open(files[0], "rb") as f:
                data = f.read()
            with open(files[0], "wb") as f:
                f.write(damage(data))
            before = builds(self.dir)
            r = self.start()
            self.assertEqual(builds(self.dir), before + 1)
            r.stop()
        # and the rebuilt entry is good again
        r = self.start()
        self.assertTrue(status(r.port)["build"]["cached"])

    def test_edit_during_build_is_not_lost(self):
        # builds block while a "hold" file exists, until "go" appears
        r = self.start(slow=" && { [ ! -e hold ] || { while [ ! -e go ]; do sleep 0.01; done; rm -f go hold; }; }")
        open(os.path.join(self.dir, "hold"), "w").close()
        http(r.port, "POST", "/rebuild")
        wait_until(lambda: builds(self.dir) == 2, what="the held build")
        with open(os.path.join(self.dir, "src", "b.c"), "w") as f:
            f.write("/* edited while building */\n")
        wait_until(lambda: "watch: src/b.c changed" in r.output(), what="the watcher saw the edit")
        open(os.path.join(self.dir, "go"), "w").close()
        # the watcher's request during the build becomes one follow-up that really builds
        wait_until(lambda: builds(self.dir) == 3, what="the follow-up build")
        wait_until(lambda: (lambda s: s["state"] == "running" and not s["busy"])(status(r.port)), what="idle")
        self.assertEqual(builds(self.dir), 3)
        with open(os.path.join(self.dir, "out", "app")) as f:
            self.assertIn("edited while building", f.read())


if __name__ == "__main__":
    unittest.main()
