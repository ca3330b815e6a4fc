//! Signed webhooks through the outbox, against a stand-in for the platform's receiver on a
//! loopback port: every attempt of one delivery carries the same `Idempotency-Key` and a valid
//! `X-Omw-Signature`; failures are retried with backoff, refusals dropped; a job claimed by a
//! node that died is delivered by another once the lease runs out.

mod common;

use std::{sync::Arc, time::Duration};

use axum::body::Bytes;
use common::{
    TestServer, eventually,
    receiver::{Receiver, server_notifying, signed},
};
use omw_chat::service::jobs::webhook;
use omw_testkit::TestDb;
use serde_json::{Value, json};

async fn server(db: Arc<TestDb>, url: &str) -> TestServer {
    let retries = [
        ("JOBS_LEASE", "10s"),
        ("JOBS_RETRY_BACKOFF", "100ms"),
        ("JOBS_RETRY_MAX", "200ms"),
        ("WEBHOOK_TIMEOUT", "5s"),
    ];
    server_notifying(db, url, &retries).await
}

async fn pending(s: &TestServer) -> i64 {
    s.store().await.count_jobs(webhook::KIND).await.unwrap()
}

async fn failures_are_retried_with_the_same_key_until_delivered(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[503, 500, 429]).await;
    let s = server(db, &url).await;
    let body = json!({ "type": "message", "chat_id": "c1", "unread": 2 });
    let job = webhook::job("notify", &body, None);
    s.store().await.schedule_job(job.clone()).await.unwrap();

    eventually("four attempts, the last one answered 200", || async {
        receiver.seen().len() >= 4 && pending(&s).await == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let seen = receiver.seen();
    assert_eq!(
        seen.len(),
        4,
        "delivered once it succeeded, not again: {seen:?}"
    );
    for r in &seen {
        assert_eq!(r.key, job.id, "every attempt has the job's key");
        assert!(signed(r), "signature of {r:?}");
        let sent: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(sent, body);
    }
    let delivered = r#"omw_webhook_attempts_total{target="notify",result="delivered"}"#;
    assert!(s.metric(delivered).await >= 1.0, "{}", s.metrics().await);
    s.stop().await;
}

async fn a_refusal_is_not_retried(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[400]).await;
    let s = server(db, &url).await;
    let job = webhook::job("notify", &json!({ "type": "message" }), None);
    s.store().await.schedule_job(job).await.unwrap();
    eventually("the refused job is dropped", || async {
        receiver.seen().len() == 1 && pending(&s).await == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.seen().len(), 1);
    // A tampered body does not pass the receiver's check.
    let mut forged = receiver.seen()[0].clone();
    forged.body = Bytes::from_static(b"{\"type\":\"other\"}");
    assert!(!signed(&forged));
    s.stop().await;
}

/// A node claims the job and dies before delivering it: once its lease runs out a live node
/// delivers it, with the same key.
async fn a_dead_nodes_job_is_delivered_after_its_lease(db: Arc<TestDb>) {
    let (receiver, url) = Receiver::start(&[]).await;
    let s = server(db, &url).await;
    let store = s.store().await;
    // The dead node claims the job the moment it falls due (its clock passed to the claim), so
    // the live node, which cannot take it before then, finds it leased until `lease_until`.
    let now = omw_domain::time::now_millis();
    let mut job = webhook::job("notify", &json!({ "type": "message" }), None);
    job.run_at = now + 2000;
    store.schedule_job(job.clone()).await.unwrap();
    let claimed = store.claim_jobs(now + 2000, 1500, 1).await.unwrap();
    assert_eq!(
        claimed.first().map(|j| j.id.as_str()),
        Some(job.id.as_str())
    );
    // No node may take it before the lease runs out, however busy the machine.
    let leased = claimed[0].lease_until;
    let almost = u64::try_from(leased - 300 - omw_domain::time::now_millis()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(almost)).await;
    assert!(receiver.seen().is_empty(), "not delivered while leased");
    eventually("delivered after the lease", || async {
        !receiver.seen().is_empty() && pending(&s).await == 0
    })
    .await;
    assert!(receiver.seen().iter().all(|r| r.key == job.id && signed(r)));
    s.stop().await;
}

omw_testkit::each_backend!(
    failures_are_retried_with_the_same_key_until_delivered,
    a_refusal_is_not_retried,
    a_dead_nodes_job_is_delivered_after_its_lease,
);
