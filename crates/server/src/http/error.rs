//! A [`ServiceError`] as an HTTP response: the SPEC code's status, `{ error: {…} }`, and
//! `Retry-After` when the client is told to wait.

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    service::{ErrorCode, ServiceError},
    wire::reply::ErrorReply,
};

/// The HTTP status of each SPEC code.
pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::ChatClosed => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::InvalidPayload => StatusCode::BAD_REQUEST,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a ServiceError,
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let mut res = (status(self.code), Json(ErrorBody { error: &self })).into_response();
        if let Some(ms) = self.retry_after_ms {
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert("retry-after", v);
            }
        }
        res
    }
}

/// The refusals of every call a participant makes into a chat, documented once for the
/// OpenAPI document (`responses(…, Refused)` on a handler).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its documentation is used
pub(super) enum Refused {
    #[response(status = 401, description = "unauthorized")]
    Unauthorized(ErrorReply),
    #[response(status = 403, description = "forbidden")]
    Forbidden(ErrorReply),
    #[response(status = 404, description = "not_found")]
    NotFound(ErrorReply),
}

/// The refusal of a user's call outside any chat: no valid token.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its documentation is used
pub(super) enum Unauthenticated {
    #[response(status = 401, description = "unauthorized")]
    Unauthorized(ErrorReply),
}

/// The refusals of every platform call: no key, or the wrong one.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its documentation is used
pub(super) enum PlatformRefused {
    #[response(status = 401, description = "unauthorized: no platform key")]
    Unauthorized(ErrorReply),
    #[response(status = 403, description = "forbidden: not the platform key")]
    Forbidden(ErrorReply),
}

/// What a write into a chat can answer besides [`Refused`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its documentation is used
pub(super) enum WriteRefused {
    #[response(status = 400, description = "invalid_payload")]
    Invalid(ErrorReply),
    #[response(status = 409, description = "chat_closed, or conflict")]
    Closed(ErrorReply),
    #[response(status = 503, description = "unavailable")]
    Unavailable(ErrorReply),
}
