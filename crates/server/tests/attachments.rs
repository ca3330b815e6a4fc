//! SPEC §6: uploads typed by content, sanitized, private, and deleted with their chat.

mod common;
#[path = "common/samples.rs"]
mod samples;

use std::{sync::Arc, time::Duration};

use common::{TestServer, attachment_id, code, file_path, thumb_path};
use omw_domain::Role;
use omw_testkit::{Kind, TestDb};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Nothing of an upload stays in the server's folder (refused, or gone with its chat).
fn assert_no_files(s: &TestServer) {
    let dir = s._upload_dir.path();
    assert!(files_in(dir).is_empty(), "left behind: {:?}", files_in(dir));
}

fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_in(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn every_allowed_type_is_accepted_by_content() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    // The client's name and MIME are ignored: everything claims to be octet-stream.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("p.jpg", samples::jpeg_with_gps(), "image/jpeg"),
        ("p.png", samples::png(), "image/png"),
        ("p.gif", samples::gif(), "image/gif"),
        ("p.webp", samples::webp(), "image/webp"),
        ("d.pdf", samples::pdf(), "application/pdf"),
        (
            "d.docx",
            samples::docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "d.xlsx",
            samples::xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "d.pptx",
            samples::pptx(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "d.odt",
            samples::odt(),
            "application/vnd.oasis.opendocument.text",
        ),
        (
            "notes.txt",
            "plain text, naïve ✓\nline 2\n".into(),
            "text/plain; charset=utf-8",
        ),
        ("v.wav", samples::wav(), "audio/wav"),
        ("v.ogg", samples::ogg_opus(), "audio/ogg"),
        ("v.mp3", samples::mp3(), "audio/mpeg"),
        ("v.m4a", samples::m4a(), "audio/mp4"),
        ("v.webm", samples::webm(), "audio/webm"),
    ];
    for (name, bytes, mime) in cases {
        let (st, b) = s
            .upload(Some(&c), &chat, name, "application/octet-stream", bytes)
            .await;
        assert_eq!(st, StatusCode::CREATED, "{name}: {b}");
        let a = &b["attachment"];
        assert_eq!(a["mime"], mime, "{name}");
        assert_eq!(a["name"], name);
        assert_eq!(
            a["url"],
            format!("/api/v1/attachments/{}", a["id"].as_str().unwrap())
        );
        if mime.starts_with("image/") {
            assert!(a["thumb_url"].is_string(), "{name}");
            assert!(a["width"].as_i64().unwrap() > 0);
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn voice_notes_get_their_duration() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    for (name, bytes) in [("a.wav", samples::wav()), ("a.ogg", samples::ogg_opus())] {
        let (st, b) = s.upload(Some(&c), &chat, name, "audio/x", bytes).await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(b["attachment"]["duration_ms"], 1000, "{name}");
    }
    // A MediaRecorder WebM has no duration in its header: the client may say it.
    let part = reqwest::multipart::Part::bytes(samples::webm()).file_name("voice.webm");
    let form = reqwest::multipart::Form::new()
        .text("duration_ms", "4200")
        .part("file", part);
    let res = s
        .http
        .post(s.url(&format!("/api/v1/chats/{chat}/attachments")))
        .bearer_auth(&c)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let b: serde_json::Value = res.json().await.unwrap();
    assert_eq!(b["attachment"]["duration_ms"], 4200);
    s.stop().await;
}

#[tokio::test]
async fn disguised_and_forbidden_types_are_refused() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let mut polyglot = b"GIF89a".to_vec();
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let mut broken_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    broken_jpeg.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.extend(vec![0u8; 128]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "photo.jpg",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
        ),
        ("page.txt", b"  <html><body>hi</body></html>".to_vec()),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
        ),
        ("cat.png", exe),
        ("archive.docx", samples::plain_zip()),
        ("anim.gif", polyglot),
        ("photo.jpeg", broken_jpeg),
        ("bin.txt", b"text\0with\0nul".to_vec()),
        ("latin1.txt", vec![0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF]),
    ];
    for (name, bytes) in cases {
        let (st, b) = s.upload(Some(&c), &chat, name, "image/png", bytes).await;
        assert_eq!(
            (st, code(&b)),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "{name}: {b}"
        );
    }
    // Nothing of the refused files stays behind.
    assert_no_files(&s);
    s.stop().await;
}

