//! A minimal W3C WebDriver client over plain HTTP/1.1 (chromedriver speaks JSON over HTTP), enough
//! to open a page in headless Chromium, query elements, click and take a screenshot.
#![expect(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    reason = "test helpers: a failed browser step aborts the test with the driver's answer, and a skip is reported on stderr"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::TempDir;

/// The W3C key of an element reference in JSON answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian puts Chromium and its driver.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser test can run; under CI=true a missing browser is a failure.
pub(crate) fn browser_available() -> bool {
    let ok = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium and chromedriver are required under CI=true"
        );
        eprintln!("skipping: chromium / chromedriver not installed");
    }
    ok
}

/// How long the browser's processes may take to go once their driver is gone.
const BROWSER_EXIT: Duration = Duration::from_secs(10);

/// A running chromedriver with one browser session; on drop the session ends, the driver and
/// every browser process are gone, and only then is the scratch dir (the browser's profile and
/// its temp files) removed.
pub(crate) struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// Holds the profile and, through `TMPDIR`, the browser's other temp files.
    dir: Option<TempDir>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = call(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                "",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Some(dir) = self.dir.take() {
            let left = end_processes_using(&dir);
            if left.is_empty() {
                drop(dir);
            } else {
                // Removing the profile under a live browser would fail or be refilled: keep it,
                // and say so.
                eprintln!(
                    "browser processes {left:?} outlived their driver; kept {}",
                    dir.display()
                );
                std::mem::forget(dir);
            }
        }
    }
}

/// The processes whose command line mentions `dir` (the browser's, started with
/// `--user-data-dir` inside it).
pub(crate) fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

/// Kills (SIGKILL, by pid) the processes still using `dir` and waits, bounded by
/// [`BROWSER_EXIT`], until none is left; returns those that are.
fn end_processes_using(dir: &Path) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let left = processes_using(dir);
        if left.is_empty() || start.elapsed() > BROWSER_EXIT {
            return left;
        }
        for pid in &left {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP exchange with the driver; returns the JSON body.
fn call(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    // chromedriver waits forever on a GET that announces a (zero-length) body.
    let framing = if method == "POST" {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}Connection: close\r\n\r\n{body}"
    )?;
    // chromedriver keeps the connection open: read the head, then Content-Length bytes.
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if out.len() >= end + 4 + len {
                return Ok(String::from_utf8_lossy(&out[end + 4..end + 4 + len]).into_owned());
            }
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The JSON string value following `"key":` (unescaped), if any.
pub(crate) fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = json.get(at + key.len() + 2..)?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

impl Browser {
    /// Starts chromedriver on `port` and opens a headless Chromium session.
    pub(crate) fn start(port: u16) -> Browser {
        let dir = TempDir::new("chromium");
        let profile = dir.join("profile");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &*dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        // From here on, a failed start still ends the driver and removes the dir.
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            dir: Some(dir),
        };
        let start = Instant::now();
        while !call(port, "GET", "/status", "").is_ok_and(|b| b.contains("\"ready\":true")) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
        ]
        .iter()
        .map(|a| format!("\"{a}\""))
        .chain([format!("\"--user-data-dir={}\"", profile.display())])
        .collect::<Vec<_>>()
        .join(",");
        let caps = format!(
            "{{\"capabilities\":{{\"alwaysMatch\":{{\"browserName\":\"chrome\",\"goog:chromeOptions\":{{\"binary\":\"{CHROMIUM}\",\"args\":[{args}]}}}}}}}}"
        );
        let answer = call(port, "POST", "/session", &caps).expect("new session");
        browser.session = json_string(&answer, "sessionId").unwrap_or_else(|| panic!("{answer}"));
        browser
    }

    /// The scratch dir holding the browser's profile and temp files.
    pub(crate) fn dir(&self) -> std::path::PathBuf {
        self.dir
            .as_deref()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn cmd(&self, method: &str, what: &str, body: &str) -> String {
        call(
            self.port,
            method,
            &format!("/session/{}/{what}", self.session),
            body,
        )
        .expect("webdriver call")
    }

    /// Navigates to `url` and waits for the load.
    pub(crate) fn goto(&self, url: &str) {
        let a = self.cmd("POST", "url", &format!("{{\"url\":\"{url}\"}}"));
        assert!(!a.contains("\"error\""), "{a}");
    }

    /// The current URL.
    pub(crate) fn url(&self) -> String {
        json_string(&self.cmd("GET", "url", ""), "value").unwrap_or_default()
    }

    /// The page's visible text.
    pub(crate) fn text(&self) -> String {
        let a = self.cmd(
            "POST",
            "execute/sync",
            "{\"script\":\"return document.body.innerText\",\"args\":[]}",
        );
        json_string(&a, "value").unwrap_or_else(|| panic!("{a}"))
    }

    /// How many elements match a CSS selector.
    pub(crate) fn count(&self, css: &str) -> usize {
        let a = self.cmd(
            "POST",
            "elements",
            &format!("{{\"using\":\"css selector\",\"value\":\"{css}\"}}"),
        );
        a.matches(ELEMENT_KEY).count()
    }

    /// Clicks the first element matching a CSS selector.
    pub(crate) fn click(&self, css: &str) {
        let a = self.cmd(
            "POST",
            "element",
            &format!("{{\"using\":\"css selector\",\"value\":\"{css}\"}}"),
        );
        let id = json_string(&a, ELEMENT_KEY).unwrap_or_else(|| panic!("no element {css}: {a}"));
        let r = self.cmd("POST", &format!("element/{id}/click"), "{}");
        assert!(!r.contains("\"error\""), "{r}");
    }

    /// A PNG screenshot of the window, written to `path`.
    pub(crate) fn screenshot(&self, path: &Path) {
        let a = self.cmd("GET", "screenshot", "");
        let b64 = json_string(&a, "value").expect("screenshot data");
        assert!(b64.starts_with("iVBORw0KGgo"), "not a PNG");
        // Decoded by coreutils' base64 from a file (no pipe to fill while nobody reads).
        let encoded = path.with_extension("b64");
        std::fs::write(&encoded, b64.as_bytes()).expect("write base64");
        let out = Command::new("base64")
            .arg("-d")
            .arg(&encoded)
            .output()
            .expect("base64 -d");
        let _ = std::fs::remove_file(&encoded);
        assert!(out.status.success(), "base64 -d failed");
        std::fs::write(path, &out.stdout).expect("write screenshot");
    }
}
