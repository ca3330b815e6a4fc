//! The HTTP server under hostile peers: header, body and idle timeouts, the connection cap, and
//! errors axum makes by itself answered in the SPEC shape.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{TestServer, code};
use omw_domain::Role;
use omw_testkit::{Kind, TestDb};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Generous: the machine may be slow and loaded.
const DEADLINE: Duration = Duration::from_secs(20);

async fn server(extra: &[(&str, &str)]) -> TestServer {
    TestServer::start_with(Arc::new(TestDb::create(Kind::Sqlite).await.unwrap()), extra).await
}

async fn tcp(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.running.as_ref().unwrap().addr)
        .await
        .unwrap()
}

/// Read until the peer closes (true) or `limit` passes (false).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// One complete response head and body on a kept-alive connection (Content-Length framing).
async fn response(stream: &mut TcpStream) -> (u16, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(DEADLINE, stream.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if text.len() >= end + 4 + len {
                let status = head[9..12].parse().unwrap();
                return (status, text[end + 4..end + 4 + len].to_string());
            }
        }
    }
}

async fn get_healthz(stream: &mut TcpStream) -> (u16, String) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    response(stream).await
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let s = server(&[("HTTP_HEADER_TIMEOUT", "1s"), ("HTTP_IDLE_TIMEOUT", "10m")]).await;
    let mut conns = Vec::new();
    for _ in 0..10 {
        let mut c = tcp(&s).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n")
            .await
            .unwrap();
        conns.push(c);
    }
    // Trickle a header line now and then: never a complete head.
    let trickle = async {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(300)).await;
            for c in &mut conns {
                let _ = c.write_all(format!("x-{i}: y\r\n").as_bytes()).await;
            }
        }
    };
    tokio::select! {
        _ = trickle => {}
        _ = tokio::time::sleep(Duration::from_secs(3)) => {}
    }
    for (i, c) in conns.iter_mut().enumerate() {
        assert!(
            closed_within(c, DEADLINE).await,
            "connection {i} still open {DEADLINE:?} after a 1 s header timeout"
        );
    }
    // The server still serves others.
    let (st, _) = s.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let s = server(&[("HTTP_HEADER_TIMEOUT", "10m"), ("HTTP_IDLE_TIMEOUT", "1s")]).await;
    let mut c = tcp(&s).await;
    assert_eq!(get_healthz(&mut c).await.0, 200);
    assert!(
        closed_within(&mut c, DEADLINE).await,
        "an idle connection is still open"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_stalled_upload_is_aborted_and_its_temp_file_removed() {
    let s = server(&[("HTTP_BODY_TIMEOUT", "1s"), ("HTTP_IDLE_TIMEOUT", "10m")]).await;
    let chat = s.accepted_chat("b1").await;
    let token = s.token("c1", Role::Customer);
    let mut c = tcp(&s).await;
    let part = "--XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\ncontent-type: text/plain\r\n\r\n";
    let head = format!(
        "POST /api/v1/chats/{chat}/attachments HTTP/1.1\r\nhost: t\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\ncontent-length: 200000\r\n\r\n{part}"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    // Enough of the file that it reaches the disk, then nothing more.
    c.write_all(&[b'a'; 20_000]).await.unwrap();
    let tmp = s._upload_dir.path().join("tmp");
    let (status, body) = response(&mut c).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(code(&body), "invalid_payload");
    let end = Instant::now() + DEADLINE;
    loop {
        let left: Vec<_> = std::fs::read_dir(&tmp)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < end, "temp files left: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn past_max_http_connections_a_new_connection_gets_503_until_one_closes() {
    let s = server(&[
        ("MAX_HTTP_CONNECTIONS", "3"),
        ("HTTP_HEADER_TIMEOUT", "10m"),
        ("HTTP_IDLE_TIMEOUT", "10m"),
    ])
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut c = tcp(&s).await;
        assert_eq!(get_healthz(&mut c).await.0, 200, "within the cap");
        open.push(c);
    }
    let mut over = tcp(&s).await;
    let (status, body) = get_healthz(&mut over).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(code(&body), "unavailable");
    assert!(closed_within(&mut over, DEADLINE).await);
    // Closing one lets a new one in.
    drop(open.pop());
    let end = Instant::now() + DEADLINE;
    loop {
        let mut c = tcp(&s).await;
        if get_healthz(&mut c).await.0 == 200 {
            break;
        }
        assert!(Instant::now() < end, "no slot came free");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn errors_made_by_the_framework_have_the_spec_shape() {
    let s = server(&[]).await;
    let chat = s.accepted_chat("b1").await;
    let token = s.token("c1", Role::Customer);
    let http = &s.http;
    let spec = |status: StatusCode, body: &str, want: (StatusCode, &str), what: &str| {
        let v: Value =
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body:?}"));
        assert_eq!((status, code(&v)), want, "{what}: {body}");
        assert!(v["error"]["message"].is_string(), "{what}: {body}");
    };
    let cases: Vec<(reqwest::RequestBuilder, (StatusCode, &str), &str)> = vec![
        (
            http.get(s.url("/api/v1/chats/%FF")).bearer_auth(&token),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "invalid UTF-8 in a path",
        ),
        (
            http.get(s.url("/api/v1/attachments/%FF%FE"))
                .bearer_auth(&token),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "invalid UTF-8 in an attachment path",
        ),
        (
            http.delete(s.url("/api/v1/chats")).bearer_auth(&token),
            (StatusCode::METHOD_NOT_ALLOWED, "not_found"),
            "405",
        ),
        (
            http.put(s.url("/healthz")),
            (StatusCode::METHOD_NOT_ALLOWED, "not_found"),
            "405 outside the API",
        ),
        (
            http.get(s.url("/no/such/route")),
            (StatusCode::NOT_FOUND, "not_found"),
            "an unknown route",
        ),
        (
            http.get(s.url("/api/v1/no/such/route")),
            (StatusCode::NOT_FOUND, "not_found"),
            "an unknown API route",
        ),
        (
            http.post(s.url(&format!("/api/v1/chats/{chat}/attachments")))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{}"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "a non-multipart upload",
        ),
        (
            http.post(s.url(&format!("/api/v1/chats/{chat}/messages")))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{\"client_id\": \"x\", "),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "a JSON syntax error",
        ),
        (
            http.post(s.url(&format!("/api/v1/chats/{chat}/messages")))
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body("{\"client_id\":\"x\",\"kind\":\"text\",\"body\":\"hi\"}"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "a JSON route without a JSON content type",
        ),
        (
            http.post(s.url(&format!("/api/v1/chats/{chat}/messages")))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(r#"["x", "text", "positional"]"#),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "a positional array for an object",
        ),
        (
            http.post(s.url(&format!("/api/v1/chats/{chat}/read")))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("[1]"),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "a positional array for read",
        ),
        (
            http.put(s.url("/api/v1/platform/bookings/b-positional"))
                .bearer_auth(common::PLATFORM_KEY)
                .header("content-type", "application/json")
                .body(r#"{"customer":["c1","Alice"],"worker":null,"status":"requested"}"#),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "a positional array nested in a platform body",
        ),
        (
            http.get(s.url(&format!("/api/v1/chats/{chat}/messages?limit=ten")))
                .bearer_auth(&token),
            (StatusCode::BAD_REQUEST, "invalid_payload"),
            "a bad query",
        ),
    ];
    for (req, want, what) in cases {
        let res = req.send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        spec(status, &body, want, what);
    }
    // Nothing positional was stored.
    let (_, page) = s
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Some(&token),
            None,
        )
        .await;
    assert!(
        !page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "positional"),
        "{page}"
    );
    s.stop().await;
}
