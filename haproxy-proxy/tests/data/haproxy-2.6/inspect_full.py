#!/usr/bin/env python3
"""Measures when HAProxy 2.6 stops waiting in `tcp-request inspect-delay` because the request
buffer is full: for N bytes sent (and nothing else), how long until the connection is closed by
`tcp-request content reject unless { req.len ge 20000 }` with a 2 s delay. Loopback only; the
haproxy process started here is killed by its pid at the end."""
import os, socket, subprocess, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port = free_port()
cfg = f"""defaults
 mode tcp
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind 127.0.0.1:{port}
 tcp-request inspect-delay 2s
 tcp-request content reject unless {{ req.len ge 20000 }}
 default_backend be
backend be
 server s 127.0.0.1:1
"""
with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
    f.write(cfg)
proc = subprocess.Popen(["haproxy", "-db", "-f", f.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError:
            time.sleep(0.05)
    for n in (15359, 15360, 16383, 16384):
        c = socket.create_connection(("127.0.0.1", port)); c.settimeout(5)
        t = time.time()
        c.sendall(b"x" * n)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
        waited = time.time() - t
        print(f"{n} bytes: {'waits for the delay' if waited > 1.5 else 'decided at once'}")
finally:
    proc.kill(); proc.wait(); os.unlink(f.name)
