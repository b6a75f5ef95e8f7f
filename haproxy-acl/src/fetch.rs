//! Sample fetches: names, arguments, output types, ACL derivatives, and how each one reads a
//! [`SampleSource`] (configuration.txt 7.3).

use std::borrow::Cow;
use std::net::IpAddr;

use crate::args::{Arg, ArgSpec, ArgType};
use crate::pattern::MatchKind;
use crate::sample::{Sample, SampleSource, SampleType, parse_leading_i64};
use crate::userlist::basic_credentials;

/// Which fetch to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FetchId {
    AlwaysTrue,
    AlwaysFalse,
    WaitEnd,
    Src,
    SrcPort,
    Dst,
    DstPort,
    Nbsrv,
    BeConn,
    FeConn,
    Queue,
    AvgQueue,
    Connslots,
    SrvIsUp,
    Path,
    Url,
    Base,
    Query,
    UrlParam,
    Hdr,
    Fhdr,
    HdrCnt,
    FhdrCnt,
    HdrVal,
    HdrIp,
    Method,
    Ver,
    Cook,
    CookCnt,
    Len,
    ProtoHttp,
    SslFc,
    SslFcSni,
    ReqSslSni,
    RdpCookieCnt,
    HttpAuth,
}

/// One entry of the fetch table.
#[derive(Debug)]
pub(crate) struct FetchDef {
    pub(crate) name: &'static str,
    pub(crate) id: FetchId,
    pub(crate) args: ArgSpec,
    pub(crate) out: SampleType,
}

const fn def(
    name: &'static str,
    id: FetchId,
    types: &'static [ArgType],
    min: usize,
    out: SampleType,
) -> FetchDef {
    FetchDef {
        name,
        id,
        args: ArgSpec { types, min },
        out,
    }
}

use ArgType as A;
use FetchId as F;
use SampleType as T;

const HDR_ARGS: &[ArgType] = &[A::Str, A::Int];

/// The sample fetches this crate knows (HAProxy 2.6 names and their legacy aliases).
pub(crate) const FETCHES: &[FetchDef] = &[
    def("always_true", F::AlwaysTrue, &[], 0, T::Bool),
    def("always_false", F::AlwaysFalse, &[], 0, T::Bool),
    def("wait_end", F::WaitEnd, &[], 0, T::Bool),
    def("src", F::Src, &[], 0, T::Ip),
    def("src_port", F::SrcPort, &[], 0, T::Int),
    def("dst", F::Dst, &[], 0, T::Ip),
    def("dst_port", F::DstPort, &[], 0, T::Int),
    def("nbsrv", F::Nbsrv, &[A::Backend], 0, T::Int),
    def("be_conn", F::BeConn, &[A::Backend], 0, T::Int),
    def("fe_conn", F::FeConn, &[A::Frontend], 0, T::Int),
    def("queue", F::Queue, &[A::Backend], 0, T::Int),
    def("avg_queue", F::AvgQueue, &[A::Backend], 0, T::Int),
    def("connslots", F::Connslots, &[A::Backend], 0, T::Int),
    def("srv_is_up", F::SrvIsUp, &[A::Server], 1, T::Bool),
    def("path", F::Path, &[], 0, T::Str),
    def("url", F::Url, &[], 0, T::Str),
    def("base", F::Base, &[], 0, T::Str),
    def("query", F::Query, &[], 0, T::Str),
    def("url_param", F::UrlParam, &[A::Str, A::Str], 0, T::Str),
    def("urlp", F::UrlParam, &[A::Str, A::Str], 0, T::Str),
    def("req.hdr", F::Hdr, HDR_ARGS, 0, T::Str),
    def("hdr", F::Hdr, HDR_ARGS, 0, T::Str),
    def("req.fhdr", F::Fhdr, HDR_ARGS, 0, T::Str),
    def("req.hdr_cnt", F::HdrCnt, &[A::Str], 0, T::Int),
    def("hdr_cnt", F::HdrCnt, &[A::Str], 0, T::Int),
    def("req.fhdr_cnt", F::FhdrCnt, &[A::Str], 0, T::Int),
    def("req.hdr_val", F::HdrVal, HDR_ARGS, 0, T::Int),
    def("hdr_val", F::HdrVal, HDR_ARGS, 0, T::Int),
    def("req.hdr_ip", F::HdrIp, HDR_ARGS, 0, T::Ip),
    def("hdr_ip", F::HdrIp, HDR_ARGS, 0, T::Ip),
    def("method", F::Method, &[], 0, T::Method),
    def("req.ver", F::Ver, &[], 0, T::Str),
    def("req_ver", F::Ver, &[], 0, T::Str),
    def("req.cook", F::Cook, &[A::Str], 0, T::Str),
    def("cook", F::Cook, &[A::Str], 0, T::Str),
    def("req.cook_cnt", F::CookCnt, &[A::Str], 0, T::Int),
    def("cook_cnt", F::CookCnt, &[A::Str], 0, T::Int),
    def("req.len", F::Len, &[], 0, T::Int),
    def("req_len", F::Len, &[], 0, T::Int),
    def("req.proto_http", F::ProtoHttp, &[], 0, T::Bool),
    def("req_proto_http", F::ProtoHttp, &[], 0, T::Bool),
    def("ssl_fc", F::SslFc, &[], 0, T::Bool),
    def("ssl_fc_sni", F::SslFcSni, &[], 0, T::Str),
    def("req.ssl_sni", F::ReqSslSni, &[], 0, T::Str),
    def("req_ssl_sni", F::ReqSslSni, &[], 0, T::Str),
    def("req.rdp_cookie_cnt", F::RdpCookieCnt, &[A::Str], 0, T::Int),
    def("rdp_cookie_cnt", F::RdpCookieCnt, &[A::Str], 0, T::Int),
    def("http_auth", F::HttpAuth, &[A::Userlist], 1, T::Bool),
];

