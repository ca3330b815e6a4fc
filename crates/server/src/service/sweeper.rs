//! The retention sweeper: deletes closed chats whose time has come, files first.
//!
//! Driven from the database's deletion queue, so a restart between closing and deleting
//! finishes the job; every step is idempotent.

use std::{sync::Arc, time::Duration};

use omw_domain::time::now_millis;
use tokio::sync::Notify;

use super::ChatService;
use crate::error::ApiError;

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
    /// Delete one chat: its files, then its rows (which also dequeues it).
    pub async fn purge_chat(&self, chat_id: &str) -> Result<(), ApiError> {
        let failed = |key: &str, e: object_store::Error| {
            tracing::warn!(chat_id, key, error = %e, "file delete failed");
            ApiError::new(
                crate::error::ErrorCode::Unavailable,
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
        tracing::info!(chat_id, "chat deleted");
        Ok(())
    }

    /// Delete every chat that is due now. Returns how many were deleted.
    pub async fn sweep_once(&self) -> Result<usize, ApiError> {
        let mut done = 0;
        loop {
            let due = self.store.due_deletions(now_millis(), BATCH).await?;
            let n = due.len();
            for chat_id in due {
                self.purge_chat(&chat_id).await?;
                done += 1;
            }
            if n < BATCH as usize {
                return Ok(done);
            }
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
