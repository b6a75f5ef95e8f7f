#!/usr/bin/env python3
"""Records server choices of real HAProxy 2.6 for haproxy-lb's compatibility tests.

Starts /usr/sbin/haproxy on 127.0.0.1 (ephemeral ports) with echo backends that answer
`X-Server: <name>`, replays request sequences and hash keys, and writes one file per
scenario next to this script. Run: python3 record.py  (needs only haproxy and python3).
"""
import os, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = "abcdefgh"


HELD = []


def free_port():
    """An ephemeral port, held open until haproxy starts so no two sections share one."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    HELD.append(s)
    return s.getsockname()[1]


class Conn:
    def __init__(self, port, src=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5,
                                          source_address=(src, 0) if src else None)
        self.buf = b""

    def get(self, path, headers=(), host="t"):
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("closed")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"x-server":
                return v.strip().decode()
        status = head.split(b"\r\n")[0].decode()
        return "-" if " 503 " in status else "?" + status

    def close(self):
        self.s.close()


def server_lines(servers, echo):
    """Servers named x, y, z point to a port nothing listens on (their checks fail)."""
    out = []
    for i, (name, opts) in enumerate(servers):
        port = echo.get(name) or echo["dead"]
        out.append(f"    server {name} 127.0.0.1:{port} id {i + 1} {opts}")
    return out


def described(name, opts):
    """The server options as written to the data file; unreachable servers are marked."""
    return (opts + (" unreachable" if name in "xyz" else "")).strip()


# Sequence scenarios: (file, balance, [options], [(name, server options)], steps).
# A step is an int (that many requests), "set weight <srv> <w>", "disable server <srv>" or
# "enable server <srv>" (the last three sent to the stats socket).
SEQ = [
    ("rr_w123", "roundrobin", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [24]),
    ("rr_equal", "roundrobin", [], [("a", ""), ("b", ""), ("c", "")], [9]),
    ("rr_mixed", "roundrobin", [], [("a", "weight 5"), ("b", "weight 1"), ("c", "weight 3"), ("d", "weight 0"), ("e", "weight 2")], [44]),
    ("rr_down", "roundrobin", [], [("a", "weight 2"), ("b", "weight 1 disabled"), ("c", "weight 3")], [20]),
    ("rr_backup", "roundrobin", [], [("a", "disabled"), ("b", "backup weight 2"), ("c", "backup weight 3")], [8]),
    ("rr_allbackups", "roundrobin", ["option allbackups"], [("a", "disabled"), ("b", "backup weight 1"), ("c", "backup weight 2")], [12]),
    ("rr_active_over_backup", "roundrobin", [], [("a", "weight 1"), ("b", "backup"), ("c", "weight 1")], [6]),
    ("rr_setweight", "roundrobin", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [7, "set weight a 3", 24, "set weight c 0", 8, "set weight c 1", 12]),
    ("static_w123", "static-rr", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [18]),
    ("static_mixed", "static-rr", [], [("a", "weight 4"), ("b", "weight 2"), ("c", "weight 6"), ("d", "weight 1")], [26]),
    ("static_setweight", "static-rr", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [5, "set weight c 0", 6, "set weight c 3", 12, "set weight b 5"]),
    ("static_allbackups", "static-rr", ["option allbackups"], [("a", "disabled"), ("b", "backup weight 1"), ("c", "backup weight 3")], [8]),
    ("leastconn_equal", "leastconn", [], [("a", ""), ("b", ""), ("c", "")], [9]),
    ("leastconn_weights", "leastconn", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [9]),
    ("urlparam_absent_map", "url_param k", ["hash-type map-based sdbm"], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [12]),
    ("urlparam_absent_consistent", "url_param k", ["hash-type consistent sdbm"], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 1")], [12]),
    ("rr_checked_down", "roundrobin", [], [("a", "weight 2"), ("x", "weight 3 check inter 100ms"), ("c", "weight 1"), ("y", "check inter 100ms")], [12]),
    ("first", "first", [], [("a", "maxconn 5"), ("b", "maxconn 5")], [4]),
    ("first_down", "first", [], [("a", "disabled"), ("b", ""), ("c", "")], [4]),
    ("rr_disable_enable", "roundrobin", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [7, "disable server c", 10, "enable server c", 24, "disable server a", 9, "enable server a", 18]),
    ("rr_runtime_mixed", "roundrobin", [], [("a", "weight 5"), ("b", "weight 1"), ("c", "weight 3"), ("d", "weight 2")], [13, "set weight a 1", 20, "disable server d", 15, "enable server d", 30, "set weight b 4", 30, "set weight c 0", 12, "set weight c 7", 40]),
    ("rr_backup_runtime", "roundrobin", ["option allbackups"], [("a", "weight 1"), ("b", "backup weight 1"), ("c", "backup weight 2")], [4, "disable server a", 5, "enable server a", 4, "disable server a", 7, "set weight c 1", 6]),
    ("static_disable_enable", "static-rr", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], [5, "disable server b", 7, "enable server b", 12, "disable server a", 4, "enable server a", 9]),
    ("leastconn_disable_enable", "leastconn", [], [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 1")], [6, "disable server b", 5, "enable server b", 8, "set weight a 3", 8]),
]

HASH_SERVERS = [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3"), ("d", "weight 1")]

# Hashing after runtime changes: (file, balance, hash-type, steps); "keys" records the keys
# again, other steps go to the stats socket. Consistent hashing must move only the changed
# server's keys, exactly as HAProxy's ring does; map-based hashing rebuilds its map.
RUNTIME_HASH = [
    ("runtime_uri_consistent_sdbm_aval", "uri", "consistent sdbm avalanche",
     ["keys", "set weight b 5", "keys", "disable server c", "keys", "enable server c", "keys",
      "set weight a 0", "keys", "set weight a 1", "keys"]),
    ("runtime_source_consistent_djb2", "source", "consistent djb2",
     ["keys", "disable server b", "keys", "set weight d 4", "keys", "enable server b", "keys"]),
    ("runtime_uri_map-based_sdbm", "uri", "map-based sdbm",
     ["keys", "set weight c 0", "keys", "disable server a", "keys", "enable server a", "keys",
      "set weight c 100%", "keys"]),
]
RUNTIME_KEYS = 500
KEYS = 1000


def hash_keys(algo, n):
    keys = []
    for i in range(n):
        x = (i * 2654435761) & 0xffffffff
        if algo == "source":
            keys.append(f"127.{(i >> 8) & 255}.{i & 255}.{1 + x % 250}")
        elif algo.startswith("hdr"):
            keys.append(f"host{i}.zone{x % 97}.example{x % 5}.com")
        elif algo == "url_param":
            keys.append(f"u{x:08x}{i}")
        else:
            keys.append(f"/d{x % 13}/p{i}/{x:08x}?q={i}")
    return keys


def main():
    tmp = tempfile.mkdtemp()
    sock = os.path.join(tmp, "stats.sock")
    echo = {n: free_port() for n in NAMES}
    dead = free_port()
    cfg = [
        "global", f"    stats socket {sock} level admin", "defaults", "    mode http",
        "    timeout connect 1s", "    timeout client 5s", "    timeout server 5s", "",
    ]
    for n, p in echo.items():
        cfg += [f"listen echo_{n}", f"    bind 127.0.0.1:{p}", f"    http-request return status 200 hdr X-Server {n}", ""]
    echo_all = dict(echo, dead=dead)
    ports = {}
    for name, balance, opts, servers, _ in SEQ:
        ports[name] = free_port()
        cfg += [f"listen {name}", f"    bind 127.0.0.1:{ports[name]}", f"    balance {balance}"]
        cfg += [f"    {o}" for o in opts] + server_lines(servers, echo_all) + [""]
    combos = []
    for algo in ["source", "uri", "url_param k", "hdr(x-key)", "hdr(x-key) use_domain_only"]:
        for ht in ["map-based", "consistent"]:
            for fn in ["sdbm", "djb2", "wt6", "crc32"]:
                for aval in ["", " avalanche"]:
                    if algo.endswith("use_domain_only") and (fn != "sdbm"):
                        continue
                    tag = f"{algo.split()[0].split('(')[0]}{'_domain' if 'domain' in algo else ''}_{ht}_{fn}{'_aval' if aval else ''}"
                    combos.append((tag, algo, f"{ht} {fn}{aval}"))
                    ports[tag] = free_port()
                    cfg += [f"listen {tag}", f"    bind 127.0.0.1:{ports[tag]}", f"    balance {algo}",
                            f"    hash-type {ht} {fn}{aval}"] + server_lines(HASH_SERVERS, echo) + [""]
    for tag, algo in [("uri_len10", "uri len 10"), ("uri_depth2", "uri depth 2"),
                      ("uri_whole", "uri whole"), ("uri_pathonly", "uri path-only"),
                      ("uri_len12_depth3_whole", "uri len 12 depth 3 whole")]:
        for ht in ["map-based sdbm", "consistent djb2 avalanche"]:
            t = f"{tag}_{ht.split()[0]}"
            combos.append((t, algo, ht))
            ports[t] = free_port()
            cfg += [f"listen {t}", f"    bind 127.0.0.1:{ports[t]}", f"    balance {algo}",
                    f"    hash-type {ht}"] + server_lines(HASH_SERVERS, echo) + [""]
    for tag, algo, ht, _ in RUNTIME_HASH:
        ports[tag] = free_port()
        cfg += [f"listen {tag}", f"    bind 127.0.0.1:{ports[tag]}", f"    balance {algo}",
                f"    hash-type {ht}"] + server_lines(HASH_SERVERS, echo) + [""]
    kat = free_port()
    cfg += ["listen kat", f"    bind 127.0.0.1:{kat}",
            "    http-request return status 200 hdr X-Server \"%[path,sdbm] %[path,djb2] %[path,wt6] %[path,crc32] "
            "%[path,sdbm(1)] %[path,djb2(1)] %[path,wt6(1)] %[path,crc32(1)]\"", ""]
    cfgfile = os.path.join(tmp, "h.cfg")
    open(cfgfile, "w").write("\n".join(cfg) + "\n")
    for held in HELD:
        held.close()
    proc = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", cfgfile])
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        time.sleep(1.0)  # lets the checks of unreachable servers fail
        version = subprocess.run(["/usr/sbin/haproxy", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
        os.makedirs(os.path.join(HERE, "sequences"), exist_ok=True)
        os.makedirs(os.path.join(HERE, "hash"), exist_ok=True)
        for name, balance, opts, servers, steps in SEQ:
            out = [f"# recorded from {version}", f"balance {balance}"] + opts
            out += [f"server {n} id {i + 1} {described(n, o)}".rstrip() for i, (n, o) in enumerate(servers)]
            for step in steps:
                if isinstance(step, int):
                    c = Conn(ports[name])
                    picks = [c.get("/") for _ in range(step)]
                    c.close()
                    out.append("picks " + " ".join(picks))
                else:
                    words = step.split()
                    srv = words[2]
                    arg = f" {words[3]}" if len(words) > 3 else ""
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(sock)
                    s.sendall(f"{words[0]} {words[1]} {name}/{srv}{arg}\n".encode())
                    reply = b""
                    while True:
                        d = s.recv(4096)
                        if not d:
                            break
                        reply += d
                    s.close()
                    out.append(step)
                    msg = reply.decode().strip()
                    if msg:
                        out.append(f"error {msg}")
            open(os.path.join(HERE, "sequences", name + ".txt"), "w").write("\n".join(out) + "\n")
        for tag, algo, ht in combos:
            keys = hash_keys(algo.split()[0].split("(")[0], KEYS)
            out = [f"# recorded from {version}", f"balance {algo}", f"hash-type {ht}"]
            out += [f"server {n} id {i + 1} {o}" for i, (n, o) in enumerate(HASH_SERVERS)]
            conn = None if algo == "source" else Conn(ports[tag])
            for k in keys:
                if algo == "source":
                    c = Conn(ports[tag], src=k)
                    srv = c.get("/")
                    c.close()
                elif algo.startswith("hdr"):
                    srv = conn.get("/", [("X-Key", k)])
                elif algo.startswith("url_param"):
                    srv = conn.get(f"/p?x=1&k={k}&y=2")
                elif "path-only" in algo:
                    host = "h" + k.split("/")[1][-1] + ".example"
                    k = "http://" + host + k
                    srv = conn.get(k, host=host)
                else:
                    srv = conn.get(k)
                out.append(f"key {k} {srv}")
            if conn:
                conn.close()
            open(os.path.join(HERE, "hash", tag + ".txt"), "w").write("\n".join(out) + "\n")
        for tag, algo, ht, steps in RUNTIME_HASH:
            keys = hash_keys(algo, RUNTIME_KEYS)
            out = [f"# recorded from {version}", f"balance {algo}", f"hash-type {ht}"]
            out += [f"server {n} id {i + 1} {o}" for i, (n, o) in enumerate(HASH_SERVERS)]
            for step in steps:
                if step == "keys":
                    conn = None if algo == "source" else Conn(ports[tag])
                    for k in keys:
                        if algo == "source":
                            c = Conn(ports[tag], src=k)
                            srv = c.get("/")
                            c.close()
                        else:
                            srv = conn.get(k)
                        out.append(f"key {k} {srv}")
                    if conn:
                        conn.close()
                else:
                    words = step.split()
                    arg = f" {words[3]}" if len(words) > 3 else ""
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(sock)
                    s.sendall(f"{words[0]} {words[1]} {tag}/{words[2]}{arg}\n".encode())
                    reply = b""
                    while True:
                        d = s.recv(4096)
                        if not d:
                            break
                        reply += d
                    s.close()
                    out.append(step)
                    if reply.decode().strip():
                        out.append(f"error {reply.decode().strip()}")
            open(os.path.join(HERE, "hash", tag + ".txt"), "w").write("\n".join(out) + "\n")
        c = Conn(kat)
        out = [f"# recorded from {version}", "# path sdbm djb2 wt6 crc32 sdbm(1) djb2(1) wt6(1) crc32(1)"]
        for p in ["/", "/a", "/abc", "/index.html", "/" + "x" * 100, "/k/123456789", "/%C3%A9t%C3%A9"]:
            out.append(p + " " + c.get(p))
        c.close()
        open(os.path.join(HERE, "hash_functions.txt"), "w").write("\n".join(out) + "\n")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
