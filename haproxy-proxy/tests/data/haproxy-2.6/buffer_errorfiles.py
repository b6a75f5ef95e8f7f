#!/usr/bin/env python3
"""Records which errorfile HAProxy 2.6 sends for the 408 (body not complete within
`timeout http-request`) and the 400 (bad chunk) of `option http-buffer-request`, when the
frontend buffers (before a backend is chosen) and when the chosen backend does (with its own
errorfiles, and without).

Run: python3 buffer_errorfiles.py > buffer-errorfiles.txt (needs /usr/sbin/haproxy; loopback).
Each errorfile's body names its set and code (`FE408`, `BE400`...); the output lists, per case,
the status line and body HAProxy sent. `tests/it/buffer_errorfiles.rs` builds the same
configuration (CONFIG below) and compares.
"""
import os, socket, subprocess, tempfile, threading, time

CODES = {400: "Bad Request", 408: "Request Time-out"}
# {DIR}, {PORT}, {PORT2}, {SERVER} are filled in; the same text is in tests/it/buffer_errorfiles.rs.
CONFIG = """defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 5s
    timeout http-request 300ms
frontend fe
    bind 127.0.0.1:{PORT}
    errorfile 400 {DIR}/FE400.http
    errorfile 408 {DIR}/FE408.http
    use_backend be if { path_beg /be }
    default_backend plain
frontend febuf
    bind 127.0.0.1:{PORT2}
    option http-buffer-request
    errorfile 400 {DIR}/FEBUF400.http
    errorfile 408 {DIR}/FEBUF408.http
    default_backend be
backend be
    option http-buffer-request
    errorfile 400 {DIR}/BE400.http
    errorfile 408 {DIR}/BE408.http
    server s1 {SERVER}
backend plain
    option http-buffer-request
    server s1 {SERVER}
"""
# (name, port key, head, later body part)
CASES = [
    ("be-timeout", "PORT", "POST /be HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", ""),
    ("be-bad-chunk", "PORT", "POST /be HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\nzz\r\n"),
    ("plain-timeout", "PORT", "POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", ""),
    ("plain-bad-chunk", "PORT", "POST /plain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\nzz\r\n"),
    ("febuf-timeout", "PORT2", "POST /be HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", ""),
    ("febuf-bad-chunk", "PORT2", "POST /be HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\nzz\r\n"),
]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def origin():
    """Answers 200 to anything (no case should reach it)."""
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
    def run():
        while True:
            try: c, _ = srv.accept()
            except OSError: return
            try: c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\norigin")
            except OSError: pass
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]

def main():
    d = tempfile.mkdtemp()
    for name in ["FE400", "FE408", "FEBUF400", "FEBUF408", "BE400", "BE408"]:
        code = int(name[-3:])
        body = name + "\n"
        with open(f"{d}/{name}.http", "w") as f:
            f.write(f"HTTP/1.1 {code} {CODES[code]}\r\ncontent-type: text/plain\r\ncontent-length: {len(body)}\r\n\r\n{body}")
    ports = {"PORT": free_port(), "PORT2": free_port()}
    cfg = CONFIG.replace("{DIR}", d).replace("{SERVER}", f"127.0.0.1:{origin()}")
    for k, v in ports.items(): cfg = cfg.replace("{" + k + "}", str(v))
    with open(f"{d}/t.cfg", "w") as f: f.write(cfg)
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", f"{d}/t.cfg"], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        for name, port, head, later in CASES:
            s = socket.create_connection(("127.0.0.1", ports[port]))
            s.sendall(head.encode())
            if later:
                time.sleep(0.1)
                s.sendall(later.encode())
            s.settimeout(5); data = b""
            while True:
                try: x = s.recv(4096)
                except OSError: break
                if not x: break
                data += x
            head_, _, body = data.partition(b"\r\n\r\n")
            status = head_.split(b"\r\n")[0].decode()
            print(f"{name} {status} | {body.decode().strip()}")
    finally:
        p.kill(); p.wait()

main()
