#!/bin/sh
# devsync.sh — synced source mode (#18), through the fake API server's pod proxy: initial sync of a 10,000-file
# tree, appdeploy dev vs `tar c | curl` of the same bytes through the same proxy (the goal's floor) and vs
# `tar c | curl | tar x` at the pod's end (kubectl cp's work); a one-line change -> new process answering,
# synced vs reloader watching the folder itself (save.sh's way).
set -eu
exec python3 "$(dirname "$0")/devsync_bench.py"
