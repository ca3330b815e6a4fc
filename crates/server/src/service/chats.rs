//! Reading and writing chats on behalf of a participant. Socket.IO and REST both call these.

use omw_domain::{
    Booking, Chat, ClientMessage, NewMessage, Principal, Role, Sender, SenderRole, time::now_millis,
};
use omw_storage::{ChatSummary, Inserted, MessagePage, Page, ReadState};

use super::ChatService;
use crate::service::error::ServiceError;

/// Largest history page; the default when none is asked for.
pub const MAX_PAGE: u32 = 100;
pub const DEFAULT_PAGE: u32 = 50;

/// A message queued for writing (see [`ChatService::queue_message`]).
pub struct Queued {
    chat: Chat,
    started: std::time::Instant,
    pending: super::writer::Pending,
}

/// Which page of history a client asked for.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageQuery {
    pub before_seq: Option<i64>,
    pub after_seq: Option<i64>,
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn parse(self) -> Result<(Page, u32), ServiceError> {
        let limit = match self.limit {
            None => DEFAULT_PAGE,
            Some(l) if (1..=i64::from(MAX_PAGE)).contains(&l) => l as u32,
            Some(_) => {
                return Err(ServiceError::invalid(format!(
                    "limit must be 1 to {MAX_PAGE}"
                )));
            }
        };
        let page = match (self.before_seq, self.after_seq) {
            (Some(_), Some(_)) => {
                return Err(ServiceError::invalid(
                    "give before_seq or after_seq, not both",
                ));
            }
            (Some(b), None) if b >= 1 => Page::Before(b),
            (None, Some(a)) if a >= 0 => Page::After(a),
            (None, None) => Page::Latest,
            _ => {
                return Err(ServiceError::invalid(
                    "before_seq must be ≥ 1 and after_seq ≥ 0",
                ));
            }
        };
        Ok((page, limit))
    }
}

/// A chat of someone else answers exactly as a missing one (`missing` is the message of the
/// missing case): a 403 would tell an outsider which chat and booking ids exist.
impl ChatService {
    /// A participant sees their chat until its retention runs out after closing, also when a
    /// dispute hold keeps it stored longer (SPEC §9.7).
    fn visible(
        &self,
        chat: &Chat,
        who: &Principal,
        missing: &'static str,
    ) -> Result<(), ServiceError> {
        chat.authorize(who)
            .map_err(|_| ServiceError::not_found(missing))?;
        if chat.past_retention(self.retention_ms(), now_millis()) {
            return Err(ServiceError::not_found(missing));
        }
        Ok(())
    }

