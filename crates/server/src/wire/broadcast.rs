//! What the server sends unasked (SPEC §4): the payload of each server → client Socket.IO event.

use omw_domain::{
    Chat, CloseReason, Message,
    time::{Millis, serde_rfc3339},
};
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
    #[serde(serialize_with = "serde_rfc3339::serialize")]
    #[ts(type = "string")]
    pub read_at: Millis,
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
    #[serde(serialize_with = "serde_rfc3339::serialize")]
    #[ts(type = "string")]
    pub last_seen: Millis,
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
