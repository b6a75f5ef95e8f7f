//! The differential scenarios: a configuration and the client connections to run through it.

use std::time::Duration;

/// The pause between two parts a client sends on one connection.
pub(crate) const PART_PAUSE: Duration = Duration::from_millis(100);

/// One scenario: `config` (sections after `defaults`, with `SERVER`, `DEAD` and `DIR`
/// placeholders), and the client connections made one after the other, each a list of parts sent
/// [`PART_PAUSE`] apart.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    pub(crate) global: &'static str,
    pub(crate) config: String,
    pub(crate) clients: Vec<Vec<Vec<u8>>>,
    /// Half-close the client's write side after the last part (tunnels).
    pub(crate) half_close: bool,
}

/// A frontend with `fe` lines, a backend `be` with `be` lines and one server.
pub(super) fn fe_be(fe: &str, be: &str) -> String {
    format!(
        "frontend fe\n  bind 127.0.0.1:PORT\n{fe}  default_backend be\nbackend be\n{be}  server s1 SERVER\n"
    )
}

pub(super) fn lines(options: &[&str]) -> String {
    options.iter().map(|o| format!("  {o}\n")).collect()
}

pub(super) fn one(name: &'static str, fe: &[&str], be: &[&str], parts: &[&[u8]]) -> Scenario {
    Scenario {
        name,
        global: "",
        config: fe_be(&lines(fe), &lines(be)),
        clients: vec![parts.iter().map(|p| p.to_vec()).collect()],
        half_close: false,
    }
}

fn fields(n: usize) -> Vec<u8> {
    let mut v = b"GET /fields HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 1..n {
        v.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v
}

fn padded(pad: usize) -> Vec<u8> {
    let mut v = b"GET /pad HTTP/1.1\r\nX-Pad: ".to_vec();
    v.extend(std::iter::repeat_n(b'a', pad));
    v.extend_from_slice(b"\r\n\r\n");
    v
}

