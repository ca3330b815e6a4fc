use sqlx::{MySql, Pool};

use super::queries::{Dialect, Queries};

/// MariaDB / MySQL (InnoDB, READ COMMITTED, row locks for per-chat seq).
pub struct MySqlStore {
    pool: Pool<MySql>,
    q: Queries,
}

impl MySqlStore {
    pub fn new(pool: Pool<MySql>) -> Self {
        MySqlStore {
            pool,
            q: Queries::new(Dialect::MySql),
        }
    }

    fn writer(&self) -> &Pool<MySql> {
        &self.pool
    }

    fn reader(&self) -> &Pool<MySql> {
        &self.pool
    }

    async fn after_purge(&self) {}

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/mysql").run(&self.pool).await?;
        Ok(())
    }
}

impl_sql_store!(MySqlStore, MySql, Backend::MySql);
