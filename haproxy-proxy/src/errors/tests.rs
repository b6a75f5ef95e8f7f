use super::*;
use crate::h1::Version;

fn recorded(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/haproxy-2.6/errors/{name}.raw",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn default_pages_match_haproxy_byte_for_byte() {
    // Recorded with `Connection: close` from an HTTP/1.1 client, so HAProxy's mux added `connection: close`.
    for &code in ERRORFILE_CODES {
        let ours = Reply::error(code).to_bytes(Version::HTTP_11, false);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&recorded(&code.to_string())),
            "code {code}"
        );
    }
}

#[test]
fn raw_h1_pages_match_haproxy() {
    assert_eq!(raw_h1_page(400).unwrap(), recorded("400-h1"));
    assert_eq!(raw_h1_page(408).unwrap(), recorded("408-h1"));
    assert_eq!(raw_h1_page(999), None);
}

#[test]
fn content_lengths_match_the_reference_table() {
    let table = [
        (200, 58),
        (400, 90),
        (401, 112),
        (403, 93),
        (404, 83),
        (405, 146),
        (407, 112),
        (408, 110),
        (410, 114),
        (413, 106),
        (425, 80),
        (429, 117),
        (500, 97),
        (501, 136),
        (502, 107),
        (503, 107),
        (504, 92),
    ];
    for (code, len) in table {
        assert_eq!(Reply::error(code).body.len(), len, "code {code}");
    }
}

#[test]
fn return_and_redirect_match_haproxy() {
    let r = return_reply(200, Some("text/plain"), b"hello\n".to_vec());
    assert_eq!(r.to_bytes(Version::HTTP_11, false), recorded("return"));
    assert_eq!(
        redirect_reply(302, "/pfx/redirect").to_bytes(Version::HTTP_11, false),
        recorded("redirect")
    );
    assert_eq!(
        redirect_reply(301, "/new").to_bytes(Version::HTTP_11, false),
        recorded("redirect301")
    );
}

#[test]
fn keep_alive_reply_has_no_connection_header_on_11_and_keep_alive_on_10() {
    let r = return_reply(204, None, Vec::new());
    let s11 = String::from_utf8(r.to_bytes(Version::HTTP_11, true)).unwrap();
    assert!(!s11.contains("connection"));
    let s10 = String::from_utf8(r.to_bytes(Version::HTTP_10, true)).unwrap();
    assert!(s10.contains("connection: keep-alive\r\n"));
    let s10close = String::from_utf8(r.to_bytes(Version::HTTP_10, false)).unwrap();
    assert!(s10close.contains("connection: close\r\n"));
}

#[test]
fn errorfile_keeps_its_status_line_and_drops_connection() {
    let file = b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n";
    let r = parse_errorfile(503, "/x.http", file).unwrap().unwrap();
    let out = String::from_utf8(r.to_bytes(Version::HTTP_11, false)).unwrap();
    assert_eq!(
        out,
        "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<h1>down</h1>\n"
    );
}

#[test]
fn errorfile_rules() {
    assert!(parse_errorfile(302, "f", b"HTTP/1.1 302 Found\r\n\r\n").is_err());
    assert!(parse_errorfile(503, "f", b"not http").is_err());
    assert_eq!(parse_errorfile(503, "f", b"").unwrap(), None);
    let mut big = b"HTTP/1.1 503 X\r\n\r\n".to_vec();
    big.resize(MAX_ERRORFILE_LEN, b'a');
    assert!(parse_errorfile(503, "f", &big).is_ok());
    big.push(b'a');
    assert!(parse_errorfile(503, "f", &big).is_err());
    let mut pages = ErrorPages::new();
    pages.set(503, None);
    assert_eq!(pages.get(503), None);
    assert_eq!(pages.get(403).map(|r| r.status), Some(403));
}
