#!/usr/bin/env python3
"""Records what HAProxy 2.6 does with the settings of an HTTP backend reached from a TCP frontend
(the configuration of `a_tcp_frontend_upgraded_to_an_http_backend_honours_its_settings` in
tests/it/routing.rs, on free loopback ports). Prints the `haproxy -c` warnings (pid dropped),
then one line per request: the status code, and for a POST whose 5-byte body follows its head
after 300 ms, whether the origin saw the request before the body (`early`) or not (`buffered`);
for a TCP frontend with `option forwardfor`, `option originalto` and a stats page leading to a
plain HTTP backend, the status and body of `GET /st` and the header names the origin saw.
The haproxy process started here is killed by its pid."""
import os, re, socket, subprocess, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

heads = []
seen = []
def origin(listener):
    while True:
        c, _ = listener.accept()
        got = b""
        while b"\r\n\r\n" not in got:
            got += c.recv(4096)
        heads.append(time.monotonic())
        head, body = got.split(b"\r\n\r\n", 1)
        seen.append(head)
        m = re.search(rb"content-length: *(\d+)", head, re.I)
        while m and len(body) < int(m.group(1)):
            body += c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        c.close()

srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
threading.Thread(target=origin, args=(srv,), daemon=True).start()
server = "127.0.0.1:%d" % srv.getsockname()[1]
to_be, to_plain, to_ff = free_port(), free_port(), free_port()
cfg = f"""defaults
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend tcp_be
 mode tcp
 bind 127.0.0.1:{to_be}
 default_backend be
frontend tcp_fe
 mode tcp
 bind 127.0.0.1:{to_plain}
 option http-buffer-request
 default_backend plain
frontend tcp_ff
 mode tcp
 bind 127.0.0.1:{to_ff}
 option forwardfor
 option originalto
 stats enable
 stats uri /st
 default_backend plain
backend plain
 mode http
 server s {server}
backend be
 mode http
 option http-buffer-request
 stats enable
 stats uri /st
 http-request deny deny_status 429 if {{ path /deny }}
 server s {server}
"""

def response(port, path):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
    out = b""
    while chunk := c.recv(65536):
        out += chunk
    return out

def status(port, path):
    return response(port, path)[9:12].decode()

def body_late(port):
    before = len(heads)
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\n")
    time.sleep(0.3)
    early = len(heads) > before
    c.sendall(b"hello")
    out = b""
    while chunk := c.recv(65536):
        out += chunk
    return out[9:12].decode() + (" early" if early else " buffered")

with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
    f.write(cfg)
check = subprocess.run(["haproxy", "-c", "-f", f.name], capture_output=True, text=True)
for line in check.stderr.splitlines():
    if "[WARNING]" in line:
        print(re.sub(r"\(\d+\)", "", line).replace(f.name, "upgrade.cfg"))
proc = subprocess.Popen(["haproxy", "-db", "-f", f.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    time.sleep(0.7)
    print("tcp_be GET /st", status(to_be, "/st"))
    print("tcp_be GET /deny", status(to_be, "/deny"))
    print("tcp_be POST /x", body_late(to_be))
    print("tcp_fe POST /x", body_late(to_plain))
    out = response(to_ff, "/st")
    print("tcp_ff GET /st", out[9:12].decode(), out.split(b"\r\n\r\n", 1)[1].decode())
    names = [l.split(b":")[0].decode() for l in seen[-1].split(b"\r\n")[1:]]
    print("tcp_ff origin saw:", " ".join(names))
finally:
    proc.kill(); proc.wait(); os.unlink(f.name)
