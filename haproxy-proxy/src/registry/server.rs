//! One server's live state: administrative flags (maintenance, drain), health (set by checks and
//! agents), counters, and the time of the last change.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

use haproxy_lb::ServerState;
use tokio::sync::watch;

use super::check::CheckSlot;
use crate::counters::Counters;
use crate::side::Side;

/// Administrative state set by the configuration, the runtime API or the stats page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admin {
    /// Ready: no administrative restriction.
    Ready,
    /// Draining: no new load-balanced traffic.
    Drain,
    /// Maintenance: no traffic at all, checks stopped.
    Maint,
}

/// Operational health, as checks and agents report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Up (also the state of a server without checks).
    Up,
    /// Up but not taking load-balanced traffic (`http-check disable-on-404`, agent `drain`).
    NoLb,
    /// Down: failed checks or agent.
    Down,
}

impl Admin {
    fn code(self) -> u8 {
        match self {
            Admin::Ready => 0,
            Admin::Drain => 1,
            Admin::Maint => 2,
        }
    }

    fn from_code(c: u8) -> Admin {
        match c {
            1 => Admin::Drain,
            2 => Admin::Maint,
            _ => Admin::Ready,
        }
    }
}

impl Health {
    fn code(self) -> u8 {
        match self {
            Health::Up => 0,
            Health::NoLb => 1,
            Health::Down => 2,
        }
    }

    fn from_code(c: u8) -> Health {
        match c {
            1 => Health::NoLb,
            2 => Health::Down,
            _ => Health::Up,
        }
    }
}

/// A server of a backend.
#[derive(Debug)]
pub struct ServerEntry {
    /// The name.
    pub name: String,
    /// The server id (`sid`), as HAProxy numbers servers (1.. unless `id` is given).
    pub id: u32,
    /// The configured address (the current one is [`ServerEntry::current_addr`]).
    pub addr: SocketAddr,
    /// `backup`.
    pub backup: bool,
    /// The weight from the configuration.
    pub initial_weight: u32,
    /// The server's counters.
    pub counters: Arc<Counters>,
    /// What its health and agent checks last reported.
    pub checks: CheckSlot,
    /// `maxconn` (0 = none): the configured value, changed by `set maxconn server`.
    pub maxconn: AtomicU32,
    /// The health counter HAProxy keeps for a server without a check: `rise` (2) at start, 0
    /// once stopped or in maintenance, `rise + fall - 1` (4) after `set server … health up`.
    pub unchecked_health: AtomicU32,
    /// The address new connections go to (`set server addr` moves it).
    live_addr: arc_swap::ArcSwap<SocketAddr>,
    /// `set server check-port` (0: not set).
    check_port: AtomicU32,
    admin: AtomicU8,
    health: AtomicU8,
    applied: AtomicU8,
    last_change: AtomicU64,
    shutdown: watch::Sender<(u64, Side)>,
    shutdown_armed: AtomicBool,
}

impl ServerEntry {
    /// A server, ready and up unless `disabled` in the configuration.
    pub fn new(
        name: String,
        id: u32,
        addr: SocketAddr,
        backup: bool,
        initial_weight: u32,
        disabled: bool,
    ) -> ServerEntry {
        let admin = if disabled { Admin::Maint } else { Admin::Ready };
        ServerEntry {
            name,
            id,
            addr,
            live_addr: arc_swap::ArcSwap::from_pointee(addr),
            check_port: AtomicU32::new(0),
            backup,
            initial_weight,
            counters: Counters::new(),
            checks: CheckSlot::default(),
            maxconn: AtomicU32::new(0),
            unchecked_health: AtomicU32::new(if disabled { 0 } else { 2 }),
            admin: AtomicU8::new(admin.code()),
            health: AtomicU8::new(Health::Up.code()),
            applied: AtomicU8::new(lb_code(if disabled {
                ServerState::Maintenance
            } else {
                ServerState::Up
            })),
            last_change: AtomicU64::new(0),
            shutdown: watch::Sender::new((0, Side::ServerDown)),
            shutdown_armed: AtomicBool::new(false),
        }
    }

