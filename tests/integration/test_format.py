"""test_format.py — `make format` on a clone of the committed tree: a clean tree stays byte for byte as it is;
an edited line is restyled to .clang-format and nothing else in the file moves."""
import os
import subprocess
import tempfile
import unittest

from harness import require

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    if p.returncode:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


class FormatTest(unittest.TestCase):
    def setUp(self):
        require("clang-format", "make format runs it")
        require("git-clang-format", "make format formats the changed lines through it")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.tree = os.path.join(self.tmp.name, "tree")
        # the committed state of this checkout (HEAD), without touching the checkout itself
        run(["git", "clone", "-q", "--shared", "--no-hardlinks", ROOT, self.tree], self.tmp.name)
        run(["git", "checkout", "-q", "--detach", run(["git", "rev-parse", "HEAD"], ROOT).strip()], self.tree)

    def test_clean_tree_unchanged(self):
        run(["make", "--no-print-directory", "format"], self.tree)
        p = subprocess.run(["git", "diff", "--exit-code", "--stat"], cwd=self.tree, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, f"make format changed a clean tree:\n{p.stdout}")
        self.assertEqual(run(["git", "status", "--porcelain"], self.tree), "")
        run(["make", "--no-print-directory", "format-check"], self.tree)

    def test_changed_line_only(self):
        path = os.path.join(self.tree, "common", "secret.c")
        with open(path) as f:
            before = f.read()
        with open(path, "a") as f:
            f.write("int  secret_probe( int a,int b ){return a+b;}\n")
        p = subprocess.run(["make", "--no-print-directory", "format-check"], cwd=self.tree, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("format-check: run make format", p.stdout)
        run(["make", "--no-print-directory", "format"], self.tree)
        with open(path) as f:
            after = f.read()
        self.assertEqual(after, before + "int secret_probe(int a, int b) { return a + b; }\n")
        run(["make", "--no-print-directory", "format-check"], self.tree)


if __name__ == "__main__":
    unittest.main()
