#!/usr/bin/env bash
# Records what `haproxy -c` (HAProxy 2.6.12) prints for each configuration here: stderr without
# the NOTICE lines, pids masked as (PID), then the exit code.
set -euo pipefail
cd "$(dirname "$0")"
for cfg in *.cfg; do
    out="${cfg%.cfg}.txt"
    set +e
    haproxy -c -f "$cfg" 2>&1 >/dev/null | grep -v NOTICE | sed -E 's/\(([0-9]+)\)/(PID)/' > "$out"
    code=${PIPESTATUS[0]}
    set -e
    echo "rc $code" >> "$out"
done
