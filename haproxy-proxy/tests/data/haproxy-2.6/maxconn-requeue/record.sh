#!/usr/bin/env bash
# Re-records HAProxy 2.6's answers to the `set maxconn server` requeue scenarios.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it maxconn_requeue
