//! Server descriptions and states.

/// The largest user weight (`weight` accepts 0-256; configuration.txt, "weight").
pub const MAX_WEIGHT: u32 = 256;
/// The most servers one balancer holds. HAProxy documents 4095 active servers for
/// roundrobin; we allow more for the other algorithms but bound the set.
pub const MAX_SERVERS: usize = 65_536;

/// A server as the configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The server id (`id`, HAProxy's `puid`; by default its position starting at 1). It
    /// places the server's consistent-hash points, so it must match HAProxy's for keys to land
    /// on the same servers.
    pub id: u32,
    /// The server name, for the caller's convenience.
    pub name: String,
    /// The initial user weight (0-256, default 1).
    ///
    /// With `hash-type consistent` it is also the ring's quality knob: a server gets
    /// `weight × 16` points, as in HAProxy, so weight-1 servers share the hash space unevenly
    /// (max/avg about 1.46 at 100 servers). Scaling every weight by 16 keeps the proportions
    /// and HAProxy's key placement for those weights, and evens the shares (about 1.10 at 100
    /// servers; see the crate README's balance-quality table).
    pub weight: u32,
    /// `backup`: used only when no active server is usable.
    pub backup: bool,
    /// `maxconn` (0 = unlimited). With a lower [`ServerSpec::minconn`], the most the dynamic
    /// limit reaches once the backend holds `fullconn` streams.
    pub maxconn: u32,
    /// `minconn` (0 = none): below `maxconn`, the server's limit is dynamic (HAProxy's
    /// `srv_dynamic_maxconn`, see [`crate::dynamic_maxconn`]); at or above it (or alone) it is
    /// the static limit, as HAProxy turns it at startup.
    pub minconn: u32,
    /// `maxqueue` (0 = unlimited).
    pub maxqueue: u32,
    /// `slowstart` in seconds (0 = off). HAProxy keeps this in seconds too.
    pub slowstart_secs: u32,
    /// The state the server starts in (`disabled` gives [`ServerState::Maintenance`]).
    pub initial_state: ServerState,
}

impl ServerSpec {
    /// A server with HAProxy's defaults: weight 1, no limits, up.
    #[must_use]
    pub fn new(id: u32, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            weight: 1,
            backup: false,
            maxconn: 0,
            minconn: 0,
            maxqueue: 0,
            slowstart_secs: 0,
            initial_state: ServerState::Up,
        }
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Marks the server as a backup.
    #[must_use]
    pub fn with_backup(mut self) -> Self {
        self.backup = true;
        self
    }

    /// Sets `maxconn` and `maxqueue`.
    #[must_use]
    pub fn with_limits(mut self, maxconn: u32, maxqueue: u32) -> Self {
        self.maxconn = maxconn;
        self.maxqueue = maxqueue;
        self
    }

    /// Sets `minconn` (see [`ServerSpec::minconn`]).
    #[must_use]
    pub fn with_minconn(mut self, minconn: u32) -> Self {
        self.minconn = minconn;
        self
    }

    /// `maxconn` and `minconn` as HAProxy settles them at startup: `minconn` above `maxconn`
    /// (or alone) raises `maxconn` to it, and `maxconn` alone sets `minconn` to it; the limit
    /// is then dynamic exactly when the two differ.
    #[must_use]
    pub fn settled_limits(&self) -> (u32, u32) {
        if self.minconn > self.maxconn {
            (self.minconn, self.minconn)
        } else if self.minconn == 0 {
            (self.maxconn, self.maxconn)
        } else {
            (self.minconn, self.maxconn)
        }
    }

    /// Sets `slowstart` in seconds.
    #[must_use]
    pub fn with_slowstart(mut self, secs: u32) -> Self {
        self.slowstart_secs = secs;
        self
    }

    /// Sets the initial state.
    #[must_use]
    pub fn with_state(mut self, state: ServerState) -> Self {
        self.initial_state = state;
        self
    }
}

/// A server's operational state, as health checks and the runtime API set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Up and taking load-balanced traffic.
    Up,
    /// Down (failed checks).
    Down,
    /// Draining: no new load-balanced traffic, persistent traffic still accepted.
    Drain,
    /// Maintenance (`disabled`, `set server state maint`).
    Maintenance,
}

impl ServerState {
    /// Whether load balancing may pick a server in this state (weight permitting).
    #[must_use]
    pub fn is_usable(self) -> bool {
        matches!(self, Self::Up)
    }
}
