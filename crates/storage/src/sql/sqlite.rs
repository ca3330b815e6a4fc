use sqlx::{Pool, Sqlite};

use super::{
    checkpoint::{self, Checkpointer},
    queries::{Dialect, Queries},
};

/// SQLite: one writer connection (SQLite has one writer at a time) and a pool of readers.
/// The writer does not checkpoint the WAL; a third connection does (see `checkpoint`).
pub struct SqliteStore {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    q: Queries,
    sealer: crate::Sealer,
    _checkpointer: Checkpointer,
}

impl SqliteStore {
    /// `write` must have `wal_autocheckpoint=0`; `checkpoint` is a pool of one connection that
    /// may write, used to copy the WAL into the database file.
    pub fn new(
        write: Pool<Sqlite>,
        read: Pool<Sqlite>,
        checkpoint: Pool<Sqlite>,
        sealer: crate::Sealer,
    ) -> Self {
        let checkpointer = checkpoint::spawn(
            checkpoint,
            write.clone(),
            checkpoint::EVERY,
            checkpoint::RESTART_FRAMES,
        );
        SqliteStore {
            write,
            read,
            q: Queries::new(Dialect::Sqlite),
            sealer,
            _checkpointer: checkpointer,
        }
    }

    fn writer(&self) -> &Pool<Sqlite> {
        &self.write
    }

    /// Take the write lock at `BEGIN`: a deferred transaction that has read and must then
    /// upgrade is refused at once with SQLITE_BUSY, without the busy wait, when another
    /// connection holds the write lock (a migration on another process, say).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    fn reader(&self) -> &Pool<Sqlite> {
        &self.read
    }

    /// Old page images of a deleted chat would survive in the WAL until the next checkpoint:
    /// checkpoint now and truncate the WAL. Best effort — a busy reader only delays it.
    async fn after_purge(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await
        {
            tracing::warn!(error = %e, "wal checkpoint after purge failed");
        }
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        // SQLite has no migration lock: a second process migrating the same file at the same
        // moment fails its (rolled back) transaction. The next attempt sees the work done.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match sqlx::migrate!("./migrations/sqlite").run(&self.write).await {
                Ok(()) => return Ok(()),
                Err(_) if attempt < 5 => {
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl_sql_store!(SqliteStore, Sqlite, Backend::Sqlite);
impl_sql_outbox!(SqliteStore, Sqlite);
impl_sql_subscriptions!(SqliteStore, Sqlite);
impl_sql_holds!(SqliteStore, Sqlite);
impl_sql_chains!(SqliteStore, Sqlite);
