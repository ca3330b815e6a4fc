//! The storage conformance suite: the same test code against SQLite, MariaDB and PostgreSQL.

use std::{collections::HashSet, sync::Arc};

use omw_domain::{
    BookingStatus, BookingUpdate, ChatStatus, DomainError, Message, MessageKind, NewMessage, Party,
    Role, Sender, SenderRole, SystemCode, SystemNotice, time::now_millis,
};
use omw_storage::{Admission, NewAttachment, NewJob, Page, Settle, Store, StoreError};
use omw_testkit::{Kind, TestDb};

async fn store(db: &TestDb) -> Arc<dyn Store> {
    let s = omw_storage::open(&db.url, 4).await.expect("open store");
    s.migrate().await.expect("migrate");
    s
}

fn update(status: BookingStatus) -> BookingUpdate {
    let worker = (status != BookingStatus::Requested).then(|| Party {
        id: "w1".into(),
        name: "Bob".into(),
    });
    BookingUpdate {
        customer: Party {
            id: "c1".into(),
            name: "Alice".into(),
        },
        worker,
        status,
        starts_at: None,
        region: None,
    }
}

const FAR: i64 = i64::MAX / 2;

async fn accepted_chat(s: &dyn Store, booking: &str) -> String {
    let a = s
        .apply_booking(booking, update(BookingStatus::Accepted), now_millis(), FAR)
        .await
        .unwrap();
    a.chat.expect("chat opened").id
}

fn text(chat_id: &str, sender: &str, client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: uuid_like(),
        chat_id: chat_id.into(),
        sender: Sender {
            id: sender.into(),
            role: SenderRole::Customer,
            name: sender.into(),
        },
        kind: MessageKind::Text,
        body: Some(body.into()),
        attachment_id: None,
        client_id: Some(client_id.into()),
        created_at: now_millis(),
        system: None,
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("m-{}-{}", now_millis(), N.fetch_add(1, Ordering::Relaxed))
}

async fn send(s: &dyn Store, m: NewMessage) -> Result<omw_storage::Inserted, StoreError> {
    s.insert_messages(vec![m]).await.unwrap().pop().unwrap()
}

/// Bring a fresh booking to `status` along the legal path.
async fn booking_at(s: &dyn Store, id: &str, status: BookingStatus) {
    use BookingStatus::*;
    let path: &[BookingStatus] = match status {
        Requested => &[Requested],
        Accepted => &[Requested, Accepted],
        EnRoute => &[Requested, Accepted, EnRoute],
        InProgress => &[Requested, Accepted, EnRoute, InProgress],
        Completed => &[Requested, Accepted, EnRoute, InProgress, Completed],
        Cancelled => &[Requested, Cancelled],
    };
    for st in path {
        s.apply_booking(id, update(*st), now_millis(), FAR)
            .await
            .unwrap();
    }
}

async fn upsert_is_idempotent(db: Arc<TestDb>) {
    let s = store(&db).await;
    let a = s
        .apply_booking("b1", update(BookingStatus::Requested), 1, FAR)
        .await
        .unwrap();
    assert!(a.changed && a.chat.is_none());
    let again = s
        .apply_booking("b1", update(BookingStatus::Requested), 2, FAR)
        .await
        .unwrap();
    assert!(!again.changed);
    let b = s.get_booking("b1").await.unwrap().unwrap();
    assert_eq!(b.status, BookingStatus::Requested);
    assert_eq!(b.customer.name, "Alice");
    assert!(s.get_booking("nope").await.unwrap().is_none());
}

async fn every_transition(db: Arc<TestDb>) {
    let s = store(&db).await;
    for (i, from) in BookingStatus::ALL.into_iter().enumerate() {
        for (j, to) in BookingStatus::ALL.into_iter().enumerate() {
            let id = format!("t{i}{j}");
            booking_at(&*s, &id, from).await;
            let res = s.apply_booking(&id, update(to), now_millis(), FAR).await;
            let legal = from == to
                || (!from.is_final()
                    && match to {
                        BookingStatus::Cancelled => true,
                        BookingStatus::Completed => from.chat_active(),
                        _ => (j as i32) > (i as i32),
                    });
            match res {
                Ok(a) => {
                    assert!(legal, "{from:?} -> {to:?} should be refused");
                    let chat = s.get_chat_by_booking(&id).await.unwrap();
                    if to.chat_active() {
                        assert_eq!(chat.as_ref().unwrap().status, ChatStatus::Active);
                    }
                    if from.chat_active() && to.is_final() {
                        assert!(a.closed.is_some());
                        assert_eq!(chat.unwrap().status, ChatStatus::Closed);
                    }
                }
                Err(StoreError::Domain(DomainError::Conflict(_))) => {
                    assert!(!legal, "{from:?} -> {to:?} should be allowed")
                }
                Err(e) => panic!("{from:?} -> {to:?}: unexpected {e}"),
            }
            let stored = s.get_booking(&id).await.unwrap().unwrap().status;
            assert_eq!(stored, if legal { to } else { from }, "{from:?} -> {to:?}");
        }
    }
}

