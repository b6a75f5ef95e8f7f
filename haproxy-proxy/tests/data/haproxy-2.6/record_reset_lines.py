#!/usr/bin/env python3
"""Record the DOWN line HAProxy 2.6 writes for servers whose peer accepts and at once resets
(SO_LINGER 0, close): a plain connect check (stays UP: no line), a tcp-check expect and an
httpchk. Writes health-reset-lines.txt (pid dropped)."""
import os, re, socket, struct, subprocess, tempfile, threading, time
tmp = tempfile.mkdtemp()
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 0)); l.listen(64); port = l.getsockname()[1]
def serve():
    while True:
        try: c, _ = l.accept()
        except OSError: return
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
threading.Thread(target=serve, daemon=True).start()
fe = socket.socket(); fe.bind(("127.0.0.1", 0)); fport = fe.getsockname()[1]; fe.close()
cfg = os.path.join(tmp, "r.cfg")
open(cfg, "w").write(f"""defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    timeout check 300ms
frontend fe
    bind 127.0.0.1:{fport}
    default_backend plain
backend plain
    server s 127.0.0.1:{port} check inter 100 rise 1 fall 1
backend tcp
    option tcp-check
    tcp-check expect string x
    server s 127.0.0.1:{port} check inter 100 rise 1 fall 1
backend http
    option httpchk GET /
    server s 127.0.0.1:{port} check inter 100 rise 1 fall 1
""")
p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(1.0)
p.terminate(); err = p.communicate()[1]
out = [m.group(1) for m in (re.match(r"\[\w+\] +\(\d+\) : (Server .*)", x) for x in err.splitlines()) if m]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "health-reset-lines.txt"), "w") as f:
    f.write("# state lines for peers that reset at once (see record_reset_lines.py)\n")
    f.write("\n".join(out) + "\n")
