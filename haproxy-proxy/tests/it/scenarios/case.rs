//! Header names respelled for bogus peers (issue 5 §5): the global `h1-case-adjust` map (lines
//! and `h1-case-adjust-file`) with `option h1-case-adjust-bogus-client` (heads to the client)
//! and `option h1-case-adjust-bogus-server` (heads to the server). Covered: names the client
//! and the server sent, names HAProxy adds itself (`x-forwarded-for`, `connection`), 1xx and
//! 101 heads, chunked trailers both ways, generated replies (`return`, error pages), a name
//! written in the map other than lowercase (never matched), and each option alone.

use super::table::{Scenario, fe_be, lines};

/// The map as global lines.
const MAP: &str = "global
  h1-case-adjust content-type Content-Type
  h1-case-adjust content-length Content-LENGTH
  h1-case-adjust x-custom X-CUSTOM
  h1-case-adjust x-origin X-Origin
  h1-case-adjust x-forwarded-for X-Forwarded-For
  h1-case-adjust connection Connection
  h1-case-adjust host HOST
  h1-case-adjust x-trailer X-Trailer
  h1-case-adjust x-req-trailer X-Req-TRAILER
  h1-case-adjust link Link
  h1-case-adjust upgrade UPGRADE
  h1-case-adjust cache-control Cache-Control
  h1-case-adjust Accept ACCEPT
";

/// The same kind of map read from `DIR/case.map` (written by the scenario set-up).
const FILE_MAP: &str = "global
  h1-case-adjust x-origin X-ORIGIN
  h1-case-adjust-file DIR/case.map
";

/// What `DIR/case.map` holds: comments, blank lines, blanks around the names.
pub(super) const CASE_MAP_FILE: &str = "# names for a bogus peer\n\n  content-length\tContent-Length\nx-custom   X-Custom  \r\nx-forwarded-for X-FORWARDED-FOR\nconnection CONNECTION\n";

/// Requests exercising every kind of head: plain, chunked with trailers both ways, a 103, and
/// one that closes (so that `connection: close` is added).
fn requests() -> Vec<Vec<u8>> {
    [
        &b"GET /a HTTP/1.1\r\nHost: h\r\nX-Custom: 1\r\nAccept: */*\r\nX-Other: o\r\n\r\n"[..],
        b"GET /trailers HTTP/1.1\r\nHost: h\r\n\r\n",
        b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Req-Trailer: r\r\nX-Custom: c\r\n\r\n",
        b"GET /103 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /until-close HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    ]
    .iter()
    .map(|p| p.to_vec())
    .collect()
}

fn scenario(name: &'static str, global: &'static str, fe: &[&str], be: &[&str]) -> Scenario {
    Scenario {
        name,
        global,
        config: fe_be(&lines(fe), &lines(be)),
        clients: vec![requests()],
        half_close: false,
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let client = "option h1-case-adjust-bogus-client";
    let server = "option h1-case-adjust-bogus-server";
    let ff = "option forwardfor";
    let ret =
        "http-request return status 200 content-type text/plain string hello if { path /ret }";
    vec![
        scenario("h1-case-adjust both sides", MAP, &[client, ff], &[server]),
        scenario("h1-case-adjust client side only", MAP, &[client, ff], &[]),
        scenario("h1-case-adjust server side only", MAP, &[ff], &[server]),
        scenario("h1-case-adjust map without the options", MAP, &[ff], &[]),
        scenario(
            "h1-case-adjust with httpclose",
            MAP,
            &[client, ff, "option httpclose"],
            &[server],
        ),
        scenario("h1-case-adjust from a file", FILE_MAP, &[client, ff], &[server]),
        Scenario {
            name: "h1-case-adjust on generated replies and a 101",
            global: MAP,
            config: fe_be(&lines(&[client, ret]), &lines(&[server])),
            clients: vec![
                vec![b"GET /ret HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()],
                vec![b"GET /upgrade HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\nping".to_vec()],
            ],
            // The tunnel ends when the client closes its side.
            half_close: true,
        },
        Scenario {
            name: "h1-case-adjust on an error page",
            global: MAP,
            config: "frontend fe\n  bind 127.0.0.1:PORT\n  option h1-case-adjust-bogus-client\n  default_backend be\nbackend be\n  retries 0\n  server s1 DEAD\n".to_owned(),
            clients: vec![vec![b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()]],
            half_close: false,
        },
        Scenario {
            name: "h1-case-adjust in a listen section",
            global: MAP,
            config: format!(
                "listen li\n  bind 127.0.0.1:PORT\n{}  server s1 SERVER\n",
                lines(&[client, server, ff])
            ),
            clients: vec![requests()],
            half_close: false,
        },
    ]
}