async fn chat_lifecycle(db: Arc<TestDb>) {
    let s = store(&db).await;
    s.apply_booking("b1", update(BookingStatus::Requested), 1, FAR)
        .await
        .unwrap();
    assert!(s.get_chat_by_booking("b1").await.unwrap().is_none());
    let a = s
        .apply_booking("b1", update(BookingStatus::Accepted), 2, FAR)
        .await
        .unwrap();
    assert!(a.opened);
    let chat = a.chat.unwrap();
    assert_eq!(chat.status, ChatStatus::Active);
    assert_eq!(chat.booking_status, BookingStatus::Accepted);
    assert_eq!(chat.customer.id, "c1");
    assert_eq!(chat.worker.name, "Bob");
    assert_eq!(a.messages.len(), 1);
    assert_eq!(a.messages[0].seq, 1);
    assert_eq!(a.messages[0].sender.role, SenderRole::System);

    let e = s
        .apply_booking("b1", update(BookingStatus::EnRoute), 3, FAR)
        .await
        .unwrap();
    assert_eq!(e.messages[0].body.as_deref(), Some("Bob is on the way"));
    assert_eq!(e.messages[0].seq, 2);
    let c = s
        .apply_booking("b1", update(BookingStatus::Completed), 4, 100)
        .await
        .unwrap();
    assert_eq!(c.closed, Some(omw_domain::CloseReason::Completed));
    let closed = c.chat.unwrap();
    assert_eq!(closed.status, ChatStatus::Closed);
    assert_eq!(closed.closed_at, Some(4));
    let refused = send(&*s, text(&closed.id, "c1", "x", "hi")).await;
    assert!(matches!(
        refused,
        Err(StoreError::Domain(DomainError::ChatClosed))
    ));
    assert_eq!(s.due_deletions(99, 10).await.unwrap(), Vec::<String>::new());
    assert_eq!(
        s.due_deletions(100, 10).await.unwrap(),
        vec![closed.id.clone()]
    );
}

/// The code and worker name of a system message, or `None` for one without a notice.
fn notice_of(m: &Message) -> Option<(SystemCode, Option<&str>)> {
    m.system.as_ref().map(|n| {
        (
            n.code,
            n.params.get(SystemNotice::WORKER_NAME).map(String::as_str),
        )
    })
}

async fn system_notices_are_stored(db: Arc<TestDb>) {
    let s = store(&db).await;
    // First sight in progress: the chat opens and says so twice.
    let a = s
        .apply_booking("b1", update(BookingStatus::InProgress), 1, FAR)
        .await
        .unwrap();
    let chat_id = a.chat.expect("chat opened").id;
    let opened = [
        Some((SystemCode::ChatOpened, Some("Bob"))),
        Some((SystemCode::ServiceStarted, None)),
    ];
    assert_eq!(a.messages.iter().map(notice_of).collect::<Vec<_>>(), opened);
    send(&*s, text(&chat_id, "c1", "k1", "hi")).await.unwrap();
    let c = s
        .apply_booking("b1", update(BookingStatus::Completed), 2, FAR)
        .await
        .unwrap();
    assert_eq!(
        c.messages.iter().map(notice_of).collect::<Vec<_>>(),
        [Some((SystemCode::ServiceCompleted, None))]
    );

    let expected = [
        opened[0],
        opened[1],
        None,
        Some((SystemCode::ServiceCompleted, None)),
    ];
    for page in [Page::Latest, Page::After(0), Page::Before(5)] {
        let got = s.load_messages(&chat_id, page, 10).await.unwrap().messages;
        assert_eq!(
            got.iter().map(notice_of).collect::<Vec<_>>(),
            expected,
            "{page:?}"
        );
        assert_eq!(
            got[0].body.as_deref(),
            Some("Bob accepted the booking. You can chat here while the service is active.")
        );
        assert!(got[1].system.as_ref().is_some_and(|n| n.params.is_empty()));
    }
    let list = s.list_chats("c1", Role::Customer).await.unwrap();
    let last = list[0].last_message.as_ref().expect("last message");
    assert_eq!(notice_of(last), Some((SystemCode::ServiceCompleted, None)));

    // A worker without a name is not named; the English says "Your provider".
    let mut nameless = update(BookingStatus::EnRoute);
    nameless.customer.id = "c2".into();
    nameless.worker = Some(Party {
        id: "w2".into(),
        name: "  ".into(),
    });
    let a = s.apply_booking("b2", nameless, 3, FAR).await.unwrap();
    let chat2 = a.chat.expect("chat opened").id;
    let got = s
        .load_messages(&chat2, Page::Latest, 10)
        .await
        .unwrap()
        .messages;
    assert_eq!(
        got.iter().map(notice_of).collect::<Vec<_>>(),
        [
            Some((SystemCode::ChatOpened, None)),
            Some((SystemCode::WorkerEnRoute, None))
        ]
    );
    assert_eq!(got[1].body.as_deref(), Some("Your provider is on the way"));

    // A value this build cannot read leaves the message without a notice, and the page reads.
    let garble = [
        "UPDATE messages SET system_notice = '{\"code\":\"teleported\",\"params\":{}}' WHERE seq = 1",
        "UPDATE messages SET system_notice = 'not json' WHERE seq = 2",
    ];
    for sql in garble {
        raw_execute(&db, sql).await;
    }
    let got = s
        .load_messages(&chat_id, Page::Latest, 10)
        .await
        .unwrap()
        .messages;
    assert_eq!(got[0].system, None);
    assert_eq!(got[1].system, None);
    assert_eq!(got[1].body.as_deref(), Some("Service started"));
    assert_eq!(
        notice_of(&got[3]),
        Some((SystemCode::ServiceCompleted, None))
    );
}

