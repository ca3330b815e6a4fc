//! The platform's booking API and the chat lifecycle it drives, over HTTP against the real
//! server on every backend.

mod common;

use std::{sync::Arc, time::Duration};

use common::{PLATFORM_KEY, TestServer, code};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::json;

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
    let (st, b) = s
        .call(
            Method::GET,
            "/api/v1/platform/bookings/b1",
            Some(PLATFORM_KEY),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(b["chat"].is_null());
    assert!(s.store().await.get_chat(&chat_id).await.unwrap().is_none());

    // Final statuses never change again.
    let (st, b) = s.put_booking("b1", "in_progress").await;
    assert_eq!((st, code(&b)), (StatusCode::CONFLICT, "conflict"));
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
    platform_api_needs_the_platform_key,
    chat_opens_on_acceptance_and_is_gone_after_completion,
    retention_keeps_a_closed_chat_then_deletes_it,
    bad_updates_are_refused_with_a_code,
    health_and_readiness,
);
