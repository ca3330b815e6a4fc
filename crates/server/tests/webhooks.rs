//! Signed webhooks through the outbox, against a stand-in for the platform's receiver on a
//! loopback port: every attempt of one delivery carries the same `Idempotency-Key` and a valid
//! `X-Omw-Signature`; failures are retried with backoff, refusals dropped; a job claimed by a
//! node that died is delivered by another once the lease runs out.

mod common;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_lc_rs::hmac;
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use common::{TestServer, eventually};
use omw_chat::service::jobs::webhook;
use omw_testkit::TestDb;
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "webhook-secret-0123456789";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    key: String,
    signature: String,
    body: Bytes,
}

/// The platform's receiver: records each request and answers with the next scripted status
/// (200 once the script is used up).
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> (Receiver, String) {
        let r = Receiver::default();
        r.script.lock().unwrap().extend(script);
        let app = Router::new()
            .route("/hooks/notify", post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/notify", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.seen.lock().unwrap().push(Received {
        key: header("idempotency-key"),
        signature: header("x-omw-signature"),
        body,
    });
    let status = r.script.lock().unwrap().pop_front().unwrap_or(200);
    axum::http::StatusCode::from_u16(status).unwrap()
}

/// The signature checked the way a receiver would: HMAC-SHA256 of the raw body, hex.
fn signed(r: &Received) -> bool {
    let Some(hex) = r.signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, WEBHOOK_SECRET.as_bytes());
    hmac::verify(&key, &r.body, &tag).is_ok()
}

async fn server(db: Arc<TestDb>, url: &str) -> TestServer {
    TestServer::start_with(
        db,
        &[
            ("NOTIFY_WEBHOOK_URL", url),
            ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("JOBS_POLL", "50ms"),
            ("JOBS_LEASE", "2s"),
            ("JOBS_RETRY_BACKOFF", "100ms"),
            ("JOBS_RETRY_MAX", "200ms"),
            ("WEBHOOK_TIMEOUT", "1s"),
        ],
    )
    .await
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
    assert!(s.metrics().await.contains("omw_webhook_attempts_total"));
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
    // the live node, which cannot take it before then, finds it leased.
    let now = omw_domain::time::now_millis();
    let mut job = webhook::job("notify", &json!({ "type": "message" }), None);
    job.run_at = now + 300;
    store.schedule_job(job.clone()).await.unwrap();
    let claimed = store.claim_jobs(now + 300, 1200, 1).await.unwrap();
    assert_eq!(
        claimed.first().map(|j| j.id.as_str()),
        Some(job.id.as_str())
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
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
