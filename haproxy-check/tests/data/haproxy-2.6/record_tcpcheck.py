#!/usr/bin/env python3
"""Record HAProxy 2.6 tcp-check results (status, check_status, check_code, last_chk) for several
expect kinds against a loopback peer answering `-ERR nope`; writes tcp-check-messages.txt."""
import os, socket, subprocess, sys, tempfile, threading, time
tmp = tempfile.mkdtemp()
out_lines = []
cases = {
 "str": "tcp-check connect\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG",
 "bin": "tcp-check send PING\\r\\n\n    tcp-check expect binary 2b504f4e47",
 "rstr": "tcp-check send PING\\r\\n\n    tcp-check expect rstring ^\\+PONG",
 "rbin": "tcp-check send PING\\r\\n\n    tcp-check expect rbinary ^2B50",
 "neg": "tcp-check send PING\\r\\n\n    tcp-check expect ! string ERR",
 "ok": "tcp-check send PING\\r\\n\n    tcp-check expect string ERR",
 "connonly": "tcp-check connect",
}
for name, rules in cases.items():
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); l.bind(("127.0.0.1",0)); l.listen(5)
    port = l.getsockname()[1]
    def serve(l=l, name=name):
        while True:
            try: c,_ = l.accept()
            except OSError: return
            try:
                c.settimeout(1); c.recv(100)
                c.sendall(b"-ERR nope\r\n")
            except OSError: pass
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    sock=os.path.join(tmp, f"t{name}.sock")
    cfg = os.path.join(tmp, f"t{name}.cfg")
    open(cfg,"w").write(f"""global
    stats socket {sock}
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    timeout check 300ms
backend b
    option tcp-check
    {rules}
    server s 127.0.0.1:{port} check inter 5s
""")
    p = subprocess.Popen(["/usr/sbin/haproxy","-db","-f",cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.8)
    s = socket.socket(socket.AF_UNIX); s.connect(sock); s.sendall(b"show stat\n")
    data=b""
    while True:
        d=s.recv(65536)
        if not d: break
        data+=d
    lines=data.decode().splitlines(); hdr=lines[0][2:].split(",")
    for line in lines[1:]:
        f=line.split(",")
        if len(f)>5 and f[1]=="s":
            c={n:i for i,n in enumerate(hdr)}
            out_lines.append("|".join([name, f[c["status"]], f[c["check_status"]], f[c["check_code"]], f[c["last_chk"]]]))
    p.terminate(); p.wait(); l.close()
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp-check-messages.txt"), "w") as f:
    f.write("# case|status|check_status|check_code|last_chk (rules: see record_tcpcheck.py)\n")
    f.write("\n".join(out_lines) + "\n")
