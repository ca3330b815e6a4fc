//! Every SQL statement, written once with `?` placeholders and adapted to a dialect.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    MySql,
    Postgres,
}

const BOOKING_COLS: &str =
    "id, customer_id, customer_name, worker_id, worker_name, status, starts_at, region";

/// A chat's lock row: what a writer needs (the next seq, the key its rows are sealed with, and
/// its chain's head).
const LOCK_COLS: &str = "id, status, last_seq, key_epoch, data_key, chain_len, chain_head";

const CHAT_COLS: &str = "c.id, c.booking_id, c.status, b.status AS booking_status, \
     c.customer_id, b.customer_name, c.worker_id, b.worker_name, c.last_seq, c.created_at, \
     c.closed_at, c.close_reason";

const MSG_COLS: &str = "m.id, m.chat_id, m.seq, m.sender_id, m.sender_role, m.sender_name, \
     m.kind, m.body, m.client_id, m.created_at, m.system_notice, a.id AS att_id, a.name AS att_name, \
     a.mime AS att_mime, a.size AS att_size, a.thumb_key AS att_thumb_key, \
     a.width AS att_width, a.height AS att_height, a.duration_ms AS att_duration_ms";

const JOB_COLS: &str =
    "id, kind, dedupe_key, chat_id, payload, run_at, attempts, lease_until, touched, created_at";

const HOLD_COLS: &str = "chat_id, case_ref, reason, created_at";

const SUB_COLS: &str = "id, user_key, endpoint, p256dh, auth, created_at";

const ATT_COLS: &str = "id, chat_id, uploader_id, name, mime, size, storage_key, thumb_key, \
     width, height, duration_ms, message_id, created_at, sealed";

/// The statements, ready for one dialect.
#[derive(Debug, Clone)]
pub struct Queries {
    pub ping: SqlStr,
    pub booking_by_id: SqlStr,
    pub booking_by_id_locked: SqlStr,
    pub insert_booking: SqlStr,
    pub update_booking: SqlStr,
    pub chat_by_id: SqlStr,
    pub chat_by_booking: SqlStr,
    pub chats_of_customer: SqlStr,
    pub chats_of_worker: SqlStr,
    pub lock_chat: SqlStr,
    pub lock_chats: ListStmt,
    pub lock_chat_by_booking: SqlStr,
    pub insert_chat: SqlStr,
    pub set_last_seqs: ListStmt,
    pub insert_chain_entries: ListStmt,
    pub chain_state: SqlStr,
    pub chain_entries: SqlStr,
    pub delete_chain_entries: SqlStr,
    pub close_chat: SqlStr,
    pub insert_read_state: SqlStr,
    pub raise_read_state: SqlStr,
    pub read_state_of: SqlStr,
    pub read_states: SqlStr,
    pub unread_for: SqlStr,
    pub enqueue_deletion: SqlStr,
    pub due_deletions: SqlStr,
    pub deletion_attempts_locked: SqlStr,
    pub postpone_deletion: SqlStr,
    pub oldest_due_deletion: SqlStr,
    pub messages_by_client_ids: ListStmt,
    pub message_by_seq: SqlStr,
    pub insert_messages: ListStmt,
    pub messages_latest: SqlStr,
    pub messages_before: SqlStr,
    pub messages_after: SqlStr,
    pub attachment_by_id: SqlStr,
    pub attachment_by_id_locked: SqlStr,
    pub insert_attachment: SqlStr,
    pub link_attachment: SqlStr,
    pub file_keys: SqlStr,
    pub unlinked_attachments: SqlStr,
    pub unsent_bytes_of_user: SqlStr,
    pub unsent_bytes_of_chat: SqlStr,
    pub delete_attachment: SqlStr,
    pub delete_messages: SqlStr,
    pub delete_read_states: SqlStr,
    pub delete_attachments: SqlStr,
    pub delete_chat: SqlStr,
    pub delete_deletion: SqlStr,
    pub insert_job: SqlStr,
    pub due_jobs: SqlStr,
    pub lease_job: SqlStr,
    pub delete_job_leased: SqlStr,
    pub touch_job: SqlStr,
    pub restart_job: SqlStr,
    pub reschedule_job: SqlStr,
    pub delete_chat_jobs: SqlStr,
    pub count_jobs: SqlStr,
    pub lock_chat_id_by_booking: SqlStr,
    pub chat_key: SqlStr,
    pub stale_chat_keys: SqlStr,
    pub rewrap_chat_key: SqlStr,
    pub chat_keys_under: SqlStr,
    pub live_key_epochs: SqlStr,
    pub sample_chat_key: SqlStr,
    pub destroy_chat_key: SqlStr,
    pub booking_chat_purged_at: SqlStr,
    pub mark_booking_purged: SqlStr,
    pub deletion_started_at: SqlStr,
    pub start_deletion: SqlStr,
    pub deletion_due_again: SqlStr,
    pub insert_hold: SqlStr,
    pub hold_of_case: SqlStr,
    pub holds_of_chat: SqlStr,
    pub count_holds: SqlStr,
    pub delete_hold_of_case: SqlStr,
    pub delete_holds: SqlStr,
    pub insert_subscription: SqlStr,
    pub delete_subscription_by_id: SqlStr,
    pub delete_subscription_of_user: SqlStr,
    pub subscription_ids_of_user: SqlStr,
    pub subscriptions_of_user: SqlStr,
    pub subscription_by_id: SqlStr,
}

