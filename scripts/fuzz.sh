#!/bin/sh
# fuzz.sh — builds fuzz/fuzz_*.c targets with libFuzzer (clang) and runs each for FUZZ_SECONDS.
# Usage: scripts/fuzz.sh [TARGET...]   (default: every fuzz/fuzz_*.c, as `make fuzz-smoke` runs them)
# The common, agent (every layer folder) and reloader modules (not main.c, not *_test.c) are compiled
# once with the same sanitizers into one archive per folder; each target links what it uses from them. Seeds come from fuzz/corpus/TARGET/ (committed, read-only); what the
# fuzzer finds goes to build/fuzz/TARGET.corpus.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out/obj"
layers="template sprig chart kube deploy lib dashboard cli"
inc_agent="-Icommon $(for l in $layers; do printf -- '-Iagent/%s ' "$l"; done)"
# each folder's modules with the include paths the Makefile gives them (reloader/poll.h must not hide
# <poll.h> from agent/); the targets see every folder
incs="$inc_agent -Ireloader"
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -std=c11 -D_GNU_SOURCE"
cflags="$(pkg-config --cflags yaml-0.1 libcurl jansson libmicrohttpd libxxhash libpcre2-8 libcrypto zlib libxcrypt)"
libs="$(pkg-config --libs yaml-0.1 libcurl jansson libmicrohttpd libxxhash libpcre2-8 libcrypto zlib libxcrypt) -lev -lhttp_parser -lpthread -lm"
[ -f build/gen/assets.c ] || make build/gen/assets.c >/dev/null

if [ $# -eq 0 ]; then
	set -- $(for t in fuzz/fuzz_*.c; do basename "$t" .c; done)
fi

echo "== fuzz: compiling the modules"
archives=""
for dir in agent reloader common; do
	objs=""
	if [ "$dir" = agent ]; then
		srcs=$(for l in $layers; do ls agent/$l/*.c; done | grep -v -e '/main\.c$' -e '_test\.c$')
	else
		srcs=$(ls $dir/*.c | grep -v -e '/main\.c$' -e '_test\.c$')
	fi
	[ "$dir" = agent ] && srcs="$srcs build/gen/assets.c"
	for src in $srcs; do
		obj="$out/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
		# shellcheck disable=SC2086
		case $dir in agent) inc=$inc_agent ;; reloader) inc="-Icommon -Ireloader" ;; *) inc="-Icommon" ;; esac
		clang $flags $inc $cflags -c "$src" -o "$obj"
		objs="$objs $obj"
	done
	rm -f "$out/lib$dir.a"
	# shellcheck disable=SC2086
	ar rcs "$out/lib$dir.a" $objs
	archives="$archives $out/lib$dir.a"
done

for name in "$@"; do
	echo "== $name: building"
	# shellcheck disable=SC2086
	clang $flags $incs -fsanitize=fuzzer $cflags -o "$out/$name" "fuzz/$name.c" $archives $libs
	mkdir -p "$out/$name.corpus"
	seeds=""
	[ -d "fuzz/corpus/$name" ] && seeds="fuzz/corpus/$name"
	echo "== $name: fuzzing for ${seconds}s"
	# shellcheck disable=SC2086
	"$out/$name" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/$name-" \
		"$out/$name.corpus" $seeds \
		>"$out/$name.log" 2>&1 || { tail -60 "$out/$name.log"; echo "== $name: FAILED (log: $out/$name.log)"; exit 1; }
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/$name.log" || true
done
