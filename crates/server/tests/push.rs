//! Web Push (SPEC §9.2) against a stand-in push service on loopback that decrypts what it gets
//! with the test's own browser keys and checks the VAPID JWT: an offline recipient gets one
//! push per ladder, with no text; reading first sends none; 404/410 deletes the subscription;
//! the chat closing removes pending pushes; subscriptions are a user's own and checked at
//! every edge.

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    TestServer, code, eventually,
    push_service::{Browser, PushService, vapid_claims},
    receiver::{Receiver, server_notifying},
};
use omw_domain::{Role, time::now_millis};
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SUBSCRIPTIONS: &str = "/api/v1/push/subscriptions";

/// Push after `push`, webhook after 3 s, for every urgency; loopback push services allowed.
async fn server(db: Arc<TestDb>, push: &str, extra: &[(&str, &str)]) -> (TestServer, Receiver) {
    let (receiver, url) = Receiver::start(&[]).await;
    let delays = format!("high={push}/3s,normal={push}/3s,low={push}/3s");
    let mut env = vec![
        ("NOTIFY_DELAYS", delays.as_str()),
        ("PUSH_ALLOW_INSECURE_ENDPOINTS", "true"),
        ("VAPID_SUBJECT", "mailto:ops@example.com"),
    ];
    env.extend_from_slice(extra);
    (server_notifying(db, &url, &env).await, receiver)
}

async fn chat(s: &TestServer, booking: &str) -> String {
    let (st, b) = s.put_booking(booking, "accepted").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["chat"]["id"].as_str().unwrap().to_string()
}

async fn subscribe(s: &TestServer, token: &str, sub: Value) -> (StatusCode, Value) {
    s.call(Method::POST, SUBSCRIPTIONS, Some(token), Some(sub))
        .await
}

