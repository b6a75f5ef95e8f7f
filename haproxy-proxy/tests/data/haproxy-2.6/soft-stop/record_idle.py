#!/usr/bin/env python3
"""Records what a soft stop (SIGUSR1) does on HAProxy 2.6 to connections waiting for a request:
an idle keep-alive client (one request answered, then parked), a client that sent nothing, and
a client that sent part of a request head; with and without `timeout client` (no `timeout
http-keep-alive`, no `timeout http-request`), with and without `close-spread-time 2s`.

Run: python3 record_idle.py > idle.txt (needs /usr/sbin/haproxy; loopback only, ephemeral ports).
Prints, per client, what it received and when (or that it was still open 4 s after the signal).
"""
import os, socket, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def origin():
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
    def run():
        while True:
            try: c, _ = srv.accept()
            except OSError: return
            def one(c=c):
                c.settimeout(20); data = b""
                try:
                    while True:
                        d = c.recv(4096)
                        if not d: return
                        data += d
                        while b"\r\n\r\n" in data:
                            _, data = data.split(b"\r\n\r\n", 1)
                            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError: pass
            threading.Thread(target=one, daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]

def reader(s, t0, label, out):
    s.settimeout(4); data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            data += d
    except socket.timeout:
        out.append((9, label, "still open 4 s after the signal, got %r" % data)); return
    except ConnectionResetError:
        out.append((time.time() - t0, label, "reset after %r" % data)); return
    out.append((time.time() - t0, label, "closed after %r" % data))

def scenario(client_timeout, spread):
    port, sport = free_port(), origin()
    cfg = f"""global
    {'close-spread-time 2s' if spread else ''}
defaults
    mode http
    timeout connect 5s
    timeout server 30s
    {'timeout client 30s' if client_timeout else ''}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{sport}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg); path = f.name
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    first = idle.recv(4096)
    fresh = socket.create_connection(("127.0.0.1", port))
    partial = socket.create_connection(("127.0.0.1", port))
    partial.sendall(b"GET /a HTTP/1.1\r\nHo")
    time.sleep(1)
    t0 = time.time(); out = []
    p.send_signal(10)
    ts = [threading.Thread(target=reader, args=(s, t0, l, out)) for l, s in
          (("idle keep-alive client", idle), ("client that sent nothing", fresh), ("partial request head", partial))]
    for t in ts: t.start()
    for t in ts: t.join()
    p.kill(); p.wait(); os.unlink(path)
    print(f"== timeout client: {'30s' if client_timeout else 'none'}; close-spread-time: {'2s' if spread else 'none'}")
    print("first response on the idle client:", first.split(b"\r\n")[0].decode())
    for t, l, what in sorted(out):
        print(f"  {'' if t == 9 else '+%3.1fs ' % t}{l}: {what}")

scenario(False, False)
scenario(False, True)
scenario(True, True)
