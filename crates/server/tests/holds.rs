//! Dispute holds (SPEC §9.7): a held chat works as usual, closes for its participants as any
//! chat does, and is not deleted until the last hold is released; its retention then counts
//! from the release. A hold and the purge never both win.

mod common;

use std::{sync::Arc, time::Duration};

use common::{PLATFORM_KEY, TestServer, code, eventually};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn hold_path(booking: &str) -> String {
    format!("/api/v1/platform/bookings/{booking}/hold")
}

async fn hold(s: &TestServer, booking: &str, case_ref: &str) -> (StatusCode, Value) {
    let body = json!({ "case_ref": case_ref, "reason": "customer disputes the invoice" });
    s.call(
        Method::PUT,
        &hold_path(booking),
        Some(PLATFORM_KEY),
        Some(body),
    )
    .await
}

async fn release(s: &TestServer, booking: &str, case_ref: Option<&str>) -> StatusCode {
    let path = match case_ref {
        Some(c) => format!("{}?case_ref={c}", hold_path(booking)),
        None => hold_path(booking),
    };
    s.call(Method::DELETE, &path, Some(PLATFORM_KEY), None)
        .await
        .0
}

async fn accepted(s: &TestServer, booking: &str) -> String {
    let (st, b) = s.put_booking(booking, "accepted").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["chat"]["id"].as_str().unwrap().to_string()
}

async fn stored(s: &TestServer, chat: &str) -> bool {
    s.store().await.get_chat(chat).await.unwrap().is_some()
}

