//! Telling the other nodes that a chat changed (opened, moved on, closed, deleted), so their
//! membership caches do not serve a stale open chat to `typing` or `mark_read`, nor a deleted
//! one to history.
//!
//! Pub/sub is not durable: a change published while Redis is down, or while a node's
//! subscription is broken, is lost. So every node drops its whole cache when Redis is reachable
//! again (its own outage may have hidden other nodes' changes), and a node re-publishes the
//! changes it could not send once its Redis is back (other nodes may not have noticed any
//! outage).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
};

use super::Redis;

const CHANNEL: &str = "chat-changed";

/// What a node must forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget<'a> {
    Chat(&'a str),
    All,
}

#[derive(Clone, Default)]
pub struct Invalidations {
    redis: Option<Redis>,
    /// Chats whose change could not be published, to publish again after the outage.
    unsent: Arc<Mutex<HashSet<String>>>,
}

impl Invalidations {
    pub fn new(redis: Option<Redis>) -> Self {
        Invalidations {
            redis,
            unsent: Arc::default(),
        }
    }

    /// Tell every node (this one included) to forget `chat_id`.
    pub async fn publish(&self, chat_id: &str) {
        let Some(redis) = &self.redis else { return };
        let sent = redis
            .publish(
                "invalidate",
                redis.key(CHANNEL),
                chat_id.as_bytes().to_vec(),
            )
            .await;
        if !sent {
            self.unsent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(chat_id.to_string());
        }
    }

    /// Call `forget` for every chat another node says changed, and with `Forget::All` whenever
    /// Redis is reachable again after an outage.
    pub async fn listen(
        &self,
        forget: Arc<dyn Fn(Forget<'_>) + Send + Sync>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, redis::RedisError> {
        let Some(redis) = &self.redis else {
            return Ok(None);
        };
        let mut rx = redis.subscribe(redis.key(CHANNEL), 1024).await?;
        let mut recoveries = redis.health.recoveries();
        let this = self.clone();
        Ok(Some(tokio::spawn(async move {
            loop {
                tokio::select! {
                    msg = rx.recv() => {
                        let Some((_, payload)) = msg else { return };
                        if let Ok(id) = std::str::from_utf8(&payload) {
                            forget(Forget::Chat(id));
                        }
                    }
                    changed = recoveries.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        forget(Forget::All);
                        this.resend().await;
                    }
                }
            }
        })))
    }

    /// Publish again what could not be sent during an outage.
    async fn resend(&self) {
        let unsent: Vec<String> = self
            .unsent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        for chat_id in unsent {
            self.publish(&chat_id).await;
        }
    }
}
