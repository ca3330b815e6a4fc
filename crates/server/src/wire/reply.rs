//! What clients get back: REST response bodies, and the data of Socket.IO acks (beside
//! `ok: true`).

use omw_domain::{Attachment, Booking, Chat, Message, Role, time::rfc3339};
use omw_storage::{ChatSummary, MessagePage, ReadState};
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::service::ServiceError;

/// `{}`: the event was done; nothing else to say.
#[derive(Serialize, ToSchema, TS)]
pub struct Done {}

/// A stored message (`send_message`, `POST /chats/{id}/messages`).
#[derive(Serialize, ToSchema, TS)]
pub struct MessageReply {
    pub message: Message,
}

/// A page of history, oldest first; `has_more` when older (or newer, with `after_seq`) messages
/// remain.
#[derive(Serialize, ToSchema, TS)]
pub struct Messages {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

impl From<MessagePage> for Messages {
    fn from(p: MessagePage) -> Self {
        Messages {
            messages: p.messages,
            has_more: p.has_more,
        }
    }
}

/// One chat.
#[derive(Serialize, ToSchema, TS)]
pub struct ChatReply {
    pub chat: Chat,
}

/// A chat in the list: the chat's fields, its newest message and what the caller has not read.
#[derive(Serialize, ToSchema, TS)]
pub struct ChatListItem {
    #[serde(flatten)]
    pub chat: Chat,
    pub last_message: Option<Message>,
    pub unread_count: i64,
}

/// The caller's chats, newest activity first.
#[derive(Serialize, ToSchema, TS)]
pub struct Chats {
    pub chats: Vec<ChatListItem>,
}

impl From<Vec<ChatSummary>> for Chats {
    fn from(list: Vec<ChatSummary>) -> Self {
        Chats {
            chats: list
                .into_iter()
                .map(|c| ChatListItem {
                    chat: c.chat,
                    last_message: c.last_message,
                    unread_count: c.unread_count,
                })
                .collect(),
        }
    }
}

/// The caller's read mark after `mark_read` (it never moves back).
#[derive(Serialize, ToSchema, TS)]
pub struct ReadMark {
    pub last_read_seq: i64,
}

/// `refresh_token`: when the new token runs out.
#[derive(Serialize, ToSchema, TS)]
pub struct TokenExpiry {
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// One side of a chat as `join_chat` shows it.
#[derive(Serialize, ToSchema, TS)]
pub struct Participant {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub online: bool,
    #[schema(format = DateTime)]
    pub last_seen: Option<String>,
    pub last_read_seq: i64,
}

/// Online, and when last seen (ms), of a participant.
pub type Status = (bool, Option<i64>);

/// `join_chat`: the chat, its latest page of history, and both participants.
#[derive(Serialize, ToSchema, TS)]
pub struct Joined {
    pub chat: Chat,
    pub messages: Vec<Message>,
    pub has_more: bool,
    pub participants: Vec<Participant>,
}

impl Joined {
    /// `statuses`: the customer's then the worker's presence.
    pub fn new(chat: Chat, page: MessagePage, reads: &[ReadState], statuses: [Status; 2]) -> Self {
        let read_of = |id: &str| {
            reads
                .iter()
                .find(|r| r.user_id == id)
                .map_or(0, |r| r.last_read_seq)
        };
        let [customer, worker] = statuses;
        let participants = [
            (&chat.customer, Role::Customer, customer),
            (&chat.worker, Role::Worker, worker),
        ]
        .into_iter()
        .map(|(party, role, (online, last_seen))| Participant {
            id: party.id.clone(),
            role,
            name: party.name.clone(),
            online,
            last_seen: last_seen.map(rfc3339),
            last_read_seq: read_of(&party.id),
        })
        .collect();
        Joined {
            chat,
            messages: page.messages,
            has_more: page.has_more,
            participants,
        }
    }
}

/// The platform API's view of a booking and its chat.
#[derive(Serialize, ToSchema, TS)]
pub struct BookingReply {
    pub booking: Booking,
    pub chat: Option<Chat>,
}

/// A stored upload, to be sent in a message by its id.
#[derive(Serialize, ToSchema, TS)]
pub struct AttachmentReply {
    pub attachment: Attachment,
}

/// `{ error: {…} }`: every refused REST request; a refused Socket.IO event acks
/// `{ ok: false, error: {…} }`.
#[derive(Serialize, ToSchema, TS)]
pub struct ErrorReply {
    pub error: ServiceError,
}

/// `/healthz` and `/readyz`.
#[derive(Serialize, ToSchema, TS)]
#[ts(optional_fields)]
pub struct Health {
    /// `ok` (healthz); `ready`, `draining` or `unavailable` (readyz).
    pub status: &'static str,
    /// The database backend answering (`sqlite`, `mysql`, `postgres`), when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// Why the node is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl Health {
    pub fn up(status: &'static str, database: Option<&'static str>) -> Self {
        Health {
            status,
            database,
            error: None,
        }
    }

