#!/usr/bin/env python3
"""Records which errorfile HAProxy 2.6 sends for each generated response of a frontend+backend
pair: a deny in the frontend, a deny in the backend, a 502 (bad server response), a 504 (server
timeout), a 503 (backend without servers), in a backend with its own errorfiles and in one that
has only the defaults' errorfile 502.

Run: python3 errorfile_sets.py > errorfile-sets.txt (needs /usr/sbin/haproxy; loopback only).
Each errorfile's body names its set and code (`FE403`, `BE502`, `DEF502`...); the output lists,
per request path, the status line and the body HAProxy sent. `tests/it/errorfile_sets.rs`
builds the same configuration (CONFIG below, with its own files) and compares.
"""
import os, socket, subprocess, sys, tempfile, threading, time

CODES = {403: "Forbidden", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}
# {DIR}, {PORT}, {SERVER} are filled in; the same text is in tests/it/errorfile_sets.rs.
CONFIG = """defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 1s
    errorfile 502 {DIR}/DEF502.http
frontend fe
    bind 127.0.0.1:{PORT}
    errorfile 403 {DIR}/FE403.http
    errorfile 502 {DIR}/FE502.http
    errorfile 503 {DIR}/FE503.http
    errorfile 504 {DIR}/FE504.http
    http-request deny if { path_beg /fdeny }
    use_backend plain if { path_beg /plain }
    use_backend empty if { path_beg /empty }
    use_backend be if { path_beg /be }
backend be
    errorfile 403 {DIR}/BE403.http
    errorfile 502 {DIR}/BE502.http
    errorfile 503 {DIR}/BE503.http
    errorfile 504 {DIR}/BE504.http
    http-request deny if { path_beg /be/deny }
    server s1 {SERVER}
backend plain
    http-request deny if { path_beg /plain/deny }
    server s1 {SERVER}
backend empty
    errorfile 503 {DIR}/EMPTY503.http
"""
PATHS = ["/fdeny", "/none", "/be/deny", "/be/bad", "/be/wait", "/plain/deny", "/plain/bad",
         "/plain/wait", "/empty"]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def origin():
    """`/…/bad`: an invalid response; `/…/wait`: no answer; else 200."""
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
    def run():
        while True:
            try: c, _ = srv.accept()
            except OSError: return
            def one(c=c):
                data = b""
                c.settimeout(10)
                try:
                    while b"\r\n\r\n" not in data:
                        d = c.recv(4096)
                        if not d: return
                        data += d
                    if b"/bad" in data: c.sendall(b"garbage\r\n\r\n")
                    elif b"/wait" in data: time.sleep(3)
                    else: c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError: pass
                c.close()
            threading.Thread(target=one, daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]

def main():
    d = tempfile.mkdtemp()
    for name in ["DEF502", "FE403", "FE502", "FE503", "FE504", "BE403", "BE502", "BE503", "BE504", "EMPTY503"]:
        code = int(name[-3:])
        body = name + "\n"
        with open(f"{d}/{name}.http", "w") as f:
            f.write(f"HTTP/1.1 {code} {CODES[code]}\r\ncontent-type: text/plain\r\ncontent-length: {len(body)}\r\n\r\n{body}")
    port = free_port()
    cfg = CONFIG.replace("{DIR}", d).replace("{PORT}", str(port)).replace("{SERVER}", f"127.0.0.1:{origin()}")
    with open(f"{d}/t.cfg", "w") as f: f.write(cfg)
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", f"{d}/t.cfg"], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        for path in PATHS:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            s.settimeout(5); data = b""
            while True:
                x = s.recv(4096)
                if not x: break
                data += x
            head, _, body = data.partition(b"\r\n\r\n")
            status = head.split(b"\r\n")[0].decode()
            print(f"{path} {status} | {body.decode().strip()}")
    finally:
        p.kill(); p.wait()

main()