/// Run a statement on the test database past the store, as a hand edit would.
async fn raw_execute(db: &TestDb, sql: &'static str) {
    use sqlx::{Connection, Executor};
    match db.kind {
        Kind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
        Kind::MySql => {
            let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
        Kind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
    }
}

async fn seq_is_gap_free_under_concurrency(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat = accepted_chat(&*s, "b1").await;
    let mut tasks = Vec::new();
    for task in 0..2 {
        let s = s.clone();
        let chat = chat.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                // Mix single inserts and small batches.
                let batch: Vec<_> = (0..(i % 3 + 1))
                    .map(|k| text(&chat, &format!("u{task}"), &format!("{task}-{i}-{k}"), "x"))
                    .collect();
                for r in s.insert_messages(batch).await.unwrap() {
                    r.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let expected = 1 + 2 * (0..40).map(|i| i % 3 + 1).sum::<i64>();
    let mut seqs = Vec::new();
    let mut page = s.load_messages(&chat, Page::After(0), 100).await.unwrap();
    loop {
        seqs.extend(page.messages.iter().map(|m| m.seq));
        if !page.has_more {
            break;
        }
        page = s
            .load_messages(&chat, Page::After(*seqs.last().unwrap()), 100)
            .await
            .unwrap();
    }
    assert_eq!(seqs, (1..=expected).collect::<Vec<_>>());
    assert_eq!(s.get_chat(&chat).await.unwrap().unwrap().last_seq, expected);
}

async fn insert_is_idempotent_by_client_id(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat = accepted_chat(&*s, "b1").await;
    let first = send(&*s, text(&chat, "c1", "k1", "hello")).await.unwrap();
    assert!(!first.duplicate);
    let retry = send(&*s, text(&chat, "c1", "k1", "hello again"))
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.message.id, first.message.id);
    assert_eq!(retry.message.seq, first.message.seq);
    assert_eq!(retry.message.body.as_deref(), Some("hello"));
    // The same key from another sender is another message.
    let other = send(&*s, text(&chat, "w1", "k1", "hi")).await.unwrap();
    assert!(!other.duplicate);
    // Twice in one batch: stored once.
    let out = s
        .insert_messages(vec![
            text(&chat, "c1", "k2", "a"),
            text(&chat, "c1", "k2", "a"),
        ])
        .await
        .unwrap();
    let (a, b) = (out[0].as_ref().unwrap(), out[1].as_ref().unwrap());
    assert!(!a.duplicate && b.duplicate && a.message.id == b.message.id);
    let all = s.load_messages(&chat, Page::Latest, 50).await.unwrap();
    assert_eq!(all.messages.len(), 4); // system + k1 + w1/k1 + k2
}

/// One batch across many chats, as the group-commit writer sends it: per-chat seqs follow the
/// batch order, stored and in-batch duplicates come back as such, closed and unknown chats and
/// bad attachments are refused one message at a time, and the batch is longer than one
/// statement takes (chunked lookups and inserts).
async fn batch_spans_many_chats(db: Arc<TestDb>) {
    use std::collections::HashMap;
    let s = store(&db).await;
    let mut chats = Vec::new();
    for i in 0..40 {
        chats.push(accepted_chat(&*s, &format!("b{i}")).await);
    }
    booking_at(&*s, "done", BookingStatus::Completed).await;
    let closed = s.get_chat_by_booking("done").await.unwrap().unwrap();
    assert_eq!(closed.status, ChatStatus::Closed);
    let stored = send(&*s, text(&chats[0], "c1", "old", "first"))
        .await
        .unwrap();
    s.insert_attachment(attachment("p1", &chats[5], "c1", "image/jpeg"))
        .await
        .unwrap();

    let mut batch = Vec::new();
    for i in 0..1100 {
        batch.push(text(&chats[i % 40], "c1", &format!("k{i}"), "x"));
        match i {
            10 => batch.push(text(&chats[0], "c1", "old", "retry")),
            20 => batch.push(text(&chats[3], "c1", "k3", "again")),
            21 => batch.push(text(&chats[3], "w1", "k3", "other sender")),
            30 => batch.push(text(&closed.id, "c1", "z", "closed")),
            31 => batch.push(text("nope", "c1", "z", "unknown")),
            40 | 41 => {
                let mut m = text(&chats[5], "c1", &format!("img{i}"), "photo");
                m.kind = MessageKind::Image;
                m.attachment_id = Some("p1".into());
                batch.push(m);
            }
            _ => {}
        }
    }
    let mut last: HashMap<String, i64> = HashMap::new();
    for c in &chats {
        last.insert(c.clone(), s.get_chat(c).await.unwrap().unwrap().last_seq);
    }
    let out = s.insert_messages(batch.clone()).await.unwrap();
    assert_eq!(out.len(), batch.len());

    // The model: what each message must come back as.
    let mut seen: HashMap<(String, String, String), (String, i64)> = HashMap::new();
    seen.insert(
        (chats[0].clone(), "c1".into(), "old".into()),
        (stored.message.id.clone(), stored.message.seq),
    );
    let mut attachment_used = false;
    for (m, r) in batch.iter().zip(&out) {
        let key = (
            m.chat_id.clone(),
            m.sender.id.clone(),
            m.client_id.clone().unwrap(),
        );
        if m.chat_id == "nope" {
            assert!(matches!(
                r,
                Err(StoreError::Domain(DomainError::NotFound(_)))
            ));
        } else if let Some((id, seq)) = seen.get(&key) {
            let r = r.as_ref().unwrap();
            assert!(r.duplicate, "{key:?}");
            assert_eq!((&r.message.id, r.message.seq), (id, *seq));
        } else if m.chat_id == closed.id {
            assert!(matches!(
                r,
                Err(StoreError::Domain(DomainError::ChatClosed))
            ));
        } else if m.attachment_id.is_some() && attachment_used {
            assert!(matches!(
                r,
                Err(StoreError::Domain(DomainError::InvalidPayload(_)))
            ));
        } else {
            let r = r.as_ref().unwrap();
            assert!(!r.duplicate);
            let n = last.get_mut(&m.chat_id).unwrap();
            *n += 1;
            assert_eq!(r.message.seq, *n, "{key:?}");
            assert_eq!(r.message.id, m.id);
            assert_eq!(r.message.body, m.body);
            if m.attachment_id.is_some() {
                attachment_used = true;
                let att = r.message.attachment.as_ref().unwrap();
                assert_eq!(att.url, "/api/v1/attachments/p1");
                assert_eq!((att.width, att.height), (Some(10), Some(20)));
            }
            seen.insert(key, (m.id.clone(), *n));
        }
    }
    assert!(attachment_used);
    assert_eq!(
        s.get_attachment("p1")
            .await
            .unwrap()
            .unwrap()
            .message_id
            .as_deref(),
        Some(
            batch
                .iter()
                .find(|m| m.client_id.as_deref() == Some("img40"))
                .unwrap()
                .id
                .as_str()
        )
    );

    // What is stored: every chat gap-free up to its last seq, the batch's rows where the
    // results said.
    let by_id: HashMap<&str, i64> = seen.values().map(|(id, seq)| (id.as_str(), *seq)).collect();
    for c in &chats {
        let chat = s.get_chat(c).await.unwrap().unwrap();
        assert_eq!(chat.last_seq, last[c]);
        let page = s.load_messages(c, Page::After(0), 2000).await.unwrap();
        let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=last[c]).collect::<Vec<_>>());
        for m in &page.messages {
            if let Some(seq) = by_id.get(m.id.as_str()) {
                assert_eq!(m.seq, *seq);
            }
        }
    }
    let stored_total: usize = {
        let mut n = 0;
        for c in &chats {
            n += s
                .load_messages(c, Page::After(0), 2000)
                .await
                .unwrap()
                .messages
                .len();
        }
        n
    };
    // 40 opening system messages, "old", and one row per fresh message of the batch.
    let fresh = out
        .iter()
        .filter(|r| matches!(r, Ok(i) if !i.duplicate))
        .count();
    assert_eq!(stored_total, 40 + 1 + fresh);
    assert_eq!(
        closed.last_seq,
        s.get_chat(&closed.id).await.unwrap().unwrap().last_seq
    );
}

