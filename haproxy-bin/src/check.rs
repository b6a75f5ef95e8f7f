//! `haproxy -c`: load the files, run the checks, print HAProxy's output.

use crate::banner;
use haproxy_cfg::diag::{
    CheckOptions, CheckOutput, Diagnostic, Origin, errors_in_file, fatal_errors, render_check,
    render_open_error,
};
use haproxy_cfg::load::{Loaded, Outcome, SystemEnv, load, read_sources};

/// Adds what HAProxy refuses that the proxy's build refuses with HAProxy's own alerts, so that
/// `-c` and startup report the same lines and exit code: `tcp-request` rules only a frontend
/// may have in a `backend` section (parse errors, reported with the file's `Error(s) found`
/// line after the other findings of the parse), and, on a configuration that parsed, checked
/// servers without a port.
pub(crate) fn post_parse(loaded: &mut Loaded) {
    if loaded.outcome == Outcome::Invalid {
        return;
    }
    let parse = haproxy_proxy::build::frontend_only_rule_alerts(&loaded.config);
    if !parse.is_empty() {
        let mut files: Vec<&str> = Vec::new();
        for (file, line) in &parse {
            loaded.diagnostics.push(Diagnostic::alert(
                "frontend-only",
                Origin::Global,
                line.clone(),
            ));
            if !files.contains(&file.as_str()) {
                files.push(file);
            }
        }
        for file in files {
            loaded.diagnostics.push(errors_in_file(file));
        }
        loaded.diagnostics.push(fatal_errors());
        loaded.outcome = Outcome::Invalid;
        return;
    }
    let alerts = haproxy_proxy::build::portless_check_alerts(&loaded.config);
    if alerts.is_empty() {
        return;
    }
    for a in alerts {
        loaded
            .diagnostics
            .push(Diagnostic::alert("check-port", Origin::Global, a));
    }
    loaded.diagnostics.push(fatal_errors());
    loaded.outcome = Outcome::Invalid;
}

/// Checks the configuration made of `files` (files or directories, in order). Under
/// `master_worker` (`-W`, `-Ws`) a configuration without listeners is valid, as the master
/// always listens, the same as with the global `master-worker` keyword.
pub(crate) fn check(
    files: &[String],
    quiet: bool,
    zero_warning: bool,
    master_worker: bool,
) -> CheckOutput {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "haproxy".to_owned());
    let opts = CheckOptions {
        quiet,
        zero_warning,
        pid: std::process::id(),
        version: banner::VERSION,
        exe: &exe,
    };
    match read_sources(files) {
        // Directories without any *.cfg file leave nothing to check: HAProxy then prints its
        // banner and usage, as when no -f is given.
        Ok(docs) if docs.is_empty() => CheckOutput {
            stdout: banner::version(),
            stderr: banner::usage(),
            code: 1,
        },
        Ok(docs) => {
            let mut loaded = load(&docs, &SystemEnv);
            post_parse(&mut loaded);
            if master_worker && loaded.outcome == Outcome::NoListener {
                loaded.outcome = Outcome::Valid;
            }
            let out = render_check(&loaded, &opts);
            // The process exits right after printing: freeing a large tree and model piece by
            // piece would only add to the check's run time (a 50,000-line file has ~10^6 nodes).
            std::mem::forget(loaded);
            std::mem::forget(docs);
            out
        }
        Err(e) => render_open_error(&e, &opts),
    }
}
