//! A stand-in for the platform's webhook receiver, on a loopback port.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use aws_lc_rs::hmac;
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use omw_testkit::TestDb;

use super::TestServer;

/// A server that sends its `notify` webhooks to `url` and looks for due jobs every 50 ms, with
/// `extra` settings on top.
pub async fn server_notifying(db: Arc<TestDb>, url: &str, extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![
        ("NOTIFY_WEBHOOK_URL", url),
        ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("JOBS_POLL", "50ms"),
    ];
    env.extend_from_slice(extra);
    TestServer::start_with(db, &env).await
}

/// A scripted "status" that never answers: the sender waits until it gives up or dies.
pub const NO_ANSWER: u16 = 0;

pub const WEBHOOK_SECRET: &str = "webhook-secret-0123456789";

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub key: String,
    pub signature: String,
    pub body: Bytes,
}

/// The platform's receiver: records each request and answers with the next scripted status
/// (200 once the script is used up; [`NO_ANSWER`] holds the request open instead).
#[derive(Clone, Default)]
pub struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> (Receiver, String) {
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

    pub fn seen(&self) -> Vec<Received> {
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
    if status == NO_ANSWER {
        std::future::pending::<()>().await;
    }
    axum::http::StatusCode::from_u16(status).unwrap()
}

/// The signature checked the way a receiver would: HMAC-SHA256 of the raw body, hex.
pub fn signed(r: &Received) -> bool {
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