async fn paging(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat = accepted_chat(&*s, "b1").await;
    let batch = (0..24)
        .map(|i| text(&chat, "c1", &format!("k{i}"), &format!("m{i}")))
        .collect();
    s.insert_messages(batch).await.unwrap();
    // 25 messages: seq 1 (system) ..= 25.
    let latest = s.load_messages(&chat, Page::Latest, 10).await.unwrap();
    assert_eq!(
        latest.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (16..=25).collect::<Vec<_>>()
    );
    assert!(latest.has_more);
    let before = s.load_messages(&chat, Page::Before(6), 10).await.unwrap();
    assert_eq!(
        before.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=5).collect::<Vec<_>>()
    );
    assert!(!before.has_more);
    let after = s.load_messages(&chat, Page::After(20), 5).await.unwrap();
    assert_eq!(
        after.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (21..=25).collect::<Vec<_>>()
    );
    assert!(!after.has_more);
    let after = s.load_messages(&chat, Page::After(19), 5).await.unwrap();
    assert!(after.has_more);
    assert!(
        s.load_messages(&chat, Page::After(25), 5)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
}

async fn read_marks(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat = accepted_chat(&*s, "b1").await;
    for i in 0..3 {
        send(&*s, text(&chat, "w1", &format!("k{i}"), "x"))
            .await
            .unwrap();
    }
    let summaries = s.list_chats("c1", Role::Customer).await.unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].unread_count, 4);
    assert_eq!(summaries[0].last_message.as_ref().unwrap().seq, 4);
    // What waits for a person: the other's messages, not the system's, not their own.
    assert_eq!(s.unread_for(&chat, "c1").await.unwrap(), 3);
    assert_eq!(s.unread_for(&chat, "w1").await.unwrap(), 0);
    assert_eq!(s.mark_read(&chat, "c1", 2, 10).await.unwrap(), 2);
    assert_eq!(s.unread_for(&chat, "c1").await.unwrap(), 2);
    // Never lowered, capped at the last seq.
    assert_eq!(s.mark_read(&chat, "c1", 1, 11).await.unwrap(), 2);
    assert_eq!(s.mark_read(&chat, "c1", 99, 12).await.unwrap(), 4);
    assert_eq!(s.unread_for(&chat, "c1").await.unwrap(), 0);
    assert_eq!(
        s.list_chats("c1", Role::Customer).await.unwrap()[0].unread_count,
        0
    );
    let states = s.read_states(&chat).await.unwrap();
    assert_eq!(
        states
            .iter()
            .map(|r| (r.user_id.as_str(), r.last_read_seq))
            .collect::<Vec<_>>(),
        vec![("c1", 4), ("w1", 0)]
    );
    assert!(s.list_chats("c1", Role::Worker).await.unwrap().is_empty());
    assert_eq!(s.list_chats("w1", Role::Worker).await.unwrap().len(), 1);
}

