//! JWT verification with the algorithm fixed by configuration, and minting for operators.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use omw_domain::{Principal, Role};
use serde::{Deserialize, Serialize};

use crate::auth::keys::{JwtKey, check_public_key};

/// What the verifier is configured with; `Config::jwt` makes it. (`auth` sits below `config`
/// and `service`: it takes values from them and imports neither.)
#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub key: JwtKey,
    /// `JWT_ISSUER`: required in tokens, and put in minted ones.
    pub issuer: Option<String>,
    /// `JWT_AUDIENCE`: required in tokens, and put in minted ones.
    pub audience: Option<String>,
    /// `JWT_LEEWAY`: clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
}

/// Why a token was refused; always `unauthorized` (`From` in `service::error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRefused {
    pub message: &'static str,
}

impl TokenRefused {
    fn new(message: &'static str) -> Self {
        TokenRefused { message }
    }
}

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
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or an array of strings (RFC 7519 §4.1.3); checked by `jsonwebtoken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// A verified token: who, and until when (ms since epoch).
#[derive(Debug, Clone)]
pub struct Verified {
    pub principal: Principal,
    pub expires_at_ms: i64,
}

pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    signer: Option<EncodingKey>,
    leeway_secs: i64,
    issuer: Option<String>,
    audience: Option<String>,
}

impl JwtVerifier {
    pub fn new(settings: &JwtSettings) -> Result<Self, String> {
        let (key, alg, signer) = match &settings.key {
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
        validation.leeway = settings.leeway.as_secs();
        validation.validate_nbf = true;
        // A configured issuer or audience is required, not only checked when present: a token
        // minted for another service without the claim must not pass.
        let mut required = vec!["exp", "sub"];
        if settings.issuer.is_some() {
            required.push("iss");
        }
        if settings.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        match &settings.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &settings.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(JwtVerifier {
            key,
            leeway_secs: i64::try_from(validation.leeway).unwrap_or(i64::MAX),
            validation,
            signer,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Verified, TokenRefused> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenRefused::new("token expired"),
                    ErrorKind::ImmatureSignature => TokenRefused::new("token not yet valid"),
                    _ => TokenRefused::new("invalid token"),
                }
            })?;
        let c = data.claims;
        let role = match c.role.as_str() {
            "customer" => Role::Customer,
            "worker" => Role::Worker,
            _ => {
                return Err(TokenRefused::new("token role must be customer or worker"));
            }
        };
        if c.sub.is_empty() || omw_domain::booking::validate_id("sub", &c.sub).is_err() {
            return Err(TokenRefused::new("token sub is not a valid user id"));
        }
        Ok(Verified {
            principal: Principal {
                user_id: c.sub,
                role,
                name: c.name.filter(|n| !n.is_empty()),
            },
            // As long as `verify` accepts it: a socket is not cut while its token still passes.
            expires_at_ms: c.exp.saturating_add(self.leeway_secs).saturating_mul(1000),
        })
    }

    /// Mint an HS256 token (operators, tests, the demo). Needs `JWT_SECRET`.
    pub fn mint(
        &self,
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
            nbf: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone().map(serde_json::Value::String),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signer)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &str = "jwt-unit-test-secret-0123456789abcdef";

    /// `JWT_SECRET` alone: no issuer, no audience, the default 30 s of leeway.
    fn settings() -> JwtSettings {
        JwtSettings {
            key: JwtKey::Secret(SECRET.as_bytes().to_vec()),
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(30),
        }
    }

    fn verifier(settings: JwtSettings) -> JwtVerifier {
        JwtVerifier::new(&settings).unwrap()
    }

    fn sign(claims: Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims(extra: Value) -> Value {
        let mut c = json!({ "sub": "u1", "role": "customer", "exp": now() + 600 });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    fn refused(v: &JwtVerifier, extra: Value) -> &'static str {
        v.verify(&sign(claims(extra))).unwrap_err().message
    }

    #[test]
    fn a_configured_issuer_is_required() {
        let v = verifier(JwtSettings {
            issuer: Some("platform".into()),
            ..settings()
        });
        refused(&v, json!({}));
        refused(&v, json!({ "iss": "someone-else" }));
        v.verify(&sign(claims(json!({ "iss": "platform" }))))
            .unwrap();
    }

    #[test]
    fn a_configured_audience_is_required_and_may_be_an_array() {
        let v = verifier(JwtSettings {
            audience: Some("omw-chat".into()),
            ..settings()
        });
        refused(&v, json!({}));
        refused(&v, json!({ "aud": "billing" }));
        refused(&v, json!({ "aud": ["billing", "search"] }));
        v.verify(&sign(claims(json!({ "aud": "omw-chat" }))))
            .unwrap();
        v.verify(&sign(claims(json!({ "aud": ["billing", "omw-chat"] }))))
            .unwrap();
        // Without JWT_AUDIENCE an audience array is no reason to refuse.
        verifier(settings())
            .verify(&sign(claims(json!({ "aud": ["a", "b"] }))))
            .unwrap();
    }

    #[test]
    fn nbf_in_the_future_is_refused_beyond_the_leeway() {
        let v = verifier(settings());
        assert_eq!(
            refused(&v, json!({ "nbf": now() + 120 })),
            "token not yet valid"
        );
        // Within the leeway (clock skew), and in the past: accepted.
        v.verify(&sign(claims(json!({ "nbf": now() + 20 }))))
            .unwrap();
        v.verify(&sign(claims(json!({ "nbf": now() - 20 }))))
            .unwrap();
    }

    #[test]
    fn expiry_has_the_configured_leeway() {
        let v = verifier(settings());
        // Expired 10 s ago: inside 30 s of skew.
        v.verify(&sign(claims(json!({ "exp": now() - 10 }))))
            .unwrap();
        // 60 s ago: beyond it.
        assert_eq!(refused(&v, json!({ "exp": now() - 60 })), "token expired");
        let strict = verifier(JwtSettings {
            leeway: Duration::ZERO,
            ..settings()
        });
        assert_eq!(
            refused(&strict, json!({ "exp": now() - 5 })),
            "token expired"
        );
    }

    #[test]
    fn minted_tokens_carry_issuer_and_audience() {
        let v = verifier(JwtSettings {
            issuer: Some("platform".into()),
            audience: Some("omw-chat".into()),
            ..settings()
        });
        let t = v.mint("u1", Role::Worker, Some("Bob"), 60).unwrap();
        assert_eq!(v.verify(&t).unwrap().principal.user_id, "u1");
    }
}
