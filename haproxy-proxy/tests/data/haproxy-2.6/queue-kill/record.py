#!/usr/bin/env python3
"""Records what HAProxy 2.6 does with a stream killed (`shutdown session`) while it waits in a
server queue: one server with `maxconn 1` is held busy by a slow request, a second request
queues behind it, the test kills the queued stream over the stats socket, waits 0.5 s, then lets
the held request finish (later, in the queue-timeout cases, so that `timeout queue` strikes
first). Prints, per case, whether the queued client was closed before the release, what it
received (after a 502 the keep-alive cases send a second request on the same connection), what
the origin server received from the queued stream, and HAProxy's log lines (client address and
date removed).

Usage: python3 record.py > kill.txt   (needs /usr/sbin/haproxy; loopback only, bounded waits)
"""
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time

HAPROXY = "/usr/sbin/haproxy"


def origin():
    """A server answering 200 'origin'; a request for /hold (or starting HOLD) waits."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(16)
    release = threading.Event()
    seen = []

    def serve(c):
        data = b""
        c.settimeout(10)
        try:
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    d = c.recv(4096)
                    if not d:
                        data += b"<closed>"
                        break
                    data += d
            except OSError:
                data += b"<reset>"
            if b"/hold" in data or data.startswith(b"HOLD"):
                release.wait(10)
            else:
                seen.append(data)
            c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\norigin")
            time.sleep(0.2)
        except OSError:
            pass
        c.close()

    def loop():
        while True:
            c, _ = lsn.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return lsn.getsockname()[1], release, seen


def cli(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall((cmd + "\n").encode())
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    return out.decode()


def client(port, payload, results, key, followup=None):
    s = socket.create_connection(("127.0.0.1", port))
    results[key + " port"] = s.getsockname()[1]
    s.settimeout(3)
    if payload:
        s.sendall(payload)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                out += b"<closed>"
                break
            out += d
            if followup and out.endswith(b"</html>\n"):
                s.sendall(followup)
                followup = None
    except socket.timeout:
        out += b"<open after 3 s>"
    results[key] = out


def run(mode, extra, queued_payload, label, queue="4s", hold=0.5, followup=None,
        kill="queued"):
    oport, release, seen = origin()
    port = random.randint(20000, 60000)
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "stats.sock")
    cfg = os.path.join(tmp, "k.cfg")
    log = "httplog" if mode == "http" else "tcplog"
    with open(cfg, "w") as f:
        f.write(
            f"global\n nbthread 1\n stats socket {sock} level admin\n"
            f"defaults\n mode {mode}\n timeout connect 1s\n timeout client 10s\n"
            f" timeout server 10s\n timeout queue {queue}\n log stdout format raw local0\n"
            f" option {log}\nlisten l\n bind 127.0.0.1:{port}\n{extra}"
            f" server a 127.0.0.1:{oport} maxconn 1\n"
        )
    p = subprocess.Popen([HAPROXY, "-db", "-f", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(0.2)
        res = {}
        held = b"GET /hold HTTP/1.1\r\nhost: x\r\n\r\n" if mode == "http" else b"HOLD\r\n\r\n"
        held_followup = followup if kill == "held" else None
        t1 = threading.Thread(target=client, args=(port, held, res, "held", held_followup))
        t1.start()
        time.sleep(0.3)
        t2 = threading.Thread(target=client, args=(port, queued_payload, res, "queued", followup if kill == "queued" else None),
        )
        t2.start()
        time.sleep(0.3)
        lines = [ln for ln in cli(sock, "show sess").splitlines() if "fe=l" in ln]
        # The queued stream: by its client's port.
        mine = f"src=127.0.0.1:{res[kill + ' port']} "
        target = next(ln for ln in lines if mine in ln).split(":")[0]
        cli(sock, "shutdown session " + target)
        time.sleep(hold)
        before = "closed before the release" if "queued" in res else "still open at the release"
        release.set()
        t1.join()
        t2.join()
    finally:
        p.terminate()
        out = p.communicate(timeout=5)[0].decode()
    logged = [ln for ln in out.splitlines() if "GET / " in ln or "GET /second " in ln or (mode == "tcp" and " l l/" in ln)]
    logged = [re.sub(r"^\S+ \[[^\]]+\] ", "", ln) for ln in logged]
    print(f"== {label}")
    print(f"queued client: {before}")
    print(f"queued client received: {res['queued']!r}")
    if kill == "held":
        print(f"held (killed) client received: {res['held']!r}")
    print(f"origin received from the queued stream: {seen!r}")
    print("log:")
    for ln in logged:
        print(f"  {ln}")


if __name__ == "__main__":
    get = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"
    second = b"GET /second HTTP/1.1\r\nhost: x\r\n\r\n"
    run("http", "", get, "http", followup=second)
    run("http", " option abortonclose\n", get, "http, option abortonclose")
    run("http", " balance source\n", get, "http, balance source (the server's own queue)",
        followup=second)
    run("tcp", "", b"PING\r\n", "tcp, the queued client sent data")
    run("tcp", "", b"", "tcp, the queued client sent nothing")
    run("http", "", get, "http, then timeout queue (1s) strikes", queue="1s", hold=1.5,
        followup=second)
    run("tcp", "", b"PING\r\n", "tcp, sent data, then timeout queue (1s) strikes", queue="1s",
        hold=1.5)
    run("http", "", get, "http, the held stream killed instead (waiting for its response)",
        followup=second, kill="held")
