//! Differential tests for `tcp-request` rules: the same configuration and the same client
//! scripts run through real HAProxy 2.6 and through our daemon path; what the client receives and
//! which servers get a connection must be equal.
//!
//! Skipped with a message when `haproxy` is not installed, unless `CI=true` (then they fail).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

use crate::daemon::{read_all, start, tag_server};
use crate::differential::start_haproxy_with;
use crate::support::client_hello;

/// One step of a client script.
#[derive(Debug, Clone)]
enum Step {
    Send(Vec<u8>),
    Sleep(u64),
    ShutWrite,
}

use Step::{Send, ShutWrite, Sleep};

fn send(b: &[u8]) -> Step {
    Send(b.to_vec())
}

/// Connects from `src`, plays `steps`, then reads until the proxy closes.
async fn play(src: &str, to: SocketAddr, steps: &[Step]) -> Vec<u8> {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{src}:0").parse().unwrap()).unwrap();
    // A connection refused at accept may be reset before `connect` returns: nothing received.
    let Ok(mut c) = s.connect(to).await else {
        return Vec::new();
    };
    for step in steps {
        match step {
            Send(b) => {
                let _ = c.write_all(b).await;
            }
            Sleep(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
            ShutWrite => {
                let _ = c.shutdown().await;
            }
        }
    }
    read_all(&mut c).await
}

struct Case {
    name: &'static str,
    /// The frontend's lines (after `bind`); backends `be_a` and `be_b` exist.
    frontend: &'static str,
    /// `be_a`'s lines after its `mode` (the frontend's).
    backend_a: &'static str,
    mode: &'static str,
    runs: Vec<(&'static str, Vec<Step>)>,
}

fn cases() -> Vec<Case> {
    let h = client_hello("A.example");
    let split = |b: &[u8]| vec![send(&b[..10]), Sleep(60), send(&b[10..]), ShutWrite];
    vec![
        Case {
            name: "connection reject by source",
            frontend: " tcp-request connection reject if { src 127.0.0.2 }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"one"), ShutWrite]),
                ("127.0.0.2", vec![send(b"two"), ShutWrite]),
            ],
        },
        Case {
            name: "expect-proxy layer4 for some sources",
            frontend: " tcp-request connection expect-proxy layer4 if { src 127.0.0.2 }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\none"), ShutWrite]),
                ("127.0.0.2", vec![send(b"PROXY TCP4 192.0.2.1 127.0.0.1 1 2\r\ntwo"), ShutWrite]),
                ("127.0.0.2", vec![send(b"no header"), ShutWrite]),
            ],
        },
        Case {
            name: "content waits for req.len within inspect-delay",
            frontend: " tcp-request inspect-delay 1s\n tcp-request content reject unless { req.len ge 5 }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab")]),
                ("127.0.0.1", vec![send(b"ab"), Sleep(60), send(b"cde"), ShutWrite]),
                ("127.0.0.1", vec![send(b"ab"), ShutWrite]),
            ],
        },
        Case {
            name: "negated content ACL waits too",
            frontend: " tcp-request inspect-delay 1s\n tcp-request content reject if !{ req.len gt 3 }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab"), Sleep(60), send(b"cd"), ShutWrite]),
                ("127.0.0.1", vec![send(b"ab")]),
            ],
        },
        Case {
            name: "content without inspect-delay decides at once",
            frontend: " tcp-request content reject if { req.len lt 1 }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![("127.0.0.1", vec![Sleep(60), send(b"late"), ShutWrite])],
        },
        Case {
            name: "SNI routing",
            frontend: " tcp-request inspect-delay 2s\n tcp-request content accept if { req.ssl_sni -m found }\n use_backend be_a if { req.ssl_sni -i a.example }\n default_backend be_b\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", split(&h)),
                ("127.0.0.1", split(&client_hello("other.example"))),
            ],
        },
        Case {
            name: "inspect-delay without content rules does not wait for use_backend",
            frontend: " tcp-request inspect-delay 2s\n use_backend be_a if { req.ssl_sni -i a.example }\n default_backend be_b\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![("127.0.0.1", split(&h))],
        },
        Case {
            name: "a layer-4 accept ends the inspection at once",
            frontend: " tcp-request inspect-delay 2s\n tcp-request content accept if { src 127.0.0.1 }\n tcp-request content reject\n use_backend be_a if { req.ssl_sni -i a.example }\n default_backend be_b\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![("127.0.0.1", split(&h)), ("127.0.0.2", split(&h))],
        },
        Case {
            name: "HTTP recognised in a TCP frontend",
            frontend: " tcp-request inspect-delay 300ms\n tcp-request content reject if HTTP\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"hello"), ShutWrite]),
            ],
        },
        Case {
            name: "WAIT_END holds until the delay",
            frontend: " tcp-request inspect-delay 200ms\n tcp-request content accept if WAIT_END\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![("127.0.0.1", vec![send(b"x"), ShutWrite])],
        },
        Case {
            name: "timeout client applies while inspecting",
            frontend: " timeout client 600ms\n tcp-request inspect-delay 2s\n tcp-request content accept if WAIT_END\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab")]),
                ("127.0.0.1", vec![send(b"a"), Sleep(150), send(b"b"), Sleep(150), send(b"c"), ShutWrite]),
            ],
        },
        Case {
            name: "switch-mode http runs the frontend's http-request rules",
            frontend: " tcp-request inspect-delay 2s\n tcp-request content switch-mode http if HTTP\n tcp-request content reject\n http-request return status 200 content-type text/plain string up if { path /up }\n http-request deny if { path /deny }\n default_backend be_a\n",
            backend_a: "",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"GET /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"GET /up HTTP/1.1\r\nHost: x\r\n\r\n"), Sleep(50), send(b"GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"hello"), ShutWrite]),
            ],
        },
        Case {
            name: "content rules in an HTTP frontend",
            frontend: " tcp-request content accept if { hdr(x-pass) yes }\n tcp-request content reject if { path /admin }\n http-request return status 200 content-type text/plain string ok\n",
            backend_a: "",
            mode: "http",
            runs: vec![
                ("127.0.0.1", vec![send(b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"GET /admin HTTP/1.1\r\nHost: x\r\nX-Pass: yes\r\nConnection: close\r\n\r\n")]),
            ],
        },
        Case {
            name: "backend content reject by source",
            frontend: " default_backend be_a\n",
            backend_a: " tcp-request content reject if { src 127.0.0.2 }\n",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab"), ShutWrite]),
                ("127.0.0.2", vec![send(b"ab"), ShutWrite]),
            ],
        },
        Case {
            name: "backend inspect-delay waits for req.len",
            frontend: " default_backend be_a\n",
            backend_a: " tcp-request inspect-delay 400ms\n tcp-request content accept if { req.len ge 5 }\n tcp-request content reject\n",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab"), Sleep(100), send(b"cdef"), ShutWrite]),
                ("127.0.0.1", vec![send(b"ab"), Sleep(600), send(b"cdef"), ShutWrite]),
            ],
        },
        Case {
            name: "the frontend accepts, then the backend's rules decide",
            frontend: " tcp-request inspect-delay 1s\n tcp-request content accept if { req.len ge 2 }\n use_backend be_b if { src 127.0.0.3 }\n default_backend be_a\n",
            backend_a: " tcp-request inspect-delay 300ms\n tcp-request content reject if { req.len lt 4 }\n",
            mode: "tcp",
            runs: vec![
                ("127.0.0.1", vec![send(b"ab"), Sleep(100), send(b"cd"), ShutWrite]),
                ("127.0.0.1", vec![send(b"ab"), Sleep(500), send(b"cd"), ShutWrite]),
                ("127.0.0.3", vec![send(b"ab"), ShutWrite]),
            ],
        },
        Case {
            name: "backend content rules in HTTP mode run per request",
            frontend: " default_backend be_a\n",
            backend_a: " tcp-request content reject if { path /admin }\n",
            mode: "http",
            runs: vec![
                ("127.0.0.1", vec![send(b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n")]),
                ("127.0.0.1", vec![send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]),
            ],
        },
    ]
}

fn config(case: &Case, bind: &str, a: SocketAddr, b: SocketAddr) -> String {
    format!(
        "defaults\n mode {}\n timeout connect 2s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind {bind}\n{}backend be_a\n mode {}\n{}server s {a}\nbackend be_b\n mode tcp\n server s {b}\n",
        case.mode, case.frontend, case.mode, case.backend_a
    )
}

/// Plays every run of `case` against `addr`: the bytes each client got, and the connections
/// each server received.
async fn outcome(
    case: &Case,
    addr: SocketAddr,
    counts: &[Arc<AtomicUsize>; 2],
) -> (Vec<Vec<u8>>, [usize; 2]) {
    let before = [
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
    ];
    let mut got = Vec::new();
    for (src, steps) in &case.runs {
        got.push(play(src, addr, steps).await);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = [
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
    ];
    (got, [after[0] - before[0], after[1] - before[1]])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_request_rules_match_haproxy() {
    let (a, ca) = tag_server(b"A:").await;
    let (b, cb) = tag_server(b"B:").await;
    let counts = [ca, cb];
    for case in cases() {
        let Some(theirs) = start_haproxy_with(&config(&case, "127.0.0.1:PORT", a, b)).await else {
            return;
        };
        // The start-up probe's connection is forwarded to `be_a` in TCP mode: let it settle.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let expected = outcome(&case, theirs.addr, &counts).await;
        drop(theirs);
        let ours = start(&config(&case, "127.0.0.1:0", a, b));
        let got = outcome(&case, ours.addr(), &counts).await;
        ours.stop().await;
        assert_eq!(
            got.0
                .iter()
                .map(|g| String::from_utf8_lossy(g).into_owned())
                .collect::<Vec<_>>(),
            expected
                .0
                .iter()
                .map(|g| String::from_utf8_lossy(g).into_owned())
                .collect::<Vec<_>>(),
            "{}: client views",
            case.name
        );
        assert_eq!(got.1, expected.1, "{}: server connections", case.name);
    }
}
