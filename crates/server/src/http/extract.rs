//! Request extractors that refuse with the SPEC's error shape.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request, rejection::QueryRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use omw_domain::Principal;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    auth::platform::{bearer, key_matches},
    http::state::AppState,
    service::error::{ErrorCode, ServiceError},
};

/// A JSON request body that must be a JSON object. Refusals use the SPEC shape: a wrong
/// Content-Type is `unsupported_media_type`, bad JSON `invalid_payload`, a body over the limit
/// `payload_too_large`.
pub struct JsonBody<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ServiceError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ServiceError> {
        if !is_json(req.headers()) {
            return Err(ServiceError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a JSON body (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ServiceError::new(ErrorCode::PayloadTooLarge, "request body too large")
            } else {
                ServiceError::invalid(format!("request body: {}", r.body_text()))
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ServiceError::invalid(format!("invalid JSON: {e}")))?;
        crate::wire::from_json_object(value).map(JsonBody)
    }
}

/// `axum::extract::Query`, but bad parameters are `invalid_payload`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ServiceError))]
pub struct QueryParams<T>(pub T);

impl From<QueryRejection> for ServiceError {
    fn from(r: QueryRejection) -> Self {
        ServiceError::invalid(r.body_text())
    }
}

fn bearer_of(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()
        .and_then(bearer)
}

/// A user authenticated by `Authorization: Bearer <jwt>`. Tokens in query strings are ignored.
pub struct AuthUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ServiceError> {
        let token =
            bearer_of(parts).ok_or_else(|| ServiceError::unauthorized("missing Bearer token"))?;
        let principal = state.jwt.verify(token)?.principal;
        // Every REST call of a user spends the same per-user budget as a Socket.IO event
        // (SPEC §9): switching transports must not multiply it.
        state.chats.count_event(&principal).await?;
        Ok(AuthUser(principal))
    }
}

/// The platform, authenticated by `Authorization: Bearer <PLATFORM_API_KEY>`.
pub struct Platform;

impl FromRequestParts<AppState> for Platform {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ServiceError> {
        let token = bearer_of(parts)
            .ok_or_else(|| ServiceError::unauthorized("missing platform API key"))?;
        if key_matches(&state.config.platform_api_key, token) {
            return Ok(Platform);
        }
        if state.jwt.verify(token).is_ok() {
            return Err(ServiceError::forbidden(
                "user tokens cannot use the platform API",
            ));
        }
        Err(ServiceError::unauthorized("invalid platform API key"))
    }
}