fn attachment(id: &str, chat: &str, uploader: &str, mime: &str) -> NewAttachment {
    NewAttachment {
        id: id.into(),
        chat_id: chat.into(),
        uploader_id: uploader.into(),
        name: "photo.jpg".into(),
        mime: mime.into(),
        size: 123,
        storage_key: format!("files/{id}"),
        thumb_key: Some(format!("thumbs/{id}")),
        width: Some(10),
        height: Some(20),
        duration_ms: None,
        created_at: now_millis(),
        sealed: false,
    }
}

async fn attachments_link_once(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat_a = accepted_chat(&*s, "ba").await;
    let chat_b = accepted_chat(&*s, "bb").await;
    s.insert_attachment(attachment("a1", &chat_a, "c1", "image/jpeg"))
        .await
        .unwrap();
    let mut m = text(&chat_b, "c1", "k1", "cap");
    m.kind = MessageKind::Image;
    m.attachment_id = Some("a1".into());
    assert!(matches!(
        send(&*s, m.clone()).await,
        Err(StoreError::Domain(DomainError::InvalidPayload(_)))
    ));
    m.chat_id = chat_a.clone();
    m.sender.id = "w1".into();
    assert!(send(&*s, m.clone()).await.is_err(), "someone else's upload");
    m.sender.id = "c1".into();
    let ok = send(&*s, m.clone()).await.unwrap();
    let att = ok.message.attachment.unwrap();
    assert_eq!(att.url, "/api/v1/attachments/a1");
    assert_eq!(
        att.thumb_url.as_deref(),
        Some("/api/v1/attachments/a1/thumb")
    );
    assert_eq!((att.width, att.height), (Some(10), Some(20)));
    m.client_id = Some("k2".into());
    assert!(
        send(&*s, m).await.is_err(),
        "an attachment goes with one message"
    );
    let rec = s.get_attachment("a1").await.unwrap().unwrap();
    assert_eq!(rec.message_id.as_deref(), Some(ok.message.id.as_str()));
    let keys = s.chat_file_keys(&chat_a).await.unwrap();
    assert_eq!(keys, vec!["files/a1".to_string(), "thumbs/a1".to_string()]);
}

