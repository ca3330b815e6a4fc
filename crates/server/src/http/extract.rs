//! Request extractors that refuse with the SPEC's error shape.

use axum::{
    extract::{
        FromRequest, FromRequestParts,
        rejection::{JsonRejection, QueryRejection},
    },
    http::{StatusCode, request::Parts},
};
use omw_domain::Principal;

use crate::{
    auth::platform::{bearer, key_matches},
    error::{ApiError, ErrorCode},
    state::AppState,
};

/// `axum::Json`, but a bad body is `invalid_payload` (or `payload_too_large`) in our shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "request body too large")
        } else {
            ApiError::invalid(r.body_text())
        }
    }
}

/// `axum::extract::Query`, but bad parameters are `invalid_payload`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::invalid(r.body_text())
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
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            bearer_of(parts).ok_or_else(|| ApiError::unauthorized("missing Bearer token"))?;
        Ok(AuthUser(state.jwt.verify(token)?.principal))
    }
}

/// The platform, authenticated by `Authorization: Bearer <PLATFORM_API_KEY>`.
pub struct Platform;

impl FromRequestParts<AppState> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            bearer_of(parts).ok_or_else(|| ApiError::unauthorized("missing platform API key"))?;
        if key_matches(&state.config.platform_api_key, token) {
            return Ok(Platform);
        }
        if state.jwt.verify(token).is_ok() {
            return Err(ApiError::forbidden(
                "user tokens cannot use the platform API",
            ));
        }
        Err(ApiError::unauthorized("invalid platform API key"))
    }
}
