//! Applying the platform's booking updates.

use omw_domain::{BookingUpdate, time::now_millis};
use omw_storage::AppliedBooking;

use super::ChatService;
use crate::service::error::ServiceError;

impl ChatService {
    /// Upsert a booking as the platform says it is now; open, annotate or close its chat and
    /// tell the participants. With zero retention a closed chat is deleted before this returns.
    pub async fn apply_booking(
        &self,
        booking_id: &str,
        update: BookingUpdate,
    ) -> Result<AppliedBooking, ServiceError> {
        let now = now_millis();
        let retention_ms = self.retention_ms();
        let mut applied = self
            .store
            .apply_booking(booking_id, update, now, now.saturating_add(retention_ms))
            .await?;
        if let Some(chat) = &applied.chat {
            self.refresh_cached(Some(chat), &chat.id);
            self.invalidations.publish(&chat.id).await;
            if applied.opened {
                self.notifier.chat_opened(chat).await;
            }
            if !applied.messages.is_empty() || applied.closed.is_some() {
                // Behind the messages already queued for the chat (see `writer`).
                self.writer
                    .announce(
                        self.notifier.as_ref(),
                        chat,
                        applied.messages.clone(),
                        applied.closed,
                    )
                    .await;
            }
            if applied.closed.is_some() {
                if self.retention.is_zero() {
                    // The seed deletes at once; the queue row makes it durable if this fails.
                    match self.purge_chat(&chat.id).await {
                        Ok(true) => applied.chat = None,
                        // Held: kept until its release.
                        Ok(false) => {}
                        // Queued with backoff: the sweeper retries it.
                        Err(e) => {
                            self.purge_failed(&chat.id, &e).await;
                        }
                    }
                } else {
                    self.sweeper.wake();
                }
            }
        }
        Ok(applied)
    }
}
