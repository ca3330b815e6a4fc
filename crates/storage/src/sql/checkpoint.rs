//! SQLite's WAL is checkpointed by a connection of its own, beside the writer.
//!
//! With SQLite's default (autocheckpoint every 1,000 pages), the commit that crosses the mark
//! copies the WAL into the database file and fsyncs it on the writer's connection. Measured at
//! 10,000 msg/s: one batch in six then took 50–100 ms instead of 2–5 ms, and every message queued
//! behind it waited. Here the writer never checkpoints (`wal_autocheckpoint=0`); this task copies
//! frames concurrently (`PASSIVE` does not block the writer), and only once the WAL has grown
//! past a bound does it take the writer's own connection, between two batches, to finish the
//! copy and restart the WAL (`RESTART`: the few frames written since the last pass), so that
//! the WAL file starts over instead of growing for ever under steady writes. Restarting on the
//! writer's connection, not beside it, means the writer never meets the checkpointer's locks:
//! a writer that does is refused with SQLITE_BUSY without waiting.

use std::time::Duration;

use sqlx::{Pool, Sqlite};
use tokio::time::MissedTickBehavior;

/// How often the WAL is copied into the database file.
pub(crate) const EVERY: Duration = Duration::from_millis(200);
/// WAL frames (pages) after which the writer is made to wait so the WAL can start over:
/// 8,192 frames of 4 KiB bound the WAL file near 32 MiB.
pub(crate) const RESTART_FRAMES: i64 = 8192;

/// Stops the checkpoint task when the store is dropped.
pub(crate) struct Checkpointer(tokio::task::AbortHandle);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copy the WAL of `copy`'s database every `every` on `copy`'s connection (not the writer's);
/// once the WAL holds more than `restart_frames` frames, restart it on `writer`.
pub(crate) fn spawn(
    copy: Pool<Sqlite>,
    writer: Pool<Sqlite>,
    every: Duration,
    restart_frames: i64,
) -> Checkpointer {
    let task = tokio::spawn(async move {
        // Not at once: the connection opens on the first pass, and nodes starting together on
        // one file are still setting it up (WAL mode, migrations).
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match checkpoint(&copy, Mode::Passive).await {
                Ok(frames) if frames > restart_frames => {
                    if let Err(e) = checkpoint(&writer, Mode::Restart).await {
                        tracing::warn!(error = %e, "wal checkpoint (restart) failed");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "wal checkpoint failed"),
            }
        }
    });
    Checkpointer(task.abort_handle())
}

enum Mode {
    Passive,
    Restart,
}

/// Run one checkpoint; returns the number of frames in the WAL when it ran.
async fn checkpoint(pool: &Pool<Sqlite>, mode: Mode) -> Result<i64, sqlx::Error> {
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
    };
    // (busy, frames in the WAL, frames copied); -1 when the database is not in WAL mode.
    let (_busy, frames, _copied): (i64, i64, i64) = sqlx::query_as(sql).fetch_one(pool).await?;
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    /// Write `rows` rows of 4 KiB with autocheckpoint off; returns the WAL file's largest size.
    async fn write_rows(dir: &std::path::Path, checkpointer: bool, rows: usize) -> u64 {
        let path = dir.join("t.db");
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .unwrap();
        let other = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v BLOB)")
            .execute(&writer)
            .await
            .unwrap();
        let _c = checkpointer.then(|| spawn(other, writer.clone(), Duration::from_millis(20), 64));
        let wal = dir.join("t.db-wal");
        let mut largest = 0;
        for _ in 0..rows {
            sqlx::query("INSERT INTO t VALUES (zeroblob(4000))")
                .execute(&writer)
                .await
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&writer)
            .await
            .unwrap();
        assert_eq!(stored, rows as i64);
        largest
    }

    #[tokio::test]
    async fn the_wal_starts_over_under_steady_writes() {
        const ROWS: usize = 3000;
        let dir = tempfile::tempdir().unwrap();
        let unbounded = write_rows(dir.path(), false, ROWS).await;
        // Every row adds at least its own page to the WAL when nothing checkpoints.
        assert!(
            unbounded > 10 << 20,
            "WAL without checkpoints: {unbounded} bytes"
        );

        let dir = tempfile::tempdir().unwrap();
        let bounded = write_rows(dir.path(), true, ROWS).await;
        // 64 frames plus what is written between two passes (20 ms).
        assert!(bounded < 6 << 20, "WAL grew to {bounded} bytes");
    }
}
