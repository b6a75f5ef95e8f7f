//! Runtime edits of pattern references while other threads evaluate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use haproxy_acl::AclSet;

use crate::req::Req;

#[test]
fn show_get_add_del_set_clear() {
    let mut set = AclSet::with_loader(Arc::new(|_: &str| Ok("10.0.0.0/8\n".to_owned())));
    set.set_origin("t.cfg", 12);
    set.parse_acl(&[
        "acl",
        "nets",
        "src",
        "-f",
        "/etc/nets.acl",
        "192.168.0.0/16",
    ])
    .unwrap();
    let refs = set.refs();
    let list = refs.list();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].show_line(),
        "0 (/etc/nets.acl) pattern loaded from file '/etc/nets.acl' used by acl at file 't.cfg' line 12. curr_ver=0 next_ver=0 entry_cnt=1"
    );
    assert_eq!(
        list[1].show_line(),
        "1 () acl 'src' file 't.cfg' line 12. curr_ver=0 next_ver=0 entry_cnt=1"
    );
    let file = refs.find("/etc/nets.acl").unwrap();
    assert_eq!(file.show_entries(), vec!["0x0 10.0.0.0/8".to_owned()]);
    assert_eq!(refs.find("#0").unwrap().id(), 0);
    assert!(refs.find("#9").is_err());
    let get = file.get("10.1.1.1");
    assert_eq!(
        get[0].to_string(),
        "type=ip, case=sensitive, match=yes, idx=tree, pattern=\"10.0.0.0/8\""
    );
    assert_eq!(
        file.get("11.1.1.1")[0].to_string(),
        "type=ip, case=sensitive, match=no"
    );
    assert_eq!(
        file.add("notanip", None).unwrap_err().to_string(),
        "'notanip' is not a valid IPv4 or IPv6 address"
    );
    let cond = set.parse_condition(&["if", "nets"]).unwrap();
    let mut r = Req::get("/");
    r.src = Some("11.1.1.1:1".parse().unwrap());
    assert!(!cond.eval(&r));
    let id = file.add("11.0.0.0/8", None).unwrap();
    assert!(cond.eval(&r));
    file.delete(&format!("#{id}")).unwrap();
    assert!(!cond.eval(&r));
    assert!(file.delete("11.0.0.0/8").is_err());
    file.clear();
    r.src = Some("10.1.1.1:1".parse().unwrap());
    assert!(!cond.eval(&r));
}

#[test]
fn map_set_changes_values() {
    let set = AclSet::with_loader(Arc::new(|_: &str| Ok("/api be_api\n".to_owned())));
    let e = set.parse_sample("path,map_beg(m.map,none)").unwrap();
    let r = Req::get("/api/x");
    assert_eq!(e.eval(&r).unwrap().to_bytes().as_ref(), b"be_api");
    let m = set.refs().find("m.map").unwrap();
    m.set("/api", "be_new").unwrap();
    assert_eq!(m.show_entries(), vec!["0x0 /api be_new".to_owned()]);
    assert_eq!(e.eval(&r).unwrap().to_bytes().as_ref(), b"be_new");
    assert_eq!(
        m.get("/api/zz")[0].to_string(),
        "type=beg, case=sensitive, found=yes, idx=tree, key=\"/api\", value=\"be_new\", type=\"str\""
    );
    assert!(m.set("/nope", "x").is_err());
}

/// Adds and deletes patterns from one thread while four threads evaluate. The pattern set always
/// contains `/stable` and at most one `/flip` entry: a reader must always see `/stable` (no lost
/// reads) and `/flip` either fully present or absent (no torn reads, no panics).
#[test]
fn edits_do_not_block_or_tear_readers() {
    let mut set = AclSet::new();
    set.parse_acl(&["acl", "p", "path_beg", "/stable"]).unwrap();
    let cond = Arc::new(set.parse_condition(&["if", "p"]).unwrap());
    let r = set.refs().list().pop().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(2);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (cond, stop) = (Arc::clone(&cond), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (stable, flip) = (Req::get("/stable/x"), Req::get("/flip/x"));
                let (mut n, mut seen_flip) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    assert!(cond.eval(&stable), "lost read");
                    seen_flip += u64::from(cond.eval(&flip));
                    n += 1;
                }
                (n, seen_flip)
            })
        })
        .collect();
    for i in 0..500 {
        let id = r.add("/flip", None).unwrap();
        if i % 2 == 0 {
            r.add(&format!("/other{i}"), None).unwrap();
        }
        r.delete(&format!("#{id}")).unwrap();
    }
    r.add("/flip", None).unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for h in readers {
        let (n, _) = h.join().unwrap();
        total += n;
    }
    assert!(total > 0);
    assert!(cond.eval(&Req::get("/flip/y")));
    assert_eq!(r.entries().len(), 252);
}
