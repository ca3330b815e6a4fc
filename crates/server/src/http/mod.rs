//! The HTTP side: REST API, platform API, health, demo. Thin: parse, call the service, map.

pub mod demo;
mod extract;
mod health;
mod platform;

use axum::{Router, extract::DefaultBodyLimit};

use crate::{error::ApiError, state::AppState};

pub use extract::{AuthUser, JsonBody};

/// JSON bodies are small; uploads have their own limit.
const JSON_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(platform::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") });
    let mut app = Router::new().nest("/api/v1", api).merge(health::routes());
    if state.demo.is_some() {
        app = app.merge(demo::routes());
    }
    app.layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .with_state(state)
}
