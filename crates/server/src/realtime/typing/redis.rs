//! Typing indicators across nodes: one Redis key per (chat, user) holding the time it expires
//! (Redis' clock, so nodes agree). Starting is told once however many devices or nodes renew it;
//! whoever deletes the key — an explicit stop, or the watcher that sees it lapse — tells the
//! stop, so it is told once too.

use std::time::Duration;

use redis::Script;

use async_trait::async_trait;

use super::{Lapse, SharedTyping};
use crate::cluster::{ClusterError, Redis};

/// Set the expiry; returns 1 if the indicator was not shown before.
const START: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 10000)
if existed == 1 then return 0 end
return 1
";

/// -1: gone (someone stopped it); 0: lapsed, deleted by this call; >0: ms left.
const CHECK: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if tonumber(v) <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
return tonumber(v) - now
";

pub struct RedisTyping {
    redis: Redis,
    start: Script,
    check: Script,
}

impl RedisTyping {
    pub fn new(redis: Redis) -> Self {
        RedisTyping {
            redis,
            start: Script::new(START),
            check: Script::new(CHECK),
        }
    }

    fn key(&self, chat_id: &str, user: &str) -> String {
        self.redis.key(&format!("typing:{chat_id}:{user}"))
    }
}

#[async_trait]
impl SharedTyping for RedisTyping {
    /// Show or renew; true if it was not shown before.
    async fn start(&self, chat_id: &str, user: &str, ttl: Duration) -> Result<bool, ClusterError> {
        let key = self.key(chat_id, user);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(6_000);
        let script = &self.start;
        let started: i64 = self
            .redis
            .call("typing", |mut c| async move {
                script.key(key).arg(ttl_ms).invoke_async(&mut c).await
            })
            .await?;
        Ok(started == 1)
    }

    /// Stop; true if it was shown (so the stop must be told).
    async fn stop(&self, chat_id: &str, user: &str) -> Result<bool, ClusterError> {
        let key = self.key(chat_id, user);
        let removed: i64 = self
            .redis
            .call("typing", |mut c| async move {
                redis::cmd("DEL").arg(key).query_async(&mut c).await
            })
            .await?;
        Ok(removed == 1)
    }

    async fn check(&self, chat_id: &str, user: &str) -> Result<Lapse, ClusterError> {
        let key = self.key(chat_id, user);
        let script = &self.check;
        let left: i64 = self
            .redis
            .call("typing", |mut c| async move {
                script.key(key).invoke_async(&mut c).await
            })
            .await?;
        Ok(match left {
            0 => Lapse::Expired,
            n if n < 0 => Lapse::Gone,
            n => Lapse::After(Duration::from_millis(n.unsigned_abs())),
        })
    }
}
