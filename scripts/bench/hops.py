#!/usr/bin/env python3
"""Where one request's round trip goes, with ONE keep-alive client connection, for haproxy-rs and
HAProxy 2.6: the time between the system calls of wrk, the proxy and nginx.

Both proxies run bench.py's configuration (nbthread 1, CPU 0) in front of one nginx (CPU 1). For
each proxy in turn, `wrk -t1 -c1` (CPU 1) sends /tiny requests for --duration seconds and, in the
middle of the run, `perf record -a` takes the system-wide `raw_syscalls` tracepoints for
--trace seconds. Each request crosses eight segments, from the entry of one process's send
(sendto, write, writev, sendmsg, sendfile) to the return of the next process's epoll_wait with
events (a wake-up: kernel TCP path, scheduler, context switch), and from that return to the same
process's next send (its own work):

  wrk -> proxy wake, proxy work (client leg), proxy -> nginx wake, nginx work,
  nginx -> proxy wake, proxy work (server leg), proxy -> wrk wake, wrk work.

Prints the median of each segment per proxy over all --rounds runs (Markdown). Tracing every system call of the
machine slows each call down (about 1 us here), so the figures are larger than untraced ones;
they are for comparing the two proxies and the segments with one another.

Usage: python3 scripts/bench/hops.py --ours target/release/haproxy [--duration 4] [--trace 1]
Needs perf with tracepoint access (root). Every process it starts is stopped by its own pid.
"""

import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (free ports, templates, nginx and proxy start-up)

# System call numbers (x86_64) of the sends and of the waits.
SENDS = {1: "write", 20: "writev", 40: "sendfile", 44: "sendto", 46: "sendmsg"}
WAKES = {232: "epoll_wait", 281: "epoll_pwait"}
# A wake-up more than this long after the last send is not that send's (a timer, a stray event).
MAX_HOP_S = 0.002
# Bound on wrk's run beyond its duration, and on perf's.
EXTRA_S = 60
SEGMENTS = ["wrk -> proxy wake", "proxy work (client leg)", "proxy -> nginx wake", "nginx work",
            "nginx -> proxy wake", "proxy work (server leg)", "proxy -> wrk wake", "wrk work"]
LINE = re.compile(r"\s*(.+?)\s+(\d+)/(\d+)\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit):\s+NR (\d+)(.*)")


