//! A stand-in for a browser's push service (RFC 8030) on a loopback port, and the browser's
//! side of RFC 8291: the test's own P-256 key and auth secret, to which the server encrypts.
//! It decrypts what it receives and checks the VAPID JWT (RFC 8292) with an implementation of
//! its own (aws-lc-rs), independent of the server's.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use aws_lc_rs::{aead, agreement, hkdf, rand::SecureRandom, signature};
use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

/// One push as the service received it.
#[derive(Clone, Debug)]
pub struct Push {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Push {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The push service: records every push and answers with the next scripted status (201 once
/// the script is used up).
#[derive(Clone, Default)]
pub struct PushService {
    seen: Arc<Mutex<Vec<Push>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    pub origin: String,
}

impl PushService {
    pub async fn start(script: &[u16]) -> PushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let svc = PushService {
            origin: format!("http://{}", listener.local_addr().unwrap()),
            ..PushService::default()
        };
        svc.script.lock().unwrap().extend(script);
        let app = Router::new()
            .route("/push/{device}", post(receive))
            .with_state(svc.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        svc
    }

    pub fn seen(&self) -> Vec<Push> {
        self.seen.lock().unwrap().clone()
    }

    /// The endpoint of a subscription of `device`.
    pub fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.origin)
    }
}

async fn receive(
    State(svc): State<PushService>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::http::StatusCode {
    svc.seen.lock().unwrap().push(Push {
        path: uri.path().to_string(),
        headers,
        body,
    });
    let status = svc.script.lock().unwrap().pop_front().unwrap_or(201);
    axum::http::StatusCode::from_u16(status).unwrap()
}

/// A browser's subscription keys: what `pushManager.subscribe` makes.
pub struct Browser {
    private: agreement::PrivateKey,
    pub p256dh: Vec<u8>,
    pub auth: [u8; 16],
}

impl Browser {
    pub fn new() -> Browser {
        let private = agreement::PrivateKey::generate(&agreement::ECDH_P256).unwrap();
        let p256dh = private.compute_public_key().unwrap().as_ref().to_vec();
        let mut auth = [0u8; 16];
        aws_lc_rs::rand::SystemRandom::new()
            .fill(&mut auth)
            .unwrap();
        Browser {
            private,
            p256dh,
            auth,
        }
    }

    /// `PushSubscription.toJSON()` for `endpoint`.
    pub fn subscription(&self, endpoint: &str) -> Value {
        serde_json::json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(&self.p256dh),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            },
        })
    }

    /// The plaintext of an `aes128gcm` push body (RFC 8291 §3.4, RFC 8188), one record.
    pub fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        let (salt, rest) = body.split_at(16);
        let idlen = rest[4] as usize;
        let (keyid, sealed) = rest[5..].split_at(idlen);
        let record_size = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        assert!(sealed.len() <= record_size, "one record");
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, keyid);
        let ecdh = agreement::agree(&self.private, peer, (), |s| Ok(s.to_vec())).unwrap();
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(&self.p256dh);
        key_info.extend_from_slice(keyid);
        let ikm = expand(&extract(&self.auth, &ecdh), &key_info, 32);
        let prk = extract(salt, &ikm);
        let cek = expand(&prk, b"Content-Encoding: aes128gcm\0", 16);
        let nonce = expand(&prk, b"Content-Encoding: nonce\0", 12);
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).unwrap());
        let mut buf = sealed.to_vec();
        let plain = key
            .open_in_place(
                aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(),
                aead::Aad::empty(),
                &mut buf,
            )
            .expect("the payload decrypts with the browser's keys");
        // The last record ends with the delimiter 2, then zero padding.
        let end = plain.iter().rposition(|b| *b != 0).unwrap();
        assert_eq!(plain[end], 2, "the last record's delimiter");
        plain[..end].to_vec()
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn extract(salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    // HKDF-Extract is HMAC(salt, ikm); expanding the PRK with aws-lc-rs needs it as a Prk.
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, salt),
        ikm,
    );
    tag.as_ref().to_vec()
}

fn expand(prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk);
    let mut out = vec![0u8; len];
    prk.expand(&[info], Len(len))
        .unwrap()
        .fill(&mut out)
        .unwrap();
    out
}

/// The VAPID claims of a push's `Authorization: vapid t=…, k=…`, after checking that `k` is
/// `server_key` and that `t` is an ES256 JWT signed by it.
pub fn vapid_claims(push: &Push, server_key: &str) -> Value {
    let auth = push.header("authorization");
    let (t, k) = auth
        .strip_prefix("vapid t=")
        .and_then(|r| r.split_once(", k="))
        .unwrap_or_else(|| panic!("a VAPID authorization: {auth:?}"));
    assert_eq!(k, server_key, "k is the server's VAPID key");
    let (signed, sig) = t.rsplit_once('.').unwrap();
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        URL_SAFE_NO_PAD.decode(k).unwrap(),
    )
    .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
    .expect("the JWT is signed by the VAPID key");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}
