#!/bin/sh
# apply.sh — appdeploy apply vs kubectl apply --server-side on the same 200 objects against the fake API server with 60 API groups: wall time and request counts (issues #5, #11).
set -eu
exec python3 "$(dirname "$0")/apply_bench.py"
