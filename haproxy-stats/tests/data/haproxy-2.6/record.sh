#!/usr/bin/env bash
# Records the reference outputs of real HAProxy 2.6 used by haproxy-stats' golden tests.
# Usage: bash record.sh            (writes next to this script; needs haproxy, socat, curl)
# It starts two haproxy processes on 127.0.0.1 (an origin serving 200s and the recorded instance),
# drives a fixed amount of traffic, stores every reply byte for byte, then kills the PIDs it started.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
HAPROXY="${HAPROXY:-/usr/sbin/haproxy}"
WORK="$(mktemp -d /tmp/hapx-stats-rec.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# Free high ports: ask the kernel for ephemeral ports (bind :0) through python3.
read -r FE_PORT TCP_PORT STATS_PORT ADMIN_PORT O1 O2 O3 DEAD < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(8)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
)

cp "$HERE/rec.cfg" "$HERE/origin.cfg" "$HERE/blocked.acl" "$HERE/paths.map" "$WORK/"
cd "$WORK"
export FE_PORT TCP_PORT STATS_PORT ADMIN_PORT O1 O2 O3 DEAD HAPX_REC_VAR=recorded-value
"$HAPROXY" -db -f origin.cfg >origin.log 2>&1 & PIDS+=($!)
# The origin must accept connections before the recorded instance starts, or s1's first
# health check may fail and change every counter.
for port in "$O1" "$O2" "$O3"; do
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
"$HAPROXY" -db -f rec.cfg >rec.log 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -S admin.sock ] && break; sleep 0.1; done
sleep 1.5   # first health checks: s3 (dead port) goes DOWN, s1 passes

OUT="$HERE/out"; rm -rf "$OUT"; mkdir -p "$OUT/cli"
printf 'FE_PORT=%s\nTCP_PORT=%s\nSTATS_PORT=%s\nADMIN_PORT=%s\nO1=%s\nO2=%s\nO3=%s\nDEAD=%s\n' \
  "$FE_PORT" "$TCP_PORT" "$STATS_PORT" "$ADMIN_PORT" "$O1" "$O2" "$O3" "$DEAD" >"$OUT/ports.env"

# Deterministic traffic: 6 GETs on fe_http (one to /api via the map, one denied by the acl
# is not possible from 127.0.0.1, so one 404 path), 2 TCP sessions on fe_tcp.
for p in / / /a /api/x /api/y /b; do curl -s -o /dev/null "http://127.0.0.1:$FE_PORT$p"; sleep 0.3; done
for _ in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$TCP_PORT/"; sleep 0.3; done
sleep 2     # let the one-second rates fall back to 0

cli() { # cli <level> <name> <input-bytes>: one connection, input as given, reply stored raw
  local lvl="$1" name="$2" input="$3"
  printf '%s' "$input" >"$OUT/cli/$name.$lvl.in"
  printf '%s' "$input" | socat -t 2 - "unix-connect:$lvl.sock" >"$OUT/cli/$name.$lvl.out"
}
snap() { printf '%s\n' "$2" | socat -t 2 - "unix-connect:admin.sock" >"$OUT/$1"; }

snap show-stat.txt "show stat"
snap show-stat-typed.txt "show stat typed"
snap show-stat-json.txt "show stat json"
snap show-info.txt "show info"
snap show-info-typed.txt "show info typed"
snap show-info-json.txt "show info json"
snap show-servers-state.txt "show servers state"
snap show-servers-state-be_rr.txt "show servers state be_rr"
snap show-stat-filter-be_rr-servers.txt "show stat be_rr 4 -1"
snap show-stat-filter-backends.txt "show stat -1 2 -1"
snap show-stat-up.txt "show stat up"
snap show-stat-no-maint.txt "show stat no-maint"
snap show-stat-iid-typed.txt "show stat 3 -1 -1 typed"

raw_http() { # raw_http <port> <path> <file>: HTTP/1.0 request through bash's /dev/tcp, reply stored raw
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.0\r\nHost: rec\r\n\r\n' "$2" >&3
  cat <&3 >"$OUT/$3"
  exec 3<&-
}
raw_http "$STATS_PORT" "/stats" stats-page.http
raw_http "$STATS_PORT" "/stats;csv" stats-csv.http
raw_http "$STATS_PORT" "/stats;json;norefresh" stats-json.http
raw_http "$STATS_PORT" "/stats;up;norefresh" stats-page-up.http
raw_http "$ADMIN_PORT" "/admin" stats-admin-page.http
raw_http "$STATS_PORT" "/metrics" prometheus.http