impl Queries {
    pub fn new(dialect: Dialect) -> Self {
        // SQLite serializes writers (one writer connection), so row locks are not needed there.
        let lock = if dialect == Dialect::Sqlite {
            ""
        } else {
            " FOR UPDATE"
        };
        let int = if dialect == Dialect::MySql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        let q = move |sql: String| sql_str(adapt(dialect, &sql));
        // On MySQL an unprepared statement ends with `COM_STMT_CLOSE`, a packet the server does
        // not answer, and sqlx 0.9.0 leaves Nagle's algorithm on: the next statement then waits
        // for the server's delayed ACK, ~40 ms (launchbadge/sqlx#4335, fixed after 0.9.0).
        let prepared_only = dialect == Dialect::MySql;
        let chat_select =
            format!("SELECT {CHAT_COLS} FROM chats c JOIN bookings b ON b.id = c.booking_id");
        let msg_select = format!(
            "SELECT {MSG_COLS} FROM messages m LEFT JOIN attachments a ON a.id = m.attachment_id"
        );
        let my_chats = |seat: &str| {
            q(format!(
                "SELECT {CHAT_COLS}, COALESCE(r.last_read_seq, 0) AS my_last_read, \
                 (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id \
                    AND m.seq > COALESCE(r.last_read_seq, 0) AND m.sender_id <> ?) AS unread_count \
                 FROM chats c JOIN bookings b ON b.id = c.booking_id \
                 LEFT JOIN read_state r ON r.chat_id = c.id AND r.user_id = ? \
                 WHERE c.{seat} = ? ORDER BY c.created_at DESC, c.id DESC"
            ))
        };
        Queries {
            ping: sql_str("SELECT 1".into()),
            booking_by_id: q(format!("SELECT {BOOKING_COLS} FROM bookings WHERE id = ?")),
            booking_by_id_locked: q(format!(
                "SELECT {BOOKING_COLS} FROM bookings WHERE id = ?{lock}"
            )),
            // The customer never changes (the domain refuses it); setting it again keeps the
            // two statements' parameters alike.
            insert_booking: q(
                "INSERT INTO bookings (customer_id, customer_name, worker_id, \
                 worker_name, status, starts_at, region, updated_at, id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    .into(),
            ),
            update_booking: q("UPDATE bookings SET customer_id = ?, customer_name = ?, \
                 worker_id = ?, worker_name = ?, status = ?, starts_at = ?, region = ?, \
                 updated_at = ? WHERE id = ?"
                .into()),
            chat_by_id: q(format!("{chat_select} WHERE c.id = ?")),
            chat_by_booking: q(format!("{chat_select} WHERE c.booking_id = ?")),
            chats_of_customer: my_chats("customer_id"),
            chats_of_worker: my_chats("worker_id"),
            lock_chat: q(format!("SELECT {LOCK_COLS} FROM chats WHERE id = ?{lock}")),
            lock_chats: ListStmt::new(prepared_only, move |n| {
                q(format!(
                    "SELECT {LOCK_COLS} FROM chats WHERE id IN ({}) ORDER BY id{lock}",
                    list(n, "?", ", ")
                ))
            }),
            lock_chat_by_booking: q(format!(
                "SELECT {LOCK_COLS} FROM chats WHERE booking_id = ?{lock}"
            )),
            insert_chat: q(
                "INSERT INTO chats (id, booking_id, customer_id, worker_id, status, \
                 last_seq, created_at, key_epoch, data_key) \
                 VALUES (?, ?, ?, ?, 'active', 0, ?, ?, ?)"
                    .into(),
            ),
            set_last_seqs: ListStmt::new(prepared_only, move |n| {
                q(format!(
                    "UPDATE chats SET last_seq = CASE id {cases} ELSE last_seq END, \
                     chain_len = CASE id {cases} ELSE chain_len END, \
                     chain_head = CASE id {cases} ELSE chain_head END WHERE id IN ({})",
                    list(n, "?", ", "),
                    cases = list(n, "WHEN ? THEN ?", " "),
                ))
            }),
            insert_chain_entries: ListStmt::new(prepared_only, move |n| {
                q(format!(
                    "INSERT INTO chain_entries (chat_id, n, hash, canonical) VALUES {}",
                    list(n, "(?, ?, ?, ?)", ", ")
                ))
            }),
            chain_state: q(
                "SELECT chain_len, chain_head, key_epoch, data_key FROM chats WHERE id = ?".into(),
            ),
            chain_entries: q("SELECT hash, canonical FROM chain_entries \
                 WHERE chat_id = ? AND n <= ? ORDER BY n"
                .into()),
            delete_chain_entries: q("DELETE FROM chain_entries WHERE chat_id = ?".into()),
            close_chat: q(
                "UPDATE chats SET status = 'closed', closed_at = ?, close_reason = ? \
                 WHERE id = ?"
                    .into(),
            ),
            insert_read_state: q(
                "INSERT INTO read_state (chat_id, user_id, last_read_seq, updated_at) \
                 VALUES (?, ?, 0, ?)"
                    .into(),
            ),
            raise_read_state: q("UPDATE read_state SET last_read_seq = ?, updated_at = ? \
                 WHERE chat_id = ? AND user_id = ? AND last_read_seq < ?"
                .into()),
            read_state_of: q(
                "SELECT last_read_seq FROM read_state WHERE chat_id = ? AND user_id = ?".into(),
            ),
            read_states: q("SELECT user_id, last_read_seq, updated_at FROM read_state \
                 WHERE chat_id = ? ORDER BY user_id"
                .into()),
            unread_for: q("SELECT COUNT(*) FROM messages m WHERE m.chat_id = ? \
                 AND m.sender_id <> ? AND m.kind <> 'system' AND m.seq > COALESCE((SELECT \
                 r.last_read_seq FROM read_state r WHERE r.chat_id = ? AND r.user_id = ?), 0)"
                .into()),
            enqueue_deletion: q("INSERT INTO chat_deletions (chat_id, due_at) VALUES (?, ?)".into()),
            // A held chat waits (SPEC §9.7): its release makes it due again.
            due_deletions: q("SELECT chat_id FROM chat_deletions d WHERE due_at <= ? \
                 AND (retry_at IS NULL OR retry_at <= ?) \
                 AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.chat_id = d.chat_id) \
                 ORDER BY due_at, chat_id LIMIT ?"
                .into()),
            deletion_attempts_locked: q(format!(
                "SELECT attempts FROM chat_deletions WHERE chat_id = ?{lock}"
            )),
            postpone_deletion: q(
                "UPDATE chat_deletions SET attempts = ?, retry_at = ? WHERE chat_id = ?".into(),
            ),
            oldest_due_deletion: q(
                "SELECT MIN(due_at) FROM chat_deletions d WHERE due_at <= ? \
                 AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.chat_id = d.chat_id)"
                    .into(),
            ),
            // An OR of equalities rather than a row-value IN: SQLite takes no list on the
            // right of a row-value IN (and scans the table for `IN (VALUES …)`), while all three
            // answer the OR with one index probe per term.
            messages_by_client_ids: ListStmt::new(prepared_only, {
                let msg_select = msg_select.clone();
                move |n| {
                    q(format!(
                        "{msg_select} WHERE {}",
                        list(
                            n,
                            "(m.chat_id = ? AND m.sender_id = ? AND m.client_id = ?)",
                            " OR "
                        )
                    ))
                }
            }),
            message_by_seq: q(format!("{msg_select} WHERE m.chat_id = ? AND m.seq = ?")),
            insert_messages: ListStmt::new(prepared_only, move |n| {
                q(format!(
                    "INSERT INTO messages (id, chat_id, seq, sender_id, sender_role, \
                     sender_name, kind, body, attachment_id, client_id, created_at, \
                     system_notice) VALUES {}",
                    list(n, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ", ")
                ))
            }),
            messages_latest: q(format!(
                "{msg_select} WHERE m.chat_id = ? ORDER BY m.seq DESC LIMIT ?"
            )),
            messages_before: q(format!(
                "{msg_select} WHERE m.chat_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
            )),
            messages_after: q(format!(
                "{msg_select} WHERE m.chat_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?"
            )),
            attachment_by_id: q(format!("SELECT {ATT_COLS} FROM attachments WHERE id = ?")),
            attachment_by_id_locked: q(format!(
                "SELECT {ATT_COLS} FROM attachments WHERE id = ?{lock}"
            )),
            insert_attachment: q(format!(
                "INSERT INTO attachments ({ATT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )),
            link_attachment: q("UPDATE attachments SET message_id = ? WHERE id = ?".into()),
            file_keys: q("SELECT storage_key, thumb_key FROM attachments WHERE chat_id = ?".into()),
            unlinked_attachments: q(format!(
                "SELECT {ATT_COLS} FROM attachments WHERE message_id IS NULL AND created_at <= ? \
                 ORDER BY created_at LIMIT ?"
            )),
            // SUM is NUMERIC on PostgreSQL and DECIMAL on MySQL: cast back to an integer.
            unsent_bytes_of_user: q(format!(
                "SELECT CAST(COALESCE(SUM(size), 0) AS {int}) FROM attachments \
                 WHERE message_id IS NULL AND uploader_id = ?"
            )),
            unsent_bytes_of_chat: q(format!(
                "SELECT CAST(COALESCE(SUM(size), 0) AS {int}) FROM attachments \
                 WHERE message_id IS NULL AND chat_id = ?"
            )),
            delete_attachment: q(
                "DELETE FROM attachments WHERE id = ? AND message_id IS NULL".into(),
            ),
            delete_messages: q("DELETE FROM messages WHERE chat_id = ?".into()),
            delete_read_states: q("DELETE FROM read_state WHERE chat_id = ?".into()),
            delete_attachments: q("DELETE FROM attachments WHERE chat_id = ?".into()),
            delete_chat: q("DELETE FROM chats WHERE id = ?".into()),
            delete_deletion: q("DELETE FROM chat_deletions WHERE chat_id = ?".into()),
            // A job whose dedupe key is taken is not stored. MySQL has no `ON CONFLICT`;
            // `INSERT IGNORE` also ignores other errors, but every value here is the service's
            // own and bounded (ids, keys, a payload far below MEDIUMTEXT).
            insert_job: q(format!(
                "{} INTO jobs ({JOB_COLS}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?){}",
                if dialect == Dialect::MySql {
                    "INSERT IGNORE"
                } else {
                    "INSERT"
                },
                if dialect == Dialect::MySql {
                    ""
                } else {
                    " ON CONFLICT DO NOTHING"
                },
            )),
            // Two nodes claiming at once skip each other's locked rows instead of waiting.
            due_jobs: q(format!(
                "SELECT {JOB_COLS} FROM jobs WHERE run_at <= ? AND lease_until <= ? \
                 ORDER BY run_at, id LIMIT ?{}",
                if dialect == Dialect::Sqlite {
                    ""
                } else {
                    " FOR UPDATE SKIP LOCKED"
                }
            )),
            lease_job: q(
                "UPDATE jobs SET lease_until = ?, attempts = attempts + 1 WHERE id = ?".into(),
            ),
            delete_job_leased: q(
                "DELETE FROM jobs WHERE id = ? AND lease_until = ? AND touched = ?".into(),
            ),
            touch_job: q("UPDATE jobs SET touched = touched + 1 WHERE dedupe_key = ?".into()),
            restart_job: q(
                "UPDATE jobs SET run_at = ?, payload = ?, attempts = 0, touched = 0, \
                 lease_until = 0 WHERE id = ? AND lease_until = ?"
                    .into(),
            ),
            reschedule_job: q("UPDATE jobs SET run_at = ?, payload = ?, attempts = ?, \
                 lease_until = 0 WHERE id = ? AND lease_until = ?"
                .into()),
            delete_chat_jobs: q("DELETE FROM jobs WHERE chat_id = ?".into()),
            count_jobs: q("SELECT COUNT(*) FROM jobs WHERE kind = ?".into()),
            lock_chat_id_by_booking: q(format!("SELECT id FROM chats WHERE booking_id = ?{lock}")),
            chat_key: q("SELECT key_epoch, data_key FROM chats WHERE id = ?".into()),
            stale_chat_keys: q("SELECT id, key_epoch, data_key FROM chats \
                 WHERE data_key IS NOT NULL AND key_epoch <> ? ORDER BY id LIMIT ?"
                .into()),
            // Only if untouched since read: a purge that destroyed it meanwhile wins.
            rewrap_chat_key: q("UPDATE chats SET key_epoch = ?, data_key = ? \
                 WHERE id = ? AND key_epoch = ? AND data_key IS NOT NULL"
                .into()),
            live_key_epochs: q("SELECT DISTINCT key_epoch FROM chats \
                 WHERE data_key IS NOT NULL AND key_epoch IS NOT NULL"
                .into()),
            sample_chat_key: q("SELECT id, key_epoch, data_key FROM chats \
                 WHERE data_key IS NOT NULL AND key_epoch = ? LIMIT 1"
                .into()),
            chat_keys_under: q(
                "SELECT COUNT(*) FROM chats WHERE data_key IS NOT NULL AND key_epoch = ?".into(),
            ),
            // The epoch stays: a chat whose key is gone is not mistaken for a plaintext one.
            destroy_chat_key: q("UPDATE chats SET data_key = NULL WHERE id = ?".into()),
            booking_chat_purged_at: q("SELECT chat_purged_at FROM bookings WHERE id = ?".into()),
            mark_booking_purged: q("UPDATE bookings SET chat_purged_at = ? \
                 WHERE id = (SELECT booking_id FROM chats WHERE id = ?)"
                .into()),
            deletion_started_at: q("SELECT started_at FROM chat_deletions WHERE chat_id = ?".into()),
            start_deletion: q(
                "UPDATE chat_deletions SET started_at = COALESCE(started_at, ?) \
                 WHERE chat_id = ?"
                    .into(),
            ),
            deletion_due_again: q("UPDATE chat_deletions SET due_at = ?, attempts = 0, \
                 retry_at = NULL WHERE chat_id = ?"
                .into()),
            insert_hold: q(format!(
                "INSERT INTO holds ({HOLD_COLS}) VALUES (?, ?, ?, ?)"
            )),
            hold_of_case: q(format!(
                "SELECT {HOLD_COLS} FROM holds WHERE chat_id = ? AND case_ref = ?"
            )),
            holds_of_chat: q(format!(
                "SELECT {HOLD_COLS} FROM holds WHERE chat_id = ? ORDER BY created_at, case_ref"
            )),
            count_holds: q("SELECT COUNT(*) FROM holds WHERE chat_id = ?".into()),
            delete_hold_of_case: q("DELETE FROM holds WHERE chat_id = ? AND case_ref = ?".into()),
            delete_holds: q("DELETE FROM holds WHERE chat_id = ?".into()),
            insert_subscription: q(format!(
                "INSERT INTO push_subscriptions ({SUB_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
            )),
            delete_subscription_by_id: q("DELETE FROM push_subscriptions WHERE id = ?".into()),
            delete_subscription_of_user: q(
                "DELETE FROM push_subscriptions WHERE id = ? AND user_key = ?".into(),
            ),
            subscription_ids_of_user: q("SELECT id FROM push_subscriptions WHERE user_key = ? \
                 ORDER BY created_at DESC, id DESC"
                .into()),
            // Two concurrent subscribes of one user may each keep 10 rows: pushes go to the
            // newest 10 all the same.
            subscriptions_of_user: q(format!(
                "SELECT {SUB_COLS} FROM push_subscriptions WHERE user_key = ? \
                 ORDER BY created_at DESC, id DESC LIMIT {}",
                omw_domain::push::MAX_SUBSCRIPTIONS_PER_USER
            )),
            subscription_by_id: q(format!(
                "SELECT {SUB_COLS} FROM push_subscriptions WHERE id = ?"
            )),
        }
    }
}

/// The most bound parameters one statement may carry: SQLite's default
/// `SQLITE_MAX_VARIABLE_NUMBER` (MySQL and PostgreSQL allow 65,535).
pub const MAX_BIND_PARAMS: usize = 32_766;

/// Bound parameters per item of the widest list statement (a row of `insert_messages`).
const MAX_PARAMS_PER_ITEM: usize = 12;

/// The longest list one statement takes. Longer lists are split into chunks.
pub const MAX_LIST: usize = 512;

const _: () = assert!(MAX_LIST * MAX_PARAMS_PER_ITEM <= MAX_BIND_PARAMS);
const _: () = assert!(MAX_LIST.is_power_of_two());

/// A statement over a list of items (ids, keys or rows), written for every power-of-two
/// length up to [`MAX_LIST`]. A handful of fixed lengths keeps the number of distinct prepared
/// statements (and so the statement caches of the connections) small and bounded.
#[derive(Clone)]
pub struct ListStmt {
    /// `by_len[k]` takes `1 << k` items.
    by_len: Vec<SqlStr>,
    /// Only the prepared lengths may run: other lengths are split into them.
    prepared_only: bool,
    build: Arc<dyn Fn(usize) -> SqlStr + Send + Sync>,
}

impl std::fmt::Debug for ListStmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListStmt")
            .field("by_len", &self.by_len)
            .finish_non_exhaustive()
    }
}

