-- A system message's meaning beside its English body: JSON `{"code": …, "params": {…}}`,
-- NULL on the messages people send. Named system_notice: SYSTEM is reserved in MySQL 8.
ALTER TABLE messages ADD COLUMN system_notice TEXT;
