//! Per-socket state: who it is, until when its token is good, and the order of its events.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
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
    /// The last `presence { focused }` (SPEC §9.2); false until one comes.
    focused: AtomicBool,
    next_ticket: AtomicU64,
    turns: Mutex<Turns>,
    life: Mutex<Life>,
}

/// Whether a socket counts as connected (presence and the connection gauge), and whether its
/// token expiry is watched. A socket is counted in the handshake, before CONNECT leaves: a client
/// that has its CONNECT is online, also for a disconnect of the user's other device that the
/// server handles before the new socket's connect task has run. socketioxide drops a socket
/// whose CONNECT could not be sent (the client left mid-handshake) without its disconnect
/// handler; dropping the session then runs the `Undo` given when it was counted. Counted once,
/// uncounted once at most.
#[derive(Default)]
enum Life {
    #[default]
    Connecting,
    Counted {
        watched: bool,
        undo: Undo,
    },
    Gone,
}

/// Uncounts a socket that was dropped without a disconnect.
pub type Undo = Box<dyn FnOnce() + Send>;

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
            focused: AtomicBool::new(false),
            next_ticket: AtomicU64::new(0),
            turns: Mutex::new(Turns::default()),
            life: Mutex::new(Life::Connecting),
        })
    }

    /// The handshake succeeded: run `count` unless the socket already left, and keep `undo` for
    /// a socket dropped without a disconnect. `None` if it was not counted.
    pub fn count<R>(&self, count: impl FnOnce() -> R, undo: Undo) -> Option<R> {
        let mut life = self.life();
        if !matches!(*life, Life::Connecting) {
            return None;
        }
        let counted = count();
        *life = Life::Counted {
            watched: false,
            undo,
        };
        Some(counted)
    }

    /// CONNECT reached the client: run `watch` (token expiry) if the socket is still counted.
    pub fn watch(&self, watch: impl FnOnce()) -> bool {
        let mut life = self.life();
        let Life::Counted { watched, .. } = &mut *life else {
            return false;
        };
        if !*watched {
            watch();
            *watched = true;
        }
        true
    }

    /// The socket disconnected: run `uncount` (told whether expiry was watched) if it was
    /// counted. True if it was.
    pub fn end(&self, uncount: impl FnOnce(bool)) -> bool {
        let was = std::mem::replace(&mut *self.life(), Life::Gone);
        match was {
            Life::Counted { watched, .. } => {
                uncount(watched);
                true
            }
            _ => false,
        }
    }

    fn life(&self) -> std::sync::MutexGuard<'_, Life> {
        self.life.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next event's place in this socket's order. Taken synchronously when socketioxide
    /// decodes the packet, so tickets follow the order the events arrived in.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.next_ticket.fetch_add(1, Ordering::AcqRel))
    }

    pub fn joined(&self) -> Vec<String> {
        self.joined.lock().map(|j| j.clone()).unwrap_or_default()
    }

    pub fn focused(&self) -> bool {
        self.focused.load(Ordering::Acquire)
    }

    pub fn set_focused(&self, focused: bool) {
        self.focused.store(focused, Ordering::Release);
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

impl Drop for Session {
    fn drop(&mut self) {
        let life = std::mem::take(self.life.get_mut().unwrap_or_else(PoisonError::into_inner));
        if let Life::Counted { undo, .. } = life {
            undo();
        }
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

    fn counter() -> (Arc<std::sync::atomic::AtomicI64>, impl Fn() -> Undo) {
        let n = Arc::new(AtomicI64::new(0));
        let m = n.clone();
        (n, move || {
            let m = m.clone();
            Box::new(move || {
                m.fetch_sub(1, Ordering::AcqRel);
            }) as Undo
        })
    }

    #[test]
    fn a_socket_is_counted_once_and_uncounted_once() {
        let (n, undo) = counter();
        let inc = || n.fetch_add(1, Ordering::AcqRel);
        let dec = |_| {
            n.fetch_sub(1, Ordering::AcqRel);
        };
        // Left before it was counted: never counted.
        let s = session();
        assert!(!s.end(dec));
        assert!(s.count(inc, undo()).is_none());
        drop(s);
        assert_eq!(n.load(Ordering::Acquire), 0);
        // Counted, then disconnected: uncounted by the disconnect, not again on drop.
        let s = session();
        assert!(s.count(inc, undo()).is_some());
        assert!(s.count(inc, undo()).is_none());
        assert!(s.end(dec));
        assert!(!s.end(dec));
        drop(s);
        assert_eq!(n.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_counted_socket_dropped_without_a_disconnect_is_uncounted() {
        let (n, undo) = counter();
        let s = session();
        assert!(
            s.count(|| n.fetch_add(1, Ordering::AcqRel), undo())
                .is_some()
        );
        assert_eq!(n.load(Ordering::Acquire), 1);
        drop(s);
        assert_eq!(n.load(Ordering::Acquire), 0);
    }

    #[test]
    fn expiry_is_watched_only_while_counted() {
        let (_, undo) = counter();
        let s = session();
        let mut watched = 0;
        assert!(!s.watch(|| watched += 1));
        assert!(s.count(|| (), undo()).is_some());
        assert!(s.watch(|| watched += 1));
        assert!(s.watch(|| watched += 1));
        assert_eq!(watched, 1);
        let mut forgot = false;
        assert!(s.end(|w| forgot = w));
        assert!(forgot);
        assert!(!s.watch(|| watched += 1));
        assert_eq!(watched, 1);
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
