#!/usr/bin/env bash
# Records what the real HAProxy 2.6 prints for `haproxy -c` on one small config per keyword form.
#
# Reads global.txt (global keywords, configuration.txt section 3) and proxy.txt (proxy keywords,
# the section 4.1 matrix) next to this script, writes one config per case and per section letter
# to tests/data/keywords/<letter>-<NNN>-<slug>.cfg (letter: g global, d named defaults,
# f frontend, l listen, b backend; NNN: the case's line number in its list), then runs
#   timeout 5 haproxy -c -f keywords/<name>.cfg
# from tests/data and stores, under tests/data/haproxy-2.6/keywords/<name>.{stdout,stderr,rc}:
#   stdout verbatim, stderr with the process id in "(NNNN)" replaced by "(PID)", and the exit code
#   (124 if the check did not end within 5 seconds).
# Usage: bash haproxy-cfg/tests/data/keywords/record.sh [path/to/haproxy]   (default: haproxy on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
HAPROXY="${1:-haproxy}"
command -v "$HAPROXY" >/dev/null || { echo "record: $HAPROXY not found" >&2; exit 1; }
out=haproxy-2.6/keywords
rm -f keywords/*.cfg
rm -rf "$out"
mkdir -p "$out"

lines() { # the ";;"-separated lines of $1, each indented by $2 (no globbing)
    local IFS=$'\n' l; set -f
    for l in $(printf '%s' "$1" | sed 's/;;/\n/g'); do printf '%s%s\n' "$2" "$l"; done
}
slug() { printf '%s' "$1" | sed 's/;;.*//' | tr -c 'A-Za-z0-9._\n-' '-' | cut -c1-40 | sed 's/-*$//'; }
defaults_block() {
    printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n'
}
config() { # <letter> <directive> <extra>
    case "$1" in
    g) printf 'global\n'; lines "$2" '    ' ;;
    d)
        printf 'defaults d\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n'
        lines "$2" '    '
        printf 'frontend f from d\n    bind 127.0.0.1:8001\n    default_backend bk\n'
        defaults_block
        printf 'backend bk\n    server s 127.0.0.1:8002\n'
        ;;
    f) defaults_block; printf 'frontend f\n    bind 127.0.0.1:8001\n'; lines "$2" '    ' ;;
    l) defaults_block; printf 'listen l\n    bind 127.0.0.1:8001\n    server s 127.0.0.1:8002\n'; lines "$2" '    ' ;;
    b)
        defaults_block
        printf 'frontend f\n    bind 127.0.0.1:8001\n    default_backend bk\n'
        printf 'backend bk\n    server s 127.0.0.1:8002\n'; lines "$2" '    '
        ;;
    esac
    [ -z "$3" ] || lines "$3" ''
}
record() { # <name>
    local dest="$out/$1" rc=0
    timeout 5 "$HAPROXY" -c -f "keywords/$1.cfg" >"$dest.stdout" 2>"$dest.stderr.raw" || rc=$?
    sed -E 's/^(\[[A-Z]+\] +)\([0-9]+\)/\1(PID)/' "$dest.stderr.raw" >"$dest.stderr"
    rm -f "$dest.stderr.raw"
    echo "$rc" >"$dest.rc"
}
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in '#'* | '') continue ;; esac
    name="$(printf 'g-%03d-%s' "$n" "$(slug "$line")")"
    config g "$line" '' >"keywords/$name.cfg"
    record "$name"
done <keywords/global.txt
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in '#'* | '') continue ;; esac
    IFS=$'\t' read -r letters directive extra <<<"$line"
    for letter in $(printf '%s' "$letters" | sed 's/./& /g'); do
        name="$(printf '%s-%03d-%s' "$letter" "$n" "$(slug "$directive")")"
        config "$letter" "$directive" "${extra:-}" >"keywords/$name.cfg"
        record "$name"
    done
done <keywords/proxy.txt
"$HAPROXY" -v | sed -n 1p >"$out/VERSION"
echo "record: $(find "$out" -name '*.rc' | wc -l) outputs from: $(cat "$out/VERSION")"
