-- Files and thumbnails stored under their chat's data key (SPEC §9.6) are marked: those stored
-- before (or in a chat without a key) stay as they are and are read as such.
ALTER TABLE attachments ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT FALSE;
