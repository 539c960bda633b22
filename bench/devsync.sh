#!/bin/sh
# devsync.sh — synced source mode (#18), through the fake API server's pod proxy: initial sync of a 10,000-file
# tree, appdeploy dev vs `tar c | curl` of the same bytes through the same proxy (and vs that + writing the files,
# tar x); a one-line change -> new process answering, synced vs reloader watching the folder itself (save.sh's way).
set -eu
exec python3 "$(dirname "$0")/devsync_bench.py"
