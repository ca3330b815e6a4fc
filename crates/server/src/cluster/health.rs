//! Whether Redis answers: logged on every change, exported as `omw_redis_up`, and consulted
//! by request paths so that an outage costs them nothing (they fall back to local state).

use std::sync::atomic::{AtomicBool, Ordering};

pub struct Health {
    up: AtomicBool,
    /// Counts recoveries, for what must be reconciled after an outage (see `Invalidations`).
    recovered: tokio::sync::watch::Sender<u64>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    pub fn new() -> Self {
        metrics::gauge!("omw_redis_up").set(1.0);
        Health {
            up: AtomicBool::new(true),
            recovered: tokio::sync::watch::Sender::new(0),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    pub fn ok(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            metrics::gauge!("omw_redis_up").set(1.0);
            tracing::warn!("redis reachable again: cross-node delivery and shared state resumed");
            self.recovered.send_modify(|n| *n += 1);
        }
    }

    /// Changes whenever Redis is reachable again after an outage.
    pub fn recoveries(&self) -> tokio::sync::watch::Receiver<u64> {
        self.recovered.subscribe()
    }

    pub fn failed(&self, op: &'static str, error: &dyn std::fmt::Display) {
        metrics::counter!("omw_redis_errors_total", "op" => op).increment(1);
        if self.up.swap(false, Ordering::AcqRel) {
            metrics::gauge!("omw_redis_up").set(0.0);
            tracing::error!(
                op,
                error = %error,
                "redis unreachable: messages are still stored and acked; other nodes' clients \
                 catch up by seq when it is back"
            );
        }
    }
}