#[tokio::test]
async fn the_size_limit_at_and_beyond_its_edge() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let max = 10 * 1024 * 1024;
    let (st, b) = s
        .upload(Some(&c), &chat, "big.txt", "text/plain", vec![b'a'; max])
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["attachment"]["size"], max as i64);
    let (st, b) = s
        .upload(
            Some(&c),
            &chat,
            "big.txt",
            "text/plain",
            vec![b'a'; max + 1],
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (st, b) = s
        .upload(Some(&c), &chat, "empty.txt", "text/plain", Vec::new())
        .await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "invalid_payload"));
    s.stop().await;
}

/// Raw HTTP/1.1 with a Content-Length that does not match the body.
async fn raw_upload(
    s: &TestServer,
    chat: &str,
    token: &str,
    declared: usize,
    body_len: usize,
) -> String {
    let addr = s.running.as_ref().unwrap().addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let boundary = "XBOUNDARY";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
    body.extend(vec![b'a'; body_len]);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let head = format!(
        "POST /api/v1/chats/{chat}/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(&body).await;
    let mut resp = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut resp)).await;
    String::from_utf8_lossy(&resp).to_string()
}

#[tokio::test]
async fn a_lying_content_length_is_refused() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    // Declares a small body, sends 11 MiB: the server reads what was declared, which is not
    // a complete multipart body.
    let resp = raw_upload(&s, &chat, &c, 1000, 11 * 1024 * 1024).await;
    assert!(
        resp.starts_with("HTTP/1.1 400") || resp.starts_with("HTTP/1.1 413"),
        "{}",
        &resp[..resp.len().min(200)]
    );
    // Declares more than the limit: refused before reading.
    let resp = raw_upload(&s, &chat, &c, 64 * 1024 * 1024, 10).await;
    assert!(
        resp.starts_with("HTTP/1.1 413"),
        "{}",
        &resp[..resp.len().min(200)]
    );
    assert_no_files(&s);
    s.stop().await;
}

#[tokio::test]
async fn strangers_and_anonymous_users_get_nothing() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let other_chat = s.accepted_chat("b2").await;
    let stranger = s.token("c9", Role::Customer);
    let (st, b) = s
        .upload(None, &chat, "a.png", "image/png", samples::png())
        .await;
    assert_eq!((st, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (st, b) = s
        .upload(Some(&stranger), &chat, "a.png", "image/png", samples::png())
        .await;
    // Someone else's chat answers as a missing one (no existence oracle).
    assert_eq!((st, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
    let (missing_st, missing) = s
        .upload(
            Some(&stranger),
            "no-such-chat",
            "a.png",
            "image/png",
            samples::png(),
        )
        .await;
    assert_eq!((st, &b), (missing_st, &missing));
    let (_, b) = s
        .upload(Some(&c), &chat, "a.png", "image/png", samples::png())
        .await;
    let id = attachment_id(&b);
    let res = s.fetch(None, &file_path(&id), None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for path in [file_path(&id), thumb_path(&id)] {
        let res = s.fetch(Some(&stranger), &path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The worker of the chat may see it.
    let w = s.token("w1", Role::Worker);
    assert_eq!(
        s.fetch(Some(&w), &file_path(&id), None).await.status(),
        StatusCode::OK
    );
    // An upload of chat A cannot be sent in chat B, nor by the other participant.
    let body = json!({ "client_id": "x1", "kind": "image", "attachment_id": id });
    let (st, b) = s.send(Some(&c), &other_chat, body.clone()).await;
    assert_eq!((st, code(&b)), (StatusCode::BAD_REQUEST, "invalid_payload"));
    let (st, _) = s.send(Some(&w), &chat, body.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, b) = s.send(Some(&c), &chat, body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["message"]["attachment"]["id"], id.as_str());
    assert_eq!(b["message"]["kind"], "image");
    s.stop().await;
}

#[tokio::test]
async fn downloads_are_private_typed_and_safe() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let (_, b) = s
        .upload(
            Some(&c),
            &chat,
            "../../etc/passwd.pdf",
            "text/html",
            samples::pdf(),
        )
        .await;
    assert_eq!(b["attachment"]["name"], "passwd.pdf");
    let id = attachment_id(&b);
    let res = s.fetch(Some(&c), &file_path(&id), None).await;
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"passwd.pdf\"")
    );
    assert!(h["cache-control"].to_str().unwrap().contains("private"));
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        samples::pdf().as_slice()
    );

    // Audio: inline, with ranges.
    let (_, b) = s
        .upload(Some(&c), &chat, "v.wav", "audio/wav", samples::wav())
        .await;
    let id = attachment_id(&b);
    let res = s.fetch(Some(&c), &file_path(&id), Some("bytes=0-99")).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 0-99/{}", samples::wav().len())
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), &samples::wav()[..100]);
    s.stop().await;
}

