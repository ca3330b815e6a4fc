//! Token expiry: every socket is disconnected when its token runs out, unless `refresh_token`
//! moved the time. One timer task serves all sockets: a task per socket cost ~0.4 KiB of every
//! idle socket, an entry here ~60 bytes.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use omw_domain::time::now_millis;
use socketioxide::socket::Sid;
use tokio::{sync::Notify, task::JoinHandle};

use super::SocketRef;
use crate::{
    service::error::ServiceError,
    wire::broadcast::{ServerEvent, TokenExpired},
};

/// The sockets still connected, by the time their token expires (ms since epoch).
#[derive(Default)]
pub struct Expiry {
    due: Mutex<BTreeMap<(i64, Sid), SocketRef>>,
    /// An earlier time may have come in: the timer looks again.
    changed: Notify,
}

impl Expiry {
    /// The timer task, stopped with the server's other background tasks.
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move { this.run().await })
    }

    /// Disconnect `s` at `at_ms`.
    pub fn watch(&self, s: &SocketRef, at_ms: i64) {
        self.due().insert((at_ms, s.id), s.clone());
        self.changed.notify_one();
    }

    /// The token of `sid` now expires at `to_ms` instead of `from_ms`. False when the socket is
    /// no longer watched (it expired or disconnected meanwhile).
    pub fn moved(&self, sid: Sid, from_ms: i64, to_ms: i64) -> bool {
        let mut due = self.due();
        let Some(s) = due.remove(&(from_ms, sid)) else {
            return false;
        };
        due.insert((to_ms, sid), s);
        drop(due);
        self.changed.notify_one();
        true
    }

    /// The socket disconnected.
    pub fn forget(&self, sid: Sid, at_ms: i64) {
        self.due().remove(&(at_ms, sid));
    }

    fn due(&self) -> std::sync::MutexGuard<'_, BTreeMap<(i64, Sid), SocketRef>> {
        self.due.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(&self) {
        loop {
            let now = now_millis();
            let (expired, next) = {
                let mut due = self.due();
                let later = due.split_off(&(now.saturating_add(1), Sid::ZERO));
                let expired = std::mem::replace(&mut *due, later);
                (expired, due.keys().next().map(|(at, _)| *at))
            };
            for s in expired.into_values() {
                tokio::spawn(expire(s));
            }
            match next {
                Some(at) => {
                    let wait = u64::try_from(at - now).unwrap_or(0);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                        _ = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

async fn expire(s: SocketRef) {
    let error = ServiceError::unauthorized("token expired");
    let _ = s.emit(TokenExpired::NAME, &TokenExpired { error });
    // Give the event a moment to leave before the close.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = s.disconnect();
}
