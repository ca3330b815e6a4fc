//! The service's one error type: a SPEC code (§4) and a message for the client. The transports
//! map it once each: to an HTTP response (`http::error`) and to a Socket.IO ack
//! (`realtime::events`).

use omw_domain::DomainError;
use omw_storage::StoreError;
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::auth::jwt::TokenRefused;

/// The error codes of SPEC §4, shared by Socket.IO acks and REST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    Forbidden,
    NotFound,
    ChatClosed,
    RateLimited,
    InvalidPayload,
    PayloadTooLarge,
    UnsupportedMediaType,
    Conflict,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ChatClosed => "chat_closed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// `{ code, message, retry_after_ms? }` — the `error` object of acks and REST bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ToSchema, TS)]
#[error("{code:?}: {message}")]
#[schema(as = ApiError)]
#[ts(rename = "ApiError")]
pub struct ServiceError {
    pub code: ErrorCode,
    /// English, for logs; a UI shows its own text for `code`.
    pub message: String,
    /// With `rate_limited`: when to try again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    #[ts(optional, type = "number")]
    pub retry_after_ms: Option<u64>,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, m)
    }
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidPayload, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, m)
    }
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        ServiceError {
            code: ErrorCode::RateLimited,
            message: "too many requests, slow down".into(),
            retry_after_ms: Some(retry_after_ms),
        }
    }
}

impl From<TokenRefused> for ServiceError {
    fn from(e: TokenRefused) -> Self {
        ServiceError::unauthorized(e.message)
    }
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::InvalidPayload(_) => ErrorCode::InvalidPayload,
            DomainError::Conflict(_) => ErrorCode::Conflict,
            DomainError::ChatClosed => ErrorCode::ChatClosed,
            DomainError::Forbidden => ErrorCode::Forbidden,
            DomainError::NotFound(_) => ErrorCode::NotFound,
        };
        ServiceError::new(code, e.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            // Its deletion has begun: as good as gone.
            StoreError::KeyDestroyed(_) => ServiceError::not_found("chat not found"),
            StoreError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                ServiceError::new(
                    ErrorCode::Unavailable,
                    "the database is unavailable, try again",
                )
            }
            other => {
                tracing::error!(error = %other, "storage error");
                ServiceError::internal()
            }
        }
    }
}
