#!/usr/bin/env bash
# Records what the real HAProxy 2.6 prints for `haproxy -c` on every config of the golden corpus.
#
# For each tests/data/{valid,warn,invalid}/*.cfg file and each tests/data/dirs/*/ directory, runs
#   haproxy -c -f <relative path>
# from tests/data (so file names in messages are relative and stable) and stores, under
# tests/data/haproxy-2.6/<group>/<name>.{stdout,stderr,rc}:
#   stdout verbatim, stderr with the process id in "(NNNN)" replaced by "(PID)", and the exit code.
# Usage: bash haproxy-cfg/tests/data/record.sh [path/to/haproxy]   (default: haproxy on PATH)
set -euo pipefail
cd "$(dirname "$0")"
HAPROXY="${1:-haproxy}"
command -v "$HAPROXY" >/dev/null || { echo "record: $HAPROXY not found" >&2; exit 1; }
out=haproxy-2.6
version="$("$HAPROXY" -v | sed -n 1p)"
record() { # <group> <name> <path>
    local dest="$out/$1/$2" rc=0
    mkdir -p "$out/$1"
    "$HAPROXY" -c -f "$3" >"$dest.stdout" 2>"$dest.stderr.raw" || rc=$?
    sed -E 's/^(\[[A-Z]+\] +)\([0-9]+\)/\1(PID)/' "$dest.stderr.raw" >"$dest.stderr"
    rm -f "$dest.stderr.raw"
    echo "$rc" >"$dest.rc"
}
rm -rf "$out"/{valid,warn,invalid,dirs}
for group in valid warn invalid; do
    for f in "$group"/*.cfg; do record "$group" "$(basename "$f" .cfg)" "$f"; done
done
for d in dirs/*/; do d="${d%/}"; record dirs "$(basename "$d")" "$d"; done
echo "$version" >"$out/VERSION"
echo "record: $(find "$out" -name '*.rc' | wc -l) outputs from: $version"
