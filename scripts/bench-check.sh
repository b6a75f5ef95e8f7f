#!/usr/bin/env bash
# Health-check load: N servers (default 2000) with `check inter <ms>` (default 100) on loopback,
# checked by haproxy-check (the `load` example) and by real HAProxy 2.6, against the same
# listeners (one per server, in a separate `load peers` process). Prints, for each checker, the
# CPU it used over the window (user and sys from /proc/<pid>/stat) and the check-interval jitter:
# ours from the scheduler's reports, and for both from the listeners (time between two accepts on
# the same listener) when they see the checks (see `proxy` below).
#
# Connect-only checks close before the handshake's last ACK (HAProxy's delayed ACK), so the
# listeners never accept them; with `proxy` as 5th argument every check sends a PROXY v1 line
# first (`send-proxy` on HAProxy's server lines) and the listeners see, and time, each check.
#
# Interval jitter for both checkers, connect checks included, comes from the kernel: with `perf`
# available, a second window of `jitter_s` seconds (after the CPU window, so its cost is not in
# the CPU figure) records the `sock:inet_sock_set_state` tracepoint of the checker process, and the
# time between two SYN_SENT transitions towards the same port is one check interval.
#
# Usage: bash scripts/bench-check.sh [servers] [inter_ms] [seconds] [haproxy nbthread] [proxy]
set -euo pipefail
cd "$(dirname "$0")/.."

servers=${1:-2000}
inter=${2:-100}
seconds=${3:-10}
nbthread=${4:-1}
proxy=${5:-}
srvopt=""
[ "$proxy" = proxy ] && srvopt=" send-proxy"
warmup=2
jitter_s=5
tick=$(getconf CLK_TCK)

