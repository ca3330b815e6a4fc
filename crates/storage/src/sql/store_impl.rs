//! The one implementation of [`Store`](crate::Store) over SQL, instantiated per sqlx backend.
//!
//! A macro rather than generic code: sqlx's executor traits are generic over lifetimes in ways
//! that make `Send` futures over a generic `Database` fight the compiler, while each concrete
//! instantiation is plain code. Per-dialect differences live in `Queries`, not here.

/// How many times a transaction that met a lock conflict or a raced unique key is retried.
pub(crate) const TX_ATTEMPTS: usize = 6;

/// Wait before retry `attempt` (1-based): 1, 2, 4, 8, 16 ms. Some conflicts are refused at once
/// rather than waited out — SQLite answers SQLITE_BUSY without calling its busy handler where
/// waiting could deadlock, and a deadlock victim on the server databases should not meet the
/// same lock again a microsecond later.
pub(crate) async fn retry_pause(attempt: usize) {
    let ms = 1u64 << attempt.saturating_sub(1).min(4);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Run a transaction until it succeeds, fails for good, or has met [`TX_ATTEMPTS`] conflicts.
pub(crate) async fn retrying<T, F, Fut>(mut once: F) -> Result<T, crate::error::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::error::StoreError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match once().await {
            Err(e) if e.is_retryable() && attempt < TX_ATTEMPTS => retry_pause(attempt).await,
            other => return other,
        }
    }
}

