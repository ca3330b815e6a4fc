-- The outbox: work to do later, durably (notification ladder steps, webhook deliveries). A job
-- is claimed by one node at a time with a lease; a node that dies loses the lease and another
-- takes the job over. `dedupe_key` allows one live job per key (one ladder per chat and
-- recipient); `chat_id` names the chat whose closing removes the job.
CREATE TABLE jobs (
    id          VARCHAR(64) NOT NULL PRIMARY KEY,
    kind        VARCHAR(32) NOT NULL,
    dedupe_key  VARCHAR(255) UNIQUE,
    chat_id     VARCHAR(64),
    payload     TEXT NOT NULL,
    run_at      BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    touched     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at);
CREATE INDEX jobs_chat ON jobs (chat_id);
