-- The outbox: work to do later, durably (notification ladder steps, webhook deliveries). A job
-- is claimed by one node at a time with a lease; a node that dies loses the lease and another
-- takes the job over. `dedupe_key` allows one live job per key (one ladder per chat and
-- recipient); `chat_id` names the chat whose closing removes the job.
CREATE TABLE jobs (
    id          TEXT NOT NULL PRIMARY KEY,
    kind        TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE,
    chat_id     TEXT,
    payload     TEXT NOT NULL,
    run_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    touched     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at);
CREATE INDEX jobs_chat ON jobs (chat_id);