#[tokio::test]
async fn photos_lose_exif_and_gps_are_turned_upright_and_get_a_smaller_thumbnail() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let original = samples::jpeg_with_gps();
    assert!(
        original.windows(6).any(|w| w == b"Exif\0\0"),
        "the sample carries EXIF"
    );
    let (st, b) = s
        .upload(Some(&c), &chat, "home.jpg", "image/jpeg", original.clone())
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let a = &b["attachment"];
    // Orientation 6 (rotate 90°) applied: 64×48 becomes 48×64.
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(48), Some(64))
    );
    let id = a["id"].as_str().unwrap();
    let res = s.fetch(Some(&c), &file_path(id), None).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let stored = res.bytes().await.unwrap();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF survived");
    assert!(
        !stored.windows(4).any(|w| w == [0x25, 0x88, 0x04, 0x00]),
        "GPS IFD survived"
    );
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (48, 64));
    let thumb = s.fetch(Some(&c), &thumb_path(id), None).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(t.width() <= 320 && t.height() <= 320);
    // A large photo: the thumbnail is smaller than the original in bytes and pixels.
    let big = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
    });
    let mut jpg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 90)
        .encode_image(&big)
        .unwrap();
    let (_, b) = s
        .upload(Some(&c), &chat, "big.jpg", "image/jpeg", jpg)
        .await;
    let id = attachment_id(&b);
    let full = s.download(&c, &file_path(&id)).await;
    let small = s.download(&c, &thumb_path(&id)).await;
    assert!(
        small.len() * 4 < full.len(),
        "thumb {} vs {}",
        small.len(),
        full.len()
    );
    // Transparent images get JPEG thumbnails too (flattened onto white).
    let (_, b) = s
        .upload(Some(&c), &chat, "logo.png", "image/png", samples::png())
        .await;
    let id = attachment_id(&b);
    let thumb = s.fetch(Some(&c), &thumb_path(&id), None).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let bytes = thumb.bytes().await.unwrap();
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    s.stop().await;
}

#[tokio::test]
async fn pixel_bombs_are_refused_before_decoding() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    // A PNG header claiming 30000 × 30000 pixels.
    let mut png = samples::png();
    png[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let (st, b) = s
        .upload(Some(&c), &chat, "bomb.png", "image/png", png)
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        "{b}"
    );
    s.stop().await;
}

