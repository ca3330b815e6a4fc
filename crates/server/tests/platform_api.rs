//! The platform's booking API and the chat lifecycle it drives, over HTTP against the real
//! server on every backend.

mod common;

use std::{sync::Arc, time::Duration};

use common::{PLATFORM_KEY, TestServer, code};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn platform_api_needs_the_platform_key(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let body =
        json!({ "customer": { "id": "c1", "name": "A" }, "worker": null, "status": "requested" });
    let path = "/api/v1/platform/bookings/b1";
    let (st, b) = s.call(Method::PUT, path, None, Some(body.clone())).await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (st, b) = s
        .call(
            Method::PUT,
            path,
            Some("not-the-key-at-all"),
            Some(body.clone()),
        )
        .await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let user = s.token("c1", Role::Customer);
    let (st, b) = s
        .call(Method::PUT, path, Some(&user), Some(body.clone()))
        .await;
    assert_eq!((st, code(&b)), (StatusCode::FORBIDDEN, "forbidden"));
    // Nothing was written by the refused calls.
    let (st, _) = s.call(Method::GET, path, Some(PLATFORM_KEY), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(Method::PUT, path, Some(PLATFORM_KEY), Some(body))
        .await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

async fn chat_opens_on_acceptance_and_is_gone_after_completion(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let (st, b) = s.put_booking("b1", "requested").await;
    assert_eq!(st, StatusCode::OK);
    assert!(b["chat"].is_null());
    assert_eq!(b["booking"]["status"], "requested");

    let (st, b) = s.put_booking("b1", "accepted").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["chat"]["status"], "active");
    assert_eq!(b["chat"]["booking_id"], "b1");
    assert_eq!(b["chat"]["last_seq"], 1, "the opening system message");
    let chat_id = b["chat"]["id"].as_str().unwrap().to_string();

    // Idempotent: the same update again changes nothing.
    let (st, again) = s.put_booking("b1", "accepted").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["chat"]["id"], chat_id.as_str());
    assert_eq!(again["chat"]["last_seq"], 1);

    let (st, b) = s.put_booking("b1", "en_route").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["chat"]["last_seq"], 2);
    assert_eq!(b["chat"]["booking_status"], "en_route");

    // Backwards is illegal.
    let (st, b) = s.put_booking("b1", "accepted").await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "conflict"));

    let (st, b) = s.put_booking("b1", "completed").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["booking"]["status"], "completed");
    assert!(b["chat"].is_null(), "retention 0 deletes at once: {b}");
    let (st, b) = s.get_booking("b1").await;
    assert_eq!(st, StatusCode::OK);
    assert!(b["chat"].is_null());
    assert!(s.store().await.get_chat(&chat_id).await.unwrap().is_none());

    // Final statuses never change again.
    let (st, b) = s.put_booking("b1", "in_progress").await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "conflict"));
    s.stop().await;
}

/// `{ code, worker_name }` of each message: what a client renders in its reader's language.
fn notices(messages: &serde_json::Value) -> Vec<(String, Option<String>)> {
    messages
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    let code = m["system"]["code"].as_str().unwrap_or("-").to_string();
                    let name = m["system"]["params"]["worker_name"]
                        .as_str()
                        .map(Into::into);
                    (code, name)
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn system_messages_carry_code_and_params(db: Arc<TestDb>) {
    let s = TestServer::start_with(db, &[("CHAT_RETENTION", "1h")]).await;
    let chat_id = s.accepted_chat("b1").await;
    let customer = s.token("c1", Role::Customer);
    let history = format!("/api/v1/chats/{chat_id}/messages");
    let hi = json!({ "client_id": "k1", "kind": "text", "body": "hi" });
    let (st, b) = s.send(Some(&customer), &chat_id, hi).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert!(b["message"].get("system").is_none(), "{b}");
    s.put_booking("b1", "en_route").await;
    s.put_booking("b1", "completed").await;

    let (st, b) = s.call(Method::GET, &history, Some(&customer), None).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let bob = || Some("Bob".to_string());
    assert_eq!(
        notices(&b["messages"]),
        [
            ("chat_opened".into(), bob()),
            ("-".into(), None),
            ("worker_en_route".into(), bob()),
            ("service_completed".into(), None),
        ]
    );
    let ms = &b["messages"];
    assert_eq!(ms[2]["body"], "Bob is on the way");
    assert_eq!(
        ms[3]["system"]["params"],
        json!({}),
        "params is always an object"
    );
    assert!(ms[1].get("system").is_none(), "a person's message has none");

    let (st, b) = s
        .call(Method::GET, "/api/v1/chats", Some(&customer), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let last = &b["chats"][0]["last_message"];
    assert_eq!(
        last["system"],
        json!({ "code": "service_completed", "params": {} })
    );
    assert_eq!(last["body"], "Service completed. This chat is now closed.");
    s.stop().await;
}

async fn retention_keeps_a_closed_chat_then_deletes_it(db: Arc<TestDb>) {
    let s = TestServer::start_with(db, &[("CHAT_RETENTION", "1s")]).await;
    s.put_booking("b1", "accepted").await;
    let (_, b) = s.put_booking("b1", "cancelled").await;
    assert_eq!(b["chat"]["status"], "closed");
    assert_eq!(b["chat"]["close_reason"], "cancelled");
    let store = s.store().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.get_chat_by_booking("b1").await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweeper did not delete the chat"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.stop().await;
}

async fn bad_updates_are_refused_with_a_code(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let path = "/api/v1/platform/bookings/b1";
    let cases = [
        json!({ "customer": { "id": "c1" }, "status": "teleported" }),
        json!({ "customer": { "id": "c1" }, "status": "accepted" }),
        json!({ "customer": { "id": "" }, "status": "requested" }),
        json!({ "status": "requested" }),
        json!("not an object"),
    ];
    for body in cases {
        let (st, b) = s
            .call(Method::PUT, path, Some(PLATFORM_KEY), Some(body.clone()))
            .await;
        assert_eq!(
            (st, code(&b)),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "{body}"
        );
    }
    let long_id = "x".repeat(192);
    let (st, b) = s.put_booking(&long_id, "requested").await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "invalid_payload"));
    let (st, _) = s.put_booking(&"x".repeat(191), "requested").await;
    assert_eq!(st, StatusCode::OK);
    // A body beyond the JSON limit.
    let huge =
        json!({ "customer": { "id": "c1", "name": "n".repeat(70_000) }, "status": "requested" });
    let (st, b) = s
        .call(Method::PUT, path, Some(PLATFORM_KEY), Some(huge))
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    s.stop().await;
}

