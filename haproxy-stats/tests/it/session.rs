//! Session framing at the limits and in the modes the recording does not cover.

use haproxy_stats::cli::{Cli, Level, MAX_ARGS, MAX_LINE_LEN, MAX_PAYLOAD_LEN};

use haproxy_stats::StatsError;

use crate::model::Model;

fn run(level: Level, input: &[u8]) -> (String, Cli) {
    let mut model = Model::new();
    let mut cli = Cli::new(level);
    let out = cli.feed(input, &mut model);
    (String::from_utf8_lossy(&out).into_owned(), cli)
}

#[test]
fn line_at_the_limit_is_answered_and_one_byte_more_closes_silently() {
    // `show env` + padding: a variable name that does not exist.
    let mut line = b"show env ".to_vec();
    line.resize(MAX_LINE_LEN, b'x');
    line.push(b'\n');
    let (out, cli) = run(Level::Admin, &line);
    assert_eq!(out, "Variable not found\n\n");
    assert!(cli.is_closed());

    let mut line = b"show env ".to_vec();
    line.resize(MAX_LINE_LEN + 1, b'x');
    let (out, cli) = run(Level::Admin, &line);
    assert_eq!(out, "");
    assert!(cli.is_closed(), "an over-long request closes the session");
    assert_eq!(
        cli.close_reason(),
        Some(&StatsError::LineTooLong {
            limit: MAX_LINE_LEN
        })
    );
}

#[test]
fn words_beyond_max_args_are_ignored() {
    let mut line = String::from("show version");
    for _ in 0..MAX_ARGS {
        line.push_str(" x");
    }
    line.push('\n');
    let (out, _) = run(Level::Admin, line.as_bytes());
    assert_eq!(out, "2.6.12-1+deb12u4\n\n");
}

#[test]
fn non_interactive_session_closes_after_the_buffered_commands() {
    let mut model = Model::new();
    let mut cli = Cli::new(Level::Admin);
    assert_eq!(cli.feed(b"show cli level\n", &mut model), b"admin\n\n");
    assert!(cli.is_closed());
    assert!(
        cli.feed(b"show version\n", &mut model).is_empty(),
        "later lines are not read"
    );
}

#[test]
fn prompt_toggles_back_to_non_interactive_and_closes() {
    let (out, cli) = run(Level::Operator, b"prompt\nprompt\n");
    assert_eq!(out, "\n> \n");
    assert!(cli.is_closed());
}

#[test]
fn payload_in_non_interactive_mode_has_no_prompts() {
    let mut model = Model::new();
    let mut cli = Cli::new(Level::Admin);
    assert!(
        cli.feed(b"add map paths.map <<\n/q be_rr\n", &mut model)
            .is_empty()
    );
    assert!(!cli.is_closed(), "waits for the empty line");
    assert_eq!(cli.feed(b"\n", &mut model), b"\n");
    assert!(cli.is_closed());
}

#[test]
fn crlf_line_endings_are_accepted() {
    let (out, _) = run(Level::User, b"show cli level\r\n");
    assert_eq!(out, "user\n\n");
}

#[test]
fn set_timeout_changes_the_session_timeout() {
    let (out, cli) = run(Level::User, b"set timeout cli 42\n");
    assert_eq!(out, "\n");
    assert_eq!(cli.timeout_secs(), 42);
}

#[test]
fn payload_larger_than_the_buffer_closes_the_session() {
    let mut model = Model::new();
    let mut cli = Cli::new(Level::Admin);
    let _ = cli.feed(b"add map paths.map <<\n", &mut model);
    let line = format!("/k {}\n", "v".repeat(1000));
    let mut fed = 0;
    while !cli.is_closed() && fed <= MAX_PAYLOAD_LEN + 2000 {
        assert!(cli.feed(line.as_bytes(), &mut model).is_empty());
        fed += line.len();
    }
    assert!(cli.is_closed());
    assert!(
        fed <= MAX_PAYLOAD_LEN + line.len(),
        "closed as soon as the limit was passed"
    );
}

#[test]
fn proxy_formatted_dumps_pass_through_with_levels() {
    let (out, _) = run(
        Level::Operator,
        b"show sess;show errors nosuch;show errors fe_http request\n",
    );
    assert_eq!(
        out,
        "0x1: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none>\n\n\
         No such proxy.\n\n\
         Total events captured on [21/Nov/2026:00:00:00.000] : 0\n\n"
    );
    let (out, _) = run(Level::User, b"show pools;show sess\n");
    assert_eq!(
        out,
        "Dumping pools usage. Use SIGQUIT to flush them.\n\nPermission denied\n\n"
    );
}
