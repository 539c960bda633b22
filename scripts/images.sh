#!/bin/sh
# images.sh — builds the runner images (images/RUNNER.Dockerfile) with podman, or docker when that is what there is.
#
# Usage: scripts/images.sh [RUNNER...]          (default: every images/*.Dockerfile)
#   ENGINE=podman|docker      the container engine (default: podman if installed, else docker)
#   BASE=IMAGE                base image for every runner built (--build-arg BASE=...)
#   BASE_go=IMAGE ...         base image for one runner (wins over BASE); unset: the Dockerfile's pinned tag
#   IMAGE_PREFIX=sourcemode/runner-   IMAGE_TAG=latest   name of the result: PREFIX RUNNER : TAG
#   BUILD_FLAGS="..."         extra flags for the engine's build (e.g. --pull=never)
#   CONTEXT=DIR               build context (default: the repository root, filtered by .dockerignore)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
engine=${ENGINE:-}
if [ -z "$engine" ]; then
	if command -v podman >/dev/null; then engine=podman
	elif command -v docker >/dev/null; then engine=docker
	else echo "images: neither podman nor docker is installed (scripts/deps.sh test installs podman)" >&2; exit 1
	fi
fi
prefix=${IMAGE_PREFIX:-sourcemode/runner-}
tag=${IMAGE_TAG:-latest}

if [ $# -eq 0 ]; then
	for f in "$root"/images/*.Dockerfile; do set -- "$@" "$(basename "$f" .Dockerfile)"; done
fi
# podman writes OCI images by default, which drop HEALTHCHECK; the docker format keeps it.
format=""
[ "$engine" = podman ] && format="--format docker"

for runner in "$@"; do
	file="$root/images/$runner.Dockerfile"
	[ -f "$file" ] || { echo "images: no $file" >&2; exit 1; }
	base=$(eval "echo \"\${BASE_$runner:-\${BASE:-}}\"")
	set --
	[ -n "$base" ] && set -- --build-arg "BASE=$base"
	echo "== $prefix$runner:$tag (${base:-the Dockerfile's pinned base})"
	# shellcheck disable=SC2086 # format and BUILD_FLAGS are word lists
	"$engine" build $format ${BUILD_FLAGS:-} "$@" -f "$file" -t "$prefix$runner:$tag" "${CONTEXT:-$root}"
done
