use sqlx::{MySql, Pool};

use super::queries::{Dialect, Queries};

/// MariaDB / MySQL (InnoDB, READ COMMITTED, row locks for per-chat seq).
pub struct MySqlStore {
    pool: Pool<MySql>,
    q: Queries,
    sealer: crate::Sealer,
}

impl MySqlStore {
    pub fn new(pool: Pool<MySql>, sealer: crate::Sealer) -> Self {
        MySqlStore {
            pool,
            sealer,
            q: Queries::new(Dialect::MySql),
        }
    }

    fn writer(&self) -> &Pool<MySql> {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, MySql>, sqlx::Error> {
        self.pool.begin().await
    }

    fn reader(&self) -> &Pool<MySql> {
        &self.pool
    }

    async fn after_purge(&self) {}

    async fn run_migrations(&self) -> Result<(), StoreError> {
        // sqlx's migration lock asks GET_LOCK with a negative timeout, which MariaDB answers
        // at once with NULL instead of waiting: nodes starting together would race. Hold our
        // own lock on a second connection while the migrator runs.
        let mut guard = self.pool.acquire().await?;
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK('omw-chat-migrate', 120)")
            .fetch_one(&mut *guard)
            .await?;
        if got != Some(1) {
            return Err(StoreError::Unavailable(
                "could not take the migration lock".into(),
            ));
        }
        let res = sqlx::migrate!("./migrations/mysql").run(&self.pool).await;
        let _ = sqlx::query("SELECT RELEASE_LOCK('omw-chat-migrate')")
            .execute(&mut *guard)
            .await;
        res?;
        Ok(())
    }
}

impl_sql_store!(MySqlStore, MySql, Backend::MySql);
impl_sql_outbox!(MySqlStore, MySql);
impl_sql_subscriptions!(MySqlStore, MySql);
impl_sql_holds!(MySqlStore, MySql);
impl_sql_chains!(MySqlStore, MySql);
