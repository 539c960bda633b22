#!/bin/sh
# template.sh — template rendering throughput and peak memory: appdeploy vs Go text/template + sprig (same run).
set -eu
: "${BUILD:?set BUILD to the build directory (make bench does)}"
exec python3 "$(dirname "$0")/template_bench.py"
