#!/bin/sh
# fuzz.sh — builds every fuzz/fuzz_*.c target with libFuzzer (clang) and runs each for FUZZ_SECONDS.
# Targets link the project's modules (all but the two main.c files) built with the same sanitizers.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Icommon -Ireloader -Iagent"
libs="$(pkg-config --cflags --libs yaml-0.1 libcurl jansson libmicrohttpd libxxhash) -lev -linotifytools -lpthread -lm"
sources="$(ls common/*.c reloader/*.c agent/*.c | grep -v '/main\.c$')"
[ -f build/gen/assets.c ] || make build/gen/assets.c >/dev/null
for target in fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	echo "== $name: building"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$target" $sources build/gen/assets.c $libs
	mkdir -p "$out/$name.corpus"
	echo "== $name: fuzzing for ${seconds}s"
	"$out/$name" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$out/$name.corpus" 2>&1 | tail -5
done
