#!/usr/bin/env bash
# Re-records the PROXY protocol bytes HAProxy 2.6 sends to servers behind `accept-proxy`.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it proxy_bytes
