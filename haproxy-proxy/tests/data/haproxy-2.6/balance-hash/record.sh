#!/usr/bin/env bash
# Re-records which servers HAProxy 2.6 picks for the `balance hash <expr>` scenarios.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it balance_hash
