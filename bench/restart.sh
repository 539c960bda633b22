#!/bin/sh
# restart.sh — reloader's restart latency against entr -r, its peak RSS and idle CPU (issue #2).
set -eu
exec python3 "$(dirname "$0")/restart_bench.py"
