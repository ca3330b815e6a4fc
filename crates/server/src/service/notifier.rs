//! How the service tells connected clients what happened. The Socket.IO layer implements it;
//! without sockets (tools, some tests) nothing is told.

use async_trait::async_trait;
use omw_domain::{Chat, CloseReason, Message, Role};

#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// A booking was accepted: both parties get `chat_available`.
    async fn chat_opened(&self, chat: &Chat);
    /// Messages were stored (in seq order): the chat's room gets `new_message` for each.
    async fn new_messages(&self, chat: &Chat, messages: &[Message]);
    /// The chat closed: participants get `chat_closed` and the room is emptied.
    async fn chat_closed(&self, chat: &Chat, reason: CloseReason);
    /// A participant's read mark moved.
    async fn messages_read(&self, chat: &Chat, user_id: &str, up_to_seq: i64, read_at: i64);
    /// Whether participant `user_id` is attending the chat: one of their sockets, on any node,
    /// joined it and reported `presence { focused: true }` (SPEC §9.2).
    async fn attending(&self, chat: &Chat, role: Role, user_id: &str) -> bool;
}

pub struct NoopNotifier;

#[async_trait]
impl Notifier for NoopNotifier {
    async fn chat_opened(&self, _: &Chat) {}
    async fn new_messages(&self, _: &Chat, _: &[Message]) {}
    async fn chat_closed(&self, _: &Chat, _: CloseReason) {}
    async fn messages_read(&self, _: &Chat, _: &str, _: i64, _: i64) {}
    async fn attending(&self, _: &Chat, _: Role, _: &str) -> bool {
        false
    }
}