async fn uploads_are_admitted_only_into_open_chats_within_quota(db: Arc<TestDb>) {
    let s = store(&db).await;
    let chat = accepted_chat(&*s, "b1").await;
    let up = |id: &str, who: &str, size: i64| {
        let mut a = attachment(id, &chat, who, "image/png");
        a.size = size;
        a
    };
    let admit = |a| s.admit_attachment(a, 1000, 1500);
    assert_eq!(
        admit(up("a1", "c1", 600)).await.unwrap(),
        Admission::Inserted
    );
    assert_eq!(
        admit(up("a2", "c1", 400)).await.unwrap(),
        Admission::Inserted
    );
    assert_eq!(
        admit(up("a3", "c1", 1)).await.unwrap(),
        Admission::UserQuota { used: 1000 }
    );
    assert_eq!(
        admit(up("a4", "w1", 500)).await.unwrap(),
        Admission::Inserted
    );
    assert_eq!(
        admit(up("a5", "w1", 1)).await.unwrap(),
        Admission::ChatQuota { used: 1500 }
    );
    assert!(s.get_attachment("a3").await.unwrap().is_none());
    assert_eq!(
        s.unsent_upload_bytes("c1", &chat).await.unwrap(),
        (1000, 1500)
    );
    assert_eq!(
        s.unsent_upload_bytes("w1", "other").await.unwrap(),
        (500, 0)
    );
    // Sent uploads no longer count.
    let mut m = text(&chat, "c1", "k1", "cap");
    m.kind = MessageKind::Image;
    m.attachment_id = Some("a1".into());
    send(&*s, m).await.unwrap();
    assert_eq!(
        s.unsent_upload_bytes("c1", &chat).await.unwrap(),
        (400, 900)
    );
    s.apply_booking("b1", update(BookingStatus::Completed), 1000, 5000)
        .await
        .unwrap();
    assert_eq!(
        admit(up("a6", "c1", 1)).await.unwrap(),
        Admission::ChatClosed
    );
    s.purge_chat(&chat).await.unwrap();
    assert_eq!(admit(up("a7", "c1", 1)).await.unwrap(), Admission::ChatGone);
    assert!(s.chat_file_keys(&chat).await.unwrap().is_empty());
}

async fn retention_survives_a_restart(db: Arc<TestDb>) {
    let chat = {
        let s = store(&db).await;
        let chat = accepted_chat(&*s, "b1").await;
        send(&*s, text(&chat, "c1", "k1", "secret words"))
            .await
            .unwrap();
        s.insert_attachment(attachment("a1", &chat, "c1", "image/png"))
            .await
            .unwrap();
        s.apply_booking("b1", update(BookingStatus::Cancelled), 1000, 5000)
            .await
            .unwrap();
        chat
        // The store is dropped here: a "restart" between closing and deleting.
    };
    let s = store(&db).await;
    assert!(s.due_deletions(4999, 10).await.unwrap().is_empty());
    assert_eq!(s.due_deletions(5000, 10).await.unwrap(), vec![chat.clone()]);
    s.purge_chat(&chat).await.unwrap();
    assert!(s.get_chat(&chat).await.unwrap().is_none());
    assert!(s.get_chat_by_booking("b1").await.unwrap().is_none());
    assert!(s.get_attachment("a1").await.unwrap().is_none());
    assert!(
        s.load_messages(&chat, Page::Latest, 50)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
    assert!(s.due_deletions(i64::MAX, 10).await.unwrap().is_empty());
    assert_eq!(
        s.get_booking("b1").await.unwrap().unwrap().status,
        BookingStatus::Cancelled
    );
    // Purging twice is harmless (a crash after the files went but before the commit).
    s.purge_chat(&chat).await.unwrap();
    if let Some(dir) = db.sqlite_dir() {
        // secure_delete: the words are gone from the file, not just unlinked.
        drop(s);
        let mut bytes = std::fs::read(dir.join("chat.db")).unwrap();
        if let Ok(wal) = std::fs::read(dir.join("chat.db-wal")) {
            bytes.extend(wal);
        }
        assert!(
            !bytes.windows(12).any(|w| w == b"secret words"),
            "deleted text lingers in the file"
        );
    }
}

async fn unknown_chat_is_not_found(db: Arc<TestDb>) {
    let s = store(&db).await;
    let r = send(&*s, text("nope", "c1", "k", "x")).await;
    assert!(matches!(
        r,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
    assert!(s.get_chat("nope").await.unwrap().is_none());
    let set: HashSet<_> = s
        .list_chats("c1", Role::Customer)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.chat.id)
        .collect();
    assert!(set.is_empty());
    s.ping().await.unwrap();
}

/// Nodes that start together on a new database all come up: they migrate one at a time
/// (MariaDB ignores sqlx's own lock), and on SQLite they all open the new file, one of them
/// switching it to WAL.
async fn concurrent_migrations(db: Arc<TestDb>) {
    let nodes: Vec<_> = (0..6)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { omw_storage::open(&url, 2).await?.migrate().await })
        })
        .collect();
    for (i, node) in nodes.into_iter().enumerate() {
        let res = node.await.expect("node task");
        assert!(res.is_ok(), "node {i} failed to start: {res:?}");
    }
    store(&db).await.ping().await.unwrap();
}

