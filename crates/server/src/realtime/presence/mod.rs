//! Who is online: a user is online while at least one of their sockets is connected, on any
//! node. This node counts its own sockets; with Redis, the nodes share who is online where
//! (see `redis`). If Redis fails, this node's own view is used.

use std::{collections::HashMap, sync::Mutex};

use omw_domain::{Principal, time::now_millis};

use async_trait::async_trait;

use crate::{cluster::ClusterError, service::limits::user_key};

pub mod redis;

/// Presence shared by the nodes (Redis): on which nodes each user has a socket, and when they
/// were last seen. Each node counts its own sockets too, and uses its own view alone when the
/// shared state fails.
#[async_trait]
pub trait SharedPresence: Send + Sync {
    /// This node got its first socket of `user`; true if no other node had one.
    async fn node_joined(&self, user: &str) -> Result<bool, ClusterError>;
    /// This node's last socket of `user` left; true if no other node has one.
    async fn node_left(&self, user: &str) -> Result<bool, ClusterError>;
    /// (online anywhere, last seen) of `user`.
    async fn status(&self, user: &str) -> Result<(bool, Option<i64>), ClusterError>;
    /// Renew this node's claims for the users it has sockets of.
    async fn heartbeat(&self, users: Vec<String>) -> Result<(), ClusterError>;
}

#[derive(Default)]
struct Entry {
    sockets: usize,
    last_seen: Option<i64>,
}

#[derive(Default)]
pub struct Presence {
    users: Mutex<HashMap<String, Entry>>,
    shared: Option<Box<dyn SharedPresence>>,
}

impl Presence {
    pub fn new(shared: Option<impl SharedPresence + 'static>) -> Self {
        Presence {
            users: Mutex::default(),
            shared: shared.map(|s| Box::new(s) as Box<dyn SharedPresence>),
        }
    }

    /// Count a socket of `who` on this node; true if it is the node's first of this user (then
    /// [`Presence::came_online`] asks the other nodes). Synchronous, so that counting and
    /// uncounting one socket can be serialized by its session.
    pub fn count_local(&self, who: &Principal) -> bool {
        let Ok(mut users) = self.users.lock() else {
            return false;
        };
        let e = users.entry(user_key(who)).or_default();
        e.sockets += 1;
        e.last_seen = Some(now_millis());
        e.sockets == 1
    }

    /// This node just got its first socket of `who`: true if they were online nowhere before.
    pub async fn came_online(&self, who: &Principal) -> bool {
        match &self.shared {
            None => true,
            Some(shared) => shared.node_joined(&user_key(who)).await.unwrap_or(true),
        }
    }

    /// Uncount a socket of `who`; `Some(now)` if it was this node's last one of this user (then
    /// [`Presence::went_offline`] asks the other nodes).
    pub fn uncount_local(&self, who: &Principal) -> Option<i64> {
        let now = now_millis();
        let mut users = self.users.lock().ok()?;
        let e = users.get_mut(&user_key(who))?;
        e.sockets = e.sockets.saturating_sub(1);
        e.last_seen = Some(now);
        (e.sockets == 0).then_some(now)
    }

    /// This node's last socket of `who` left at `now`: `Some(now)` if that was their last one
    /// anywhere.
    pub async fn went_offline(&self, who: &Principal, now: i64) -> Option<i64> {
        match &self.shared {
            None => Some(now),
            Some(shared) => match shared.node_left(&user_key(who)).await {
                Ok(false) => None,
                Ok(true) | Err(_) => Some(now),
            },
        }
    }

    /// (online, last seen) of a user.
    pub async fn status(&self, key: &str) -> (bool, Option<i64>) {
        let (here, seen_here) = self
            .users
            .lock()
            .ok()
            .and_then(|u| u.get(key).map(|e| (e.sockets > 0, e.last_seen)))
            .unwrap_or((false, None));
        match &self.shared {
            None => (here, seen_here),
            Some(shared) => match shared.status(key).await {
                Ok((online, seen)) => (online || here, seen.max(seen_here)),
                Err(_) => (here, seen_here),
            },
        }
    }

    /// Users with a socket on this node (for the shared heartbeat). Forgets users gone from
    /// this node for an hour, so the map does not grow with everyone ever seen.
    pub fn local_users(&self) -> Vec<String> {
        let Ok(mut users) = self.users.lock() else {
            return Vec::new();
        };
        let stale = now_millis() - 3_600_000;
        users.retain(|_, e| e.sockets > 0 || e.last_seen.is_some_and(|s| s > stale));
        users
            .iter()
            .filter(|(_, e)| e.sockets > 0)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Keep this node's claims alive in Redis (and restore them after a Redis restart).
    pub fn spawn_heartbeat(self: &std::sync::Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        self.shared.as_ref()?;
        let me = self.clone();
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(redis::HEARTBEAT).await;
                if let Some(shared) = &me.shared {
                    let _ = shared.heartbeat(me.local_users()).await;
                }
            }
        }))
    }
}
