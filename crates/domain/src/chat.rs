//! A chat: one per booking, active while the service is, then closed and deleted.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{
    booking::{BookingStatus, CloseReason, Party},
    error::DomainError,
    time::{Millis, serde_rfc3339},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    Active,
    Closed,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Active => "active",
            ChatStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(ChatStatus::Active),
            "closed" => Some(ChatStatus::Closed),
            _ => None,
        }
    }
}

/// A booking's chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct Chat {
    pub id: String,
    pub booking_id: String,
    pub status: ChatStatus,
    pub booking_status: BookingStatus,
    pub customer: Party,
    pub worker: Party,
    /// The seq of the newest message (0 when empty).
    pub last_seq: i64,
    #[serde(with = "serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    #[ts(type = "string")]
    pub created_at: Millis,
    #[serde(with = "serde_rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[ts(type = "string | null")]
    pub closed_at: Option<Millis>,
    pub close_reason: Option<CloseReason>,
}

impl Chat {
    pub fn is_active(&self) -> bool {
        self.status == ChatStatus::Active
    }

    /// Whether a closed chat has outlived its retention (`retention_ms` after closing): its
    /// participants no longer see it, also while a dispute hold keeps it from being deleted
    /// (SPEC §9.7).
    pub fn past_retention(&self, retention_ms: i64, now: i64) -> bool {
        !self.is_active()
            && self
                .closed_at
                .is_some_and(|at| at.saturating_add(retention_ms) <= now)
    }

    /// Writes (messages, uploads, read marks) are refused once the chat is closed.
    pub fn ensure_writable(&self) -> Result<(), DomainError> {
        if self.is_active() {
            Ok(())
        } else {
            Err(DomainError::ChatClosed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BookingStatus, Party};

    #[test]
    fn a_closed_chat_outlives_its_retention_for_its_participants() {
        let party = |id: &str| Party {
            id: id.into(),
            name: id.into(),
        };
        let mut chat = Chat {
            id: "c".into(),
            booking_id: "b".into(),
            status: ChatStatus::Active,
            booking_status: BookingStatus::Accepted,
            customer: party("c1"),
            worker: party("w1"),
            last_seq: 0,
            created_at: 0,
            closed_at: None,
            close_reason: None,
        };
        assert!(!chat.past_retention(0, 1_000), "active");
        chat.status = ChatStatus::Closed;
        chat.closed_at = Some(1_000);
        assert!(!chat.past_retention(500, 1_499));
        assert!(chat.past_retention(500, 1_500));
        assert!(chat.past_retention(0, 1_000), "no retention: at once");
        assert!(!chat.past_retention(i64::MAX, i64::MAX - 1));
    }
}
