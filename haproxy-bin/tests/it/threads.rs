//! `nbthread` and `cpu-map`: the binary runs one serving thread per `nbthread` (thread per core,
//! each with its own listener), every thread serves, and `cpu-map` binds the threads as HAProxy
//! does.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use super::run::{Proxy, TempDir, WAIT, free_port};

/// The serving threads of `pid` by name (`haproxy-N`), with their `Cpus_allowed_list`.
fn threads(pid: u32) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("task dir");
    for task in tasks {
        let path = task.expect("task").path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let name = name.trim();
        if !name.starts_with("haproxy-") {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        out.insert(name.to_owned(), cpus);
    }
    out
}

/// Waits (bounded) until the threads of `pid` satisfy `want`, then returns them.
fn threads_when(
    pid: u32,
    want: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let start = std::time::Instant::now();
    loop {
        let t = threads(pid);
        if want(&t) || start.elapsed() > WAIT {
            return t;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn config(port: u16, global: &str) -> String {
    format!(
        "global\n{global}\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:{port}\n    http-request return status 200 content-type text/plain string ok\n"
    )
}

fn get(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn nbthread_starts_that_many_serving_threads_and_all_connections_are_served() {
    let dir = TempDir::new("nbthread");
    let port = free_port();
    let cfg = dir.write("t.cfg", &config(port, "    nbthread 3\n"));
    let mut proxy = Proxy::start(&cfg, port);
    let names: Vec<String> = threads_when(proxy.pid(), |t| t.len() >= 3)
        .into_keys()
        .collect();
    assert_eq!(names, ["haproxy-1", "haproxy-2", "haproxy-3"]);
    // The kernel spreads connections over the three listeners; every one must be answered.
    for i in 0..300 {
        let r = get(port);
        assert!(
            r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("ok"),
            "{i}: {r}"
        );
    }
    proxy.signal("-TERM");
    assert_eq!(proxy.wait_exit().code(), Some(0));
}

#[test]
fn cpu_map_binds_the_threads() {
    let dir = TempDir::new("cpumap");
    let port = free_port();
    let cfg = dir.write(
        "all.cfg",
        &config(port, "    nbthread 2\n    cpu-map 1/all 0\n"),
    );
    let proxy = Proxy::start(&cfg, port);
    let t = threads_when(proxy.pid(), |t| {
        t.values().filter(|c| *c == "0").count() == 2
    });
    assert_eq!(t.get("haproxy-1").map(String::as_str), Some("0"), "{t:?}");
    assert_eq!(t.get("haproxy-2").map(String::as_str), Some("0"), "{t:?}");
    drop(proxy);
    if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return; // `auto:` over two CPUs needs two CPUs.
    }
    let port = free_port();
    let cfg = dir.write(
        "auto.cfg",
        &config(port, "    nbthread 2\n    cpu-map auto:1/1-2 0-1\n"),
    );
    let proxy = Proxy::start(&cfg, port);
    let t = threads_when(proxy.pid(), |t| {
        t.get("haproxy-1").is_some_and(|c| c == "0") && t.get("haproxy-2").is_some_and(|c| c == "1")
    });
    assert_eq!(t.get("haproxy-1").map(String::as_str), Some("0"), "{t:?}");
    assert_eq!(t.get("haproxy-2").map(String::as_str), Some("1"), "{t:?}");
    assert!(get(port).starts_with("HTTP/1.1 200 OK\r\n"));
}

#[test]
fn an_auto_cpu_map_with_sets_of_different_sizes_stops_the_start() {
    let dir = TempDir::new("cpumap-bad");
    let port = free_port();
    let cfg = dir.write(
        "bad.cfg",
        &config(port, "    nbthread 4\n    cpu-map auto:1/1-4 0\n"),
    );
    let (code, err) = super::run::run_to_exit(&cfg);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("the thread set and the CPU set must have the same size"),
        "{err}"
    );
}

#[test]
fn sixty_four_threads_the_limit_start_and_serve() {
    let dir = TempDir::new("nbthread64");
    let port = free_port();
    let cfg = dir.write("t.cfg", &config(port, "    nbthread 64\n"));
    let mut proxy = Proxy::start(&cfg, port);
    let t = threads_when(proxy.pid(), |t| t.len() >= 64);
    assert_eq!(t.len(), 64, "{t:?}");
    assert!(t.contains_key("haproxy-64"));
    for _ in 0..20 {
        assert!(get(port).starts_with("HTTP/1.1 200 OK\r\n"));
    }
    proxy.signal("-TERM");
    assert_eq!(proxy.wait_exit().code(), Some(0));
}

/// A keep-alive HTTP server answering `ok` to every request, on its own threads; stops with the
/// test process.
fn ok_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in l.incoming().take(1000) {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let _ = c.set_read_timeout(Some(WAIT));
                let mut pending = Vec::new();
                let mut chunk = [0u8; 4096];
                for _ in 0..10_000 {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        if c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                    match c.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                }
            });
        }
    });
    port
}

#[test]
fn keep_alive_through_a_backend_with_several_threads_loses_nothing() {
    let dir = TempDir::new("nbthread-ka");
    let (port, backend) = (free_port(), ok_server());
    let cfg = dir.write(
        "ka.cfg",
        &format!(
            "global\n    nbthread 4\n\
             defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\n\
             backend b\n    server s1 127.0.0.1:{backend}\n"
        ),
    );
    let mut proxy = Proxy::start(&cfg, port);
    // Eight clients of 50 keep-alive requests each, at the same time: sessions on different
    // threads hand idle server connections to each other (http-reuse safe).
    let clients: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                s.set_read_timeout(Some(WAIT)).expect("timeout");
                let mut ok = 0;
                for _ in 0..50 {
                    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                        .expect("send");
                    let mut got = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while !got.ends_with(b"\r\n\r\nok") {
                        let n = s.read(&mut chunk).expect("read");
                        assert!(n > 0, "closed after {ok} responses");
                        got.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    }
                    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"));
                    ok += 1;
                }
                ok
            })
        })
        .collect();
    let served: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
    assert_eq!(served, 400);
    proxy.signal("-TERM");
    assert_eq!(proxy.wait_exit().code(), Some(0));
}
