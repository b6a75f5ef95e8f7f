//! The stats page in a real browser: headless Chromium (driven through chromedriver) loads the
//! page of a running daemon, a screenshot is taken, the frontends, backends and servers are
//! shown with their states, and the admin form puts a server in maintenance, after which no
//! traffic reaches it.

use crate::run::{Proxy, TempDir, body, free_port, request};
use crate::webdriver::{Browser, browser_available, processes_using};

fn config(fe: u16, a1: u16, a2: u16, st: u16) -> String {
    format!(
        "global\n    maxconn 100\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend www\n    bind 127.0.0.1:{fe}\n    default_backend apps\n\
         backend apps\n    balance roundrobin\n    server app1 127.0.0.1:{a1}\n    server app2 127.0.0.1:{a2}\n\
         listen app1\n    bind 127.0.0.1:{a1}\n    http-request return status 200 content-type text/plain string app1\n\
         listen app2\n    bind 127.0.0.1:{a2}\n    http-request return status 200 content-type text/plain string app2\n\
         listen stats\n    bind 127.0.0.1:{st}\n    stats enable\n    stats uri /stats\n    stats refresh 10s\n    stats admin if TRUE\n"
    )
}

#[test]
fn chromium_shows_the_page_and_its_admin_form_drains_a_server() {
    if !browser_available() {
        return;
    }
    let dir = TempDir::new("browser");
    let (fe, a1, a2, st) = (free_port(), free_port(), free_port(), free_port());
    let cfg = dir.write("stats.cfg", &config(fe, a1, a2, st));
    let _proxy = Proxy::start(&cfg, st);
    // Both servers take traffic before the change.
    let before: Vec<String> = (0..4)
        .map(|_| body(&request(fe, "/", "")).to_owned())
        .collect();
    assert_eq!(
        before.iter().filter(|b| *b == "app1").count(),
        2,
        "{before:?}"
    );

    let browser = Browser::start(free_port());
    browser.goto(&format!("http://127.0.0.1:{st}/stats"));
    let text = browser.text();
    for needle in [
        "www", "apps", "app1", "app2", "stats", "Frontend", "Backend",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the page:\n{text}"
        );
    }
    // Servers without checks are shown as "no check", one row each; frontends and backends too.
    assert_eq!(browser.count("tr.active_no_check"), 2);
    assert!(browser.count("tr.frontend") >= 4);
    assert!(browser.count("tr.backend") >= 4);
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stats-page.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000));

    // The admin form: tick app1, choose "Set state to MAINT", apply.
    browser.click("input[name='s'][value='app1']");
    browser.click("select[name='action'] option[value='maint']");
    browser.click("input[type='submit'][value='Apply']");
    // The click returns before the POST and its redirect are done: wait for the result page.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !browser.url().ends_with("/stats;st=DONE") || browser.count("tr.maintain") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no result page: {}",
            browser.url()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(browser.count("tr.maintain"), 1);
    assert_eq!(browser.count("tr.active_no_check"), 1);
    assert!(browser.text().contains("MAINT"));

    let after: Vec<String> = (0..6)
        .map(|_| body(&request(fe, "/", "")).to_owned())
        .collect();
    assert!(after.iter().all(|b| b == "app2"), "{after:?}");

    // Nothing of the browser outlives it: no process, no profile, no temp files.
    let scratch = browser.dir();
    assert!(scratch.join("profile").exists());
    assert!(
        !processes_using(&scratch).is_empty(),
        "no browser process found"
    );
    drop(browser);
    assert_eq!(processes_using(&scratch), Vec::<u32>::new());
    assert!(!scratch.exists(), "{} left behind", scratch.display());
}
