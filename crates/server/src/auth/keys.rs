//! The keys that verify user tokens, as configured. Configuration reads them; the verifier uses
//! them.

use jsonwebtoken::{Algorithm, DecodingKey};

/// Where verifying keys come from; the algorithm is fixed here, never by a token.
#[derive(Clone)]
pub enum JwtKey {
    /// HS256 with a shared secret.
    Secret(Vec<u8>),
    /// RS256 / ES256 / EdDSA from a PEM public key.
    PublicKeyPem(Vec<u8>),
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtKey::Secret(_) => f.write_str("JwtKey::Secret(..)"),
            JwtKey::PublicKeyPem(_) => f.write_str("JwtKey::PublicKeyPem(..)"),
        }
    }
}

/// Which asymmetric algorithm a PEM public key is for.
pub fn check_public_key(pem: &[u8]) -> Result<Algorithm, String> {
    if DecodingKey::from_rsa_pem(pem).is_ok() {
        Ok(Algorithm::RS256)
    } else if DecodingKey::from_ec_pem(pem).is_ok() {
        Ok(Algorithm::ES256)
    } else if DecodingKey::from_ed_pem(pem).is_ok() {
        Ok(Algorithm::EdDSA)
    } else {
        Err("not an RSA, EC (P-256) or Ed25519 public key in PEM form".into())
    }
}
