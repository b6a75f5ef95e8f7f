//! Scenarios for points first compared late (issue 5 "unverified points"): CONNECT beyond the
//! plain tunnel, the 408 of a keep-alive connection whose next request stops half-way and the
//! 400 of a client that closes half-way, 503s and rule answers given before the request body
//! was read, an early server answer, and the PROXY protocol header sent to servers
//! (`send-proxy`, `send-proxy-v2`; the origin records it, ports masked; `proxy_bytes.rs`
//! compares the exact bytes).

use super::table::{Scenario, fe_be, lines, one};

const GET_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
const CONNECT: &[u8] = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";

/// A frontend, a backend `be` with `be` lines and one server with `server` options.
fn with_server(fe: &[&str], be: &[&str], server: &str) -> String {
    fe_be(&lines(fe), &lines(be)).replace(
        "server s1 SERVER\n",
        &format!("server s1 SERVER {server}\n"),
    )
}

/// One client whose write side is closed after its last part (tunnels, and heads left half-sent).
fn half_closed(name: &'static str, config: String, parts: &[&[u8]]) -> Scenario {
    Scenario {
        name,
        global: "",
        config,
        clients: vec![parts.iter().map(|p| p.to_vec()).collect()],
        half_close: true,
    }
}

/// Client connections made one after the other, each a list of parts.
fn clients(name: &'static str, config: String, clients: &[&[&[u8]]]) -> Scenario {
    Scenario {
        name,
        global: "",
        config,
        clients: clients
            .iter()
            .map(|c| c.iter().map(|p| p.to_vec()).collect())
            .collect(),
        half_close: false,
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let dead = "frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  retries 0\n  server s1 DEAD\n";
    let no_backend = "frontend fe\n  bind 127.0.0.1:PORT\n  use_backend be if { path /never }\nbackend be\n  server s1 SERVER\n";
    vec![
        // CONNECT.
        half_closed(
            "connect with tunnel bytes in the head's packet",
            fe_be("", ""),
            &[b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nearly", b"late"],
        ),
        half_closed(
            "connect after a request on a kept-alive connection",
            fe_be("", ""),
            &[GET_A, CONNECT, b"tunnelled"],
        ),
        one(
            "connect refused by the server",
            &[],
            &[],
            &[b"CONNECT refuse.example:443 HTTP/1.1\r\nHost: refuse.example:443\r\n\r\n", GET_B],
        ),
        one(
            "connect with content-length 0 to a non-default port",
            &[],
            &[],
            &[b"CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com:8443\r\nContent-Length: 0\r\n\r\n"],
        ),
        // The 408 of a kept-alive connection.
        one(
            "408 on a keep-alive connection with a partial second request",
            &[],
            &[],
            &[GET_A, b"GET /b HTTP/1.1\r\nHo"],
        ),
        one(
            "408 on a keep-alive connection with a partial pipelined request",
            &[],
            &[],
            &[b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HT"],
        ),
        half_closed(
            "keep-alive client that closes half-way through its second request",
            fe_be("", ""),
            &[GET_A, b"GET /b HTTP/1.1\r\n"],
        ),
        half_closed(
            "client that closes half-way through its first request",
            fe_be("", ""),
            &[b"GET /a HTTP/1.1\r\nHost: h\r\n"],
        ),
        half_closed(
            "client that closes after its first request line",
            fe_be("", ""),
            &[b"GET /a HTTP/1.1\r\n"],
        ),
        half_closed(
            "client that closes after a few bytes",
            fe_be("", ""),
            &[b"GE"],
        ),
        half_closed(
            "client that closes after a blank line",
            fe_be("", ""),
            &[b"\r\n"],
        ),
        // 503 before the request body was read.
        clients(
            "503 with part of the request body read",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbo", b"dy", GET_B]],
        ),
        clients(
            "503 with the request body still to come",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", b"body", GET_B]],
        ),
        clients(
            "503 with a chunked request body",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", GET_B]],
        ),
        clients(
            "503 with a chunked request body still to come",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", b"4\r\nbody\r\n", b"0\r\n\r\n", GET_B]],
        ),
        clients(
            "503 after a retry with the request body sent meanwhile",
            dead.replace("retries 0", "retries 1"),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", b"body", GET_B]],
        ),
        clients(
            "503 with expect 100-continue",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", b"body", GET_B]],
        ),
        clients(
            "503 without a backend and a request body",
            no_backend.to_owned(),
            &[&[b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", b"body", GET_B]],
        ),
        clients(
            "503 with an http/1.0 request body",
            dead.to_owned(),
            &[&[b"POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nbody", b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]],
        ),
        // Answers of the rules before the request body was read.
        one(
            "deny with the request body still to come",
            &["http-request deny deny_status 429 if { method POST }"],
            &[],
            &[b"POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", b"body", GET_B],
        ),
        one(
            "return with the request body still to come",
            &["http-request return status 200 content-type text/plain string done if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n", b"body", GET_B],
        ),
        one(
            "redirect with a chunked request body in the head's packet",
            &["http-request redirect location /elsewhere if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", GET_B],
        ),
        one(
            "return with expect 100-continue",
            &["http-request return status 200 content-type text/plain string done if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", b"body", GET_B],
        ),
        one(
            "redirect with a content-length body in the head's packet",
            &["http-request redirect location /elsewhere if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody", GET_B],
        ),
        one(
            "deny with a chunked body in the head's packet",
            &["http-request deny if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n", GET_B],
        ),
        one(
            "return with a content-length body in the head's packet",
            &["http-request return status 200 content-type text/plain string done if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody", GET_B],
        ),
        one(
            "deny with an empty chunked body in the head's packet",
            &["http-request deny if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", GET_B],
        ),
        one(
            "deny with a content-length body in two packets",
            &["http-request deny if { method POST }"],
            &[],
            &[b"POST /r HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbo", b"dy", GET_B],
        ),
        // A server that answers an `Expect` request without a 100 once it has the body.
        one(
            "expect without a 100 from the server, the body sent anyway, then another request",
            &[],
            &[],
            &[b"POST /no-continue HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", b"abc", GET_B],
        ),
        // PROXY protocol toward servers.
        clients(
            "send-proxy to the server",
            with_server(&[], &[], "send-proxy"),
            &[&[GET_A, GET_B], &[GET_A]],
        ),
        clients(
            "send-proxy-v2 to the server",
            with_server(&[], &[], "send-proxy-v2"),
            &[&[GET_A, GET_B], &[GET_A]],
        ),
        clients(
            "send-proxy in tcp mode",
            with_server(&["mode tcp"], &["mode tcp"], "send-proxy"),
            &[&[GET_A]],
        ),
        clients(
            "send-proxy-v2 in tcp mode",
            with_server(&["mode tcp"], &["mode tcp"], "send-proxy-v2"),
            &[&[GET_A]],
        ),
        clients(
            "send-proxy with http-server-close",
            with_server(&["option http-server-close"], &[], "send-proxy"),
            &[&[GET_A, GET_B]],
        ),
    ]
}
