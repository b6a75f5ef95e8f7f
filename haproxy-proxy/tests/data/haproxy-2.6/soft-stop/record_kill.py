#!/usr/bin/env python3
"""Records what HAProxy 2.6 does to streams it kills, by phase: `hard-stop-after` (after SIGUSR1)
and the runtime API's `shutdown session <id>`.

Run: python3 record_kill.py > kill.txt (needs /usr/sbin/haproxy; loopback only, ephemeral ports).
Streams, one client each: a request waiting for its response head (the server never answers), a
request whose body is in flight (Content-Length or chunked, the server reads and waits), a
response already begun (head and 3 of 100 body bytes), a request holding the only slot of a
`maxconn 1` server and one queued behind it. Prints what each client receives (closed or still
open 3 s later) and the timers (TR/Tw/Tc/Tr/Ta, the last masked), status, byte count and
termination state of HAProxy's log line.
"""
import os, socket, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def origin():
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0)); srv.listen(64)
    def run():
        while True:
            try: c, _ = srv.accept()
            except OSError: return
            def one(c=c):
                c.settimeout(20); data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        d = c.recv(4096)
                        if not d: return
                        data += d
                    if b"/started" in data:
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
                    while c.recv(4096): pass
                except OSError: pass
                c.close()
            threading.Thread(target=one, daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]

def reader(s, label, out):
    s.settimeout(3); data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d: break
            data += d
    except ConnectionResetError:
        out[label] = "reset after %r" % data; return
    except socket.timeout:
        out[label] = "still open, got %r" % data; return
    out[label] = "closed after %r" % data

def cli(path, cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(cmd.encode() + b"\n"); data = b""
    s.settimeout(3)
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    s.close(); return data.decode()

CLIENTS = [
    ("waiting for its response", "/wait", b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("request body in flight", "/body", b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"),
    ("chunked body in flight", "/body", b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
    ("response begun", "/started", b"GET /started HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("holding the server slot", "/q/wait", b"GET /q/wait HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("queued", "/q/second", b"GET /q/second HTTP/1.1\r\nHost: x\r\n\r\n"),
]

def scenario(how):
    port, sport = free_port(), origin()
    sock = tempfile.mktemp(suffix=".sock")
    cfg = f"""global
    {'hard-stop-after 1s' if how == 'hard' else ''}
    stats socket {sock} level admin
defaults
    mode http
    log stdout format raw local0
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    log global
    use_backend q if {{ path_beg /q }}
    default_backend be
backend be
    server s1 127.0.0.1:{sport}
backend q
    server s1 127.0.0.1:{sport} maxconn 1
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg); path = f.name
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    socks, ports = [], {}
    for label, _, data in CLIENTS:
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(data); socks.append((label, s))
        ports[label] = s.getsockname()[1]
        time.sleep(0.1)
    time.sleep(0.3)
    out = {}
    ts = [threading.Thread(target=reader, args=(s, l, out)) for l, s in socks]
    for t in ts: t.start()
    if how == "hard":
        p.send_signal(10)
    else:
        # The queued stream first, so that no slot frees before its own kill.
        lines = [l for l in cli(sock, "show sess").splitlines() if " fe=fe " in l]
        lines.sort(key=lambda l: " be=q srv=<none>" not in l)
        for line in lines:
            cli(sock, "shutdown session " + line.split(":")[0])
    for t in ts: t.join()
    p.send_signal(15)
    try: p.wait(timeout=5)
    except subprocess.TimeoutExpired: p.kill(); p.wait()
    log = p.stdout.read().decode().splitlines()
    print("==", "hard-stop-after 1s after SIGUSR1" if how == "hard" else "shutdown session <id>")
    for label, uri, _ in CLIENTS:
        print(f"  {label}: {out[label]}")
        for l in log:
            w = l.split()
            if len(w) > 12 and w[0].endswith(f":{ports[label]}"):
                # timers, status, bytes read, termination state
                print(f"    log: timers {w[4].rsplit('/', 1)[0]}/* status {w[5]} bytes {w[6]} state {w[9]}")
    os.unlink(path)

scenario("hard")
scenario("sess")
