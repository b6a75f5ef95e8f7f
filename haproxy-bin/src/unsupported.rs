//! Global directives `haproxy -c` accepts (as HAProxy 2.6 does) that the daemon cannot run:
//! refused at startup with an alert naming the directive, rather than ignored.

use haproxy_cfg::model::Global;

/// Global keywords the daemon refuses, with the reason printed after the directive's name.
/// Lua scripts register actions, services, fetches and tasks that would silently not exist.
const REFUSED: &[(&str, &str)] = &[
    ("lua-load", "Lua scripts are not supported yet"),
    ("lua-load-per-thread", "Lua scripts are not supported yet"),
];

/// The startup alert for the first global directive the daemon cannot run, if any:
/// `[file:line] : '<keyword>' : <reason>`.
pub(crate) fn refusal(global: &Global) -> Option<String> {
    global.other.iter().find_map(|d| {
        let kw = d.words.first()?;
        let (_, why) = REFUSED.iter().find(|(k, _)| k == kw)?;
        Some(format!("[{}:{}] : '{kw}' : {why}", d.loc.file, d.loc.line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxy_cfg::load::{SystemEnv, load};

    fn global(text: &str) -> Global {
        load(&[haproxy_cfg::parse_str("t.cfg", text)], &SystemEnv)
            .config
            .global
    }

    #[test]
    fn lua_loads_are_refused_by_name_and_place() {
        // `lua-load` reads its file at parse time; the crate's manifest is a file that exists.
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let g = global(&format!(
            "global\n    daemon\n    lua-load-per-thread {file}\n"
        ));
        assert_eq!(
            refusal(&g).as_deref(),
            Some("[t.cfg:3] : 'lua-load-per-thread' : Lua scripts are not supported yet")
        );
    }

    #[test]
    fn directives_without_a_visible_effect_are_accepted() {
        let g = global(
            "global\n    h2-workaround-bogus-websocket-clients\n    tune.lua.maxmem 64\n    lua-prepend-path /x/?.lua\n    tune.ssl.cachesize 100\n",
        );
        assert_eq!(refusal(&g), None);
    }
}
