use omw_domain::DomainError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A domain rule refused the write (checked under the row lock).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database cannot be reached or has no free connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("bad database configuration: {0}")]
    Config(String),
    /// A stored value does not parse (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A chat's data key cannot be made or unwrapped (no key file, a key that does not open).
    #[error("encryption key: {0}")]
    Key(String),
    /// A chat's data key, or the epoch that wrapped it, is destroyed: nothing of the chat can
    /// be read any more (its deletion has begun, or it is an old backup).
    #[error("encryption key: {0}")]
    KeyDestroyed(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Database(other),
        }
    }
}

impl StoreError {
    /// Errors worth retrying the whole transaction for: lock conflicts between writers and a
    /// unique key raced by another node.
    pub(crate) fn is_retryable(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        if db.is_unique_violation() {
            return true;
        }
        // 40001 serialization failure / 40P01 deadlock (PostgreSQL, MySQL SQLSTATE),
        // MySQL 1213 deadlock / 1205 lock wait timeout, SQLite BUSY (5) / LOCKED (6).
        matches!(
            db.code().as_deref(),
            Some("40001" | "40P01" | "1213" | "1205" | "5" | "6" | "517")
        )
    }
}
