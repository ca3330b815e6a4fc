//! Per-socket state: who it is, until when its token is good, and the order of its events.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

use omw_domain::Principal;
use tokio::sync::oneshot;

pub struct Session {
    pub principal: Principal,
    /// Token expiry, ms since epoch; moved by `refresh_token` (see `Expiry`).
    pub expires_at_ms: AtomicI64,
    /// Chats this socket joined: a few at most, so a list.
    joined: Mutex<Vec<String>>,
    next_ticket: AtomicU64,
    turns: Mutex<Turns>,
    life: Mutex<Life>,
}

/// Whether a socket counts as connected (presence, the connection gauge, token expiry).
/// socketioxide drops a socket whose CONNECT could not be sent (the client left mid-handshake)
/// without its disconnect handler, so a socket is counted only once it is really connected,
/// and uncounted once at most.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Life {
    #[default]
    Connecting,
    Counted,
    Gone,
}

/// Whose turn it is, and the events waiting for theirs. Each waiter is woken alone when its
/// turn comes (a shared `Notify` woke every waiting event of the socket at every turn).
#[derive(Default)]
struct Turns {
    current: u64,
    waiting: HashMap<u64, oneshot::Sender<()>>,
}

impl Turns {
    /// Pass the turn on from the current ticket to the next one still waiting or yet to come.
    fn advance(&mut self) {
        loop {
            self.current += 1;
            let Some(wake) = self.waiting.remove(&self.current) else {
                return;
            };
            if wake.send(()).is_ok() {
                return;
            }
            // That event was dropped while it waited: it will never take its turn.
        }
    }
}

impl Session {
    pub fn new(principal: Principal, expires_at_ms: i64) -> Arc<Session> {
        Arc::new(Session {
            principal,
            expires_at_ms: AtomicI64::new(expires_at_ms),
            joined: Mutex::new(Vec::new()),
            next_ticket: AtomicU64::new(0),
            turns: Mutex::new(Turns::default()),
            life: Mutex::new(Life::Connecting),
        })
    }

    /// The socket is connected: run `count` unless it already disconnected. Counting and
    /// [`Session::end`]'s uncounting exclude each other, so the two cannot interleave.
    pub fn count(&self, count: impl FnOnce()) -> bool {
        let mut life = self.life.lock().unwrap_or_else(PoisonError::into_inner);
        if *life != Life::Connecting {
            return false;
        }
        count();
        *life = Life::Counted;
        true
    }

    /// The socket disconnected: run `uncount` if it was counted. True if it was.
    pub fn end(&self, uncount: impl FnOnce()) -> bool {
        let mut life = self.life.lock().unwrap_or_else(PoisonError::into_inner);
        let was = std::mem::replace(&mut *life, Life::Gone);
        if was == Life::Counted {
            uncount();
        }
        was == Life::Counted
    }

    /// The next event's place in this socket's order. Taken synchronously when socketioxide
    /// decodes the packet, so tickets follow the order the events arrived in.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.next_ticket.fetch_add(1, Ordering::AcqRel))
    }

    pub fn joined(&self) -> Vec<String> {
        self.joined.lock().map(|j| j.clone()).unwrap_or_default()
    }

    pub fn set_joined(&self, chat_id: &str, joined: bool) {
        if let Ok(mut j) = self.joined.lock() {
            let at = j.iter().position(|c| c == chat_id);
            match (joined, at) {
                (true, None) => j.push(chat_id.to_string()),
                (false, Some(i)) => {
                    j.swap_remove(i);
                }
                _ => {}
            }
        }
    }

    /// Wait until every event this socket sent before the one holding `ticket` is handled.
    /// socketioxide runs each event in its own task; this keeps one socket's events (and so its
    /// messages' seq) in the order they arrived.
    pub async fn turn(self: &Arc<Self>, ticket: Ticket) -> TurnGuard {
        let wait = {
            let mut turns = self.turns();
            if turns.current == ticket.0 {
                None
            } else {
                let (wake, woken) = oneshot::channel();
                turns.waiting.insert(ticket.0, wake);
                Some(Waiting {
                    session: self.clone(),
                    woken,
                    done: false,
                })
            }
        };
        if let Some(mut wait) = wait {
            let _ = (&mut wait.woken).await;
            wait.done = true;
        }
        TurnGuard {
            session: self.clone(),
        }
    }

    fn turns(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.turns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An event waiting for its turn. Dropped after it was woken but before it took the turn (the
/// event was cancelled in between), it passes the turn on.
struct Waiting {
    session: Arc<Session>,
    woken: oneshot::Receiver<()>,
    done: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.done && self.woken.try_recv().is_ok() {
            self.session.turns().advance();
        }
    }
}

/// Releases the turn to the next event, also if the handler is cancelled.
pub struct TurnGuard {
    session: Arc<Session>,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.session.turns().advance();
    }
}

/// An event's place in its socket's order (see `Session::ticket`).
pub struct Ticket(u64);

impl Ticket {
    pub fn number(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use omw_domain::Role;

    use super::*;

    fn session() -> Arc<Session> {
        let who = Principal {
            user_id: "u1".into(),
            role: Role::Customer,
            name: None,
        };
        Session::new(who, i64::MAX)
    }

    #[test]
    fn a_socket_that_left_before_it_was_counted_is_never_counted() {
        let s = session();
        let mut n = 0;
        assert!(!s.end(|| n -= 1));
        assert!(!s.count(|| n += 1));
        assert_eq!(n, 0);
        let s = session();
        assert!(s.count(|| n += 1));
        assert!(!s.count(|| n += 1));
        assert!(s.end(|| n -= 1));
        assert!(!s.end(|| n -= 1));
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn events_take_their_turns_in_ticket_order() {
        let s = session();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Later tickets ask first.
        for n in (0..5u64).rev() {
            let (s, order) = (s.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = s.turn(Ticket(n)).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
                order.lock().unwrap().push(n);
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_passes_its_turn_on() {
        let s = session();
        let first = s.turn(Ticket(0)).await;
        // Ticket 1 waits, then is cancelled before its turn; ticket 2 must still run.
        let waiting = tokio::spawn({
            let s = s.clone();
            async move { s.turn(Ticket(1)).await }
        });
        tokio::task::yield_now().await;
        waiting.abort();
        let _ = waiting.await;
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), s.turn(Ticket(2)))
            .await
            .expect("ticket 2 gets its turn");
    }
}
