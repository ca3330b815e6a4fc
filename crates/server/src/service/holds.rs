//! Dispute holds (SPEC §9.7): the platform keeps a chat as evidence. A held chat works as
//! usual while its booking is active and closes for its participants as any chat does, but is
//! not deleted until the last hold is released; its retention then counts from the release.

use omw_domain::{booking::MAX_ID_CHARS, time::now_millis};
use omw_storage::{Hold, Placed};

use super::{ChatService, ServiceError};

/// Longest reason kept with a hold.
pub const MAX_REASON_CHARS: usize = 2000;

fn check_case_ref(case_ref: &str) -> Result<(), ServiceError> {
    if case_ref.is_empty()
        || case_ref.chars().count() > MAX_ID_CHARS
        || case_ref.chars().any(char::is_control)
    {
        return Err(ServiceError::invalid(format!(
            "case_ref must be 1 to {MAX_ID_CHARS} printable characters"
        )));
    }
    Ok(())
}

impl ChatService {
    /// Hold the chat of `booking_id` for `case_ref` (idempotent per case). `not_found` when
    /// the booking has no chat; `conflict` when its chat is deleted or being deleted.
    pub async fn place_hold(
        &self,
        booking_id: &str,
        case_ref: &str,
        reason: &str,
    ) -> Result<Hold, ServiceError> {
        check_case_ref(case_ref)?;
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(ServiceError::invalid(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        match self
            .store
            .place_hold(booking_id, case_ref, reason, now_millis())
            .await?
        {
            Placed::Held(hold) => {
                tracing::info!(booking_id, chat_id = %hold.chat_id, "chat held");
                Ok(hold)
            }
            Placed::NoChat => Err(ServiceError::not_found("this booking has no chat")),
            Placed::Deleted => Err(ServiceError::conflict(
                "this booking's chat is deleted, or its deletion has started",
            )),
        }
    }

    /// Release one case's hold, or every hold of the booking's chat. `not_found` when the
    /// booking has no chat.
    pub async fn release_holds(
        &self,
        booking_id: &str,
        case_ref: Option<&str>,
    ) -> Result<(), ServiceError> {
        if let Some(case_ref) = case_ref {
            check_case_ref(case_ref)?;
        }
        let due = now_millis().saturating_add(self.retention_ms());
        match self.store.release_holds(booking_id, case_ref, due).await? {
            None => Err(ServiceError::not_found("this booking has no chat")),
            Some(released) => {
                if released > 0 {
                    tracing::info!(booking_id, released, "chat hold released");
                    self.sweeper.wake();
                }
                Ok(())
            }
        }
    }
}
