//! What the server sends unasked (SPEC §4): the payload of each server → client Socket.IO event.

use omw_domain::{Chat, CloseReason, Message, time::rfc3339};
use serde::Serialize;
use ts_rs::TS;

use crate::service::ServiceError;

/// A server → client event: its payload type and its name.
pub trait ServerEvent: Serialize {
    const NAME: &'static str;
}

macro_rules! named {
    ($($t:ident = $name:literal),* $(,)?) => {
        $(impl ServerEvent for $t<'_> {
            const NAME: &'static str = $name;
        })*
    };
}

named!(
    NewMessage = "new_message",
    ChatAvailable = "chat_available",
    ChatClosed = "chat_closed",
    MessagesRead = "messages_read",
    UserStatus = "user_status_update",
    UserTyping = "user_typing",
);

impl ServerEvent for TokenExpired {
    const NAME: &'static str = "token_expired";
}

/// `new_message`: a message stored in a chat the socket has joined.
#[derive(Serialize, TS)]
pub struct NewMessage<'a> {
    pub message: &'a Message,
}

/// `chat_available`: a booking of the user was accepted; its chat is open.
#[derive(Serialize, TS)]
pub struct ChatAvailable<'a> {
    pub chat: &'a Chat,
}

/// `chat_closed`: the service was completed or cancelled; the chat is read-only until deleted.
#[derive(Serialize, TS)]
pub struct ChatClosed<'a> {
    pub chat_id: &'a str,
    pub booking_id: &'a str,
    pub reason: CloseReason,
}

/// `messages_read`: a participant's read mark moved.
#[derive(Serialize, TS)]
pub struct MessagesRead<'a> {
    pub chat_id: &'a str,
    pub user_id: &'a str,
    pub up_to_seq: i64,
    /// RFC 3339.
    pub read_at: String,
}

/// Online or not, as `user_status_update` says it.
#[derive(Clone, Copy, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Offline,
}

/// `user_status_update`: a counterpart came online or left.
#[derive(Serialize, TS)]
pub struct UserStatus<'a> {
    pub user_id: &'a str,
    pub status: Presence,
    /// RFC 3339: now when coming online, the last socket's end when going offline.
    pub last_seen: String,
}

/// `user_typing`: the counterpart started or stopped typing.
#[derive(Serialize, TS)]
pub struct UserTyping<'a> {
    pub chat_id: &'a str,
    pub user_id: &'a str,
    pub is_typing: bool,
}

/// `token_expired`: the socket's token ran out; the server disconnects it next.
#[derive(Serialize, TS)]
pub struct TokenExpired {
    pub error: ServiceError,
}

impl<'a> MessagesRead<'a> {
    pub fn new(chat_id: &'a str, user_id: &'a str, up_to_seq: i64, read_at: i64) -> Self {
        MessagesRead {
            chat_id,
            user_id,
            up_to_seq,
            read_at: rfc3339(read_at),
        }
    }
}

impl<'a> UserStatus<'a> {
    pub fn new(user_id: &'a str, status: Presence, last_seen: i64) -> Self {
        UserStatus {
            user_id,
            status,
            last_seen: rfc3339(last_seen),
        }
    }
}
