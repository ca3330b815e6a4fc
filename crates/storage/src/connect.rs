//! Choosing and opening a backend from a database URL.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    Executor,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use crate::{
    backend::Backend,
    error::StoreError,
    sql::{MySqlStore, PgStore, SqliteStore, retry_pause},
    store::Store,
};

/// Page cache of each SQLite reader, in KiB (SQLite's default is 2,000). Every reader caches
/// its own copy of pages that the kernel's page cache holds anyway (a miss costs a `pread` from
/// there); the default made up 3 KiB of every idle socket at 10,000 sockets with 16 readers.
/// This keeps the B-trees' upper levels.
const READER_CACHE_KIB: u32 = 256;

/// Page cache of SQLite's one writer, in KiB. A batch touches a leaf of each per-chat index
/// for every chat in it; with SQLite's default 2 MiB, at 500 busy chats, the writer re-read
/// evicted pages 35,000 times a second. Only a busy writer fills it.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

/// SQLite readers beyond two per core add no throughput: a read runs on the CPU (the file is in
/// the kernel's page cache) and each connection is a thread of its own, with its own page cache,
/// schema and allocator arena (~0.5–1 MiB each).
fn sqlite_readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .max(2)
}

/// How long a request waits for a database connection before it is refused as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long SQLite waits for another connection's lock (the busy timeout), and how long opening
/// the writer keeps retrying a lock that the busy timeout does not cover.
const SQLITE_BUSY_WAIT: Duration = Duration::from_secs(5);

/// The writer's connection is the first to open the file, and it switches a new file to WAL.
/// That switch takes an exclusive lock which SQLite refuses at once with SQLITE_BUSY, without
/// its busy wait, while another process opens the same new file (nodes starting together):
/// retry it until the busy wait has passed.
async fn connect_sqlite_writer(opts: SqliteConnectOptions) -> Result<SqlitePool, StoreError> {
    let deadline = tokio::time::Instant::now() + SQLITE_BUSY_WAIT;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let res = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(opts.clone())
            .await
            .map_err(StoreError::from);
        match res {
            Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                tracing::debug!(attempt, error = %e, "sqlite writer: file locked while opening, retrying");
                retry_pause(attempt).await;
            }
            other => return other,
        }
    }
}

/// Open the database named by `url` (connections are made lazily on first use, then checked
/// by `migrate`). `max_connections` bounds the pool of MySQL/PostgreSQL and SQLite's readers
/// (of which there are at most two per core).
pub async fn open(url: &str, max_connections: u32) -> Result<Arc<dyn Store>, StoreError> {
    open_sealed(url, max_connections, crate::Sealer::off()).await
}

/// [`open`], sealing chats with `sealer` (SPEC §9.6).
pub async fn open_sealed(
    url: &str,
    max_connections: u32,
    sealer: crate::Sealer,
) -> Result<Arc<dyn Store>, StoreError> {
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
                .busy_timeout(SQLITE_BUSY_WAIT)
                .foreign_keys(true)
                // Deleted chats must not linger in free pages of the file.
                .pragma("secure_delete", "ON")
                // A multi-row INSERT keeps a statement journal (to undo just that statement);
                // in a file, each batch created, wrote and deleted one: a third of all bytes
                // written at 10,000 msg/s.
                .pragma("temp_store", "MEMORY");
            // One writer connection: SQLite has one writer at a time anyway, and a single
            // connection never meets SQLITE_BUSY between our own writers.
            // It leaves checkpoints to a connection of its own, so no commit waits for one.
            let write = connect_sqlite_writer(
                opts.clone()
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}")),
            )
            .await?;
            let checkpoint = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(opts.clone());
            let read = SqlitePoolOptions::new()
                .max_connections(max.min(sqlite_readers()))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(
                    opts.read_only(true)
                        .pragma("cache_size", format!("-{READER_CACHE_KIB}")),
                );
            Ok(Arc::new(SqliteStore::new(write, read, checkpoint, sealer)))
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
            Ok(Arc::new(MySqlStore::new(pool, sealer)))
        }
        Backend::Postgres => {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts);
            Ok(Arc::new(PgStore::new(pool, sealer)))
        }
    }
}
