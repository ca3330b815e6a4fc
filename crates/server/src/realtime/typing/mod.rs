//! Typing indicators: coalesced (only changes are broadcast) and expiring by themselves after
//! 6 s without renewal. With Redis the state is shared by all nodes (`redis`); if
//! Redis fails, this node keeps it in memory.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

use async_trait::async_trait;

use crate::cluster::ClusterError;

pub mod redis;

/// How long a typing indicator lives without renewal.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

/// What the watcher of a started indicator should do next.
pub enum Lapse {
    /// It lapsed and this node removed it: tell the chat it stopped.
    Expired,
    /// Someone stopped it already.
    Gone,
    /// Check again after this long.
    After(Duration),
}

/// Typing state shared by the nodes (Redis). Each node keeps its own in memory too, and uses it
/// alone when the shared state fails.
#[async_trait]
pub trait SharedTyping: Send + Sync {
    /// Show or renew; true if it was not shown before.
    async fn start(&self, chat_id: &str, user: &str, ttl: Duration) -> Result<bool, ClusterError>;
    /// Stop; true if it was shown (so the stop must be told).
    async fn stop(&self, chat_id: &str, user: &str) -> Result<bool, ClusterError>;
    /// Whether a started indicator lapsed, is gone, or lives on for a while.
    async fn check(&self, chat_id: &str, user: &str) -> Result<Lapse, ClusterError>;
}

#[derive(Default)]
pub struct Typing {
    /// (chat id, user key) → when the indicator expires.
    until: Mutex<HashMap<(String, String), Instant>>,
    shared: Option<Box<dyn SharedTyping>>,
}

pub enum Change {
    /// Broadcast `is_typing: true` and arm the expiry timer.
    Started,
    /// Broadcast `is_typing: false`.
    Stopped,
    /// Nothing to tell anyone.
    None,
}

impl Typing {
    pub fn new(shared: Option<impl SharedTyping + 'static>) -> Self {
        Typing {
            until: Mutex::default(),
            shared: shared.map(|s| Box::new(s) as Box<dyn SharedTyping>),
        }
    }

    fn local_set(&self, chat_id: &str, user: &str, typing: bool) -> Change {
        let Ok(mut m) = self.until.lock() else {
            return Change::None;
        };
        let key = (chat_id.to_string(), user.to_string());
        if typing {
            match m.insert(key, Instant::now() + TYPING_TTL) {
                Some(_) => Change::None,
                None => Change::Started,
            }
        } else if m.remove(&key).is_some() {
            Change::Stopped
        } else {
            Change::None
        }
    }

    pub async fn set(&self, chat_id: &str, user: &str, typing: bool) -> Change {
        let Some(shared) = &self.shared else {
            return self.local_set(chat_id, user, typing);
        };
        if typing {
            match shared.start(chat_id, user, TYPING_TTL).await {
                Ok(true) => Change::Started,
                Ok(false) => Change::None,
                Err(_) => self.local_set(chat_id, user, true),
            }
        } else {
            // Also clear what was kept here while Redis was away.
            let here = matches!(self.local_set(chat_id, user, false), Change::Stopped);
            match shared.stop(chat_id, user).await {
                Ok(true) => Change::Stopped,
                _ if here => Change::Stopped,
                _ => Change::None,
            }
        }
    }

    /// Wait for the indicator to expire; true if it did (and was removed), false if it was
    /// stopped meanwhile.
    pub async fn expire(self: Arc<Self>, chat_id: String, user: String) -> bool {
        let key = (chat_id, user);
        let held_here = self.until.lock().is_ok_and(|m| m.contains_key(&key));
        if let (Some(shared), false) = (&self.shared, held_here) {
            loop {
                match shared.check(&key.0, &key.1).await {
                    Ok(Lapse::Expired) => return true,
                    Ok(Lapse::Gone) => return false,
                    Ok(Lapse::After(d)) => tokio::time::sleep(d).await,
                    // Redis is away: the indicator cannot outlive its TTL anyway.
                    Err(_) => {
                        tokio::time::sleep(TYPING_TTL).await;
                        return true;
                    }
                }
            }
        }
        loop {
            let deadline = match self.until.lock().ok().and_then(|m| m.get(&key).copied()) {
                Some(d) => d,
                None => return false,
            };
            tokio::time::sleep_until(deadline).await;
            if let Ok(mut m) = self.until.lock() {
                match m.get(&key) {
                    Some(d) if *d <= Instant::now() => {
                        m.remove(&key);
                        return true;
                    }
                    Some(_) => continue,
                    None => return false,
                }
            }
        }
    }

    /// Every chat where `user` is shown typing, cleared (they left or disconnected).
    pub async fn clear_user(&self, user: &str, chats: &[String]) -> Vec<String> {
        let mut cleared = Vec::new();
        for chat in chats {
            if matches!(self.set(chat, user, false).await, Change::Stopped) {
                cleared.push(chat.clone());
            }
        }
        cleared
    }

    /// The chat closed; its room is gone, so nothing is told. Redis keys lapse by themselves.
    pub fn clear_chat(&self, chat_id: &str) {
        if let Ok(mut m) = self.until.lock() {
            m.retain(|(c, _), _| c != chat_id);
        }
    }
}
