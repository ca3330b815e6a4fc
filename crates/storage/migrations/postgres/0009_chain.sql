-- The tamper-evident chain (SPEC §9.7): one entry per event of a chat, hash_n = SHA-256(hash_{n-1}
-- ‖ canonical_n). `canonical` is the entry's JSON, sealed with the chat's data key when it has
-- one; `hash` is hex. The chat keeps its chain's length and last hash, updated with the entries
-- under its row lock; the transcript signs that head.
CREATE TABLE chain_entries (
    chat_id   VARCHAR(64) NOT NULL,
    n         BIGINT NOT NULL,
    hash      VARCHAR(64) NOT NULL,
    canonical TEXT NOT NULL,
    PRIMARY KEY (chat_id, n)
);
ALTER TABLE chats ADD COLUMN chain_len BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN chain_head VARCHAR(64);
