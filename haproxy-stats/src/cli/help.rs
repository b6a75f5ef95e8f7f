//! The CLI keyword table with HAProxy 2.6.12's usage lines (verbatim from the recording in
//! tests/data/haproxy-2.6), and the help / "did you mean" message built from it.

/// The usage lines of every documented command, in HAProxy 2.6's keyword registration order
/// (object link order of the Debian build, then declaration order in each file): fuzzy
/// suggestions with equal distances are ranked in this order. Output is sorted separately.
pub(crate) const USAGE: &[&str] = &[
    "show tls-keys [id|*]                    : show tls keys references or dump tls ticket keys when id specified",
    "set ssl tls-key [id|file] <key>         : set the next TLS key for the <id> or <file> listener to <key>",
    "set ssl ocsp-response <resp|payload>    : update a certificate's OCSP Response from a base64-encode DER",
    "show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response",
    "show ssl providers                      : show loaded SSL providers",
    "add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload",
    "del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>",
    "show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>",
    "new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory",
    "set ssl cert <certfile> <payload>       : replace a certificate file",
    "commit ssl cert <certfile>              : commit a certificate file",
    "abort ssl cert <certfile>               : abort a transaction for a certificate file",
    "del ssl cert <certfile>                 : delete an unused certificate file",
    "show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file",
    "new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list",
    "set ssl ca-file <cafile> <payload>      : replace a CA file",
    "commit ssl ca-file <cafile>             : commit a CA file",
    "abort ssl ca-file <cafile>              : abort a transaction for a CA file",
    "del ssl ca-file <cafile>                : delete an unused CA file",
    "show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>",
    "new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list",
    "set ssl crl-file <crlfile> <payload>    : replace a CRL file",
    "commit ssl crl-file <crlfile>           : commit a CRL file",
    "abort ssl crl-file <crlfile>            : abort a transaction for a CRL file",
    "del ssl crl-file <crlfile>              : delete an unused CRL file",
    "show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>",
    "show sess [id]                          : report the list of current sessions or dump this exact session",
    "shutdown session [id]                   : kill a specific session",
    "shutdown sessions server <bk>/<srv>     : kill sessions on a server",
    "clear counters [all]                    : clear max statistics counters (or all counters)",
    "show info [desc|json|typed|float]*      : report information about the running process",
    "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
    "show schema json                        : report schema used for stats",
    "disable agent                           : disable agent checks",
    "disable health                          : disable health checks",
    "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)",
    "enable agent                            : enable agent checks",
    "enable health                           : enable health checks",
    "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)",
    "set maxconn server <bk>/<srv>           : change a server's maxconn setting",
    "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
    "get weight <bk>/<srv>                   : report a server's current weight",
    "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)",
    "add server <bk>/<srv>                   : create a new server",
    "del server <bk>/<srv>                   : remove a dynamically added server",
    "clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)",
    "set table <table> key <k> [data.* <v>]* : update or create a table entry's data",
    "show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)",
    "show peers [dict|-] [section]           : dump some information about all the peers or this peers section",
    "show resolvers [id]                     : dumps counters from all resolvers section and associated name servers",
    "set maxconn global <value>              : change the per-process maxconn setting",
    "set rate-limit <setting> <value>        : change a rate limiting value",
    "set severity-output [none|number|string]: set presence of severity level in feedback information",
    "set timeout [cli] <delay>               : change a timeout setting",
    "show env [var]                          : dump environment variables known to the process",
    "show cli sockets                        : dump list of cli sockets",
    "show cli level                          : display the level of the current CLI session",
    "show fd [num]                           : dump list of file descriptors in use or a specific one",
    "show activity                           : show per-thread activity stats (for support/developers)",
    "show version                            : show version of the current process",
    "operator                                : lower the level of the current CLI session to operator",
    "user                                    : lower the level of the current CLI session to user",
    "disable frontend <frontend>             : temporarily disable specific frontend",
    "enable frontend <frontend>              : re-enable specific frontend",
    "set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
    "show servers conn [<backend>]           : dump server connections status (all or for a single backend)",
    "show servers state [<backend>]          : dump volatile server information (all or for a single backend)",
    "show backend                            : list backends in the current running config",
    "shutdown frontend <frontend>            : stop a specific frontend",
    "set dynamic-cookie-key backend <bk> <k> : change a backend secret key for dynamic cookies",
    "enable dynamic-cookie backend <bk>      : enable dynamic cookies on a specific backend",
    "disable dynamic-cookie backend <bk>     : disable dynamic cookies on a specific backend",
    "show errors [<px>] [request|response]   : report last request and/or response errors for each proxy",
    "show cache                              : show cache status",
    "get var <name>                          : retrieve contents of a process-wide variable",
    "show libs                               : show loaded object files and libraries",
    "show threads                            : show some threads debugging information",
    "show events [<sink>] [-w] [-n]          : show event sink state",
    "add acl [@<ver>] <acl> <pattern>        : add an acl entry",
    "clear acl [@<ver>] <acl>                : clear the contents of this acl",
    "commit acl @<ver> <acl>                 : commit the ACL at this version",
    "del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>",
    "get acl <acl> <value>                   : report the patterns matching a sample for an ACL",
    "prepare acl <acl>                       : prepare a new version for atomic ACL replacement",
    "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents",
    "add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)",
    "clear map [@<ver>] <map>                : clear the contents of this map",
    "commit map @<ver> <map>                 : commit the map at this version",
    "del map <map> [<key>|#<ref>]            : delete map entries matching <key>",
    "get map <acl> <value>                   : report the keys and values matching a sample for a map",
    "prepare map <acl>                       : prepare a new version for atomic map replacement",
    "set map <map> [<key>|#<ref>] <value>    : modify a map entry",
    "show map [@ver] [map]                   : report available maps or dump a map's contents",
    "show pools                              : report information about the memory pools usage",
    "trace [<module>|0] [cmd [args...]]      : manage live tracing (empty to list, 0 to stop all)",
    "show trace [<module>]                   : show live tracing state",
    "set profiling <what> {auto|on|off}      : enable/disable resource profiling (tasks,memory)",
    "show profiling [<what>|<#lines>|byaddr]*: show profiling state (all,status,tasks,memory)",
    "show tasks                              : show running tasks",
    "show startup-logs                       : report logs emitted during HAProxy startup",
];

