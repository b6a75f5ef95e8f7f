//! Global `default-path` and `unix-bind`: which file each relative path opens, across lines and
//! files, and what `bind` lines take from `unix-bind` (HAProxy 2.6's `cfg_apply_default_path()`,
//! `str2sa_range()` with a prefix, `bind_conf` defaults). The recorded corpus covers the messages
//! (valid/20-21, dirs/03, invalid/52-53, warn/17); these cover what one `-c` run cannot show.

use haproxy_cfg::load::{Env, Loaded, MAX_DIR_PATH, Outcome, load};
use haproxy_cfg::model::{Location, UnixBind};
use haproxy_cfg::values::Address;
use std::cell::RefCell;

/// Every file exists except under `missing/`; directories exist except `/nonexistent*`; the
/// paths asked for are recorded.
#[derive(Default)]
struct Fs {
    asked: RefCell<Vec<String>>,
}

impl Env for Fs {
    fn read_file(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.asked.borrow_mut().push(path.to_owned());
        if path.contains("missing/") {
            return Err(std::io::Error::from_raw_os_error(2));
        }
        Ok(b"HTTP/1.1 503 Service Unavailable\r\n\r\n".to_vec())
    }
    fn resolves(&self, _: &str) -> bool {
        true
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "haproxy"
    }
    fn group_exists(&self, name: &str) -> bool {
        name == "haproxy"
    }
    fn enter_dir(&self, path: &str) -> std::io::Result<()> {
        if path.starts_with("/nonexistent") {
            Err(std::io::Error::from_raw_os_error(2))
        } else {
            Ok(())
        }
    }
    fn startup_dir(&self) -> String {
        "/start".to_owned()
    }
    fn user_id(&self, name: &str) -> Option<u32> {
        (name == "haproxy").then_some(1234)
    }
    fn group_id(&self, name: &str) -> Option<u32> {
        (name == "haproxy").then_some(4321)
    }
}

const BASE: &str = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";

fn run(fs: &Fs, files: &[(&str, &str)]) -> Loaded {
    let docs: Vec<_> = files
        .iter()
        .map(|(name, text)| haproxy_cfg::parse_str(name, text))
        .collect();
    load(&docs, fs)
}

fn texts(l: &Loaded) -> Vec<String> {
    l.diagnostics.iter().map(|d| d.haproxy_text()).collect()
}

fn at(file: &str, line: u32) -> Location {
    Location {
        file: file.into(),
        line,
    }
}

#[test]
fn config_mode_follows_each_file_and_outlives_the_file_that_set_it() {
    let fs = Fs::default();
    let l = run(
        &fs,
        &[
            (
                "etc/a.cfg",
                &format!("global\n    default-path config\n{BASE}    errorfile 503 e/503.http\n"),
            ),
            (
                "conf.d/b.cfg",
                "frontend fe\n    bind :80\n    errorfile 503 e/503.http\n    errorfile 502 /abs/502.http\n",
            ),
        ],
    );
    assert_eq!(l.outcome, Outcome::Valid, "{:?}", texts(&l));
    assert_eq!(
        *fs.asked.borrow(),
        ["etc/e/503.http", "conf.d/e/503.http", "/abs/502.http"]
    );
    assert_eq!(l.config.resolve_path(&at("etc/a.cfg", 1), "x"), "x");
    assert_eq!(l.config.resolve_path(&at("etc/a.cfg", 2), "x"), "etc/x");
    assert_eq!(
        l.config.resolve_path(&at("conf.d/b.cfg", 1), "x"),
        "conf.d/x"
    );
}

#[test]
fn parent_origin_and_current_in_one_file() {
    let fs = Fs::default();
    let text = format!(
        "global\n    default-path parent\n{BASE}    errorfile 503 p.http\nglobal\n    default-path origin /srv/errors\nfrontend fe\n    bind :80\n    errorfile 503 o.http\nglobal\n    default-path current\nbackend be\n    errorfile 503 c.http\n"
    );
    let l = run(&fs, &[("conf/h.cfg", &text)]);
    assert_eq!(l.outcome, Outcome::Valid, "{:?}", texts(&l));
    assert_eq!(
        *fs.asked.borrow(),
        ["conf/../p.http", "/srv/errors/o.http", "c.http"]
    );
}

#[test]
fn a_bare_file_name_has_no_directory_and_origin_carries_to_the_next_file() {
    let fs = Fs::default();
    let l = run(
        &fs,
        &[
            (
                "a.cfg",
                "global\n    default-path config\n    lua-load x.lua\n    default-path parent\n    lua-load y.lua\n    default-path origin rel\n",
            ),
            ("b.cfg", "global\n    lua-load z.lua\n"),
        ],
    );
    assert_eq!(*fs.asked.borrow(), ["x.lua", "../y.lua", "rel/z.lua"]);
    assert_eq!(l.config.resolve_path(&at("b.cfg", 1), "m"), "rel/m");
}