/// SPEC §9.1: `starts_at` and `region` are optional, echoed in `booking` (the time as UTC with
/// milliseconds, the region upper-cased), kept by updates that leave them out, and refused with
/// `invalid_payload` when malformed.
async fn appointment_and_region_are_stored_and_echoed(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let path = "/api/v1/platform/bookings/b9";
    let put = |extra: Value| {
        let mut body = json!({
            "customer": { "id": "c1", "name": "Alice" },
            "worker": { "id": "w1", "name": "Bob" },
            "status": "accepted",
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        s.call(Method::PUT, path, Some(PLATFORM_KEY), Some(body))
    };
    let (st, b) = put(json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (&b["booking"]["starts_at"], &b["booking"]["region"]),
        (&Value::Null, &Value::Null)
    );
    let (st, b) = put(json!({ "starts_at": "2026-12-24T18:30:00+01:00", "region": "de" })).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["booking"]["starts_at"], "2026-12-24T17:30:00.000Z");
    assert_eq!(b["booking"]["region"], "DE");
    let (_, b) = s.get_booking("b9").await;
    assert_eq!(
        (
            b["booking"]["starts_at"].as_str(),
            b["booking"]["region"].as_str()
        ),
        (Some("2026-12-24T17:30:00.000Z"), Some("DE"))
    );
    // An update without them keeps them.
    let (st, b) = put(json!({ "status": "en_route" })).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["booking"]["region"], "DE");
    assert_eq!(b["booking"]["starts_at"], "2026-12-24T17:30:00.000Z");
    for bad in [
        json!({ "starts_at": "tomorrow" }),
        json!({ "starts_at": "2026-12-24 18:30" }),
        json!({ "starts_at": 1766597400 }),
        json!({ "region": "DEU" }),
        json!({ "region": "1A" }),
        json!({ "region": "" }),
    ] {
        let (st, b) = put(bad.clone()).await;
        assert_eq!(
            (st, code(&b)),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "{bad}"
        );
    }
    let (_, b) = s.get_booking("b9").await;
    assert_eq!(
        b["booking"]["region"], "DE",
        "a refused update changed nothing"
    );
    s.stop().await;
}

async fn health_and_readiness(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let (st, b) = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (st, b) = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("ready")));
    let (st, b) = s.call(Method::GET, "/api/v1/nope", None, None).await;
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
    // Demo endpoints do not exist without --demo.
    let (st, _) = s
        .call(
            Method::POST,
            "/demo/api/token",
            None,
            Some(json!({ "role": "customer" })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

omw_testkit::each_backend!(
    appointment_and_region_are_stored_and_echoed,
    platform_api_needs_the_platform_key,
    chat_opens_on_acceptance_and_is_gone_after_completion,
    system_messages_carry_code_and_params,
    retention_keeps_a_closed_chat_then_deletes_it,
    bad_updates_are_refused_with_a_code,
    health_and_readiness,
);