    pub(super) fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX)
    }

    /// The chat, fresh from the database, if `who` takes part in it.
    pub async fn chat_for(&self, who: &Principal, chat_id: &str) -> Result<Chat, ServiceError> {
        let chat = self
            .store
            .get_chat(chat_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("chat not found"))?;
        self.visible(&chat, who, "chat not found")?;
        self.cache.insert(chat.id.clone(), chat.clone());
        Ok(chat)
    }

    pub async fn chat_for_booking(
        &self,
        who: &Principal,
        booking_id: &str,
    ) -> Result<Chat, ServiceError> {
        let chat = self
            .store
            .get_chat_by_booking(booking_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("this booking has no chat"))?;
        self.visible(&chat, who, "this booking has no chat")?;
        self.cache.insert(chat.id.clone(), chat.clone());
        Ok(chat)
    }

    /// The chat from the membership cache (participants never change; the database has the
    /// last word on whether it is still open when writing).
    pub async fn member_chat(&self, who: &Principal, chat_id: &str) -> Result<Chat, ServiceError> {
        match self.cache.get(chat_id) {
            Some(chat) => {
                self.visible(&chat, who, "chat not found")?;
                Ok(chat)
            }
            None => self.chat_for(who, chat_id).await,
        }
    }

    /// Forget a cached chat (its status changed).
    pub(super) fn refresh_cached(&self, chat: Option<&Chat>, chat_id: &str) {
        match chat {
            Some(c) => self.cache.insert(c.id.clone(), c.clone()),
            None => {
                self.cache.invalidate(chat_id);
                // Gone or going: its data key may be destroyed (SPEC §9.6).
                self.store.forget_chat_key(chat_id);
            }
        }
    }

    /// Forget every cached chat (changes published by other nodes may have been missed).
    pub(super) fn forget_all_cached(&self) {
        self.cache.invalidate_all();
    }

    /// A booking as mirrored here, and its chat if it has one (platform API, demo).
    pub async fn booking_and_chat(
        &self,
        booking_id: &str,
    ) -> Result<(Option<Booking>, Option<Chat>), ServiceError> {
        let booking = self.store.get_booking(booking_id).await?;
        let chat = match &booking {
            Some(_) => self.store.get_chat_by_booking(booking_id).await?,
            None => None,
        };
        Ok((booking, chat))
    }

    /// What a participant sees on opening a chat: the latest page of history and each
    /// participant's read mark.
    pub async fn opening(
        &self,
        chat: &Chat,
    ) -> Result<(MessagePage, Vec<ReadState>), ServiceError> {
        let page = self
            .store
            .load_messages(&chat.id, Page::Latest, DEFAULT_PAGE)
            .await?;
        let reads = self.store.read_states(&chat.id).await?;
        Ok((page, reads))
    }

    /// The chat as the database has it now (`None` once deleted); the cache follows.
    pub async fn reread(&self, chat_id: &str) -> Result<Option<Chat>, ServiceError> {
        let now = self.store.get_chat(chat_id).await?;
        self.refresh_cached(now.as_ref(), chat_id);
        Ok(now)
    }

    pub async fn list_chats(&self, who: &Principal) -> Result<Vec<ChatSummary>, ServiceError> {
        let (retention, now) = (self.retention_ms(), now_millis());
        let mut chats = self.store.list_chats(&who.user_id, who.role).await?;
        chats.retain(|c| !c.chat.past_retention(retention, now));
        Ok(chats)
    }

    pub async fn load_messages(
        &self,
        who: &Principal,
        chat_id: &str,
        q: PageQuery,
    ) -> Result<MessagePage, ServiceError> {
        let (page, limit) = q.parse()?;
        self.member_chat(who, chat_id).await?;
        let found = self.store.load_messages(chat_id, page, limit).await?;
        // An empty page may mean the chat was deleted after the cached copy was taken (by the
        // sweeper here, between its commit and its eviction, or on another node): ask the
        // database, so a deleted chat is `not_found`, never an empty history.
        if found.messages.is_empty() && self.store.get_chat(chat_id).await?.is_none() {
            self.cache.invalidate(chat_id);
            return Err(ServiceError::not_found("chat not found"));
        }
        Ok(found)
    }

    /// Validate, authorize and store a message; resolves once it is durable.
    pub async fn send_message(
        &self,
        who: &Principal,
        chat_id: &str,
        msg: ClientMessage,
    ) -> Result<Inserted, ServiceError> {
        let queued = self.queue_message(who, chat_id, msg).await?;
        self.stored(queued).await
    }

    /// Validate, authorize and queue a message for writing: its order in the chat is fixed
    /// once this returns. [`ChatService::stored`] waits until it is durable.
    pub async fn queue_message(
        &self,
        who: &Principal,
        chat_id: &str,
        msg: ClientMessage,
    ) -> Result<Queued, ServiceError> {
        self.limits.message(who).await?;
        let valid = msg.validate()?;
        let chat = self.member_chat(who, chat_id).await?;
        chat.ensure_writable()?;
        let new = NewMessage {
            id: uuid::Uuid::now_v7().to_string(),
            chat_id: chat.id.clone(),
            sender: Sender {
                id: who.user_id.clone(),
                role: who.role.into(),
                name: chat.display_name(who),
            },
            kind: valid.kind,
            body: valid.body,
            attachment_id: valid.attachment_id,
            client_id: Some(valid.client_id),
            created_at: now_millis(),
            system: None,
        };
        Ok(Queued {
            chat: chat.clone(),
            started: std::time::Instant::now(),
            pending: self.writer.enqueue(chat, new).await?,
        })
    }

    /// Wait until a queued message is durable (or refused).
    pub async fn stored(&self, queued: Queued) -> Result<Inserted, ServiceError> {
        let Queued {
            chat,
            started,
            pending,
        } = queued;
        let res = pending.stored().await;
        metrics::histogram!("omw_message_store_seconds").record(started.elapsed().as_secs_f64());
        match res {
            Ok(ins) => {
                if !ins.duplicate {
                    metrics::counter!("omw_messages_total").increment(1);
                    // Users send as their seat: the recipient holds the other one.
                    let recipient = match ins.message.sender.role {
                        SenderRole::Customer => Role::Worker,
                        SenderRole::Worker | SenderRole::System => Role::Customer,
                    };
                    self.ladders.message_stored(&chat, recipient);
                }
                Ok(ins)
            }
            Err(e) => {
                if matches!(
                    &e,
                    omw_storage::StoreError::Domain(omw_domain::DomainError::ChatClosed)
                ) {
                    self.cache.invalidate(&chat.id);
                }
                Err(e.into())
            }
        }
    }

    /// Raise `who`'s read mark; tells the chat when it moved. Returns the stored mark.
    pub async fn mark_read(
        &self,
        who: &Principal,
        chat_id: &str,
        up_to_seq: i64,
    ) -> Result<i64, ServiceError> {
        let chat = self.member_chat(who, chat_id).await?;
        chat.ensure_writable()?;
        if up_to_seq < 0 {
            return Err(ServiceError::invalid("up_to_seq must be ≥ 0"));
        }
        let now = now_millis();
        let before = self.store.read_states(chat_id).await?;
        let previous = before
            .iter()
            .find(|r| r.user_id == who.user_id)
            .map_or(0, |r| r.last_read_seq);
        let stored = self
            .store
            .mark_read(chat_id, &who.user_id, up_to_seq, now)
            .await?;
        if stored > previous {
            self.notifier
                .messages_read(&chat, &who.user_id, stored, now)
                .await;
        }
        Ok(stored)
    }
}
