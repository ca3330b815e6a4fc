//! How the service tells connected clients what happened. The Socket.IO layer implements it;
//! without sockets (tools, some tests) nothing is told.

use omw_domain::{Chat, CloseReason, Message};

pub trait Notifier: Send + Sync + 'static {
    /// A booking was accepted: both parties get `chat_available`.
    fn chat_opened(&self, chat: &Chat);
    /// Messages were stored (in seq order): the chat's room gets `new_message` for each.
    fn new_messages(&self, chat: &Chat, messages: &[Message]);
    /// The chat closed: its room gets `chat_closed` and is emptied.
    fn chat_closed(&self, chat: &Chat, reason: CloseReason);
}

pub struct NoopNotifier;

impl Notifier for NoopNotifier {
    fn chat_opened(&self, _: &Chat) {}
    fn new_messages(&self, _: &Chat, _: &[Message]) {}
    fn chat_closed(&self, _: &Chat, _: CloseReason) {}
}
