//! The listeners a runtime opens, kept apart from the opening itself so that every thread of a
//! thread-per-core runtime can open its own `SO_REUSEPORT` sockets on the same addresses while
//! the frontends, their counters, the `maxconn` gates and the registry stay shared. What must run
//! once per process (health checks, the `maxconn` keepers of the runtime API) goes to the primary
//! opening.

use std::sync::{Arc, Mutex};

use super::{Bound, Running, StartupError, os_reason};
use crate::admin::LimitKeeper;
use crate::build::{HttpUpgrades, Runtime, Service, TcpRules};
use crate::listener::{BindOptions, BindTarget, ConnGate, bind};
use crate::registry::Registry;

/// One socket to open, with its frontend and its gates (bind, frontend, global `maxconn`).
#[derive(Debug, Clone)]
struct Entry {
    target: BindTarget,
    options: BindOptions,
    service: Arc<Service>,
    gates: Vec<ConnGate>,
    accept_proxy: bool,
    tcp: Arc<TcpRules>,
    upgrades: Arc<HttpUpgrades>,
    /// `file:line` of the `bind` line, for the startup alert.
    loc: String,
    /// `frontend` or `proxy`, for the startup alert.
    type_str: &'static str,
}

/// What runs once per process, handed to the primary opening.
#[derive(Debug)]
struct Once {
    keepers: Vec<LimitKeeper>,
    health: crate::health::Plan,
}

/// Every listener of a [`Runtime`], ready to be opened once per thread with [`ListenPlan::open`].
#[derive(Debug)]
pub struct ListenPlan {
    entries: Vec<Entry>,
    registry: Arc<Registry>,
    once: Mutex<Option<Once>>,
}

impl Runtime {
    /// The listeners to open, with the `maxconn` gates created once for all threads.
    pub fn plan(self) -> ListenPlan {
        crate::admin::prepare(&self);
        let mut keepers = Vec::new();
        let global = ConnGate::new(self.global_maxconn);
        keepers.push(LimitKeeper::global(&global, &self.registry));
        let mut entries = Vec::new();
        for fe in self.frontends {
            // A frontend without its own maxconn takes the global one, as in HAProxy; the gate
            // is sized so `set maxconn frontend` and `disable frontend` can hold slots back.
            let capacity = match fe.service.frontend.maxconn {
                0 => self.global_maxconn,
                m => m,
            };
            let fe_gate = ConnGate::new(capacity);
            keepers.extend(LimitKeeper::frontend(
                &fe_gate,
                capacity,
                &self.registry,
                &fe.service.frontend.name,
            ));
            for spec in &fe.binds {
                let bind_gate = ConnGate::new(spec.maxconn);
                for target in &spec.targets {
                    entries.push(Entry {
                        target: target.clone(),
                        options: spec.options,
                        service: Arc::clone(&fe.service),
                        // A gate without a limit never holds a connection back: leaving it out
                        // keeps each connection's permits to the gates that count.
                        gates: [&bind_gate, &fe_gate, &global]
                            .into_iter()
                            .filter(|g| g.available().is_some())
                            .cloned()
                            .collect(),
                        accept_proxy: spec.accept_proxy,
                        tcp: Arc::clone(&fe.tcp),
                        upgrades: Arc::clone(&fe.upgrades),
                        loc: spec.loc.clone(),
                        type_str: fe.type_str,
                    });
                }
            }
        }
        ListenPlan {
            entries,
            registry: self.registry,
            once: Mutex::new(Some(Once {
                keepers,
                health: self.health,
            })),
        }
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
    #[must_use]
    pub fn with_reuseport(mut self) -> Self {
        for e in &mut self.entries {
            e.options.reuseport = true;
        }
        self
    }

    /// Opens the listeners in the current tokio runtime. Only the `primary` opening binds unix
    /// sockets (a path can be bound once) and receives what runs once per process (health
    /// checks, `maxconn` keepers); it must come first.
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
            let single = matches!(
                e.target,
                BindTarget::Unix(_) | BindTarget::Abstract(_) | BindTarget::Fd(_)
            );
            if !primary && single {
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
                    tcp: Arc::clone(&e.tcp),
                    upgrades: Arc::clone(&e.upgrades),
                }),
                Err(crate::ProxyError::Bind { addr, reason }) => {
                    let addr = match &e.target {
                        BindTarget::Tcp(a) => a.to_string(),
                        BindTarget::Unix(_) | BindTarget::Abstract(_) | BindTarget::Fd(_) => addr,
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
        let once = if primary {
            self.once.lock().ok().and_then(|mut o| o.take())
        } else {
            None
        };
        let (keepers, health) = match once {
            Some(o) => (o.keepers, Some(o.health)),
            None => (Vec::new(), None),
        };
        Ok(Running {
            bound,
            stats: None,
            keepers,
            registry: Arc::clone(&self.registry),
            health,
            state_log: Arc::new(crate::health::StderrLog),
        })
    }
}