async fn a_held_chat_outlives_its_booking_until_released(db: Arc<TestDb>) {
    // Retention 0: an unheld chat is deleted as its booking ends.
    let s = TestServer::start(db).await;
    let customer = s.token("c1", Role::Customer);
    let chat = accepted(&s, "b-held").await;

    let (st, first) = hold(&s, "b-held", "case-1").await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(first["hold"]["chat_id"], chat.as_str());
    assert_eq!(first["hold"]["booking_id"], "b-held");
    assert_eq!(first["hold"]["reason"], "customer disputes the invoice");
    let (st, again) = hold(&s, "b-held", "case-1").await;
    assert_eq!(
        (st, &again),
        (StatusCode::OK, &first),
        "idempotent per case"
    );
    assert_eq!(hold(&s, "b-held", "case-2").await.0, StatusCode::OK);

    // Held while active: the chat works as usual.
    let body = json!({ "client_id": "m1", "kind": "text", "body": "the invoice is wrong" });
    assert_eq!(
        s.send(Some(&customer), &chat, body).await.0,
        StatusCode::CREATED
    );

    // The booking ends: closed for the participants as any chat, but kept.
    assert_eq!(s.put_booking("b-held", "completed").await.0, StatusCode::OK);
    let (st, b) = s
        .call(
            Method::GET,
            &format!("/api/v1/chats/{chat}"),
            Some(&customer),
            None,
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
    let (_, list) = s
        .call(Method::GET, "/api/v1/chats", Some(&customer), None)
        .await;
    assert_eq!(list["chats"], json!([]), "{list}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stored(&s, &chat).await, "held: not deleted");
    let history = s
        .store()
        .await
        .load_messages(&chat, omw_storage::Page::Latest, 50)
        .await
        .unwrap();
    assert!(
        history
            .messages
            .iter()
            .any(|m| m.body.as_deref() == Some("the invoice is wrong")),
        "the evidence is kept"
    );

    // One case released: still held by the other.
    assert_eq!(
        release(&s, "b-held", Some("case-1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        release(&s, "b-held", Some("case-1")).await,
        StatusCode::NO_CONTENT
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stored(&s, &chat).await, "case-2 still holds it");

    // The last one: deleted (retention 0 counts from now).
    assert_eq!(release(&s, "b-held", None).await, StatusCode::NO_CONTENT);
    eventually("deleted within 5 s of the release", || async {
        !stored(&s, &chat).await
    })
    .await;
    let (st, b) = hold(&s, "b-held", "case-3").await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::CONFLICT, "conflict"),
        "too late"
    );
    assert_eq!(release(&s, "b-held", None).await, StatusCode::NOT_FOUND);
    s.stop().await;
}

async fn holds_are_refused_where_there_is_nothing_to_hold(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let (st, b) = hold(&s, "b-unknown", "case").await;
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        s.put_booking("b-requested", "requested").await.0,
        StatusCode::OK
    );
    assert_eq!(
        hold(&s, "b-requested", "case").await.0,
        StatusCode::NOT_FOUND
    );
    // Cancelled before anyone accepted: it never had a chat.
    assert_eq!(
        s.put_booking("b-requested", "cancelled").await.0,
        StatusCode::OK
    );
    assert_eq!(
        hold(&s, "b-requested", "case").await.0,
        StatusCode::NOT_FOUND
    );

    accepted(&s, "b-edge").await;
    let at_limit = "c".repeat(191);
    assert_eq!(hold(&s, "b-edge", &at_limit).await.0, StatusCode::OK);
    let path = hold_path("b-edge");
    let bad = [
        json!({ "case_ref": "" }),
        json!({ "case_ref": "c".repeat(192) }),
        json!({ "case_ref": "line\nbreak" }),
        json!({ "case_ref": "ok", "reason": "r".repeat(2001) }),
        json!({ "reason": "no case" }),
        json!(["case"]),
    ];
    for body in bad {
        let (st, b) = s
            .call(Method::PUT, &path, Some(PLATFORM_KEY), Some(body.clone()))
            .await;
        assert_eq!(
            (st, code(&b)),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "{body}"
        );
    }
    let reason_at_limit = json!({ "case_ref": "long-reason", "reason": "r".repeat(2000) });
    let (st, _) = s
        .call(
            Method::PUT,
            &path,
            Some(PLATFORM_KEY),
            Some(reason_at_limit),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let user = s.token("c1", Role::Customer);
    let (st, _) = s
        .call(
            Method::PUT,
            &path,
            Some(&user),
            Some(json!({ "case_ref": "x" })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.call(Method::DELETE, &path, None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("{path}?case_ref="),
            Some(PLATFORM_KEY),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.stop().await;
}

async fn retention_counts_from_the_release(db: Arc<TestDb>) {
    let s = TestServer::start_with(db, &[("CHAT_RETENTION", "2s")]).await;
    let chat = accepted(&s, "b-ret").await;
    assert_eq!(hold(&s, "b-ret", "case").await.0, StatusCode::OK);
    assert_eq!(s.put_booking("b-ret", "completed").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(stored(&s, &chat).await, "past its retention, but held");
    assert_eq!(release(&s, "b-ret", None).await, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        stored(&s, &chat).await,
        "2 s from the release, not from the closing"
    );
    eventually("deleted 2 s after the release", || async {
        !stored(&s, &chat).await
    })
    .await;
    s.stop().await;
}

async fn a_hold_racing_the_purge_is_whole_or_refused(db: Arc<TestDb>) {
    // The purge pauses 3 s once started: a hold arriving then is refused, and the chat goes.
    let s = Arc::new(TestServer::start_with(db, &[("OMW_TEST_PURGE_DELAY_MS", "3000")]).await);
    let chat = accepted(&s, "b-race").await;
    let completing = {
        let s = s.clone();
        tokio::spawn(async move { s.put_booking("b-race", "completed").await })
    };
    // Started: the chat's key is destroyed as the purge begins (a store of its own each time,
    // as a store remembers keys it used).
    eventually("the purge has begun", || async {
        let read = s
            .store()
            .await
            .load_messages(&chat, omw_storage::Page::Latest, 1)
            .await;
        matches!(read, Err(omw_storage::StoreError::KeyDestroyed(_)))
    })
    .await;
    let (st, b) = hold(&s, "b-race", "late").await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "conflict"), "{b}");
    assert_eq!(completing.await.unwrap().0, StatusCode::OK);
    assert!(!stored(&s, &chat).await, "deleted whole");

    // A hold first: the purge does not start, and nothing of the chat goes.
    let chat = accepted(&s, "b-race-2").await;
    assert_eq!(hold(&s, "b-race-2", "early").await.0, StatusCode::OK);
    assert_eq!(
        s.put_booking("b-race-2", "completed").await.0,
        StatusCode::OK
    );
    assert!(stored(&s, &chat).await);
    let store = s.store().await;
    assert_eq!(store.holds_of(&chat).await.unwrap().len(), 1);
    assert!(
        !store.begin_purge(&chat, 0).await.unwrap(),
        "a held chat's purge does not start"
    );
    if let Ok(s) = Arc::try_unwrap(s) {
        s.stop().await;
    }
}

omw_testkit::each_backend!(
    a_held_chat_outlives_its_booking_until_released,
    holds_are_refused_where_there_is_nothing_to_hold,
    retention_counts_from_the_release,
    a_hold_racing_the_purge_is_whole_or_refused,
);
