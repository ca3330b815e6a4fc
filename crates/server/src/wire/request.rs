//! What clients send: REST bodies and query strings, and Socket.IO event payloads.

use omw_domain::{BookingStatus, Party};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

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
#[derive(Deserialize, TS)]
pub struct InChat<T> {
    pub chat_id: String,
    #[serde(flatten)]
    pub rest: T,
}

/// `send_message` / `POST /chats/{id}/messages`: the domain's message as a client sends it.
pub use omw_domain::ClientMessage as SendMessage;

/// `load_messages` / `GET /chats/{id}/messages?…`: which page of history, oldest first.
#[derive(Default, Deserialize, IntoParams, TS)]
#[serde(default)]
#[into_params(parameter_in = Query)]
#[ts(optional_fields)]
pub struct PageRequest {
    /// Messages before this seq (older history); the newest page without it.
    #[param(minimum = 1)]
    pub before_seq: Option<i64>,
    /// Messages after this seq (catching up after a reconnect).
    #[param(minimum = 0)]
    pub after_seq: Option<i64>,
    /// Page size, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
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
#[derive(Deserialize, ToSchema, TS)]
pub struct MarkRead {
    pub up_to_seq: i64,
}

/// `join_chat`: by chat or by booking.
#[derive(Default, Deserialize, ToSchema, TS)]
#[serde(default)]
#[ts(optional_fields)]
pub struct JoinChat {
    pub chat_id: Option<String>,
    pub booking_id: Option<String>,
}

/// `leave_chat`.
#[derive(Deserialize, ToSchema, TS)]
pub struct LeaveChat {
    pub chat_id: String,
}

/// `typing`.
#[derive(Deserialize, ToSchema, TS)]
pub struct Typing {
    pub chat_id: String,
    pub is_typing: bool,
}

/// `refresh_token`.
#[derive(Deserialize, ToSchema, TS)]
pub struct RefreshToken {
    pub token: String,
}

/// `POST /chats/{id}/attachments`: the multipart form, as documented (`http::upload_form`
/// reads it as a stream).
#[derive(ToSchema)]
pub struct UploadForm {
    /// The file; its type is read from its content, not from its name or header.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// A voice note's length as the recorder measured it, when the file does not say.
    pub duration_ms: Option<i64>,
}

/// `PUT /platform/bookings/{id}`: the booking as the platform has it now.
#[derive(Deserialize, ToSchema, TS)]
pub struct BookingPut {
    #[serde(deserialize_with = "nested_object")]
    pub customer: Party,
    /// Absent or null until a worker accepts.
    #[serde(default, deserialize_with = "nested_object")]
    #[ts(optional = nullable)]
    pub worker: Option<Party>,
    #[schema(value_type = BookingStatus)]
    #[ts(as = "BookingStatus")]
    pub status: String,
    /// The appointment, RFC 3339 (SPEC §9.1); absent keeps the stored one.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[ts(optional)]
    pub starts_at: Option<String>,
    /// ISO 3166-1 alpha-2 (SPEC §9.1); absent keeps the stored one.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 2)]
    #[ts(optional)]
    pub region: Option<String>,
}

/// `presence`: whether this socket's page is in front of its user (SPEC §9.2). A user attends a
/// chat while one of their sockets that joined it has reported `focused: true`; the
/// notification ladder leaves them alone there.
#[derive(Deserialize, ToSchema, TS)]
pub struct PresenceReport {
    pub focused: bool,
}

/// A browser's keys for a push subscription (RFC 8291), base64url as `PushSubscription.toJSON()`
/// gives them.
#[derive(Deserialize, ToSchema, TS)]
pub struct PushKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// `POST /push/subscriptions`: a browser's push subscription, as `PushSubscription.toJSON()`
/// gives it (its `expirationTime` is ignored).
#[derive(Deserialize, ToSchema, TS)]
pub struct PushSubscriptionRequest {
    /// The push service's URL: `https`, a public host.
    pub endpoint: String,
    #[serde(deserialize_with = "nested_object")]
    pub keys: PushKeys,
    #[serde(default, rename = "expirationTime")]
    #[schema(value_type = Option<f64>)]
    #[ts(optional, type = "number | null")]
    pub expiration_time: Option<Value>,
}

/// `DELETE /push/subscriptions`.
#[derive(Deserialize, ToSchema, TS)]
pub struct PushUnsubscribe {
    pub endpoint: String,
}

/// `PUT /platform/bookings/{id}/hold` (SPEC §9.7): the case that holds the chat.
#[derive(Deserialize, ToSchema, TS)]
pub struct HoldPut {
    /// The platform's case: one hold per case, idempotent.
    #[schema(min_length = 1, max_length = 191)]
    pub case_ref: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// `DELETE /platform/bookings/{id}/hold?case_ref=`: one case's hold, or without it every hold.
#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct HoldRelease {
    pub case_ref: Option<String>,
}
