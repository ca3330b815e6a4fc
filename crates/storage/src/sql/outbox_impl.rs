//! The one implementation of [`Outbox`](crate::Outbox) over SQL, instantiated per sqlx backend
//! like `store_impl` (and for the same reason). Claims run in a write transaction: on the server
//! databases `FOR UPDATE SKIP LOCKED` hands concurrent claimers different rows; SQLite has one
//! writer, so claims are serialized there anyway.

macro_rules! impl_sql_outbox {
    ($store:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::outbox::Outbox for $store {
            async fn schedule_job(
                &self,
                job: crate::outbox::NewJob,
            ) -> Result<bool, crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    let stored = self.insert_job_in(&mut tx, &job).await?;
                    tx.commit().await?;
                    Ok(stored)
                })
                .await
            }

            async fn claim_jobs(
                &self,
                now: omw_domain::time::Millis,
                lease: omw_domain::time::Millis,
                limit: u32,
            ) -> Result<Vec<crate::outbox::Job>, crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| async {
                    let mut tx = self.begin_write().await?;
                    let mut jobs = sqlx::query_as::<_, crate::outbox::Job>(self.q.due_jobs.clone())
                        .bind(now)
                        .bind(now)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await?;
                    let lease_until = now.saturating_add(lease.max(1));
                    for job in &mut jobs {
                        sqlx::query(self.q.lease_job.clone())
                            .bind(lease_until)
                            .bind(&job.id)
                            .execute(&mut *tx)
                            .await?;
                        job.lease_until = lease_until;
                        job.attempts += 1;
                    }
                    tx.commit().await?;
                    Ok(jobs)
                })
                .await
            }

            async fn settle_job(
                &self,
                job: &crate::outbox::Job,
                settle: crate::outbox::Settle,
                spawn: Vec<crate::outbox::NewJob>,
            ) -> Result<bool, crate::error::StoreError> {
                crate::sql::store_impl::retrying(|| self.settle_once(job, &settle, &spawn)).await
            }

            async fn count_jobs(&self, kind: &str) -> Result<i64, crate::error::StoreError> {
                Ok(sqlx::query_scalar::<_, i64>(self.q.count_jobs.clone())
                    .bind(kind)
                    .fetch_one(self.reader())
                    .await?)
            }
        }

        impl $store {
            async fn settle_once(
                &self,
                job: &crate::outbox::Job,
                settle: &crate::outbox::Settle,
                spawn: &[crate::outbox::NewJob],
            ) -> Result<bool, crate::error::StoreError> {
                let mut tx = self.begin_write().await?;
                let settled = match settle {
                    crate::outbox::Settle::Done | crate::outbox::Settle::DoneOrRestart { .. } => {
                        let deleted = sqlx::query(self.q.delete_job_leased.clone())
                            .bind(&job.id)
                            .bind(job.lease_until)
                            .bind(job.touched)
                            .execute(&mut *tx)
                            .await?;
                        if deleted.rows_affected() > 0 {
                            deleted
                        } else {
                            // Touched since the claim (or the lease is lost: then this matches
                            // nothing either).
                            let (run_at, payload) = match settle {
                                crate::outbox::Settle::DoneOrRestart { run_at, payload } => {
                                    (*run_at, payload.as_str())
                                }
                                _ => (omw_domain::time::now_millis(), job.payload.as_str()),
                            };
                            sqlx::query(self.q.restart_job.clone())
                                .bind(run_at)
                                .bind(payload)
                                .bind(&job.id)
                                .bind(job.lease_until)
                                .execute(&mut *tx)
                                .await?
                        }
                    }
                    crate::outbox::Settle::Later {
                        run_at,
                        payload,
                        retry,
                    } => {
                        sqlx::query(self.q.reschedule_job.clone())
                            .bind(*run_at)
                            .bind(payload)
                            .bind(if *retry { job.attempts } else { 0 })
                            .bind(&job.id)
                            .bind(job.lease_until)
                            .execute(&mut *tx)
                            .await?
                    }
                };
                if settled.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                for new in spawn {
                    self.insert_job_in(&mut tx, new).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_job_in(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                job: &crate::outbox::NewJob,
            ) -> Result<bool, crate::error::StoreError> {
                // MySQL's `INSERT IGNORE` would truncate a longer key where the others refuse it.
                if job
                    .dedupe_key
                    .as_ref()
                    .is_some_and(|k| k.len() > crate::outbox::MAX_DEDUPE_KEY)
                {
                    return Err(omw_domain::DomainError::InvalidPayload(format!(
                        "a job's dedupe key is longer than {} bytes",
                        crate::outbox::MAX_DEDUPE_KEY
                    ))
                    .into());
                }
                // Refused for its key: mark the live job touched. Should that job have been
                // deleted between the two statements, the key is free again: insert once more.
                for _ in 0..3 {
                    let done = sqlx::query(self.q.insert_job.clone())
                        .bind(&job.id)
                        .bind(&job.kind)
                        .bind(&job.dedupe_key)
                        .bind(&job.chat_id)
                        .bind(&job.payload)
                        .bind(job.run_at)
                        .bind(omw_domain::time::now_millis())
                        .execute(&mut **tx)
                        .await?;
                    if done.rows_affected() > 0 {
                        return Ok(true);
                    }
                    let Some(key) = &job.dedupe_key else {
                        return Ok(false);
                    };
                    let touched = sqlx::query(self.q.touch_job.clone())
                        .bind(key)
                        .execute(&mut **tx)
                        .await?;
                    if touched.rows_affected() > 0 {
                        return Ok(false);
                    }
                }
                Ok(false)
            }
        }
    };
}
