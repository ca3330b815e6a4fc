//! Admission control for handshakes: at most `HANDSHAKE_CONCURRENCY` are checked at once, the
//! others wait their turn in arrival order for up to `HANDSHAKE_WAIT`, then are refused with
//! `rate_limited` (the SDK retries after a randomized backoff). When every client of a node
//! reconnects at once (a restart, a network blip), the node works through them at its own pace
//! instead of starting all of them together and finishing none in time.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Admission {
    /// Fair (FIFO): the longest-waiting handshake goes first.
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// A handshake's turn; the next one goes when it is dropped.
pub struct Turn {
    _slot: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        Admission {
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
            wait,
        }
    }

    /// Wait for a turn; `None` if none came within the wait.
    pub async fn enter(&self) -> Option<Turn> {
        let turn = self.slots.clone().acquire_owned();
        match tokio::time::timeout(self.wait, turn).await {
            Ok(Ok(slot)) => Some(Turn { _slot: slot }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The default test runtime has one thread: a spawned task runs only when the test yields,
    // so `yield_now` puts each waiter in the queue before the next one asks.

    #[tokio::test]
    async fn a_waiter_gets_the_slot_when_it_frees() {
        let gate = Arc::new(Admission::new(1, Duration::from_secs(30)));
        let first = gate.enter().await.expect("a free slot");
        let second = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.is_some() }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert!(second.await.unwrap());
    }

    #[tokio::test]
    async fn a_waiter_is_refused_past_the_wait() {
        let gate = Admission::new(1, Duration::from_millis(20));
        let held = gate.enter().await.expect("a free slot");
        assert!(gate.enter().await.is_none());
        drop(held);
        assert!(gate.enter().await.is_some());
    }

    #[tokio::test]
    async fn waiters_go_first_come_first_served() {
        let gate = Arc::new(Admission::new(1, Duration::from_secs(30)));
        let first = gate.enter().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5 {
            let (gate, order) = (gate.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = gate.enter().await.unwrap();
                order.lock().unwrap().push(n);
                tokio::task::yield_now().await;
            }));
            tokio::task::yield_now().await;
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }
}
