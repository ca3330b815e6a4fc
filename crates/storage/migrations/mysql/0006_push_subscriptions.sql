-- Web Push subscriptions (SPEC §9.2): one row per browser or device of a user. `id` is the
-- SHA-256 of the endpoint (hex): an endpoint is one row, owned by whoever registered it last.
CREATE TABLE push_subscriptions (
    id         VARCHAR(64) NOT NULL PRIMARY KEY,
    user_key   VARCHAR(255) NOT NULL,
    endpoint   TEXT NOT NULL,
    p256dh     VARCHAR(128) NOT NULL,
    auth       VARCHAR(128) NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_key, created_at);
