//! Shared fixtures: a real server on a loopback port over a throwaway database, and an HTTP
//! client that speaks its API.
#![allow(dead_code)]

pub mod push_service;
pub mod receiver;

use std::{collections::HashMap, sync::Arc};

use omw_chat::{
    config::Config,
    server::{self, Running},
};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-0123456789abcdef0123";
pub const PLATFORM_KEY: &str = "platform-key-0123456789";

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub http: reqwest::Client,
    pub db: Arc<TestDb>,
    pub _upload_dir: tempfile::TempDir,
    /// The VAPID key's folder.
    pub _keys: tempfile::TempDir,
}

/// A fresh encryption key file in `dir`; its path.
pub fn encryption_key_file(dir: &std::path::Path) -> String {
    let path = dir.join("encryption.key");
    omw_chat::keys::KeyFile::load_or_create(&path).unwrap();
    path.display().to_string()
}

/// A fresh VAPID key (PEM) in `dir`; its path.
pub fn vapid_key_file(dir: &std::path::Path) -> String {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let path = dir.join("vapid.pem");
    std::fs::write(
        &path,
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec())),
    )
    .unwrap();
    path.display().to_string()
}

/// A fresh transcript signing key (Ed25519, PEM) in `dir`; its path.
pub fn transcript_key_file(dir: &std::path::Path) -> String {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let der = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let path = dir.join("transcript-signing.pem");
    std::fs::write(
        &path,
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec())),
    )
    .unwrap();
    path.display().to_string()
}

impl TestServer {
    pub async fn start(db: Arc<TestDb>) -> TestServer {
        Self::start_with(db, &[]).await
    }

    /// Start with extra environment settings on top of the test defaults.
    pub async fn start_with(db: Arc<TestDb>, extra: &[(&str, &str)]) -> TestServer {
        let uploads = tempfile::tempdir().unwrap();
        let keys = tempfile::tempdir().unwrap();
        let mut env: HashMap<String, String> = [
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("JWT_SECRET", SECRET),
            ("PLATFORM_API_KEY", PLATFORM_KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.insert("DATABASE_URL".into(), db.url.clone());
        env.insert("UPLOAD_DIR".into(), uploads.path().display().to_string());
        env.insert("VAPID_PRIVATE_KEY_FILE".into(), vapid_key_file(keys.path()));
        env.insert(
            "ENCRYPTION_KEY_FILE".into(),
            encryption_key_file(keys.path()),
        );
        env.insert(
            "TRANSCRIPT_SIGNING_KEY_FILE".into(),
            transcript_key_file(keys.path()),
        );
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let config = Config::load(&env, false).expect("config");
        let running = server::start(config, false).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        TestServer {
            running: Some(running),
            base,
            http: reqwest::Client::new(),
            db,
            _upload_dir: uploads,
            _keys: keys,
        }
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// One sample of `/metrics` (the first series of `name`), 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let body = self.metrics().await;
        body.lines()
            .find(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// The database as an operator sees it: a connection of the test's own beside the server's.
    pub async fn store(&self) -> Arc<dyn omw_storage::Store> {
        let config = &self.running.as_ref().expect("running").state.config;
        let sealer = server::sealer(&config.encryption).expect("the key file opens");
        omw_storage::open_sealed(&self.db.url, 2, sealer)
            .await
            .expect("the test database opens")
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn token(&self, sub: &str, role: Role) -> String {
        let r = self.running.as_ref().unwrap();
        r.state.jwt.mint(sub, role, Some(sub), 3600).unwrap()
    }

    /// Send a request with an optional Bearer token and JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The platform reads booking `id`.
    pub async fn get_booking(&self, id: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/platform/bookings/{id}");
        self.call(Method::GET, &path, Some(PLATFORM_KEY), None)
            .await
    }

    /// Send a message (`body`: client_id, kind, …) to a chat over REST.
    pub async fn send(
        &self,
        bearer: Option<&str>,
        chat_id: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let path = format!("/api/v1/chats/{chat_id}/messages");
        self.call(Method::POST, &path, bearer, Some(body)).await
    }

    /// The platform says booking `id` is now `status` (customer c1/Alice, worker w1/Bob).
    pub async fn put_booking(&self, id: &str, status: &str) -> (StatusCode, Value) {
        let worker = if status == "requested" {
            Value::Null
        } else {
            json!({ "id": "w1", "name": "Bob" })
        };
        let body = json!({ "customer": { "id": "c1", "name": "Alice" }, "worker": worker, "status": status });
        self.call(
            Method::PUT,
            &format!("/api/v1/platform/bookings/{id}"),
            Some(PLATFORM_KEY),
            Some(body),
        )
        .await
    }
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

/// The id of the attachment an upload answered with.
pub fn attachment_id(body: &Value) -> String {
    body["attachment"]["id"].as_str().unwrap().to_string()
}

/// Where an attachment's file is downloaded.
pub fn file_path(attachment_id: &str) -> String {
    format!("/api/v1/attachments/{attachment_id}")
}

/// Where an attachment's thumbnail is downloaded.
pub fn thumb_path(attachment_id: &str) -> String {
    format!("/api/v1/attachments/{attachment_id}/thumb")
}

impl TestServer {
    /// A server on a fresh SQLite database (with `extra` settings) where booking b1 is
    /// accepted; with its chat id and its customer's (c1) token.
    pub async fn with_chat(extra: &[(&str, &str)]) -> (TestServer, String, String) {
        let db = TestDb::create(omw_testkit::Kind::Sqlite).await.unwrap();
        let s = Self::start_with(Arc::new(db), extra).await;
        let chat = s.accepted_chat("b1").await;
        let c = s.token("c1", Role::Customer);
        (s, chat, c)
    }

    /// An accepted booking `id` (customer c1, worker w1); returns the chat id.
    pub async fn accepted_chat(&self, id: &str) -> String {
        self.put_booking(id, "requested").await;
        let (st, b) = self.put_booking(id, "accepted").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        b["chat"]["id"].as_str().unwrap().to_string()
    }

    /// Upload `bytes` as multipart field `file`.
    pub async fn upload(
        &self,
        bearer: Option<&str>,
        chat_id: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap();
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut req = self
            .http
            .post(self.url(&format!("/api/v1/chats/{chat_id}/attachments")))
            .multipart(form);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let res = req.send().await.expect("upload");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GET a path with a Bearer token and optional Range; returns the raw response.
    pub async fn fetch(
        &self,
        bearer: Option<&str>,
        path: &str,
        range: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send().await.expect("get")
    }

    /// The whole body of `path` (a file or thumbnail path), fetched as `bearer`.
    pub async fn download(&self, bearer: &str, path: &str) -> bytes::Bytes {
        let res = self.fetch(Some(bearer), path, None).await;
        res.bytes().await.expect("download body")
    }
}

/// Wait until `check` holds (polling every 50 ms), failing after 20 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 20 s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
