//! The listeners a runtime opens, kept apart from the opening itself so that every thread of a
//! thread-per-core runtime can open its own `SO_REUSEPORT` sockets on the same addresses while
//! the frontends, their counters and the `maxconn` gates stay shared.

use std::sync::Arc;

use super::{Bound, Running, StartupError, os_reason};
use crate::build::{Runtime, Service};
use crate::listener::{BindOptions, BindTarget, ConnGate, bind};

/// One socket to open, with its frontend and its gates (bind, frontend, global `maxconn`).
#[derive(Debug, Clone)]
struct Entry {
    target: BindTarget,
    options: BindOptions,
    service: Arc<Service>,
    gates: Vec<ConnGate>,
    accept_proxy: bool,
    /// `file:line` of the `bind` line, for the startup alert.
    loc: String,
    /// `frontend` or `proxy`, for the startup alert.
    type_str: &'static str,
}

/// Every listener of a [`Runtime`], ready to be opened once per thread with [`ListenPlan::open`].
///
/// Clones share the frontends and the `maxconn` gates.
#[derive(Debug, Clone)]
pub struct ListenPlan {
    entries: Vec<Entry>,
}

impl Runtime {
    /// The listeners to open, with the `maxconn` gates created once for all threads.
    pub fn plan(self) -> ListenPlan {
        let global = ConnGate::new(self.global_maxconn);
        let mut entries = Vec::new();
        for fe in self.frontends {
            let fe_gate = ConnGate::new(fe.service.frontend.maxconn);
            for spec in &fe.binds {
                let bind_gate = ConnGate::new(spec.maxconn);
                for target in &spec.targets {
                    entries.push(Entry {
                        target: target.clone(),
                        options: spec.options,
                        service: Arc::clone(&fe.service),
                        gates: vec![bind_gate.clone(), fe_gate.clone(), global.clone()],
                        accept_proxy: spec.accept_proxy,
                        loc: spec.loc.clone(),
                        type_str: fe.type_str,
                    });
                }
            }
        }
        ListenPlan { entries }
    }

    /// Opens every listener; must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StartupError::NoListener`] when no frontend binds anything, [`StartupError::Bind`] with
    /// HAProxy's `Binding [file:line] for <type> <name>: cannot bind socket (...) for [addr]` lines.
    pub fn start(self) -> Result<Running, StartupError> {
        self.plan().open(true)
    }
}

impl ListenPlan {
    /// Sets `SO_REUSEPORT` on every TCP listener, so that each thread can open the same
    /// addresses and the kernel spreads the incoming connections between them.
    pub fn with_reuseport(mut self) -> Self {
        for e in &mut self.entries {
            e.options.reuseport = true;
        }
        self
    }

    /// Opens the listeners in the current tokio runtime. Only the `primary` opening binds unix
    /// sockets: a path can be bound once, so the other threads leave them to the first.
    ///
    /// # Errors
    /// As [`Runtime::start`].
    pub fn open(&self, primary: bool) -> Result<Running, StartupError> {
        if self.entries.is_empty() {
            return Err(StartupError::NoListener);
        }
        let mut bound = Vec::new();
        let mut failures = Vec::new();
        for e in &self.entries {
            if !primary && matches!(e.target, BindTarget::Unix(_)) {
                continue;
            }
            match bind(&e.target, &e.options) {
                Ok(listener) => bound.push(Bound {
                    listener,
                    target: e.target.clone(),
                    options: e.options,
                    service: Arc::clone(&e.service),
                    gates: e.gates.clone(),
                    accept_proxy: e.accept_proxy,
                }),
                Err(crate::ProxyError::Bind { addr, reason }) => {
                    let addr = match &e.target {
                        BindTarget::Tcp(a) => a.to_string(),
                        BindTarget::Unix(_) => addr,
                    };
                    failures.push(format!(
                        "Binding [{}] for {} {}: cannot bind socket ({}) for [{addr}]",
                        e.loc,
                        e.type_str,
                        e.service.frontend.name,
                        os_reason(&reason)
                    ));
                }
                Err(other) => failures.push(other.to_string()),
            }
        }
        if !failures.is_empty() {
            return Err(StartupError::Bind(failures));
        }
        Ok(Running { bound })
    }
}
