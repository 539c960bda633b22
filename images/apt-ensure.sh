#!/bin/sh
# apt-ensure.sh — used by the runner images' Dockerfiles: installs the Debian packages given that are not installed yet.
# The official language images lack reloader's libraries; a base that already has them needs no network.
set -eu
missing=""
for pkg in "$@"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "apt-ensure: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $missing
rm -rf /var/lib/apt/lists/*
