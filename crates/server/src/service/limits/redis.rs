//! Rate limits shared by all nodes: the same GCRA as `governor` (n at once, then one per
//! window/n), kept in Redis per user and limit, computed by a script on Redis' clock.

use std::time::Duration;

use redis::Script;

use async_trait::async_trait;

use super::{Rate, SharedRate};
use crate::cluster::{ClusterError, Redis};

/// ARGV: emission interval (µs), burst. Returns 0 if allowed, else µs to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * period
if now < allow_at then return allow_at - now end
local new_tat = tat + period
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
";

pub struct RedisRate {
    redis: Redis,
    gcra: Script,
}

impl RedisRate {
    pub fn new(redis: Redis) -> Self {
        RedisRate {
            redis,
            gcra: Script::new(GCRA),
        }
    }
}

#[async_trait]
impl SharedRate for RedisRate {
    /// `Ok(None)` if allowed, `Ok(Some(wait))` if refused.
    async fn check(
        &self,
        limit: &str,
        user: &str,
        rate: Rate,
    ) -> Result<Option<Duration>, ClusterError> {
        let key = self.redis.key(&format!("rate:{limit}:{user}"));
        let period_us = u64::try_from(rate.period.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let burst = rate.burst;
        let script = &self.gcra;
        let wait_us: i64 = self
            .redis
            .call("rate_limit", |mut c| async move {
                script
                    .key(key)
                    .arg(period_us)
                    .arg(burst)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((wait_us > 0).then(|| Duration::from_micros(wait_us.unsigned_abs())))
    }
}
