#!/usr/bin/env python3
# Measures the largest request head HAProxy 2.6 accepts (binary search on the X-Pad value length).
# Usage: python3 head_limit.py > head-limit.txt   (needs haproxy on PATH; loopback only)
import socket, subprocess, time, sys, os, random
port = 30000 + random.randint(0, 20000)
cfg = f"""defaults
  mode http
  timeout client 2s
  timeout connect 1s
  timeout server 1s
frontend fe
  bind 127.0.0.1:{port}
  http-request return status 200 content-type text/plain string ok
"""
open("/tmp/haproxy-rs-head-limit.cfg","w").write(cfg)
p = subprocess.Popen(["haproxy","-db","-f","/tmp/haproxy-rs-head-limit.cfg"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
def status(raw):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(raw); s.settimeout(2)
    d = b""
    try:
        while b"\r\n" not in d:
            x = s.recv(100)
            if not x: break
            d += x
    except Exception: pass
    s.close(); return d[:12]
def req(nh, pad, uri="/"):
    h = "".join(f"X-H{i}: v\r\n" for i in range(nh))
    return f"GET {uri} HTTP/1.1\r\n{h}X-Pad: {'a'*pad}\r\n\r\n".encode()
try:
    for nh, uri in [(0,"/"), (1,"/"), (10,"/"), (0,"/abcdefghij"), (50, "/")]:
        lo, hi = 0, 16000
        while lo < hi:
            mid = (lo+hi+1)//2
            if b"200" in status(req(nh, mid, uri)): lo = mid
            else: hi = mid-1
        print(nh, uri, "max raw len", len(req(nh, lo, uri)), "pad", lo)
finally:
    p.kill()
