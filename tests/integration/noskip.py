#!/usr/bin/env python3
"""noskip.py — runs the integration tests (test_*.py, or the modules named) a few modules at a time, each group in
its own process, and fails the run when a test failed or skipped for a reason outside the README's allowed skips.

    python3 tests/integration/noskip.py [-q] [-j N] [test_x ...]     (what `make test-integration` runs)

Most of these tests wait on processes, sockets and containers rather than compute, so N processes (default
$SOURCEMODE_TEST_JOBS or 3) finish well before one would. Each group's output is printed whole when it ends,
with its time. Modules that share a per-process cache (the agent image) run in one group.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# README.md, Development: the only skips allowed, by the start of their reason.
ALLOWED = (
    "the image compiles its own reloader (no sanitizers)",  # test_images.py, in the sanitizer pass only
    "the image compiles its own appdeploy (no sanitizers)",  # test_agent_image.py, test_up_agent.py: sanitizer pass only
)

# Modules run in one process, one after the other: the podman users (what agentpod.image() built once per
# process; and removing one's images and layers while another builds on the same cached layers fails its build).
TOGETHER = (("test_images", "test_agent_image", "test_up_agent"),)
# The longest groups start first, so that the last one to finish is not a long one started late.
LONG_FIRST = ("test_images", "test_agent_image", "test_dashboard", "test_devsync", "test_agent", "test_sync",
              "test_reloader", "test_helm_chart")


def run_group(modules, verbosity, result_path):
    """In the child: runs the modules' tests, writes {run, failures, errors, skipped} to result_path."""
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout).run(suite)
    with open(result_path, "w") as f:
        json.dump({"run": result.testsRun, "failures": [str(t) for t, _ in result.failures],
                   "errors": [str(t) for t, _ in result.errors],
                   "skipped": [(str(t), why) for t, why in result.skipped]}, f)
    return 0


def groups(names):
    """names grouped (TOGETHER), long ones first."""
    out, seen = [], set()
    for g in TOGETHER:
        present = [m for m in g if m in names]
        if present:
            out.append(present)
            seen.update(present)
    out += [[m] for m in names if m not in seen]
    rank = {m: i for i, m in enumerate(LONG_FIRST)}
    return sorted(out, key=lambda g: min(rank.get(m, len(rank)) for m in g))


def run_child(group, verbosity, tmp):
    """In the parent: one child process for the group; returns (group, seconds, output, result or None)."""
    tag = "+".join(group)
    result_path = os.path.join(tmp, tag + ".json")
    log_path = os.path.join(tmp, tag + ".log")
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        rc = subprocess.call([sys.executable, os.path.abspath(__file__), "--child", result_path, "-v", str(verbosity)]
                             + group, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - t0
    with open(log_path) as f:
        output = f.read()
    result = None
    if os.path.exists(result_path):
        with open(result_path) as f:
            result = json.load(f)
    elif rc == 0:
        rc = 1
    return group, seconds, output, result, rc


def main(argv):
    args = list(argv)
    if args[:1] == ["--child"]:
        result_path, verbosity = args[1], int(args[3])
        return run_group(args[4:], verbosity, result_path)
    verbosity = 2
    jobs = int(os.environ.get("SOURCEMODE_TEST_JOBS") or 3)
    names = []
    while args:
        a = args.pop(0)
        if a == "-q":
            verbosity = 1
        elif a == "-j":
            jobs = int(args.pop(0))
        else:
            names.append(a)
    if not names:
        names = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    t0 = time.monotonic()
    run = 0
    failed, bad = [], []
    with tempfile.TemporaryDirectory(prefix="noskip-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_child, g, verbosity, tmp) for g in groups(names)]
        for done in concurrent.futures.as_completed(futures):
            group, seconds, output, result, rc = done.result()
            # each group whole, as it ends
            print("== %s (%.0f s)" % (" ".join(group), seconds), flush=True)
            sys.stdout.write(output)
            if result is None:
                failed.append("%s: the test process exited %d without a result" % (" ".join(group), rc))
                continue
            run += result["run"]
            failed += result["failures"] + result["errors"]
            bad += [(t, why) for t, why in result["skipped"] if not why.startswith(ALLOWED)]
    for test, why in bad:
        print(f"noskip: {test} skipped ({why}): only the README's skips are allowed; a missing tool must fail "
              "the test (harness.require), and scripts/deps.sh test must install it", file=sys.stderr)
    for test in failed:
        print("noskip: failed: %s" % test, file=sys.stderr)
    print("noskip: %d tests in %.0f s, %d failed, %d skip(s) outside the README's list"
          % (run, time.monotonic() - t0, len(failed), len(bad)), file=sys.stderr)
    return 0 if not failed and not bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
