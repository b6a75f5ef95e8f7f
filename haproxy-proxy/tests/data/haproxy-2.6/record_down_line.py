#!/usr/bin/env python3
"""Record the DOWN and UP lines HAProxy 2.6 writes for a server holding one session with two
more requests in its own queue (balance source, maxconn 1), when its check port closes and then
listens again; with and without `option redispatch`. Writes health-queue-lines.txt."""
import os, re, socket, subprocess, tempfile, threading, time
tmp = tempfile.mkdtemp()
out = []
for redisp in (False, True):
    origin = socket.socket(); origin.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    origin.bind(("127.0.0.1", 0)); origin.listen(16); oport = origin.getsockname()[1]
    held = []
    def serve(l=origin):
        while True:
            try: c, _ = l.accept()
            except OSError: return
            held.append(c)  # read nothing, answer nothing: the session stays
    threading.Thread(target=serve, daemon=True).start()
    chk = socket.socket(); chk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    chk.bind(("127.0.0.1", 0)); chk.listen(16); cport = chk.getsockname()[1]
    fe = socket.socket(); fe.bind(("127.0.0.1", 0)); fport = fe.getsockname()[1]; fe.close()
    cfg = os.path.join(tmp, f"q{redisp}.cfg")
    open(cfg, "w").write(f"""defaults
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
{"    option redispatch" if redisp else ""}
    server s1 127.0.0.1:{oport} maxconn 1 check port {cport} inter 100 rise 1 fall 1
""")
    p = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.6)
    clients = []
    for i in range(3):
        c = socket.create_connection(("127.0.0.1", fport))
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        clients.append(c)
        time.sleep(0.2)
    chk.close()  # the check is refused: DOWN
    time.sleep(0.6)
    chk = socket.socket(); chk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    chk.bind(("127.0.0.1", cport)); chk.listen(16)  # UP again
    time.sleep(0.6)
    p.terminate()
    err = p.communicate()[1]
    for line in err.splitlines():
        m = re.match(r"\[(\w+)\] +\(\d+\) : (Server .*)", line)
        if m:
            out.append(("redispatch" if redisp else "plain") + "|" + m.group(2))
    for c in clients + held: c.close()
    chk.close(); origin.close()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "health-queue-lines.txt"), "w") as f:
    f.write("# case|line (see record_down_line.py)\n")
    f.write("\n".join(out) + "\n")
