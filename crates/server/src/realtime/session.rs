//! Per-socket state: who it is, until when its token is good, and the order of its events.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

use omw_domain::Principal;
use socketioxide::{handler::FromMessageParts, socket::Socket};

use super::{Adapter, SocketRef};
use tokio::sync::Notify;

pub struct Session {
    pub principal: Principal,
    /// Token expiry, ms since epoch; moved by `refresh_token`.
    pub expires_at_ms: AtomicI64,
    /// Fires when the socket disconnects (stops the expiry watcher and typing timers).
    pub closed: Notify,
    /// Chats this socket joined.
    pub joined: Mutex<HashSet<String>>,
    next_ticket: AtomicU64,
    turn: AtomicU64,
    turn_changed: Notify,
}

impl Session {
    pub fn new(principal: Principal, expires_at_ms: i64) -> Arc<Session> {
        Arc::new(Session {
            principal,
            expires_at_ms: AtomicI64::new(expires_at_ms),
            closed: Notify::new(),
            joined: Mutex::new(HashSet::new()),
            next_ticket: AtomicU64::new(0),
            turn: AtomicU64::new(0),
            turn_changed: Notify::new(),
        })
    }

    pub fn of(s: &SocketRef) -> Option<Arc<Session>> {
        s.extensions.get::<Arc<Session>>()
    }

    pub fn joined(&self) -> Vec<String> {
        self.joined
            .lock()
            .map(|j| j.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn set_joined(&self, chat_id: &str, joined: bool) {
        if let Ok(mut j) = self.joined.lock() {
            if joined {
                j.insert(chat_id.to_string());
            } else {
                j.remove(chat_id);
            }
        }
    }

    /// Wait until every event this socket sent before the one holding `ticket` is handled.
    /// socketioxide runs each event in its own task; this keeps one socket's events (and so its
    /// messages' seq) in the order they arrived.
    pub async fn turn(self: &Arc<Self>, ticket: Ticket) -> TurnGuard {
        loop {
            let changed = self.turn_changed.notified();
            if self.turn.load(Ordering::Acquire) == ticket.0 {
                return TurnGuard {
                    session: self.clone(),
                };
            }
            changed.await;
        }
    }
}

/// Releases the turn to the next event, also if the handler is cancelled.
pub struct TurnGuard {
    session: Arc<Session>,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.session.turn.fetch_add(1, Ordering::AcqRel);
        self.session.turn_changed.notify_waiters();
    }
}

/// An event's place in its socket's order, taken synchronously when the packet is decoded.
pub struct Ticket(u64);

impl Ticket {
    pub fn number(&self) -> u64 {
        self.0
    }
}

#[derive(Debug)]
pub struct NoSession;

impl std::fmt::Display for NoSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("socket has no session")
    }
}

impl std::error::Error for NoSession {}

impl FromMessageParts<Adapter> for Ticket {
    type Error = NoSession;

    fn from_message_parts(
        s: &Arc<Socket<Adapter>>,
        _: &mut socketioxide::handler::Value,
        _: &Option<i64>,
    ) -> Result<Self, NoSession> {
        let session = s.extensions.get::<Arc<Session>>().ok_or(NoSession)?;
        Ok(Ticket(session.next_ticket.fetch_add(1, Ordering::AcqRel)))
    }
}
