#!/usr/bin/env python3
"""noskip.py — runs the integration tests (unittest discover, test_*.py) and fails the run when any test skipped for a reason outside the README's list of allowed skips.

    python3 tests/integration/noskip.py [-q]     (what `make test-integration` runs)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# README.md, Development: the only skips allowed, by the start of their reason.
ALLOWED = (
    "the image compiles its own reloader (no sanitizers)",  # test_images.py, in the sanitizer pass only
    "the image compiles its own appdeploy (no sanitizers)",  # test_agent_image.py, test_up_agent.py: sanitizer pass only
)


def main():
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    verbosity = 1 if "-q" in sys.argv[1:] else 2
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    bad = [(str(test), why) for test, why in result.skipped if not why.startswith(ALLOWED)]
    for test, why in bad:
        print(f"noskip: {test} skipped ({why}): only the README's skips are allowed; a missing tool must fail "
              "the test (harness.require), and scripts/deps.sh test must install it", file=sys.stderr)
    if bad:
        print(f"noskip: {len(bad)} skip(s) outside the README's list", file=sys.stderr)
    return 0 if result.wasSuccessful() and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
