#!/usr/bin/env bash
# Records HAProxy 2.6's generated responses (default error pages) into errors/*.raw.
# Usage: bash record.sh   (needs /usr/sbin/haproxy and python3; loopback only)
set -euo pipefail
cd "$(dirname "$0")"
port=$(( 20000 + RANDOM % 20000 ))
cfg=$(mktemp)
codes="200 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504"
{
  echo "defaults"; echo "  mode http"; echo "  timeout client 5s"; echo "  timeout connect 1s"
  echo "  timeout server 1s"; echo "  timeout http-request 300ms"
  echo "frontend fe"; echo "  bind 127.0.0.1:$port"
  for c in $codes; do echo "  http-request deny deny_status $c if { path /$c }"; done
  echo "  http-request return status 200 content-type text/plain string \"hello\n\" if { path /return }"
  echo "  http-request redirect prefix /pfx if { path /redirect }"
  echo "  http-request redirect location /new code 301 if { path /redirect301 }"
} > "$cfg"
haproxy -db -f "$cfg" & pid=$!
trap 'kill $pid; rm -f "$cfg"' EXIT
sleep 0.5
python3 - "$port" $codes <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(raw, wait=2.0):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(wait)
    if raw: s.sendall(raw)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            out += d
    except socket.timeout:
        pass
    s.close(); return out
for c in sys.argv[2:]:
    open(f"errors/{c}.raw", "wb").write(ask(f"GET /{c} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()))
open("errors/400-h1.raw", "wb").write(ask(b"GET /a b HTTP/1.1\r\n\r\n"))
open("errors/408-h1.raw", "wb").write(ask(b"GET / HTTP/1.1\r\n", 3))
open("errors/return.raw", "wb").write(ask(b"GET /return HTTP/1.1\r\nConnection: close\r\n\r\n"))
open("errors/redirect.raw", "wb").write(ask(b"GET /redirect HTTP/1.1\r\nConnection: close\r\n\r\n"))
open("errors/redirect301.raw", "wb").write(ask(b"GET /redirect301 HTTP/1.1\r\nConnection: close\r\n\r\n"))
PY
