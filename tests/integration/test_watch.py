"""test_watch.py — reloader's file watching against real inotify: new dirs, ignores, editor saves, bursts, overflow, limits, polling."""
import os
import shutil
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reloader, http, require_that, status, wait_until  # noqa: E402

CONFIG = """\
build: "echo b >> count"
run: "exec sleep 1000"
watch:
  paths: [src]
  debounce: 50ms
{extra}"""


def builds(r):
    try:
        with open(os.path.join(r.dir, "count")) as f:
            return len(f.read().splitlines())
    except FileNotFoundError:
        return 0


def write(path, text="x\n"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def settled(r, quiet_ms=300):
    """True once nothing is in flight: no cycle running and no change in the last quiet_ms."""
    s = status(r.port)
    ev = s["watch"].get("last_event")
    return s["state"] == "running" and not s["busy"] and (ev is None or ev["age_ms"] > quiet_ms)


class WatchTest(unittest.TestCase):
    def start(self, extra="", setup=None, env=None):
        import tempfile
        d = tempfile.mkdtemp(prefix="reloader-watch-")
        os.makedirs(os.path.join(d, "src"))
        write(os.path.join(d, "src", "main.c"), "int main(void) { return 0; }\n")
        if setup:
            setup(d)
        r = Reloader([], cwd=d, config=CONFIG.format(extra=extra), env=dict({"RELOADER_DEBUG": "1"}, **(env or {})))
        self.addCleanup(shutil.rmtree, d, True)
        self.addCleanup(self.stop_clean, r)
        r.wait_state("running")
        wait_until(lambda: builds(r) == 1, what="first build")
        return r

    def stop_clean(self, r):
        code = r.stop()
        out = r.output()
        for bad in ("Sanitizer", "runtime error:", "Failed to remove watch"):
            self.assertNotIn(bad, out)
        self.assertIn(code, (0, 143, -15), out[-2000:])

    def src(self, r, *parts):
        return os.path.join(r.dir, "src", *parts)

    def test_new_nested_directory(self):
        r = self.start()
        write(self.src(r, "a", "b", "c", "new.c"))
        wait_until(lambda: builds(r) == 2, what="rebuild after a file in a new nested dir")
        self.assertEqual(status(r.port)["last_restart"]["trigger"], "watch")

    def test_directory_created_with_files_inside(self):
        r = self.start()
        # built elsewhere, then moved in whole: the watcher must look inside
        tmp = os.path.join(r.dir, "staging")
        write(os.path.join(tmp, "deep", "er", "f.c"))
        os.rename(tmp, self.src(r, "moved"))
        wait_until(lambda: builds(r) == 2, what="rebuild after a moved-in tree")
        write(self.src(r, "moved", "deep", "er", "g.c"))
        wait_until(lambda: builds(r) == 3, what="the moved-in tree is watched")

    def test_excluded_and_gitignored_paths(self):
        def setup(d):
            write(os.path.join(d, "src", ".gitignore"), "*.log\nbuild/\n!keep.log\n")
            write(os.path.join(d, "src", "sub", ".gitignore"), "local.txt\n")
        r = self.start('  exclude: ["**/tmp", "**/*.swp", "src/gen/"]\n', setup)
        write(self.src(r, "tmp", "a.c"))
        write(self.src(r, "gen", "g.c"))
        write(self.src(r, "x.swp"))
        write(self.src(r, "trace.log"))
        write(self.src(r, "build", "out.o"))
        write(self.src(r, "sub", "local.txt"))
        write(self.src(r, ".git", "index"))
        # inotify events arrive in order: once the sentinel is seen, the others were judged
        write(self.src(r, "keep.log"))
        wait_until(lambda: builds(r) == 2, what="rebuild for the re-included keep.log")
        wait_until(lambda: settled(r), what="quiet")
        self.assertEqual(builds(r), 2)
        out = r.output()
        for p in ["tmp/a.c", "gen/g.c", "x.swp", "trace.log", "build/out.o", "sub/local.txt", ".git/index"]:
            self.assertNotIn(f"watch: src/{p} changed", out)
        self.assertIn("watch: src/keep.log changed", out)
        # ignored trees got no watches: only src and src/sub
        self.assertEqual(status(r.port)["watch"]["dirs"], 2)

    def test_rename_into_place_saves(self):
        r = self.start()
        target = self.src(r, "main.c")
        n = 1
        # vim: write a new file, rename over the target
        write(self.src(r, "4913"), "")
        os.unlink(self.src(r, "4913"))
        write(target + "~tmp", "int main(void) { return 1; }\n")
        os.rename(target + "~tmp", target)
        n += 1
        wait_until(lambda: builds(r) == n, what="rebuild after a vim-style save")
        wait_until(lambda: settled(r), what="quiet")
        self.assertEqual(builds(r), n)
        # JetBrains: write a temp file, delete the original, rename the temp into place
        write(target + "___jb_tmp___", "int main(void) { return 2; }\n")
        os.unlink(target)
        os.rename(target + "___jb_tmp___", target)
        n += 1
        wait_until(lambda: builds(r) == n, what="rebuild after a JetBrains-style save")
        wait_until(lambda: settled(r), what="quiet")
        self.assertEqual(builds(r), n)
        # VS Code style: write in place (truncate + write)
        write(target, "int main(void) { return 3; }\n")
        n += 1
        wait_until(lambda: builds(r) == n, what="rebuild after an in-place save")
        wait_until(lambda: settled(r), what="quiet")
        self.assertEqual(builds(r), n)

    def test_burst_of_10000_files(self):
        def setup(d):
            for i in range(100):
                for j in range(100):
                    write(os.path.join(d, "src", "many", f"d{i}", f"f{j}.c"), "a\n")
        r = self.start(setup=setup)
        self.assertEqual(status(r.port)["watch"]["dirs"], 102)
        for i in range(100):
            for j in range(100):
                write(self.src(r, "many", f"d{i}", f"f{j}.c"), "b\n")
        wait_until(lambda: builds(r) >= 2, what="a rebuild after the burst")
        wait_until(lambda: settled(r), what="quiet", timeout=60)
        self.assertIn(builds(r) - 1, (1, 2))

    def test_queue_overflow_rescans_and_rebuilds(self):
        knob = "/proc/sys/fs/inotify/max_queued_events"
        try:
            with open(knob) as f:
                old = f.read().strip()
            with open(knob, "w") as f:
                f.write("64\n")
        except OSError as e:
            require_that(False, f"cannot lower {knob} ({e})", "the overflow test needs a 64-event inotify queue",
                         "run the tests as root, as make test does on CI")
        try:
            # the queue size is fixed when reloader's inotify instance is created
            r = self.start()
        finally:
            with open(knob, "w") as f:
                f.write(old + "\n")
        # freeze reloader so the burst piles up in its 64-event queue
        os.kill(r.proc.pid, signal.SIGSTOP)
        try:
            for i in range(400):
                write(self.src(r, f"burst{i}.c"))
        finally:
            os.kill(r.proc.pid, signal.SIGCONT)
        wait_until(lambda: "event queue overflowed" in r.output(), what="the overflow message")
        wait_until(lambda: builds(r) >= 2, what="a rebuild after the overflow")
        wait_until(lambda: settled(r), what="quiet")
        # still watching afterwards, including directories made during the storm
        before = builds(r)
        write(self.src(r, "burst", "later", "x.c"))
        wait_until(lambda: builds(r) == before + 1, what="a change after the overflow")

    def test_watch_limit_falls_back_to_polling(self):
        def setup(d):
            for i in range(6):
                write(os.path.join(d, "src", f"d{i}", "inner", "f.c"))
        r = self.start("  max_watches: 3\n  poll: 100ms\n".replace("  poll: 100ms\n", ""), setup)
        out = r.output()
        self.assertIn("watch limit reached", out)
        self.assertIn("sysctl fs.inotify.max_user_watches=", out)
        self.assertIn("max_watches=3", out)
        w = status(r.port)["watch"]
        self.assertEqual(w["mode"], "mixed")
        self.assertEqual(w["dirs"], 13)
        self.assertGreater(w["polled_dirs"], 0)
        # a change deep in a polled directory, and one in a new directory there
        for i in range(6):
            write(self.src(r, f"d{i}", "inner", "f.c"), "changed\n")
        wait_until(lambda: builds(r) >= 2, what="a rebuild from a polled directory")
        wait_until(lambda: settled(r, 800), what="quiet")
        before = builds(r)
        write(self.src(r, "d5", "inner", "new", "g.c"))
        wait_until(lambda: builds(r) == before + 1, what="a new file below a polled directory")

    def test_poll_always(self):
        r = self.start("  poll: 100ms\n")
        self.assertEqual(status(r.port)["watch"]["mode"], "poll")
        write(self.src(r, "main.c"), "int main(void) { return 7; }\n")
        wait_until(lambda: builds(r) == 2, what="polling sees an edit")
        wait_until(lambda: settled(r), what="quiet")
        write(self.src(r, "x", "y", "z.c"))
        wait_until(lambda: builds(r) == 3, what="polling sees a new nested directory")
        wait_until(lambda: settled(r), what="quiet")
        os.unlink(self.src(r, "x", "y", "z.c"))
        wait_until(lambda: builds(r) == 4, what="polling sees a delete (log: %s)" % r.output()[-1500:])

    def test_status_and_change_during_build(self):
        r = self.start()
        w = status(r.port)["watch"]
        self.assertEqual(w["mode"], "inotify")
        self.assertIn("files", w)
        # a slow build: a change while it runs gives exactly one follow-up build
        write(os.path.join(r.dir, "slow"), "")
        http(r.port, "POST", "/rebuild")
        wait_until(lambda: status(r.port)["state"] == "building" or builds(r) >= 2, what="a build")
        write(self.src(r, "during.c"))
        wait_until(lambda: builds(r) >= 3, what="the follow-up build")
        wait_until(lambda: settled(r), what="quiet")
        self.assertEqual(builds(r), 3)
        self.assertEqual(status(r.port)["watch"]["last_event"]["path"], "src/during.c")


if __name__ == "__main__":
    unittest.main()
