//! Server connection slots: what a pick holds while a server connection serves a stream, and the
//! ticket of a stream waiting in a queue for one (server `maxconn`, `maxqueue`, `timeout queue`).
//!
//! A [`ServerSlot`] counts one connection on its server until it is dropped; dropping it hands the
//! slot to the oldest waiter of the queue, as HAProxy's `process_srv_queue()` does. A
//! [`QueueTicket`] is a place in a queue: [`QueueTicket::wait`] resolves with the slot a release
//! handed over, and dropping the ticket (queue timeout, client gone) leaves the queue.
//!
//! A server that stops being usable sends its queued waiters back to load balancing
//! ([`Handoffs::requeue`], HAProxy's `pendconn_redistribute()`): such a waiter wakes with
//! [`Dequeued::Requeue`] and picks again. One that becomes usable hands its free slots to the
//! oldest waiters of the backend's queue directly (`pendconn_grab_from_px()`), as a release
//! does.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The side that counts connections per server (a backend's balancer).
pub trait SlotOwner: Send + Sync + fmt::Debug {
    /// Gives back one connection slot on `server` (the oldest waiter, if any, takes it).
    fn release(self: Arc<Self>, server: usize);
    /// A waiter holding `ticket` gives up: leave the queue, or hand back a slot it was given.
    fn abandon(&self, ticket: u64);
}

/// One connection counted on a server; dropping it releases the slot.
pub struct ServerSlot {
    server: usize,
    owner: Option<Arc<dyn SlotOwner>>,
}

impl ServerSlot {
    /// A slot nobody counts (a picker without connection limits).
    pub fn untracked(server: usize) -> Self {
        ServerSlot {
            server,
            owner: None,
        }
    }

    /// A slot counted by `owner`, released through it on drop.
    pub fn tracked(server: usize, owner: Arc<dyn SlotOwner>) -> Self {
        ServerSlot {
            server,
            owner: Some(owner),
        }
    }

    /// The server's index in its backend.
    pub fn server(&self) -> usize {
        self.server
    }

    /// Forgets the slot without releasing it; returns the server index (the caller releases it).
    pub(crate) fn disarm(mut self) -> usize {
        self.owner = None;
        self.server
    }
}

impl Drop for ServerSlot {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            owner.release(self.server);
        }
    }
}

impl fmt::Debug for ServerSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSlot")
            .field("server", &self.server)
            .field("tracked", &self.owner.is_some())
            .finish()
    }
}

/// A place in a queue, waiting for a release to hand over a slot.
pub struct QueueTicket {
    ticket: u64,
    server: Option<usize>,
    abort_on_close: bool,
    state: TicketState,
    owner: Arc<dyn SlotOwner>,
}

/// How a queued stream leaves its queue.
#[derive(Debug)]
pub enum Dequeued {
    /// A release handed it a slot on this server.
    Slot(ServerSlot),
    /// Its server stopped being usable and sent the stream back to load balancing: pick a
    /// server again (HAProxy's `pendconn_redistribute()`).
    Requeue,
    /// The queue went away without handing anything over.
    Gone,
}

/// What a queue hands a waiter.
#[derive(Debug)]
enum Handed {
    Slot(ServerSlot),
    Requeue,
}

enum TicketState {
    /// A release handed the slot over before the ticket was created.
    Granted(ServerSlot),
    /// Waiting for the release.
    Waiting(oneshot::Receiver<Handed>),
    /// The slot was taken by [`QueueTicket::wait`], or the queue is gone.
    Done,
}

impl QueueTicket {
    /// The queue's ticket number.
    pub fn ticket(&self) -> u64 {
        self.ticket
    }

    /// The server whose own queue holds the ticket, or `None` for the backend's queue.
    pub fn server(&self) -> Option<usize> {
        self.server
    }

    /// `option abortonclose`: a client that closes its side while queued leaves the queue.
    pub fn abort_on_close(&self) -> bool {
        self.abort_on_close
    }

    /// Waits for a slot; `None` when the queue went away without handing one over.
    ///
    /// Cancel-safe: dropping the future keeps the ticket in the queue.
    pub async fn wait(&mut self) -> Option<ServerSlot> {
        match self.dequeued().await {
            Dequeued::Slot(slot) => Some(slot),
            Dequeued::Requeue | Dequeued::Gone => None,
        }
    }

    /// Waits until the stream leaves the queue: with a slot, or sent back to load balancing
    /// by a server's state change.
    ///
    /// Cancel-safe: dropping the future keeps the ticket in the queue.
    pub async fn dequeued(&mut self) -> Dequeued {
        let got = match &mut self.state {
            TicketState::Granted(_) => None,
            TicketState::Waiting(rx) => Some(rx.await.ok()),
            TicketState::Done => return Dequeued::Gone,
        };
        match (std::mem::replace(&mut self.state, TicketState::Done), got) {
            (TicketState::Granted(slot), _) | (_, Some(Some(Handed::Slot(slot)))) => {
                Dequeued::Slot(slot)
            }
            (_, Some(Some(Handed::Requeue))) => Dequeued::Requeue,
            _ => Dequeued::Gone,
        }
    }
}

