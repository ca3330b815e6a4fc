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

    /// Writes (messages, uploads, read marks) are refused once the chat is closed.
    pub fn ensure_writable(&self) -> Result<(), DomainError> {
        if self.is_active() {
            Ok(())
        } else {
            Err(DomainError::ChatClosed)
        }
    }
}