fn job(kind: &str, run_at: i64) -> NewJob {
    NewJob::new(kind, format!("{{\"n\":{run_at}}}"), run_at)
}

/// The outbox: due jobs only, earliest first; a lease keeps a job from a second claimer until
/// it runs out; settling needs the live lease; a dedupe key allows one live job; spawned jobs
/// are stored with the settle or not at all; a chat's jobs end with the chat.
async fn outbox_claims_leases_and_settles(db: Arc<TestDb>) {
    let s = store(&db).await;
    let t0 = 1_000_000;
    assert!(s.schedule_job(job("a", t0 + 20)).await.unwrap());
    assert!(s.schedule_job(job("a", t0 + 10)).await.unwrap());
    assert!(s.schedule_job(job("a", t0 + 500)).await.unwrap());
    assert!(
        s.claim_jobs(t0, 100, 10).await.unwrap().is_empty(),
        "nothing is due yet"
    );
    let claimed = s.claim_jobs(t0 + 20, 100, 10).await.unwrap();
    let runs: Vec<i64> = claimed.iter().map(|j| j.run_at).collect();
    assert_eq!(runs, [t0 + 10, t0 + 20], "due jobs, earliest first");
    assert!(
        claimed
            .iter()
            .all(|j| j.attempts == 1 && j.lease_until == t0 + 120)
    );
    assert!(
        s.claim_jobs(t0 + 50, 100, 10).await.unwrap().is_empty(),
        "leased"
    );

    // The first lease runs out: another claimer takes the job over, and the first one's
    // settle is refused.
    let (first, second) = (&claimed[0], &claimed[1]);
    let again = s.claim_jobs(t0 + 120, 100, 1).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempts),
        (first.id.as_str(), 2)
    );
    assert!(!s.settle_job(first, Settle::Done, vec![]).await.unwrap());
    assert!(s.settle_job(&again[0], Settle::Done, vec![]).await.unwrap());

    // A retry keeps the attempt count; a next step starts it again; spawned jobs come with it.
    let spawned = job("b", t0 + 130);
    let later = Settle::Later {
        run_at: t0 + 300,
        payload: "{\"step\":2}".into(),
        retry: false,
    };
    assert!(
        s.settle_job(second, later, vec![spawned.clone()])
            .await
            .unwrap()
    );
    let due = s.claim_jobs(t0 + 300, 100, 10).await.unwrap();
    let b = due.iter().find(|j| j.kind == "b").expect("spawned job");
    assert_eq!(
        (b.id.as_str(), b.payload.as_str()),
        (spawned.id.as_str(), spawned.payload.as_str())
    );
    let stepped = due
        .iter()
        .find(|j| j.id == second.id)
        .expect("rescheduled job");
    assert_eq!(
        (stepped.attempts, stepped.payload.as_str()),
        (1, "{\"step\":2}")
    );
    let retry = Settle::Later {
        run_at: t0 + 400,
        payload: b.payload.clone(),
        retry: true,
    };
    assert!(s.settle_job(b, retry, vec![]).await.unwrap());
    let b2 = s.claim_jobs(t0 + 400, 100, 10).await.unwrap();
    assert_eq!(
        b2.iter().find(|j| j.kind == "b").map(|j| j.attempts),
        Some(2)
    );
    // A settle refused for a lost lease stores nothing it would have spawned.
    let lost = s
        .settle_job(first, Settle::Done, vec![job("c", t0)])
        .await
        .unwrap();
    assert!(!lost);
    assert_eq!(s.count_jobs("c").await.unwrap(), 0);
    assert_eq!(s.count_jobs("a").await.unwrap(), 2);

    // One live job per dedupe key.
    let keyed = |chat: &str| NewJob {
        dedupe_key: Some(format!("ladder:{chat}:c1")),
        chat_id: Some(chat.into()),
        ..job("ladder", t0)
    };
    let chat = accepted_chat(&*s, "b-jobs").await;
    assert!(s.schedule_job(keyed(&chat)).await.unwrap());
    assert!(
        !s.schedule_job(keyed(&chat)).await.unwrap(),
        "the key is taken"
    );
    assert_eq!(s.count_jobs("ladder").await.unwrap(), 1);
    let l = s.claim_jobs(t0 + 1000, 100, 10).await.unwrap();
    let l = l.iter().find(|j| j.kind == "ladder").expect("ladder job");
    assert!(s.settle_job(l, Settle::Done, vec![]).await.unwrap());
    assert!(
        s.schedule_job(keyed(&chat)).await.unwrap(),
        "free again once done"
    );

    // The longest key a ladder makes (a 191-character user id) is kept whole; a longer one is
    // refused on every backend (MySQL would otherwise truncate it).
    let longest = |n: usize| NewJob {
        dedupe_key: Some(format!("ladder:{chat}:{}", "u".repeat(n))),
        chat_id: Some(chat.clone()),
        ..job("ladder", t0)
    };
    assert!(s.schedule_job(longest(191)).await.unwrap());
    assert!(!s.schedule_job(longest(191)).await.unwrap());
    let mut other = longest(191);
    other.dedupe_key = other.dedupe_key.map(|k| format!("{}v", &k[..k.len() - 1]));
    assert!(
        s.schedule_job(other).await.unwrap(),
        "keys differing in their last byte"
    );
    let too_long = longest(omw_storage::MAX_DEDUPE_KEY);
    assert!(s.schedule_job(too_long).await.is_err());

    // Closing the chat removes its jobs, and only those.
    s.apply_booking(
        "b-jobs",
        update(BookingStatus::Cancelled),
        now_millis(),
        FAR,
    )
    .await
    .unwrap();
    assert_eq!(s.count_jobs("ladder").await.unwrap(), 0);
    assert_eq!(s.count_jobs("a").await.unwrap(), 2);
}

