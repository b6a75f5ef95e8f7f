#!/usr/bin/env bash
# Records HAProxy 2.6's startup alert for a checked server written without a port.
set -euo pipefail
cd "$(dirname "$0")"
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
printf 'defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nlisten l\n bind 127.0.0.1:18399\n server s1 127.0.0.1 check\n' > "$cfg"
# `-c` exits 1 on this configuration; the alert lines are what we keep (pid masked).
haproxy -c -f "$cfg" 2>&1 | grep ALERT | sed -E 's/\(([0-9]+)\)/(PID)/' > no-check-port.txt || true