# Runtime-API exchanges, in order (state changes carry over from one to the next).
for l in user operator admin; do cli "$l" "00-help" $'help\n'; done
cli admin 01-show-version $'show version\n'
cli admin 02-show-cli-level $'show cli level\n'
cli operator 02-show-cli-level $'show cli level\n'
cli user 02-show-cli-level $'show cli level\n'
cli admin 03-multi $'show version;show cli level;get weight be_rr/s1\n'
cli admin 04-get-weight $'get weight be_rr/s1\n'
cli admin 05-get-weight-nosrv $'get weight be_rr/nosuch\n'
cli admin 06-get-weight-nobe $'get weight nosuch/s1\n'
cli admin 07-get-weight-noslash $'get weight be_rr\n'
cli admin 08-get-weight-ids $'get weight #2/#1\n'
cli admin 09-set-weight-abs $'set weight be_rr/s1 20;get weight be_rr/s1\n'
cli admin 10-set-weight-pct $'set weight be_rr/s1 50%;get weight be_rr/s1\n'
cli admin 11-set-weight-33pct $'set weight be_rr/s1 33%;get weight be_rr/s1\n'
cli admin 12-set-weight-too-big $'set weight be_rr/s1 300\n'
cli admin 13-set-weight-negative-pct $'set weight be_rr/s1 -5%\n'
cli admin 14-set-weight-garbage $'set weight be_rr/s1 abc\n'
cli admin 15-set-weight-5000pct $'set weight be_rr/s1 5000%;get weight be_rr/s1;set weight be_rr/s1 10\n'
cli admin 16-set-weight-static $'set weight be_static/a 5\n'
cli admin 17-set-weight-static-ok $'set weight be_static/a 0;get weight be_static/a;set weight be_static/a 100%;get weight be_static/a\n'
cli admin 18-set-weight-missing $'set weight be_rr/s1\n'
cli admin 19-set-server-drain $'set server be_rr/s1 state drain;show servers state be_rr\n'
cli admin 20-set-server-bad-state $'set server be_rr/s1 state foo\n'
cli admin 21-set-server-ready $'set server be_rr/s1 state ready\n'
cli admin 22-set-server-usage $'set server be_rr/s1\n'
cli admin 23-set-server-health $'set server be_rr/s1 health stopping;set server be_rr/s1 health up\n'
cli admin 24-set-server-agent $'set server be_rr/s1 agent up\n'
cli admin 25-set-server-weight $'set server be_rr/s1 weight 12;get weight be_rr/s1;set server be_rr/s1 weight 10\n'
cli admin 26-disable-enable-server $'disable server be_rr/s1;enable server be_rr/s1\n'
cli admin 27-disable-server-nosrv $'disable server be_rr/nosuch\n'
cli admin 28-health $'disable health be_rr/s3;enable health be_rr/s3\n'
cli admin 29-disable-frontend $'disable frontend fe_tcp\n'
cli admin 30-disable-frontend-again $'disable frontend fe_tcp\n'
cli admin 31-enable-frontend $'enable frontend fe_tcp\n'
cli admin 32-enable-frontend-again $'enable frontend fe_tcp\n'
cli admin 33-disable-frontend-backend $'disable frontend be_rr\n'
cli admin 34-set-maxconn $'set maxconn frontend fe_http 500;set maxconn server be_rr/s1 10;set maxconn frontend nosuch 1\n'
cli admin 35-set-maxconn-global $'set maxconn global 999999999;set maxconn global abc\n'
cli admin 36-set-timeout $'set timeout cli 30;set timeout cli abc;set timeout foo 1\n'
cli admin 37-servers-state-nobe $'show servers state nosuch\n'
cli admin 38-show-backend $'show backend\n'
cli admin 39-acl $'add acl blocked.acl 10.9.9.9;add acl blocked.acl notanip;del acl blocked.acl 10.7.7.7;get acl blocked.acl 10.0.0.5;get acl blocked.acl 127.0.0.1\n'
cli admin 40-map $'get map paths.map /api/x;get map paths.map /zzz;set map paths.map /nosuch x;add map paths.map /new be_rr;del map paths.map /nosuch\n'
cli admin 41-show-env $'show env HAPX_REC_VAR;show env HAPX_NO_SUCH_VAR\n'
cli admin 42-unknown $'foo\n'
cli admin 43-unknown-set $'set wieght be_rr/s1 1\n'
cli user 43-unknown-set $'set wieght be_rr/s1 1\n'
cli admin 44-stat-domain $'show stat domain dns\n'
cli admin 45-help-cmd $'help set\n'
cli admin 46-shutdown-session $'shutdown session 0x0;shutdown session abc\n'
cli admin 47-escape $'show env HAPX\\;REC;show version\n'
cli admin 48-no-newline 'show cli level'
cli admin 49-prompt $'prompt\nshow cli level\nget weight be_rr/s1\nquit\n'
cli admin 50-prompt-payload $'prompt\nadd map paths.map <<\n/p1 be_rr\n/p2 be_empty\n\nshow cli level\nquit\n'
cli admin 51-lower $'operator;show cli level;user;show cli level;operator\n'
cli user 52-denied $'show sess;show env;show errors;clear counters;set maxconn global 10;set weight be_rr/s1 1;disable server be_rr/s1\n'
cli operator 53-denied $'set weight be_rr/s1 1;disable server be_rr/s1;clear counters all;shutdown session 0x1;set rate-limit connections global 10;disable frontend fe_tcp;set server be_rr/s1 state drain\n'
cli user 54-user-allowed $'show servers state be_static;get weight be_rr/s1;show backend\n'
cli operator 55-operator-allowed $'show env HAPX_REC_VAR;clear counters\n'
cli admin 56-shutdown-frontend $'shutdown frontend fe_tcp;enable frontend fe_tcp;shutdown frontend nosuch\n'
cli admin 57-quit $'quit\n'
cli admin 58-empty $'\n'
cli admin 59-show-acl $'show acl\n'
cli admin 60-show-map $'show map\n'
cli admin 61-show-acl-file $'show acl blocked.acl;show map paths.map;show map nosuch\n'
cli admin 62-del-add-acl $'del acl blocked.acl 10.9.9.9;del acl blocked.acl 10.9.9.9;clear acl blocked.acl;show acl blocked.acl\n'
cli admin 63-set-rate-limit $'set rate-limit connections global 100;set rate-limit sessions global 0\n'
cli admin 64-shutdown-sessions $'shutdown sessions server be_rr/s1\n'
cli admin 65-agent-health $'enable agent be_rr/s1;disable agent be_rr/s1\n'
cli admin 66-get-weight-backup $'get weight be_rr/bk;get weight be_static/b\n'
cli admin 67-help-unknown $'help nosuchcmd\n'