/// The three lines HAProxy always appends to a help listing.
pub(crate) const ALWAYS: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n";

/// HAProxy compares at most this many leading words of a command (`CLI_PREFIX_KW_NB`).
pub(crate) const PREFIX_WORDS: usize = 5;
/// At most this many fuzzy suggestions are offered (`CLI_MAX_MATCHES`).
pub(crate) const MAX_MATCHES: usize = 5;

/// The keyword words of a usage line: the leading words before the first argument placeholder.
pub(crate) fn keywords(usage: &str) -> Vec<&str> {
    let synopsis = usage.split_once(": ").map_or(usage, |(s, _)| s);
    synopsis
        .split_whitespace()
        .take_while(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()))
        .take(PREFIX_WORDS)
        .collect()
}

/// Bigram fingerprint of words (HAProxy's `update_word_fingerprint`, tools.c): letters map to
/// 1..=26, digits to 27, anything else to 28, which also marks the word's start and end.
fn add_fingerprint(fp: &mut [u8; 1024], word: &str) {
    let class = |b: u8| -> usize {
        match b.to_ascii_lowercase() {
            c @ b'a'..=b'z' => usize::from(c - b'a') + 1,
            b'0'..=b'9' => 27,
            _ => 28,
        }
    };
    let mut from = 28;
    for b in word.bytes() {
        let to = class(b);
        if let Some(slot) = fp.get_mut(to) {
            *slot = 1;
        }
        if let Some(slot) = fp.get_mut(32 * from + to) {
            *slot = slot.wrapping_add(1);
        }
        from = to;
    }
    if let Some(slot) = fp.get_mut(32 * from + 28) {
        *slot = slot.wrapping_add(1);
    }
}

fn distance(a: &[u8; 1024], b: &[u8; 1024]) -> usize {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| usize::from(x.abs_diff(*y)))
        .sum()
}

/// Builds the message HAProxy prints for `help [words]` (`is_help`) or for an unknown command.
pub(crate) fn usage_message(args: &[String], is_help: bool) -> String {
    let table: Vec<(Vec<&str>, &str)> = USAGE.iter().map(|u| (keywords(u), *u)).collect();
    // Longest run of leading words that some command matches exactly.
    let mut length = 0;
    for (kw, _) in &table {
        let n = kw
            .iter()
            .zip(args.iter())
            .take_while(|(k, a)| !a.is_empty() && **k == a.as_str())
            .count();
        length = length.max(n);
    }
    let mut out = String::from(if is_help {
        "The following commands are valid at this level:\n"
    } else if length == 0 && args.first().is_none_or(|a| a.is_empty()) {
        "Unknown command. Please enter one of the following commands only:\n"
    } else {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    });
    let prefix_ok = |kw: &[&str]| {
        kw.len() >= length
            && kw
                .iter()
                .zip(args.iter())
                .take(length)
                .all(|(k, a)| *k == a)
    };
    let mut matches: Vec<(usize, &str)> = Vec::new();
    if args.get(length).is_some_and(|a| !a.is_empty()) {
        let rest: Vec<&String> = args
            .iter()
            .skip(length)
            .take(PREFIX_WORDS.saturating_sub(length))
            .take_while(|a| !a.is_empty())
            .collect();
        for (kw, usage) in &table {
            if !prefix_ok(kw) {
                continue;
            }
            let mut word_fp = [0u8; 1024];
            let mut list_fp = [0u8; 1024];
            let mut total = 0;
            for a in &rest {
                add_fingerprint(&mut word_fp, a);
                total += a.len();
            }
            for k in kw.iter().skip(length) {
                add_fingerprint(&mut list_fp, k);
                total += k.len();
            }
            let dist = distance(&word_fp, &list_fp);
            let worst = if matches.len() < MAX_MATCHES {
                usize::MAX
            } else {
                matches.last().map_or(usize::MAX, |m| m.0)
            };
            if dist < 5 * total / 2 && dist < worst {
                if matches.len() == MAX_MATCHES {
                    matches.pop();
                }
                let at = matches
                    .iter()
                    .position(|m| m.0 > dist)
                    .unwrap_or(matches.len());
                matches.insert(at, (dist, usage));
            }
        }
    }
    let mut entries: Vec<&str> = match matches.first() {
        Some(&(best, _)) => matches
            .iter()
            .take_while(|m| m.0 <= 5 * best / 2)
            .map(|m| m.1)
            .collect(),
        None => table
            .iter()
            .filter(|(kw, _)| prefix_ok(kw))
            .map(|(_, u)| *u)
            .collect(),
    };
    entries.sort_unstable();
    for e in entries {
        out.push_str("  ");
        out.push_str(e);
        out.push('\n');
    }
    out.push_str(ALWAYS);
    out
}
