//! The retention sweeper: deletes closed chats whose time has come, files first.
//!
//! Driven from the database's deletion queue, so a restart between closing and deleting
//! finishes the job; every step is idempotent.

use std::{sync::Arc, time::Duration};

use omw_domain::time::{millis_of, now_millis};
use tokio::sync::Notify;

use super::ChatService;
use crate::service::error::ServiceError;

/// Wakes the sweeper early (a chat just closed).
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

const BATCH: u32 = 100;
/// Uploads never sent in a message are removed after this long.
pub const UNLINKED_MAX_AGE: Duration = Duration::from_secs(3600);

impl ChatService {
    /// Delete one chat: its files, then its rows (which also dequeues it). Every node forgets
    /// it, so none keeps answering for it from its cache. False when a dispute hold keeps it
    /// (SPEC §9.7): then nothing is deleted, and once the purge has begun no hold is accepted.
    pub async fn purge_chat(&self, chat_id: &str) -> Result<bool, ServiceError> {
        if !self.store.begin_purge(chat_id, now_millis()).await? {
            tracing::info!(chat_id, "chat held; not deleted");
            return Ok(false);
        }
        // Its key is destroyed: other nodes forget their copy now, not after the files.
        self.invalidations.publish(chat_id).await;
        let pause = self.purge_pause;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let failed = |key: &str, e: object_store::Error| {
            tracing::warn!(chat_id, key, error = %e, "file delete failed");
            ServiceError::new(
                crate::service::error::ErrorCode::Unavailable,
                "file storage unavailable",
            )
        };
        for key in self.store.chat_file_keys(chat_id).await? {
            self.files.delete(&key).await.map_err(|e| failed(&key, e))?;
        }
        // Files of the chat that no row names (an upload cut off between its file and its row).
        for folder in ["files", "thumbs"] {
            let prefix = format!("{folder}/{chat_id}");
            self.files
                .delete_under(&prefix)
                .await
                .map_err(|e| failed(&prefix, e))?;
        }
        self.store.purge_chat(chat_id).await?;
        self.refresh_cached(None, chat_id);
        self.invalidations.publish(chat_id).await;
        metrics::counter!("omw_chats_purged_total").increment(1);
        tracing::info!(chat_id, "chat deleted");
        Ok(true)
    }

    /// Delete every chat that is due now. A chat that fails is counted
    /// (`omw_purge_failures_total`), put back with backoff, and the others go on. Returns how
    /// many were deleted; an error only when the queue itself cannot be read.
    pub async fn sweep_once(&self) -> Result<usize, ServiceError> {
        let mut done = 0;
        let result = loop {
            let now = now_millis();
            let due = match self.store.due_deletions(now, BATCH).await {
                Ok(due) => due,
                Err(e) => break Err(e.into()),
            };
            let n = due.len();
            let mut progress = false;
            for chat_id in due {
                progress |= match self.purge_chat(&chat_id).await {
                    Ok(true) => {
                        done += 1;
                        true
                    }
                    // Held since it was listed: it waits for its release.
                    Ok(false) => true,
                    Err(e) => self.purge_failed(&chat_id, &e).await,
                };
            }
            // Each chat of a full batch was deleted or postponed, so the next batch is new
            // work; without progress (the store refuses even postponing) try again later.
            if n < BATCH as usize || !progress {
                break Ok(done);
            }
        };
        self.report_overdue().await;
        result
    }

    /// Count a failed deletion and postpone the chat's next attempt; false if even that failed.
    pub(super) async fn purge_failed(&self, chat_id: &str, error: &ServiceError) -> bool {
        metrics::counter!("omw_purge_failures_total").increment(1);
        let backoff = omw_storage::Backoff {
            base: millis_of(self.purge_retry.0),
            max: millis_of(self.purge_retry.1),
        };
        match self
            .store
            .deletion_failed(chat_id, now_millis(), backoff)
            .await
        {
            Ok(attempts) => {
                tracing::warn!(chat_id, attempts, error = %error, "deleting a chat failed; retrying later");
                true
            }
            Err(e) => {
                tracing::warn!(chat_id, error = %e, "deleting a chat failed and so did postponing it");
                false
            }
        }
    }

    /// `omw_purge_overdue_seconds`: how long the longest-waiting due deletion has waited (0
    /// when none waits). Alert when it exceeds a few sweep intervals.
    async fn report_overdue(&self) {
        let now = now_millis();
        match self.store.oldest_due_deletion(now).await {
            Ok(oldest) => {
                let age = oldest.map_or(0, |due| now.saturating_sub(due).max(0));
                metrics::gauge!("omw_purge_overdue_seconds").set(age as f64 / 1000.0);
            }
            Err(e) => tracing::warn!(error = %e, "reading the deletion queue failed"),
        }
    }
}

/// Run the sweeper until the process ends: at start (work left by a previous run), every
/// `interval`, and whenever woken.
pub fn spawn(service: Arc<ChatService>, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = service.sweep_once().await {
                tracing::warn!(error = %e, "retention sweep failed; retrying later");
            }
            if let Err(e) = service.sweep_unlinked(UNLINKED_MAX_AGE).await {
                tracing::warn!(error = %e, "sweeping unlinked uploads failed; retrying later");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = service.sweeper.0.notified() => {
                    // Let a burst of closings settle into one sweep.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    })
}
