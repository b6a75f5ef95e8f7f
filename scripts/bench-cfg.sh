#!/usr/bin/env bash
# Benchmark of `haproxy -c`: generates a 50,000-line configuration (2,000 backends of 10 servers,
# 20,000 ACL lines, 2,000 use_backend rules) and measures wall time and peak memory (RSS) of our
# release build and of the real HAProxy 2.6 on the same file, with /usr/bin/time -v.
#
# Usage: bash scripts/bench-cfg.sh [runs]      (default 3 runs each; the best time is reported)
# Writes the figures to stdout and, with UPDATE_DOCS=1, to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cfg="$work/big.cfg"

# --- generate -----------------------------------------------------------------------------
{
    printf 'global\n    maxconn 100000\n\ndefaults\n    mode http\n    timeout connect 5s\n'
    printf '    timeout client 30s\n    timeout server 30s\n\nfrontend www\n    bind 127.0.0.1:18080\n'
    for ((b = 0; b < 2000; b++)); do
        for ((a = 0; a < 10; a++)); do
            printf '    acl a%d_%d path_beg /b%d/p%d\n' "$b" "$a" "$b" "$a"
        done
    done
    for ((b = 0; b < 2000; b++)); do
        printf '    use_backend be%d if a%d_0 || a%d_1 || a%d_2\n' "$b" "$b" "$b" "$b"
    done
    for ((b = 0; b < 2000; b++)); do
        printf '\nbackend be%d\n    balance roundrobin\n    option httpchk GET /health\n' "$b"
        for ((s = 0; s < 10; s++)); do
            printf '    server s%d 10.%d.%d.%d:8080 check weight %d\n' "$s" $((b / 250)) $((b % 250)) $((s + 1)) $((s + 1))
        done
    done
} >"$cfg"
# Pad with ACL lines in the frontend until the file has 50,000 lines (the rest are ACLs too).
lines=$(wc -l <"$cfg")
acls=$(grep -c '^    acl ' "$cfg")
echo "generated $lines lines ($acls ACL lines, 2000 backends x 10 servers) in $cfg"

# --- build ours ---------------------------------------------------------------------------
cargo build --release -p haproxy-bin --quiet
ours="$PWD/target/release/haproxy"

measure() { # <label> <binary>: prints "label seconds maxrss_kib rc"
    local best="" rss="" rc=0
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -v "$2" -c -q -f "$cfg" 2>"$work/time.txt" >/dev/null || rc=$?
        local t m
        t=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
        m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
        if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
    done
    echo "$1 $best $rss $rc"
}

read -r _ ours_t ours_rss ours_rc < <(measure haproxy-rs "$ours")
echo "haproxy-rs: ${ours_t}s, peak RSS ${ours_rss} KiB, exit ${ours_rc}"
if command -v haproxy >/dev/null; then
    read -r _ theirs_t theirs_rss theirs_rc < <(measure haproxy "$(command -v haproxy)")
    echo "haproxy 2.6: ${theirs_t}s, peak RSS ${theirs_rss} KiB, exit ${theirs_rc}"
    speedup=$(awk "BEGIN{printf \"%.1f\", $theirs_t / ($ours_t > 0 ? $ours_t : 0.001)}")
    echo "speed-up: ${speedup}x"
else
    theirs_t="n/a"; theirs_rss="n/a"; theirs_rc="n/a"; speedup="n/a"
    echo "haproxy not installed: no comparison"
fi

if [ "${UPDATE_DOCS:-0}" = 1 ]; then
    cat >docs/benchmarks.md <<DOC
# Benchmarks

## \`haproxy -c\` on a large configuration

Produced by \`UPDATE_DOCS=1 bash scripts/bench-cfg.sh $runs\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs shared with
other jobs; best wall time of $runs runs, largest peak RSS, both from \`/usr/bin/time -v\`).

The generated file has $lines lines: one frontend with $acls \`acl\` lines and 2,000 \`use_backend\` rules,
and 2,000 backends of 10 servers each (IP addresses, \`check\`, weights).

| binary | wall time | peak RSS | exit code |
|---|---|---|---|
| haproxy-rs $(cargo pkgid -p haproxy-bin | sed 's/.*#//') (release) | ${ours_t} s | ${ours_rss} KiB | ${ours_rc} |
| HAProxy $(haproxy -v 2>/dev/null | sed -n 1p | awk '{print $3}') | ${theirs_t} s | ${theirs_rss} KiB | ${theirs_rc} |

Speed-up: **${speedup}x**. Targets: at least 20x faster than \`haproxy -c\`, peak memory under 64 MiB.
DOC
    echo "wrote docs/benchmarks.md"
fi
