#!/bin/sh
# Records what HAProxy 2.6 prints (NOTICE lines dropped, pid masked) and its exit code for
# `haproxy <flags> -c -f no-listener.cfg` (stdout, then stderr), with and without master-worker flags.
# Run from this directory: sh record.sh
set -u
for flags in "" "-W" "-Ws"; do
    name=$(echo "check${flags}" | tr -d ' ')
    out=$(haproxy $flags -c -f no-listener.cfg 2>&1)
    rc=$?
    {
        printf '%s\n' "$out" | grep -v '\[NOTICE\]' | sed 's/ ([0-9]*) : / (PID) : /' | grep -v '^$'
        echo "rc $rc"
    } > "$name.txt"
done
