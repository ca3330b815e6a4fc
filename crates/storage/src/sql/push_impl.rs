//! The one implementation of [`Subscriptions`](crate::Subscriptions) over SQL, instantiated
//! per sqlx backend like `store_impl`.

macro_rules! impl_sql_subscriptions {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::push::Subscriptions for $store {
            async fn save_subscription(
                &self,
                sub: &crate::push::PushSubscription,
                max_per_user: u32,
            ) -> Result<(), crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(self.q.delete_subscription_by_id.clone())
                        .bind(&sub.id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(self.q.insert_subscription.clone())
                        .bind(&sub.id)
                        .bind(&sub.user_key)
                        .bind(&sub.endpoint)
                        .bind(&sub.p256dh)
                        .bind(&sub.auth)
                        .bind(sub.created_at)
                        .execute(&mut *tx)
                        .await?;
                    let ids: Vec<String> =
                        sqlx::query_scalar(self.q.subscription_ids_of_user.clone())
                            .bind(&sub.user_key)
                            .fetch_all(&mut *tx)
                            .await?;
                    for id in ids.iter().skip(max_per_user as usize) {
                        sqlx::query(self.q.delete_subscription_by_id.clone())
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
                .await
            }

            async fn delete_subscription(
                &self,
                user_key: &str,
                id: &str,
            ) -> Result<bool, crate::error::StoreError> {
                let done = sqlx::query(self.q.delete_subscription_of_user.clone())
                    .bind(id)
                    .bind(user_key)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn prune_subscription(&self, id: &str) -> Result<bool, crate::error::StoreError> {
                let done = sqlx::query(self.q.delete_subscription_by_id.clone())
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn subscriptions_of(
                &self,
                user_key: &str,
            ) -> Result<Vec<crate::push::PushSubscription>, crate::error::StoreError> {
                Ok(sqlx::query_as(self.q.subscriptions_of_user.clone())
                    .bind(user_key)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn subscription(
                &self,
                id: &str,
            ) -> Result<Option<crate::push::PushSubscription>, crate::error::StoreError> {
                Ok(sqlx::query_as(self.q.subscription_by_id.clone())
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?)
            }
        }
    };
}
