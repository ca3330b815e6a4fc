//! Telling the other nodes that a chat changed (opened, moved on, closed), so their membership
//! caches do not serve a stale open chat to `typing` or `mark_read`.

use std::sync::Arc;

use super::Redis;

const CHANNEL: &str = "chat-changed";

#[derive(Clone, Default)]
pub struct Invalidations {
    redis: Option<Redis>,
}

impl Invalidations {
    pub fn new(redis: Option<Redis>) -> Self {
        Invalidations { redis }
    }

    /// Tell every node (this one included) to forget `chat_id`.
    pub async fn publish(&self, chat_id: &str) {
        let Some(redis) = &self.redis else { return };
        redis
            .publish(
                "invalidate",
                redis.key(CHANNEL),
                chat_id.as_bytes().to_vec(),
            )
            .await;
    }

    /// Call `forget` for every chat another node says changed.
    pub async fn listen(
        &self,
        forget: Arc<dyn Fn(&str) + Send + Sync>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, redis::RedisError> {
        let Some(redis) = &self.redis else {
            return Ok(None);
        };
        let mut rx = redis.subscribe(redis.key(CHANNEL), 1024).await?;
        Ok(Some(tokio::spawn(async move {
            while let Some((_, payload)) = rx.recv().await {
                if let Ok(id) = std::str::from_utf8(&payload) {
                    forget(id);
                }
            }
        })))
    }
}