async fn say(s: &TestServer, token: &str, chat: &str, client_id: &str) -> i64 {
    let body = json!({ "client_id": client_id, "kind": "text", "body": "I am at your gate" });
    let (st, b) = s.send(Some(token), chat, body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    b["message"]["seq"].as_i64().unwrap()
}

async fn vapid_key(s: &TestServer) -> String {
    let (st, b) = s
        .call(Method::GET, "/api/v1/push/vapid-public-key", None, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    b["key"].as_str().unwrap().to_string()
}

async fn subscriptions_of(s: &TestServer, owner: &str) -> usize {
    s.store().await.subscriptions_of(owner).await.unwrap().len()
}

async fn an_offline_recipient_gets_one_encrypted_push_without_text(db: Arc<TestDb>) {
    let svc = PushService::start(&[]).await;
    // Three messages are stored before the push step.
    let (s, _) = server(db, "1500ms", &[]).await;
    let (customer, worker) = (s.token("c1", Role::Customer), s.token("w1", Role::Worker));
    let phone = Browser::new();
    let (st, b) = subscribe(&s, &worker, phone.subscription(&svc.endpoint("w1-phone"))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let chat = chat(&s, "b-push").await;
    let mut last = 0;
    for i in 0..3 {
        last = say(&s, &customer, &chat, &format!("m{i}")).await;
    }
    eventually("a push", || async { !svc.seen().is_empty() }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = svc.seen();
    assert_eq!(seen.len(), 1, "one push per ladder, not per message");
    let push = &seen[0];
    assert_eq!(push.path, "/push/w1-phone");
    assert_eq!(push.header("content-encoding"), "aes128gcm");
    assert_eq!(
        push.header("urgency"),
        "normal",
        "no appointment time: never low"
    );
    assert_eq!(
        push.header("ttl"),
        "60",
        "until the webhook, at least a minute"
    );
    let topic = push.header("topic");
    assert!(
        topic.len() <= 32
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{topic}"
    );
    assert!(
        !topic.contains(&chat[..8]),
        "the topic does not show the chat id"
    );

    let plain = phone.decrypt(&push.body);
    let payload: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(
        payload,
        json!({ "type": "message", "chat_id": chat, "seq": last })
    );
    let text = String::from_utf8_lossy(&plain);
    assert!(!text.contains("gate") && !text.contains("Alice"), "{text}");
    assert!(
        !String::from_utf8_lossy(&push.body).contains("message"),
        "encrypted on the wire"
    );

    let claims = vapid_claims(push, &vapid_key(&s).await);
    assert_eq!(claims["aud"], svc.origin.as_str());
    assert_eq!(claims["sub"], "mailto:ops@example.com");
    let exp = claims["exp"].as_i64().unwrap();
    let now = now_millis() / 1000;
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp} now {now}");
    s.stop().await;
}

async fn reading_in_time_sends_no_push_and_several_devices_each_get_one(db: Arc<TestDb>) {
    let svc = PushService::start(&[]).await;
    let (s, _) = server(db, "1500ms", &[]).await;
    let (customer, worker) = (s.token("c1", Role::Customer), s.token("w1", Role::Worker));
    let (phone, laptop) = (Browser::new(), Browser::new());
    for (b, device) in [(&phone, "phone"), (&laptop, "laptop")] {
        let (st, _) = subscribe(&s, &worker, b.subscription(&svc.endpoint(device))).await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let chat = chat(&s, "b-read").await;
    let seq = say(&s, &customer, &chat, "r0").await;
    eventually("the ladder is stored", || async {
        s.store().await.count_jobs("ladder").await.unwrap() == 1
    })
    .await;
    let (st, _) = s
        .call(
            Method::POST,
            &format!("/api/v1/chats/{chat}/read"),
            Some(&worker),
            Some(json!({ "up_to_seq": seq })),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    eventually("the ladder ran its push step and ended", || async {
        s.store().await.count_jobs("ladder").await.unwrap() == 0
    })
    .await;
    assert!(svc.seen().is_empty(), "read within the grace period");

    // Unread this time: one push to each device, each readable only with its own keys.
    let last = say(&s, &customer, &chat, "r1").await;
    eventually("a push to each device", || async { svc.seen().len() >= 2 }).await;
    for push in svc.seen() {
        let device = if push.path.ends_with("phone") {
            &phone
        } else {
            &laptop
        };
        let payload: Value = serde_json::from_slice(&device.decrypt(&push.body)).unwrap();
        assert_eq!(payload["seq"], last);
    }
    s.stop().await;
}

async fn a_gone_subscription_is_deleted_and_a_closed_chat_leaves_no_push(db: Arc<TestDb>) {
    // 410, then 404: each deletes its subscription. Then 503s keep a push pending until the
    // chat closes.
    let svc = PushService::start(&[410, 404, 503, 503, 503]).await;
    let (s, _) = server(db, "100ms", &[("JOBS_RETRY_BACKOFF", "30s")]).await;
    let (customer, worker) = (s.token("c1", Role::Customer), s.token("w1", Role::Worker));
    let chat = chat(&s, "b-gone").await;
    for (i, device) in ["old-phone", "old-laptop"].iter().enumerate() {
        let (st, _) = subscribe(
            &s,
            &worker,
            Browser::new().subscription(&svc.endpoint(device)),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(subscriptions_of(&s, "worker:w1").await, 1);
        say(&s, &customer, &chat, &format!("g{i}")).await;
        eventually("the push is answered", || async { svc.seen().len() > i }).await;
        eventually("the subscription is gone", || async {
            subscriptions_of(&s, "worker:w1").await == 0
        })
        .await;
        // Let the ladder end (webhook at 3 s) before the next message starts another.
        eventually("the ladder ends", || async {
            s.store().await.count_jobs("ladder").await.unwrap() == 0
        })
        .await;
    }

    let (st, _) = subscribe(
        &s,
        &worker,
        Browser::new().subscription(&svc.endpoint("new")),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    say(&s, &customer, &chat, "g2").await;
    eventually("the push is refused for now", || async {
        svc.seen().len() == 3
    })
    .await;
    eventually("and waits for its retry", || async {
        s.store().await.count_jobs("push").await.unwrap() == 1
    })
    .await;
    let (st, _) = s.put_booking("b-gone", "completed").await;
    assert_eq!(st, StatusCode::OK);
    let store = s.store().await;
    assert_eq!(
        store.count_jobs("push").await.unwrap(),
        0,
        "completion removes the push"
    );
    assert_eq!(store.count_jobs("ladder").await.unwrap(), 0);
    assert_eq!(
        subscriptions_of(&s, "worker:w1").await,
        1,
        "the device stays subscribed"
    );
    s.stop().await;
}

async fn subscriptions_are_a_users_own_and_checked_at_their_edges(db: Arc<TestDb>) {
    let svc = PushService::start(&[]).await;
    let (s, _) = server(db.clone(), "100ms", &[]).await;
    let (w1, w2) = (s.token("w1", Role::Worker), s.token("w2", Role::Worker));
    let b = Browser::new();
    let endpoint = svc.endpoint("shared-browser");
    let sub = b.subscription(&endpoint);

    let (st, body) = s
        .call(Method::POST, SUBSCRIPTIONS, None, Some(sub.clone()))
        .await;
    assert_eq!(
        (st, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(subscribe(&s, &w1, sub.clone()).await.0, StatusCode::CREATED);
    assert_eq!(
        subscribe(&s, &w1, sub.clone()).await.0,
        StatusCode::CREATED,
        "again: replaced"
    );
    assert_eq!(subscriptions_of(&s, "worker:w1").await, 1);

    // Another user cannot delete it; the browser's next user takes it over.
    let gone = json!({ "endpoint": endpoint });
    let (st, _) = s
        .call(Method::DELETE, SUBSCRIPTIONS, Some(&w2), Some(gone.clone()))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(subscriptions_of(&s, "worker:w1").await, 1);
    assert_eq!(subscribe(&s, &w2, sub.clone()).await.0, StatusCode::CREATED);
    assert_eq!(subscriptions_of(&s, "worker:w1").await, 0);
    assert_eq!(subscriptions_of(&s, "worker:w2").await, 1);
    let (st, _) = s
        .call(Method::DELETE, SUBSCRIPTIONS, Some(&w2), Some(gone.clone()))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(subscriptions_of(&s, "worker:w2").await, 0);
    let (st, _) = s
        .call(Method::DELETE, SUBSCRIPTIONS, Some(&w2), Some(gone))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "idempotent");

    // Ten devices at most: the eleventh replaces the oldest.
    for i in 0..11 {
        let device = Browser::new().subscription(&svc.endpoint(&format!("d{i}")));
        assert_eq!(subscribe(&s, &w1, device).await.0, StatusCode::CREATED);
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(subscriptions_of(&s, "worker:w1").await, (i + 1).min(10));
    }
    let kept = s.store().await.subscriptions_of("worker:w1").await.unwrap();
    assert!(
        kept.iter().all(|k| !k.endpoint.ends_with("/d0")),
        "the oldest went"
    );

    // Bad subscriptions: each refused with invalid_payload, nothing stored.
    let long = |n: usize| {
        let path = "/push/".to_string();
        let pad = n - svc.origin.len() - path.len();
        format!("{}{path}{}", svc.origin, "x".repeat(pad))
    };
    assert_eq!(
        subscribe(&s, &w2, b.subscription(&long(1024))).await.0,
        StatusCode::CREATED,
        "1024 bytes: at the limit"
    );
    let keys = sub["keys"].clone();
    let refused = [
        json!({ "endpoint": long(1025), "keys": keys }),
        json!({ "endpoint": "ftp://push.example.com/x", "keys": keys }),
        json!({ "endpoint": "not a url", "keys": keys }),
        json!({ "endpoint": endpoint, "keys": { "p256dh": "AAAA", "auth": keys["auth"] } }),
        json!({ "endpoint": endpoint, "keys": { "p256dh": keys["p256dh"], "auth": "AAAA" } }),
        json!({ "endpoint": endpoint, "keys": "p256dh" }),
        json!({ "endpoint": endpoint }),
        json!(["endpoint"]),
    ];
    for body in refused {
        let (st, reply) = subscribe(&s, &w2, body.clone()).await;
        assert_eq!(
            (st, code(&reply)),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "{body}"
        );
    }
    assert_eq!(subscriptions_of(&s, "worker:w2").await, 1);
    s.stop().await;

    // Without PUSH_ALLOW_INSECURE_ENDPOINTS: https URLs of public hosts only.
    let strict = TestServer::start(db).await;
    let w1 = strict.token("w1", Role::Worker);
    for endpoint in [
        svc.endpoint("x"),
        "https://127.0.0.1/x".into(),
        "https://localhost/x".into(),
        "https://169.254.169.254/latest/meta-data".into(),
        "https://[::1]/x".into(),
        "https://10.0.0.1/x".into(),
    ] {
        let (st, reply) = subscribe(&strict, &w1, b.subscription(&endpoint)).await;
        assert_eq!(
            (st, code(&reply)),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "{endpoint}"
        );
    }
    let public = b.subscription("https://fcm.googleapis.com/fcm/send/abc");
    assert_eq!(subscribe(&strict, &w1, public).await.0, StatusCode::CREATED);
    strict.stop().await;
}

omw_testkit::each_backend!(
    an_offline_recipient_gets_one_encrypted_push_without_text,
    reading_in_time_sends_no_push_and_several_devices_each_get_one,
    a_gone_subscription_is_deleted_and_a_closed_chat_leaves_no_push,
    subscriptions_are_a_users_own_and_checked_at_their_edges,
);
