//! The one implementation of [`Chains`](crate::Chains) over SQL, instantiated per sqlx backend
//! like `store_impl` (which appends the entries, in the transactions that store the events).

macro_rules! impl_sql_chains {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::chain::Chains for $store {
            async fn chain_of(
                &self,
                chat_id: &str,
            ) -> Result<Option<crate::chain::StoredChain>, crate::error::StoreError> {
                use crate::{chain, error::StoreError, sql::rows::ChainStateRow};
                let Some(state) = sqlx::query_as::<_, ChainStateRow>(self.q.chain_state.clone())
                    .bind(chat_id)
                    .fetch_optional(self.reader())
                    .await?
                else {
                    return Ok(None);
                };
                let key = match self
                    .sealer
                    .key(chat_id, (state.key_epoch, state.data_key.as_deref()))
                    .await
                {
                    Ok(key) => key,
                    // Its deletion has begun: gone.
                    Err(StoreError::KeyDestroyed(_)) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let head =
                    chain::Head::stored(chat_id, state.chain_len, state.chain_head.as_deref())?;
                // Up to the head read above: entries appended since are not signed for.
                let rows: Vec<(String, String)> = sqlx::query_as(self.q.chain_entries.clone())
                    .bind(chat_id)
                    .bind(state.chain_len)
                    .fetch_all(self.reader())
                    .await?;
                let entries = rows
                    .into_iter()
                    .map(|(hash, stored)| chain::read_back(key.as_deref(), chat_id, hash, stored))
                    .collect();
                Ok(Some(chain::StoredChain {
                    entries,
                    head: head.hash,
                }))
            }

            async fn messages_as_stored(
                &self,
                chat_id: &str,
                after_seq: i64,
                limit: u32,
            ) -> Result<(Vec<omw_domain::Message>, Option<i64>), crate::error::StoreError> {
                use crate::{seal, sql::rows::MessageRow};
                let limit = i64::from(limit.max(1));
                let rows = sqlx::query_as::<_, MessageRow>(self.q.messages_after.clone())
                    .bind(chat_id)
                    .bind(after_seq)
                    .bind(limit + 1)
                    .fetch_all(self.reader())
                    .await?;
                let more = rows.len() as i64 > limit;
                let key = if rows.is_empty() { None } else { self.chat_key(chat_id).await? };
                let rows: Vec<MessageRow> = rows.into_iter().take(limit as usize).collect();
                let next = rows.last().map(|r| r.seq).filter(|_| more);
                let messages = rows
                    .into_iter()
                    .filter_map(|row| match omw_domain::Message::try_from(row) {
                        Ok(m) => Some(seal::open_message_as_stored(key.as_deref(), m)),
                        Err(e) => {
                            tracing::warn!(chat_id, error = %e, "a stored message does not read");
                            None
                        }
                    })
                    .collect();
                Ok((messages, next))
            }
        }
    };
}