    pub fn down(status: &'static str, error: &'static str) -> Self {
        Health {
            status,
            database: None,
            error: Some(error),
        }
    }
}

/// `GET /push/vapid-public-key`: the server's VAPID key (RFC 8292), base64url, for
/// `pushManager.subscribe({ applicationServerKey })`.
#[derive(Serialize, ToSchema, TS)]
pub struct VapidPublicKey {
    pub key: String,
}

/// A dispute hold on a booking's chat (SPEC §9.7).
#[derive(Serialize, ToSchema, TS)]
pub struct HoldView {
    pub booking_id: String,
    pub chat_id: String,
    pub case_ref: String,
    pub reason: String,
    #[serde(with = "omw_domain::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    #[ts(type = "string")]
    pub created_at: i64,
}

/// `PUT /platform/bookings/{id}/hold`.
#[derive(Serialize, ToSchema, TS)]
pub struct HoldReply {
    pub hold: HoldView,
}

/// One entry of a chat's chain (SPEC §9.7).
#[derive(Serialize, ToSchema, TS)]
pub struct ChainEntryView {
    /// Its place in the chain, from 1.
    pub n: i64,
    /// The entry's canonical bytes (base64; JSON inside); `null` where storage no longer opens
    /// them (altered or moved), for the verifier to name.
    pub canonical: Option<String>,
    /// SHA-256(previous hash ‖ canonical bytes), hex; the hash before the first entry is
    /// SHA-256 of `omw-chat/chain/1|<chat id>`.
    pub hash: String,
}

/// A chat's transcript: every message the chain covers, the chain, and an Ed25519 signature
/// over its head. `omw-chat verify-transcript FILE` checks one offline.
#[derive(Serialize, ToSchema, TS)]
pub struct TranscriptView {
    /// The transcript format's version.
    pub version: u32,
    pub chat: Chat,
    #[serde(with = "omw_domain::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    #[ts(type = "string")]
    pub generated_at: i64,
    /// Oldest first.
    pub messages: Vec<Message>,
    pub chain: Vec<ChainEntryView>,
    /// The last entry's hash (hex).
    pub head: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The signing key's id (see `GET /platform/transcript-key`).
    pub key_id: String,
    /// The signature of the head's 32 bytes (base64).
    pub signature: String,
}

/// `GET /platform/chats/{chat_id}/transcript`.
#[derive(Serialize, ToSchema, TS)]
pub struct TranscriptReply {
    pub transcript: TranscriptView,
}

/// `GET /platform/transcript-key`: the public key transcripts are signed with.
#[derive(Serialize, ToSchema, TS)]
pub struct TranscriptKey {
    /// `Ed25519`.
    pub algorithm: String,
    pub key_id: String,
    /// The raw 32-byte public key (base64).
    pub public_key: String,
    /// The same key as a PEM SubjectPublicKeyInfo.
    pub public_key_pem: String,
}
