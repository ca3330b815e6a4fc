use sqlx::{Pool, Sqlite};

use super::queries::{Dialect, Queries};

/// SQLite: one writer connection (SQLite has one writer at a time) and a pool of readers.
pub struct SqliteStore {
    write: Pool<Sqlite>,
    read: Pool<Sqlite>,
    q: Queries,
}

impl SqliteStore {
    pub fn new(write: Pool<Sqlite>, read: Pool<Sqlite>) -> Self {
        SqliteStore {
            write,
            read,
            q: Queries::new(Dialect::Sqlite),
        }
    }

    fn writer(&self) -> &Pool<Sqlite> {
        &self.write
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
