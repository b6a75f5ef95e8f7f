//! Every fetch and its ACL derivatives on a plain request struct.

use std::sync::Arc;

use haproxy_acl::{AclSet, Userlist};

use crate::req::Req;

fn t(acl: &[&str], req: &Req) -> bool {
    let mut set = AclSet::with_loader(Arc::new(|p: &str| match p {
        "hosts.map" => Ok("example.com be_ex\n# c\n\nother.org be_other\n".to_owned()),
        "nets.lst" => Ok("10.0.0.0/8\n  192.168.0.0/16\n".to_owned()),
        _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
    }));
    let mut w = vec!["acl", "x"];
    w.extend_from_slice(acl);
    set.parse_acl(&w).unwrap();
    set.parse_condition(&["if", "x"]).unwrap().eval(req)
}

#[test]
fn l4_fetches() {
    let r = Req::get("/");
    assert!(t(&["src", "127.0.0.1"], &r));
    assert!(t(&["src", "-f", "nets.lst", "127.0.0.0/8"], &r));
    assert!(!t(&["src", "-f", "nets.lst"], &r));
    assert!(t(&["src_port", "40000"], &r));
    assert!(t(&["dst", "127.0.0.1"], &r));
    assert!(t(&["dst_port", "80"], &r));
    assert!(t(&["always_true"], &r));
    assert!(!t(&["always_false"], &r));
    let mut r6 = Req::get("/");
    r6.src = Some("[::ffff:10.1.2.3]:1".parse().unwrap());
    assert!(t(&["src", "10.0.0.0/8"], &r6));
}

#[test]
fn backend_state_fetches_use_the_source() {
    let mut r = Req::get("/");
    assert!(!t(&["nbsrv(be)", "ge", "1"], &r));
    r.nbsrv = Some(2);
    assert!(t(&["nbsrv(be)", "ge", "1"], &r));
    assert!(t(&["nbsrv", "2"], &r));
    assert!(!t(&["be_conn", "0"], &r));
    assert!(!t(&["srv_is_up(be/s1)"], &r));
}

#[test]
fn http_fetches() {
    let r = Req::get("http://Example.com:8080/a/b?x=1&y=2")
        .hdr("Host", "example.com")
        .hdr("X-L", "a, b")
        .hdr("x-l", "c")
        .hdr("Cookie", "s=1; t=2")
        .hdr("X-V", "42abc");
    assert!(t(&["path", "/a/b"], &r));
    assert!(t(&["url_beg", "http://"], &r));
    assert!(t(&["query", "x=1&y=2"], &r));
    assert!(t(&["base", "example.com/a/b"], &r));
    assert!(t(&["urlp(y)", "2"], &r));
    assert!(t(&["url_param(x)", "-m", "int", "1"], &r));
    assert!(t(&["hdr(x-l)", "b"], &r));
    assert!(t(&["hdr(x-l,-1)", "c"], &r));
    assert!(!t(&["hdr(x-l,-1)", "b"], &r));
    assert!(t(&["hdr(x-l,2)", "b"], &r));
    assert!(t(&["req.fhdr(x-l)", "a, b"], &r));
    assert!(t(&["hdr_cnt(x-l)", "3"], &r));
    assert!(t(&["req.fhdr_cnt(x-l)", "2"], &r));
    assert!(t(&["hdr_val(x-v)", "42"], &r));
    assert!(t(&["cook(t)", "2"], &r));
    assert!(t(&["req.cook_cnt(s)", "1"], &r));
    assert!(t(&["method", "GET"], &r));
    assert!(t(&["req.ver", "1.1"], &r));
    assert!(t(&["req.proto_http"], &r));
    assert!(t(&["req.len", "0"], &r));
    assert!(!t(&["ssl_fc"], &r));
    assert!(!t(&["ssl_fc_sni", "-m", "found"], &r));
    assert!(t(&["hdr(host),map_str(hosts.map)", "be_ex"], &r));
    assert!(!t(
        &["hdr(x-none),map_str(hosts.map,dflt)", "-m", "found"],
        &r
    ));
    let mut s = Req::get("/");
    s.ssl_sni = Some("a.example".into());
    assert!(t(&["ssl_fc"], &s));
    assert!(t(&["ssl_fc_sni", "-m", "end", ".example"], &s));
}

#[test]
fn http_auth_checks_the_userlist() {
    let mut ul = Userlist::new();
    ul.add_insecure("alice", "secret", &["admin"]);
    let mut r = Req::get("/").hdr("Authorization", "Basic YWxpY2U6c2VjcmV0");
    r.userlist = Some(ul.clone());
    assert!(t(&["http_auth(users)"], &r));
    let mut bad = Req::get("/").hdr("Authorization", "Basic YWxpY2U6eA==");
    bad.userlist = Some(ul);
    assert!(!t(&["http_auth(users)"], &bad));
}

#[test]
fn sample_expressions_and_maps() {
    let set = AclSet::with_loader(Arc::new(|_: &str| Ok("example.com be_ex\n".to_owned())));
    let e = set
        .parse_sample("req.hdr(host),lower,map(/etc/haproxy/hosts.map,default_be)")
        .unwrap();
    let r = Req::get("/").hdr("Host", "EXAMPLE.com");
    assert_eq!(e.eval(&r).unwrap().to_bytes().as_ref(), b"be_ex");
    let r = Req::get("/").hdr("Host", "nope");
    assert_eq!(e.eval(&r).unwrap().to_bytes().as_ref(), b"default_be");
    let last = set.parse_sample("hdr(x)").unwrap();
    let r = Req::get("/").hdr("X", "1, 2").hdr("X", "3");
    assert_eq!(last.eval(&r).unwrap().to_bytes().as_ref(), b"3");
}

/// A source that only knows backend state, named per backend.
struct Counters;
impl haproxy_acl::SampleSource for Counters {
    fn be_conn(&self, b: Option<&str>) -> Option<i64> {
        Some(if b == Some("api") { 7 } else { 1 })
    }
    fn fe_conn(&self, _: Option<&str>) -> Option<i64> {
        Some(3)
    }
    fn queue(&self, _: Option<&str>) -> Option<i64> {
        Some(0)
    }
    fn avg_queue(&self, _: Option<&str>) -> Option<i64> {
        Some(2)
    }
    fn connslots(&self, _: Option<&str>) -> Option<i64> {
        Some(-1)
    }
    fn srv_is_up(&self, b: &str, s: &str) -> Option<bool> {
        Some(b == "api" && s == "s1")
    }
}

#[test]
fn backend_counters_pass_names_through() {
    let mut set = AclSet::new();
    for (n, w) in [
        ("a", &["be_conn(api)", "gt", "5"][..]),
        ("b", &["be_conn", "1"]),
        ("c", &["fe_conn", "3"]),
        ("d", &["queue(api)", "0"]),
        ("e", &["avg_queue", "2"]),
        ("f", &["connslots(api)", "lt", "0"]),
        ("g", &["srv_is_up(api/s1)"]),
    ] {
        let mut line = vec!["acl", n];
        line.extend_from_slice(w);
        set.parse_acl(&line).unwrap();
    }
    let all = set
        .parse_condition(&["if", "a", "b", "c", "d", "e", "f", "g"])
        .unwrap();
    assert!(all.eval(&Counters));
    set.parse_acl(&["acl", "h", "srv_is_up(api/s2)"]).unwrap();
    assert!(!set.parse_condition(&["if", "h"]).unwrap().eval(&Counters));
}
