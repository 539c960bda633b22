#!/bin/sh
# images.sh — builds the runner images (images/RUNNER.Dockerfile) and the agent image (images/appdeploy.Dockerfile) with podman, or docker when that is what there is.
#
# Usage: scripts/images.sh [RUNNER...]          (default: every images/*.Dockerfile)
#   ENGINE=podman|docker      the container engine (default: podman if installed, else docker)
#   BASE=IMAGE                base image for every runner built (--build-arg BASE=...)
#   BASE_go=IMAGE ...         base image for one runner (wins over BASE); unset: the Dockerfile's pinned tag
#   IMAGE_PREFIX=sourcemode/runner-   IMAGE_TAG=latest   name of the result: PREFIX RUNNER : TAG
#   AGENT_IMAGE=sourcemode/appdeploy  name of the agent image (not a runner): AGENT_IMAGE : TAG, also tagged
#                             AGENT_IMAGE : VERSION (common/version.h), the image `appdeploy up` names by default
#   BUILD_FLAGS="..."         extra flags for the engine's build (e.g. --pull=never)
#   CONTEXT=DIR               build context (default: the repository root, filtered by .dockerignore)
#   JOBS=N                    builds at a time (default 1). With N > 1 the first runner is built alone,
#                             filling the layer cache of the build stage every Dockerfile shares.
# A runner that fails does not stop the others; a summary ends the output, and the exit status is
# 1 when any failed. Without a registry: scripts/localbase.py TAG assembles a base from this
# machine's Debian packages; then BASE=TAG BUILD_FLAGS=--pull=never scripts/images.sh.
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
jobs=${JOBS:-1}

if [ $# -eq 0 ]; then
	for f in "$root"/images/*.Dockerfile; do set -- "$@" "$(basename "$f" .Dockerfile)"; done
fi
# podman writes OCI images by default, which drop HEALTHCHECK; the docker format keeps it.
format=""
[ "$engine" = podman ] && format="--format docker"
logs=$(mktemp -d "${TMPDIR:-/tmp}/sourcemode-images.XXXXXX")
trap 'rm -rf "$logs"' EXIT

# The base a runner builds on: BASE_<runner>, else BASE, else the Dockerfile's ARG BASE default.
base_of() {
	b=$(eval "echo \"\${BASE_$1:-\${BASE:-}}\"")
	[ -n "$b" ] || b=$(sed -n 's/^ARG BASE=//p' "$root/images/$1.Dockerfile" 2>/dev/null | head -n 1)
	echo "$b"
}

# The image's name (without the tag): runners under the prefix, the agent under its own name.
name_of() {
	if [ "$1" = appdeploy ]; then echo "${AGENT_IMAGE:-sourcemode/appdeploy}"; else echo "$prefix$1"; fi
}
version=$(sed -n 's/^#define APPDEPLOY_VERSION "\(.*\)"$/\1/p' "$root/common/version.h")

# build RUNNER: one image; output prefixed with the runner's name; outcome in $logs/RUNNER.rc
build() {
	runner=$1 file="$root/images/$1.Dockerfile"
	if [ ! -f "$file" ]; then
		echo "images: no $file" >&2
		echo 1 > "$logs/$runner.rc"
		return
	fi
	base=$(base_of "$runner") name=$(name_of "$runner")
	tags="-t $name:$tag"
	[ "$runner" = appdeploy ] && [ -n "$version" ] && [ "$version" != "$tag" ] && tags="$tags -t $name:$version"
	echo "== $name:$tag (base $base)"
	set +e
	# shellcheck disable=SC2086 # format, BUILD_FLAGS and tags are word lists
	{ "$engine" build $format ${BUILD_FLAGS:-} --build-arg "BASE=$base" -f "$file" $tags \
		"${CONTEXT:-$root}" 2>&1; echo $? > "$logs/$runner.rc"; } | tee "$logs/$runner.log" | sed -u "s/^/[$runner] /"
	set -e
}

first=1 running=0
for runner in "$@"; do
	if [ "$jobs" -le 1 ] || [ $first = 1 ]; then
		build "$runner"
		first=0
		continue
	fi
	build "$runner" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then wait; running=0; fi
done
wait

built="" failed="" nobase="" vars=""
for runner in "$@"; do
	if [ "$(cat "$logs/$runner.rc" 2>/dev/null || echo 1)" = 0 ]; then built="$built $runner"; continue; fi
	failed="$failed $runner"
	if [ -f "$root/images/$runner.Dockerfile" ] && ! "$engine" image inspect "$(base_of "$runner")" >/dev/null 2>&1; then
		nobase="$nobase $runner"
		vars="${vars}BASE_$runner=localhost/sourcemode-base "
	fi
done
if [ -n "$nobase" ]; then
	echo "images:$nobase: the base image is not on this machine and could not be pulled (no registry?)." >&2
	echo "images: build on a local base instead, assembled from this machine's Debian packages:" >&2
	echo "images:     scripts/localbase.py localhost/sourcemode-base" >&2
	echo "images:     ${vars}BUILD_FLAGS=--pull=never scripts/images.sh$nobase" >&2
fi
echo "images: built:${built:- none}; failed:${failed:- none}"
[ -z "$failed" ]
