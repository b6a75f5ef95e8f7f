#!/usr/bin/env python3
"""Memory per idle keep-alive client connection for several builds of haproxy-rs, alternated.

Each round starts, for every binary given with --ours and then for HAProxy, a fresh proxy with
bench.py's configuration, opens --idle keep-alive connections that each make one request and stay
open, and prints the RSS delta per connection (KiB). Used to compare a build before and after a
change on the loaded machine, e.g.:

    python3 scripts/bench/idle_ab.py --ours /tmp/haproxy-before --ours target/release/haproxy
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def measure(b, name, binary, count):
    px = b.start_proxy(name, binary)
    try:
        warm, _ = bench.open_idle(px["ka"], 20)
        for s in warm:
            s.close()
        time.sleep(0.5)
        before = bench.rss_kib(px["proc"].pid)
        socks, errors = bench.open_idle(px["ka"], count)
        time.sleep(1.0)
        after = bench.rss_kib(px["proc"].pid)
        for s in socks:
            s.close()
        return (after - before) / max(len(socks), 1), errors
    finally:
        b.stop_proxy(px)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", action="append", required=True, help="a haproxy-rs binary (repeat)")
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    # What bench.Bench reads from its arguments.
    args.nbthread, args.proxy_cpus, args.load_cpus, args.keep = 1, "0", "1", False
    b = bench.Bench(args)
    try:
        b.start_nginx()
        for r in range(args.rounds):
            for path in args.ours:
                kib, errors = measure(b, "rs", os.path.abspath(path), args.idle)
                print("round %d %-40s %.3f KiB/conn errors %d" % (r + 1, path, kib, errors), flush=True)
            kib, errors = measure(b, "haproxy", args.haproxy, args.idle)
            print("round %d %-40s %.3f KiB/conn errors %d" % (r + 1, args.haproxy, kib, errors), flush=True)
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
