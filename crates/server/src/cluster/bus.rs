//! The pub/sub driver under socketioxide's Redis adapter.
//!
//! socketioxide-redis ships a driver on a plain multiplexed connection; ours differs where a
//! chat service needs it to: it reconnects and resubscribes after a Redis restart (the
//! connection manager), and a failed publish is counted and swallowed, because the adapter
//! aborts the *local* broadcast when publishing fails — a Redis outage must not stop delivery
//! to sockets on this node. Without Redis the bus is local: nothing leaves the process.

use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};

use super::Redis;

#[derive(Clone)]
pub struct Bus {
    redis: Option<Redis>,
}

#[derive(thiserror::Error, Debug)]
#[error("redis pub/sub: {0}")]
pub struct BusError(#[from] redis::RedisError);

impl Bus {
    pub fn local() -> Bus {
        Bus { redis: None }
    }

    pub fn redis(redis: Redis) -> Bus {
        Bus { redis: Some(redis) }
    }
}

impl Driver for Bus {
    type Error = BusError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), BusError> {
        let Some(redis) = &self.redis else {
            return Ok(());
        };
        redis.publish("socketio", chan, val).await;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, BusError> {
        match &self.redis {
            // Nothing arrives from other nodes when there are none.
            None => Ok(MessageStream::new_empty()),
            Some(redis) => Ok(MessageStream::new(redis.subscribe(chan, size).await?)),
        }
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), BusError> {
        match &self.redis {
            None => Ok(()),
            Some(redis) => Ok(redis.unsubscribe(chan).await?),
        }
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, BusError> {
        let Some(redis) = &self.redis else {
            return Ok(1);
        };
        let mut conn = redis.conn.clone();
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}
