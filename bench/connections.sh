#!/bin/sh
# connections.sh — the control API under a flood of idle and slow-dribbling connections (issue #12):
# connections held, /healthz latency meanwhile, fds and RSS after; beside Python's http.server.
set -eu
exec python3 "$(dirname "$0")/connections_bench.py" "$@"