macro_rules! impl_sql_store {
    ($store:ident, $db:ty, $backend:expr) => {
        use std::collections::{BTreeMap, HashMap};

        use async_trait::async_trait;
        use omw_domain::{
            time::Millis, Booking, BookingUpdate, Chat, ChatStatus, DomainError, Message,
            NewMessage, Role, Sender, Transition,
        };
        use sqlx::Transaction;

        use crate::{
            backend::Backend,
            error::StoreError,
            sql::{
                queries::MAX_LIST,
                rows::*,
                store_impl::retrying,
            },
            store::*,
        };

        type Tx = Transaction<'static, $db>;

        /// The working state of a chat inside a write transaction.
        struct ChatCursor {
            active: bool,
            last_seq: i64,
            dirty: bool,
            /// What its rows are sealed with; `None` for a plaintext chat.
            key: Option<std::sync::Arc<aws_lc_rs::aead::LessSafeKey>>,
            /// Its key is destroyed: its deletion has begun.
            destroyed: bool,
            /// Its tamper-evident chain, as far as this transaction has appended to it.
            chain: crate::chain::Head,
        }

        /// A message's idempotency key: (chat, sender, client id).
        type ClientKey<'a> = (&'a str, &'a str, &'a str);

        fn client_key(m: &NewMessage) -> Option<ClientKey<'_>> {
            m.client_id.as_deref().map(|c| (m.chat_id.as_str(), m.sender.id.as_str(), c))
        }

        /// What a batch already holds under a client key.
        enum Known {
            /// Stored by an earlier transaction.
            Stored(Box<Message>),
            /// Written earlier in this batch: the index of its result.
            InBatch(usize),
        }

        impl $store {
            async fn insert_attachment_in(
                &self,
                tx: &mut Tx,
                a: &NewAttachment,
                key: Option<&aws_lc_rs::aead::LessSafeKey>,
            ) -> Result<(), StoreError> {
                let name = match key {
                    Some(k) => crate::seal::seal(k, &a.chat_id, &a.id, crate::seal::ATTACHMENT_NAME, &a.name)?,
                    None => a.name.clone(),
                };
                sqlx::query(self.q.insert_attachment.clone())
                    .bind(&a.id)
                    .bind(&a.chat_id)
                    .bind(&a.uploader_id)
                    .bind(&name)
                    .bind(&a.mime)
                    .bind(a.size)
                    .bind(&a.storage_key)
                    .bind(&a.thumb_key)
                    .bind(a.width)
                    .bind(a.height)
                    .bind(a.duration_ms)
                    .bind(Option::<String>::None)
                    .bind(a.created_at)
                    .bind(a.sealed)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn lock_chat(&self, tx: &mut Tx, chat_id: &str) -> Result<Option<ChatCursor>, StoreError> {
                let row = sqlx::query_as::<_, ChatLockRow>(self.q.lock_chat.clone())
                    .bind(chat_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                match row {
                    Some(r) => Ok(Some(self.cursor(&r).await?)),
                    None => Ok(None),
                }
            }

            /// A chat's cursor. A chat whose key is destroyed (its deletion has begun) is closed
            /// to writers: nothing is written to it, and nothing of it is read back.
            async fn cursor(&self, r: &ChatLockRow) -> Result<ChatCursor, StoreError> {
                let (key, destroyed) = match self.sealer.key(&r.id, (r.key_epoch, r.data_key.as_deref())).await {
                    Ok(key) => (key, false),
                    Err(StoreError::KeyDestroyed(_)) => (None, true),
                    Err(e) => return Err(e),
                };
                Ok(ChatCursor {
                    active: r.status == ChatStatus::Active.as_str() && !destroyed,
                    last_seq: r.last_seq,
                    dirty: false,
                    key,
                    destroyed,
                    chain: crate::chain::Head::stored(&r.id, r.chain_len, r.chain_head.as_deref())?,
                })
            }

            /// A chat's key, outside a write transaction; `None` for a plaintext (or unknown)
            /// chat.
            async fn chat_key(
                &self,
                chat_id: &str,
            ) -> Result<Option<std::sync::Arc<aws_lc_rs::aead::LessSafeKey>>, StoreError> {
                if let Some(known) = self.sealer.known(chat_id) {
                    return Ok(known);
                }
                let row = sqlx::query_as::<_, ChatKeyRow>(self.q.chat_key.clone())
                    .bind(chat_id)
                    .fetch_optional(self.reader())
                    .await?;
                match row {
                    Some(r) => self.sealer.key(chat_id, (r.key_epoch, r.data_key.as_deref())).await,
                    None => Ok(None),
                }
            }

            /// Lock (`FOR UPDATE` where the dialect has row locks) and read every chat named,
            /// in id order, with one statement per [`MAX_LIST`] chats. Unknown ids are absent.
            async fn lock_chats(
                &self,
                tx: &mut Tx,
                ids: &[&str],
            ) -> Result<BTreeMap<String, ChatCursor>, StoreError> {
                let mut out = BTreeMap::new();
                for chunk in ids.chunks(MAX_LIST) {
                    let (len, sql) = self.q.lock_chats.padded(chunk.len());
                    let mut query = sqlx::query_as::<_, ChatLockRow>(sql.clone());
                    for i in 0..len {
                        query = query.bind(chunk[i.min(chunk.len() - 1)]);
                    }
                    for r in query.fetch_all(&mut **tx).await? {
                        let cursor = self.cursor(&r).await?;
                        out.insert(r.id, cursor);
                    }
                }
                Ok(out)
            }

            /// The stored messages under the given client keys, with one statement per
            /// [`MAX_LIST`] keys.
            async fn messages_by_client_keys<'a>(
                &self,
                tx: &mut Tx,
                keys: &[ClientKey<'a>],
            ) -> Result<HashMap<ClientKey<'a>, Known>, StoreError> {
                let mut found = HashMap::new();
                let mut inexact = false;
                for chunk in keys.chunks(MAX_LIST) {
                    let rows = self.fetch_by_client_keys(tx, chunk).await?;
                    for message in rows {
                        // Take the key from the batch: the map borrows the batch, not the row.
                        let key = (
                            message.chat_id.as_str(),
                            message.sender.id.as_str(),
                            message.client_id.as_deref().unwrap_or_default(),
                        );
                        match chunk.iter().find(|k| **k == key) {
                            Some(k) => {
                                found.insert(*k, Known::Stored(Box::new(message)));
                            }
                            // The database matched a key Rust does not call equal (MariaDB's
                            // PAD SPACE collations ignore trailing spaces).
                            None => inexact = true,
                        }
                    }
                }
                if inexact {
                    // Let the database say which key each row answers: one key at a time.
                    for key in keys {
                        if !found.contains_key(key) {
                            let mut rows = self.fetch_by_client_keys(tx, std::slice::from_ref(key)).await?;
                            if let Some(message) = rows.pop() {
                                found.insert(*key, Known::Stored(Box::new(message)));
                            }
                        }
                    }
                }
                Ok(found)
            }

            async fn fetch_by_client_keys(
                &self,
                tx: &mut Tx,
                keys: &[ClientKey<'_>],
            ) -> Result<Vec<Message>, StoreError> {
                let (len, sql) = self.q.messages_by_client_ids.padded(keys.len());
                let mut query = sqlx::query_as::<_, MessageRow>(sql.clone());
                for i in 0..len {
                    let (chat, sender, client) = keys[i.min(keys.len() - 1)];
                    query = query.bind(chat).bind(sender).bind(client);
                }
                query
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(Message::try_from)
                    .collect()
            }

            /// Check and link a message's attachment. `Ok(Err(_))` refuses this message only.
            async fn link_attachment(
                &self,
                tx: &mut Tx,
                m: &NewMessage,
                att_id: &str,
                key: Option<&aws_lc_rs::aead::LessSafeKey>,
            ) -> Result<Result<omw_domain::Attachment, StoreError>, StoreError> {
                let att = sqlx::query_as::<_, AttachmentRecord>(self.q.attachment_by_id_locked.clone())
                    .bind(att_id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .filter(|a| {
                        a.upload.chat_id == m.chat_id
                            && a.upload.uploader_id == m.sender.id
                            && a.message_id.is_none()
                            && m.kind.accepts_mime(&a.upload.mime)
                    });
                let Some(att) = att else {
                    return Ok(Err(DomainError::InvalidPayload(format!(
                        "attachment_id does not name an unused upload of yours in this chat \
                         that fits a {} message",
                        m.kind.as_str()
                    ))
                    .into()));
                };
                sqlx::query(self.q.link_attachment.clone())
                    .bind(&m.id)
                    .bind(att_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(Ok(att.opened(key)?.to_attachment()))
            }

            /// Write new messages with one multi-row `INSERT` per [`MAX_LIST`] rows (within the
            /// bound-parameter limit), split further where only prepared lengths may run.
            async fn insert_rows(
                &self,
                tx: &mut Tx,
                rows: &[(&NewMessage, i64)],
                cursors: &BTreeMap<String, ChatCursor>,
            ) -> Result<(), StoreError> {
                for list in rows.chunks(MAX_LIST) {
                    let mut rest = list;
                    for len in self.q.insert_messages.chunk_lengths(list.len()) {
                        let (chunk, tail) = rest.split_at(len);
                        rest = tail;
                        self.insert_chunk(tx, chunk, cursors).await?;
                    }
                }
                Ok(())
            }

            /// Append chain entries (chat id, entry) the same way as [`Self::insert_rows`].
            async fn insert_chain(
                &self,
                tx: &mut Tx,
                entries: &[(String, crate::chain::NewEntry)],
            ) -> Result<(), StoreError> {
                for list in entries.chunks(MAX_LIST) {
                    let mut rest = list;
                    for len in self.q.insert_chain_entries.chunk_lengths(list.len()) {
                        let (chunk, tail) = rest.split_at(len);
                        rest = tail;
                        let (sql, keep) = self.q.insert_chain_entries.exact(chunk.len());
                        let mut query = sqlx::query(sql).persistent(keep);
                        for (chat_id, (n, hash, canonical)) in chunk {
                            query = query.bind(chat_id).bind(*n).bind(hash).bind(canonical);
                        }
                        query.execute(&mut **tx).await?;
                    }
                }
                Ok(())
            }

            /// One multi-row `INSERT`.
            async fn insert_chunk(
                &self,
                tx: &mut Tx,
                chunk: &[(&NewMessage, i64)],
                cursors: &BTreeMap<String, ChatCursor>,
            ) -> Result<(), StoreError> {
                let (sql, keep) = self.q.insert_messages.exact(chunk.len());
                let notices = chunk
                    .iter()
                    .map(|(m, _)| m.system.as_ref().map(encode_notice).transpose())
                    .collect::<Result<Vec<_>, _>>()?;
                let bodies = chunk
                    .iter()
                    .map(|(m, _)| {
                        let key = cursors.get(&m.chat_id).and_then(|c| c.key.as_deref());
                        crate::seal::seal_body(key, m)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut query = sqlx::query(sql).persistent(keep);
                for (((m, seq), notice), body) in chunk.iter().zip(notices).zip(&bodies) {
                    query = query
                        .bind(&m.id)
                        .bind(&m.chat_id)
                        .bind(*seq)
                        .bind(&m.sender.id)
                        .bind(m.sender.role.as_str())
                        .bind(&m.sender.name)
                        .bind(m.kind.as_str())
                        .bind(body)
                        .bind(&m.attachment_id)
                        .bind(&m.client_id)
                        .bind(m.created_at)
                        .bind(notice);
                }
                query.execute(&mut **tx).await?;
                Ok(())
            }

            /// Store every chat's new last seq and chain head with one `UPDATE … CASE` per
            /// chunk.
            async fn flush_cursors(&self, tx: &mut Tx, cursors: &BTreeMap<String, ChatCursor>) -> Result<(), StoreError> {
                let dirty: Vec<(&str, &ChatCursor, String)> = cursors
                    .iter()
                    .filter(|(_, c)| c.dirty)
                    .map(|(id, c)| (id.as_str(), c, c.chain.hex()))
                    .collect();
                for chunk in dirty.chunks(MAX_LIST) {
                    let (len, sql) = self.q.set_last_seqs.padded(chunk.len());
                    let pick = |i: usize| &chunk[i.min(chunk.len() - 1)];
                    let mut query = sqlx::query(sql.clone());
                    for i in 0..len {
                        let (id, c, _) = pick(i);
                        query = query.bind(*id).bind(c.last_seq);
                    }
                    for i in 0..len {
                        let (id, c, _) = pick(i);
                        query = query.bind(*id).bind(c.chain.len);
                    }
                    for i in 0..len {
                        let (id, _, head) = pick(i);
                        query = query.bind(*id).bind(head.as_str());
                    }
                    for i in 0..len {
                        query = query.bind(pick(i).0);
                    }
                    query.execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn insert_batch_once(
                &self,
                batch: &[NewMessage],
            ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
                let mut tx = self.begin_write().await?;
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

            /// Write a batch with a fixed number of statements however many chats it touches:
            /// lock the chats, look up the client ids, insert the rows, update the cursors.
            /// Only messages with an attachment add statements of their own.
            async fn insert_batch_in(
                &self,
                tx: &mut Tx,
                batch: &[NewMessage],
            ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                // Lock every chat of the batch in id order, so concurrent batches on other
                // nodes cannot deadlock against this one.
                let mut chat_ids: Vec<&str> = batch.iter().map(|m| m.chat_id.as_str()).collect();
                chat_ids.sort_unstable();
                chat_ids.dedup();
                let mut cursors = self.lock_chats(tx, &chat_ids).await?;

                let mut keys: Vec<ClientKey<'_>> = batch
                    .iter()
                    .filter(|m| cursors.contains_key(&m.chat_id))
                    .filter_map(client_key)
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                let mut known = if keys.is_empty() {
                    HashMap::new()
                } else {
                    self.messages_by_client_keys(tx, &keys).await?
                };

                // Assign seqs in batch order; refusals do not stop the others.
                let mut out: Vec<Result<Inserted, StoreError>> = Vec::with_capacity(batch.len());
                let mut rows: Vec<(&NewMessage, i64)> = Vec::with_capacity(batch.len());
                let mut entries: Vec<(String, crate::chain::NewEntry)> = Vec::with_capacity(batch.len());
                for m in batch {
                    let Some(cursor) = cursors.get_mut(&m.chat_id) else {
                        out.push(Err(DomainError::NotFound("chat").into()));
                        continue;
                    };
                    let key = client_key(m);
                    if cursor.destroyed {
                        // Its deletion has begun: not even a duplicate is read back.
                        out.push(Err(DomainError::ChatClosed.into()));
                        continue;
                    }
                    if let Some(known) = key.and_then(|k| known.get(&k)) {
                        let message = match known {
                            Known::Stored(message) => {
                                crate::seal::open_message(cursor.key.as_deref(), (**message).clone())?
                            }
                            Known::InBatch(i) => match &out[*i] {
                                Ok(ins) => ins.message.clone(),
                                Err(_) => unreachable!("only written messages are known"),
                            },
                        };
                        out.push(Ok(Inserted { message, duplicate: true }));
                        continue;
                    }
                    if !cursor.active {
                        out.push(Err(DomainError::ChatClosed.into()));
                        continue;
                    }
                    let attachment = match &m.attachment_id {
                        Some(att_id) => match self.link_attachment(tx, m, att_id, cursor.key.as_deref()).await? {
                            Ok(a) => Some(a),
                            Err(refused) => {
                                out.push(Err(refused));
                                continue;
                            }
                        },
                        None => None,
                    };
                    let seq = cursor.last_seq + 1;
                    cursor.last_seq = seq;
                    cursor.dirty = true;
                    rows.push((m, seq));
                    if let Some(k) = key {
                        known.insert(k, Known::InBatch(out.len()));
                    }
                    let message = Message {
                        id: m.id.clone(),
                        chat_id: m.chat_id.clone(),
                        seq,
                        sender: m.sender.clone(),
                        kind: m.kind,
                        body: m.body.clone(),
                        attachment,
                        client_id: m.client_id.clone(),
                        created_at: m.created_at,
                        system: m.system.clone(),
                    };
                    let stored = omw_domain::transcript::Event::MessageStored {
                        message: omw_domain::transcript::MessageFacts::from(&message),
                    };
                    let entry = crate::chain::append(&mut cursor.chain, &m.chat_id, cursor.key.as_deref(), stored)?;
                    entries.push((m.chat_id.clone(), entry));
                    out.push(Ok(Inserted { message, duplicate: false }));
                }
                self.insert_rows(tx, &rows, &cursors).await?;
                self.insert_chain(tx, &entries).await?;
                self.flush_cursors(tx, &cursors).await?;
                Ok(out)
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
                    // Both statements take the same values in the same order.
                    let write = if current.is_none() {
                        &self.q.insert_booking
                    } else {
                        &self.q.update_booking
                    };
                    sqlx::query(write.clone())
                        .bind(&b.customer.id)
                        .bind(&b.customer.name)
                        .bind(worker_id)
                        .bind(worker_name)
                        .bind(b.status.as_str())
                        .bind(b.starts_at)
                        .bind(&b.region)
                        .bind(now)
                        .bind(&b.id)
                        .execute(&mut **tx)
                        .await?;
                }

                let mut chat_id: Option<String> = None;
                if plan.open_chat {
                    let worker = b.worker.as_ref().ok_or_else(|| {
                        DomainError::InvalidPayload("an accepted booking needs a worker".into())
                    })?;
                    let id = uuid::Uuid::now_v7().to_string();
                    let key = self.sealer.new_chat_key(&id).await?;
                    sqlx::query(self.q.insert_chat.clone())
                        .bind(&id)
                        .bind(&b.id)
                        .bind(&b.customer.id)
                        .bind(&worker.id)
                        .bind(now)
                        .bind(key.as_ref().map(|k| k.0))
                        .bind(key.map(|k| k.1))
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
                    let system: Vec<NewMessage> = plan
                        .system_messages
                        .iter()
                        .map(|notice| NewMessage {
                            id: uuid::Uuid::now_v7().to_string(),
                            chat_id: chat_id.clone(),
                            sender: Sender::system(),
                            kind: omw_domain::MessageKind::System,
                            body: Some(notice.body()),
                            attachment_id: None,
                            client_id: None,
                            created_at: now,
                            system: Some(notice.clone()),
                        })
                        .collect();
                    for inserted in self.insert_batch_in(tx, &system).await? {
                        messages.push(inserted?.message);
                    }
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
                        // What was pending for the chat (a notification ladder) ends with it.
                        sqlx::query(self.q.delete_chat_jobs.clone())
                            .bind(chat_id)
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
                let update = &update;
                retrying(|| async move {
                    let mut tx = self.begin_write().await?;
                    let res = self.apply_booking_in(&mut tx, booking_id, update.clone(), now, delete_at).await;
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
                })
                .await
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
                        let found = sqlx::query_as::<_, MessageRow>(self.q.message_by_seq.clone())
                            .bind(&chat.id)
                            .bind(chat.last_seq)
                            .fetch_optional(self.reader())
                            .await?
                            .map(Message::try_from)
                            .transpose()?;
                        match (found, self.chat_key(&chat.id).await) {
                            (Some(m), Ok(key)) => Some(crate::seal::open_message(key.as_deref(), m)?),
                            // Its deletion has begun: the chat is closed and about to go.
                            (_, Err(StoreError::KeyDestroyed(_))) | (None, _) => None,
                            (_, Err(e)) => return Err(e),
                        }
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
                match retrying(|| self.insert_batch_once(&batch)).await {
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
                        Ok(out)
                    }
                    other => other,
                }
            }

            async fn load_messages(&self, chat_id: &str, page: Page, limit: u32) -> Result<MessagePage, StoreError> {
                let limit = i64::from(limit.max(1));
                let fetch = limit + 1;
                let (sql, from_seq) = match page {
                    Page::Latest => (&self.q.messages_latest, None),
                    Page::Before(seq) => (&self.q.messages_before, Some(seq)),
                    Page::After(seq) => (&self.q.messages_after, Some(seq)),
                };
                let mut query = sqlx::query_as::<_, MessageRow>(sql.clone()).bind(chat_id);
                if let Some(seq) = from_seq {
                    query = query.bind(seq);
                }
                let rows = query.bind(fetch).fetch_all(self.reader()).await?;
                let has_more = rows.len() as i64 > limit;
                let key = if rows.is_empty() { None } else { self.chat_key(chat_id).await? };
                let mut messages = rows
                    .into_iter()
                    .take(limit as usize)
                    .map(|r| crate::seal::open_message(key.as_deref(), Message::try_from(r)?))
                    .collect::<Result<Vec<_>, _>>()?;
                if !matches!(page, Page::After(_)) {
                    messages.reverse();
                }
                Ok(MessagePage { messages, has_more })
            }

            async fn mark_read(&self, chat_id: &str, user_id: &str, up_to_seq: i64, now: Millis) -> Result<i64, StoreError> {
                let mut tx = self.begin_write().await?;
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

            async fn unread_for(&self, chat_id: &str, user_id: &str) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar::<_, i64>(self.q.unread_for.clone())
                    .bind(chat_id)
                    .bind(user_id)
                    .bind(chat_id)
                    .bind(user_id)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn insert_attachment(&self, a: NewAttachment) -> Result<(), StoreError> {
                let key = self.chat_key(&a.chat_id).await?;
                let mut tx = self.begin_write().await?;
                self.insert_attachment_in(&mut tx, &a, key.as_deref()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn admit_attachment(&self, a: NewAttachment, user_quota: i64, chat_quota: i64) -> Result<Admission, StoreError> {
                let mut tx = self.begin_write().await?;
                let cursor = self.lock_chat(&mut tx, &a.chat_id).await?;
                let verdict = match &cursor {
                    None => Some(Admission::ChatGone),
                    Some(chat) if !chat.active => Some(Admission::ChatClosed),
                    Some(_) => {
                        let (user,): (i64,) = sqlx::query_as(self.q.unsent_bytes_of_user.clone())
                            .bind(&a.uploader_id)
                            .fetch_one(&mut *tx)
                            .await?;
                        let (chat,): (i64,) = sqlx::query_as(self.q.unsent_bytes_of_chat.clone())
                            .bind(&a.chat_id)
                            .fetch_one(&mut *tx)
                            .await?;
                        if user.saturating_add(a.size) > user_quota {
                            Some(Admission::UserQuota { used: user })
                        } else if chat.saturating_add(a.size) > chat_quota {
                            Some(Admission::ChatQuota { used: chat })
                        } else {
                            None
                        }
                    }
                };
                if let Some(refused) = verdict {
                    let _ = tx.rollback().await;
                    return Ok(refused);
                }
                let key = cursor.and_then(|c| c.key);
                self.insert_attachment_in(&mut tx, &a, key.as_deref()).await?;
                tx.commit().await?;
                Ok(Admission::Inserted)
            }

            async fn unsent_upload_bytes(&self, user_id: &str, chat_id: &str) -> Result<(i64, i64), StoreError> {
                let (user,): (i64,) = sqlx::query_as(self.q.unsent_bytes_of_user.clone())
                    .bind(user_id)
                    .fetch_one(self.reader())
                    .await?;
                let (chat,): (i64,) = sqlx::query_as(self.q.unsent_bytes_of_chat.clone())
                    .bind(chat_id)
                    .fetch_one(self.reader())
                    .await?;
                Ok((user, chat))
            }

            async fn get_attachment(&self, id: &str) -> Result<Option<AttachmentRecord>, StoreError> {
                let found = sqlx::query_as::<_, AttachmentRecord>(self.q.attachment_by_id.clone())
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                match found {
                    Some(att) => match self.chat_key(&att.upload.chat_id).await {
                        Ok(key) => Ok(Some(att.opened(key.as_deref())?)),
                        // The chat's deletion has begun: the caller refuses it as closed and
                        // gone; the name stays sealed.
                        Err(StoreError::KeyDestroyed(_)) => Ok(Some(att)),
                        Err(e) => Err(e),
                    },
                    None => Ok(None),
                }
            }

            /// Their names stay sealed: the sweeper needs only their storage keys.
            async fn unlinked_attachments(&self, before: Millis, limit: u32) -> Result<Vec<AttachmentRecord>, StoreError> {
                Ok(sqlx::query_as::<_, AttachmentRecord>(self.q.unlinked_attachments.clone())
                    .bind(before)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?)
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
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            async fn deletion_failed(
                &self,
                chat_id: &str,
                now: Millis,
                backoff: Backoff,
            ) -> Result<u32, StoreError> {
                let mut tx = self.begin_write().await?;
                let before: Option<(i64,)> =
                    sqlx::query_as(self.q.deletion_attempts_locked.clone())
                        .bind(chat_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some((before,)) = before else {
                    // Deleted meanwhile (by another node): nothing to retry.
                    return Ok(0);
                };
                let attempts = u32::try_from(before).unwrap_or(u32::MAX).saturating_add(1);
                let delay = omw_domain::retention::retry_delay(attempts, backoff.base, backoff.max);
                sqlx::query(self.q.postpone_deletion.clone())
                    .bind(i64::from(attempts))
                    .bind(now.saturating_add(delay))
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(attempts)
            }

            async fn oldest_due_deletion(&self, now: Millis) -> Result<Option<Millis>, StoreError> {
                let (oldest,): (Option<i64>,) = sqlx::query_as(self.q.oldest_due_deletion.clone())
                    .bind(now)
                    .fetch_one(self.reader())
                    .await?;
                Ok(oldest)
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

            async fn rewrap_chat_keys(&self, limit: u32) -> Result<u64, StoreError> {
                let Some(current) = self.sealer.current_epoch() else {
                    return Ok(0);
                };
                let stale = sqlx::query_as::<_, StaleKeyRow>(self.q.stale_chat_keys.clone())
                    .bind(current)
                    .bind(i64::from(limit.max(1)))
                    .fetch_all(self.reader())
                    .await?;
                let mut done = 0;
                for row in stale {
                    let (epoch, wrapped) = self
                        .sealer
                        .rewrap(&row.id, row.key_epoch, &row.data_key)
                        .await?;
                    done += sqlx::query(self.q.rewrap_chat_key.clone())
                        .bind(epoch)
                        .bind(wrapped)
                        .bind(&row.id)
                        .bind(row.key_epoch)
                        .execute(self.writer())
                        .await?
                        .rows_affected();
                }
                Ok(done)
            }

            async fn check_chat_keys(&self) -> Result<(), StoreError> {
                let epochs: Vec<i64> = sqlx::query_scalar(self.q.live_key_epochs.clone())
                    .fetch_all(self.reader())
                    .await?;
                for epoch in epochs {
                    let sample = sqlx::query_as::<_, StaleKeyRow>(self.q.sample_chat_key.clone())
                        .bind(epoch)
                        .fetch_optional(self.reader())
                        .await?;
                    if let Some(row) = sample {
                        self.sealer
                            .key(&row.id, (Some(row.key_epoch), Some(&row.data_key)))
                            .await
                            .map_err(|e| StoreError::Key(format!(
                                "chat {} (epoch {epoch}) does not open with this key file: {e}; \
                                 is ENCRYPTION_KEY_FILE this deployment's?",
                                row.id
                            )))?;
                    }
                }
                Ok(())
            }

            async fn file_key(&self, chat_id: &str) -> Result<Option<crate::FileKey>, StoreError> {
                Ok(self
                    .chat_key(chat_id)
                    .await?
                    .map(|k| crate::FileKey::new(k, chat_id)))
            }

            fn forget_chat_key(&self, chat_id: &str) {
                self.sealer.forget(chat_id);
            }

            async fn chat_keys_under(&self, epoch: i64) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar::<_, i64>(self.q.chat_keys_under.clone())
                    .bind(epoch)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn purge_chat(&self, chat_id: &str) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                // The booking remembers that its chat was deleted: a hold after this is a
                // conflict, not "no chat" (SPEC §9.7).
                sqlx::query(self.q.mark_booking_purged.clone())
                    .bind(omw_domain::time::now_millis())
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?;
                for sql in [
                    &self.q.delete_holds,
                    &self.q.delete_chain_entries,
                    &self.q.delete_messages,
                    &self.q.delete_read_states,
                    &self.q.delete_attachments,
                    &self.q.delete_chat_jobs,
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
