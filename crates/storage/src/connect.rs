//! Choosing and opening a backend from a database URL.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    Executor,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    error::StoreError,
    sql::{MySqlStore, PgStore, SqliteStore},
    store::Store,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::Config(format!(
                "DATABASE_URL must start with sqlite:, mysql:, mariadb: or postgres: (got {scheme:?})"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::MySql => "mysql",
            Backend::Postgres => "postgres",
        }
    }
}

/// How long a request waits for a database connection before it is refused as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Open the database named by `url` (connections are made lazily on first use, then checked
/// by `migrate`). `max_connections` bounds the pool of MySQL/PostgreSQL and SQLite's readers.
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    let max = max_connections.max(1);
    match Backend::from_url(url)? {
        Backend::Sqlite => {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged message survives power loss too; group commit pays
                // for the fsync once per batch.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Deleted chats must not linger in free pages of the file.
                .pragma("secure_delete", "ON");
            // One writer connection: SQLite has one writer at a time anyway, and a single
            // connection never meets SQLITE_BUSY between our own writers.
            // It leaves checkpoints to a connection of its own, so no commit waits for one.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(opts.clone().pragma("wal_autocheckpoint", "0"))
                .await?;
            let checkpoint = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(opts.clone());
            let read = SqlitePoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts.read_only(true));
            Ok(Arc::new(SqliteStore::new(write, read, checkpoint)))
        }
        Backend::MySql => {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let opts = MySqlConnectOptions::from_str(&url)
                .map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?
                .charset("utf8mb4");
            let pool = MySqlPoolOptions::new()
                // Two at least: migrating holds a lock on one connection and runs on another.
                .max_connections(max.max(2))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // Each statement sees what committed before it, as on PostgreSQL:
                        // the idempotency check after taking the chat lock relies on it.
                        conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                            .await?;
                        Ok(())
                    })
                })
                .connect_lazy_with(opts);
            Ok(Arc::new(MySqlStore::new(pool)))
        }
        Backend::Postgres => {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts);
            Ok(Arc::new(PgStore::new(pool)))
        }
    }
}