    /// A receiver that changes each time the server's sessions must end
    /// (`on-marked-down shutdown-sessions`, `on-marked-up shutdown-backup-sessions`); a stream
    /// takes one when it connects to the server and stops when it changes.
    pub fn shutdown_signal(&self) -> watch::Receiver<(u64, Side)> {
        self.shutdown.subscribe()
    }

    /// Marks that this server's sessions may be shut down (`on-marked-down shutdown-sessions`,
    /// or a backup of a backend with `on-marked-up shutdown-backup-sessions`), so streams take
    /// a [`ServerEntry::armed_shutdown_signal`]; other servers cost streams nothing.
    pub fn arm_shutdown(&self) {
        self.shutdown_armed.store(true, Relaxed);
    }

    /// [`ServerEntry::shutdown_signal`], when [`ServerEntry::arm_shutdown`] was called.
    pub fn armed_shutdown_signal(&self) -> Option<watch::Receiver<(u64, Side)>> {
        self.shutdown_armed
            .load(Relaxed)
            .then(|| self.shutdown.subscribe())
    }

    /// Ends every session on this server (streams holding a [`ServerEntry::shutdown_signal`]),
    /// blaming `why` in their termination state ([`Side::ServerDown`] or [`Side::ServerUp`]).
    pub fn shutdown_sessions(&self, why: Side) {
        self.shutdown
            .send_modify(|(g, side)| (*g, *side) = (g.wrapping_add(1), why));
    }

    /// Where new connections to this server go: the configured address until
    /// `set server addr` changes it.
    pub fn current_addr(&self) -> SocketAddr {
        **self.live_addr.load()
    }

    /// Sends new connections to `addr` (`set server addr`); open ones stay where they are.
    pub fn set_addr(&self, addr: SocketAddr) {
        self.live_addr.store(Arc::new(addr));
    }

    /// The port set by `set server check-port`, if any.
    pub fn check_port(&self) -> Option<u16> {
        u16::try_from(self.check_port.load(Relaxed))
            .ok()
            .filter(|p| *p != 0)
    }

    /// Records `set server check-port`.
    pub fn set_check_port(&self, port: u16) {
        self.check_port.store(u32::from(port), Relaxed);
    }

    /// The administrative state.
    pub fn admin(&self) -> Admin {
        Admin::from_code(self.admin.load(Relaxed))
    }

    /// Sets the administrative state; apply it with [`super::Registry::apply_server_state`].
    pub fn set_admin(&self, admin: Admin) {
        self.admin.store(admin.code(), Relaxed);
    }

    /// The health.
    pub fn health(&self) -> Health {
        Health::from_code(self.health.load(Relaxed))
    }

    /// Sets the health; apply it with [`super::Registry::apply_server_state`].
    pub fn set_health(&self, health: Health) {
        self.health.store(health.code(), Relaxed);
    }

    /// The state the balancer sees: maintenance wins, then down, then drain.
    pub fn lb_state(&self) -> ServerState {
        match (self.admin(), self.health()) {
            (Admin::Maint, _) => ServerState::Maintenance,
            (_, Health::Down) => ServerState::Down,
            (Admin::Drain, _) | (_, Health::NoLb) => ServerState::Drain,
            (Admin::Ready, Health::Up) => ServerState::Up,
        }
    }

    /// Seconds (on the registry's clock) of the last state change.
    pub fn last_change(&self) -> u64 {
        self.last_change.load(Relaxed)
    }

    /// Records that the balancer now sees `state`; returns whether it differs from the last
    /// one applied (then `lastchg` restarts at `now_secs`).
    pub(super) fn applied(&self, state: ServerState, now_secs: u64) -> bool {
        let changed = self.applied.swap(lb_code(state), Relaxed) != lb_code(state);
        if changed {
            self.last_change.store(now_secs, Relaxed);
        }
        changed
    }
}

fn lb_code(s: ServerState) -> u8 {
    match s {
        ServerState::Up => 0,
        ServerState::Drain => 1,
        ServerState::Down => 2,
        ServerState::Maintenance => 3,
    }
}