#[test]
fn a_directory_that_cannot_be_entered_leaves_the_startup_directory() {
    let fs = Fs::default();
    let text = format!(
        "global\n    default-path origin /srv\n    default-path origin /nonexistent\n{BASE}    errorfile 503 e.http\n"
    );
    let l = run(&fs, &[("t.cfg", &text)]);
    assert_eq!(l.outcome, Outcome::Invalid);
    assert_eq!(
        texts(&l).first().map(String::as_str),
        Some(
            "parsing [t.cfg:3] : couldn't set 'default-path' to origin '/nonexistent': Impossible to get back to directory '/start': No such file or directory."
        )
    );
    assert_eq!(*fs.asked.borrow(), ["e.http"]);
}

#[test]
fn directory_lengths_stop_at_path_max() {
    let fs = Fs::default();
    let origin = |len: usize| format!("global\n    default-path origin /{}\n", "d".repeat(len - 1));
    let ok = run(&fs, &[("t.cfg", &origin(MAX_DIR_PATH))]);
    assert!(
        ok.diagnostics.iter().all(|d| d.code != "bad-default-path"),
        "{:?}",
        texts(&ok)
    );
    let long = run(&fs, &[("t.cfg", &origin(MAX_DIR_PATH + 1))]);
    let msg = texts(&long).into_iter().next().unwrap_or_default();
    assert!(msg.contains(": Absolute path too long: '/ddd"), "{msg}");

    // `config`: the directory part must leave room for the terminating NUL.
    let file = |dir_len: usize| format!("/{}/t.cfg", "d".repeat(dir_len - 1));
    let text = "global\n    default-path config\n";
    let ok = run(&fs, &[(&file(MAX_DIR_PATH - 1), text)]);
    assert!(
        ok.diagnostics.iter().all(|d| d.code != "bad-default-path"),
        "{:?}",
        texts(&ok)
    );
    let long = run(&fs, &[(&file(MAX_DIR_PATH), text)]);
    let msg = texts(&long).into_iter().next().unwrap_or_default();
    assert!(
        msg.contains("Config file path too long, cannot use for relative paths"),
        "{msg}"
    );
}

/// HAProxy goes back to its startup directory at the end of each file, so the server state
/// file, read after parsing, ignores `default-path`.
#[test]
fn the_server_state_file_is_read_from_the_startup_directory() {
    let fs = Fs::default();
    let text = format!(
        "global\n    server-state-file missing/state\n    default-path origin /var/lib/haproxy\n{BASE}frontend fe\n    bind :80\n"
    );
    let l = run(&fs, &[("t.cfg", &text)]);
    assert!(
        fs.asked.borrow().contains(&"missing/state".to_owned()),
        "{:?}",
        fs.asked.borrow()
    );
    assert!(
        texts(&l).iter().any(|t| t.contains("'missing/state'")),
        "the message names the file as written: {:?}",
        texts(&l)
    );
}

#[test]
fn binds_take_the_unix_bind_settings_in_force_when_read() {
    let fs = Fs::default();
    let text = format!(
        "{BASE}frontend early\n    bind /early.sock\nglobal\n    unix-bind prefix /run/hx mode 0660 user haproxy gid 77\n    unix-bind group haproxy\nfrontend fe\n    bind /a.sock,unix@b.sock mode 600\n    bind abns@c\n    bind 127.0.0.1:80\n"
    );
    let l = run(&fs, &[("t.cfg", &text)]);
    assert_eq!(l.outcome, Outcome::Valid, "{:?}", texts(&l));
    let early = l
        .config
        .frontend("early")
        .and_then(|p| p.binds.first())
        .expect("early");
    assert_eq!(early.addresses, [Address::Unix("/early.sock".into())]);
    assert_eq!(early.unix_defaults, UnixBind::default());
    let fe = l.config.frontend("fe").expect("fe");
    let b = fe.binds.first().expect("bind");
    assert_eq!(
        b.addresses,
        [
            Address::Unix("/run/hx/a.sock".into()),
            Address::Unix("/run/hxb.sock".into())
        ]
    );
    assert_eq!(
        b.unix_defaults,
        UnixBind {
            prefix: None,
            mode: Some(0o660),
            uid: Some(1234),
            gid: Some(4321),
        }
    );
    assert_eq!(
        b.options.mode,
        Some(0o600),
        "the bind's own mode is kept for the build"
    );
    let abns = fe.binds.get(1).expect("abns");
    assert_eq!(abns.addresses, [Address::Abns("c".into())]);
    assert_eq!(l.config.global.unix_bind.prefix.as_deref(), Some("/run/hx"));
}
