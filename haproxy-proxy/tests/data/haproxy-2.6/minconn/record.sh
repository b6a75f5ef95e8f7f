#!/usr/bin/env bash
# Re-records HAProxy 2.6's behaviour for the minconn scenarios and the derived fullconn.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/record-fullconn.sh"
cd "$here/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it minconn
