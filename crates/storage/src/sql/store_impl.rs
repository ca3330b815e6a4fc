//! The one implementation of [`Store`](crate::Store) over SQL, instantiated per sqlx backend.
//!
//! A macro rather than generic code: sqlx's executor traits are generic over lifetimes in ways
//! that make `Send` futures over a generic `Database` fight the compiler, while each concrete
//! instantiation is plain code. Per-dialect differences live in `Queries`, not here.

/// How many times a transaction that met a lock conflict or a raced unique key is retried.
pub(crate) const TX_ATTEMPTS: usize = 5;

macro_rules! impl_sql_store {
    ($store:ident, $db:ty, $backend:expr) => {
        use std::collections::BTreeMap;

        use async_trait::async_trait;
        use omw_domain::{
            time::Millis, Booking, BookingUpdate, Chat, ChatStatus, DomainError, Message,
            NewMessage, Role, Sender, Transition,
        };
        use sqlx::Transaction;

        use crate::{
            connect::Backend,
            error::StoreError,
            sql::{rows::*, store_impl::TX_ATTEMPTS},
            store::*,
        };

        type Tx = Transaction<'static, $db>;

        /// The working state of a chat inside a write transaction.
        struct ChatCursor {
            active: bool,
            last_seq: i64,
            dirty: bool,
        }

        impl $store {
            async fn lock_chat(&self, tx: &mut Tx, chat_id: &str) -> Result<Option<ChatCursor>, StoreError> {
                let row = sqlx::query_as::<_, ChatLockRow>(self.q.lock_chat.clone())
                    .bind(chat_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                Ok(row.map(|r| ChatCursor {
                    active: r.status == ChatStatus::Active.as_str(),
                    last_seq: r.last_seq,
                    dirty: false,
                }))
            }

            async fn message_by_seq(&self, tx: &mut Tx, chat_id: &str, seq: i64) -> Result<Message, StoreError> {
                let row = sqlx::query_as::<_, MessageRow>(self.q.message_by_seq.clone())
                    .bind(chat_id)
                    .bind(seq)
                    .fetch_one(&mut **tx)
                    .await?;
                Message::try_from(row)
            }

            /// Insert one message into a locked chat. Refusals come back as the inner error so
            /// the rest of a batch goes on.
            async fn insert_one(
                &self,
                tx: &mut Tx,
                cursor: Option<&mut ChatCursor>,
                m: &NewMessage,
            ) -> Result<Result<Inserted, StoreError>, StoreError> {
                let Some(cursor) = cursor else {
                    return Ok(Err(DomainError::NotFound("chat").into()));
                };
                if let Some(client_id) = &m.client_id {
                    let existing = sqlx::query_as::<_, MessageRow>(self.q.message_by_client_id.clone())
                        .bind(&m.chat_id)
                        .bind(&m.sender.id)
                        .bind(client_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if let Some(row) = existing {
                        return Ok(Message::try_from(row).map(|message| Inserted { message, duplicate: true }));
                    }
                }
                if !cursor.active {
                    return Ok(Err(DomainError::ChatClosed.into()));
                }
                if let Some(att_id) = &m.attachment_id {
                    let att = sqlx::query_as::<_, AttachmentRow>(self.q.attachment_by_id_locked.clone())
                        .bind(att_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    let usable = att.as_ref().is_some_and(|a| {
                        a.chat_id == m.chat_id
                            && a.uploader_id == m.sender.id
                            && a.message_id.is_none()
                            && m.kind.accepts_mime(&a.mime)
                    });
                    if !usable {
                        return Ok(Err(DomainError::InvalidPayload(format!(
                            "attachment_id does not name an unused upload of yours in this chat \
                             that fits a {} message",
                            m.kind.as_str()
                        ))
                        .into()));
                    }
                    sqlx::query(self.q.link_attachment.clone())
                        .bind(&m.id)
                        .bind(att_id)
                        .execute(&mut **tx)
                        .await?;
                }
                let seq = cursor.last_seq + 1;
                sqlx::query(self.q.insert_message.clone())
                    .bind(&m.id)
                    .bind(&m.chat_id)
                    .bind(seq)
                    .bind(&m.sender.id)
                    .bind(m.sender.role.as_str())
                    .bind(&m.sender.name)
                    .bind(m.kind.as_str())
                    .bind(&m.body)
                    .bind(&m.attachment_id)
                    .bind(&m.client_id)
                    .bind(m.created_at)
                    .execute(&mut **tx)
                    .await?;
                cursor.last_seq = seq;
                cursor.dirty = true;
                let message = if m.attachment_id.is_some() {
                    self.message_by_seq(tx, &m.chat_id, seq).await?
                } else {
                    Message {
                        id: m.id.clone(),
                        chat_id: m.chat_id.clone(),
                        seq,
                        sender: m.sender.clone(),
                        kind: m.kind,
                        body: m.body.clone(),
                        attachment: None,
                        client_id: m.client_id.clone(),
                        created_at: m.created_at,
                    }
                };
                Ok(Ok(Inserted { message, duplicate: false }))
            }

            async fn flush_cursors(&self, tx: &mut Tx, cursors: &BTreeMap<String, Option<ChatCursor>>) -> Result<(), StoreError> {
                for (chat_id, cursor) in cursors {
                    if let Some(c) = cursor.as_ref().filter(|c| c.dirty) {
                        sqlx::query(self.q.set_last_seq.clone())
                            .bind(c.last_seq)
                            .bind(chat_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn insert_batch_once(
                &self,
                batch: &[NewMessage],
            ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
                let mut tx = self.writer().begin().await?;
                match self.insert_batch_in(&mut tx, batch).await {
                    Ok(out) => {
                        tx.commit().await?;
                        Ok(out)
                    }
                    Err(e) => {
                        // Roll back now: a dropped transaction's rollback is only sent when
                        // its connection is next used, and its row locks would wait with it.
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }

            async fn insert_batch_in(
                &self,
                tx: &mut Tx,
                batch: &[NewMessage],
            ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
                // Lock every chat of the batch in id order, so concurrent batches on other
                // nodes cannot deadlock against this one.
                let mut cursors: BTreeMap<String, Option<ChatCursor>> = BTreeMap::new();
                for m in batch {
                    cursors.entry(m.chat_id.clone()).or_insert(None);
                }
                for (chat_id, cursor) in cursors.iter_mut() {
                    *cursor = self.lock_chat(tx, chat_id).await?;
                }
                let mut out = Vec::with_capacity(batch.len());
                for m in batch {
                    let cursor = cursors.get_mut(&m.chat_id).and_then(Option::as_mut);
                    out.push(self.insert_one(tx, cursor, m).await?);
                }
                self.flush_cursors(tx, &cursors).await?;
                Ok(out)
            }

            async fn apply_booking_once(
                &self,
                booking_id: &str,
                update: BookingUpdate,
                now: Millis,
                delete_at: Millis,
            ) -> Result<AppliedBooking, StoreError> {
                let mut tx = self.writer().begin().await?;
                let res = self.apply_booking_in(&mut tx, booking_id, update, now, delete_at).await;
                let (plan, chat_id, messages) = match res {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = tx.rollback().await;
                        return Err(e);
                    }
                };
                tx.commit().await?;

                let chat = match &chat_id {
                    Some(id) => self.get_chat(id).await?,
                    None => self.get_chat_by_booking(booking_id).await?,
                };
                Ok(AppliedBooking {
                    booking: plan.booking,
                    changed: plan.changed,
                    chat,
                    opened: plan.open_chat,
                    closed: plan.close_chat,
                    messages,
                })
            }

            async fn apply_booking_in(
                &self,
                tx: &mut Tx,
                booking_id: &str,
                update: BookingUpdate,
                now: Millis,
                delete_at: Millis,
            ) -> Result<(Transition, Option<String>, Vec<Message>), StoreError> {
                let current = sqlx::query_as::<_, BookingRow>(self.q.booking_by_id_locked.clone())
                    .bind(booking_id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(Booking::try_from)
                    .transpose()?;
                let plan = Transition::plan(booking_id, current.as_ref(), update)?;
                let b = &plan.booking;
                if plan.changed {
                    let worker_id = b.worker.as_ref().map(|w| w.id.as_str());
                    let worker_name = b.worker.as_ref().map(|w| w.name.as_str());
                    if current.is_none() {
                        sqlx::query(self.q.insert_booking.clone())
                            .bind(&b.id)
                            .bind(&b.customer.id)
                            .bind(&b.customer.name)
                            .bind(worker_id)
                            .bind(worker_name)
                            .bind(b.status.as_str())
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                    } else {
                        sqlx::query(self.q.update_booking.clone())
                            .bind(&b.customer.name)
                            .bind(worker_id)
                            .bind(worker_name)
                            .bind(b.status.as_str())
                            .bind(now)
                            .bind(&b.id)
                            .execute(&mut **tx)
                            .await?;
                    }
                }

                let mut chat_id: Option<String> = None;
                if plan.open_chat {
                    let worker = b.worker.as_ref().ok_or_else(|| {
                        DomainError::InvalidPayload("an accepted booking needs a worker".into())
                    })?;
                    let id = uuid::Uuid::now_v7().to_string();
                    sqlx::query(self.q.insert_chat.clone())
                        .bind(&id)
                        .bind(&b.id)
                        .bind(&b.customer.id)
                        .bind(&worker.id)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    for user in [&b.customer.id, &worker.id] {
                        sqlx::query(self.q.insert_read_state.clone())
                            .bind(&id)
                            .bind(user)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                    }
                    chat_id = Some(id);
                } else if plan.changed {
                    chat_id = sqlx::query_as::<_, ChatLockRow>(self.q.lock_chat_by_booking.clone())
                        .bind(&b.id)
                        .fetch_optional(&mut **tx)
                        .await?
                        .map(|r| r.id);
                }

                let mut messages = Vec::new();
                if let Some(chat_id) = &chat_id {
                    let mut cursors = BTreeMap::new();
                    cursors.insert(chat_id.clone(), self.lock_chat(tx, chat_id).await?);
                    for text in &plan.system_messages {
                        let m = NewMessage {
                            id: uuid::Uuid::now_v7().to_string(),
                            chat_id: chat_id.clone(),
                            sender: Sender::system(),
                            kind: omw_domain::MessageKind::System,
                            body: Some(text.clone()),
                            attachment_id: None,
                            client_id: None,
                            created_at: now,
                        };
                        let cursor = cursors.get_mut(chat_id).and_then(Option::as_mut);
                        messages.push(self.insert_one(tx, cursor, &m).await??.message);
                    }
                    self.flush_cursors(tx, &cursors).await?;
                    if let Some(reason) = plan.close_chat {
                        sqlx::query(self.q.close_chat.clone())
                            .bind(now)
                            .bind(reason.as_str())
                            .bind(chat_id)
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query(self.q.enqueue_deletion.clone())
                            .bind(chat_id)
                            .bind(delete_at)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok((plan, chat_id, messages))
            }

            async fn chat_where(&self, sql: &sqlx::SqlStr, key: &str) -> Result<Option<Chat>, StoreError> {
                sqlx::query_as::<_, ChatRow>(sql.clone())
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?
                    .map(Chat::try_from)
                    .transpose()
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> Result<(), StoreError> {
                self.run_migrations().await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query(self.q.ping.clone()).execute(self.reader()).await?;
                Ok(())
            }

            async fn get_booking(&self, booking_id: &str) -> Result<Option<Booking>, StoreError> {
                sqlx::query_as::<_, BookingRow>(self.q.booking_by_id.clone())
                    .bind(booking_id)
                    .fetch_optional(self.reader())
                    .await?
                    .map(Booking::try_from)
                    .transpose()
            }

            async fn apply_booking(
                &self,
                booking_id: &str,
                update: BookingUpdate,
                now: Millis,
                delete_at: Millis,
            ) -> Result<AppliedBooking, StoreError> {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match self.apply_booking_once(booking_id, update.clone(), now, delete_at).await {
                        Err(e) if e.is_retryable() && attempt < TX_ATTEMPTS => continue,
                        other => return other,
                    }
                }
            }

            async fn get_chat(&self, chat_id: &str) -> Result<Option<Chat>, StoreError> {
                self.chat_where(&self.q.chat_by_id, chat_id).await
            }

            async fn get_chat_by_booking(&self, booking_id: &str) -> Result<Option<Chat>, StoreError> {
                self.chat_where(&self.q.chat_by_booking, booking_id).await
            }

            async fn list_chats(&self, user_id: &str, role: Role) -> Result<Vec<ChatSummary>, StoreError> {
                let sql = match role {
                    Role::Customer => &self.q.chats_of_customer,
                    Role::Worker => &self.q.chats_of_worker,
                };
                let rows = sqlx::query_as::<_, MyChatRow>(sql.clone())
                    .bind(user_id)
                    .bind(user_id)
                    .bind(user_id)
                    .fetch_all(self.reader())
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let chat = Chat::try_from(row.chat)?;
                    let last_message = if chat.last_seq > 0 {
                        sqlx::query_as::<_, MessageRow>(self.q.message_by_seq.clone())
                            .bind(&chat.id)
                            .bind(chat.last_seq)
                            .fetch_optional(self.reader())
                            .await?
                            .map(Message::try_from)
                            .transpose()?
                    } else {
                        None
                    };
                    out.push(ChatSummary { chat, last_message, unread_count: row.unread_count });
                }
                Ok(out)
            }

            async fn insert_messages(
                &self,
                batch: Vec<NewMessage>,
            ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match self.insert_batch_once(&batch).await {
                        Err(e) if e.is_retryable() && attempt < TX_ATTEMPTS => continue,
                        // One bad apple must not fail a whole batch: fall back to one
                        // transaction per message.
                        Err(e) if batch.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
                            tracing::warn!(error = %e, size = batch.len(), "batch insert failed; retrying one by one");
                            let mut out = Vec::with_capacity(batch.len());
                            for m in &batch {
                                out.push(match self.insert_messages(vec![m.clone()]).await {
                                    Ok(mut one) => one.pop().unwrap_or_else(|| Err(StoreError::Corrupt("empty result".into()))),
                                    Err(e) => Err(e),
                                });
                            }
                            return Ok(out);
                        }
                        other => return other,
                    }
                }
            }

            async fn load_messages(&self, chat_id: &str, page: Page, limit: u32) -> Result<MessagePage, StoreError> {
                let limit = i64::from(limit.max(1));
                let fetch = limit + 1;
                let rows = match page {
                    Page::Latest => {
                        sqlx::query_as::<_, MessageRow>(self.q.messages_latest.clone())
                            .bind(chat_id)
                            .bind(fetch)
                            .fetch_all(self.reader())
                            .await?
                    }
                    Page::Before(seq) => {
                        sqlx::query_as::<_, MessageRow>(self.q.messages_before.clone())
                            .bind(chat_id)
                            .bind(seq)
                            .bind(fetch)
                            .fetch_all(self.reader())
                            .await?
                    }
                    Page::After(seq) => {
                        sqlx::query_as::<_, MessageRow>(self.q.messages_after.clone())
                            .bind(chat_id)
                            .bind(seq)
                            .bind(fetch)
                            .fetch_all(self.reader())
                            .await?
                    }
                };
                let has_more = rows.len() as i64 > limit;
                let mut messages = rows
                    .into_iter()
                    .take(limit as usize)
                    .map(Message::try_from)
                    .collect::<Result<Vec<_>, _>>()?;
                if !matches!(page, Page::After(_)) {
                    messages.reverse();
                }
                Ok(MessagePage { messages, has_more })
            }

            async fn mark_read(&self, chat_id: &str, user_id: &str, up_to_seq: i64, now: Millis) -> Result<i64, StoreError> {
                let mut tx = self.writer().begin().await?;
                let Some(chat) = self.lock_chat(&mut tx, chat_id).await? else {
                    let _ = tx.rollback().await;
                    return Err(DomainError::NotFound("chat").into());
                };
                let target = up_to_seq.clamp(0, chat.last_seq);
                sqlx::query(self.q.raise_read_state.clone())
                    .bind(target)
                    .bind(now)
                    .bind(chat_id)
                    .bind(user_id)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
                let stored: Option<(i64,)> = sqlx::query_as(self.q.read_state_of.clone())
                    .bind(chat_id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                stored.map(|(s,)| s).ok_or_else(|| DomainError::Forbidden.into())
            }

            async fn read_states(&self, chat_id: &str) -> Result<Vec<ReadState>, StoreError> {
                Ok(sqlx::query_as::<_, ReadStateRow>(self.q.read_states.clone())
                    .bind(chat_id)
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(ReadState::from)
                    .collect())
            }

            async fn insert_attachment(&self, a: NewAttachment) -> Result<(), StoreError> {
                sqlx::query(self.q.insert_attachment.clone())
                    .bind(&a.id)
                    .bind(&a.chat_id)
                    .bind(&a.uploader_id)
                    .bind(&a.name)
                    .bind(&a.mime)
                    .bind(a.size)
                    .bind(&a.storage_key)
                    .bind(&a.thumb_key)
                    .bind(a.width)
                    .bind(a.height)
                    .bind(a.duration_ms)
                    .bind(Option::<String>::None)
                    .bind(a.created_at)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn get_attachment(&self, id: &str) -> Result<Option<AttachmentRecord>, StoreError> {
                Ok(sqlx::query_as::<_, AttachmentRow>(self.q.attachment_by_id.clone())
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .map(AttachmentRecord::from))
            }

            async fn unlinked_attachments(&self, before: Millis, limit: u32) -> Result<Vec<AttachmentRecord>, StoreError> {
                Ok(sqlx::query_as::<_, AttachmentRow>(self.q.unlinked_attachments.clone())
                    .bind(before)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(AttachmentRecord::from)
                    .collect())
            }

            async fn delete_unlinked_attachment(&self, id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query(self.q.delete_attachment.clone())
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn due_deletions(&self, now: Millis, limit: u32) -> Result<Vec<String>, StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(self.q.due_deletions.clone())
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            async fn chat_file_keys(&self, chat_id: &str) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query_as::<_, FileKeysRow>(self.q.file_keys.clone())
                    .bind(chat_id)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows
                    .into_iter()
                    .flat_map(|r| std::iter::once(r.storage_key).chain(r.thumb_key))
                    .collect())
            }

            async fn purge_chat(&self, chat_id: &str) -> Result<(), StoreError> {
                let mut tx = self.writer().begin().await?;
                for sql in [
                    &self.q.delete_messages,
                    &self.q.delete_read_states,
                    &self.q.delete_attachments,
                    &self.q.delete_chat,
                    &self.q.delete_deletion,
                ] {
                    sqlx::query(sql.clone()).bind(chat_id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                self.after_purge().await;
                Ok(())
            }
        }
    };
}
