//! The administrative-change hook: while health checks run, a change of a server's admin state
//! (`disable server`, `set server state maint|drain|ready` on the runtime API) goes through them,
//! so checks pause in maintenance and HAProxy's state-change lines are written.

use std::fmt;

use super::Admin;

type HookFn = dyn Fn(usize, usize, Admin) -> bool + Send + Sync;

/// Applies `(backend, server, admin)`; returns whether the state changed.
pub struct AdminHook(Box<HookFn>);

impl fmt::Debug for AdminHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminHook")
    }
}

impl AdminHook {
    /// A hook calling `f(backend, server, admin)`.
    pub fn new(f: impl Fn(usize, usize, Admin) -> bool + Send + Sync + 'static) -> AdminHook {
        AdminHook(Box::new(f))
    }

    /// Runs the hook.
    pub fn apply(&self, backend: usize, server: usize, admin: Admin) -> bool {
        (self.0)(backend, server, admin)
    }
}
