#!/usr/bin/env bash
# Re-records verdicts.txt: runs the real HAProxy 2.6 on 127.0.0.1 (ephemeral port) with one backend
# per case of cases.txt and stores the status it answers (200 = condition true, 403 = false).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
HAPROXY_ACL_RECORD=1 cargo test -p haproxy-acl --all-features --test it differential::live_haproxy_agrees -- --nocapture || true
echo "recorded into haproxy-acl/tests/data/haproxy-2.6/verdicts.txt"
