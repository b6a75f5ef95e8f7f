#!/usr/bin/env python3
"""User-space instructions per request, counted by callgrind, for haproxy-rs and HAProxy 2.6.

Each proxy (nbthread 1, scripts/bench/proxy.cfg.in) runs under `valgrind --tool=callgrind` in
front of one nginx, twice per scenario: once for CONNS connections x LOW requests, once for
CONNS connections x HIGH requests (each connection sends its requests one after the other, as wrk
does). Both runs are stopped with SIGUSR1 (soft stop) once every client connection is closed;
the difference of their instruction totals over the difference of their request counts is the
cost of one more request on a kept-alive client connection: startup, accepts and shutdown cancel
out. Callgrind counts every instruction the process executes in user space, all threads included,
so the figure is deterministic up to a few tenths of a percent (timer and scheduling noise).

Usage: python3 haproxy-proxy/benches/instructions/count.py --ours target/release/haproxy
       [--haproxy /usr/sbin/haproxy] [--only ka,sc,tcp] [--conns 50] [--low 20] [--high 60]
Prints one Markdown table row per (proxy, scenario). Every process it starts is stopped by its
own pid; nothing is left running.
"""

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "..", "scripts", "bench")
# Bound on how long a proxy (slow under valgrind) or nginx may take to start listening.
START_WAIT_S = 60.0
# Bound on one client operation (a request and its response), valgrind included.
OP_TIMEOUT_S = 30.0
# Bound on how long a soft-stopped proxy may take to exit.
STOP_WAIT_S = 60.0
REQUEST = b"GET /tiny HTTP/1.1\r\nHost: bench\r\n\r\n"


sys.path.insert(0, BENCH)
import bench  # noqa: E402  (scripts/bench/bench.py: free ports, config templates, port waits)

# valgrind starts a proxy slowly: bench.wait_port reads this bound at each call.
bench.START_WAIT_S = START_WAIT_S
log, free_ports, fill, wait_port = bench.log, bench.free_ports, bench.fill, bench.wait_port


async def one_conn(port, count):
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), OP_TIMEOUT_S)
    try:
        for _ in range(count):
            w.write(REQUEST)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), OP_TIMEOUT_S)
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if not head.startswith(b"HTTP/1.1 200") or not m:
                raise RuntimeError("unexpected response head: %r" % head[:200])
            await asyncio.wait_for(r.readexactly(int(m.group(1))), OP_TIMEOUT_S)
    finally:
        w.close()


async def load(port, conns, count):
    await asyncio.gather(*(one_conn(port, count) for _ in range(conns)))


def total_ir(path):
    """The instruction total of a callgrind output file (its `totals:` or `summary:` line)."""
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + path)


def run_once(binary, cfg, port, out, conns, count, workdir):
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, "-db", "-f", cfg]
    logf = open(os.path.join(workdir, "proxy.log"), "ab")
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
    try:
        wait_port(port, p)
        time.sleep(1.0)  # let the probe connection of wait_port be forgotten
        asyncio.run(load(port, conns, count))
        time.sleep(0.5)
        p.send_signal(signal.SIGUSR1)
        p.wait(timeout=STOP_WAIT_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        logf.close()
    return total_ir(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--only", default="ka,sc,tcp")
    ap.add_argument("--which", default="ours,haproxy")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--low", type=int, default=20)
    ap.add_argument("--high", type=int, default=60)
    ap.add_argument("--keep", help="keep the callgrind files of the HIGH runs in this folder")
    args = ap.parse_args()
    for tool in ("valgrind", "nginx"):
        if not shutil.which(tool):
            raise SystemExit("missing: " + tool)
    workdir = tempfile.mkdtemp(prefix="instr-")
    ng1, ng2, ka, sc, tcp = free_ports(5)
    ports = {"ka": ka, "sc": sc, "tcp": tcp}
    os.makedirs(os.path.join(workdir, "www"))
    for d in ("tmp-body", "tmp-proxy", "tmp-fastcgi", "tmp-uwsgi", "tmp-scgi"):
        os.makedirs(os.path.join(workdir, d))
    ngconf = os.path.join(workdir, "nginx.conf")
    with open(ngconf, "w") as f:
        f.write(fill("nginx.conf.in", {"DIR": workdir, "PORT_NG1": ng1, "PORT_NG2": ng2}))
    ng = subprocess.Popen(["nginx", "-p", workdir, "-c", ngconf, "-e", os.path.join(workdir, "nginx-error.log")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    binaries = {"ours": args.ours, "haproxy": args.haproxy}
    print("| proxy | scenario | Ir (%dx%d) | Ir (%dx%d) | instructions / request |" % (args.conns, args.low, args.conns, args.high))
    print("|---|---|---:|---:|---:|")
    try:
        wait_port(ng1, ng)
        for name in args.which.split(","):
            cfg = os.path.join(workdir, name + ".cfg")
            with open(cfg, "w") as f:
                f.write(fill("proxy.cfg.in", {
                    "HAPROXY_ONLY": "no strict-limits" if name == "haproxy" else "# (no strict-limits)", "NBTHREAD": 1, "PORT_KA": ka, "PORT_SC": sc, "PORT_TCP": tcp,
                    "PORT_NG1": ng1, "PORT_NG2": ng2}))
            for scen in args.only.split(","):
                port = ports[scen]
                lo_out = os.path.join(workdir, "cg-%s-%s-lo" % (name, scen))
                hi_out = os.path.join(workdir, "cg-%s-%s-hi" % (name, scen))
                lo = run_once(binaries[name], cfg, port, lo_out, args.conns, args.low, workdir)
                hi = run_once(binaries[name], cfg, port, hi_out, args.conns, args.high, workdir)
                per = (hi - lo) / (args.conns * (args.high - args.low))
                print("| %s | %s | %d | %d | %.0f |" % (name, scen, lo, hi, per), flush=True)
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copy(hi_out, os.path.join(args.keep, "callgrind.%s-%s" % (name, scen)))
                    shutil.copy(lo_out, os.path.join(args.keep, "callgrind.%s-%s-lo" % (name, scen)))
    finally:
        ng.send_signal(signal.SIGTERM)
        try:
            ng.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ng.kill()
            ng.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
