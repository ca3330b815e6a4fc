//! Typing indicators: coalesced (only changes are broadcast) and expiring by themselves after
//! 6 s without renewal.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

/// How long a typing indicator lives without renewal.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

#[derive(Default)]
pub struct Typing {
    /// (chat id, user key) → when the indicator expires.
    until: Mutex<HashMap<(String, String), Instant>>,
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
    pub fn set(&self, chat_id: &str, user: &str, typing: bool) -> Change {
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

    /// Wait for the indicator to expire; true if it did (and was removed), false if it was
    /// stopped meanwhile.
    pub async fn expire(self: Arc<Self>, chat_id: String, user: String) -> bool {
        let key = (chat_id, user);
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
    pub fn clear_user(&self, user: &str, chats: &[String]) -> Vec<String> {
        let Ok(mut m) = self.until.lock() else {
            return Vec::new();
        };
        chats
            .iter()
            .filter(|c| m.remove(&((*c).clone(), user.to_string())).is_some())
            .cloned()
            .collect()
    }

    pub fn clear_chat(&self, chat_id: &str) {
        if let Ok(mut m) = self.until.lock() {
            m.retain(|(c, _), _| c != chat_id);
        }
    }
}
