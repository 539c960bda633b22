"""test_editors.py — real editors' and tools' write patterns against a real service under reloader: restart
counts and the served version, exactly (vim, emacs, sed -i, JetBrains safe write, touch, git checkout/stash)."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import http, wait_until  # noqa: E402
from watchsvc import Service, write  # noqa: E402


def need(tool):
    if not shutil.which(tool):
        raise AssertionError(f"{tool} is not installed (scripts/deps.sh test installs it)")


def vim(path, *commands, cwd=None):
    """The real vim, no user config, Ex mode: swap file, backups and the write pattern of its settings."""
    need("vim")
    # backupskip's default skips /tmp/*, where the tests' trees live
    cmd = ["vim", "-u", "NONE", "-i", "NONE", "-N", "-X", "-es", "-c", "set backupskip="]
    for c in commands:
        cmd += ["-c", c]
    subprocess.run(cmd + [path], cwd=cwd, check=True, timeout=30, stdin=subprocess.DEVNULL)


def git(cwd, *args):
    need("git")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=cwd)
    subprocess.run(["git", *args], cwd=cwd, check=True, timeout=60, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class EditorTest(unittest.TestCase):
    def assert_quiet_result(self, s, restarts, body, builds=None):
        s.settle()
        self.assertEqual(s.restarts(), restarts, s.r.output()[-3000:])
        served = wait_until(s.served, what="the service answering")
        self.assertEqual(served[0], body)
        if builds is not None:
            self.assertEqual(s.builds(), builds)

    # -- finding 4: no content change, no restart ---------------------------------------------------
    def test_touch_restarts_nothing(self):
        s = Service(self)
        subprocess.run(["touch", s.path("main.c")], check=True)
        s.wait_ignored(1)
        self.assert_quiet_result(s, 0, "v1\n", builds=1)
        self.assertIn("written, but the watched files hold what the service was built from", s.r.output())

    def test_sed_i_with_and_without_a_match(self):
        s = Service(self)
        subprocess.run(["sed", "-i", "s/nomatch/x/", s.path("main.c")], check=True)
        s.wait_ignored(1)
        self.assert_quiet_result(s, 0, "v1\n", builds=1)
        subprocess.run(["sed", "-i", "s/v1/v2/", s.path("main.c")], check=True)
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        self.assertIn("cycle 2: file change: src/main.c\n", s.r.output())
        # 30 more sed -i saves (each a temp file renamed into place): the file count stays
        files = s.status()["watch"]["files"]
        for i in range(30):
            subprocess.run(["sed", "-i", f"s/v{i + 2}/v{i + 3}/", s.path("main.c")], check=True)
        s.wait_served("v32\n")
        s.settle()
        self.assertEqual(s.status()["watch"]["files"], files)
        self.assertEqual(files, 1)

    # -- vim: backupcopy yes / no / auto, swap files, :w on an unchanged buffer -----------------------
    def vim_case(self, backupcopy):
        s = Service(self)
        out = s.r.output
        vim(s.path("main.c"), f"set backupcopy={backupcopy}", "set backup", "%s/v1/v2/", "wq")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        # the backup it left (main.c~) and its swap file changed nothing
        self.assertTrue(os.path.exists(s.path("main.c~")))
        self.assertNotIn("src/.main.c.swp changed", out())
        self.assertNotIn("src/main.c~ changed", out())
        # :w of an unchanged buffer writes the same bytes again
        vim(s.path("main.c"), f"set backupcopy={backupcopy}", "w", "q")
        s.wait_ignored(1)
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        # typing without saving: vim writes only its swap file (:preserve forces that write)
        vim(s.path("main.c"), "normal! ov3", "preserve", "q!")
        write(s.path("sentinel.c"), "s\n")
        wait_until(lambda: s.restarts() == 2, what="the sentinel's restart")
        self.assert_quiet_result(s, 2, "v2\n", builds=3)
        self.assertNotIn("src/.main.c.swp", out().split("cycle 3")[1].split("\n")[0])

    def test_vim_backupcopy_yes(self):
        self.vim_case("yes")

    def test_vim_backupcopy_no(self):
        self.vim_case("no")

    def test_vim_backupcopy_auto(self):
        self.vim_case("auto")

    # -- emacs: lock symlink, auto-save file, backup by rename, then the new file -----------------------
    def test_emacs_save_sequence(self):
        s = Service(self)
        src = s.path("main.c")
        lock, autosave, backup = s.path(".#main.c"), s.path("#main.c#"), s.path("main.c~")
        os.symlink("user@host.1234:1700000000", lock)       # first modification: the lock link
        write(autosave, "v2-in-progress\n")                  # auto-save after some typing
        os.rename(src, backup)                               # first save: the original becomes the backup
        write(src, "v2\n")
        os.unlink(autosave)
        os.unlink(lock)
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        out = s.r.output()
        for p in (".#main.c", "#main.c#", "main.c~"):
            self.assertNotIn(f"src/{p} changed", out)

    # -- JetBrains safe write ---------------------------------------------------------------------
    def test_jetbrains_safe_write(self):
        s = Service(self)
        src = s.path("main.c")
        write(src + "___jb_tmp___", "v2\n")
        os.rename(src, src + "___jb_old___")
        os.rename(src + "___jb_tmp___", src)
        os.unlink(src + "___jb_old___")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        # the same dance with the same contents
        write(src + "___jb_tmp___", "v2\n")
        os.rename(src, src + "___jb_old___")
        os.rename(src + "___jb_tmp___", src)
        os.unlink(src + "___jb_old___")
        s.wait_ignored(1)
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        self.assertEqual(s.status()["watch"]["files"], 1)

    # -- default ignore set, and overriding it -----------------------------------------------------
    def test_default_ignores_and_override(self):
        s = Service(self, extra='  exclude: ["!4913"]\n')
        for name in (".DS_Store", "x~", "#x#", ".x.swp", "._x", "Thumbs.db"):
            write(s.path(name))
        os.symlink("u@h.1:2", s.path(".#x"))
        write(s.path(".hg", "store"))
        write(s.path("__pycache__", "m.pyc"))
        write(s.path("4913"), "")  # re-included by the config's "!4913"
        wait_until(lambda: s.restarts() == 1, what="the re-included 4913's restart")
        self.assert_quiet_result(s, 1, "v1\n", builds=2)
        out = s.r.output()
        for p in (".DS_Store", "x~", "#x#", ".x.swp", "._x", "Thumbs.db", ".#x", ".hg/store", "__pycache__/m.pyc"):
            self.assertNotIn(f"src/{p} changed", out)
        self.assertIn("src/4913 changed", out)

    def test_default_excludes_off(self):
        s = Service(self, extra="  default_excludes: false\n")
        write(s.path(".DS_Store"))
        wait_until(lambda: s.restarts() == 1, what="a restart for .DS_Store")
        self.assert_quiet_result(s, 1, "v1\n", builds=2)

    def test_hidden_files_do_not_match_source_globs(self):
        # finding 3: under a runner's `**/*.go`, emacs' .#main.go and a hidden .x.go are not sources
        s = Service(self, extra='  include: ["**/*.go"]\n', build_src="src/main.go", files={"src/main.go": "v1\n"})
        os.symlink("u@h.1:2", s.path(".#main.go"))
        write(s.path(".x.go"), "package main\n")
        write(s.path("README.md"), "not a source\n")
        write(s.path("main.go"), "v2\n")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        out = s.r.output()
        self.assertNotIn("src/.x.go changed", out)
        self.assertNotIn("src/.#main.go changed", out)

    # -- git's own ignore files --------------------------------------------------------------------
    def test_git_info_exclude_and_global_excludes(self):
        def setup(d):
            git(d, "init", "-q")  # the service's directory is the repository
            write(os.path.join(d, ".git", "info", "exclude"), "/src/scratch/\n*.tmp\n")
            write(os.path.join(d, "xdg", "git", "ignore"), "*.generated\n")
        s = Service(self, setup=setup, env={"XDG_CONFIG_HOME": "{dir}/xdg"})
        write(s.path("scratch", "notes.c"))
        write(s.path("a.tmp"))
        write(s.path("deep", "x.generated"))
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        out = s.r.output()
        for p in ("scratch/notes.c", "a.tmp", "deep/x.generated"):
            self.assertNotIn(f"src/{p} changed", out)
        self.assertIn("src/main.c changed", out)

    def test_global_excludes_file_from_core_excludesfile(self):
        def setup(d):
            write(os.path.join(d, "home", ".gitconfig"), "[user]\n\tname = t\n[core]\n\texcludesFile = ~/my-ignore\n")
            write(os.path.join(d, "home", "my-ignore"), "*.bak\n")
        s = Service(self, setup=setup, env={"HOME": "{dir}/home", "XDG_CONFIG_HOME": "{dir}/nowhere"})
        write(s.path("old.bak"))
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        self.assertNotIn("src/old.bak changed", s.r.output())

    # -- git checkout of 200 files, git stash ---------------------------------------------------------
    def git_service(self, n=200):
        def setup(d):
            src = os.path.join(d, "src")
            for i in range(n):
                write(os.path.join(src, "pkg", f"f{i:03d}.c"), f"int f{i}(void) {{ return {i}; }}\n")
            git(src, "init", "-q", "-b", "main")
            git(src, "add", "-A")
            git(src, "commit", "-q", "-m", "one")
            git(src, "checkout", "-q", "-b", "two")
            for i in range(n):
                write(os.path.join(src, "pkg", f"f{i:03d}.c"), f"int f{i}(void) {{ return {i + 1000}; }}\n")
            write(os.path.join(src, "main.c"), "v2\n")
            git(src, "commit", "-q", "-a", "-m", "two")
            git(src, "checkout", "-q", "main")
        # a 1 s quiet period: a checkout on a loaded machine is one burst
        return Service(self, setup=setup, debounce="1s")

    def test_git_checkout_200_files(self):
        s = self.git_service()
        src = s.path()
        self.assertEqual(s.status()["watch"]["files"], 201)
        git(src, "checkout", "-q", "two")
        s.wait_served("v2\n")
        self.assert_quiet_result(s, 1, "v2\n", builds=2)
        git(src, "checkout", "-q", "main")
        s.wait_served("v1\n")
        self.assert_quiet_result(s, 2, "v1\n", builds=3)
        self.assertEqual(s.status()["watch"]["files"], 201)
        # checking out what is there already writes nothing that matters
        git(src, "checkout", "-q", "main")
        write(s.path("zz.c"), "sentinel\n")
        wait_until(lambda: s.restarts() == 3, what="the sentinel's restart")
        self.assert_quiet_result(s, 3, "v1\n", builds=4)

    def test_git_stash(self):
        s = self.git_service(n=20)
        src = s.path()
        write(s.path("main.c"), "v9\n")
        write(s.path("pkg", "f001.c"), "changed\n")
        s.wait_served("v9\n")
        self.assert_quiet_result(s, 1, "v9\n", builds=2)
        git(src, "stash", "-q")
        s.wait_served("v1\n")
        self.assert_quiet_result(s, 2, "v1\n", builds=3)
        git(src, "stash", "pop", "-q")
        s.wait_served("v9\n")
        self.assert_quiet_result(s, 3, "v9\n", builds=4)


class PokeTest(unittest.TestCase):
    # -- finding 5: save + poke is one cycle; a poke with nothing changed restarts once -----------
    def test_save_then_poke_is_one_restart(self):
        # a 2 s quiet period: the poke always comes first (however loaded the machine), and the
        # quiet period that ends later finds nothing new
        s = Service(self, debounce="2s")
        for i in range(2, 7):
            write(s.path("main.c"), f"v{i}\n")
            code, body = http(s.port, "POST", "/restart?wait=1")
            self.assertEqual(code, 200, body)
            s.wait_served(f"v{i}\n")
            s.settle(quiet_ms=2500)
            self.assertEqual(s.restarts(), i - 1, s.r.output()[-3000:])
            self.assertEqual(s.builds(), i)
        # nothing changed: the poke restarts once, without building
        code, body = http(s.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        s.settle()
        self.assertEqual(s.restarts(), 6)
        self.assertEqual(s.builds(), 6)
        self.assertTrue(s.status()["build"]["cached"])
        self.assertIn("cycle 7: poke", s.r.output())
        s.settle(quiet_ms=2500)  # past the quiet period: nothing followed
        self.assertEqual(s.restarts(), 6)

    def test_poke_during_a_file_triggered_cycle_joins_it(self):
        s = Service(self, build_extra=" && sleep 1")
        write(s.path("main.c"), "v2\n")
        wait_until(lambda: s.status()["state"] == "building", what="the file-triggered build")
        code, body = http(s.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        s.wait_served("v2\n")
        s.settle()
        self.assertEqual(s.restarts(), 1, s.r.output()[-3000:])
        self.assertEqual(s.builds(), 2)
        out = s.r.output()
        self.assertIn("cycle 2: file change: src/main.c\n", out)
        self.assertNotIn("cycle 3", out)

    def test_every_cycle_says_why(self):
        import signal
        s = Service(self)
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        s.settle()
        os.kill(s.r.proc.pid, signal.SIGHUP)
        wait_until(lambda: s.restarts() == 2, what="the SIGHUP restart")
        s.settle()
        pid = wait_until(s.served, what="the service")[1]
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: s.restarts() == 3, what="the crash restart")
        out = s.r.output()
        self.assertIn("cycle 1: start\n", out)
        self.assertIn("cycle 2: file change: src/main.c\n", out)
        self.assertIn("cycle 3: signal\n", out)
        self.assertIn("cycle 4: crash (restart without build)\n", out)

    def test_build_writing_a_watched_input(self):
        # the build rewrites src/gen.lock (as cargo does Cargo.lock): one cycle per save, not two
        s = Service(self, extra='  build_writes: ["src/gen.lock"]\n',
                    build_extra=" && date +%s%N > src/gen.lock")
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        s.settle()
        self.assertEqual(s.restarts(), 1, s.r.output()[-3000:])
        self.assertEqual(s.builds(), 2)
        self.assertIn("src/gen.lock written by the build", s.r.output())
        # a poke right after: nothing changed, the build's own write included
        code, body = http(s.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        s.settle()
        self.assertEqual(s.restarts(), 2)
        self.assertEqual(s.builds(), 2)
        self.assertTrue(s.status()["build"]["cached"])


class PendingPathTest(unittest.TestCase):
    # -- finding 10: a watch path that does not exist yet ---------------------------------------
    def test_missing_watch_path_is_picked_up(self):
        s = Service(self, paths="[src, later/deep/er]")
        self.assertIn("later/deep/er does not exist yet; watching for it to appear", s.r.output())
        self.assertEqual(s.status()["watch"]["pending_paths"], 1)
        # files beside it are not watched; mkdir -p and a file inside are
        write(os.path.join(s.dir, "later", "other.c"))
        write(os.path.join(s.dir, "later", "deep", "er", "x.c"), "new\n")
        wait_until(lambda: s.restarts() == 1, what="a restart for the new directory's file")
        s.settle()
        self.assertEqual(s.restarts(), 1, s.r.output()[-3000:])
        self.assertEqual(s.status()["watch"]["pending_paths"], 0)
        self.assertIn("watch: later/deep/er appeared: watching it", s.r.output())
        # and it is watched like any other path from now on
        write(os.path.join(s.dir, "later", "deep", "er", "x.c"), "newer\n")
        wait_until(lambda: s.restarts() == 2, what="a restart for an edit in the picked-up path")
        s.settle()
        self.assertEqual(s.restarts(), 2)
        self.assertNotIn("later/other.c changed", s.r.output())


if __name__ == "__main__":
    unittest.main()
