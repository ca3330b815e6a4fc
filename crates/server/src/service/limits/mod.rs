//! Per-user rate limits (GCRA token buckets from `governor`), shared by Socket.IO and REST.
//! With Redis they are shared by all nodes too (`redis`, the same algorithm); if Redis
//! fails, each node limits on its own meanwhile.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};
use omw_domain::Principal;

use async_trait::async_trait;

use crate::{cluster::ClusterError, config::RateLimits, service::error::ServiceError};

pub mod redis;

/// Rate limits shared by the nodes (Redis), with the same algorithm as the local limiter (GCRA).
/// Each node keeps its own limiter too, and uses it alone when the shared state fails.
#[async_trait]
pub trait SharedRate: Send + Sync {
    /// `Ok(None)` if allowed, `Ok(Some(wait))` if refused.
    async fn check(
        &self,
        limit: &str,
        user: &str,
        rate: Rate,
    ) -> Result<Option<Duration>, ClusterError>;
}

/// A GCRA's parameters: `burst` at once, then one per `period`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub period: Duration,
    pub burst: u32,
}

/// One limit: its local limiter and, for Redis, its rate.
struct Limit {
    name: &'static str,
    local: DefaultKeyedRateLimiter<String>,
    rate: Rate,
}

impl Limit {
    fn new(name: &'static str, n: u32, window: Duration) -> Self {
        let burst = n.max(1);
        Limit {
            name,
            local: DefaultKeyedRateLimiter::keyed(quota(burst, window)),
            rate: Rate {
                period: period(burst, window),
                burst,
            },
        }
    }
}

pub struct Limits {
    messages: Limit,
    events: Limit,
    clock: DefaultClock,
    shared: Option<Box<dyn SharedRate>>,
}

fn period(n: u32, window: Duration) -> Duration {
    (window / n.max(1)).max(Duration::from_micros(1))
}

/// `n` per `window`, with a burst of `n`: a user may send `n` at once, then one per window/n.
fn quota(n: u32, window: Duration) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period(n.get(), window))
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

pub fn user_key(who: &Principal) -> String {
    format!("{}:{}", who.role.as_str(), who.user_id)
}

impl Limits {
    pub fn new(cfg: &RateLimits, shared: Option<impl SharedRate + 'static>) -> Self {
        Limits {
            messages: Limit::new("msg", cfg.messages, cfg.messages_window),
            events: Limit::new("evt", cfg.events, cfg.events_window),
            clock: DefaultClock::default(),
            shared: shared.map(|s| Box::new(s) as Box<dyn SharedRate>),
        }
    }

    async fn check(&self, limit: &Limit, who: &Principal) -> Result<(), ServiceError> {
        let key = user_key(who);
        let wait = match &self.shared {
            Some(shared) => match shared.check(limit.name, &key, limit.rate).await {
                Ok(wait) => wait,
                Err(_) => self.check_local(limit, &key),
            },
            None => self.check_local(limit, &key),
        };
        match wait {
            None => Ok(()),
            Some(wait) => {
                metrics::counter!("omw_rate_limited_total").increment(1);
                Err(ServiceError::rate_limited(
                    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1),
                ))
            }
        }
    }

    fn check_local(&self, limit: &Limit, key: &str) -> Option<Duration> {
        limit
            .local
            .check_key(&key.to_string())
            .err()
            .map(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// One message sent (Socket.IO or REST).
    pub async fn message(&self, who: &Principal) -> Result<(), ServiceError> {
        self.check(&self.messages, who).await
    }

    /// Any other client event.
    pub async fn event(&self, who: &Principal) -> Result<(), ServiceError> {
        self.check(&self.events, who).await
    }

    /// Forget idle users (called periodically so memory does not grow with every user seen).
    pub fn forget_idle(&self) {
        self.messages.local.retain_recent();
        self.events.local.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omw_domain::Role;

    #[tokio::test]
    async fn twenty_then_refused_with_a_wait() {
        let l = Limits::new(
            &RateLimits {
                messages: 20,
                messages_window: Duration::from_secs(10),
                events: 5,
                events_window: Duration::from_secs(10),
            },
            None::<redis::RedisRate>,
        );
        let who = Principal {
            user_id: "u".into(),
            role: Role::Customer,
            name: None,
        };
        for _ in 0..20 {
            l.message(&who).await.unwrap();
        }
        let e = l.message(&who).await.unwrap_err();
        let ms = e.retry_after_ms.unwrap();
        assert!(ms > 0 && ms <= 500, "{ms}");
        // Another user is not affected.
        let other = Principal {
            user_id: "v".into(),
            role: Role::Customer,
            name: None,
        };
        l.message(&other).await.unwrap();
    }
}