/// Work that comes in for a job while it runs is not lost: the refused schedule marks the job
/// touched, and settling it as done starts it over instead of deleting it.
async fn outbox_touched_jobs_start_over(db: Arc<TestDb>) {
    let s = store(&db).await;
    let t0 = 7_000_000;
    let keyed = || NewJob {
        dedupe_key: Some("ladder:c:u".into()),
        ..job("ladder", t0)
    };
    assert!(s.schedule_job(keyed()).await.unwrap());
    let claimed = s.claim_jobs(t0, 100, 1).await.unwrap().pop().unwrap();
    assert_eq!(claimed.touched, 0);
    assert!(
        !s.schedule_job(keyed()).await.unwrap(),
        "refused: the job is live"
    );
    let restart = Settle::DoneOrRestart {
        run_at: t0 + 50,
        payload: "{\"fresh\":1}".into(),
    };
    assert!(s.settle_job(&claimed, restart, vec![]).await.unwrap());
    assert!(s.claim_jobs(t0 + 49, 100, 1).await.unwrap().is_empty());
    let again = s
        .claim_jobs(t0 + 50, 100, 1)
        .await
        .unwrap()
        .pop()
        .expect("started over");
    assert_eq!(
        (again.id.as_str(), again.payload.as_str()),
        (claimed.id.as_str(), "{\"fresh\":1}")
    );
    assert_eq!((again.attempts, again.touched), (1, 0));
    // Touched again: a plain Done runs it once more at once, as it was.
    assert!(!s.schedule_job(keyed()).await.unwrap());
    assert!(s.settle_job(&again, Settle::Done, vec![]).await.unwrap());
    let third = s
        .claim_jobs(omw_domain::time::now_millis(), 100, 1)
        .await
        .unwrap()
        .pop();
    assert_eq!(
        third.map(|j| j.payload.clone()).as_deref(),
        Some("{\"fresh\":1}")
    );
    // Untouched, Done deletes it.
    let last = s
        .claim_jobs(omw_domain::time::now_millis() + 1000, 100, 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(s.settle_job(&last, Settle::Done, vec![]).await.unwrap());
    assert_eq!(s.count_jobs("ladder").await.unwrap(), 0);
    assert!(s.schedule_job(keyed()).await.unwrap(), "the key is free");
}

/// Claimers racing for the same jobs get each job once.
async fn outbox_claims_are_exclusive(db: Arc<TestDb>) {
    let s = store(&db).await;
    let t0 = 5_000_000;
    for i in 0..60 {
        s.schedule_job(job("race", t0 + i)).await.unwrap();
    }
    let claimers: Vec<_> = (0..6)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = s.claim_jobs(t0 + 100, 60_000, 4).await.unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch.into_iter().map(|j| j.scheduled.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (60, 60),
        "every job claimed exactly once"
    );
}

omw_testkit::each_backend!(
    concurrent_migrations,
    upsert_is_idempotent,
    every_transition,
    chat_lifecycle,
    system_notices_are_stored,
    seq_is_gap_free_under_concurrency,
    insert_is_idempotent_by_client_id,
    batch_spans_many_chats,
    paging,
    read_marks,
    attachments_link_once,
    retention_survives_a_restart,
    uploads_are_admitted_only_into_open_chats_within_quota,
    unknown_chat_is_not_found,
    outbox_claims_leases_and_settles,
    outbox_claims_are_exclusive,
    outbox_touched_jobs_start_over,
);
