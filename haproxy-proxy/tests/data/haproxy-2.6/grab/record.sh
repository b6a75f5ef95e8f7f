#!/usr/bin/env bash
# Re-records HAProxy 2.6's answers to the backend-queue grab differential scenarios.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_RS_RECORD=1 cargo test -p haproxy-proxy --test it grab_diff
