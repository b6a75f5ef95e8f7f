#!/usr/bin/env python3
"""Record `option log-health-checks` lines from HAProxy 2.6: a plain connect check whose server
listens for 1.5 s, is refused for 2 s, then listens again. Writes health-log.txt."""
import os, socket, subprocess, tempfile, time

tmp = tempfile.mkdtemp()
probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()


def listen():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(64)
    return s


cfg = os.path.join(tmp, "h.cfg")
with open(cfg, "w") as f:
    f.write(f"""global
    stats socket {os.path.join(tmp, 's.sock')}
    log stdout format raw local0
defaults
    log global
    mode tcp
    option log-health-checks
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend be
    server s 127.0.0.1:{port} check inter 300 rise 2 fall 3
""")
log_path = os.path.join(tmp, "log.txt")
log = open(log_path, "w")
srv = listen()
proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=log, stderr=subprocess.DEVNULL)
try:
    time.sleep(1.5)
    srv.close()
    time.sleep(2.0)
    srv = listen()
    time.sleep(1.5)
finally:
    proc.terminate(); proc.wait(); log.close(); srv.close()
with open(log_path) as src, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "health-log.txt"), "w") as dst:
    for line in src:
        if line.startswith(("Health check ", "Server ", "backend ")):
            dst.write(line)
