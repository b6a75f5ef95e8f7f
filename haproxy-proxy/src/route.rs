//! The extension points the wiring implements: choosing a backend and picking a server.
//!
//! `build` implements [`ChooseBackend`] with haproxy-acl conditions (`use_backend ... if`,
//! `default_backend`) and [`PickServer`] with haproxy-lb balancers.

use std::net::SocketAddr;

use crate::h1::RequestHead;
use crate::slot::{QueueTicket, ServerSlot};

/// What is known about a stream when routing decisions are taken.
#[derive(Debug, Clone, Copy)]
pub struct StreamView<'a> {
    /// The client's address (after `accept-proxy`, the one the PROXY header gave).
    pub src: SocketAddr,
    /// The address the client connected to.
    pub dst: SocketAddr,
    /// The request head, in HTTP mode.
    pub request: Option<&'a RequestHead>,
}

/// Chooses the backend for a stream (`use_backend` rules, then `default_backend`).
pub trait ChooseBackend: Send + Sync {
    /// The index of the chosen backend, or `None` (HAProxy answers 503).
    fn choose(&self, stream: &StreamView<'_>) -> Option<usize>;
}

/// Picks a server of a backend (the balancer, honouring weights, backups and health).
pub trait PickServer: Send + Sync {
    /// The index of the chosen server in the backend's list, without holding a connection slot;
    /// `avoid` is the server that just failed, for `option redispatch`. `None` means no server
    /// is usable (503).
    fn pick(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Option<usize>;

    /// Takes a connection slot for a stream: a server now, a place in a queue when every
    /// eligible server is at its `maxconn`, or a refusal. The default (a picker without
    /// connection limits) takes [`PickServer::pick`]'s answer with an uncounted slot.
    fn take(&self, backend: usize, stream: &StreamView<'_>, avoid: Option<usize>) -> Take {
        self.pick(backend, stream, avoid)
            .map_or(Take::NoServer, |i| Take::Ready(ServerSlot::untracked(i)))
    }

    /// How a failed connection is retried in this backend (`option redispatch` timing).
    fn retry_policy(&self, _backend: usize) -> RetryPolicy {
        RetryPolicy::default()
    }
}

/// The outcome of [`PickServer::take`].
#[derive(Debug)]
#[must_use]
pub enum Take {
    /// Use this server; the slot is counted until dropped.
    Ready(ServerSlot),
    /// Every eligible server is full: wait in the queue (up to `timeout queue`).
    Queued(QueueTicket),
    /// The chosen server's queue is at its `maxqueue`: HAProxy answers 503 (`SQ`).
    QueueFull {
        /// The server whose queue is full, or `None` for the backend's queue.
        server: Option<usize>,
    },
    /// No server is usable (503, `SC`).
    NoServer,
}

/// What decides whether a failed connection is retried on another server at once.
///
/// HAProxy (`stream_choose_redispatch()`, 2.6): with `option redispatch`, a retry goes back to
/// the balancer at once when the backend has more than one usable active server and a
/// non-hashing algorithm; otherwise only the last retry does. It pauses before a retry
/// (`min(timeout connect, 1s)`) unless it redispatched with more than one active server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryPolicy {
    /// More than one usable active (non-backup) server.
    pub several_active: bool,
    /// The algorithm hashes a key (`source`, `uri`, `hdr`...): the same key gives the same server.
    pub hashing: bool,
}

impl RetryPolicy {
    /// Whether a retry with `option redispatch` goes back to the balancer right away (not only
    /// on the last retry).
    pub fn redispatch_every_retry(self) -> bool {
        self.several_active && !self.hashing
    }
}

/// Always the same backend: a frontend with only `default_backend`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultBackend(pub usize);

impl ChooseBackend for DefaultBackend {
    fn choose(&self, _stream: &StreamView<'_>) -> Option<usize> {
        Some(self.0)
    }
}
