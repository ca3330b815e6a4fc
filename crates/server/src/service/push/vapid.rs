//! The server's VAPID identity (RFC 8292): a P-256 key that signs a short JWT on every push, so
//! a push service knows the pushes of a subscription come from the server the browser
//! subscribed with (`applicationServerKey`).

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::keys::private_file;

/// How long one VAPID JWT is valid (RFC 8292 allows at most 24 h).
const JWT_LIFETIME_SECS: i64 = 12 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("{path}: {problem}")]
    Key { path: PathBuf, problem: String },
    #[error("signing the VAPID JWT: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

pub struct Vapid {
    signing: EncodingKey,
    /// The public key, base64url of the uncompressed point: `applicationServerKey` and `k=`.
    public: String,
    subject: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl Vapid {
    /// The key in `file`, or, when none is configured, the one at `default` — created there on
    /// first start.
    pub fn load(file: Option<&Path>, default: &Path, subject: &str) -> Result<Vapid, VapidError> {
        let path = file.unwrap_or(default);
        let pem = match std::fs::read_to_string(path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.is_none() => create(path)?,
            Err(e) => return Err(key_error(path, e)),
        };
        Self::from_pem(&pem, subject).map_err(|problem| VapidError::Key {
            path: path.to_owned(),
            problem,
        })
    }

    /// A PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) P-256 key; other blocks (the
    /// `EC PARAMETERS` that `openssl ecparam -genkey` writes first) are skipped.
    pub fn from_pem(pem: &str, subject: &str) -> Result<Vapid, String> {
        let blocks = pem::parse_many(pem).map_err(|e| format!("not a PEM key: {e}"))?;
        let block = blocks
            .iter()
            .find(|b| matches!(b.tag(), "PRIVATE KEY" | "EC PRIVATE KEY"))
            .ok_or("no PRIVATE KEY or EC PRIVATE KEY block")?;
        let pair =
            EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, block.contents())
                .map_err(|e| format!("not a P-256 private key: {e}"))?;
        let pkcs8 = pair
            .to_pkcs8v1()
            .map_err(|_| "the key cannot be re-encoded".to_string())?;
        Ok(Vapid {
            signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            subject: subject.to_owned(),
        })
    }

    /// The public key for `applicationServerKey` (base64url).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to a service at `origin` (`https://host[:port]`).
    pub fn authorization(&self, origin: &str, now_secs: i64) -> Result<String, VapidError> {
        let claims = Claims {
            aud: origin,
            exp: now_secs.saturating_add(JWT_LIFETIME_SECS),
            sub: &self.subject,
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)?;
        Ok(format!("vapid t={jwt}, k={}", self.public))
    }
}

fn key_error(path: &Path, e: impl std::fmt::Display) -> VapidError {
    VapidError::Key {
        path: path.to_owned(),
        problem: e.to_string(),
    }
}

/// A new key at `path`, readable by this user only (another node's, if it made one first).
fn create(path: &Path) -> Result<String, VapidError> {
    let (pem, created) = private_file::read_or_create(path, || {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "generating a key failed".to_string())?;
        Ok(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            pkcs8.as_ref().to_vec(),
        )))
    })
    .map_err(|e| key_error(path, e))?;
    if created {
        tracing::info!(path = %path.display(), "created a VAPID key for Web Push; keep it: browsers' subscriptions are bound to it");
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_kept_and_signs_verifiable_jwts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/vapid.pem");
        let a = Vapid::load(None, &path, "mailto:ops@example.com").unwrap();
        let b = Vapid::load(None, &path, "mailto:ops@example.com").unwrap();
        assert_eq!(
            a.public_key(),
            b.public_key(),
            "the key is read back, not replaced"
        );
        let raw = URL_SAFE_NO_PAD.decode(a.public_key()).unwrap();
        assert_eq!((raw.len(), raw[0]), (65, 4), "an uncompressed P-256 point");

        let auth = a.authorization("https://push.example.com", 1_000).unwrap();
        let (t, k) = auth
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .unwrap();
        assert_eq!(k, a.public_key());
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            raw,
        );
        key.verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .expect("signed by the VAPID key");
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "https://push.example.com");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        assert_eq!(claims["exp"], 1_000 + JWT_LIFETIME_SECS);
    }

    #[test]
    fn a_configured_key_must_exist_and_be_p256() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(Vapid::load(Some(&missing), &missing, "mailto:a@b.c").is_err());
        assert!(!missing.exists(), "a configured key is never created");
        assert!(Vapid::from_pem("not pem", "mailto:a@b.c").is_err());
        // openssl ecparam -genkey writes the curve's parameters first.
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let two = format!(
            "{}{}",
            pem::encode(&pem::Pem::new(
                "EC PARAMETERS",
                vec![6, 8, 42, 134, 72, 206, 61, 3, 1, 7]
            )),
            pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()))
        );
        let parsed = Vapid::from_pem(&two, "mailto:a@b.c");
        assert!(parsed.is_ok(), "{:?}", parsed.err());
        let rsa_like = pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
        ));
        assert!(Vapid::from_pem(&rsa_like, "mailto:a@b.c").is_err());
    }
}
