#!/bin/sh
# save.sh — save -> new process accepting connections: reloader vs entr -r vs nodemon (issue #3),
# then a Go one-line change -> new version served beside a bare `go build` (issue #12).
set -eu
node_dir="$BUILD/bench-node"
if [ ! -x "$node_dir/node_modules/.bin/nodemon" ] && command -v npm >/dev/null; then
	mkdir -p "$node_dir"
	(cd "$node_dir" && npm install --no-audit --no-fund --silent nodemon@3 >/dev/null 2>&1) || true
fi
python3 "$(dirname "$0")/save_bench.py"
exec python3 "$(dirname "$0")/gosave_bench.py"
