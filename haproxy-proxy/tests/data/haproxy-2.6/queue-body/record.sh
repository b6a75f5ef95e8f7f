#!/usr/bin/env bash
# Re-records HAProxy 2.6's answers to a request whose body arrives while it is queued.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it queue_body
