#!/usr/bin/env python3
"""Record real HAProxy 2.6 agent-check and CLI admin effects on `show stat`.

One backend `be_agent` with server `s` (plain connect check, always up) and an agent whose reply
this script changes phase by phase; some phases also send a CLI command. Polls `show stat` every
20 ms and writes de-duplicated (status, check_status, check_health, agent_status, agent_desc,
last_agt) rows to agent.txt. Usage: python3 record_agent.py [out-file]
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

PHASE_SECONDS = 1.6
# (agent reply, CLI command or "")
PHASES = [
    ("up\n", ""),
    ("drain\n", ""),
    ("75%\n", ""),
    ("ready\n", ""),
    ("down #disk full\n", ""),
    ("up\n", ""),
    ("maint\n", ""),
    ("ready\n", ""),
    ("up\n", "disable server be_agent/s"),
    ("up\n", "enable server be_agent/s"),
]


def listener(reply_ref):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)

    def loop():
        while True:
            c, _ = s.accept()
            try:
                if reply_ref is not None:
                    c.sendall(reply_ref[0].encode())
            except OSError:
                pass
            c.close()

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def cli(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(cmd.encode() + b"\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "agent.txt")
    reply = [PHASES[0][0]]
    srv_port = listener(None)
    agent_port = listener(reply)
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "stats.sock")
    cfg = os.path.join(tmp, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
    stats socket {sock} level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
backend be_agent
    server s 127.0.0.1:{srv_port} check inter 300 agent-check agent-port {agent_port} agent-inter 300
""")
    proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.005)
        time.sleep(0.05)
        header = None
        for phase, (rep, cmd) in enumerate(PHASES):
            reply[0] = rep
            if cmd:
                cli(sock, cmd)
            end = time.time() + PHASE_SECONDS
            while time.time() < end:
                lines = cli(sock, "show stat").splitlines()
                if header is None:
                    header = lines[0][2:].split(",")
                col = {n: i for i, n in enumerate(header)}
                for line in lines[1:]:
                    f = line.split(",")
                    if len(f) < len(header) or f[col["svname"]] != "s":
                        continue
                    if f[col["check_status"]].startswith("* ") or f[col["agent_status"]].startswith("* "):
                        continue
                    row = tuple(f[col[c]] for c in ("status", "check_status", "check_health", "agent_status", "agent_desc", "last_agt", "weight"))
                    if not rows or rows[-1][1] != row:
                        rows.append((phase, row))
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait()
    with open(out, "w") as f:
        f.write("# phases: " + " | ".join((r.strip() + (" + " + c if c else "")) for r, c in PHASES) + "\n")
        f.write("# phase|status|check_status|check_health|agent_status|agent_desc|last_agt|weight\n")
        for phase, row in rows:
            f.write("|".join([str(phase), *row]) + "\n")


if __name__ == "__main__":
    main()
