#!/bin/bash
# Records what real HAProxy 2.6.12 prints for every *.cfg here: `<name>.out` gets the exit code
# on the first line ("rc=N"), then stderr and stdout of `haproxy -c -f <name>.cfg`, with the pid
# replaced by PID and the two NOTICE banner lines removed. Run from this directory.
set -u
cd "$(dirname "$0")"
for f in *.cfg; do
  out="${f%.cfg}.out"
  res=$(env -i PATH=/usr/sbin:/usr/bin:/bin HOME=/root HOST=example.org EMPTY= LIST='a b  c' LEAD=' x' \
    haproxy -c -f "$f" 2>&1)
  rc=$?
  { echo "rc=$rc"; printf '%s\n' "$res" | sed -E 's/^(\[[A-Z]+\] +)\([0-9]+\)/\1(PID)/' | grep -av '^\[NOTICE\]   (PID) : \(haproxy version is\|path to executable is\)'; } > "$out"
done
