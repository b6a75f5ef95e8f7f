#!/usr/bin/env python3
"""Record the X-Haproxy-Server-State header HAProxy 2.6 sends (`http-check send-state`) while its
server `s1` (`maxconn 1`, `balance source`) serves one request its origin never answers and two
more wait in its queue; the check goes to a separate port. Writes send-state.txt."""
import os, socket, subprocess, tempfile, threading, time
tmp = tempfile.mkdtemp()
origin = socket.socket(); origin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
origin.bind(("127.0.0.1", 0)); origin.listen(16); oport = origin.getsockname()[1]
held, heads = [], []
def hold():
    while True:
        try: c, _ = origin.accept()
        except OSError: return
        held.append(c)
threading.Thread(target=hold, daemon=True).start()
chk = socket.socket(); chk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
chk.bind(("127.0.0.1", 0)); chk.listen(16); cport = chk.getsockname()[1]
def answer():
    while True:
        try: c, _ = chk.accept()
        except OSError: return
        c.settimeout(1)
        try:
            heads.append(c.recv(4096).decode())
            c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        except OSError: pass
        c.close()
threading.Thread(target=answer, daemon=True).start()
fe = socket.socket(); fe.bind(("127.0.0.1", 0)); fport = fe.getsockname()[1]; fe.close()
cfg = os.path.join(tmp, "s.cfg")
open(cfg, "w").write(f"""global
    node n1
defaults
    mode http
    timeout connect 5s
    timeout client 7s
    timeout server 9s
    timeout queue 9s
frontend fe
    bind 127.0.0.1:{fport}
    default_backend app
backend app
    balance source
    option httpchk GET /health
    http-check send-state
    server s1 127.0.0.1:{oport} maxconn 1 check port {cport} inter 200
""")
p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
clients = []
for i in range(3):
    c = socket.create_connection(("127.0.0.1", fport))
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    clients.append(c)
    time.sleep(0.1)
time.sleep(0.6)
p.terminate(); p.wait()
last = heads[-1]
line = next(l for l in last.split("\r\n") if l.lower().startswith("x-haproxy-server-state"))
line = line.replace(str(oport), "PORT")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "send-state.txt"), "w") as f:
    f.write("# the last check's state header; the origin port written PORT (see record_send_state.py)\n")
    f.write(line + "\n")
for c in clients + held: c.close()