/// Looks a fetch up by name.
pub(crate) fn find_fetch(name: &str) -> Option<&'static FetchDef> {
    FETCHES.iter().find(|f| f.name == name)
}

const DERIVED: &[(&str, &str)] = &[
    ("base", "base"),
    ("cook", "req.cook"),
    ("hdr", "req.hdr"),
    ("path", "path"),
    ("url", "url"),
    ("urlp", "urlp"),
];

/// Resolves an ACL keyword (`path_beg`, `hdr_dom`, `method`...) into its fetch and match method.
pub(crate) fn find_acl_keyword(name: &str) -> Option<(&'static FetchDef, MatchKind)> {
    if name == "method" {
        return Some((find_fetch("method")?, MatchKind::Method));
    }
    if name == "req_ver" {
        return Some((find_fetch("req.ver")?, MatchKind::Str));
    }
    for (base, fetch) in DERIVED {
        let Some(rest) = name.strip_prefix(base) else {
            continue;
        };
        let kind = match rest {
            "" => MatchKind::Str,
            "_beg" => MatchKind::Beg,
            "_dir" => MatchKind::Dir,
            "_dom" => MatchKind::Dom,
            "_end" => MatchKind::End,
            "_len" => MatchKind::Len,
            "_reg" => MatchKind::Reg,
            "_sub" => MatchKind::Sub,
            _ => continue,
        };
        return Some((find_fetch(fetch)?, kind));
    }
    None
}

/// A fetch with its parsed arguments.
#[derive(Debug, Clone)]
pub(crate) struct Fetch {
    pub(crate) def: &'static FetchDef,
    pub(crate) args: Vec<Arg>,
}

/// Iterates the comma-separated values of a header value, trimmed of spaces and tabs.
fn split_values(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(|p| p.trim_ascii())
}

/// Path part of a URI: from the first `/` (after `scheme://authority` for absolute URIs) to `?`.
pub(crate) fn uri_path(uri: &[u8]) -> Option<&[u8]> {
    let start = if uri.first() == Some(&b'/') {
        0
    } else {
        let p = uri.windows(3).position(|w| w == b"://")?;
        let after = p + 3;
        match uri.get(after..)?.iter().position(|&b| b == b'/') {
            Some(s) => after + s,
            None => return Some(b""),
        }
    };
    let rest = uri.get(start..)?;
    let end = rest.iter().position(|&b| b == b'?').unwrap_or(rest.len());
    rest.get(..end)
}

fn query(uri: &[u8]) -> Option<&[u8]> {
    let q = uri.iter().position(|&b| b == b'?')?;
    uri.get(q + 1..)
}

impl Fetch {
    fn str_arg(&self, i: usize) -> Option<&str> {
        self.args
            .get(i)
            .and_then(Arg::as_str)
            .filter(|s| !s.is_empty())
    }

