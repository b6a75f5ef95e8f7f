#!/usr/bin/env python3
"""Record HAProxy 2.6 check results against a peer that resets each connection right after
accepting it (SO_LINGER 0, then close), one that refuses, and one that accepts and stays silent,
for several check kinds; writes reset-messages.txt (status, check_status, check_code, chkfail,
last_chk after ~1.5 s of checks every 200 ms)."""
import os, socket, struct, subprocess, tempfile, threading, time
tmp = tempfile.mkdtemp()
cases = {
 "check": None,
 "connonly": "option tcp-check\n    tcp-check connect",
 "connport": "option tcp-check\n    tcp-check connect port PORT",
 "expect": "option tcp-check\n    tcp-check expect string x",
 "sendexpect": "option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG",
 "rstring": "option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect rstring ^\\+PONG",
 "httpchk": "option httpchk GET /",
 "redis": "option redis-check",
}
out = []
for mode in ("reset", "refused", "silent"):
    for name, rules in cases.items():
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", 0)); l.listen(64)
        port = l.getsockname()[1]
        held = []
        if mode == "refused":
            l.close()
        else:
            def serve(l=l):
                while True:
                    try: c, _ = l.accept()
                    except OSError: return
                    if mode == "reset":
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        c.close()
                    else:
                        held.append(c)
            threading.Thread(target=serve, daemon=True).start()
        sock = os.path.join(tmp, f"{mode}{name}.sock")
        cfg = os.path.join(tmp, f"{mode}{name}.cfg")
        open(cfg, "w").write(f"""global
    stats socket {sock}
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    timeout check 300ms
backend b
    {(rules or '').replace('PORT', str(port))}
    server s 127.0.0.1:{port} check inter 200 rise 2 fall 3
""")
        p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.5)
        for _ in range(50):  # skip rows taken while a check runs (`* ` prefix)
            s = socket.socket(socket.AF_UNIX); s.connect(sock); s.sendall(b"show stat\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d: break
                data += d
            s.close()
            if ",* " not in data.decode(): break
            time.sleep(0.03)
        lines = data.decode().splitlines(); hdr = lines[0][2:].split(",")
        c = {n: i for i, n in enumerate(hdr)}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > 5 and f[1] == "s":
                out.append("|".join([mode, name, f[c["status"]], f[c["check_status"]], f[c["check_code"]], f[c["chkfail"]], f[c["last_chk"]]]))
        p.terminate(); p.wait()
        try: l.close()
        except OSError: pass
        for h in held: h.close()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reset-messages.txt"), "w") as f:
    f.write("# mode|case|status|check_status|check_code|chkfail|last_chk (see record_reset.py)\n")
    f.write("\n".join(out) + "\n")
