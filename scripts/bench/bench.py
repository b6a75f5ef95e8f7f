#!/usr/bin/env python3
"""Side-by-side benchmark of haproxy-rs and real HAProxy 2.6 (issue 5, "Speed and memory").

Both proxies run the same configuration (proxy.cfg.in) in front of the same nginx backend
(nginx.conf.in), on loopback, at the same time on different ports. Every load scenario is run
against one, then the other, alternately (A B A B ...), with wrk; figures are the median over
the rounds, and each ratio is the median of the per-round ratios (the two runs of a round are
adjacent in time). A load run during which the hypervisor took more than --max-steal percent of
the machine (the `steal` column of /proc/stat: this VM shares its host) is run again, so a round
compares the proxies, not the neighbours; the table reports the most steal of a kept run. Memory
per idle connection and the 10,000-connection test use fresh processes.

Usage (normally through run.sh, which builds the release binary first):
    python3 scripts/bench/bench.py --ours target/release/haproxy [--rounds 3] [--duration 5]

Prints a Markdown table on stdout; progress goes to stderr. Every process it starts is stopped
by its own pid at the end; nothing is left running.
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Bound on how long a proxy or nginx may take to start listening.
START_WAIT_S = 10.0
# Bound on a single socket operation of the idle-connection client.
SOCK_TIMEOUT_S = 10.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_ports(n):
    """n distinct loopback ports in a high random range that are free right now."""
    ports = set()
    attempts = 0
    while len(ports) < n:
        attempts += 1
        if attempts > 1000:
            raise RuntimeError("no free ports found")
        # Below the ephemeral range (32768+), so that no outgoing connection holds the port.
        p = random.randint(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            ports.add(p)
        except OSError:
            pass
        finally:
            s.close()
    return sorted(ports)


def fill(template, values):
    text = open(os.path.join(HERE, template)).read()
    for k, v in values.items():
        text = text.replace("@" + k + "@", str(v))
    return text


def wait_port(port, proc):
    deadline = time.time() + START_WAIT_S
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process exited early (code %s)" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not listening after %ss" % (port, START_WAIT_S))


def taskset(cpus, argv):
    return (["taskset", "-c", cpus] if cpus else []) + argv


class Proc:
    """A child process we started; stopped by its own pid only."""

    def __init__(self, name, argv, logpath):
        self.name = name
        self.log = open(logpath, "w")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.p.pid

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        self.log.close()


def cpu_ticks(pid):
    """(utime, stime) of the whole process (all threads), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    return int(fields[11]), int(fields[12])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def lat_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        return float("nan")
    v = float(m.group(1))
    return {"us": v / 1000.0, "ms": v, "s": v * 1000.0}[m.group(2)]


def machine_ticks():
    """(steal, total) clock ticks of the whole machine, from /proc/stat's `cpu` line."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
    # counted in user, so the total stops at steal.
    return fields[7], sum(fields[:8])


def run_wrk(url, conns, duration, cpus, pid):
    argv = taskset(cpus, ["wrk", "-t1", "-c%d" % conns, "-d%ds" % duration, "--latency", url])
    before, m_before = cpu_ticks(pid), machine_ticks()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    after, m_after = cpu_ticks(pid), machine_ticks()
    # The share of the machine's time the hypervisor gave to others during the run.
    steal_pct = 100.0 * (m_after[0] - m_before[0]) / max(m_after[1] - m_before[1], 1)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = lat_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = lat_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    per_req = lambda ticks: ticks * 1e6 / CLK_TCK / max(reqs, 1)
    user_us, sys_us = per_req(after[0] - before[0]), per_req(after[1] - before[1])
    return {"rps": rps, "p50": p50, "p99": p99, "cpu_us": user_us + sys_us, "user_us": user_us,
            "sys_us": sys_us, "errors": errors, "reqs": reqs, "steal_pct": steal_pct}


REQUEST = b"GET /tiny HTTP/1.1\r\nHost: bench\r\n\r\n"


def read_response(s):
    """Reads one HTTP/1.1 response with a Content-Length; returns the status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed before the head")
        data += chunk
        if len(data) > 65536:
            raise OSError("head too large")
    head, rest = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(rest) < want:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed in the body")
        rest += chunk
    return int(head.split(b" ", 2)[1])


