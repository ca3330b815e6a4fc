//! Presence across nodes. Each node counts its own sockets per user; Redis holds, per user, the
//! set of nodes where they have one (a sorted set scored by expiry, refreshed by every node's
//! heartbeat, so a crashed node's entries lapse and a restarted Redis is refilled within one
//! beat) and the last time they were seen.

use std::time::Duration;

use async_trait::async_trait;
use omw_domain::time::now_millis;

use super::SharedPresence;
use crate::cluster::{ClusterError, Redis};

/// How long a node's claim that a user is online lives without a heartbeat.
pub const NODE_TTL: Duration = Duration::from_secs(30);
/// How often each node renews its claims.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// last_seen is kept this long after a user was last seen (chats are short-lived).
const LAST_SEEN_TTL_S: u64 = 30 * 24 * 3600;

pub struct RedisPresence {
    redis: Redis,
}

fn ttl_ms() -> i64 {
    i64::try_from(NODE_TTL.as_millis()).unwrap_or(30_000)
}

impl RedisPresence {
    pub fn new(redis: Redis) -> Self {
        RedisPresence { redis }
    }

    fn nodes_key(&self, user: &str) -> String {
        self.redis.key(&format!("presence:{user}"))
    }

    fn seen_key(&self, user: &str) -> String {
        self.redis.key(&format!("seen:{user}"))
    }
}

#[async_trait]
impl SharedPresence for RedisPresence {
    /// This node got its first socket of `user`; true if no other node had one.
    async fn node_joined(&self, user: &str) -> Result<bool, ClusterError> {
        let (nodes, seen, node) = (
            self.nodes_key(user),
            self.seen_key(user),
            self.redis.node().to_string(),
        );
        let now = now_millis();
        let (_, before, _, _, _): (i64, i64, i64, i64, ()) = self
            .redis
            .call("presence", |mut c| async move {
                redis::pipe()
                    .atomic()
                    .zrembyscore(&nodes, "-inf", now)
                    .zcard(&nodes)
                    .zadd(&nodes, &node, now + ttl_ms())
                    .pexpire(&nodes, ttl_ms())
                    .set_ex(&seen, now, LAST_SEEN_TTL_S)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        // `before` counted other nodes only if this one was not listed (it is not: its last
        // socket left earlier, or it never had one).
        Ok(before == 0)
    }

    /// This node's last socket of `user` left; true if no node has one any more.
    async fn node_left(&self, user: &str) -> Result<bool, ClusterError> {
        let (nodes, seen, node) = (
            self.nodes_key(user),
            self.seen_key(user),
            self.redis.node().to_string(),
        );
        let now = now_millis();
        let (_, _, after, _): (i64, i64, i64, ()) = self
            .redis
            .call("presence", |mut c| async move {
                redis::pipe()
                    .atomic()
                    .zrem(&nodes, &node)
                    .zrembyscore(&nodes, "-inf", now)
                    .zcard(&nodes)
                    .set_ex(&seen, now, LAST_SEEN_TTL_S)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(after == 0)
    }

    /// (online on any node, last seen).
    async fn status(&self, user: &str) -> Result<(bool, Option<i64>), ClusterError> {
        let (nodes, seen) = (self.nodes_key(user), self.seen_key(user));
        let now = now_millis();
        let (online, last_seen): (i64, Option<i64>) = self
            .redis
            .call("presence", |mut c| async move {
                redis::pipe()
                    .zcount(&nodes, now, "+inf")
                    .get(&seen)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok((online > 0, last_seen))
    }

    /// Renew this node's claims for the users it has sockets of.
    async fn heartbeat(&self, users: Vec<String>) -> Result<(), ClusterError> {
        if users.is_empty() {
            return Ok(());
        }
        let node = self.redis.node().to_string();
        let until = now_millis() + ttl_ms();
        // Bounded pipelines, so one beat never holds the connection for long.
        for chunk in users.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(|u| self.nodes_key(u)).collect();
            let node = node.clone();
            self.redis
                .call("presence", |mut c| async move {
                    let mut pipe = redis::pipe();
                    for key in &keys {
                        pipe.zadd(key, &node, until).ignore();
                        pipe.pexpire(key, ttl_ms()).ignore();
                    }
                    pipe.query_async::<()>(&mut c).await
                })
                .await?;
        }
        Ok(())
    }
}
