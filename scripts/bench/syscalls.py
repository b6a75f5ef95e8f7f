#!/usr/bin/env python3
"""System calls per request of haproxy-rs and HAProxy 2.6 with ONE keep-alive client connection.

Both proxies run bench.py's configuration (proxy.cfg.in, nbthread 1, pinned to CPU 0) in front
of the same nginx (CPU 1). For each proxy in turn, `perf stat` counts the proxy's system calls by
kind (the kernel's `syscalls:sys_enter_*` tracepoints, which do not stop the process as strace
does) while `wrk -t1 -c1` (CPU 1) sends /tiny requests on one connection for --duration seconds;
counting is switched on (perf --control) only during the wrk runs, and the totals are divided by their requests. The proxy's user and system CPU time per request
(from /proc) are given too.

Usage: python3 scripts/bench/syscalls.py --ours target/release/haproxy [--also NAME=BINARY]
       [--haproxy /usr/sbin/haproxy] [--duration 3] [--rounds 2]
Prints a Markdown table (calls per request, median over rounds; kinds under 0.01 left out).
Needs perf with tracepoint access (root, or perf_event_paranoid <= -1). Every process it starts is
stopped by its own pid.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (free ports, templates, nginx and proxy start-up, wrk runs)

# Bound on how long perf may take to answer a control command or to exit (closing many
# tracepoints is slow: hence a list of kinds rather than every syscall tracepoint).
PERF_WAIT_S = 60.0
# The kinds counted one by one; the rest shows as "other" (the total is counted too).
KINDS = ["epoll_wait", "epoll_pwait", "epoll_ctl", "recvfrom", "sendto", "recvmsg", "sendmsg", "read",
         "write", "readv", "writev", "accept4", "connect", "socket", "close", "shutdown", "setsockopt",
         "getsockopt", "getsockname", "futex", "clock_gettime", "sched_yield", "splice", "madvise",
         "mmap", "munmap", "brk", "mprotect", "timerfd_settime", "rt_sigprocmask", "ioctl", "fcntl"]


class Counted:
    """A proxy started under `perf stat` with its counters disabled; `run` counts one call."""

    def __init__(self, b, name, binary, workdir):
        ka, sc, tcp = bench.free_ports(3)
        self.ka = ka
        cfg = os.path.join(workdir, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(bench.fill("proxy.cfg.in", {
                "NBTHREAD": b.args.nbthread,
                "PORT_KA": ka, "PORT_SC": sc, "PORT_TCP": tcp, "PORT_NG1": b.ng1, "PORT_NG2": b.ng2}))
        self.out = os.path.join(workdir, name + ".perf")
        self.ctl, self.ack = os.path.join(workdir, name + ".ctl"), os.path.join(workdir, name + ".ack")
        os.mkfifo(self.ctl)
        os.mkfifo(self.ack)
        events = ",".join(["raw_syscalls:sys_enter"] + ["syscalls:sys_enter_" + k for k in KINDS])
        argv = ["perf", "stat", "-x", ",", "-o", self.out, "-D", "-1", "-e", events,
                "--control", "fifo:%s,%s" % (self.ctl, self.ack), "--"]
        argv += bench.taskset(b.args.proxy_cpus, [binary, "-db", "-f", cfg])
        self.perf = bench.Proc(name, argv, os.path.join(workdir, name + ".log"))
        bench.wait_port(ka, self.perf.p)
        self.ctl_f = open(self.ctl, "w")
        self.ack_f = open(self.ack, "r")
        # taskset has exec'd the proxy: it is perf's only child.
        kids = open("/proc/%d/task/%d/children" % (self.perf.pid, self.perf.pid)).read().split()
        self.pid = int(kids[0])
        self.reqs = 0

    def command(self, what):
        self.ctl_f.write(what + "\n")
        self.ctl_f.flush()
        self.ack_f.readline()

    def run(self, f):
        """f() with the counters enabled; its wrk result counts towards the requests."""
        self.command("enable")
        try:
            r = f()
        finally:
            self.command("disable")
        self.reqs += r["reqs"]
        return r

    def finish(self):
        """Stops the proxy (by its pid); the calls counted, by name."""
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.perf.p.wait(timeout=PERF_WAIT_S)
        except subprocess.TimeoutExpired:
            self.perf.p.kill()
            self.perf.p.wait()
        self.ctl_f.close()
        self.ack_f.close()
        self.perf.log.close()
        counts, total = {}, 0
        with open(self.out) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) < 3 or not parts[0].isdigit():
                    continue
                m = re.search(r"sys_enter_(\w+)", parts[2])
                if m and int(parts[0]):
                    counts[m.group(1)] = int(parts[0])
                elif parts[2] == "raw_syscalls:sys_enter":
                    total = int(parts[0])
        counts["other"] = total - sum(counts.values())
        counts["(all)"] = total
        return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=BINARY")
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--nbthread", type=int, default=1)
    ap.add_argument("--proxy-cpus", default="0")
    ap.add_argument("--load-cpus", default="1")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    names = [("rs", os.path.abspath(args.ours)), ("haproxy", args.haproxy)]
    names += [(n, os.path.abspath(p)) for n, p in (a.split("=", 1) for a in args.also)]
    b = bench.Bench(args)
    per, rows = {}, {}
    pxs = {}
    try:
        b.start_nginx()
        pxs = {n: Counted(b, n, path, b.dir) for n, path in names}
        for px in pxs.values():
            bench.run_wrk("http://127.0.0.1:%d/tiny" % px.ka, 1, 1, args.load_cpus, px.pid)
        for rnd in range(args.rounds):
            for n, px in pxs.items():
                url = "http://127.0.0.1:%d/tiny" % px.ka
                r = px.run(lambda: bench.run_wrk(url, 1, args.duration, args.load_cpus, px.pid))
                bench.log("round %d %-8s %d requests, p50 %.3f ms, user %.1f sys %.1f us/req"
                          % (rnd, n, r["reqs"], r["p50"], r["user_us"], r["sys_us"]))
                per.setdefault(n, []).append(r)
        for n in list(pxs):
            px = pxs.pop(n)
            counts = px.finish()
            reqs = max(px.reqs, 1)
            row = {k: v / reqs for k, v in counts.items()}
            row["(user us, median)"] = statistics.median(r["user_us"] for r in per[n])
            row["(sys us, median)"] = statistics.median(r["sys_us"] for r in per[n])
            row["(p50 ms, median)"] = statistics.median(r["p50"] for r in per[n])
            rows[n] = row
    finally:
        for px in pxs.values():
            px.finish()
        b.cleanup()
    kinds = sorted({k for row in rows.values() for k in row}, key=lambda k: (k.startswith("("), k))
    cols = [n for n, _ in names]
    print("| per request | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for k in kinds:
        vals = [rows[n].get(k, 0.0) for n in cols]
        if max(vals) < 0.01:
            continue
        print("| %s | %s |" % (k, " | ".join("%.3f" % v for v in vals)))


if __name__ == "__main__":
    main()
