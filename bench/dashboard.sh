#!/bin/sh
# dashboard.sh — appdeploy serve with 100 Deployments: page load to first complete render in headless Chromium, and the agent's RSS while serving (issue #7).
set -eu
exec python3 "$(dirname "$0")/dashboard_bench.py"
