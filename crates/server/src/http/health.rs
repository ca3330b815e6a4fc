//! Liveness and readiness.

use crate::{http::state::AppState, wire::reply::Health};
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub(super) async fn healthz() -> Json<Health> {
    Json(Health::up("ok", None))
}

/// The database answers (within the pool's acquire timeout), and the server is not shutting
/// down: from SIGTERM on this is 503, so a load balancer stops sending work before the drain.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready for work", body = Health),
    (status = 503, description = "Draining, or the database does not answer", body = Health),
))]
pub(super) async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.draining.load(std::sync::atomic::Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health::down("draining", "shutting down")),
        );
    }
    match s.chats.check_database().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health::up("ready", Some(s.chats.database()))),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health::down("unavailable", "database unreachable")),
            )
        }
    }
}
