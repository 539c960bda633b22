#!/bin/sh
# dashboard.sh — appdeploy serve with 100 and 500 Deployments in headless Chromium: page weight, first complete render, a snapshot applied, idle CPU and RSS with a page open, answers under an idle-connection flood (issues #7, #15).
set -eu
exec python3 "$(dirname "$0")/dashboard_bench.py"