impl ListStmt {
    fn new(prepared_only: bool, build: impl Fn(usize) -> SqlStr + Send + Sync + 'static) -> Self {
        let by_len = (0..=MAX_LIST.trailing_zeros())
            .map(|k| build(1 << k))
            .collect();
        ListStmt {
            by_len,
            prepared_only,
            build: Arc::new(build),
        }
    }

    /// The lengths of the statements a list of `n` items (1 ≤ n ≤ [`MAX_LIST`]) runs as.
    pub fn chunk_lengths(&self, n: usize) -> Vec<usize> {
        chunk_lengths(n, self.prepared_only)
    }

    /// The statement for exactly `n` items (1 ≤ n ≤ [`MAX_LIST`]), and whether it is one of
    /// the fixed lengths worth keeping prepared. Other lengths are written on demand and should
    /// run unprepared (`persistent(false)`), so they do not churn the statement caches: one
    /// statement parsed again costs less than another round trip to the database.
    pub fn exact(&self, n: usize) -> (SqlStr, bool) {
        let n = n.clamp(1, MAX_LIST);
        if n.is_power_of_two() {
            (self.by_len[n.trailing_zeros() as usize].clone(), true)
        } else {
            ((self.build)(n), false)
        }
    }

    /// The shortest statement that takes at least `n` items (1 ≤ n ≤ [`MAX_LIST`]), and its
    /// length. For lists that may repeat an item (`IN`, `OR`, `CASE`): pad with the last one.
    pub fn padded(&self, n: usize) -> (usize, &SqlStr) {
        let len = n.clamp(1, MAX_LIST).next_power_of_two();
        (len, &self.by_len[len.trailing_zeros() as usize])
    }
}

