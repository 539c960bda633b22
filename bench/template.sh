#!/bin/sh
# template.sh — template rendering throughput and peak memory: appdeploy vs Go text/template + sprig, and
# appdeploy template --chart vs the real helm template (same run).
set -eu
: "${BUILD:?set BUILD to the build directory (make bench does)}"
python3 "$(dirname "$0")/template_bench.py"
exec python3 "$(dirname "$0")/template_chart_bench.py"  # chart mode vs the real helm
