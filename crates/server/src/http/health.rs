//! Liveness and readiness.

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use serde_json::json;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The database answers (within the pool's acquire timeout), and the server is not shutting
/// down: from SIGTERM on this is 503, so a load balancer stops sending work before the drain.
async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.draining.load(std::sync::atomic::Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining", "error": "shutting down" })),
        );
    }
    match s.chats.check_database().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": s.chats.database() })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": "database unreachable" })),
            )
        }
    }
}
