//! The retention sweeper on every backend: a chat that cannot be deleted does not hold up the
//! others, is retried with backoff, and shows in the metrics until it is gone.

mod common;

use std::sync::Arc;

use common::{TestServer, code, eventually};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};

/// The metrics are process-wide: one backend's server at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn a_failing_purge_does_not_block_the_others(db: Arc<TestDb>) {
    let _one_at_a_time = SERIAL.lock().await;
    let s = TestServer::start_with(
        db,
        &[
            ("CHAT_RETENTION", "1s"),
            ("PURGE_RETRY_BACKOFF", "200ms"),
            ("PURGE_RETRY_MAX", "1s"),
        ],
    )
    .await;
    let store = s.store().await;
    let customer = s.token("c1", Role::Customer);

    // A chat whose file cannot be deleted: a directory where the upload was.
    let bad = s.accepted_chat("bad").await;
    let (st, b) = s
        .upload(
            Some(&customer),
            &bad,
            "note.txt",
            "text/plain",
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let keys = store.chat_file_keys(&bad).await.unwrap();
    assert!(!keys.is_empty());
    let blocked = s._upload_dir.path().join(&keys[0]);
    std::fs::remove_file(&blocked).unwrap();
    std::fs::create_dir_all(blocked.join("in-the-way")).unwrap();

    let failures_before = s.metric("omw_purge_failures_total").await;
    // Closed first, so it is first in the queue at every sweep.
    assert_eq!(s.put_booking("bad", "cancelled").await.0, StatusCode::OK);
    let mut good = Vec::new();
    for id in ["good1", "good2"] {
        let chat = s.accepted_chat(id).await;
        assert_eq!(s.put_booking(id, "cancelled").await.0, StatusCode::OK);
        good.push(chat);
    }

    eventually("the other closed chats are deleted", || async {
        for chat in &good {
            if store.get_chat(chat).await.unwrap().is_some() {
                return false;
            }
        }
        true
    })
    .await;
    for chat in &good {
        let (st, b) = s
            .call(
                Method::GET,
                &format!("/api/v1/chats/{chat}/messages"),
                Some(&customer),
                None,
            )
            .await;
        assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
    }
    assert!(store.get_chat(&bad).await.unwrap().is_some());
    // Retried (with backoff), counted each time, and the wait is visible.
    eventually("failed attempts counted", || async {
        s.metric("omw_purge_failures_total").await >= failures_before + 2.0
    })
    .await;
    eventually("the overdue deletion shows", || async {
        s.metric("omw_purge_overdue_seconds").await > 0.0
    })
    .await;

    // Once the obstacle is gone, the next retry finishes the job.
    std::fs::remove_dir_all(&blocked).unwrap();
    eventually("the blocked chat is deleted after all", || async {
        store.get_chat(&bad).await.unwrap().is_none()
    })
    .await;
    eventually("nothing overdue", || async {
        s.metric("omw_purge_overdue_seconds").await == 0.0
    })
    .await;
    s.stop().await;
}

omw_testkit::each_backend!(a_failing_purge_does_not_block_the_others);
