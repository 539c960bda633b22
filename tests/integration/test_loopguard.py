"""test_loopguard.py — a service that writes its own watched file: the loop guard stops the restart loop, says which file, lets go on a poke or after quiet; watch.data prevents it."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import http, wait_until  # noqa: E402
from watchsvc import Service, write  # noqa: E402

STATE = "env:\n  STATE_FILE: src/state.txt\n"


class LoopGuardTest(unittest.TestCase):
    def guard(self, s):
        return s.status()["watch"]["loop_guard"]

    def test_loop_stops_names_the_file_and_resumes_on_poke(self):
        s = Service(self, extra="  loop_limit: 5\n  loop_window: 120s\n" + STATE)
        wait_until(lambda: self.guard(s)["tripped"], timeout=60, what="the loop guard")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 5, s.r.output()[-3000:])
        g = self.guard(s)
        self.assertEqual((g["tripped"], g["trips"], g["limit"]), (True, 1, 5))
        self.assertIn("src/state.txt", g["paths"])
        out = s.r.output()
        self.assertIn("loop guard: 5 restarts from file changes within 120 s and no poke", out)
        self.assertIn("Files that kept changing: src/state.txt (", out)
        self.assertEqual(out.count("file change: src/state.txt"), 5)
        code, body = http(s.port, "GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn("reloader_watch_loop_guard_tripped 1\n", body)
        self.assertIn("reloader_watch_loop_guard_trips_total 1\n", body)
        # a poke releases it: that restart writes the file again, and the loop is caught again
        code, body = http(s.port, "POST", "/restart?wait=1")
        self.assertEqual(code, 200, body)
        self.assertIn("loop guard released by a poke", s.r.output())
        wait_until(lambda: self.guard(s)["trips"] == 2, timeout=60, what="the second trip")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 11, s.r.output()[-3000:])
        self.assertTrue(self.guard(s)["tripped"])

    def test_released_after_a_quiet_window(self):
        s = Service(self, extra="  loop_limit: 3\n  loop_window: 5s\n" + STATE)
        wait_until(lambda: self.guard(s)["tripped"], timeout=60, what="the loop guard")
        self.assertEqual(s.restarts(), 3)
        wait_until(lambda: not self.guard(s)["tripped"], timeout=30, what="the guard letting go")
        self.assertIn("loop guard released after 5 s without file changes", s.r.output())
        self.assertEqual(s.restarts(), 3)
        # an edit restarts again; the service's own writes after it loop until the guard trips again
        write(s.path("main.c"), "v2\n")
        wait_until(lambda: self.guard(s)["trips"] == 2, timeout=60, what="the second trip")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 6, s.r.output()[-3000:])
        s.wait_served("v2\n")

    def test_watch_data_files_never_restart(self):
        s = Service(self, extra='  data: ["src/state.txt"]\n' + STATE)
        s.settle(quiet_ms=600)
        self.assertTrue(os.path.exists(s.path("state.txt")))
        self.assertEqual(s.restarts(), 0, s.r.output()[-3000:])
        self.assertEqual(s.status()["watch"]["changes"], 0)
        # the service's file is not a source either when its content changes by hand
        write(s.path("state.txt"), "by hand\n")
        write(s.path("main.c"), "v2\n")
        s.wait_served("v2\n")
        s.settle(quiet_ms=600)
        self.assertEqual(s.restarts(), 1)


if __name__ == "__main__":
    unittest.main()
