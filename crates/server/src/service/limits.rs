//! Per-user rate limits (GCRA token buckets from `governor`), shared by Socket.IO and REST.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};
use omw_domain::Principal;

use crate::{config::RateLimits, error::ApiError};

pub struct Limits {
    messages: DefaultKeyedRateLimiter<String>,
    events: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

/// `n` per `window`, with a burst of `n`: a user may send `n` at once, then one per window/n.
fn quota(n: u32, window: Duration) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    let period = (window / n.get()).max(Duration::from_micros(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(n)
}

pub fn user_key(who: &Principal) -> String {
    format!("{}:{}", who.role.as_str(), who.user_id)
}

impl Limits {
    pub fn new(cfg: &RateLimits) -> Self {
        Limits {
            messages: DefaultKeyedRateLimiter::keyed(quota(cfg.messages, cfg.messages_window)),
            events: DefaultKeyedRateLimiter::keyed(quota(cfg.events, cfg.events_window)),
            clock: DefaultClock::default(),
        }
    }

    fn check(
        &self,
        limiter: &DefaultKeyedRateLimiter<String>,
        who: &Principal,
    ) -> Result<(), ApiError> {
        limiter.check_key(&user_key(who)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            metrics::counter!("omw_rate_limited_total").increment(1);
            ApiError::rate_limited(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
        })
    }

    /// One message sent (Socket.IO or REST).
    pub fn message(&self, who: &Principal) -> Result<(), ApiError> {
        self.check(&self.messages, who)
    }

    /// Any other client event.
    pub fn event(&self, who: &Principal) -> Result<(), ApiError> {
        self.check(&self.events, who)
    }

    /// Forget idle users (called periodically so memory does not grow with every user seen).
    pub fn forget_idle(&self) {
        self.messages.retain_recent();
        self.events.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omw_domain::Role;

    #[test]
    fn twenty_then_refused_with_a_wait() {
        let l = Limits::new(&RateLimits {
            messages: 20,
            messages_window: Duration::from_secs(10),
            events: 5,
            events_window: Duration::from_secs(10),
        });
        let who = Principal {
            user_id: "u".into(),
            role: Role::Customer,
            name: None,
        };
        for _ in 0..20 {
            l.message(&who).unwrap();
        }
        let e = l.message(&who).unwrap_err();
        let ms = e.retry_after_ms.unwrap();
        assert!(ms > 0 && ms <= 500, "{ms}");
        // Another user is not affected.
        let other = Principal {
            user_id: "v".into(),
            role: Role::Customer,
            name: None,
        };
        l.message(&other).unwrap();
    }
}
