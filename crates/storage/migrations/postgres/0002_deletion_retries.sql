-- A deletion that failed is retried with backoff: how often it failed, and when to try again.
ALTER TABLE chat_deletions ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0, ADD COLUMN retry_at BIGINT;
