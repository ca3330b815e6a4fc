//! Encryption at rest (SPEC §9.6): while a chat is active, no byte of its messages' text or its
//! files' names is in the database (SQLite's file and WAL, a MariaDB or PostgreSQL dump), and no
//! byte of its files or thumbnails in the upload folder, yet its participants read them as sent,
//! byte ranges included. `ENCRYPTION=off` stores new chats in plaintext and still
//! reads sealed ones. A chat's deletion destroys its key before anything else.

mod common;

#[path = "common/samples.rs"]
mod samples;

use std::{process::Command, sync::Arc};

use common::{TestServer, attachment_id};
use omw_domain::Role;
use omw_testkit::{Kind, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::json;

const TEXT: &str = "Gate code 4711-Zebra, knock twice";
const FILE_NAME: &str = "invoice-Quokka-2291.png";
/// Inside a document of three sealed segments and more.
const DOC_TEXT: &str = "Narwhal invoice total 912.40";

/// A PDF of about 150 kB that says [`DOC_TEXT`] every kilobyte or so.
fn document() -> Vec<u8> {
    let mut pdf = samples::pdf();
    let line = format!("% {DOC_TEXT} ");
    while pdf.len() < 150_000 {
        pdf.extend_from_slice(line.as_bytes());
        pdf.extend(std::iter::repeat_n(b'.', 1000));
        pdf.push(b'\n');
    }
    pdf
}

/// Every byte under the upload folder.
fn folder_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(folder_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

/// Upload [`document`] to `chat` and send it; its download path.
async fn send_document(s: &TestServer, chat: &str, token: &str) -> String {
    let (st, up) = s
        .upload(
            Some(token),
            chat,
            "statement.pdf",
            "application/pdf",
            document(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{up}");
    let body = json!({ "client_id": "d1", "kind": "file", "attachment_id": attachment_id(&up) });
    assert_eq!(s.send(Some(token), chat, body).await.0, StatusCode::CREATED);
    up["attachment"]["url"].as_str().unwrap().to_string()
}

/// The document reads back whole and by ranges, across segment edges.
async fn reads_back(s: &TestServer, token: &str, path: &str) {
    let doc = document();
    assert_eq!(&s.download(token, path).await[..], &doc[..]);
    for (range, want) in [
        ("bytes=65530-65545", 65530..65546),
        ("bytes=0-0", 0..1),
        ("bytes=131070-", 131070..doc.len()),
        ("bytes=-100", doc.len() - 100..doc.len()),
    ] {
        let res = s.fetch(Some(token), path, Some(range)).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let content_range = res.headers()["content-range"].to_str().unwrap().to_owned();
        assert_eq!(
            content_range,
            format!("bytes {}-{}/{}", want.start, want.end - 1, doc.len())
        );
        assert_eq!(&res.bytes().await.unwrap()[..], &doc[want], "{range}");
    }
    let res = s
        .fetch(Some(token), path, Some(&format!("bytes={}-", doc.len())))
        .await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

/// Every byte of the database as a backup would hold it.
fn database_bytes(db: &TestDb) -> Vec<u8> {
    match db.kind {
        Kind::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://");
            let path = path.split('?').next().unwrap_or(path);
            let mut bytes = std::fs::read(path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Kind::Postgres => dump("pg_dump", &[db.url.as_str()]),
        Kind::MySql => {
            let url = reqwest::Url::parse(&db.url).unwrap();
            let port = url.port().unwrap_or(3306).to_string();
            let args = [
                "-h",
                url.host_str().unwrap(),
                "-P",
                port.as_str(),
                "-u",
                url.username(),
                "--skip-ssl",
                url.path().trim_start_matches('/'),
            ];
            dump("mariadb-dump", &args)
        }
    }
}

fn dump(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .expect("the dump tool runs");
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The text of a chat's messages as a participant reads them.
async fn bodies(s: &TestServer, token: &str, chat: &str) -> Vec<String> {
    let path = format!("/api/v1/chats/{chat}/messages");
    let (st, page) = s.call(Method::GET, &path, Some(token), None).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect()
}

async fn chat_with_text_and_file(s: &TestServer, booking: &str) -> String {
    let chat = s.accepted_chat(booking).await;
    let customer = s.token("c1", Role::Customer);
    let (st, up) = s
        .upload(
            Some(&customer),
            &chat,
            FILE_NAME,
            "image/png",
            samples::png(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{up}");
    let att = attachment_id(&up);
    for (i, body) in [
        json!({ "client_id": "t1", "kind": "text", "body": TEXT }),
        json!({ "client_id": "i1", "kind": "image", "attachment_id": att }),
    ]
    .into_iter()
    .enumerate()
    {
        let (st, b) = s.send(Some(&customer), &chat, body).await;
        assert_eq!(st, StatusCode::CREATED, "{i}: {b}");
    }
    chat
}

async fn an_active_chat_leaves_no_plaintext_in_the_database(db: Arc<TestDb>) {
    // One key file for both servers below.
    let keys = tempfile::tempdir().unwrap();
    let key_file = common::encryption_key_file(keys.path());
    let with_keys = [("ENCRYPTION_KEY_FILE", key_file.as_str())];
    let s = TestServer::start_with(db.clone(), &with_keys).await;
    let chat = chat_with_text_and_file(&s, "b-sealed").await;
    // The participants read it as sent.
    let worker = s.token("w1", Role::Worker);
    let (st, page) = s
        .call(
            Method::GET,
            &format!("/api/v1/chats/{chat}/messages"),
            Some(&worker),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let messages = page["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["body"] == TEXT), "{page}");
    assert!(
        messages
            .iter()
            .any(|m| m["attachment"]["name"] == FILE_NAME),
        "{page}"
    );
    let (_, list) = s
        .call(Method::GET, "/api/v1/chats", Some(&worker), None)
        .await;
    assert_eq!(
        list["chats"][0]["last_message"]["attachment"]["name"],
        FILE_NAME
    );

    // Files: sealed in the folder, read back whole and by ranges; the thumbnail too.
    let customer = s.token("c1", Role::Customer);
    let doc = send_document(&s, &chat, &customer).await;
    reads_back(&s, &worker, &doc).await;
    let image = messages
        .iter()
        .find_map(|m| m["attachment"]["thumb_url"].as_str())
        .expect("the image has a thumbnail");
    let thumb = s.download(&worker, image).await;
    assert_eq!(&thumb[..3], b"\xff\xd8\xff", "a JPEG thumbnail");

    let bytes = database_bytes(&db);
    assert!(contains(&bytes, "b-sealed"), "the scan sees the database");
    assert!(!contains(&bytes, "Zebra"), "no message text at rest");
    assert!(!contains(&bytes, "Quokka"), "no file name at rest");
    let files = folder_bytes(s._upload_dir.path());
    assert!(files.len() > 150_000, "the scan sees the upload folder");
    assert!(!contains(&files, "Narwhal"), "no file contents at rest");
    let image_file = s
        .download(
            &worker,
            messages
                .iter()
                .find_map(|m| m["attachment"]["url"].as_str())
                .unwrap(),
        )
        .await;
    for (what, plain) in [("thumbnail", &thumb), ("image", &image_file)] {
        let head = &plain[..plain.len().min(64)];
        assert!(
            !files.windows(head.len()).any(|w| w == head),
            "no {what} at rest"
        );
    }
    s.stop().await;

    // Encryption off: new chats are stored as sent; sealed ones still read.
    let off = TestServer::start_with(
        db.clone(),
        &[
            ("ENCRYPTION", "off"),
            ("ENCRYPTION_KEY_FILE", key_file.as_str()),
        ],
    )
    .await;
    assert!(
        bodies(&off, &worker, &chat)
            .await
            .contains(&TEXT.to_string())
    );
    let plain = off.accepted_chat("b-plain").await;
    let customer = off.token("c1", Role::Customer);
    let body = json!({ "client_id": "p1", "kind": "text", "body": "plainly Wombat" });
    assert_eq!(
        off.send(Some(&customer), &plain, body).await.0,
        StatusCode::CREATED
    );
    assert!(contains(&database_bytes(&db), "Wombat"));
    let plain_doc = send_document(&off, &plain, &customer).await;
    assert!(contains(&folder_bytes(off._upload_dir.path()), "Narwhal"));
    reads_back(&off, &worker, &plain_doc).await;
    off.stop().await;

    // Encryption back on: the plaintext chat (as one stored before encryption existed) stays
    // readable and plaintext until it is deleted.
    let on = TestServer::start_with(db.clone(), &with_keys).await;
    assert!(
        bodies(&on, &worker, &plain)
            .await
            .contains(&"plainly Wombat".to_string())
    );
    on.stop().await;
}

async fn deleting_a_chat_destroys_its_key_first(db: Arc<TestDb>) {
    // The deletion pauses once begun: by then the chat's key is gone, rows or not.
    let s = Arc::new(TestServer::start_with(db, &[("OMW_TEST_PURGE_DELAY_MS", "3000")]).await);
    let chat = chat_with_text_and_file(&s, "b-gone").await;
    let store = s.store().await;
    assert!(
        store
            .load_messages(&chat, omw_storage::Page::Latest, 10)
            .await
            .is_ok()
    );
    let completing = {
        let s = s.clone();
        tokio::spawn(async move { s.put_booking("b-gone", "completed").await })
    };
    // A store of its own each time: a store remembers keys it used.
    common::eventually("the key is destroyed while the rows remain", || async {
        let fresh = s.store().await;
        let rows = fresh.get_chat(&chat).await.unwrap().is_some();
        let read = fresh
            .load_messages(&chat, omw_storage::Page::Latest, 10)
            .await;
        rows && matches!(read, Err(omw_storage::StoreError::KeyDestroyed(_)))
    })
    .await;
    let fresh = s.store().await;
    assert_eq!(completing.await.unwrap().0, StatusCode::OK);
    assert!(fresh.get_chat(&chat).await.unwrap().is_none());
    if let Ok(s) = Arc::try_unwrap(s) {
        s.stop().await;
    }
}

omw_testkit::each_backend!(
    an_active_chat_leaves_no_plaintext_in_the_database,
    deleting_a_chat_destroys_its_key_first,
);

/// A backup taken while a chat was active is unreadable once the chat is deleted and the epoch
/// that wrapped its key destroyed (`omw-chat keys rotate`, `keys destroy`); chats still live are
/// rewrapped by the rotation and stay readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_unreadable_once_its_epoch_is_destroyed() {
    let db = Arc::new(TestDb::create(Kind::Sqlite).await.unwrap());
    let keys = tempfile::tempdir().unwrap();
    let key_file = common::encryption_key_file(keys.path());
    let with_keys = [("ENCRYPTION_KEY_FILE", key_file.as_str())];
    let s = TestServer::start_with(db.clone(), &with_keys).await;
    let gone = chat_with_text_and_file(&s, "b-backup").await;
    let kept = s.accepted_chat("b-live").await;
    s.stop().await;

    // The backup: the database file of the stopped server.
    let path = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let backup = keys.path().join("backup.db");
    std::fs::copy(&path, &backup).unwrap();
    // Committed pages may still be in the write-ahead log.
    if std::path::Path::new(&format!("{path}-wal")).exists() {
        std::fs::copy(format!("{path}-wal"), format!("{}-wal", backup.display())).unwrap();
    }

    let s = TestServer::start_with(db.clone(), &with_keys).await;
    assert_eq!(
        s.put_booking("b-backup", "completed").await.0,
        StatusCode::OK
    );
    assert!(s.store().await.get_chat(&gone).await.unwrap().is_none());
    s.stop().await;

    let keys_cmd = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_omw-chat"))
            .arg("keys")
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("ENCRYPTION_KEY_FILE", &key_file)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = keys_cmd(&["destroy", "1"]);
    assert!(!ok, "the current epoch stays: {out}");
    let (ok, out) = keys_cmd(&["rotate"]);
    assert!(
        ok && out.contains("new epoch 2") && out.contains("1 chat keys"),
        "{out}"
    );
    let (ok, out) = keys_cmd(&["destroy", "1"]);
    assert!(ok, "{out}");
    let (ok, out) = keys_cmd(&["status"]);
    assert!(
        ok && out.contains("epoch 2: 1 chat keys") && !out.contains("epoch 1"),
        "{out}"
    );

    // The live chat reads on; the backup's copy of the deleted one does not.
    let s = TestServer::start_with(db.clone(), &with_keys).await;
    let worker = s.token("w1", Role::Worker);
    assert!(!bodies(&s, &worker, &kept).await.is_empty());
    s.stop().await;
    let settings = omw_chat::config::EncryptionSettings::from_env(&[(
        "ENCRYPTION_KEY_FILE",
        key_file.as_str(),
    )])
    .unwrap();
    let sealer = omw_chat::server::sealer(&settings).unwrap();
    let copy = omw_storage::open_sealed(&format!("sqlite://{}", backup.display()), 2, sealer)
        .await
        .unwrap();
    let err = copy
        .load_messages(&gone, omw_storage::Page::Latest, 10)
        .await
        .expect_err("the backup's chat cannot be read");
    assert!(err.to_string().contains("epoch 1 is destroyed"), "{err}");
}