cli admin 68-fuzzy $'sho stat\nshw info\n'
cli admin 69-fuzzy-more $'set srever be_rr/s1 state ready;get wieght be_rr/s1;help show servers;clear;disable\n'
cli admin 70-help-show $'help show\n'
cli user 71-user-show-stat $'show stat -1 4 -1\n'
cli admin 72-set-server-errors $'set server be_rr/s1 health foo;set server be_rr/s1 agent foo;set server be_rr/s1 check-port abc;set server be_rr/s1 foo;set server be_rr;set server nosuch/s1 state ready\n'
cli admin 73-maxconn-errors $'set maxconn foo;set maxconn frontend;set maxconn server be_rr/s1;set rate-limit foo;set rate-limit connections 5;set rate-limit connections global abc;set timeout cli\n'
cli admin 74-pattern-errors $'add acl;show acl nosuch;get acl blocked.acl;del map paths.map;clear acl nosuch;add map paths.map onlykey;set map paths.map /api\n'
cli admin 75-frontend-errors $'disable frontend;enable frontend nosuch;shutdown frontend\n'

cli admin 76-set-server-options "set server be_rr/s1 addr 127.0.0.1 port $O1;set server be_rr/s1 addr 127.0.0.9;set server be_rr/s1 agent-addr 127.0.0.2;set server be_rr/s1 agent-port 5555;set server be_rr/s1 agent-port abc;set server be_rr/s1 agent-send hello;set server be_rr/s1 check-addr 127.0.0.3;set server be_rr/s1 check-addr;set server be_rr/s1 ssl off;set server be_rr/s1 ssl maybe;set server be_rr/s1 fqdn foo.example;set server be_rr/s1 check-port 9999"$'\n'

cp rec.log "$OUT/haproxy.log"
echo "recorded into $OUT"