pub(crate) fn scenarios() -> Vec<Scenario> {
    const GET_A: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: T\r\nAccept: */*\r\n\r\n";
    const GET_B: &[u8] = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut v = vec![
        Scenario {
            name: "keep-alive reuse across requests and clients",
            global: "",
            config: fe_be("", ""),
            clients: vec![
                vec![GET_A.to_vec(), GET_B.to_vec()],
                vec![b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        one(
            "pipelined requests",
            &[],
            &[],
            &[b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"],
        ),
        one("http-server-close", &["option http-server-close"], &[], &[GET_A, GET_B]),
        one("httpclose", &["option httpclose"], &[], &[GET_A]),
        one(
            "server-close in the backend only",
            &[],
            &["option http-server-close"],
            &[GET_A, GET_B],
        ),
        one(
            "httpclose in the backend, keep-alive in the frontend",
            &["option http-keep-alive"],
            &["option httpclose"],
            &[GET_A, GET_B],
        ),
        one(
            "server-close in the frontend, keep-alive in the backend",
            &["option http-server-close"],
            &["option http-keep-alive"],
            &[GET_A, GET_B],
        ),
        one("http/1.0 client", &[], &[], &[b"GET /a HTTP/1.0\r\nHost: h\r\n\r\n"]),
        one(
            "http/1.0 client with keep-alive",
            &[],
            &[],
            &[
                b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                b"GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            ],
        ),
        one(
            "http/1.0 server, then another request",
            &[],
            &[],
            &[b"GET /http10 HTTP/1.1\r\nHost: h\r\n\r\n", GET_B],
        ),
        one(
            "server answers connection: close",
            &[],
            &[],
            &[b"GET /server-close HTTP/1.1\r\nHost: h\r\n\r\n", GET_B],
        ),
        one(
            "server answers keep-alive headers",
            &[],
            &[],
            &[b"GET /server-ka HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "chunked request with extension and trailer",
            &[],
            &[],
            &[
                b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n",
                b"2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n",
            ],
        ),
        one(
            "chunked responses",
            &[],
            &[],
            &[
                b"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /trailers HTTP/1.1\r\nHost: h\r\n\r\n",
            ],
        ),
        one(
            "content-length body in two parts",
            &[],
            &[],
            &[
                b"POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nabc",
                b"def",
            ],
        ),
        one(
            "expect 100-continue",
            &[],
            &[],
            &[
                b"POST /h HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
                b"abc",
            ],
        ),
        Scenario {
            name: "upgrade to a tunnel",
            global: "",
            config: fe_be("", ""),
            clients: vec![vec![
                b"GET /upgrade HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nping".to_vec(),
                b"pong".to_vec(),
            ]],
            half_close: true,
        },
        Scenario {
            name: "connect",
            global: "",
            config: fe_be("", ""),
            clients: vec![vec![
                b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".to_vec(),
                b"tunnelled".to_vec(),
            ]],
            half_close: true,
        },
        one(
            "head, 204, 304 and 103",
            &[],
            &[],
            &[
                b"HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /204 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /304 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /103 HTTP/1.1\r\nHost: h\r\n\r\n",
            ],
        ),
        one(
            "response header names and repeated set-cookie",
            &[],
            &[],
            &[b"GET /cookies HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nX-MiXeD-Case: V\r\n\r\n"],
        ),
        one(
            "response with both content-length and chunked",
            &[],
            &[],
            &[b"GET /te-cl HTTP/1.1\r\nHost: h\r\n\r\n", GET_B],
        ),
        one(
            "response with a bad chunk size",
            &[],
            &[],
            &[b"GET /bad-chunk HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "64 KiB response and a close-delimited response",
            &[],
            &[],
            &[
                b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /until-close HTTP/1.1\r\nHost: h\r\n\r\n",
            ],
        ),
        one(
            "client stalls in the middle of its body",
            &[],
            &[],
            &[b"POST /stall HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"],
        ),
        one(
            "client timeout while its body stalls",
            &["timeout client 500ms"],
            &[],
            &[b"POST /stall HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"],
        ),
        one(
            "server timeout gives 504",
            &[],
            &[],
            &[b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "accepted oddities are forwarded as HAProxy forwards them",
            &[],
            &[],
            &[
                b"GET /nohost HTTP/1.1\r\n\r\n",
                b"GET /lf HTTP/1.1\nHost: h\nX-A: b\n\n",
                b"GET http://h/abs?q=1 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /v12 HTTP/1.2\r\nHost: h\r\n\r\n",
                b"get /lower HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /ctl HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",
            ],
        ),
        one(
            "request with both transfer-encoding and content-length",
            &[],
            &[],
            &[b"POST /tecl HTTP/1.1\r\nHost: h\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "request with the same content-length twice",
            &[],
            &[],
            &[b"POST /cl2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", GET_B],
        ),
        one(
            "request with a content-length list",
            &[],
            &[],
            &[b"POST /cllist HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab", GET_B],
        ),
        one(
            "request with a bad chunk size",
            &[],
            &[],
            &[b"POST /badchunk HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"],
        ),
        one(
            "request with an overflowing chunk size",
            &[],
            &[],
            &[b"POST /bigchunk HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nab\r\n0\r\n\r\n"],
        ),
        one(
            "request chunk without its crlf",
            &[],
            &[],
            &[b"POST /nocrlf HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n"],
        ),
        one(
            "request with chunked twice",
            &[],
            &[],
            &[b"POST /chunked2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"],
        ),
        one(
            "request with gzip, chunked",
            &[],
            &[],
            &[b"POST /gzip HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"],
        ),
        one(
            "request with a bad chunk after the head went out",
            &[],
            &[],
            &[
                b"POST /late HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
                b"zz\r\n",
            ],
        ),
        one(
            "default ports and a repeated host",
            &[],
            &[],
            &[
                b"GET http://h:80/x HTTP/1.1\r\nHost: h:80\r\n\r\n",
                b"GET https://h:443/y HTTP/1.1\r\nHost: h:443\r\n\r\n",
                b"GET /z HTTP/1.1\r\nHost: h\r\nHost: H\r\n\r\n",
                b"GET http://h:8080/w HTTP/1.1\r\nHost: h:8080\r\n\r\n",
            ],
        ),
        one(
            "http/2.0 and http/1.0 request lines, leading-zero length",
            &[],
            &[],
            &[
                b"GET /v20 HTTP/2.0\r\nHost: h\r\n\r\n",
                b"POST /zero HTTP/1.1\r\nHost: h\r\nContent-Length: 002\r\n\r\nab",
                b"GET /v10 HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
            ],
        ),
        one(
            "websocket upgrade without a key",
            &[],
            &[],
            &[b"GET /upgrade HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"],
        ),
        one(
            "websocket upgrade with a key",
            &[],
            &[],
            &[b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"],
        ),
        one(
            "request with a signed content-length",
            &[],
            &[],
            &[b"POST /plus HTTP/1.1\r\nHost: h\r\nContent-Length: +2\r\n\r\nab"],
        ),
        Scenario {
            name: "small tune.bufsize and maxrewrite",
            global: "global\n  tune.bufsize 4096\n  tune.maxrewrite 512\n",
            config: fe_be("", ""),
            clients: [3400, 3470, 3471, 3472, 3473, 3600]
                .into_iter()
                .map(|pad| vec![padded(pad)])
                .collect(),
            half_close: false,
        },
        Scenario {
            name: "tune.http.maxhdr",
            global: "global\n  tune.http.maxhdr 10\n",
            config: fe_be("", ""),
            clients: vec![
                vec![fields(9)],
                vec![fields(10)],
                vec![b"GET /headers-9 HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /headers-10 HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        one(
            "forwardfor appends after an existing header",
            &["option forwardfor"],
            &[],
            &[b"GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n"],
        ),
        one(
            "forwardfor except the client's network",
            &["option forwardfor except 127.0.0.0/8"],
            &[],
            &[GET_A],
        ),
        one(
            "forwardfor with a header name and if-none",
            &["option forwardfor header X-Client if-none"],
            &["option forwardfor header X-Real-IP if-none"],
            &[
                b"GET /x HTTP/1.1\r\nHost: h\r\nX-Real-IP: 1.1.1.1\r\n\r\n",
                GET_B,
            ],
        ),
        one(
            "forwardfor in the backend only",
            &[],
            &["option forwardfor header X-Be"],
            &[GET_A],
        ),
        one(
            "originalto in the frontend and the backend",
            &["option originalto"],
            &["option originalto header X-Dst"],
            &[GET_A],
        ),
        one(
            "http-request deny, redirect and return before a forwarded request",
            &[
                "http-request deny if { path /deny }",
                "http-request redirect prefix /p if { path /r }",
                "http-request return status 404 content-type text/plain string gone if { path /ret }",
            ],
            &[],
            &[
                b"GET /deny HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /r HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /ret HTTP/1.1\r\nHost: h\r\n\r\n",
                GET_B,
            ],
        ),
        one(
            "http-request deny with a request body",
            &["http-request deny deny_status 429 if { method POST }"],
            &[],
            &[b"POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody", GET_B],
        ),
        one(
            "errorfile for deny",
            &["errorfile 403 DIR/403.http", "http-request deny"],
            &[],
            &[GET_A],
        ),
        Scenario {
            name: "errorfile 503 for a dead server",
            global: "",
            config: "frontend fe\n  bind 127.0.0.1:PORT\n  errorfile 503 DIR/503.http\n  default_backend be\nbackend be\n  retries 0\n  server s1 DEAD\n"
                .to_owned(),
            clients: vec![vec![GET_A.to_vec()]],
            half_close: false,
        },
        Scenario {
            name: "retries and redispatch around a dead server",
            global: "",
            config: "frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  balance roundrobin\n  retries 2\n  option redispatch\n  server dead DEAD\n  server s1 SERVER\n"
                .to_owned(),
            clients: vec![vec![GET_A.to_vec()], vec![GET_B.to_vec()], vec![GET_A.to_vec()]],
            half_close: false,
        },
        one(
            "errorfiles do not change the h1 parser's 400; an empty errorfile silences a 502",
            &["errorfile 400 DIR/400.http", "errorfile 502 DIR/empty.http"],
            &[],
            &[b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        Scenario {
            name: "errorfile 502 for a garbage response, errorfile 504 for a slow one",
            global: "",
            config: fe_be(
                &lines(&["errorfile 502 DIR/502.http", "errorfile 504 DIR/504.http"]),
                "",
            ),
            clients: vec![
                vec![b"GET /bad-chunk HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        one(
            "generated replies to http/1.0 clients",
            &[
                "http-request return status 200 content-type text/plain string hi if { path /ret }",
                "http-request deny if { path /deny }",
                "http-request redirect scheme https if { path /sch }",
            ],
            &[],
            &[
                b"GET /ret HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                b"GET /sch HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n",
                b"GET /deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ],
        ),
        one(
            "http/1.0 client with server-close and a close-delimited response",
            &["option http-server-close"],
            &[],
            &[
                b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                b"GET /until-close HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            ],
        ),
        one(
            "expect 100-continue answered at once with a final response",
            &[],
            &[],
            &[b"POST /no-continue HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", b"abc", GET_B],
        ),
        one(
            "chunked response to head and pipelined chunked uploads",
            &[],
            &[],
            &[
                b"HEAD /chunked HTTP/1.1\r\nHost: h\r\n\r\n",
                b"POST /u1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nPOST /u2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nbc\r\n0\r\n\r\n",
            ],
        ),
        one(
            "http/1.0 keep-alive response from the server",
            &[],
            &[],
            &[b"GET /http10-ka HTTP/1.1\r\nHost: h\r\n\r\n", GET_B],
        ),
        one(
            "httpclose with pipelined requests",
            &["option httpclose"],
            &[],
            &[b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "forwardfor and originalto with http-request rules and a backend override",
            &["option forwardfor", "option originalto", "http-request deny if { path /deny }"],
            &["option forwardfor header X-Client", "option originalto header X-Orig"],
            &[b"GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Client: 5.6.7.8\r\n\r\n"],
        ),
        Scenario {
            name: "response head larger than a small tune.bufsize",
            global: "global\n  tune.bufsize 4096\n  tune.maxrewrite 512\n",
            config: fe_be("", ""),
            clients: vec![vec![b"GET /big-head HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()], vec![GET_B.to_vec()]],
            half_close: false,
        },
        one(
            "http/1.0 clients get chunked and close-delimited responses",
            &[],
            &[],
            &[
                b"GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                b"GET /trailers HTTP/1.0\r\n\r\n",
            ],
        ),
        one(
            "upgrade request with a body",
            &[],
            &[],
            &[b"POST /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: test\r\nContent-Length: 2\r\n\r\nab"],
        ),
        Scenario {
            name: "503 with a request body pending",
            global: "",
            config: "frontend fe\n  bind 127.0.0.1:PORT\n  default_backend be\nbackend be\n  retries 0\n  server s1 DEAD\n"
                .to_owned(),
            clients: vec![vec![
                b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody".to_vec(),
                GET_B.to_vec(),
            ]],
            half_close: false,
        },
        one(
            "allow stops the rules, forwardfor except a single address",
            &[
                "http-request allow if { path /ok }",
                "http-request deny",
                "option forwardfor except 127.0.0.1",
            ],
            &[],
            &[b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", b"GET /no HTTP/1.1\r\nHost: h\r\n\r\n"],
        ),
        one(
            "connection header with extra tokens",
            &[],
            &[],
            &[b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Foo\r\nX-Foo: 1\r\n\r\n", b"GET /b HTTP/1.1\r\nHost: h\r\nConnection: close, TE\r\nTE: trailers\r\n\r\n"],
        ),
        one(
            "response with conflicting content-lengths",
            &[],
            &[],
            &[
                b"GET /resp-cl-conflict HTTP/1.1\r\nHost: h\r\n\r\n",
            ],
        ),
        Scenario {
            name: "more broken responses",
            global: "",
            config: fe_be("", ""),
            clients: vec![
                vec![b"GET /resp-cl-list HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /resp-chunked-twice HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /resp-gzip HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /resp-space-colon HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /resp-bad-trailer HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        Scenario {
            name: "odd request headers",
            global: "",
            config: fe_be("", ""),
            clients: vec![
                vec![b"GET /sp HTTP/1.1\r\nHost : h\r\n\r\n".to_vec()],
                vec![b"GET /fold HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n b\r\n\r\n".to_vec()],
                vec![b"GET /empty HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Spaces:   v   \r\n\r\n".to_vec()],
                vec![b"POST /trailer HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nNoColon\r\n\r\n".to_vec()],
                vec![b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        one(
            "expect 100-continue refused before the body is sent",
            &[],
            &[],
            &[b"POST /reject-expect HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"],
        ),
        Scenario {
            name: "request line oddities",
            global: "",
            config: fe_be("", ""),
            clients: [
                &b"GET /\xc3\xbc HTTP/1.1\r\nHost: h\r\n\r\n"[..],
                b"GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET  /two-spaces HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /trailing-space HTTP/1.1 \r\nHost: h\r\n\r\n",
                b"\r\nGET /leading-crlf HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
                b"PURGE /custom-method HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /q?a=%20&b=\"x\" HTTP/1.1\r\nHost: h\r\n\r\n",
                b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
            ]
            .into_iter()
            .map(|r| vec![r.to_vec()])
            .collect(),
            half_close: false,
        },
        Scenario {
            name: "header field oddities",
            global: "",
            config: fe_be("", ""),
            clients: [
                &b"GET /u HTTP/1.1\r\nHost: h\r\nX_Under: 1\r\n\r\n"[..],
                b"GET /t HTTP/1.1\r\nHost: h\r\nX-Tab: \tv\t\r\n\r\n",
                b"POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 2 \r\n\r\nab",
                b"GET /utf HTTP/1.1\r\nHost: h\r\nX-Utf: \xc3\xa9\r\n\r\n",
                b"GET /nul HTTP/1.1\r\nHost: h\r\nX-Nul: a\x00b\r\n\r\n",
                b"GET /empty-name HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",
                b"GET /host-empty HTTP/1.1\r\nHost:\r\n\r\n",
            ]
            .into_iter()
            .map(|r| vec![r.to_vec()])
            .collect(),
            half_close: false,
        },
        one("client sends nothing", &[], &[], &[b""]),
        one(
            "incomplete head times out",
            &[],
            &[],
            &[b"GET /partial HTTP/1.1\r\nHost: h\r\n"],
        ),
        one(
            "second request incomplete after a response",
            &[],
            &[],
            &[GET_A, b"GET /partial HTTP/1.1\r\n"],
        ),
        one(
            "http-request timeout with dontlognull",
            &["option dontlognull"],
            &[],
            &[b""],
        ),
        one(
            "return from a file, deny with an errorfile status, every redirect code",
            &[
                "errorfile 503 DIR/503.http",
                "http-request return status 201 content-type text/plain file DIR/body.txt if { path /file }",
                "http-request deny deny_status 503 if { path /deny503 }",
                "http-request redirect location /l303 code 303 if { path /303 }",
                "http-request redirect location /l307 code 307 if { path /307 }",
                "http-request redirect location /l308 code 308 if { path /308 }",
                "http-request redirect prefix / if { path /same }",
                "http-request return status 204 if { path /nocontent }",
                "http-request return status 404 content-type text/plain if { path /ctype-empty }",
            ],
            &[],
            &[
                b"GET /file HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /deny503 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /303 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /307 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /308 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /same?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /nocontent HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /ctype-empty HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /204-cl HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /304-cl HTTP/1.1\r\nHost: h\r\n\r\n",
            ],
        ),
        Scenario {
            name: "tune.maxrewrite capped at half of tune.bufsize",
            global: "global\n  tune.bufsize 4096\n  tune.maxrewrite 3000\n",
            config: fe_be("", ""),
            clients: [1933, 1934, 1935, 1936, 1937]
                .into_iter()
                .map(|pad| vec![padded(pad)])
                .collect(),
            half_close: false,
        },
        Scenario {
            name: "http/1.0 clients under server-close",
            global: "",
            config: fe_be(&lines(&["option http-server-close", "option forwardfor"]), ""),
            clients: vec![
                vec![b"GET /a HTTP/1.0\r\n\r\n".to_vec()],
                vec![
                    b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec(),
                    b"GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec(),
                ],
                vec![b"GET /http10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
        Scenario {
            name: "http/1.0 clients under httpclose",
            global: "",
            config: fe_be(&lines(&["option httpclose"]), ""),
            clients: vec![
                vec![b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_vec()],
                vec![b"GET /http10 HTTP/1.0\r\n\r\n".to_vec()],
                vec![b"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
            ],
            half_close: false,
        },
    ];
    // One scenario per malformed-request row of reference §6.8: nothing reaches the server.
    for (name, raw) in [
        (
            "400: space in the uri",
            &b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"[..],
        ),
        (
            "400: header without a colon",
            b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        ),
        (
            "400: invalid content-length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
        ),
        (
            "400: conflicting content-length",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        ),
        (
            "400: duplicate host",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ),
        ("400: fragment", b"GET /#f HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("400: bad method", b"G@T / HTTP/1.1\r\nHost: h\r\n\r\n"),
        (
            "400: host and authority differ",
            b"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
        ),
        (
            "400: connect without a port",
            b"CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ),
        (
            "400: chunked then gzip",
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        ),
        (
            "413: http/1.0 get with a body",
            b"GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\nab",
        ),
    ] {
        v.push(one(name, &[], &[], &[raw]));
    }
    v.extend(routing());
    v.push(one(
        "a tcp frontend upgraded to an http backend runs the backend's http-request rules",
        &["mode tcp"],
        &["http-request return status 200 content-type text/plain string from-be if { path /ret }"],
        &[
            b"GET /ret HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ],
    ));
    v.push(one(
        "http-buffer-request answers 100-continue itself",
        &["option http-buffer-request"],
        &[],
        &[
            b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
            b"hel",
            b"lo",
        ],
    ));
    v.push(one(
        "http-buffer-request in the backend with a chunked body",
        &[],
        &["option http-buffer-request"],
        &[
            b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            b"2\r\nde\r\n0\r\n\r\n",
        ],
    ));
    v.extend(super::gaps::scenarios());
    v.extend(super::early::scenarios());
    v.extend(super::reuse::scenarios());
    v.extend(super::case::scenarios());
    v
}

/// Backend `http-request` rules after `use_backend`, and dynamic `use_backend %[...]` names.
fn routing() -> Vec<Scenario> {
    let get = |path: &str, extra: &str| {
        vec![format!("GET {path} HTTP/1.1\r\nHost: h\r\n{extra}\r\n").into_bytes()]
    };
    let be2 = "backend be2\n  http-request return status 201 content-type text/plain string two if { path /two/ret }\n  http-request deny deny_status 429 if { hdr(x-deny) -m found }\n  http-request redirect prefix /moved code 301 if { path /two/allowed }\n  server s2 SERVER\n";
    vec![
        Scenario {
            name: "backend http-request rules after the frontend's and use_backend",
            global: "",
            config: format!(
                "{}{be2}",
                fe_be(
                    &lines(&[
                        "http-request deny if { path /fe }",
                        "http-request allow if { path /two/allowed }",
                        "use_backend be2 if { path_beg /two }",
                    ]),
                    ""
                )
            ),
            clients: vec![
                get("/fe", ""),
                get("/two/ret", ""),
                get("/two/x", "X-Deny: 1\r\n"),
                get("/two/allowed", ""),
                get("/two/ok", ""),
                get("/one", "X-Deny: 1\r\n"),
            ],
            half_close: false,
        },
        Scenario {
            name: "dynamic use_backend with a map and a prefix",
            global: "",
            // Each backend answers with its name, so the client sees which one was chosen.
            config: format!(
                "{}{}{}",
                fe_be(
                    &lines(&[
                        "use_backend be_%[req.hdr(x-be)] if { req.hdr(x-be) -m found }",
                        "use_backend %[req.hdr(host),lower,map_dom(DIR/hosts.map)]",
                    ]),
                    ""
                ),
                "backend be2\n  http-request return status 200 content-type text/plain string be2\n",
                "backend be_x\n  http-request return status 200 content-type text/plain string be_x\n",
            ),
            clients: vec![
                get("/1", "X-Be: x\r\n"),
                // No backend `be_nope`: HAProxy stops the rules there (default_backend), so the
                // host map of the next rule is not consulted.
                vec![b"GET /2 HTTP/1.1\r\nHost: example.com\r\nX-Be: nope\r\n\r\n".to_vec()],
                vec![b"GET /3 HTTP/1.1\r\nHost: www.EXAMPLE.com\r\n\r\n".to_vec()],
                vec![b"GET /4 HTTP/1.1\r\nHost: other.org\r\n\r\n".to_vec()],
                get("/5", ""),
            ],
            half_close: false,
        },
    ]
}