    fn occ(&self, default: i64) -> i64 {
        self.args.get(1).and_then(Arg::as_int).unwrap_or(default)
    }

    /// Visits the values of this fetch. With `all` (ACL context) multi-valued fetches visit every
    /// value; otherwise they visit the single value HAProxy's sample context returns. `f` returns true
    /// to stop; the result says whether it stopped.
    pub(crate) fn each<'s>(
        &self,
        src: &'s dyn SampleSource,
        all: bool,
        f: &mut dyn FnMut(Sample<'s>) -> bool,
    ) -> bool {
        let one = |s: Option<Sample<'s>>, f: &mut dyn FnMut(Sample<'s>) -> bool| s.is_some_and(f);
        let be = self.str_arg(0);
        match self.def.id {
            F::AlwaysTrue | F::WaitEnd => one(Some(Sample::Bool(true)), f),
            F::AlwaysFalse => one(Some(Sample::Bool(false)), f),
            F::Src => one(src.src().map(|a| Sample::Ip(a.ip())), f),
            F::SrcPort => one(src.src().map(|a| Sample::Int(i64::from(a.port()))), f),
            F::Dst => one(src.dst().map(|a| Sample::Ip(a.ip())), f),
            F::DstPort => one(src.dst().map(|a| Sample::Int(i64::from(a.port()))), f),
            F::Nbsrv => one(src.nbsrv(be).map(Sample::Int), f),
            F::BeConn => one(src.be_conn(be).map(Sample::Int), f),
            F::FeConn => one(src.fe_conn(be).map(Sample::Int), f),
            F::Queue => one(src.queue(be).map(Sample::Int), f),
            F::AvgQueue => one(src.avg_queue(be).map(Sample::Int), f),
            F::Connslots => one(src.connslots(be).map(Sample::Int), f),
            F::SrvIsUp => {
                let arg = self.str_arg(0).unwrap_or_default();
                let (b, s) = match arg.split_once('/') {
                    Some((b, s)) => (b, s),
                    None => ("", arg),
                };
                one(src.srv_is_up(b, s).map(Sample::Bool), f)
            }
            F::Path => one(src.uri().and_then(uri_path).map(Sample::str), f),
            F::Url => one(src.uri().map(Sample::str), f),
            F::Query => one(src.uri().and_then(query).map(Sample::str), f),
            F::Base => {
                let Some(path) = src.uri().and_then(uri_path) else {
                    return false;
                };
                let mut host: Option<&[u8]> = None;
                self.headers(src, Some("host"), false, &mut |v| {
                    host = Some(v);
                    true
                });
                match host {
                    Some(h) => {
                        let mut b = Vec::with_capacity(h.len() + path.len());
                        b.extend_from_slice(h);
                        b.extend_from_slice(path);
                        f(Sample::Str(Cow::Owned(b)))
                    }
                    None => f(Sample::str(path)),
                }
            }
            F::UrlParam => {
                let Some(q) = src.uri().and_then(query) else {
                    return false;
                };
                let delim = self
                    .str_arg(1)
                    .and_then(|d| d.bytes().next())
                    .unwrap_or(b'&');
                let name = self.str_arg(0).map(str::as_bytes);
                for param in q.split(|&b| b == delim) {
                    let value = match name {
                        Some(n) => match param.strip_prefix(n).and_then(|r| r.strip_prefix(b"=")) {
                            Some(v) => v,
                            None => continue,
                        },
                        None => match param.iter().position(|&b| b == b'=') {
                            Some(p) => param.get(p + 1..).unwrap_or_default(),
                            None => continue,
                        },
                    };
                    let stop = f(Sample::str(value));
                    if stop || !all {
                        return stop;
                    }
                }
                false
            }
            F::Hdr | F::Fhdr | F::HdrVal | F::HdrIp => {
                let split = self.def.id != F::Fhdr;
                let occ = self.occ(if all { 0 } else { -1 });
                let name = self.str_arg(0);
                let id = self.def.id;
                let conv = |v: &'s [u8]| -> Option<Sample<'s>> {
                    match id {
                        F::HdrVal => Some(Sample::Int(parse_leading_i64(v))),
                        F::HdrIp => std::str::from_utf8(v)
                            .ok()?
                            .parse::<IpAddr>()
                            .ok()
                            .map(Sample::Ip),
                        _ => Some(Sample::str(v)),
                    }
                };
                self.occurrences(src, name, split, occ, &mut |v| conv(v).is_some_and(&mut *f))
            }
            F::HdrCnt | F::FhdrCnt => {
                let mut n = 0i64;
                let split = self.def.id == F::HdrCnt;
                self.headers(src, self.str_arg(0), split, &mut |_| {
                    n += 1;
                    false
                });
                f(Sample::Int(n))
            }
            F::Method => one(src.method().map(Sample::str), f),
            F::Ver => one(src.version().map(Sample::str), f),
            F::Len => one(
                src.body_len()
                    .map(|l| Sample::Int(i64::try_from(l).unwrap_or(i64::MAX))),
                f,
            ),
            F::ProtoHttp => one(Some(Sample::Bool(src.is_http())), f),
            F::SslFc => one(Some(Sample::Bool(src.ssl_fc())), f),
            F::SslFcSni => one(src.ssl_fc_sni().map(Sample::str), f),
            F::ReqSslSni => one(src.req_ssl_sni().map(Sample::str), f),
            F::RdpCookieCnt => one(Some(Sample::Int(src.rdp_cookie_count().unwrap_or(0))), f),
            F::Cook | F::CookCnt => {
                let name = self.str_arg(0).map(str::as_bytes);
                let count = self.def.id == F::CookCnt;
                let mut n = 0i64;
                let mut last: Option<&'s [u8]> = None;
                let stopped = self.headers(src, Some("cookie"), false, &mut |line| {
                    for c in line.split(|&b| b == b';') {
                        let c = c.trim_ascii();
                        let Some(eq) = c.iter().position(|&b| b == b'=') else {
                            continue;
                        };
                        let (k, v) = (
                            c.get(..eq).unwrap_or_default(),
                            c.get(eq + 1..).unwrap_or_default(),
                        );
                        if name.is_some_and(|n| n != k) {
                            continue;
                        }
                        n += 1;
                        if count {
                            continue;
                        }
                        if all {
                            if f(Sample::str(v)) {
                                return true;
                            }
                        } else {
                            last = Some(v);
                        }
                    }
                    false
                });
                if count {
                    f(Sample::Int(n))
                } else if all {
                    stopped
                } else {
                    one(last.map(Sample::str), f)
                }
            }
            F::HttpAuth => {
                let ok = (|| {
                    let ul = src.userlist(self.str_arg(0)?)?;
                    let mut cred = None;
                    self.headers(src, Some("authorization"), false, &mut |v| {
                        cred = basic_credentials(v);
                        true
                    });
                    let (u, p) = cred?;
                    ul.authenticate(&u, &p).map(drop)
                })()
                .is_some();
                f(Sample::Bool(ok))
            }
        }
    }

    /// Visits header values named `name` (all headers when `None`), split on commas when `split`.
    fn headers<'s>(
        &self,
        src: &'s dyn SampleSource,
        name: Option<&str>,
        split: bool,
        f: &mut dyn FnMut(&'s [u8]) -> bool,
    ) -> bool {
        let mut i = 0;
        while let Some((n, v)) = src.header(i) {
            i += 1;
            if name.is_some_and(|want| !n.eq_ignore_ascii_case(want.as_bytes())) {
                continue;
            }
            if split {
                for part in split_values(v) {
                    if f(part) {
                        return true;
                    }
                }
            } else if f(v) {
                return true;
            }
        }
        false
    }

    /// Visits the values selected by an occurrence index: 0 = all, n > 0 = the n-th, n < 0 = the
    /// n-th from the end.
    fn occurrences<'s>(
        &self,
        src: &'s dyn SampleSource,
        name: Option<&str>,
        split: bool,
        occ: i64,
        f: &mut dyn FnMut(&'s [u8]) -> bool,
    ) -> bool {
        let target = if occ >= 0 {
            occ
        } else {
            let mut total = 0i64;
            self.headers(src, name, split, &mut |_| {
                total += 1;
                false
            });
            let t = total + occ + 1;
            if t <= 0 {
                return false;
            }
            t
        };
        let mut n = 0i64;
        let mut stopped = false;
        self.headers(src, name, split, &mut |v| {
            n += 1;
            if target == 0 || n == target {
                stopped = f(v);
                return stopped || n == target;
            }
            false
        });
        stopped
    }
}
