//! The OpenAPI document served by the app describes what the app really answers: every route
//! is called and its response validated against the documented schema.

mod common;
#[path = "common/samples.rs"]
mod samples;

use std::sync::Arc;

use common::TestServer;
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Spec(Value);

impl Spec {
    /// Validate `body` against the schema documented for `method path` → `status`.
    fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let responses = &self.0["paths"][path][method]["responses"];
        assert!(responses.is_object(), "{method} {path} is not documented");
        let schema = &responses[status.to_string()]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} → {status} is not documented"
        );
        // The schema's $refs point into the document: validate with the components beside it.
        let mut root = json!({ "$ref": schema["$ref"] });
        root["components"] = self.0["components"].clone();
        let validator = jsonschema::validator_for(&root).expect("schema builds");
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} → {status}: {errors:?}\n{body:#}"
        );
    }

    /// [`Spec::check`] a `(status, body)` reply; hands the body back.
    fn checked(&self, method: &str, path: &str, (status, body): (StatusCode, Value)) -> Value {
        self.check(method, path, status.as_u16(), &body);
        body
    }
}

async fn every_response_matches_the_document(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let (st, doc) = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let spec = Spec(doc);
    // The check can fail: a response missing a field, or with one the document does not know.
    let bad = std::panic::catch_unwind(|| {
        spec.check(
            "get",
            "/api/v1/chats/{chat_id}",
            200,
            &json!({ "chat": { "id": "x" } }),
        )
    });
    assert!(bad.is_err(), "an incomplete chat passed validation");
    let extra = json!({ "last_read_seq": 1, "surprise": true });
    assert!(
        std::panic::catch_unwind(|| spec.check(
            "post",
            "/api/v1/chats/{chat_id}/read",
            200,
            &extra
        ))
        .is_err()
    );

    let booking = "/api/v1/platform/bookings/{booking_id}";
    spec.checked("put", booking, s.put_booking("b1", "requested").await);
    let b = spec.checked("put", booking, s.put_booking("b1", "accepted").await);
    let chat = b["chat"]["id"].as_str().unwrap().to_string();
    spec.checked("put", booking, s.put_booking("b1", "requested").await);
    spec.checked("get", booking, s.get_booking("b1").await);

    let c = s.token("c1", Role::Customer);
    let stranger = s.token("zz", Role::Worker);
    let attachments = "/api/v1/chats/{chat_id}/attachments";
    let photo = samples::jpeg_with_gps();
    let b = spec.checked(
        "post",
        attachments,
        s.upload(Some(&c), &chat, "p.jpg", "image/jpeg", photo)
            .await,
    );
    let att = b["attachment"]["id"].as_str().unwrap().to_string();
    let svg = b"<svg/>".to_vec();
    spec.checked(
        "post",
        attachments,
        s.upload(Some(&c), &chat, "x.svg", "image/svg+xml", svg)
            .await,
    );

    let msg_path = format!("/api/v1/chats/{chat}/messages");
    let sends = [
        json!({ "client_id": "t1", "kind": "text", "body": "hello" }),
        json!({ "client_id": "t2", "kind": "image", "attachment_id": att, "body": "caption" }),
        json!({ "client_id": "t3", "kind": "text", "body": "" }),
    ];
    for body in sends {
        let (st, b) = s.call(Method::POST, &msg_path, Some(&c), Some(body)).await;
        spec.check("post", "/api/v1/chats/{chat_id}/messages", st.as_u16(), &b);
    }
    for q in ["", "?after_seq=1&limit=2", "?before_seq=3", "?limit=0"] {
        let (st, b) = s
            .call(Method::GET, &format!("{msg_path}{q}"), Some(&c), None)
            .await;
        spec.check("get", "/api/v1/chats/{chat_id}/messages", st.as_u16(), &b);
    }
    let (st, b) = s.call(Method::GET, &msg_path, Some(&stranger), None).await;
    spec.check("get", "/api/v1/chats/{chat_id}/messages", st.as_u16(), &b);
    let (st, b) = s.call(Method::GET, &msg_path, None, None).await;
    spec.check("get", "/api/v1/chats/{chat_id}/messages", st.as_u16(), &b);

    let chat_path = format!("/api/v1/chats/{chat}");
    for (documented, path) in [
        ("/api/v1/chats", "/api/v1/chats"),
        ("/api/v1/chats/{chat_id}", chat_path.as_str()),
        ("/api/v1/chats/{chat_id}", "/api/v1/chats/nope"),
        (
            "/api/v1/bookings/{booking_id}/chat",
            "/api/v1/bookings/b1/chat",
        ),
    ] {
        let (st, b) = s.call(Method::GET, path, Some(&c), None).await;
        spec.check("get", documented, st.as_u16(), &b);
    }
    let (st, b) = s
        .call(
            Method::POST,
            &format!("/api/v1/chats/{chat}/read"),
            Some(&c),
            Some(json!({ "up_to_seq": 2 })),
        )
        .await;
    spec.check("post", "/api/v1/chats/{chat_id}/read", st.as_u16(), &b);
    let (st, b) = s.call(Method::GET, "/healthz", None, None).await;
    spec.check("get", "/healthz", st.as_u16(), &b);
    let (st, b) = s.call(Method::GET, "/readyz", None, None).await;
    spec.check("get", "/readyz", st.as_u16(), &b);

    spec.checked("put", booking, s.put_booking("b1", "cancelled").await);
    let late = json!({ "client_id": "t9", "kind": "text", "body": "late" });
    let (st, b) = s.send(Some(&c), &chat, late).await;
    spec.check("post", "/api/v1/chats/{chat_id}/messages", st.as_u16(), &b);
    s.stop().await;
}

omw_testkit::each_backend!(every_response_matches_the_document);