def open_idle(port, count):
    """count connections, each having completed one request; returns (sockets, errors)."""
    socks, errors = [], 0
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=SOCK_TIMEOUT_S)
            s.sendall(REQUEST)
            if read_response(s) != 200:
                errors += 1
            socks.append(s)
        except OSError:
            errors += 1
    return socks, errors


def serve_all(socks):
    """One more request on every held connection; returns the number of failures."""
    errors = 0
    for s in socks:
        try:
            s.sendall(REQUEST)
            if read_response(s) != 200:
                errors += 1
        except OSError:
            errors += 1
    return errors


class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.ng1, self.ng2 = free_ports(2)
        self.dir = tempfile.mkdtemp(prefix="haproxy-rs-bench-")

    def start_nginx(self):
        www = os.path.join(self.dir, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "64k"), "wb") as f:
            f.write(bytes(random.getrandbits(8) for _ in range(65536)))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(fill("nginx.conf.in", {"DIR": self.dir, "PORT_NG1": self.ng1, "PORT_NG2": self.ng2}))
        argv = taskset(self.args.load_cpus, ["nginx", "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "nginx-error.log")])
        p = Proc("nginx", argv, os.path.join(self.dir, "nginx.out"))
        self.procs.append(p)
        wait_port(self.ng1, p.p)

    def start_proxy(self, name, binary):
        ka, sc, tcp = free_ports(3)
        cfg = os.path.join(self.dir, name + ".cfg")
        with open(cfg, "w") as f:
            f.write(fill("proxy.cfg.in", {
                "NBTHREAD": self.args.nbthread,
                "PORT_KA": ka, "PORT_SC": sc, "PORT_TCP": tcp,
                "PORT_NG1": self.ng1, "PORT_NG2": self.ng2,
            }))
        argv = taskset(self.args.proxy_cpus, [binary, "-db", "-f", cfg])
        p = Proc(name, argv, os.path.join(self.dir, name + ".out"))
        self.procs.append(p)
        for port in (ka, sc, tcp):
            wait_port(port, p.p)
        return {"proc": p, "ka": ka, "sc": sc, "tcp": tcp}

    def stop_proxy(self, px):
        px["proc"].stop()
        self.procs.remove(px["proc"])

    def cleanup(self):
        for p in reversed(self.procs):
            p.stop()
        if self.args.keep:
            print("kept %s" % self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


SCENARIOS = [
    # (key, title, frontend, path, connections)
    ("ka", "HTTP keep-alive, 50 conns, tiny responses", "ka", "/tiny", 50),
    ("sc", "HTTP http-server-close, 50 conns, tiny", "sc", "/tiny", 50),
    ("tcp", "TCP mode, 50 conns (keep-alive HTTP inside)", "tcp", "/tiny", 50),
    ("big", "HTTP keep-alive, 50 conns, 64 KiB responses", "ka", "/64k", 50),
    ("lat", "single connection latency", "ka", "/tiny", 1),
]


def load_phase(b, names):
    pxs = {n: b.start_proxy(n, path) for n, path in names}
    results = {}
    try:
        # warm up both (server connections, allocator)
        for n, px in pxs.items():
            run_wrk("http://127.0.0.1:%d/tiny" % px["ka"], 10, 1, b.args.load_cpus, px["proc"].pid)
        for key, title, fe, path, conns in SCENARIOS:
            if b.args.only and key not in b.args.only.split(","):
                continue
            for rnd in range(b.args.rounds):
                order = list(pxs) if rnd % 2 == 0 else list(reversed(list(pxs)))
                for n in order:
                    px = pxs[n]
                    url = "http://127.0.0.1:%d%s" % (px[fe], path)
                    # A run during which the hypervisor took more than --max-steal of the
                    # machine measured the host's other guests, not the proxy: it is run again
                    # (at most --steal-retries times), whichever proxy it was.
                    for attempt in range(b.args.steal_retries + 1):
                        r = run_wrk(url, conns, b.args.duration, b.args.load_cpus, px["proc"].pid)
                        log("%-4s round %d %-6s %8.0f req/s p50 %.3f ms p99 %.3f ms cpu %.1f us/req"
                            " (user %.1f sys %.1f) errors %d steal %.1f%%"
                            % (key, rnd, n, r["rps"], r["p50"], r["p99"], r["cpu_us"], r["user_us"],
                               r["sys_us"], r["errors"], r["steal_pct"]))
                        if r["steal_pct"] <= b.args.max_steal:
                            break
                        if attempt < b.args.steal_retries:
                            log("     steal above %.1f%%: run again" % b.args.max_steal)
                    results.setdefault((key, n), []).append(r)
    finally:
        for px in pxs.values():
            b.stop_proxy(px)
    return results


# Connections opened between two pauses when --idle-pace is given.
IDLE_BATCH = 50


def open_paced(port, count, pace_ms):
    """open_idle in batches of IDLE_BATCH with pace_ms between them (0: all at once)."""
    if pace_ms <= 0:
        return open_idle(port, count)
    socks, errors = [], 0
    while len(socks) + errors < count:
        s, e = open_idle(port, min(IDLE_BATCH, count - len(socks) - errors))
        socks += s
        errors += e
        time.sleep(pace_ms / 1000.0)
    return socks, errors


def idle_phase(b, names, count, frontend, pace_ms=0):
    """Fresh proxies; RSS delta per idle connection (KiB) after one request on each."""
    out = {}
    for n, path in names:
        px = b.start_proxy(n, path)
        try:
            warm, _ = open_idle(px[frontend], 20)
            for s in warm:
                s.close()
            time.sleep(0.5)
            before = rss_kib(px["proc"].pid)
            socks, errors = open_paced(px[frontend], count, pace_ms)
            time.sleep(1.0)
            after = rss_kib(px["proc"].pid)
            out[n] = {"kib": (after - before) / max(len(socks), 1), "errors": errors, "held": len(socks)}
            log("idle %-4s %-6s %d conns: RSS %d -> %d KiB, %.2f KiB/conn, errors %d"
                % (frontend, n, len(socks), before, after, out[n]["kib"], errors))
            for s in socks:
                s.close()
        finally:
            b.stop_proxy(px)
    return out


def many_phase(b, names, count):
    """count concurrent client connections held, then every one served again."""
    out = {}
    for n, path in names:
        px = b.start_proxy(n, path)
        try:
            t0 = time.time()
            socks, err1 = open_idle(px["sc"], count)
            err2 = serve_all(socks)
            out[n] = {"held": len(socks), "errors": err1 + err2, "secs": time.time() - t0}
            log("many %-6s %d held, %d errors, %.1fs" % (n, len(socks), err1 + err2, out[n]["secs"]))
            for s in socks:
                s.close()
        finally:
            b.stop_proxy(px)
    return out


def med(rs, k):
    return statistics.median(r[k] for r in rs)


def table(results, idle_ka, idle_tcp, many):
    lines = [
        "| scenario | metric | haproxy-rs | HAProxy 2.6 | ratio rs / HAProxy (median of rounds) |",
        "|---|---|---|---|---|",
    ]
    for key, title, _fe, _path, _c in SCENARIOS:
        if (key, "rs") not in results:
            continue
        a, h = results[(key, "rs")], results[(key, "haproxy")]
        metrics = [("req/s", "rps", "%.0f"), ("p50 ms", "p50", "%.3f"), ("p99 ms", "p99", "%.3f"),
                   ("CPU µs/req", "cpu_us", "%.1f"), ("of which user µs", "user_us", "%.1f"),
                   ("of which sys µs", "sys_us", "%.1f")]
        for label, k, fmt in metrics:
            va, vh = med(a, k), med(h, k)
            # The two runs of a round are adjacent in time: their ratio is steadier on a shared
            # machine than the ratio of the medians.
            ratio = statistics.median(x[k] / y[k] if y[k] else float("nan") for x, y in zip(a, h))
            lines.append("| %s | %s | %s | %s | %.2f |" % (title, label, fmt % va, fmt % vh, ratio))
        steal = max(r["steal_pct"] for r in a + h)
        lines.append("| %s | most steal in a kept run | %.1f %% | | |" % (title, steal))
        ea, eh = sum(r["errors"] for r in a), sum(r["errors"] for r in h)
        if ea or eh:
            lines.append("| %s | errors | %d | %d | |" % (title, ea, eh))
    for title, d in (("idle keep-alive client connection", idle_ka), ("idle TCP client+server pair", idle_tcp)):
        if d:
            va, vh = d["rs"]["kib"], d["haproxy"]["kib"]
            lines.append("| %s (%d held) | KiB each | %.2f | %.2f | %.2f |"
                         % (title, d["rs"]["held"], va, vh, va / vh if vh else float("nan")))
    if many:
        lines.append("| concurrent clients held, each served twice (http-server-close) | held / errors | %d / %d | %d / %d | |"
                     % (many["rs"]["held"], many["rs"]["errors"],
                        many["haproxy"]["held"], many["haproxy"]["errors"]))
    return "\n".join(lines)


def builds(results, names):
    """Medians per build (every run of the load scenarios), for --also comparisons."""
    cols = [("req/s", "rps", "%.0f"), ("p50 ms", "p50", "%.3f"), ("CPU µs/req", "cpu_us", "%.1f"),
            ("user µs", "user_us", "%.1f"), ("sys µs", "sys_us", "%.1f")]
    lines = ["", "| scenario | build | " + " | ".join(c[0] for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for key, title, _fe, _path, _c in SCENARIOS:
        for n in names:
            rs = results.get((key, n))
            if rs:
                lines.append("| %s | %s | %s |" % (title, n, " | ".join(f % med(rs, k) for _l, k, f in cols)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True, help="our release binary")
    ap.add_argument("--haproxy", default="/usr/sbin/haproxy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-steal", type=float, default=5.0,
                    help="percent of the machine's time taken by the hypervisor (steal, "
                    "/proc/stat) above which a load run is run again")
    ap.add_argument("--steal-retries", type=int, default=3,
                    help="how many times a run with too much steal is run again (the last is kept)")
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--nbthread", type=int, default=1)
    ap.add_argument("--proxy-cpus", default="0", help="taskset CPU list for the proxies ('' = no pinning)")
    ap.add_argument("--load-cpus", default="1", help="taskset CPU list for wrk and nginx ('' = no pinning)")
    ap.add_argument("--idle", type=int, default=2000, help="idle connections for the memory figures")
    ap.add_argument("--many", type=int, default=10000, help="concurrent clients held (0 = skip)")
    ap.add_argument("--idle-pace", type=int, default=0, metavar="MS",
                    help="open the idle connections %d at a time with MS ms between batches "
                         "(default 0: all at once)" % IDLE_BATCH)
    ap.add_argument("--only", default="", help="comma list of scenarios: ka,sc,tcp,big,lat,idle,many")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=BINARY",
                    help="another build of ours run in the same rounds (load scenarios only), "
                         "e.g. --also old=/tmp/haproxy-before; its medians follow the table")
    args = ap.parse_args()
    names = [("rs", os.path.abspath(args.ours)), ("haproxy", args.haproxy)]
    extras = [tuple(a.split("=", 1)) for a in args.also]
    extras = [(n, os.path.abspath(p)) for n, p in extras]
    # A run stopped by SIGTERM or SIGHUP (`timeout`, a closed terminal) unwinds like Ctrl-C, so
    # the `finally` below still stops the processes and removes the temporary directory.
    def stopped(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stopped)
    b = None
    want = lambda k: not args.only or k in args.only.split(",")
    try:
        b = Bench(args)
        b.start_nginx()
        results = load_phase(b, names + extras)
        idle_ka = idle_phase(b, names, args.idle, "ka", args.idle_pace) if want("idle") else {}
        idle_tcp = idle_phase(b, names, args.idle, "tcp", args.idle_pace) if want("idle") else {}
        many = many_phase(b, names, args.many) if args.many and want("many") else {}
        print(table(results, idle_ka, idle_tcp, many))
        if extras:
            print(builds(results, [n for n, _ in names + extras]))
    finally:
        if b is not None:
            b.cleanup()


if __name__ == "__main__":
    main()
