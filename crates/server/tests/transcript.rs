//! Tamper-evident transcripts (SPEC §9.7): a held chat's transcript outlives its booking,
//! `omw-chat verify-transcript` accepts it offline, and names the first entry or message that
//! was edited, moved or reordered in the database or in the file.

mod common;
#[path = "common/samples.rs"]
mod samples;

use std::{path::Path, process::Command, sync::Arc};

use base64::{Engine, engine::general_purpose::STANDARD};
use common::{PLATFORM_KEY, TestServer, eventually};
use omw_domain::Role;
use omw_testkit::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn transcript(s: &TestServer, chat: &str) -> (StatusCode, Value) {
    s.call(
        Method::GET,
        &format!("/api/v1/platform/chats/{chat}/transcript"),
        Some(PLATFORM_KEY),
        None,
    )
    .await
}

async fn public_key(s: &TestServer) -> String {
    let (st, key) = s
        .call(
            Method::GET,
            "/api/v1/platform/transcript-key",
            Some(PLATFORM_KEY),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{key}");
    assert_eq!(key["algorithm"], "Ed25519");
    assert!(
        key["public_key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    key["public_key"].as_str().unwrap().to_string()
}

/// `omw-chat verify-transcript` on `doc`, saved to a file: (exit code, stdout).
fn verify(dir: &Path, doc: &Value, key: &str) -> (i32, String) {
    let file = dir.join("transcript.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_omw-chat"))
        .arg("verify-transcript")
        .arg(&file)
        .args(["--public-key", key])
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn assert_fails(result: (i32, String), naming: &str) {
    let (code, out) = result;
    assert_eq!(code, 1, "refused: {out}");
    assert!(out.starts_with("FAILED: "), "{out}");
    assert!(out.contains(naming), "names {naming}: {out}");
}

/// A chat with a few messages (one with a file), held and completed: (chat, transcript).
async fn held_and_completed(s: &TestServer, booking: &str) -> (String, Value) {
    let (st, b) = s.put_booking(booking, "accepted").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let chat = b["chat"]["id"].as_str().unwrap().to_string();
    let customer = s.token("c1", Role::Customer);
    let worker = s.token("w1", Role::Worker);
    for (who, text) in [
        (&customer, "the gate code is 4411"),
        (&worker, "on my way"),
        (&customer, "the invoice is wrong"),
    ] {
        let body = json!({ "client_id": text, "kind": "text", "body": text });
        assert_eq!(s.send(Some(who), &chat, body).await.0, StatusCode::CREATED);
    }
    let (st, up) = s
        .upload(
            Some(&worker),
            &chat,
            "receipt.pdf",
            "application/pdf",
            samples::pdf(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{up}");
    let body = json!({ "client_id": "f1", "kind": "file",
        "attachment_id": up["attachment"]["id"], "body": "the receipt" });
    assert_eq!(
        s.send(Some(&worker), &chat, body).await.0,
        StatusCode::CREATED
    );
    let (st, h) = s
        .call(
            Method::PUT,
            &format!("/api/v1/platform/bookings/{booking}/hold"),
            Some(PLATFORM_KEY),
            Some(json!({ "case_ref": "case-1", "reason": "invoice dispute" })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(s.put_booking(booking, "completed").await.0, StatusCode::OK);
    let (st, t) = transcript(s, &chat).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    (chat, t)
}

async fn a_held_chats_transcript_verifies_and_names_what_was_tampered_with(db: Arc<TestDb>) {
    let s = TestServer::start(db.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let key = public_key(&s).await;
    let (chat, doc) = held_and_completed(&s, "b-tr").await;

    // What the mediator gets: every message, each in the chain, the head signed.
    let t = &doc["transcript"];
    assert_eq!(t["chat"]["status"], "closed");
    let messages = t["messages"].as_array().unwrap();
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert!(bodies.contains(&"the gate code is 4411"), "{bodies:?}");
    assert_eq!(
        messages.len(),
        6,
        "opened, 3 texts, 1 file, completed: {bodies:?}"
    );
    let chain = t["chain"].as_array().unwrap();
    assert_eq!(chain.len(), messages.len());
    assert_eq!(t["head"], chain.last().unwrap()["hash"]);
    let first: Value = serde_json::from_slice(
        &STANDARD
            .decode(chain[0]["canonical"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["n"], 1);
    assert_eq!(first["chat_id"], chat.as_str());
    assert_eq!(first["event"]["type"], "message_stored");
    let (code, out) = verify(dir.path(), &doc, &key);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!(
            "OK: chat {chat}: 6 chain entries, 6 messages, signed by key {}",
            t["key_id"].as_str().unwrap()
        )),
        "{out}"
    );

    // The file edited: a message, an entry's bytes, the signature, another key.
    let mut edited = doc.clone();
    edited["transcript"]["messages"][1]["body"] = json!("the gate code is 0000");
    let id = messages[1]["id"].as_str().unwrap();
    assert_fails(
        verify(dir.path(), &edited, &key),
        &format!("message {id}: its body"),
    );
    let mut edited = doc.clone();
    let entry = STANDARD
        .decode(chain[2]["canonical"].as_str().unwrap())
        .unwrap();
    let entry = String::from_utf8(entry)
        .unwrap()
        .replace("on my way", "not coming");
    edited["transcript"]["chain"][2]["canonical"] = json!(STANDARD.encode(entry));
    assert_fails(verify(dir.path(), &edited, &key), "entry 3:");
    let mut edited = doc.clone();
    edited["transcript"]["signature"] = json!(STANDARD.encode([7u8; 64]));
    assert_fails(verify(dir.path(), &edited, &key), "signature");
    let other = {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pair =
            Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref())
                .unwrap();
        STANDARD.encode(pair.public_key().as_ref())
    };
    assert_fails(verify(dir.path(), &doc, &other), "signature");

    // The database edited: one entry's hash, then two entries reordered, then an entry's
    // bytes moved onto another.
    let hash3 = chain[2]["hash"].as_str().unwrap();
    let other_hash = "ab".repeat(32);
    assert_eq!(
        db.execute(&format!(
            "UPDATE chain_entries SET hash = '{other_hash}' WHERE chat_id = '{chat}' AND n = 3"
        ))
        .await,
        1
    );
    assert_fails(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key),
        "entry 3:",
    );
    db.execute(&format!(
        "UPDATE chain_entries SET hash = '{hash3}' WHERE chat_id = '{chat}' AND n = 3"
    ))
    .await;
    let (code, out) = verify(dir.path(), &transcript(&s, &chat).await.1, &key);
    assert_eq!(code, 0, "restored: {out}");
    for (from, to) in [(2, -2), (4, 2), (-2, 4)] {
        db.execute(&format!(
            "UPDATE chain_entries SET n = {to} WHERE chat_id = '{chat}' AND n = {from}"
        ))
        .await;
    }
    assert_fails(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key),
        "entry 2:",
    );
    for (from, to) in [(2, -2), (4, 2), (-2, 4)] {
        db.execute(&format!(
            "UPDATE chain_entries SET n = {to} WHERE chat_id = '{chat}' AND n = {from}"
        ))
        .await;
    }
    assert_eq!(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key).0,
        0,
        "put back"
    );
    // A sealed body replaced: it no longer opens, and the transcript says whose it was.
    let id = messages[3]["id"].as_str().unwrap();
    let sealed = STANDARD.encode([9u8; 40]);
    assert_eq!(
        db.execute(&format!(
            "UPDATE messages SET body = '{sealed}' WHERE id = '{id}'"
        ))
        .await,
        1
    );
    assert_fails(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key),
        &format!("message {id}: its body"),
    );

    // Released: deleted, and with it the transcript.
    let (st, _) = s
        .call(
            Method::DELETE,
            "/api/v1/platform/bookings/b-tr/hold",
            Some(PLATFORM_KEY),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    eventually("deleted after the release", || async {
        transcript(&s, &chat).await.0 == StatusCode::NOT_FOUND
    })
    .await;
    s.stop().await;
}

async fn a_plaintext_chats_transcript_names_edited_rows(db: Arc<TestDb>) {
    let s = TestServer::start_with(db.clone(), &[("ENCRYPTION", "off")]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = public_key(&s).await;
    let (chat, doc) = held_and_completed(&s, "b-plain").await;
    assert_eq!(verify(dir.path(), &doc, &key).0, 0);

    // A message's body rewritten in place: the chain still holds what was said.
    let changed = db
        .execute(&format!(
            "UPDATE messages SET body = 'on time' WHERE chat_id = '{chat}' AND body = 'on my way'"
        ))
        .await;
    assert_eq!(changed, 1);
    let id = doc["transcript"]["messages"][2]["id"].as_str().unwrap();
    assert_fails(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key),
        &format!("message {id}: its body"),
    );
    // The chain entry rewritten to match: its hash no longer follows.
    db.execute(&format!(
        "UPDATE chain_entries SET canonical = REPLACE(canonical, 'on my way', 'on time') \
         WHERE chat_id = '{chat}'"
    ))
    .await;
    assert_fails(
        verify(dir.path(), &transcript(&s, &chat).await.1, &key),
        "entry 3:",
    );
    s.stop().await;
}

async fn transcripts_are_for_the_platform_only(db: Arc<TestDb>) {
    let s = TestServer::start(db).await;
    let (st, b) = s.put_booking("b-auth", "accepted").await;
    assert_eq!(st, StatusCode::OK);
    let chat = b["chat"]["id"].as_str().unwrap();
    let path = format!("/api/v1/platform/chats/{chat}/transcript");
    let customer = s.token("c1", Role::Customer);
    for (bearer, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(customer.as_str()), StatusCode::FORBIDDEN),
        (Some("wrong-platform-key-000"), StatusCode::UNAUTHORIZED),
    ] {
        let (st, _) = s.call(Method::GET, &path, bearer, None).await;
        assert_eq!(st, status, "{bearer:?}");
        let (st, _) = s
            .call(Method::GET, "/api/v1/platform/transcript-key", bearer, None)
            .await;
        assert_eq!(st, status, "{bearer:?}");
    }
    let (st, b) = transcript(&s, "no-such-chat").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["error"]["code"], "not_found");
    // An active chat has one too: its opening.
    let (st, t) = transcript(&s, chat).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["transcript"]["chain"].as_array().unwrap().len(), 1);
    s.stop().await;
}

omw_testkit::each_backend!(
    a_held_chats_transcript_verifies_and_names_what_was_tampered_with,
    a_plaintext_chats_transcript_names_edited_rows,
    transcripts_are_for_the_platform_only,
);