#[tokio::test]
async fn files_go_with_their_chat_and_unsent_uploads_expire() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let (_, b) = s
        .upload(
            Some(&c),
            &chat,
            "p.jpg",
            "image/jpeg",
            samples::jpeg_with_gps(),
        )
        .await;
    let id = attachment_id(&b);
    let body = json!({ "client_id": "m1", "kind": "image", "attachment_id": id });
    s.send(Some(&c), &chat, body).await;
    let (_, b) = s
        .upload(
            Some(&c),
            &chat,
            "unsent.pdf",
            "application/pdf",
            samples::pdf(),
        )
        .await;
    let unsent = attachment_id(&b);
    let dir = s._upload_dir.path().to_path_buf();
    assert_eq!(
        files_in(&dir).len(),
        3,
        "photo, its thumbnail, the unsent PDF"
    );

    // Unsent uploads older than the limit are removed by the sweeper.
    let chats = s.running.as_ref().unwrap().state.chats.clone();
    assert_eq!(chats.sweep_unlinked(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(
        s.fetch(Some(&c), &file_path(&unsent), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(files_in(&dir).len(), 2);

    s.put_booking("b1", "completed").await;
    assert_eq!(
        s.fetch(Some(&c), &file_path(&id), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_no_files(&s);
    s.stop().await;
}

#[tokio::test]
async fn downloads_are_never_cached() {
    let (s, chat, c) = TestServer::with_chat(&[]).await;
    let (_, b) = s
        .upload(Some(&c), &chat, "p.png", "image/png", samples::png())
        .await;
    let id = attachment_id(&b);
    for path in [file_path(&id), thumb_path(&id)] {
        let res = s.fetch(Some(&c), &path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-store",
            "{path}"
        );
        let res = s.fetch(Some(&c), &path, Some("bytes=0-9")).await;
        assert_eq!(
            res.headers()["cache-control"],
            "private, no-store",
            "{path}"
        );
    }
    s.stop().await;
}

/// A `side`×`side` GIF of `frames` full-canvas frames (each one colour, so the file is small).
fn full_frame_gif(side: u16, frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, side, side, &[0, 0, 0, 255, 0, 0]).unwrap();
        for i in 0..frames {
            let frame = gif::Frame {
                width: side,
                height: side,
                delay: 5,
                buffer: vec![(i % 2) as u8; usize::from(side) * usize::from(side)].into(),
                ..Default::default()
            };
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

#[tokio::test]
async fn an_animation_is_refused_past_its_pixel_budget() {
    // 10 frames of 500 × 500 fit exactly.
    let (s, chat, c) = TestServer::with_chat(&[("MAX_GIF_PIXELS", "2500000")]).await;
    let (st, b) = s
        .upload(
            Some(&c),
            &chat,
            "ok.gif",
            "image/gif",
            full_frame_gif(500, 10),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["attachment"]["mime"], "image/gif");
    let id = attachment_id(&b);
    let stored = s.download(&c, &file_path(&id)).await;
    let mut dec = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(stored.to_vec()))
        .unwrap();
    let mut frames = 0;
    while dec.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 10, "the animation survives");
    let (st, b) = s
        .upload(
            Some(&c),
            &chat,
            "big.gif",
            "image/gif",
            full_frame_gif(500, 11),
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{b}"
    );
    let dir = s._upload_dir.path();
    assert_eq!(
        files_in(dir).len(),
        2,
        "the accepted GIF and its thumbnail only"
    );
    s.stop().await;
}

/// Every configured database backend (SQLite always).
async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Arc<TestDb>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for kind in Kind::ALL {
        if let Some(db) = TestDb::create(kind).await {
            body(Arc::new(db)).await;
        }
    }
}

#[tokio::test]
async fn unsent_uploads_have_quotas_per_user_and_per_chat() {
    each_backend(quotas).await;
}

async fn quotas(db: Arc<TestDb>) {
    let s = TestServer::start_with(
        db,
        &[
            ("UPLOAD_QUOTA_USER_BYTES", "3000"),
            ("UPLOAD_QUOTA_CHAT_BYTES", "5000"),
        ],
    )
    .await;
    let chat = s.accepted_chat("b1").await;
    let c = s.token("c1", Role::Customer);
    let w = s.token("w1", Role::Worker);
    let text = |n: usize| vec![b'a'; n];
    let up = |tok: String, n: usize| {
        let s = &s;
        let chat = chat.clone();
        async move {
            s.upload(Some(&tok), &chat, "a.txt", "text/plain", text(n))
                .await
        }
    };
    let too_large = (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // The customer: 1000 + 1500, then 600 more would pass 3000 (refused after reading).
    let (st, b) = up(c.clone(), 1000).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let first = attachment_id(&b);
    assert_eq!(up(c.clone(), 1500).await.0, StatusCode::CREATED);
    let (st, b) = up(c.clone(), 600).await;
    assert_eq!((st, code(&b)), too_large, "{b}");
    // Exactly at the edge.
    assert_eq!(up(c.clone(), 500).await.0, StatusCode::CREATED);
    // Full: refused before the body is kept.
    let (st, b) = up(c.clone(), 1).await;
    assert_eq!((st, code(&b)), too_large, "{b}");
    // The worker has a quota of their own, but the chat's is shared: 3000 + 2000 = 5000.
    assert_eq!(up(w.clone(), 2000).await.0, StatusCode::CREATED);
    let (st, b) = up(w.clone(), 1).await;
    assert_eq!((st, code(&b)), too_large, "{b}");
    // Sending one frees its bytes.
    let (st, _) = s
        .send(
            Some(&c),
            &chat,
            json!({ "client_id": "m1", "kind": "file", "attachment_id": first }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(up(c.clone(), 1000).await.0, StatusCode::CREATED);
    let (st, b) = up(w.clone(), 1).await;
    assert_eq!((st, code(&b)), too_large, "{b}");
    // Another chat of the same customer: their own quota still counts.
    let other = s.accepted_chat("b2").await;
    let (st, b) = s
        .upload(Some(&c), &other, "a.txt", "text/plain", text(1))
        .await;
    assert_eq!((st, code(&b)), too_large, "{b}");
    // Refused uploads leave nothing behind: 5 accepted files.
    assert_eq!(files_in(s._upload_dir.path()).len(), 5);
    s.stop().await;
}

fn received_in(s: &TestServer, bytes: &[u8]) -> omw_chat::service::uploads::Received {
    let dir = s._upload_dir.path().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = tempfile::NamedTempFile::new_in(&dir).unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    omw_chat::service::uploads::Received {
        file,
        size: bytes.len() as u64,
        name: "p.png".into(),
        duration_hint_ms: None,
    }
}

#[tokio::test]
async fn an_upload_racing_the_purge_leaves_nothing_behind() {
    each_backend(racing_the_purge).await;
}

async fn racing_the_purge(db: Arc<TestDb>) {
    let kind = db.kind;
    let s = TestServer::start(db).await;
    let chats = s.running.as_ref().unwrap().state.chats.clone();
    let chat = s.accepted_chat("b1").await;
    let who = omw_domain::Principal {
        user_id: "c1".into(),
        role: Role::Customer,
        name: None,
    };
    // The upload is checked and its files written while the chat is open …
    let staged = chats
        .stage_upload(&who, &chat, received_in(&s, &samples::png()))
        .await
        .unwrap();
    assert_eq!(files_in(&s._upload_dir.path().join("files")).len(), 1);
    // … the chat completes and is purged (retention 0) before its row is written …
    let (st, _) = s.put_booking("b1", "completed").await;
    assert_eq!(st, StatusCode::OK);
    // … then the row: refused, and the files go.
    let e = chats.commit_upload(staged).await.unwrap_err();
    assert!(
        matches!(e.code.as_str(), "not_found" | "chat_closed"),
        "{e:?}"
    );
    assert_no_files(&s);
    s.stop().await;

    // An upload cut off between its file and its row (a crash): the purge finds the file.
    let db = Arc::new(TestDb::create(kind).await.unwrap());
    let s = TestServer::start(db).await;
    let chat = s.accepted_chat("b1").await;
    for folder in ["files", "thumbs"] {
        let dir = s._upload_dir.path().join(folder).join(&chat);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stray"), b"x").unwrap();
    }
    s.put_booking("b1", "completed").await;
    assert_no_files(&s);
    s.stop().await;

    // Closed but kept (retention): the same, with `chat_closed`.
    let db = Arc::new(TestDb::create(kind).await.unwrap());
    let s = TestServer::start_with(db, &[("CHAT_RETENTION", "1h")]).await;
    let chats = s.running.as_ref().unwrap().state.chats.clone();
    let chat = s.accepted_chat("b1").await;
    let staged = chats
        .stage_upload(&who, &chat, received_in(&s, &samples::png()))
        .await
        .unwrap();
    s.put_booking("b1", "cancelled").await;
    let e = chats.commit_upload(staged).await.unwrap_err();
    assert_eq!(e.code.as_str(), "chat_closed");
    assert_no_files(&s);
    s.stop().await;
}

#[tokio::test]
async fn image_decodes_wait_their_turn_then_get_unavailable() {
    let decodes = [("MAX_CONCURRENT_DECODES", "1"), ("DECODE_WAIT", "300ms")];
    let (s, chat, c) = TestServer::with_chat(&decodes).await;
    let chats = s.running.as_ref().unwrap().state.chats.clone();
    // Another decode holds the only slot.
    let busy = chats.decodes().enter(1).await.unwrap();
    let part = reqwest::multipart::Part::bytes(samples::png()).file_name("p.png");
    let res = s
        .http
        .post(s.url(&format!("/api/v1/chats/{chat}/attachments")))
        .bearer_auth(&c)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let b: serde_json::Value = res.json().await.unwrap();
    assert_eq!(code(&b), "unavailable");
    assert!(b["error"]["retry_after_ms"].as_u64().unwrap() > 0, "{b}");
    // Files that are not decoded do not wait.
    let (st, _) = s
        .upload(Some(&c), &chat, "d.pdf", "application/pdf", samples::pdf())
        .await;
    assert_eq!(st, StatusCode::CREATED);
    drop(busy);
    let (st, b) = s
        .upload(Some(&c), &chat, "p.png", "image/png", samples::png())
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // Nothing of the refused image stays behind: the PDF, the PNG and its thumbnail.
    assert_eq!(files_in(s._upload_dir.path()).len(), 3);
    s.stop().await;
}
