#!/bin/sh
# devsync.sh — synced source mode (#18): initial sync of a 10,000-file tree and a one-line change through
# the fake API server's pod proxy, appdeploy dev vs `tar c | curl` of the same bytes through the same proxy.
set -eu
exec python3 "$(dirname "$0")/devsync_bench.py"
