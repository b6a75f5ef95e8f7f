#!/usr/bin/env python3
"""Record real HAProxy 2.6 check columns over a scripted sequence of server failures.

Starts loopback peers whose behaviour this script controls, runs /usr/sbin/haproxy -db with a
stats socket, switches the peers' modes phase by phase, polls `show stat` every 20 ms and writes
the de-duplicated sequence of (status, check_status, check_code, check_desc, check_health) per
server to differential.txt. Usage: python3 record.py [out-file]
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

PHASE_SECONDS = 2.6
# Modes per server, one tuple per phase: (s_http, s_tcp, s_redis).
PHASES = [
    ("ok", "ok", "ok"),
    ("bad", "refused", "bad"),
    ("silent", "ok", "silent"),
    ("ok", "refused", "ok"),
    ("notfound", "ok", "ok"),
    ("ok", "ok", "ok"),
]


class Peer:
    """A loopback server; `kind` is http or redis or tcp, `mode` changes its behaviour."""

    def __init__(self, kind):
        self.kind = kind
        self.mode = "ok"
        self.sock = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listen()

    def listen(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.sock = s
        threading.Thread(target=self.accept_loop, args=(s,), daemon=True).start()

    def set_mode(self, mode):
        if mode == "refused" and self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None
        elif mode != "refused" and self.sock is None:
            self.listen()
        self.mode = mode

    def accept_loop(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        mode = self.mode
        try:
            c.settimeout(2)
            if self.kind != "tcp":
                c.recv(4096)
            if mode == "silent":
                time.sleep(1.5)
            elif self.kind == "http":
                status = {"ok": "200 OK", "bad": "503 Service Unavailable", "notfound": "404 Not Found"}[mode]
                c.sendall(f"HTTP/1.0 {status}\r\ncontent-length: 0\r\n\r\n".encode())
            elif self.kind == "redis":
                c.sendall(b"+PONG\r\n" if mode == "ok" else b"-ERR not ready\r\n")
        except OSError:
            pass
        finally:
            c.close()


def show_stat(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "differential.txt")
    peers = {"be_http/s_http": Peer("http"), "be_tcp/s_tcp": Peer("tcp"), "be_redis/s_redis": Peer("redis")}
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "stats.sock")
    cfg = os.path.join(tmp, "haproxy.cfg")
    srv = "check inter 400 fastinter 400 downinter 400 rise 2 fall 3"
    with open(cfg, "w") as f:
        f.write(f"""global
    stats socket {sock} level admin
    log stdout format raw local0
defaults
    log global
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 200ms
backend be_http
    option httpchk GET /health
    http-check disable-on-404
    server s_http 127.0.0.1:{peers['be_http/s_http'].port} {srv}
backend be_tcp
    mode tcp
    server s_tcp 127.0.0.1:{peers['be_tcp/s_tcp'].port} {srv}
backend be_redis
    mode tcp
    option redis-check
    server s_redis 127.0.0.1:{peers['be_redis/s_redis'].port} {srv}
""")
    log_path = os.path.join(tmp, "log.txt")
    log_file = open(log_path, "w")
    proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=log_file, stderr=subprocess.DEVNULL)
    rows = {name: [] for name in peers}
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.005)
        header = None
        for phase, modes in enumerate(PHASES):
            for (name, peer), mode in zip(peers.items(), modes):
                peer.set_mode(mode)
            end = time.time() + PHASE_SECONDS
            while time.time() < end:
                text = show_stat(sock)
                lines = text.splitlines()
                if header is None:
                    header = lines[0][2:].split(",")
                col = {n: i for i, n in enumerate(header)}
                for line in lines[1:]:
                    f = line.split(",")
                    if len(f) < len(header):
                        continue
                    name = f"{f[col['pxname']]}/{f[col['svname']]}"
                    if name not in rows:
                        continue
                    st = f[col["check_status"]]
                    if st.startswith("* "):
                        # A check is running: HAProxy shows code 0 meanwhile; keep finished states only.
                        continue
                    row = (f[col["status"]], st, f[col["check_code"]], f[col["check_desc"]], f[col["check_health"]], f[col["last_chk"]])
                    if not rows[name] or rows[name][-1][1] != row:  # de-duplicate
                        rows[name].append((phase, row))
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait()
        log_file.close()
    # State-change log lines (health checks), in order; proxy start/stop lines are left out.
    with open(log_path) as src, open(os.path.join(os.path.dirname(out), "state-log.txt"), "w") as dst:
        for line in src:
            if line.startswith(("Server ", "backend ", "Health check ")):
                dst.write(line)
    with open(out, "w") as f:
        f.write("# phase modes: " + " | ".join(",".join(m) for m in PHASES) + "\n")
        f.write("# server|phase|status|check_status|check_code|check_desc|check_health|last_chk\n")
        for name, seq in rows.items():
            for phase, row in seq:
                f.write("|".join([name, str(phase), *row]) + "\n")


if __name__ == "__main__":
    main()
