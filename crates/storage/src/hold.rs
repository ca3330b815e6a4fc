//! Dispute holds (SPEC §9.7): a chat under a hold is not deleted, whatever its retention.

use async_trait::async_trait;
use omw_domain::time::Millis;

use crate::error::StoreError;

/// One case holding a chat.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Hold {
    pub chat_id: String,
    pub case_ref: String,
    pub reason: String,
    pub created_at: Millis,
}

/// What placing a hold came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Held by this case (now, or since an earlier call with the same `case_ref`).
    Held(Hold),
    /// The booking has no chat, and never had one (or the booking is unknown).
    NoChat,
    /// The chat is deleted, or its deletion has started: too late.
    Deleted,
}

#[async_trait]
pub trait Holds: Send + Sync {
    /// Hold the chat of `booking_id` for case `case_ref`. Idempotent per case: a second call
    /// returns the first hold. Serialized with [`Holds::begin_purge`] by the chat's row lock,
    /// so a hold and a purge never both win.
    async fn place_hold(
        &self,
        booking_id: &str,
        case_ref: &str,
        reason: &str,
        now: Millis,
    ) -> Result<Placed, StoreError>;

    /// Release the chat's holds (one case, or all): `None` when the booking has no chat, else
    /// how many were released. When none remains, a closed chat's deletion falls due at
    /// `due_after_release` (its retention counts from the release).
    async fn release_holds(
        &self,
        booking_id: &str,
        case_ref: Option<&str>,
        due_after_release: Millis,
    ) -> Result<Option<u64>, StoreError>;

    /// The chat's holds, oldest first.
    async fn holds_of(&self, chat_id: &str) -> Result<Vec<Hold>, StoreError>;

    /// Start deleting a due chat: false when it is held (nothing changes). From then on no
    /// hold can be placed on it; calling it again for a started purge is true.
    async fn begin_purge(&self, chat_id: &str, now: Millis) -> Result<bool, StoreError>;
}