impl Drop for QueueTicket {
    fn drop(&mut self) {
        if !matches!(self.state, TicketState::Done) {
            self.owner.abandon(self.ticket);
        }
        // A slot already in the channel, or granted, is released when the state drops.
    }
}

impl fmt::Debug for QueueTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueTicket")
            .field("ticket", &self.ticket)
            .field("server", &self.server)
            .field("abort_on_close", &self.abort_on_close)
            .finish_non_exhaustive()
    }
}

/// A waiter known to [`Handoffs`].
#[derive(Debug)]
enum Waiter {
    /// The ticket waits on this channel, in the queue of this server (`None`: the backend's).
    Waiting(oneshot::Sender<Handed>, Option<usize>),
    /// A release handed a slot to a ticket not registered yet.
    Granted(ServerSlot),
}

/// The meeting point between releases (which hand a slot to a ticket) and tickets (which wait
/// for it). The lock is held only to insert or remove one entry, never across I/O or a release.
#[derive(Debug, Default)]
pub(crate) struct Handoffs {
    waiters: Mutex<HashMap<u64, Waiter>>,
}

impl Handoffs {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Waiter>> {
        self.waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a queued `ticket` and returns it ready to wait.
    pub(crate) fn ticket(
        &self,
        ticket: u64,
        server: Option<usize>,
        abort_on_close: bool,
        owner: Arc<dyn SlotOwner>,
    ) -> QueueTicket {
        let mut map = self.lock();
        let state = match map.remove(&ticket) {
            Some(Waiter::Granted(slot)) => TicketState::Granted(slot),
            // Tickets are unique: a second registration replaces the first.
            Some(Waiter::Waiting(..)) | None => {
                let (tx, rx) = oneshot::channel();
                map.insert(ticket, Waiter::Waiting(tx, server));
                TicketState::Waiting(rx)
            }
        };
        drop(map);
        QueueTicket {
            ticket,
            server,
            abort_on_close,
            state,
            owner,
        }
    }

    /// Hands `slot` to the waiter of `ticket`. Returns the slot when that waiter is gone, so the
    /// caller releases it again (to the next waiter).
    pub(crate) fn deliver(&self, ticket: u64, slot: ServerSlot) -> Option<ServerSlot> {
        let mut map = self.lock();
        match map.remove(&ticket) {
            Some(Waiter::Waiting(tx, _)) => {
                drop(map);
                match tx.send(Handed::Slot(slot)) {
                    Ok(()) => None,
                    Err(Handed::Slot(back)) => Some(back),
                    Err(Handed::Requeue) => None,
                }
            }
            Some(Waiter::Granted(old)) => {
                map.insert(ticket, Waiter::Granted(slot));
                drop(map);
                Some(old)
            }
            None => {
                map.insert(ticket, Waiter::Granted(slot));
                None
            }
        }
    }

    /// Forgets `ticket` after its waiter gave up. `still_queued` says whether the balancer
    /// removed it from its queue; if not, a release has handed (or is handing) it a slot: a
    /// granted one is returned for release, one sent later fails and comes back to the releaser.
    pub(crate) fn abandon(&self, ticket: u64, still_queued: bool) -> Option<ServerSlot> {
        let mut map = self.lock();
        if still_queued {
            map.remove(&ticket);
            return None;
        }
        match map.remove(&ticket) {
            Some(Waiter::Granted(slot)) => Some(slot),
            Some(waiting @ Waiter::Waiting(..)) => {
                // Its receiver drops with the ticket, so the coming delivery fails and the
                // releaser passes the slot on.
                map.insert(ticket, waiting);
                None
            }
            None => None,
        }
    }

    /// Sends waiters of `queue` (a server's, or the backend's for `None`) back to load
    /// balancing, oldest first, at most `max` of them; `cancel` takes a ticket out of the
    /// balancer's queue and says whether it was still there (a ticket a release is handing a
    /// slot to stays). Returns how many were sent back.
    ///
    /// A ticket queued by a pick but not registered yet is not seen.
    pub(crate) fn requeue(
        &self,
        queue: Option<usize>,
        max: usize,
        cancel: impl Fn(u64) -> bool,
    ) -> u32 {
        let mut tickets: Vec<u64> = self
            .lock()
            .iter()
            .filter(|(_, w)| matches!(w, Waiter::Waiting(_, q) if *q == queue))
            .map(|(t, _)| *t)
            .collect();
        // Tickets grow with each enqueue: the smallest waited longest.
        tickets.sort_unstable();
        let mut moved = 0u32;
        for t in tickets {
            if moved as usize >= max {
                break;
            }
            // The balancer's lock is never taken under ours.
            if !cancel(t) {
                continue;
            }
            moved += 1;
            let mut map = self.lock();
            if let Some(Waiter::Waiting(tx, _)) = map.remove(&t) {
                drop(map);
                // A waiter gone meanwhile had nothing to give back.
                drop(tx.send(Handed::Requeue));
            }
        }
        moved
    }

    /// How many tickets are registered (waiting or granted but not yet collected).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
