#!/usr/bin/env python3
"""Records the listen backlog HAProxy 2.6 gives each bind (the Send-Q column `ss -ltn` shows for
a listening socket) in `backlog.cfg`, whose ports are replaced by free loopback ports. Prints
`<bind name> <backlog>` lines. The haproxy process started here is killed by its pid."""
import os, socket, subprocess, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
text = open(os.path.join(here, "backlog.cfg")).read()
ports = {}
for name in ("P1", "P2", "P3", "P4", "P5"):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ports[name] = s.getsockname()[1]; s.close()
    text = text.replace(name + "\n", f"{ports[name]}\n", 1).replace(name + " ", f"{ports[name]} ", 1)
with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
    f.write(text)
proc = subprocess.Popen(["haproxy", "-db", "-f", f.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    time.sleep(0.7)
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    for name, port in ports.items():
        for line in out.splitlines():
            cols = line.split()
            if cols[3] == f"127.0.0.1:{port}":
                print(name, cols[2])
finally:
    proc.kill(); proc.wait(); os.unlink(f.name)