cargo build --quiet --release -p haproxy-check --example load
load=target/release/examples/load
work=$(mktemp -d)
peers_pid=""
hap_pid=""
check_pid=""
cleanup() {
    [ -n "$hap_pid" ] && kill "$hap_pid" 2>/dev/null || true
    [ -n "$check_pid" ] && kill "$check_pid" 2>/dev/null || true
    [ -n "$peers_pid" ] && kill "$peers_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the listeners; their first output line is `ports: a,b,...`.
start_peers() {
    mkfifo "$work/in"
    "$load" peers "$servers" "$inter" "$warmup" "$seconds" <"$work/in" >"$work/peers.out" &
    peers_pid=$!
    exec 3>"$work/in"
    for _ in $(seq 100); do
        grep -q '^ports: ' "$work/peers.out" 2>/dev/null && break
        sleep 0.1
    done
    ports=$(sed -n 's/^ports: //p' "$work/peers.out")
}

# Waits for the peers' interval line (unless told `quiet`), then ends them (closing their stdin).
stop_peers() {
    if [ "${1:-}" != quiet ]; then
        for _ in $(seq $((10 * (seconds + warmup + 10)))); do
            grep -q '^peer-side' "$work/peers.out" && break
            sleep 0.1
        done
        grep '^peer-side' "$work/peers.out" || echo "peer-side: no figures"
    fi
    exec 3>&-
    wait "$peers_pid" || true
    peers_pid=""
    rm -f "$work/in" "$work/peers.out"
}

# Check intervals of process $1 over $jitter_s seconds, from the kernel's TCP state tracepoint.
connect_jitter() {
    if ! command -v perf >/dev/null; then
        echo "connect intervals: perf not available, skipped"
        return
    fi
    perf record -q -e sock:inet_sock_set_state -p "$1" -o "$work/ss.data" -- sleep "$jitter_s" \
        >/dev/null 2>&1 || { echo "connect intervals: perf record failed, skipped"; return; }
    perf script -i "$work/ss.data" 2>/dev/null | python3 -c '
import re, sys
inter = float(sys.argv[1])
last, iv = {}, []
for line in sys.stdin:
    if "newstate=TCP_SYN_SENT" not in line:
        continue
    m = re.search(r" ([0-9]+\.[0-9]+): .*dport=([0-9]+)", line)
    if not m:
        continue
    t, port = float(m.group(1)) * 1000.0, m.group(2)
    if port in last:
        iv.append(t - last[port])
    last[port] = t
if not iv:
    print("connect intervals: none seen")
    sys.exit()
iv.sort()
dev = sorted(abs(i - inter) for i in iv)
pick = lambda a, p: a[round((len(a) - 1) * p)]
print("connect intervals (kernel tracepoint, %ss): n=%d mean=%.2f p50=%.2f ms; |interval - inter| p50=%.2f p99=%.2f max=%.2f ms"
      % (sys.argv[2], len(iv), sum(iv) / len(iv), pick(iv, 0.5), pick(dev, 0.5), pick(dev, 0.99), dev[-1]))
' "$inter" "$jitter_s"
    rm -f "$work/ss.data"
}

cpu_ticks() { # utime stime of a pid
    awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat"
}

echo "== haproxy-check: $servers servers, inter ${inter}ms, ${seconds}s window (load avg: $(cut -d' ' -f1-3 /proc/loadavg))"
start_peers
"$load" check "$inter" "$warmup" "$seconds" "$ports" $proxy
stop_peers
# Jitter pass: the same checker again, traced after its warm-up (its own figures are not kept).
start_peers
"$load" check "$inter" 1 $((jitter_s + 2)) "$ports" $proxy >/dev/null &
check_pid=$!
sleep 1.5
connect_jitter "$check_pid"
wait "$check_pid" || true
check_pid=""
stop_peers quiet

if ! command -v haproxy >/dev/null; then
    echo "== HAProxy: not on PATH, reference run skipped"
    exit 0
fi
echo "== HAProxy $(haproxy -v | head -1 | awk '{print $3}'), nbthread $nbthread: same set-up (load avg: $(cut -d' ' -f1-3 /proc/loadavg))"
start_peers
{
    printf 'global\n    nbthread %s\n    maxconn 4000\n' "$nbthread"
    printf 'defaults\n    mode tcp\n    timeout connect %sms\n    timeout client 10s\n    timeout server 10s\n' "$inter"
    # A listener HAProxy needs in order to start; nothing connects to it.
    printf 'frontend fe\n    bind unix@%s/fe.sock\n    default_backend be\n' "$work"
    printf 'backend be\n'
    i=0
    for p in ${ports//,/ }; do
        printf '    server s%d 127.0.0.1:%s check inter %sms%s\n' "$i" "$p" "$inter" "$srvopt"
        i=$((i + 1))
    done
} >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
hap_pid=$!
sleep "$warmup"
if ! kill -0 "$hap_pid" 2>/dev/null; then
    echo "haproxy did not start:" >&2
    cat "$work/haproxy.log" >&2
    exit 1
fi
read -r u0 s0 < <(cpu_ticks "$hap_pid")
t0=$(date +%s.%N)
# HAProxy does not count its checks anywhere we can read; a perf counter on connect() does (a
# counting tracepoint, no records: its cost is well under 1 % of a core at 20,000 events/s).
connects=0
if command -v perf >/dev/null &&
    perf stat -x, -e syscalls:sys_enter_connect -p "$hap_pid" -o "$work/pstat" -- sleep "$seconds" 2>/dev/null; then
    connects=$(awk -F, '/sys_enter_connect/ { print $1 + 0 }' "$work/pstat")
else
    sleep "$seconds"
fi
read -r u1 s1 < <(cpu_ticks "$hap_pid")
t1=$(date +%s.%N)
awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v t0="$t0" -v t1="$t1" -v hz="$tick" -v n="$connects" 'BEGIN {
    w = t1 - t0; us = u / hz / w * 100; ss = s / hz / w * 100
    rate = ""
    if (n > 0) rate = sprintf(" checks=%d (%.0f/s) %.1f us per check", n, n / w, (u + s) / hz / n * 1e6)
    printf "haproxy: window=%.1fs cpu=%.1f%% of one core (user %.1f%%, sys %.1f%%)%s\n", w, us + ss, us, ss, rate
}'
connect_jitter "$hap_pid"
kill "$hap_pid"
wait "$hap_pid" 2>/dev/null || true
hap_pid=""
stop_peers
