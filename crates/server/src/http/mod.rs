//! The HTTP side: REST API, platform API, health, metrics, demo. Thin: parse, call the
//! service, map errors.

mod attachments;
mod chats;
pub mod demo;
mod extract;
mod health;
pub mod metrics;
mod platform;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Method},
};
use tower_http::{
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
};

use crate::{config::Config, error::ApiError, state::AppState};

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
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", axum::routing::get(openapi))
        .merge(platform::routes())
        .merge(chats::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(CompressionLayer::new());
    // Downloads stream files as they are (media is compressed already).
    let files = attachments::routes();
    let mut app = Router::new()
        .nest("/api/v1", api.merge(files))
        .merge(health::routes())
        .merge(metrics::routes());
    if state.demo.is_some() {
        app = app.merge(demo::routes());
        if let Some(dir) = state.config.web_dir.clone() {
            // The built web client; unknown paths get index.html (client-side routes).
            let index = tower_http::services::ServeFile::new(dir.join("index.html"));
            app = app.fallback_service(tower_http::services::ServeDir::new(dir).fallback(index));
        }
    }
    app.layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state)
}

/// The OpenAPI document of the REST API (kept honest by tests that validate real responses
/// against it).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}
