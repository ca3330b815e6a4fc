-- Times are milliseconds since the Unix epoch (BIGINT on every backend).
-- utf8mb4_bin: ids compare exactly (case-sensitive), like on SQLite and PostgreSQL.
CREATE TABLE bookings (
    id            VARCHAR(191) NOT NULL PRIMARY KEY,
    customer_id   VARCHAR(191) NOT NULL,
    customer_name VARCHAR(200) NOT NULL,
    worker_id     VARCHAR(191),
    worker_name   VARCHAR(200),
    status        VARCHAR(16) NOT NULL,
    updated_at    BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE chats (
    id           VARCHAR(64) NOT NULL PRIMARY KEY,
    booking_id   VARCHAR(191) NOT NULL UNIQUE,
    customer_id  VARCHAR(191) NOT NULL,
    worker_id    VARCHAR(191) NOT NULL,
    status       VARCHAR(16) NOT NULL,
    last_seq     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT,
    close_reason VARCHAR(16),
    INDEX chats_customer (customer_id),
    INDEX chats_worker (worker_id),
    CONSTRAINT chats_booking FOREIGN KEY (booking_id) REFERENCES bookings(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE attachments (
    id          VARCHAR(64) NOT NULL PRIMARY KEY,
    chat_id     VARCHAR(64) NOT NULL,
    uploader_id VARCHAR(191) NOT NULL,
    name        VARCHAR(255) NOT NULL,
    mime        VARCHAR(100) NOT NULL,
    size        BIGINT NOT NULL,
    storage_key VARCHAR(255) NOT NULL,
    thumb_key   VARCHAR(255),
    width       BIGINT,
    height      BIGINT,
    duration_ms BIGINT,
    message_id  VARCHAR(64),
    created_at  BIGINT NOT NULL,
    INDEX attachments_chat (chat_id),
    INDEX attachments_unlinked (message_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE messages (
    id            VARCHAR(64) NOT NULL PRIMARY KEY,
    chat_id       VARCHAR(64) NOT NULL,
    seq           BIGINT NOT NULL,
    sender_id     VARCHAR(191) NOT NULL,
    sender_role   VARCHAR(16) NOT NULL,
    sender_name   VARCHAR(200) NOT NULL,
    kind          VARCHAR(16) NOT NULL,
    body          TEXT,
    attachment_id VARCHAR(64),
    client_id     VARCHAR(128),
    created_at    BIGINT NOT NULL,
    UNIQUE KEY messages_seq (chat_id, seq),
    UNIQUE KEY messages_client (chat_id, sender_id, client_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE read_state (
    chat_id       VARCHAR(64) NOT NULL,
    user_id       VARCHAR(191) NOT NULL,
    last_read_seq BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The durable deletion queue: a closed chat waits here until its data is gone.
CREATE TABLE chat_deletions (
    chat_id VARCHAR(64) NOT NULL PRIMARY KEY,
    due_at  BIGINT NOT NULL,
    INDEX chat_deletions_due (due_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
