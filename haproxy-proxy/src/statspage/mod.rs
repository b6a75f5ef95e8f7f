//! The HTTP statistics page (`stats enable`, `stats uri`, …) served by a frontend or listen
//! section: authentication, the HTML / CSV / JSON / typed forms chosen by URI suffix, and the
//! admin form (reference §4.4). The page renders a snapshot of the [`Registry`].

mod auth;
mod form;

use std::sync::Arc;
use std::time::Duration;

use haproxy_stats::html::PageOptions;
use haproxy_stats::{RowOptions, StatFilter};

pub use auth::{MAX_AUTH_LEN, authorized};
pub use form::{FormResult, MAX_FORM_LEN, apply};

use crate::errors::Reply;
use crate::h1::Headers;
use crate::http::RequestCondition;
use crate::registry::Registry;
use crate::route::StreamView;

/// HAProxy's default `stats uri`.
pub const DEFAULT_URI: &str = "/haproxy?stats";
/// HAProxy's default `stats realm`.
pub const DEFAULT_REALM: &str = "HAProxy Statistics";

/// A proxy's `stats …` settings.
#[derive(Debug, Clone)]
pub struct StatsPage {
    /// `stats uri`: the page answers every request whose URI starts with it.
    pub uri: String,
    /// `stats realm`.
    pub realm: String,
    /// `stats auth user:password` pairs; empty means no authentication.
    pub users: Vec<String>,
    /// `stats refresh`.
    pub refresh: Option<Duration>,
    /// `stats admin if|unless <cond>`: who may use the admin form.
    pub admin: Option<Arc<dyn RequestCondition>>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats scope` names (`.` is the serving proxy).
    pub scope: Vec<String>,
    /// `stats show-node [name]`.
    pub show_node: Option<String>,
    /// `stats show-desc [desc]`.
    pub show_desc: Option<String>,
    /// `stats show-legends`.
    pub show_legends: bool,
    /// The name of the proxy serving the page.
    pub proxy: String,
}

/// The form of the answer, from the URI suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Csv,
    Json,
    Typed,
}

/// What the URI suffixes (`;csv`, `;up`, …) ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Suffixes {
    format: Format,
    up: bool,
    no_maint: bool,
    norefresh: bool,
}

fn suffixes(rest: &str) -> Suffixes {
    let mut s = Suffixes {
        format: Format::Html,
        up: false,
        no_maint: false,
        norefresh: false,
    };
    for part in rest.split(';') {
        match part {
            "csv" => s.format = Format::Csv,
            "json" => s.format = Format::Json,
            "typed" => s.format = Format::Typed,
            "up" => s.up = true,
            "no-maint" => s.no_maint = true,
            "norefresh" => s.norefresh = true,
            _ => {}
        }
    }
    s
}

/// Builds a chunked reply (HAProxy sends the page in chunks) with `cache-control: no-cache`.
pub(crate) fn page_reply(
    status: u16,
    content_type: &str,
    refresh: Option<u64>,
    body: &[u8],
) -> Reply {
    let mut headers = Headers::new();
    headers.push(b"cache-control", b"no-cache");
    headers.push(b"content-type", content_type.as_bytes());
    if let Some(r) = refresh {
        headers.push(b"refresh", r.to_string().as_bytes());
    }
    headers.push(b"transfer-encoding", b"chunked");
    let mut chunked = Vec::with_capacity(body.len() + 16);
    if !body.is_empty() {
        chunked.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
        chunked.extend_from_slice(body);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    Reply {
        status_line: format!("HTTP/1.1 {status} OK"),
        status,
        headers,
        body: chunked,
    }
}

impl StatsPage {
    /// Whether `uri` is for the page (a prefix match, as HAProxy does).
    pub fn matches(&self, uri: &str) -> bool {
        uri.starts_with(&self.uri)
    }

    /// The `401` asking for credentials, or `None` when the request may see the page.
    pub fn challenge(&self, authorization: Option<&[u8]>) -> Option<Reply> {
        if self.users.is_empty() || authorized(authorization, &self.users) {
            return None;
        }
        let mut r = Reply::error(401);
        r.headers.push(
            b"www-authenticate",
            format!("Basic realm=\"{}\"", self.realm).as_bytes(),
        );
        Some(r)
    }

    /// Whether the admin form is granted to this stream.
    pub fn is_admin(&self, stream: &StreamView<'_>) -> bool {
        self.admin.as_ref().is_some_and(|c| c.matches(stream))
    }

    /// The answer to a `POST` of the admin form: a `303` to `<uri>;st=<CODE>`.
    pub fn post(&self, reg: &Registry, admin: bool, body: &[u8]) -> (Reply, FormResult) {
        let result = if admin {
            apply(reg, body)
        } else {
            FormResult::Deny
        };
        let mut headers = Headers::new();
        headers.push(b"cache-control", b"no-cache");
        headers.push(b"content-type", b"text/plain");
        headers.push(b"content-length", b"0");
        headers.push(
            b"location",
            format!("{};st={}", self.uri, result.code()).as_bytes(),
        );
        let reply = Reply {
            status_line: "HTTP/1.1 303 See Other".to_owned(),
            status: 303,
            headers,
            body: Vec::new(),
        };
        (reply, result)
    }

    /// The page for a `GET` of `uri` (which [`StatsPage::matches`]).
    pub fn get(&self, reg: &Registry, uri: &str, admin: bool) -> Reply {
        let rest = uri.get(self.uri.len()..).unwrap_or_default();
        let sfx = suffixes(rest);
        let refresh = self.refresh.filter(|_| !sfx.norefresh).map(|d| d.as_secs());
        let snap = crate::admin::snapshot(reg);
        let info = reg.info();
        let filter = StatFilter {
            up: sfx.up,
            no_maint: sfx.no_maint,
            ..StatFilter::default()
        };
        match sfx.format {
            Format::Html => {
                let opts = PageOptions {
                    uri: self.uri.clone(),
                    refresh: refresh.and_then(|r| u32::try_from(r).ok()),
                    no_refresh: sfx.norefresh,
                    up_only: sfx.up,
                    hide_version: self.hide_version,
                    show_node: self.show_node.clone(),
                    show_desc: self.show_desc.clone(),
                    show_legends: self.show_legends,
                    scope: self.scope.clone(),
                    self_proxy: self.proxy.clone(),
                    admin,
                };
                let html = haproxy_stats::html::render(&snap, &info, &opts);
                page_reply(200, "text/html", refresh, html.as_bytes())
            }
            Format::Csv => {
                let rows = haproxy_stats::rows(&snap, &filter, RowOptions::default());
                let text = haproxy_stats::csv::render(&rows, snap.module_columns);
                page_reply(200, "text/plain", refresh, text.as_bytes())
            }
            Format::Typed => {
                let rows = haproxy_stats::rows(&snap, &filter, RowOptions::default());
                let text = haproxy_stats::typed::render_typed(&rows, snap.module_columns);
                page_reply(200, "text/plain", refresh, text.as_bytes())
            }
            Format::Json => {
                let rows = haproxy_stats::rows(&snap, &filter, RowOptions::default());
                let text = haproxy_stats::typed::render_json(&rows, snap.module_columns);
                page_reply(200, "application/json", refresh, text.as_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_pick_the_format_and_filters() {
        assert_eq!(suffixes("").format, Format::Html);
        let s = suffixes(";csv;up;norefresh");
        assert_eq!(
            s,
            Suffixes {
                format: Format::Csv,
                up: true,
                no_maint: false,
                norefresh: true
            }
        );
        assert_eq!(suffixes(";json;no-maint").format, Format::Json);
        assert_eq!(suffixes(";typed").format, Format::Typed);
    }

    #[test]
    fn pages_are_chunked_and_uncached() {
        let r = page_reply(200, "text/plain", Some(5), b"abc");
        assert_eq!(r.body, b"3\r\nabc\r\n0\r\n\r\n");
        assert_eq!(r.headers.get("refresh"), Some(&b"5"[..]));
        assert_eq!(r.headers.get("cache-control"), Some(&b"no-cache"[..]));
    }
}
