//! The notification ladder (SPEC §9.2) with short delays (`NOTIFY_DELAYS`), against a stand-in
//! for the platform's webhook receiver: a message left unread escalates once per chat and
//! recipient, however many follow it, with the urgency of the appointment; reading or the chat
//! closing ends the ladder before its webhook.

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    PLATFORM_KEY, TestServer, eventually,
    receiver::{Receiver, server_notifying, signed},
};
use omw_domain::{Role, time::rfc3339};
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Push rung, then webhook rung: 100 ms, 1.5 s for every urgency (the urgency still shows in
/// the webhook).
async fn server(db: Arc<TestDb>, url: &str) -> TestServer {
    let delays = "high=100ms/1500ms,normal=100ms/1500ms,low=100ms/1500ms";
    server_notifying(db, url, &[("NOTIFY_DELAYS", delays)]).await
}

/// An accepted booking between c1 and w1, with an appointment `starts_in` from now if given.
async fn booking(s: &TestServer, id: &str, starts_in: Option<Duration>) -> String {
    let mut body = json!({
        "customer": { "id": "c1", "name": "Alice" },
        "worker": { "id": "w1", "name": "Bob" },
        "status": "accepted",
    });
    if let Some(d) = starts_in {
        let at = omw_domain::time::now_millis() + i64::try_from(d.as_millis()).unwrap();
        body["starts_at"] = json!(rfc3339(at));
    }
    let path = format!("/api/v1/platform/bookings/{id}");
    let (st, b) = s
        .call(Method::PUT, &path, Some(PLATFORM_KEY), Some(body))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["chat"]["id"].as_str().unwrap().to_string()
}

async fn say(s: &TestServer, token: &str, chat: &str, client_id: &str) -> i64 {
    let body = json!({ "client_id": client_id, "kind": "text", "body": "I am at your gate" });
    let (st, b) = s.send(Some(token), chat, body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["message"]["seq"].as_i64().unwrap()
}

async fn pending_ladders(s: &TestServer) -> i64 {
    s.store().await.count_jobs("ladder").await.unwrap()
}

async fn unread_messages_escalate_once_per_chat_with_their_urgency(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[]).await;
    let s = server(db, &url).await;
    let customer = s.token("c1", Role::Customer);
    let soon = booking(&s, "b-soon", Some(Duration::from_secs(3600))).await;
    let later = booking(&s, "b-later", None).await;
    for i in 0..3 {
        say(&s, &customer, &soon, &format!("s{i}")).await;
    }
    say(&s, &customer, &later, "l0").await;

    eventually("one webhook per chat", || async {
        receiver.seen().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let seen = receiver.seen();
    assert_eq!(
        seen.len(),
        2,
        "one escalation per chat and recipient, not per message"
    );
    let bodies: Vec<Value> = seen
        .iter()
        .map(|r| {
            assert!(signed(r), "signed: {r:?}");
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    let of = |chat: &str| {
        bodies
            .iter()
            .find(|b| b["chat_id"] == chat)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        of(&soon),
        json!({ "type": "unread_messages", "booking_id": "b-soon", "chat_id": soon,
                "recipient_id": "w1", "unread": 3, "urgency": "high" })
    );
    assert_eq!(of(&later)["urgency"], "low");
    assert_eq!(of(&later)["unread"], 1);
    assert_eq!(pending_ladders(&s).await, 0);

    // The ladder ended: a new message starts a new one.
    say(&s, &customer, &soon, "s3").await;
    eventually("a second escalation", || async {
        receiver.seen().len() >= 3
    })
    .await;
    s.stop().await;
}

async fn reading_or_closing_ends_the_ladder(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[]).await;
    let s = server(db, &url).await;
    let customer = s.token("c1", Role::Customer);
    let worker = s.token("w1", Role::Worker);

    // Closing: the chat's ladder is stored, then gone with the chat.
    let closed = booking(&s, "b-closed", None).await;
    say(&s, &customer, &closed, "c0").await;
    eventually("the ladder is stored", || async {
        pending_ladders(&s).await == 1
    })
    .await;
    let (st, _) = s.put_booking("b-closed", "cancelled").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        pending_ladders(&s).await,
        0,
        "closing the chat removed its ladder"
    );

    // Reading before the first step.
    let read = booking(&s, "b-read", None).await;
    let seq = say(&s, &customer, &read, "r0").await;
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/api/v1/chats/{read}/read"),
            Some(&worker),
            Some(json!({ "up_to_seq": seq })),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // The worker's own message starts the customer's ladder, which nobody reads: the only
    // webhook is for the customer.
    say(&s, &worker, &read, "w0").await;
    eventually("the customer's escalation", || async {
        !receiver.seen().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let seen: Vec<Value> = receiver
        .seen()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (&seen[0]["chat_id"], &seen[0]["recipient_id"]),
        (&json!(read), &json!("c1"))
    );
    assert_eq!(pending_ladders(&s).await, 0);
    s.stop().await;
}

omw_testkit::each_backend!(
    unread_messages_escalate_once_per_chat_with_their_urgency,
    reading_or_closing_ends_the_ladder,
);
