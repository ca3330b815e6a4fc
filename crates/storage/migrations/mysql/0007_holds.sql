-- Dispute holds (SPEC §9.7): while a chat has one, it is not deleted. One row per case; a
-- purge that has started (`chat_deletions.started_at`) refuses new holds, and a hold refuses
-- the purge to start, both under the chat's row lock. `bookings.chat_purged_at` tells a
-- booking whose chat was deleted (a hold then is a conflict) from one that never had a chat.
CREATE TABLE holds (
    chat_id    VARCHAR(64) NOT NULL,
    case_ref   VARCHAR(191) NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, case_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE chat_deletions ADD COLUMN started_at BIGINT;
ALTER TABLE bookings ADD COLUMN chat_purged_at BIGINT;
