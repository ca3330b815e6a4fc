//! Admission for image decoding: at most so many decodes at once and so much decode memory in
//! all, so a burst of large photos queues instead of taking the process's memory.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::service::error::{ErrorCode, ServiceError};

/// Memory is counted in KiB (semaphore permits are `u32` per acquire).
const UNIT: u64 = 1024;

pub struct DecodeGate {
    slots: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    memory_units: u32,
    wait: Duration,
}

/// Held while one image is decoded; dropping it lets the next one in.
pub struct DecodePermit {
    _slot: OwnedSemaphorePermit,
    _memory: OwnedSemaphorePermit,
    /// The memory granted, in bytes: the decoder's allocation limit.
    pub bytes: u64,
}

impl DecodeGate {
    /// `concurrent` decodes at once using at most `memory` bytes together; an upload waits up to
    /// `wait` for its turn.
    pub fn new(concurrent: usize, memory: u64, wait: Duration) -> Self {
        let memory_units = u32::try_from(memory / UNIT).unwrap_or(u32::MAX).max(1);
        DecodeGate {
            slots: Arc::new(Semaphore::new(concurrent.max(1))),
            memory: Arc::new(Semaphore::new(memory_units as usize)),
            memory_units,
            wait,
        }
    }

    /// Wait (up to the configured time) for a slot and `estimate` bytes of decode memory. An
    /// image needing more than the whole budget gets the whole budget (it runs alone).
    pub async fn enter(&self, estimate: u64) -> Result<DecodePermit, ServiceError> {
        let units = u32::try_from(estimate.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.memory_units);
        let admitted = tokio::time::timeout(self.wait, async {
            let slot = self.slots.clone().acquire_owned().await.ok()?;
            let memory = self.memory.clone().acquire_many_owned(units).await.ok()?;
            Some((slot, memory))
        })
        .await;
        match admitted {
            Ok(Some((slot, memory))) => Ok(DecodePermit {
                _slot: slot,
                _memory: memory,
                bytes: u64::from(units) * UNIT,
            }),
            Ok(None) => Err(ServiceError::internal()),
            Err(_) => {
                metrics::counter!("omw_decodes_refused_total").increment(1);
                Err(busy())
            }
        }
    }
}

fn busy() -> ServiceError {
    ServiceError {
        code: ErrorCode::Unavailable,
        message: "too many images are being processed, try again shortly".into(),
        retry_after_ms: Some(2000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn excess_decodes_wait_then_get_unavailable_with_retry_after() {
        let gate = DecodeGate::new(1, 64 << 20, Duration::from_millis(50));
        let first = gate.enter(1 << 20).await.unwrap();
        let e = gate.enter(1 << 20).await.err().unwrap();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.retry_after_ms.is_some());
        drop(first);
        assert!(gate.enter(1 << 20).await.is_ok());
    }

    #[tokio::test]
    async fn decode_memory_is_shared_and_an_oversized_image_runs_alone() {
        let gate = DecodeGate::new(4, 10 << 20, Duration::from_millis(50));
        let a = gate.enter(6 << 20).await.unwrap();
        assert_eq!(a.bytes, 6 << 20);
        // 6 + 6 MiB > 10 MiB: the second waits, then is refused.
        assert!(gate.enter(6 << 20).await.is_err());
        let b = gate.enter(4 << 20).await.unwrap();
        drop((a, b));
        let whole = gate.enter(1 << 40).await.unwrap();
        assert_eq!(whole.bytes, 10 << 20);
        assert!(gate.enter(1).await.is_err());
    }
}
