#!/usr/bin/env bash
# Records HAProxy 2.6's outcome of every differential scenario (tests/it/scenarios.rs) into
# scenarios/<name>.txt: the client transcripts and the requests the origin server received.
# Usage: bash record-scenarios.sh   (needs /usr/sbin/haproxy; loopback only)
set -euo pipefail
cd "$(dirname "$0")/../../.."
RECORD_SCENARIOS=1 cargo test -p haproxy-proxy --test it -- scenarios_match_haproxy_for_clients_and_servers
