//! Pushes to connected clients, for the service layer.

use super::{SocketIo, Typing, attending_room, chat_room, root, user_room};
use crate::service::Notifier;
use async_trait::async_trait;
use omw_domain::{Chat, CloseReason, Message, Role};

use crate::wire::broadcast::{ChatAvailable, ChatClosed, MessagesRead, NewMessage, ServerEvent};

pub struct SocketNotifier {
    pub io: SocketIo,
    pub typing: std::sync::Arc<Typing>,
}

fn participant_rooms(chat: &Chat) -> [String; 2] {
    [
        user_room(Role::Customer, &chat.customer.id),
        user_room(Role::Worker, &chat.worker.id),
    ]
}

#[async_trait]
impl Notifier for SocketNotifier {
    async fn chat_opened(&self, chat: &Chat) {
        let Some(io) = root(&self.io) else { return };
        let _ = io
            .to(participant_rooms(chat))
            .emit(ChatAvailable::NAME, &ChatAvailable { chat })
            .await;
    }

    async fn new_messages(&self, chat: &Chat, messages: &[Message]) {
        for message in messages {
            let Some(io) = root(&self.io) else { return };
            if let Err(e) = io
                .to(chat_room(&chat.id))
                .emit(NewMessage::NAME, &NewMessage { message })
                .await
            {
                tracing::debug!(error = %e, "new_message broadcast");
            }
        }
    }

    async fn chat_closed(&self, chat: &Chat, reason: CloseReason) {
        let room = chat_room(&chat.id);
        let [a, b] = participant_rooms(chat);
        let payload = ChatClosed {
            chat_id: &chat.id,
            booking_id: &chat.booking_id,
            reason,
        };
        let Some(io) = root(&self.io) else { return };
        let _ = io
            .to([room.clone(), a, b])
            .emit(ChatClosed::NAME, &payload)
            .await;
        for room in [
            room,
            attending_room(&chat.id, Role::Customer, &chat.customer.id),
            attending_room(&chat.id, Role::Worker, &chat.worker.id),
        ] {
            if let Some(io) = root(&self.io) {
                let _ = io.to(room.clone()).leave(room).await;
            }
        }
        self.typing.clear_chat(&chat.id);
    }

    async fn messages_read(&self, chat: &Chat, user_id: &str, up_to_seq: i64, read_at: i64) {
        let payload = MessagesRead {
            chat_id: &chat.id,
            user_id,
            up_to_seq,
            read_at,
        };
        let Some(io) = root(&self.io) else { return };
        let _ = io
            .to(chat_room(&chat.id))
            .emit(MessagesRead::NAME, &payload)
            .await;
    }

    async fn attending(&self, chat: &Chat, role: Role, user_id: &str) -> bool {
        let room = attending_room(&chat.id, role, user_id);
        let Some(io) = root(&self.io) else {
            return false;
        };
        if !io.clone().to(room.clone()).local().sockets().is_empty() {
            return true;
        }
        // The other nodes (Redis): a node that does not answer in time counts as not attending,
        // so a push goes out rather than none.
        match io.to(room).timeout(ATTENDING_TIMEOUT).fetch_sockets().await {
            Ok(sockets) => !sockets.is_empty(),
            Err(e) => {
                tracing::debug!(error = %e, "asking the other nodes who attends a chat");
                false
            }
        }
    }
}

/// How long the other nodes have to say whether a user attends a chat.
const ATTENDING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