def segments(data, proxy_pid):
    """The segment durations (us) found in one perf.data file, by segment name."""
    out = subprocess.Popen(["perf", "script", "-i", data, "--ns", "-F", "comm,pid,tid,time,event,trace"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout

    def role(comm, pid):
        if pid == proxy_pid:
            return "proxy"
        if comm.startswith("nginx"):
            return "nginx"
        if comm.startswith("wrk"):
            return "wrk"
        return None

    last_send = {}  # role -> time of its last send's entry
    woken = {}  # role -> (time of its wake-up, the role whose send woke it)
    seg = collections.defaultdict(list)
    for line in out:
        m = LINE.match(line)
        if not m:
            continue
        r = role(m.group(1), int(m.group(2)))
        if r is None:
            continue
        t, kind, nr = float(m.group(4)), m.group(5), int(m.group(6))
        if kind == "exit" and nr in WAKES:
            ret = re.search(r"=\s*(-?\d+)", m.group(7))
            if not ret or int(ret.group(1)) <= 0:
                continue  # a timeout or an interruption, not a wake-up by data
            if r == "proxy":
                seg["(proxy wake-ups)"].append(1)
            if r == "wrk" and "wrk" in last_send and t - last_send["wrk"] < MAX_HOP_S * 4:
                seg["round trip (wrk send -> wrk wake)"].append((t - last_send["wrk"]) * 1e6)
            sends = [(ts, o) for o, ts in last_send.items() if o != r]
            if sends:
                ts, o = max(sends)
                if t - ts < MAX_HOP_S:
                    seg["%s -> %s wake" % (o, r)].append((t - ts) * 1e6)
                    woken[r] = (t, o)
        elif kind == "enter" and nr in SENDS:
            last_send[r] = t
            if r in woken:
                tw, o = woken.pop(r)
                name = {"proxy": "proxy work (%s leg)" % ("client" if o == "wrk" else "server")}.get(r, r + " work")
                seg[name].append((t - tw) * 1e6)
    return seg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--duration", type=int, default=4, help="seconds of each wrk run")
    ap.add_argument("--trace", type=float, default=1.0, help="seconds traced in the middle of it")
    ap.add_argument("--rounds", type=int, default=2, help="runs per proxy, alternating A B, B A, ...")
    ap.add_argument("--nbthread", type=int, default=1)
    ap.add_argument("--proxy-cpus", default="0")
    ap.add_argument("--load-cpus", default="1")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    names = [("rs", os.path.abspath(args.ours)), ("haproxy", args.haproxy)]
    b = bench.Bench(args)
    results, p50s = {n: collections.defaultdict(list) for n, _ in names}, {n: [] for n, _ in names}
    try:
        b.start_nginx()
        pxs = {n: b.start_proxy(n, path) for n, path in names}
        for n, px in pxs.items():
            bench.run_wrk("http://127.0.0.1:%d/tiny" % px["ka"], 1, 1, args.load_cpus, px["proc"].pid)
        runs = [(rnd, n) for rnd in range(args.rounds)
                for n in (list(pxs) if rnd % 2 == 0 else list(reversed(list(pxs))))]
        for rnd, n in runs:
            px = pxs[n]
            url = "http://127.0.0.1:%d/tiny" % px["ka"]
            argv = bench.taskset(args.load_cpus, ["wrk", "-t1", "-c1", "-d%ds" % args.duration, "--latency", url])
            wrk = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
            try:
                time.sleep(max(0.0, (args.duration - args.trace) / 2))
                data = os.path.join(b.dir, "%s-%d.perf" % (n, rnd))
                subprocess.run(["perf", "record", "-a", "-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit",
                                "-o", data, "--", "sleep", str(args.trace)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=args.trace + EXTRA_S)
                text = wrk.communicate(timeout=args.duration + EXTRA_S)[0]
            finally:
                if wrk.poll() is None:
                    wrk.kill()
                    wrk.wait()
            m = re.search(r"\s50%\s+(\S+)", text)
            p50 = bench.lat_ms(m.group(1)) * 1000 if m else float("nan")
            p50s[n].append(p50)
            found = segments(data, px["proc"].pid)
            os.remove(data)
            for k, xs in found.items():
                results[n][k] += xs
            bench.log("round %d %s: wrk p50 %.1f us (traced), %d requests traced, uptime load %s" % (
                rnd, n, p50, len(found.get("proxy work (client leg)", [])), os.getloadavg()[0]))
    finally:
        b.cleanup()
    print("| segment (median, us, traced) | " + " | ".join(n for n, _ in names) + " |")
    print("|---|" + "---:|" * len(names))
    total = {n: 0.0 for n, _ in names}
    for s in SEGMENTS:
        vals = []
        for n, _ in names:
            xs = results[n].get(s, [])
            v = statistics.median(xs) if xs else float("nan")
            total[n] += v
            vals.append("%.1f" % v)
        print("| %s | %s |" % (s, " | ".join(vals)))
    print("| sum of the medians | %s |" % " | ".join("%.1f" % total[n] for n, _ in names))
    rt = "round trip (wrk send -> wrk wake)"
    print("| %s, median | %s |" % (rt, " | ".join(
        "%.1f" % statistics.median(results[n][rt] or [float("nan")]) for n, _ in names)))
    print("| proxy wake-ups per request | %s |" % " | ".join(
        "%.3f" % (len(results[n]["(proxy wake-ups)"]) / max(len(results[n]["proxy work (client leg)"]), 1))
        for n, _ in names))
    print("| wrk's p50 latency (traced runs, median) | %s |" % " | ".join(
        "%.1f" % statistics.median(p50s[n]) for n, _ in names))


if __name__ == "__main__":
    main()
