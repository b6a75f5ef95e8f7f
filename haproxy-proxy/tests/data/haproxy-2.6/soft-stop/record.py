#!/usr/bin/env python3
"""Records what HAProxy 2.6 does on a soft stop (SIGUSR1), with and without `hard-stop-after`.

Run: python3 record.py > soft-stop.txt (needs /usr/sbin/haproxy; loopback only, ephemeral ports).
Each scenario opens: an idle keep-alive client (one request answered), a connected client that
sent nothing yet, and a client whose request waits on a slow server (answers after SLOW s, or
never). Then SIGUSR1, and it prints what every client sees and when, and when the process exits.
"""
import os, socket, subprocess, sys, tempfile, threading, time

SLOW = 1.0

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def slow_server(answer):
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0)); srv.listen(16)
    def run():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            def one(c=c):
                c.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    d = c.recv(4096)
                    if not d:
                        return
                    data += d
                if b"/slow" in data:
                    if not answer:
                        time.sleep(10); c.close(); return
                    time.sleep(SLOW)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(10)
                c.close()
            threading.Thread(target=one, daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]

def read_until_close(s, t0, label, out):
    s.settimeout(15)
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except ConnectionResetError:
        out.append((time.time() - t0, label, "reset after %r" % data)); return
    except socket.timeout:
        out.append((time.time() - t0, label, "still open after 15s, got %r" % data)); return
    out.append((time.time() - t0, label, "closed after %r" % data))

def scenario(name, global_extra, answer=True, fe_extra=""):
    port, sport = free_port(), slow_server(answer)
    cfg = f"""global
    {global_extra}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:{port}
    {fe_extra}
    default_backend be
backend be
    server s1 127.0.0.1:{sport}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg); path = f.name
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", path], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    first = idle.recv(4096)
    fresh = socket.create_connection(("127.0.0.1", port))
    busy = socket.create_connection(("127.0.0.1", port))
    busy.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    t0 = time.time()
    p.send_signal(15 if False else 10)
    out = []
    ts = [threading.Thread(target=read_until_close, args=(s, t0, l, out))
          for s, l in ((idle, "idle keep-alive client"), (fresh, "client that sent nothing"), (busy, "in-flight request"))]
    for t in ts: t.start()
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()
    exited = time.time() - t0
    for t in ts: t.join()
    err = p.stderr.read().decode(errors="replace")
    print(f"== {name}")
    print("global:", global_extra or "(none)", "| frontend:", fe_extra or "(none)", "| slow server answers:", answer)
    print("first response on the idle client:", first.split(b"\r\n")[0].decode())
    for t, l, what in sorted(out):
        print(f"  +{t:4.1f}s {l}: {what}")
    print(f"  +{exited:4.1f}s process exited, rc {p.returncode}")
    for line in err.splitlines():
        if "Proxy" in line or "stop" in line or "hard" in line:
            print("  stderr:", line.split("] ", 1)[-1] if line.startswith("[") else line)
    os.unlink(path)

scenario("soft stop", "")
scenario("soft stop, option idle-close-on-response", "", fe_extra="option idle-close-on-response")
scenario("soft stop, server never answers, hard-stop-after 2s", "hard-stop-after 2s", answer=False)
scenario("soft stop, grace 1s", "grace 1s")
scenario("soft stop, close-spread-time 2s", "close-spread-time 2s")
scenario("soft stop, close-spread-time infinite", "close-spread-time infinite")