/// The lengths of the chunks a list of `n` items runs in: `n` itself, or with
/// `prepared_only` the powers of two that add up to it, longest first.
fn chunk_lengths(n: usize, prepared_only: bool) -> Vec<usize> {
    if !prepared_only {
        return vec![n];
    }
    (0..usize::BITS)
        .rev()
        .map(|bit| 1usize << bit)
        .filter(|len| n & len != 0)
        .collect()
}

/// `n` copies of `item` joined by `sep`.
fn list(n: usize, item: &str, sep: &str) -> String {
    vec![item; n].join(sep)
}

/// Statements are built from the constants above (and list lengths), never from input.
fn sql_str(sql: String) -> SqlStr {
    AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str()
}

/// PostgreSQL numbers its placeholders; the others take `?`. The statements above contain no
/// `?` inside string literals, so a plain rewrite is exact.
fn adapt(dialect: Dialect, sql: &str) -> String {
    if dialect != Dialect::Postgres {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_into_prepared_lengths_only_when_asked() {
        assert_eq!(chunk_lengths(13, false), [13]);
        assert_eq!(chunk_lengths(13, true), [8, 4, 1]);
        assert_eq!(chunk_lengths(512, true), [512]);
        assert_eq!(chunk_lengths(511, true).iter().sum::<usize>(), 511);
        assert!(chunk_lengths(511, true).iter().all(|n| n.is_power_of_two()));
    }

    #[test]
    fn postgres_placeholders_are_numbered() {
        assert_eq!(
            adapt(Dialect::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(adapt(Dialect::MySql, "a = ?"), "a = ?");
    }

    #[test]
    fn list_statements_have_power_of_two_lengths() {
        let q = Queries::new(Dialect::Postgres);
        assert_eq!(q.lock_chats.padded(1).0, 1);
        assert_eq!(q.lock_chats.padded(3).0, 4);
        assert_eq!(q.lock_chats.padded(512).0, 512);
        assert!(q.insert_messages.exact(64).1);
        let (sql, keep) = q.insert_messages.exact(3);
        assert!(!keep && sql.as_str().ends_with("$36)") && !sql.as_str().contains("$37"));
        let (sql, _) = q.insert_messages.exact(MAX_LIST);
        let last = format!("${})", MAX_LIST * MAX_PARAMS_PER_ITEM);
        assert!(sql.as_str().ends_with(&last));
        let (_, sql) = q.set_last_seqs.padded(2);
        assert_eq!(
            sql.as_str(),
            "UPDATE chats SET last_seq = CASE id WHEN $1 THEN $2 WHEN $3 THEN $4 \
             ELSE last_seq END, chain_len = CASE id WHEN $5 THEN $6 WHEN $7 THEN $8 \
             ELSE chain_len END, chain_head = CASE id WHEN $9 THEN $10 WHEN $11 THEN $12 \
             ELSE chain_head END WHERE id IN ($13, $14)"
        );
    }

    #[test]
    fn sqlite_takes_no_row_locks() {
        assert!(
            !Queries::new(Dialect::Sqlite)
                .lock_chat
                .as_str()
                .contains("FOR UPDATE")
        );
        assert!(
            Queries::new(Dialect::MySql)
                .lock_chat
                .as_str()
                .contains("FOR UPDATE")
        );
    }
}
