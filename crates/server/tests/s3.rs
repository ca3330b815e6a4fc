//! Files in an S3-compatible bucket (STORAGE_URL): a real S3 API server (moto) on loopback.

mod common;
#[path = "common/samples.rs"]
mod samples;

use std::{process::Stdio, time::Duration};

use common::{TestServer, attachment_id, file_path};
use reqwest::StatusCode;
use serde_json::json;

/// `python3 -m moto.server` on a free loopback port; None (loudly) when moto is not installed
/// outside CI.
async fn moto() -> Option<(tokio::process::Child, String)> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import moto.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "CI=true but moto is not installed (scripts/test installs it)"
        );
        eprintln!("SKIPPED: S3 storage test — `pip install \"moto[server]\"` to run it");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(&url).send().await.is_ok() {
            return Some((child, url));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto did not start");
}

async fn keys(http: &reqwest::Client, bucket_url: &str) -> Vec<String> {
    let xml = http
        .get(bucket_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_live_in_the_bucket_and_go_with_their_chat() {
    let Some((_moto, endpoint)) = moto().await else {
        return;
    };
    let http = reqwest::Client::new();
    let bucket_url = format!("{endpoint}/omw-files");
    assert!(
        http.put(&bucket_url)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    }
    let storage = format!("s3://omw-files/chat-files?endpoint={endpoint}&region=us-east-1");
    let (s, chat, c) = TestServer::with_chat(&[("STORAGE_URL", &storage)]).await;

    let (st, b) = s
        .upload(
            Some(&c),
            &chat,
            "home.jpg",
            "image/jpeg",
            samples::jpeg_with_gps(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = attachment_id(&b);
    let (st, _) = s
        .upload(
            Some(&c),
            &chat,
            "doc.pdf",
            "application/pdf",
            samples::pdf(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let body = json!({ "client_id": "m1", "kind": "image", "attachment_id": id });
    let (st, _) = s.send(Some(&c), &chat, body).await;
    assert_eq!(st, StatusCode::CREATED);

    let stored = keys(&http, &bucket_url).await;
    assert_eq!(stored.len(), 3, "photo, thumbnail, PDF: {stored:?}");
    assert!(
        stored.iter().all(|k| k.starts_with("chat-files/")),
        "{stored:?}"
    );
    assert!(
        s._upload_dir
            .path()
            .read_dir()
            .unwrap()
            .flatten()
            .all(|e| e.file_name() == "tmp"),
        "nothing stored locally"
    );

    let res = s.fetch(Some(&c), &file_path(&id), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    let res = s.fetch(Some(&c), &file_path(&id), Some("bytes=0-9")).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap().len(), 10);

    s.put_booking("b1", "completed").await;
    assert!(
        keys(&http, &bucket_url).await.is_empty(),
        "files left in the bucket"
    );
    assert_eq!(
        s.fetch(Some(&c), &file_path(&id), None).await.status(),
        StatusCode::NOT_FOUND
    );
    s.stop().await;
}
