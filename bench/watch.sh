#!/bin/sh
# watch.sh — benchmarks reloader's watcher and build cache against inotifywait -r and chokidar:
# set-up time on 100,000 files, peak RSS, idle CPU, and the no-change fingerprint check.
set -eu
: "${BUILD:?set BUILD to the build directory (make bench does)}"
here=$(dirname "$0")
if [ ! -d "$BUILD/bench-node/node_modules/chokidar" ] && command -v npm >/dev/null; then
	mkdir -p "$BUILD/bench-node"
	(cd "$BUILD/bench-node" && timeout 120 npm install --no-audit --no-fund chokidar-cli >/dev/null 2>&1) ||
		echo "chokidar-cli could not be installed; its column is skipped"
fi
exec python3 "$here/watch_helper.py"
