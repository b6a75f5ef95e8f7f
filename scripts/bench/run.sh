#!/usr/bin/env bash
# Side-by-side benchmark of haproxy-rs and HAProxy 2.6: builds our release binary, then runs
# bench.py (nginx backend, wrk load, both proxies interleaved on the same config).
#
# Needs: nginx, wrk, taskset (Debian: apt-get install -y nginx wrk util-linux) and /usr/sbin/haproxy.
# Usage: bash scripts/bench/run.sh [bench.py options]   e.g. --rounds 3 --duration 5
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in nginx wrk taskset python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
cargo build --release -p haproxy-bin >&2
exec python3 scripts/bench/bench.py --ours target/release/haproxy "$@"
