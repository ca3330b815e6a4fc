-- Encryption at rest (SPEC §9.6): each chat's data key, wrapped by the key-encryption key of
-- epoch `key_epoch` (base64). Both NULL: a chat stored in plaintext (created with encryption
-- off); an epoch without a key: the key was destroyed as the chat's deletion began.
ALTER TABLE chats ADD COLUMN key_epoch BIGINT;
ALTER TABLE chats ADD COLUMN data_key TEXT;
-- A sealed name is base64 of nonce, name and tag: longer than the 255 bytes a name could take.
ALTER TABLE attachments MODIFY name TEXT NOT NULL;
