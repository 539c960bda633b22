#!/bin/sh
# demo.sh — runs the example service under reloader (the go runner + examples/hello/reloader.yaml) and says how to poke it.
set -eu
reloader=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/hello"
port=${DEMO_PORT:-7070}
cat <<MSG
== sourcemode demo: examples/hello (Go) under reloader
   edit examples/hello/main.go (the version string), then, in another terminal:
     curl -X POST 'localhost:$port/restart?wait=1'   # rebuild + restart, answers when ready
     curl localhost:8080/version                    # the service
     curl localhost:$port/status                     # state, build, timings (JSON: -H 'Accept: application/json')
     curl localhost:$port/logs                       # build + service output
   Ctrl-C stops it.
MSG
exec "$reloader" --runner go -c reloader.yaml --listen "127.0.0.1:$port" --cache-dir "${DEMO_CACHE:-${TMPDIR:-/tmp}/sourcemode-demo-cache}"
