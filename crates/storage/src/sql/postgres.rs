use sqlx::{Pool, Postgres};

use super::queries::{Dialect, Queries};

/// PostgreSQL (READ COMMITTED, row locks for per-chat seq).
pub struct PgStore {
    pool: Pool<Postgres>,
    q: Queries,
    sealer: crate::Sealer,
}

impl PgStore {
    pub fn new(pool: Pool<Postgres>, sealer: crate::Sealer) -> Self {
        PgStore {
            pool,
            sealer,
            q: Queries::new(Dialect::Postgres),
        }
    }

    fn writer(&self) -> &Pool<Postgres> {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    fn reader(&self) -> &Pool<Postgres> {
        &self.pool
    }

    async fn after_purge(&self) {}

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

impl_sql_store!(PgStore, Postgres, Backend::Postgres);
impl_sql_outbox!(PgStore, Postgres);
impl_sql_subscriptions!(PgStore, Postgres);
impl_sql_holds!(PgStore, Postgres);
impl_sql_chains!(PgStore, Postgres);
