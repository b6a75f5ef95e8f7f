//! The stats page compared structurally with the recorded HAProxy 2.6 pages: same proxies,
//! same rows in the same order with the same state classes, the same cells (colspans and
//! visible text, tooltips removed), the same titles, display options and admin form.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: malformed fixtures must fail loudly"
)]

use haproxy_stats::html::{PageOptions, render};

use crate::model::{http_body, recorded_info, recorded_snapshot};

fn strip_tips(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("<div class=tips>") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        rest = &tail[tail.find("</div>").unwrap() + 6..];
    }
    out.push_str(rest);
    out
}

fn text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    mask_age(out.replace("&nbsp;", " ").trim())
}

/// Ages (`3s`, `1m5s`, `3s UP`) depend on when the page was fetched: keep the unit-less rest.
fn mask_age(t: &str) -> String {
    let (age, rest) = t.split_once(' ').unwrap_or((t, ""));
    let is_age = !age.is_empty()
        && age.chars().next().is_some_and(|c| c.is_ascii_digit())
        && age
            .chars()
            .all(|c| c.is_ascii_digit() || "dhms".contains(c))
        && age.chars().last().is_some_and(|c| "dhms".contains(c));
    if is_age {
        format!("#age {rest}").trim_end().to_owned()
    } else {
        t.to_owned()
    }
}

/// One table row: class, and per cell (colspan, text).
type Row = (String, Vec<(usize, String)>);

fn rows(html: &str) -> Vec<Row> {
    let body = strip_tips(html);
    let start = body.find("</ul></td></tr></table>").unwrap();
    let mut out = Vec::new();
    for chunk in body[start..].split("<tr").skip(1) {
        let chunk = chunk.split("</tr>").next().unwrap();
        let class = chunk
            .trim_start()
            .strip_prefix("class=")
            .map(|c| {
                c.trim_start_matches('"')
                    .split(['"', '>'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .unwrap_or_default();
        if class == "titre" {
            continue;
        }
        let cells = chunk
            .split("<td")
            .skip(1)
            .map(|cell| {
                let (attrs, content) = cell.split_once('>').unwrap();
                let span = attrs.split("colspan=").nth(1).map_or(1, |v| {
                    v.trim_matches('"')
                        .split(|c: char| !c.is_ascii_digit())
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                });
                (span, text(content.split("</td>").next().unwrap()))
            })
            .collect();
        out.push((class, cells));
    }
    out
}

/// The pid printed in the recorded pages (same process as `show info`).
fn recorded_pid() -> u32 {
    crate::model::data("show-info.txt")
        .lines()
        .find_map(|l| l.strip_prefix("Pid: "))
        .unwrap()
        .parse()
        .unwrap()
}

fn page_options(uri: &str) -> PageOptions {
    PageOptions {
        uri: uri.into(),
        self_proxy: "stats".into(),
        ..PageOptions::default()
    }
}

/// The stats proxies served the page itself, so their counters moved between `show stat` and
/// the page fetch: for their rows (`volatile_proxies`) only classes and colspans are compared.
fn compare(ours: &str, theirs: &str, volatile_proxies: &[&str], admin: bool) {
    let (a, b) = (rows(ours), rows(theirs));
    assert_eq!(a.len(), b.len(), "row count");
    let mut proxy_of_row = Vec::new();
    // Rows are grouped per proxy; anchors in the raw HTML tell which proxy each row is in.
    for chunk in strip_tips(theirs)[strip_tips(theirs).find("</ul></td></tr></table>").unwrap()..]
        .split("<tr")
        .skip(1)
    {
        if chunk.contains("class=\"titre\"") {
            continue;
        }
        let px = chunk
            .split("<a name=\"")
            .nth(1)
            .map(|s| s.split('/').next().unwrap().to_owned())
            .unwrap_or_default();
        proxy_of_row.push(px);
    }
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert_eq!(x.0, y.0, "row {i} class");
        let spans = |r: &Row| r.1.iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(spans(x), spans(y), "row {i} cells of {:?}", y.1.first());
        let px = proxy_of_row.get(i).map(String::as_str).unwrap_or("");
        if !volatile_proxies.contains(&px) {
            assert_eq!(
                mask_rate_max(x, admin),
                mask_rate_max(y, admin),
                "row {i} ({px}) cell texts"
            );
        }
    }
}

/// The "Session rate / Max" and "Sessions / Max" cells (table columns 5 and 8, after the
/// optional admin column) are timing-dependent: masked like the CSV `rate_max` and `smax`.
fn mask_rate_max(row: &Row, admin: bool) -> Vec<String> {
    let targets = [5 + usize::from(admin), 8 + usize::from(admin)];
    let mut col = 0;
    row.1
        .iter()
        .map(|(span, t)| {
            let out = if targets.contains(&col) {
                "#".to_owned()
            } else {
                t.clone()
            };
            col += span;
            out
        })
        .collect()
}

fn heading(html: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    text(
        html.split(&open)
            .nth(1)
            .unwrap()
            .split(&format!("</{tag}>"))
            .next()
            .unwrap(),
    )
}

fn links(html: &str) -> Vec<String> {
    html.split("<li><a href=\"")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect()
}

#[test]
fn stats_page_matches_haproxy_structure() {
    let (_, theirs) = http_body("stats-page.http");
    let mut info = recorded_info();
    info.pid = recorded_pid();
    let opts = PageOptions {
        refresh: Some(5),
        show_legends: true,
        show_node: Some("rec-node".into()),
        show_desc: Some("recording instance, with a comma".into()),
        ..page_options("/stats")
    };
    let ours = render(&recorded_snapshot(), &info, &opts);
    assert_eq!(heading(&ours, "title"), heading(&theirs, "title"));
    assert_eq!(heading(&ours, "h1"), heading(&theirs, "h1"));
    assert_eq!(heading(&ours, "h2"), heading(&theirs, "h2"));
    assert_eq!(links(&ours), links(&theirs));
    compare(&ours, &theirs, &["stats", "stats_admin"], false);
}

#[test]
fn admin_page_with_scope_and_hidden_version_matches_haproxy_structure() {
    let (_, theirs) = http_body("stats-admin-page.http");
    let mut info = recorded_info();
    info.pid = recorded_pid();
    let opts = PageOptions {
        hide_version: true,
        scope: vec!["be_rr".into(), ".".into()],
        self_proxy: "stats_admin".into(),
        admin: true,
        ..page_options("/admin")
    };
    let ours = render(&recorded_snapshot(), &info, &opts);
    assert_eq!(heading(&ours, "h1"), "HAProxy");
    assert_eq!(heading(&ours, "h1"), heading(&theirs, "h1"));
    assert_eq!(heading(&ours, "h2"), heading(&theirs, "h2"));
    assert_eq!(links(&ours), links(&theirs));
    let select = |h: &str| {
        h.split("<select")
            .nth(1)
            .unwrap()
            .split("</form>")
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(select(&ours), select(&theirs));
    compare(&ours, &theirs, &["stats_admin"], true);
}

#[test]
fn up_only_hides_down_servers() {
    let opts = PageOptions {
        up_only: true,
        ..page_options("/stats")
    };
    let page = render(&recorded_snapshot(), &recorded_info(), &opts);
    assert!(!page.contains("be_rr/s3\""), "s3 is DOWN");
    assert!(page.contains("be_rr/s1\""));
    assert!(page.contains("Show all servers"));
}
