-- A deletion that failed is retried with backoff: how often it failed, and when to try again.
ALTER TABLE chat_deletions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chat_deletions ADD COLUMN retry_at INTEGER;
