//! The one implementation of [`Holds`](crate::Holds) over SQL, instantiated per sqlx backend
//! like `store_impl`. Placing a hold and starting a purge both lock the chat's row first
//! (`FOR UPDATE` on the server databases; SQLite has one writer), so they are serialized.

macro_rules! impl_sql_holds {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::hold::Holds for $store {
            async fn place_hold(
                &self,
                booking_id: &str,
                case_ref: &str,
                reason: &str,
                now: omw_domain::time::Millis,
            ) -> Result<crate::hold::Placed, crate::error::StoreError> {
                use crate::hold::{Hold, Placed};
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    let chat = self.chat_of_booking_locked(&mut tx, booking_id).await?;
                    let Some(chat_id) = chat else {
                        let purged = sqlx::query_scalar::<_, Option<i64>>(
                            self.q.booking_chat_purged_at.clone(),
                        )
                        .bind(booking_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        tx.rollback().await?;
                        return Ok(match purged {
                            Some(Some(_)) => Placed::Deleted,
                            _ => Placed::NoChat,
                        });
                    };
                    let started =
                        sqlx::query_scalar::<_, Option<i64>>(self.q.deletion_started_at.clone())
                            .bind(&chat_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if matches!(started, Some(Some(_))) {
                        tx.rollback().await?;
                        return Ok(Placed::Deleted);
                    }
                    let existing = sqlx::query_as::<_, Hold>(self.q.hold_of_case.clone())
                        .bind(&chat_id)
                        .bind(case_ref)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let hold = match existing {
                        Some(hold) => hold,
                        None => {
                            let hold = Hold {
                                chat_id,
                                case_ref: case_ref.to_owned(),
                                reason: reason.to_owned(),
                                created_at: now,
                            };
                            sqlx::query(self.q.insert_hold.clone())
                                .bind(&hold.chat_id)
                                .bind(&hold.case_ref)
                                .bind(&hold.reason)
                                .bind(hold.created_at)
                                .execute(&mut *tx)
                                .await?;
                            hold
                        }
                    };
                    tx.commit().await?;
                    Ok(Placed::Held(hold))
                })
                .await
            }

            async fn release_holds(
                &self,
                booking_id: &str,
                case_ref: Option<&str>,
                due_after_release: omw_domain::time::Millis,
            ) -> Result<Option<u64>, crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    let chat = self.chat_of_booking_locked(&mut tx, booking_id).await?;
                    let Some(chat_id) = chat else {
                        tx.rollback().await?;
                        return Ok(None);
                    };
                    let released = match case_ref {
                        Some(case) => sqlx::query(self.q.delete_hold_of_case.clone())
                            .bind(&chat_id)
                            .bind(case)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected(),
                        None => sqlx::query(self.q.delete_holds.clone())
                            .bind(&chat_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected(),
                    };
                    let left: i64 = sqlx::query_scalar(self.q.count_holds.clone())
                        .bind(&chat_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if released > 0 && left == 0 {
                        sqlx::query(self.q.deletion_due_again.clone())
                            .bind(due_after_release)
                            .bind(&chat_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(Some(released))
                })
                .await
            }

            async fn holds_of(
                &self,
                chat_id: &str,
            ) -> Result<Vec<crate::hold::Hold>, crate::error::StoreError> {
                Ok(sqlx::query_as(self.q.holds_of_chat.clone())
                    .bind(chat_id)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn begin_purge(
                &self,
                chat_id: &str,
                now: omw_domain::time::Millis,
            ) -> Result<bool, crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    // The chat's row lock: a hold being placed now waits, or is waited for.
                    let _ = sqlx::query(self.q.lock_chat.clone())
                        .bind(chat_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let held: i64 = sqlx::query_scalar(self.q.count_holds.clone())
                        .bind(chat_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if held > 0 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    sqlx::query(self.q.start_deletion.clone())
                        .bind(now)
                        .bind(chat_id)
                        .execute(&mut *tx)
                        .await?;
                    // The chat's data key goes first, with the mark (SPEC §9.6): from here on
                    // nothing of the chat can be read, whatever is left of its rows and files.
                    sqlx::query(self.q.destroy_chat_key.clone())
                        .bind(chat_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    self.sealer.forget(chat_id);
                    Ok(true)
                })
                .await
            }
        }

        impl $store {
            /// The id of the booking's chat, its row locked.
            async fn chat_of_booking_locked(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                booking_id: &str,
            ) -> Result<Option<String>, crate::error::StoreError> {
                Ok(sqlx::query_scalar(self.q.lock_chat_id_by_booking.clone())
                    .bind(booking_id)
                    .fetch_optional(&mut **tx)
                    .await?)
            }
        }
    };
}
