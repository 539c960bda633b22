#!/bin/sh
# deps.sh — installs the Debian packages sourcemode needs when any is missing.
# Usage: scripts/deps.sh build|test   (test implies build)
set -eu
build="gcc make pkg-config libev-dev libinotifytools0-dev libyaml-dev libcurl4-openssl-dev
libjansson-dev libmicrohttpd-dev libxxhash-dev libhttp-parser-dev"
test="libcmocka-dev python3 clang libclang-rt-14-dev util-linux procps curl entr inotify-tools
golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev golang-gopkg-yaml.v3-dev
valgrind nodejs npm cargo podman runc vim git"
want=$build
[ "${1:-build}" = test ] && want="$build $test"

missing=""
for pkg in $want; do
	# The runner tests need these tools, not these packages: another install (rustup, NodeSource) counts.
	case $pkg in cargo | nodejs | npm) command -v "${pkg%js}" >/dev/null && continue ;; esac
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
	echo "deps: cannot install (need root and apt-get); run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
	{ apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing; }
