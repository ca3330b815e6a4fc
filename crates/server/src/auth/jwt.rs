//! JWT verification with the algorithm fixed by configuration, and minting for operators.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use omw_domain::{Principal, Role};
use serde::{Deserialize, Serialize};

use crate::{
    config::{Config, JwtKey},
    error::ApiError,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// A verified token: who, and until when (ms since epoch).
#[derive(Debug, Clone)]
pub struct Verified {
    pub principal: Principal,
    pub expires_at_ms: i64,
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

pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    signer: Option<EncodingKey>,
}

impl JwtVerifier {
    pub fn new(config: &Config) -> Result<Self, String> {
        let (key, alg, signer) = match &config.jwt_key {
            JwtKey::Secret(s) => (
                DecodingKey::from_secret(s),
                Algorithm::HS256,
                Some(EncodingKey::from_secret(s)),
            ),
            JwtKey::PublicKeyPem(pem) => {
                let alg = check_public_key(pem)?;
                let key = match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
                    _ => DecodingKey::from_ed_pem(pem),
                }
                .map_err(|e| e.to_string())?;
                (key, alg, None)
            }
        };
        // Exactly one algorithm: `alg: none` and HS/RS confusion fail the header check.
        let mut validation = Validation::new(alg);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &config.jwt_issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &config.jwt_audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(JwtVerifier {
            key,
            validation,
            signer,
        })
    }

    pub fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => ApiError::unauthorized("token expired"),
                    _ => ApiError::unauthorized("invalid token"),
                }
            })?;
        let c = data.claims;
        let role = match c.role.as_str() {
            "customer" => Role::Customer,
            "worker" => Role::Worker,
            _ => {
                return Err(ApiError::unauthorized(
                    "token role must be customer or worker",
                ));
            }
        };
        if c.sub.is_empty() || omw_domain::booking::validate_id("sub", &c.sub).is_err() {
            return Err(ApiError::unauthorized("token sub is not a valid user id"));
        }
        Ok(Verified {
            principal: Principal {
                user_id: c.sub,
                role,
                name: c.name.filter(|n| !n.is_empty()),
            },
            expires_at_ms: c.exp.saturating_mul(1000),
        })
    }

    /// Mint an HS256 token (operators, tests, the demo). Needs `JWT_SECRET`.
    pub fn mint(
        &self,
        config: &Config,
        sub: &str,
        role: Role,
        name: Option<&str>,
        ttl_secs: i64,
    ) -> Result<String, String> {
        let signer = self
            .signer
            .as_ref()
            .ok_or("minting tokens needs JWT_SECRET")?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_string(),
            role: role.as_str().to_string(),
            name: name.map(str::to_string),
            exp: now + ttl_secs,
            iat: Some(now),
            iss: config.jwt_issuer.clone(),
            aud: config.jwt_audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signer)
            .map_err(|e| e.to_string())
    }
}
