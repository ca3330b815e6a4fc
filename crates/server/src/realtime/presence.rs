//! Who is online: a user is online while at least one of their sockets is connected.

use std::{collections::HashMap, sync::Mutex};

use omw_domain::{Principal, time::now_millis};

use crate::service::limits::user_key;

#[derive(Default)]
struct Entry {
    sockets: usize,
    last_seen: Option<i64>,
}

#[derive(Default)]
pub struct Presence {
    users: Mutex<HashMap<String, Entry>>,
}

impl Presence {
    /// A socket of `who` connected; true if they just came online.
    pub fn connected(&self, who: &Principal) -> bool {
        let Ok(mut users) = self.users.lock() else {
            return false;
        };
        let e = users.entry(user_key(who)).or_default();
        e.sockets += 1;
        e.last_seen = Some(now_millis());
        e.sockets == 1
    }

    /// A socket of `who` left; `Some(last_seen)` if that was their last one.
    pub fn disconnected(&self, who: &Principal) -> Option<i64> {
        let mut users = self.users.lock().ok()?;
        let e = users.get_mut(&user_key(who))?;
        e.sockets = e.sockets.saturating_sub(1);
        let now = now_millis();
        e.last_seen = Some(now);
        (e.sockets == 0).then_some(now)
    }

    /// (online, last seen) of a user.
    pub fn status(&self, key: &str) -> (bool, Option<i64>) {
        self.users
            .lock()
            .ok()
            .and_then(|u| u.get(key).map(|e| (e.sockets > 0, e.last_seen)))
            .unwrap_or((false, None))
    }
}
