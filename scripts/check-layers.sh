#!/bin/sh
# check-layers.sh — fails when a file includes a header of a layer above its own (or climbs folders).
# Usage: scripts/check-layers.sh DIR:INCLUDE_FLAGS...   e.g. "agent/kube:-Icommon -Iagent/kube"
# The Makefile passes each folder's include path (INC_*), so the rule lives in one place. A local
# include ("x.h") must name a bare file found in the folder's own include path; <x.h> (system and
# library headers) are not ours. Also checks that no two sources share a base name (they would
# replace each other in the static archives).
set -eu
cd "$(dirname "$0")/.."
bad=0
for spec in "$@"; do
	dir=${spec%%:*}
	dirs=$(printf '%s\n' "${spec#*:}" | tr ' ' '\n' | sed -n 's/^-I//p')
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
			case $inc in
			*/*)
				echo "$f: #include \"$inc\": name the header alone; the folder's include path decides what it may see"
				bad=1
				continue
				;;
			esac
			found=
			for d in $dirs; do
				[ -e "$d/$inc" ] && found=$d && break
			done
			if [ -z "$found" ]; then
				where=$(find agent common reloader -name "$inc" 2>/dev/null | head -1)
				echo "$f: #include \"$inc\" (${where:-not found}): not in $dir's layer or below (allowed: $(echo $dirs))"
				bad=1
			fi
		done
	done
done
dups=$(find agent common -name '*.c' ! -name '*_test.c' | sed 's|.*/||' | sort | uniq -d)
if [ -n "$dups" ]; then
	echo "sources sharing a base name (one would replace the other in libagent.a/libcommon.a): $dups"
	bad=1
fi
[ $bad -eq 0 ] && echo "check-layers: every include points down"
exit $bad
