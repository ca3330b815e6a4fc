-- Times are milliseconds since the Unix epoch (BIGINT on every backend).
CREATE TABLE bookings (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    worker_id     TEXT,
    worker_name   TEXT,
    status        TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE chats (
    id           TEXT PRIMARY KEY,
    booking_id   TEXT NOT NULL UNIQUE REFERENCES bookings(id),
    customer_id  TEXT NOT NULL,
    worker_id    TEXT NOT NULL,
    status       TEXT NOT NULL,
    last_seq     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT,
    close_reason TEXT
);
CREATE INDEX chats_customer ON chats (customer_id);
CREATE INDEX chats_worker ON chats (worker_id);

CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    chat_id     TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    thumb_key   TEXT,
    width       BIGINT,
    height      BIGINT,
    duration_ms BIGINT,
    message_id  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX attachments_chat ON attachments (chat_id);
CREATE INDEX attachments_unlinked ON attachments (message_id, created_at);

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    chat_id       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    sender_id     TEXT NOT NULL,
    sender_role   TEXT NOT NULL,
    sender_name   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT,
    attachment_id TEXT,
    client_id     TEXT,
    created_at    BIGINT NOT NULL,
    UNIQUE (chat_id, seq),
    UNIQUE (chat_id, sender_id, client_id)
);

CREATE TABLE read_state (
    chat_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- The durable deletion queue: a closed chat waits here until its data is gone.
CREATE TABLE chat_deletions (
    chat_id TEXT PRIMARY KEY,
    due_at  BIGINT NOT NULL
);
CREATE INDEX chat_deletions_due ON chat_deletions (due_at);
