#!/usr/bin/env bash
# Records the `fullconn` HAProxy 2.6 derives for each backend of fullconn.cfg (the `slim` column of
# its BACKEND rows in `show stat`) into fullconn.txt, as `<backend> <fullconn>` lines, then each
# server's `slim` (its `maxconn` as HAProxy settles it with `minconn`) as `<backend>/<server> <slim>`.
set -euo pipefail
cd "$(dirname "$0")"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$((20000 + RANDOM % 20000))
awk -v p="$port" '/@bind@/ { sub("@bind@", "127.0.0.1:" p++) } { print }' fullconn.cfg >"$dir/h.cfg"
printf 'global\n stats socket %s/s.sock level admin\n' "$dir" >>"$dir/h.cfg"
/usr/sbin/haproxy -db -f "$dir/h.cfg" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
  out=$(echo "show stat" | socat - "$dir/s.sock" 2>/dev/null) && [ -n "$out" ] && break
  sleep 0.1
done
{
  echo "$out" | awk -F, '$2 == "BACKEND" { print $1, $7 }'
  echo "$out" | awk -F, '$1 !~ /^#/ && $2 != "BACKEND" && $2 != "FRONTEND" && NF > 7 { print $1 "/" $2, $7 }'
} >fullconn.txt
