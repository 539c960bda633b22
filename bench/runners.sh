#!/bin/sh
# runners.sh — the go runner (warm cache) vs a gorerun-style restart (kill the process group, `go run` again), locally and in the go image (issue #6).
set -eu
exec python3 "$(dirname "$0")/runners_bench.py" "$@"
