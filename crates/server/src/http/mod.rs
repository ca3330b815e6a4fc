//! The HTTP side: REST API, platform API, health, metrics, demo. Thin: parse, call the
//! service, map errors.

mod attachments;
mod chats;
pub mod demo;
mod error;
mod extract;
mod health;
mod holds;
pub mod metrics;
pub mod openapi;
mod platform;
mod push;
pub mod state;
mod trace;
mod transcripts;
pub(crate) mod upload_form;
pub mod web;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Method},
};
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
};

use crate::{
    config::Config,
    http::state::AppState,
    service::error::{ErrorCode, ServiceError},
};

pub use extract::{AuthUser, JsonBody};

/// JSON bodies are small; uploads have their own limit.
const JSON_BODY_LIMIT: usize = 64 * 1024;

/// REST CORS uses the same origin list as the Socket.IO handshake.
pub fn cors(config: &Config) -> CorsLayer {
    let origin = if config.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .merge(platform::routes())
        .merge(chats::routes())
        .merge(push::routes())
        .merge(holds::routes())
        .merge(transcripts::routes())
        .fallback(|| async { ServiceError::not_found("no such endpoint") })
        .layer(CompressionLayer::new());
    // Downloads stream files as they are (media is compressed already).
    let files = attachments::routes();
    let mut app = Router::new()
        .nest("/api/v1", api.merge(files))
        .merge(health::routes())
        .merge(metrics::routes());
    if state.demo.is_some() {
        // The web client (embedded, or WEB_DIR); unknown paths get index.html (client-side
        // routes), API paths their JSON 404.
        app = app.merge(demo::routes()).fallback_service(
            axum::routing::any(web::serve)
                .layer(CompressionLayer::new())
                .with_state(state.clone()),
        );
    } else {
        app = app.fallback(|| async { ServiceError::not_found("no such endpoint") });
    }
    app.layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::map_response(spec_errors))
        .layer(axum::middleware::from_fn(metrics::requests::track))
        .layer(trace::layer())
        .with_state(state)
}

/// Every error this router answers has the SPEC shape `{ error: { code, message } }`, also
/// those made by axum itself before a handler runs (405, a path that is not valid UTF-8, a
/// request that is not multipart, …): they arrive here as plain text and are rewritten, with
/// their status (and headers such as `Allow`) kept.
async fn spec_errors(res: axum::response::Response) -> axum::response::Response {
    use axum::{
        http::{StatusCode, header},
        response::IntoResponse,
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json {
        return res;
    }
    let code = match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorCode::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_client_error() => ErrorCode::InvalidPayload,
        _ => ErrorCode::Internal,
    };
    let (mut parts, body) = res.into_parts();
    // axum's rejection texts say what was wrong; internal errors say nothing.
    let encoded = parts.headers.remove(header::CONTENT_ENCODING).is_some();
    let detail = match code {
        ErrorCode::Internal => String::new(),
        _ if encoded => String::new(),
        _ => axum::body::to_bytes(body, 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default(),
    };
    let message = match (status, detail.is_empty()) {
        (StatusCode::METHOD_NOT_ALLOWED, _) => "method not allowed on this endpoint".to_string(),
        (_, false) => detail,
        (_, true) => status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_lowercase(),
    };
    let fresh = ServiceError::new(code, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let (fresh_parts, fresh_body) = fresh.into_parts();
    parts.headers.extend(fresh_parts.headers);
    axum::response::Response::from_parts(parts, fresh_body)
}
