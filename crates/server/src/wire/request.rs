//! What clients send: REST bodies and query strings, and Socket.IO event payloads.

use omw_domain::{ClientMessage, Party};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use crate::service::{ServiceError, chats::PageQuery};

/// A payload (REST body or Socket.IO event data) as `T`, which must come from a JSON object:
/// serde would otherwise accept a struct in its positional form (`["chat-1", 5]`), a shape no
/// client is meant to send and the contract does not describe.
pub fn from_json_object<T: DeserializeOwned>(value: Value) -> Result<T, ServiceError> {
    if !value.is_object() {
        return Err(ServiceError::invalid("payload must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ServiceError::invalid(format!("payload: {e}")))
}

/// `#[serde(deserialize_with = "nested_object")]` for a struct inside a body: the same rule as
/// [`from_json_object`] one level down (`null` stays allowed for an `Option`).
pub fn nested_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::{Deserialize, de::Error};
    let value = Value::deserialize(d)?;
    if !(value.is_object() || value.is_null()) {
        return Err(D::Error::custom("expected a JSON object"));
    }
    serde_json::from_value(value).map_err(D::Error::custom)
}

/// A Socket.IO payload about one chat: its `chat_id` beside the fields of `T` (REST has the id
/// in the path and sends `T` alone).
#[derive(Deserialize)]
pub struct InChat<T> {
    pub chat_id: String,
    #[serde(flatten)]
    pub rest: T,
}

/// `send_message` / `POST /chats/{id}/messages`.
#[derive(Deserialize)]
pub struct SendMessage {
    pub client_id: Option<String>,
    pub kind: Option<String>,
    pub body: Option<String>,
    pub attachment_id: Option<String>,
}

impl From<SendMessage> for ClientMessage {
    fn from(m: SendMessage) -> Self {
        ClientMessage {
            client_id: m.client_id,
            kind: m.kind,
            body: m.body,
            attachment_id: m.attachment_id,
        }
    }
}

/// `load_messages` / `GET /chats/{id}/messages?…`: which page of history.
#[derive(Deserialize)]
pub struct PageRequest {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
    pub limit: Option<i64>,
}

impl From<PageRequest> for PageQuery {
    fn from(p: PageRequest) -> Self {
        PageQuery {
            before_seq: p.before_seq,
            after_seq: p.after_seq,
            limit: p.limit,
        }
    }
}

/// `mark_read` / `POST /chats/{id}/read`.
#[derive(Deserialize)]
pub struct MarkRead {
    pub up_to_seq: i64,
}

/// `join_chat`: by chat or by booking.
#[derive(Deserialize)]
pub struct JoinChat {
    pub chat_id: Option<String>,
    pub booking_id: Option<String>,
}

/// `leave_chat`.
#[derive(Deserialize)]
pub struct LeaveChat {
    pub chat_id: String,
}

/// `typing`.
#[derive(Deserialize)]
pub struct Typing {
    pub chat_id: String,
    pub is_typing: bool,
}

/// `refresh_token`.
#[derive(Deserialize)]
pub struct RefreshToken {
    pub token: String,
}

/// `PUT /platform/bookings/{id}`: the booking as the platform has it now.
#[derive(Deserialize)]
pub struct BookingPut {
    #[serde(deserialize_with = "nested_object")]
    pub customer: Party,
    #[serde(default, deserialize_with = "nested_object")]
    pub worker: Option<Party>,
    pub status: String,
}
