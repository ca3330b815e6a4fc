//! At least once across a crash, with the real binary: a node is SIGKILLed while the platform's
//! receiver holds its escalation webhook open; a node started on the same database delivers
//! the same webhook, with the same `Idempotency-Key`, once the dead node's lease runs out.

mod common;
mod process;

use std::{sync::Arc, time::Duration};

use common::{
    eventually,
    receiver::{NO_ANSWER, Receiver, WEBHOOK_SECRET, signed},
};
use omw_chat::{auth::jwt::JwtVerifier, config::Config};
use omw_domain::Role;
use omw_testkit::TestDb;
use serde_json::{Value, json};

const SECRET: &str = "crash-test-secret-0123456789abcdef";
const PLATFORM_KEY: &str = "crash-platform-key-0123";

async fn a_killed_node_leaves_its_webhook_to_the_next(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[NO_ANSWER]).await;
    let folder = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("JWT_SECRET", SECRET),
        ("PLATFORM_API_KEY", PLATFORM_KEY),
        ("NOTIFY_WEBHOOK_URL", url.as_str()),
        ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("NOTIFY_DELAYS", "low=100ms/300ms"),
        ("JOBS_POLL", "50ms"),
        ("JOBS_LEASE", "3s"),
        ("WEBHOOK_TIMEOUT", "1s"),
    ];
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_omw-chat"));
    let first = process::start(bin, folder.path(), &[], &env);
    let base = format!("http://{}", first.addr);

    let http = reqwest::Client::new();
    let booking = json!({
        "customer": { "id": "c1", "name": "Alice" },
        "worker": { "id": "w1", "name": "Bob" },
        "status": "accepted",
    });
    let b: Value = http
        .put(format!("{base}/api/v1/platform/bookings/b1"))
        .bearer_auth(PLATFORM_KEY)
        .json(&booking)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat = b["chat"]["id"].as_str().expect("chat opened").to_string();
    let config = Config::load(
        &[("JWT_SECRET", SECRET), ("PLATFORM_API_KEY", PLATFORM_KEY)],
        false,
    )
    .unwrap();
    let token = JwtVerifier::new(&config.jwt())
        .unwrap()
        .mint("c1", Role::Customer, Some("Alice"), 3600)
        .unwrap();
    let sent = http
        .post(format!("{base}/api/v1/chats/{chat}/messages"))
        .bearer_auth(&token)
        .json(&json!({ "client_id": "m1", "kind": "text", "body": "At the gate" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);

    eventually("the first node's webhook arrives", || async {
        !receiver.seen().is_empty()
    })
    .await;
    drop(first); // SIGKILL, while the receiver holds the request open
    let _second = process::start(bin, folder.path(), &[], &env);

    eventually("the next node delivers it again", || async {
        receiver.seen().len() >= 2
    })
    .await;
    let seen = receiver.seen();
    assert_eq!(seen[1].key, seen[0].key, "the same Idempotency-Key");
    assert_eq!(seen[1].body, seen[0].body);
    assert!(seen.iter().all(signed));
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        (&body["recipient_id"], &body["unread"]),
        (&json!("w1"), &json!(1))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.seen().len(), 2, "delivered, so not again");
}

omw_testkit::each_backend!(a_killed_node_leaves_its_webhook_to_the_next);
