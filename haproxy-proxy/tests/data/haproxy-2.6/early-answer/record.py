#!/usr/bin/env python3
"""Observes how HAProxy 2.6 handles a server's final answer before the whole request body.

A test server answers a POST right after its head (413, or 417 to `Expect: 100-continue`) and
then (close) closes at once, (linger) shuts its write side and reads until EOF, or (keep/keep417)
keeps its connection and reads what follows. A client sends the head, the rest of the body in
parts, then `GET /next`. Printed per case: what the client received (seconds since connect),
what the server saw, and HAProxy's log lines. Loopback only; each HAProxy runs on a random high
port and is terminated by this script.

Usage: python3 record.py > observed.txt   (needs /usr/sbin/haproxy)
"""
import os, random, socket, subprocess, sys, tempfile, threading, time

CFG = os.path.join(tempfile.gettempdir(), "early-answer-%d.cfg" % os.getpid())
# server modes: close (answer then close at once), linger (answer, shutdown wr, read until eof),
# keep (answer w/o close, then read and log everything that arrives)
def server(l, mode, log):
    while True:
        try: c, _ = l.accept()
        except OSError: return
        threading.Thread(target=serve, args=(c, mode, log), daemon=True).start()
def serve(c, mode, log):
    buf = b""; cid = random.randint(0, 999)
    c.settimeout(5)
    while True:
        while b"\r\n\r\n" not in buf:
            try: d = c.recv(65536)
            except Exception as e: log.append((cid, "srv err %r" % e)); return
            if not d: log.append((cid, "srv eof")); return
            buf += d
        i = buf.index(b"\r\n\r\n") + 4
        head, buf = buf[:i], buf[i:]
        log.append((cid, "srv head %r" % head.split(b"\r\n")[0]))
        if head.startswith(b"GET"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); continue
        if mode == "close":
            c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig\n")
            log.append((cid, "srv close (had %d body bytes)" % len(buf)))
            c.close(); return
        if mode == "linger":
            c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig\n")
            c.shutdown(socket.SHUT_WR)
            n = len(buf)
            while True:
                try: d = c.recv(65536)
                except Exception as e: log.append((cid, "srv linger err %r after %d" % (e, n))); return
                if not d: break
                n += len(d)
            log.append((cid, "srv linger eof after %d bytes" % n)); c.close(); return
        if mode in ("keep", "keep417"):
            if mode == "keep": c.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig\n")
            else: c.sendall(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
            n = len(buf); got = buf; buf = b""
            c.settimeout(1.5)
            while True:
                try: d = c.recv(65536)
                except socket.timeout: break
                except Exception as e: log.append((cid, "srv keep err %r" % e)); return
                if not d: log.append((cid, "srv keep eof after %d bytes: %r" % (n, got[-60:]))); return
                n += len(d); got += d
            log.append((cid, "srv keep idle after %d bytes, tail %r" % (n, got[-60:])))
            c.settimeout(5)
            # whatever arrived might include a next request
            idx = got.find(b"GET ")
            if idx >= 0:
                buf = got[idx:]; continue
            # wait for more
            continue

def run(mode, parts, cfgextra="", pause=0.3, label=""):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 0)); l.listen(16)
    sport = l.getsockname()[1]
    log = []
    threading.Thread(target=server, args=(l, mode, log), daemon=True).start()
    probe = socket.socket(); probe.bind(("127.0.0.1", 0)); pport = probe.getsockname()[1]; probe.close()
    cfg = f"""global
  log stderr format short local0 info
defaults
  mode http
  log global
  option httplog
  timeout client 3s
  timeout connect 1s
  timeout server 3s
  timeout http-request 2s
  timeout http-keep-alive 1s
{cfgextra}
frontend fe
  bind 127.0.0.1:{pport}
  default_backend be
backend be
  server s1 127.0.0.1:{sport}
"""
    open(CFG, "w").write(cfg)
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", CFG], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    c = None
    for _ in range(50):  # up to 5 s for HAProxy to listen
        time.sleep(0.1)
        try:
            c = socket.create_connection(("127.0.0.1", pport))
            break
        except ConnectionRefusedError:
            pass
    if c is None:
        p.terminate(); p.communicate(); l.close()
        print("=====", label or mode, "\n  haproxy did not listen")
        return
    got = []
    def reader():
        c.settimeout(6)
        t0 = time.time()
        while True:
            try: d = c.recv(65536)
            except Exception as e: got.append(("%.2f" % (time.time()-t0), "ERR %r" % e)); return
            if not d: got.append(("%.2f" % (time.time()-t0), "EOF")); return
            got.append(("%.2f" % (time.time()-t0), d))
    t = threading.Thread(target=reader); t.start()
    sent = 0
    for i, part in enumerate(parts):
        if i: time.sleep(pause)
        try: c.sendall(part); sent += len(part)
        except Exception as e: got.append(("send", "SEND ERR %r at part %d" % (e, i))); break
    t.join(8)
    c.close()
    time.sleep(0.2)
    p.terminate(); out = p.communicate()[0].decode(errors="replace")
    l.close()
    print("=====", label or mode)
    for g in got: print("  client", g)
    for g in log: print("  ", g)
    for line in out.splitlines():
        if "fe be" in line or "fe/" in line or "<NOSRV>" in line: print("  log:", line.split("]: ", 1)[-1])

CL = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n"
GET = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
CH = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
EX = b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"

if __name__ == "__main__":
    for mode in ["close", "linger", "keep"]:
        run(mode, [CL % 30 + b"0123456789", b"0123456789", b"0123456789", GET], label="cl30 " + mode)
    for mode in ["close", "linger", "keep"]:
        run(mode, [CH + b"5\r\nhello\r\n", b"5\r\nworld\r\n", b"0\r\n\r\n", GET], label="chunked " + mode)
    for mode in ["close", "keep417"]:
        run(mode, [EX % 10, b"0123456789", GET], label="expect body-sent " + mode)
        run(mode, [EX % 10, GET], label="expect no body " + mode)
    run("close", [CL % 30 + b"0123456789", GET], label="next request inside the body, close")
    # How much of a body is dropped: the head alone first (the server closes cleanly) ...
    for part, n, pause in [(1000, 20, 0.3), (16000, 3, 0.3), (1000, 100, 0.02), (200000, 2, 0.3)]:
        run("close", [CL % (part * n)] + [b"y" * part] * n + [GET], pause=pause,
            label=f"head alone, parts {part} x {n} pause {pause}")
    # ... or with body bytes (the server closes with unread bytes: a reset).
    for part, n, pause in [(1000, 10, 0.1), (5000, 3, 0.1), (17000, 1, 0.1)]:
        run("close", [CL % (part * n + 10) + b"0123456789"] + [b"y" * part] * n + [GET], pause=pause,
            label=f"head and 10 bytes, parts {part} x {n} pause {pause}")
    big = b"x" * (1 << 20)
    run("close", [CL % (8 << 20) + b"0123"] + [big] * 8 + [GET], pause=0.05, label="8 MiB in 1 MiB parts")
