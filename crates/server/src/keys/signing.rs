//! The transcript signing key (SPEC §9.7): Ed25519, from `TRANSCRIPT_SIGNING_KEY_FILE` (PKCS#8
//! PEM, as `openssl genpkey -algorithm ed25519` writes it), or created under `./data` on first
//! start. It signs the head of a chat's chain; anyone holding the public key checks a
//! transcript offline.

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{KeyFileError, private_file};

/// The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

pub struct TranscriptSigner {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl TranscriptSigner {
    /// The key in `file`, or, when none is configured, the one at `default`, created there
    /// (with a warning to keep it) on first start. A configured file is never created.
    pub fn load(file: Option<&Path>, default: &Path) -> Result<TranscriptSigner, KeyFileError> {
        let path = file.unwrap_or(default);
        let fail = |problem: String| KeyFileError {
            path: path.to_owned(),
            problem,
        };
        let pem = if file.is_some() {
            std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?
        } else {
            let (pem, created) = private_file::read_or_create(path, || {
                let doc = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
                    .map_err(|_| "generating a key failed".to_string())?;
                Ok(pem::encode(&pem::Pem::new(
                    "PRIVATE KEY",
                    doc.as_ref().to_vec(),
                )))
            })
            .map_err(fail)?;
            if created {
                tracing::warn!(
                    path = %path.display(),
                    "created a transcript signing key; keep it (set TRANSCRIPT_SIGNING_KEY_FILE): \
                     transcripts signed with it verify against its public key only"
                );
            }
            pem
        };
        Self::from_pem(&pem).map_err(fail)
    }

    pub fn from_pem(pem: &str) -> Result<TranscriptSigner, String> {
        let block = pem::parse(pem).map_err(|e| format!("not a PEM key: {e}"))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(format!("a {} block, not PRIVATE KEY", block.tag()));
        }
        // PKCS#8 v1 (OpenSSL's) carries no public key: it is derived.
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(block.contents())
            .map_err(|e| format!("not an Ed25519 private key: {e}"))?;
        let key_id = key_id(pair.public_key().as_ref());
        Ok(TranscriptSigner { pair, key_id })
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public key as PEM (SubjectPublicKeyInfo), for tools such as OpenSSL.
    pub fn public_pem(&self) -> String {
        let der = [&SPKI_PREFIX[..], self.public_key()].concat();
        pem::encode(&pem::Pem::new("PUBLIC KEY", der))
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// Whether `signature` (base64) is `public`'s Ed25519 signature of `message`.
pub fn verify(public: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(sig) = STANDARD.decode(signature) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, public)
        .verify(message, &sig)
        .is_ok()
}

/// A public key given as base64 of its 32 bytes, as PEM, or as a file holding either.
pub fn parse_public_key(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let raw = if text.contains("-----BEGIN") {
        let block = pem::parse(text).map_err(|e| format!("not a PEM key: {e}"))?;
        let der = block.contents();
        let key = der
            .strip_prefix(&SPKI_PREFIX[..])
            .filter(|_| block.tag() == "PUBLIC KEY");
        key.ok_or("not an Ed25519 PUBLIC KEY")?.to_vec()
    } else if let Ok(raw) = STANDARD.decode(text) {
        raw
    } else {
        let from_file =
            std::fs::read_to_string(PathBuf::from(text)).map_err(|e| format!("{text}: {e}"))?;
        return parse_public_key(&from_file);
    };
    if raw.len() != 32 {
        return Err("an Ed25519 public key is 32 bytes".into());
    }
    Ok(raw)
}

/// A short name for a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(public: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public);
    hex::encode(&digest.as_ref()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by `openssl genpkey -algorithm ed25519` (PKCS#8 v1, no public key inside).
    const OPENSSL_KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEINxsg2z36t/6cghAZlW6tgipIdqeFUvQse1McEtWHbqh\n\
        -----END PRIVATE KEY-----\n";

    #[test]
    fn a_created_key_is_kept_and_its_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/transcript-signing.pem");
        let a = TranscriptSigner::load(None, &path).unwrap();
        let b = TranscriptSigner::load(None, &path).unwrap();
        assert_eq!(a.public_key(), b.public_key(), "read back, not replaced");
        assert_eq!(a.key_id().len(), 16);
        let sig = STANDARD.encode(a.sign(b"head"));
        assert!(verify(a.public_key(), b"head", &sig));
        assert!(!verify(a.public_key(), b"heaD", &sig));
        assert!(!verify(a.public_key(), b"head", "not base64"));
        // The PEM public key reads back to the same bytes.
        assert_eq!(parse_public_key(&a.public_pem()).unwrap(), a.public_key());
        assert_eq!(
            parse_public_key(&STANDARD.encode(a.public_key())).unwrap(),
            a.public_key()
        );
        assert!(parse_public_key("AAAA").is_err());
        // A private key, or another curve's public key, is not taken for one.
        assert!(parse_public_key(OPENSSL_KEY).is_err());
        let p256 = pem::encode(&pem::Pem::new("PUBLIC KEY", vec![0x30; 91]));
        assert!(parse_public_key(&p256).is_err());
    }

    #[test]
    fn an_openssl_key_loads_and_a_configured_key_must_exist() {
        let signer = TranscriptSigner::from_pem(OPENSSL_KEY).unwrap();
        assert_eq!(signer.public_key().len(), 32);
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(TranscriptSigner::load(Some(&missing), &missing).is_err());
        assert!(!missing.exists(), "a configured key is never created");
        assert!(TranscriptSigner::from_pem("nope").is_err());
        let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(TranscriptSigner::from_pem(ec).is_err());
    }
}
