#!/usr/bin/env python3
"""Record HAProxy 2.6 `option redis-check` results against a real redis-server (no password, then
`requirepass`, which answers PING with -NOAUTH and keeps the connection open); writes redis-real.txt."""
import os, socket, subprocess, tempfile, time
tmp = tempfile.mkdtemp()
out_lines = []

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

for name, extra in [("plain", []), ("requirepass", ["--requirepass", "s3cret"])]:
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"] + extra, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    sock = os.path.join(tmp, f"{name}.sock")
    cfg = os.path.join(tmp, f"{name}.cfg")
    open(cfg, "w").write(f"""global
    stats socket {sock}
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    timeout check 300ms
frontend fe
    bind unix@{tmp}/{name}.fe
    default_backend b
backend b
    option redis-check
    server s 127.0.0.1:{port} check inter 5s
""")
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Poll until the first check has a result (the first check of a server starts at a random
    # point of its first interval).
    row = None
    for _ in range(100):
        time.sleep(0.1)
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.sendall(b"show stat\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
        s.close()
        lines = data.decode().splitlines(); hdr = lines[0][2:].split(",")
        c = {n: i for i, n in enumerate(hdr)}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > 5 and f[1] == "s" and "INI" not in f[c["check_status"]]:
                row = "|".join([name, f[c["status"]], f[c["check_status"]], f[c["check_code"]],
                                f[c["check_desc"]], f[c["last_chk"]]])
        if row: break
    out_lines.append(row or f"{name}|no result")
    p.terminate(); p.wait(); redis.terminate(); redis.wait()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "redis-real.txt"), "w") as f:
    f.write("# case|status|check_status|check_code|check_desc|last_chk (see record_redis.py)\n")
    f.write("\n".join(out_lines) + "\n")
